package identity_test

import (
	"context"
	"slices"
	"testing"

	"github.com/trailhound/trailhound/shared/identity"
)

// A key whose issuing event does not name its session (no assumedRoleUser,
// no roleSessionName), and two events signed with it.
var unnamedSession = []string{
	`{"eventTime":"2024-01-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"e1",
	  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"},
	  "responseElements":{"credentials":{"accessKeyId":"ASIAROLEA","expiration":"Jan 1, 2024 11:00:00 AM"}}}`,
	`{"eventTime":"2024-01-01T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"e2",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/RoleA/alice-session","accountId":"111122223333","accessKeyId":"ASIAROLEA"}}`,
	`{"eventTime":"2024-01-01T10:02:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"e3",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/RoleA/alice-session","accountId":"111122223333","accessKeyId":"ASIAROLEA"}}`,
}

// The attributions of a session's events share their chain, and neither
// the key Attribute works out nor the shared chain goes stale.
func TestAttributionKeyAndSharedChains(t *testing.T) {
	a := identity.NewAttributor(mapLedger{})
	var ats []identity.Attribution
	for _, raw := range append(unnamedSession, chainEvents...) {
		at, err := a.Attribute(context.Background(), event(t, raw))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := at.Key(), at.Origin.Key(); got != want {
			t.Errorf("%s: Key() = %q, Origin.Key() = %q", at.Session, got, want)
		}
		ats = append(ats, at)
	}
	shared := ats[1].Origin.Chain
	if want := []string{userAlice, roleA}; !slices.Equal(shared, want) {
		t.Fatalf("chain %q, want %q", shared, want)
	}
	if &ats[2].Origin.Chain[0] != &shared[0] {
		t.Errorf("the events of one session do not share their chain")
	}
	// Appending to a chain shared with other events copies it.
	longer := append(ats[2].Origin.Chain, "another hop")
	if &longer[0] == &shared[0] || len(shared) != 2 {
		t.Errorf("appending to a shared chain changed it: %q", shared)
	}
	if &ats[0].Origin.Chain[0] != &ats[3].Origin.Chain[0] {
		t.Errorf("alice's events do not share her one-hop chain")
	}

	// An origin changed after Attribute gets its own key.
	at, err := a.Attribute(context.Background(), event(t, `{"eventTime":"2024-01-01T10:02:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"e9",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/RoleB/unknown","accountId":"444455556666","accessKeyId":"ASIAUNKNOWN"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := at.Key(), "arn:aws:iam::444455556666:role/RoleB"; got != want {
		t.Errorf("unresolved session: Key() = %q, want %q", got, want)
	}
	at.Origin.SourceIdentity = "alice"
	if got, want := at.Key(), "arn:aws:iam::444455556666:role/RoleB#alice"; got != want {
		t.Errorf("changed origin: Key() = %q, want %q", got, want)
	}
	at.Origin = identity.Origin{ARN: roleA, Type: identity.TypeAssumedRole}
	if got, want := at.Key(), "arn:aws:iam::111122223333:role/RoleA"; got != want {
		t.Errorf("replaced origin: Key() = %q, want %q", got, want)
	}
	// An Attribution made by hand works it out.
	if got := (&identity.Attribution{Origin: identity.Origin{ARN: userAlice, Type: identity.TypeIAMUser}}).Key(); got != userAlice {
		t.Errorf("Attribution made by hand: Key() = %q, want %q", got, userAlice)
	}
}
