package identity

import (
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
)

func TestIssuerPending(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC)
	session := "arn:aws:sts::333333333333:assumed-role/lambdaManager-role/s"
	event := func(key string, created time.Time) *cloudtrail.Event {
		ev := &cloudtrail.Event{EventTime: t0}
		ev.UserIdentity.AccessKeyID = key
		ev.UserIdentity.SessionContext = &cloudtrail.SessionContext{Attributes: cloudtrail.SessionAttributes{CreationDate: created.Format(time.RFC3339)}}
		return ev
	}
	unseen := Attribution{Origin: Origin{ARN: session, Type: TypeAssumedRole, Chain: []string{session}}}
	targetCopy := Attribution{Origin: Origin{ARN: "arn:aws:iam::222222222222:root", Type: TypeAWSAccount, Account: "222222222222",
		Chain: []string{"arn:aws:iam::222222222222:root", session}}}
	watched := func(a string) bool { return a == "222222222222" }
	const wait = 2 * time.Minute
	for _, c := range []struct {
		name string
		ev   *cloudtrail.Event
		at   Attribution
		now  time.Time
		want bool
		// off turns waiting off; outside leaves the caller's account unwatched.
		off, outside bool
	}{
		{"fresh session, issuer unseen, event just happened", event("ASIAFRESH", t0.Add(-5*time.Second)), unseen, t0, true, false, false},
		{"still waiting on the first retry", event("ASIAFRESH", t0.Add(-5*time.Second)), unseen, t0.Add(time.Minute), true, false, false},
		{"the last retry stops waiting", event("ASIAFRESH", t0.Add(-5*time.Second)), unseen, t0.Add(3 * time.Minute), false, false, false},
		{"an old session's issuer is not coming", event("ASIAOLD", t0.Add(-time.Hour)), unseen, t0, false, false, false},
		{"resolved", event("ASIAFRESH", t0.Add(-5*time.Second)), Attribution{Origin: Origin{Resolved: true, Chain: []string{"u", session}}}, t0, false, false, false},
		{"a long-term key has no issuer", event("AKIALONG", t0.Add(-5*time.Second)), unseen, t0, false, false, false},
		{"no creation date", &cloudtrail.Event{EventTime: t0, UserIdentity: cloudtrail.UserIdentity{AccessKeyID: "ASIAX"}}, unseen, t0, false, false, false},
		{"target copy seen, the caller's account is watched: its copy is coming", event("ASIACROSS", t0.Add(-5*time.Second)), targetCopy, t0, true, false, false},
		{"target copy seen, the caller is outside: nothing is coming", event("ASIACROSS", t0.Add(-5*time.Second)), targetCopy, t0, false, false, true},
		{"waiting off", event("ASIAFRESH", t0.Add(-5*time.Second)), unseen, t0, false, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, watch := wait, watched
			if c.off {
				w = 0
			}
			if c.outside {
				watch = func(string) bool { return false }
			}
			if got := IssuerPending(c.ev, c.at, c.now, w, watch); got != c.want {
				t.Errorf("IssuerPending = %v, want %v", got, c.want)
			}
		})
	}
}
