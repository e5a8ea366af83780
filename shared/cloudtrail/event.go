// Package cloudtrail is where Trailhound's pipeline starts: the CloudTrail
// record as AWS writes it, and readers that turn CloudTrail log files (the S3
// export, JSON arrays, JSON lines and EventBridge envelopes) into a stream of
// decoded events.
//
// Decoding is strict about what the pipeline relies on (an event id, an event
// time, an event source and name) and lenient about everything else: fields
// Trailhound does not use are ignored, and the request and response bodies are
// kept as raw JSON for the detections that need them.
//
// Decode reads one record or EventBridge envelope; Reader splits a stream into
// records without holding more than one of them in memory. Both report a bad
// record as a *RecordError (matching ErrMalformed), after which a Reader goes
// on with the next record; a Reader reports a stream it cannot read further,
// such as a truncated gzip file, with an error matching ErrFileCorrupt.
// An ordinary record is decoded in one pass, straight from the Reader's
// buffer, by the package's own decoder (fast.go); anything out of the
// ordinary goes through github.com/segmentio/encoding/json, which
// benchmarked fastest among the libraries compared in the package's
// benchmarks, and a lenient decoder behind it.
package cloudtrail

import (
	"encoding/json"
	"time"
)

// Event is one CloudTrail record, reduced to the fields Trailhound uses.
// Field names follow the CloudTrail record contents reference.
type Event struct {
	EventVersion        string          `json:"eventVersion"`
	EventID             string          `json:"eventID"`
	EventTime           time.Time       `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	EventType           string          `json:"eventType,omitempty"`
	EventCategory       string          `json:"eventCategory,omitempty"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress,omitempty"`
	UserAgent           string          `json:"userAgent,omitempty"`
	UserIdentity        UserIdentity    `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters,omitempty"`
	ResponseElements    json.RawMessage `json:"responseElements,omitempty"`
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails,omitempty"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestID           string          `json:"requestID,omitempty"`
	ReadOnly            *bool           `json:"readOnly,omitempty"`
	ManagementEvent     *bool           `json:"managementEvent,omitempty"`
	RecipientAccountID  string          `json:"recipientAccountId,omitempty"`
	SharedEventID       string          `json:"sharedEventID,omitempty"`
	VPCEndpointID       string          `json:"vpcEndpointId,omitempty"`
	Resources           []Resource      `json:"resources,omitempty"`

	// SessionCredentialFromConsole is "true" when the call used console
	// session credentials.
	SessionCredentialFromConsole string `json:"sessionCredentialFromConsole,omitempty"`
}

// UserIdentity is the record's userIdentity element: who signed the call.
type UserIdentity struct {
	Type             string          `json:"type,omitempty"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"`
	UserName         string          `json:"userName,omitempty"`
	InvokedBy        string          `json:"invokedBy,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
	CredentialID     string          `json:"credentialId,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
	OnBehalfOf       *OnBehalfOf     `json:"onBehalfOf,omitempty"`
}

// SessionContext describes the temporary credentials behind a call.
type SessionContext struct {
	SessionIssuer       SessionIssuer        `json:"sessionIssuer"`
	Attributes          SessionAttributes    `json:"attributes"`
	SourceIdentity      string               `json:"sourceIdentity,omitempty"`
	WebIDFederationData *WebIDFederationData `json:"webIdFederationData,omitempty"`
	EC2RoleDelivery     string               `json:"ec2RoleDelivery,omitempty"`
}

// SessionIssuer is the principal that issued the session: a role, an IAM
// user (GetFederationToken) or the root user.
type SessionIssuer struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// SessionAttributes are the session's creation date and MFA state.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated,omitempty"`
}

// WebIDFederationData names the OIDC provider of a web-identity session.
type WebIDFederationData struct {
	FederatedProvider string `json:"federatedProvider,omitempty"`
}

// OnBehalfOf is carried by IAM Identity Center's own events (type
// IdentityCenterUser) since July 2025: the user id, not the user name.
type OnBehalfOf struct {
	UserID           string `json:"userId,omitempty"`
	IdentityStoreARN string `json:"identityStoreArn,omitempty"`
}

// Resource is one entry of the record's resources list.
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// IsReadOnly reports whether the record says the call only read.
func (e *Event) IsReadOnly() bool { return e.ReadOnly != nil && *e.ReadOnly }

// Failed reports whether the call returned an error.
func (e *Event) Failed() bool { return e.ErrorCode != "" }

// Account is the account the event belongs to: the recipient account when
// present, the caller's account otherwise.
func (e *Event) Account() string {
	if e.RecipientAccountID != "" {
		return e.RecipientAccountID
	}
	return e.UserIdentity.AccountID
}

// Service is the short service name of the event source:
// "iam" for "iam.amazonaws.com".
func (e *Event) Service() string {
	s := e.EventSource
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i]
		}
	}
	return s
}
