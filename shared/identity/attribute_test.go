package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// mapLedger is the ledger the tests attribute with.
type mapLedger = identity.MapLedger

func event(t *testing.T, raw string) *cloudtrail.Event {
	t.Helper()
	var ev cloudtrail.Event
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatalf("bad test record: %v", err)
	}
	return &ev
}

const (
	userAlice = "arn:aws:iam::111122223333:user/alice"
	roleA     = "arn:aws:sts::111122223333:assumed-role/RoleA/alice-session"
	roleB     = "arn:aws:sts::444455556666:assumed-role/RoleB/hop2"
)

// The chain user -> role A -> role B (another account), keys followed from
// the STS responses that issued them.
var chainEvents = []string{
	`{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"e1",
	  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"},
	  "responseElements":{"credentials":{"accessKeyId":"ASIAROLEA","expiration":"Jan 1, 2024, 11:00:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::111122223333:assumed-role/RoleA/alice-session"}}}`,
	`{"eventTime":"2024-01-01T10:05:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"e2",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/RoleA/alice-session","accountId":"111122223333","accessKeyId":"ASIAROLEA",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/RoleA"}}},
	  "recipientAccountId":"444455556666",
	  "responseElements":{"credentials":{"accessKeyId":"ASIAROLEB","expiration":"Jan 1, 2024 11:05:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::444455556666:assumed-role/RoleB/hop2"}}}`,
	`{"eventTime":"2024-01-01T10:06:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventID":"e3",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/RoleB/hop2","accountId":"444455556666","accessKeyId":"ASIAROLEB",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::444455556666:role/RoleB"}}}}`,
}

func TestAttributeFollowsChains(t *testing.T) {
	ledger := mapLedger{}
	a := identity.NewAttributor(ledger)
	var got []identity.Origin
	for _, raw := range chainEvents {
		at, err := a.Attribute(context.Background(), event(t, raw))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, at.Origin)
	}
	alice := identity.Origin{ARN: userAlice, Type: "IAMUser", Name: "alice", Account: "111122223333", Resolved: true}
	want := []identity.Origin{
		withChain(alice, userAlice),
		withChain(alice, userAlice, roleA),
		withChain(alice, userAlice, roleA, roleB),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
	if k := ledger["ASIAROLEB"]; !k.Expires.Equal(time.Date(2024, 1, 1, 11, 5, 0, 0, time.UTC)) {
		t.Errorf("ASIAROLEB expires %v, want 11:05 from the STS response", k.Expires)
	}

	// After the key expires, its use is no longer attributed to alice.
	late := event(t, `{"eventTime":"2024-01-01T12:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","eventID":"e4",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/RoleB/hop2","accountId":"444455556666","accessKeyId":"ASIAROLEB",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::444455556666:role/RoleB"}}}}`)
	at, err := identity.NewAttributor(ledger).Attribute(context.Background(), late)
	if err != nil {
		t.Fatal(err)
	}
	if at.Origin.Resolved || at.Origin.ARN != roleB {
		t.Errorf("expired key: origin %+v, want the unresolved session %s", at.Origin, roleB)
	}
}

func withChain(o identity.Origin, chain ...string) identity.Origin {
	o.Chain = chain
	return o
}

