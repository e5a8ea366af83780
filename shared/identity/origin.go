// Package identity answers "who really did it" for every CloudTrail event:
// it attributes the event to an origin identity (the human or long-lived
// principal behind the call), follows temporary credentials back through
// chained role assumptions with a ledger of issued keys, and tells AWS
// services acting on their own from calls they make on a principal's behalf.
//
// It sits right after decoding in the pipeline:
// cloudtrail -> identity -> baseline -> detection -> incident.
package identity

import "time"

// Types of origin identity, as they appear in signal and incident records.
const (
	TypeIAMUser            = "IAMUser"
	TypeRoot               = "Root"
	TypeIdentityCenterUser = "IdentityCenterUser"
	TypeFederatedUser      = "FederatedUser"
	TypeSAMLUser           = "SAMLUser"
	TypeWebIdentityUser    = "WebIdentityUser"
	TypeAssumedRole        = "AssumedRole"
	TypeAWSService         = "AWSService"
	TypeAWSAccount         = "AWSAccount"
	TypeUnknown            = "Unknown"
)

// Origin is the identity an event is attributed to.
//
// For a resolved origin, ARN names the principal behind the call: an IAM
// user, the root user, an Identity Center user, a federated, SAML or
// web-identity user, or a role used by a machine (an instance or a function).
// For an unresolved origin (the event that issued the credentials was never
// seen) ARN is the nearest known hop, the role session, and Resolved is
// false: Trailhound never names a wrong person.
type Origin struct {
	// ARN identifies the origin. Identity Center users, which have no IAM
	// ARN, get "arn:aws:identitystore:::user/<user name>" or, when only the
	// user id is known, "<identity store ARN>/user/<user id>".
	ARN string `json:"origin"`
	// Type is one of the Type constants.
	Type string `json:"type"`
	// Name is the human-readable name: user name, Identity Center user name,
	// role name, or service principal.
	Name string `json:"name,omitempty"`
	// Account is the account of the origin principal.
	Account string `json:"account,omitempty"`
	// Chain lists the hops from the origin to the session that signed the
	// call: the origin first, then each role session in assumption order.
	// It has one element when the origin signed the call itself.
	Chain []string `json:"chain,omitempty"`
	// Resolved is false when the origin could not be followed back to the
	// principal that started the chain.
	Resolved bool `json:"resolved"`
	// SourceIdentity is the sourceIdentity set on the session, if any.
	SourceIdentity string `json:"source_identity,omitempty"`
}

// Key is the stable key under which the origin's baseline, signals and
// incidents are kept. It is the ARN, except for role sessions (machine
// identities, and sessions whose chain is unresolved): session names are
// chosen by the caller and change with every session, so they are keyed by
// the role, and by the source identity when one was set.
func (o Origin) Key() string { return o.keyWith(RoleARNFromSession) }

// keyWith is Key, with the role ARN of a session found by roleOf.
func (o *Origin) keyWith(roleOf func(session string) string) string {
	if o.Type != TypeAssumedRole {
		return o.ARN
	}
	role := roleOf(o.ARN)
	if role == "" {
		return o.ARN
	}
	if o.SourceIdentity != "" {
		return role + "#" + o.SourceIdentity
	}
	return role
}

// IssuedKey is what the ledger remembers about temporary credentials: whom
// they belong to and when they expire.
type IssuedKey struct {
	AccessKeyID string    `json:"access_key_id"`
	Origin      Origin    `json:"origin"`
	Expires     time.Time `json:"expires"`
	// IssuedBy is the event id of the STS call that issued the key.
	IssuedBy string `json:"issued_by,omitempty"`
	// Issued is when that call was made.
	Issued time.Time `json:"issued,omitzero"`
}

// Replaces reports whether k may replace old, the record of the same key:
// a resolved record is never replaced by an unresolved one (a detector that
// saw only the target account's copy of an AssumeRole must not undo one
// that saw the caller's). Every ledger keeps to it.
func (k IssuedKey) Replaces(old IssuedKey) bool {
	return k.Origin.Resolved || !old.Origin.Resolved
}