func TestAttributeIdentityShapes(t *testing.T) {
	tests := []struct {
		name      string
		record    string
		want      identity.Origin
		wantKey   string
		byService bool
		invokedBy string
	}{
		{
			name:   "root",
			record: `{"userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}`,
			want:   identity.Origin{ARN: "arn:aws:iam::111122223333:root", Type: "Root", Name: "root", Account: "111122223333", Chain: []string{"arn:aws:iam::111122223333:root"}, Resolved: true},
		},
		{
			name: "identity center permission-set session is its user",
			record: `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/chris@corp.ai","accountId":"111122223333","accessKeyId":"ASIAUNSEEN",
			  "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"}}}}`,
			want: identity.Origin{ARN: "arn:aws:identitystore:::user/chris@corp.ai", Type: "IdentityCenterUser", Name: "chris@corp.ai", Account: "111122223333",
				Chain: []string{"arn:aws:identitystore:::user/chris@corp.ai", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/chris@corp.ai"}, Resolved: true},
		},
		{
			name:   "identity center's own events carry the user id",
			record: `{"userIdentity":{"type":"IdentityCenterUser","accountId":"111122223333","onBehalfOf":{"userId":"9067d8b2-1234","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},"credentialId":"abc"}}`,
			want: identity.Origin{ARN: "arn:aws:identitystore::111122223333:identitystore/d-1234567890/user/9067d8b2-1234", Type: "IdentityCenterUser", Name: "9067d8b2-1234", Account: "111122223333",
				Chain: []string{"arn:aws:identitystore::111122223333:identitystore/d-1234567890/user/9067d8b2-1234"}, Resolved: true},
		},
		{
			name: "unknown chain falls back to the session, unresolved, keyed by role",
			record: `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/i-am-bob","accountId":"111122223333","accessKeyId":"ASIAUNSEEN",
			  "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/deploy"}}}}`,
			want: identity.Origin{ARN: "arn:aws:sts::111122223333:assumed-role/deploy/i-am-bob", Type: "AssumedRole", Name: "deploy", Account: "111122223333",
				Chain: []string{"arn:aws:sts::111122223333:assumed-role/deploy/i-am-bob"}},
			wantKey: "arn:aws:iam::111122223333:role/deploy",
		},
		{
			name: "source identity is honoured in the fallback",
			record: `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/s1","accountId":"111122223333","accessKeyId":"ASIAUNSEEN",
			  "sessionContext":{"sourceIdentity":"dana@corp.ai","sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/deploy"}}}}`,
			want: identity.Origin{ARN: "arn:aws:sts::111122223333:assumed-role/deploy/s1", Type: "AssumedRole", Name: "dana@corp.ai", Account: "111122223333",
				Chain: []string{"arn:aws:sts::111122223333:assumed-role/deploy/s1"}, SourceIdentity: "dana@corp.ai"},
			wantKey: "arn:aws:iam::111122223333:role/deploy#dana@corp.ai",
		},
		{
			name: "federation token belongs to the user who asked for it",
			record: `{"userIdentity":{"type":"FederatedUser","arn":"arn:aws:sts::111122223333:federated-user/fed","accountId":"111122223333","accessKeyId":"ASIAFED",
			  "sessionContext":{"sessionIssuer":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}}}}`,
			want: identity.Origin{ARN: userAlice, Type: "IAMUser", Name: "alice", Account: "111122223333",
				Chain: []string{userAlice, "arn:aws:sts::111122223333:federated-user/fed"}, Resolved: true},
		},
		{
			name:      "AWS service on its own",
			record:    `{"userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}}`,
			want:      identity.Origin{ARN: "ec2.amazonaws.com", Type: "AWSService", Name: "ec2.amazonaws.com", Chain: []string{"ec2.amazonaws.com"}, Resolved: true},
			byService: true,
		},
		{
			name:      "service acting for a principal is attributed to the principal",
			record:    `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice","invokedBy":"cloudformation.amazonaws.com"}}`,
			want:      withChain(identity.Origin{ARN: userAlice, Type: "IAMUser", Name: "alice", Account: "111122223333", Resolved: true}, userAlice),
			invokedBy: "cloudformation.amazonaws.com",
		},
		{
			name:   "another account's principal is unresolved",
			record: `{"userIdentity":{"type":"AWSAccount","principalId":"AIDAEXAMPLE","accountId":"999988887777"}}`,
			want:   identity.Origin{ARN: "arn:aws:iam::999988887777:root", Type: "AWSAccount", Name: "AIDAEXAMPLE", Account: "999988887777", Chain: []string{"arn:aws:iam::999988887777:root"}},
		},
		{
			name:   "SAML user",
			record: `{"userIdentity":{"type":"SAMLUser","principalId":"Okta:dana@corp.ai","userName":"dana@corp.ai","identityProvider":"Okta","accountId":"111122223333"}}`,
			want: identity.Origin{ARN: "arn:aws:iam::111122223333:saml-user/Okta/dana@corp.ai", Type: "SAMLUser", Name: "dana@corp.ai", Account: "111122223333",
				Chain: []string{"arn:aws:iam::111122223333:saml-user/Okta/dana@corp.ai"}, Resolved: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event(t, tt.record)
			ev.EventTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			at, err := identity.NewAttributor(mapLedger{}).Attribute(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, at.Origin); diff != "" {
				t.Errorf("origin (-want +got):\n%s", diff)
			}
			wantKey := tt.wantKey
			if wantKey == "" {
				wantKey = tt.want.ARN
			}
			if got := at.Origin.Key(); got != wantKey {
				t.Errorf("Key() = %q, want %q", got, wantKey)
			}
			if at.ByService != tt.byService || at.InvokedBy != tt.invokedBy {
				t.Errorf("ByService, InvokedBy = %v, %q; want %v, %q", at.ByService, at.InvokedBy, tt.byService, tt.invokedBy)
			}
		})
	}
}

func TestIssuedKeyOfServiceIsMachineIdentity(t *testing.T) {
	ledger := mapLedger{}
	a := identity.NewAttributor(ledger)
	issue := event(t, `{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"s1",
	  "userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},
	  "responseElements":{"credentials":{"accessKeyId":"ASIAINSTANCE","expiration":"Jan 1, 2024, 4:00:00 PM"},"assumedRoleUser":{"arn":"arn:aws:sts::111122223333:assumed-role/web/i-0123"}}}`)
	if _, err := a.Attribute(context.Background(), issue); err != nil {
		t.Fatal(err)
	}
	use := event(t, `{"eventTime":"2024-01-01T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"s2",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/web/i-0123","accountId":"111122223333","accessKeyId":"ASIAINSTANCE",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/web"},"ec2RoleDelivery":"2.0"}}}`)
	at, err := a.Attribute(context.Background(), use)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Origin{ARN: "arn:aws:sts::111122223333:assumed-role/web/i-0123", Type: "AssumedRole", Name: "web", Account: "111122223333",
		Chain: []string{"arn:aws:sts::111122223333:assumed-role/web/i-0123"}, Resolved: true}
	if diff := cmp.Diff(want, at.Origin); diff != "" {
		t.Errorf("origin (-want +got):\n%s", diff)
	}
	if got, want := at.Origin.Key(), "arn:aws:iam::111122223333:role/web"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
}

func TestIdentityCenterSAMLIssuesToTheUser(t *testing.T) {
	ledger := mapLedger{}
	a := identity.NewAttributor(ledger)
	issue := event(t, `{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithSAML","eventID":"x1",
	  "userIdentity":{"type":"SAMLUser","principalId":"AWSSSO_abc_DO_NOT_DELETE:chris@corp.ai","userName":"chris@corp.ai","identityProvider":"AWSSSO","accountId":"111122223333"},
	  "responseElements":{"credentials":{"accessKeyId":"ASIASSO","expiration":"Jan 1, 2024, 6:00:00 PM"},"assumedRoleUser":{"arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_abc/chris@corp.ai"}}}`)
	at, err := a.Attribute(context.Background(), issue)
	if err != nil {
		t.Fatal(err)
	}
	if at.Issued == nil || at.Issued.Origin.ARN != "arn:aws:identitystore:::user/chris@corp.ai" {
		t.Fatalf("issued key %+v, want it to belong to chris@corp.ai", at.Issued)
	}
}

func TestRoleARNFromSession(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:sts::111122223333:assumed-role/R/s", "arn:aws:iam::111122223333:role/R"},
		{"arn:aws-cn:sts::111122223333:assumed-role/R/s/x", "arn:aws-cn:iam::111122223333:role/R"},
		{"arn:aws:iam::111122223333:user/u", ""},
		{"nonsense", ""},
		{"arn:aws:sts::1:assumed-role/", ""},
	}
	for _, tt := range tests {
		if got := identity.RoleARNFromSession(tt.in); got != tt.want {
			t.Errorf("RoleARNFromSession(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzAttribute(f *testing.F) {
	for _, raw := range chainEvents {
		f.Add([]byte(raw))
	}
	f.Add([]byte(`{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_x/"}}`))
	f.Add([]byte(`{"userIdentity":{"type":"FederatedUser","arn":""}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			return
		}
		at, err := identity.NewAttributor(mapLedger{}).Attribute(context.Background(), &ev)
		if err != nil {
			t.Fatalf("Attribute with an infallible ledger failed: %v", err)
		}
		if at.Origin.ARN == "" || at.Origin.Type == "" || len(at.Origin.Chain) == 0 {
			t.Fatalf("incomplete origin %+v", at.Origin)
		}
		_ = at.Origin.Key()
	})
}

// Two detectors share the ledger: the first records the target account's
// copy of a cross-account AssumeRole (the caller only an account), the
// second the caller's account's copy. The first detector's next use of the
// key is attributed to the caller, not to the account it cached.
func TestCrossAccountCopiesRecordedByTwoDetectors(t *testing.T) {
	ledger := mapLedger{}
	first, second := identity.NewAttributor(ledger), identity.NewAttributor(ledger)
	response := `"responseElements":{"credentials":{"accessKeyId":"ASIACROSS","expiration":"Jan 1, 2024, 11:00:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::333333333333:assumed-role/ops/s"}}`
	targetCopy := event(t, `{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"x1","recipientAccountId":"333333333333",
	  "userIdentity":{"type":"AWSAccount","principalId":"AIDACHRIS","accountId":"222222222222"},`+response+`}`)
	callerCopy := event(t, `{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"x1","recipientAccountId":"222222222222",
	  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::222222222222:user/chris","accountId":"222222222222","userName":"chris","accessKeyId":"AKIACHRIS"},`+response+`}`)
	use := func(at string) *cloudtrail.Event {
		return event(t, `{"eventTime":"`+at+`","eventSource":"lambda.amazonaws.com","eventName":"ListFunctions","eventID":"u-`+at+`","recipientAccountId":"333333333333",
		  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::333333333333:assumed-role/ops/s","accountId":"333333333333","accessKeyId":"ASIACROSS",
		    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::333333333333:role/ops"},"attributes":{"creationDate":"2024-01-01T10:00:00Z"}}}}`)
	}
	ctx := context.Background()
	if _, err := first.Attribute(ctx, targetCopy); err != nil {
		t.Fatal(err)
	}
	if at, err := first.Attribute(ctx, use("2024-01-01T10:00:05Z")); err != nil || at.Origin.Resolved {
		t.Fatalf("before the caller's copy: %+v, %v; want the account, unresolved", at.Origin, err)
	}
	if _, err := second.Attribute(ctx, callerCopy); err != nil {
		t.Fatal(err)
	}
	at, err := first.Attribute(ctx, use("2024-01-01T10:01:10Z"))
	if err != nil {
		t.Fatal(err)
	}
	if !at.Origin.Resolved || at.Origin.ARN != "arn:aws:iam::222222222222:user/chris" {
		t.Errorf("after the caller's copy: origin %+v, want chris, resolved", at.Origin)
	}
	// The target's copy, recorded again, does not undo it.
	if _, err := second.Attribute(ctx, targetCopy); err != nil {
		t.Fatal(err)
	}
	if at, err := second.Attribute(ctx, use("2024-01-01T10:02:30Z")); err != nil || at.Origin.ARN != "arn:aws:iam::222222222222:user/chris" {
		t.Errorf("after the target's copy again: %+v, %v; want chris", at.Origin, err)
	}
}

// A held event records nothing: the credentials an AssumeRole issued,
// signed by a session whose own issuer is not yet seen, would otherwise be
// found, unresolved, by the next event signed with them.
func TestHeldEventRecordsNoKey(t *testing.T) {
	ledger := mapLedger{}
	a := identity.NewAttributor(ledger)
	held := 0
	a.Hold = func(ev *cloudtrail.Event, at identity.Attribution) bool {
		held++
		return !at.Origin.Resolved
	}
	chain := event(t, `{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"c1",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ops/s1","accountId":"111122223333","accessKeyId":"ASIAFIRST",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/ops"},"attributes":{"creationDate":"2024-01-01T09:59:50Z"}}},
	  "responseElements":{"credentials":{"accessKeyId":"ASIASECOND","expiration":"Jan 1, 2024, 11:00:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::111122223333:assumed-role/admin/s2"}}}`)
	at, err := a.Attribute(context.Background(), chain)
	if !errors.Is(err, identity.ErrHeld) {
		t.Fatalf("Attribute of a held event: err = %v, want ErrHeld", err)
	}
	if held != 1 || at.Issued != nil {
		t.Errorf("held %d times, issued %+v: want asked once, nothing issued", held, at.Issued)
	}
	if k, ok := ledger["ASIASECOND"]; ok {
		t.Errorf("the held event's credentials were recorded: %+v", k)
	}
}
