package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/store"
)

// signalCases cover PutSignal and Signals.
func signalCases() []testCase {
	return []testCase{
		{"queries", testSignalQueries},
		{"signal read back equals the one written", func(t *testing.T, f *fixture) {
			s := f.signal("sig", f.alice(), f.at(time.Minute))
			mustPutSignal(t, f, s, f.at(time.Hour), true)
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{f.signal("sig", f.alice(), f.at(time.Minute))})
		}},
		{"PutSignal is idempotent by id", func(t *testing.T, f *fixture) {
			s := f.signal("sig", f.alice(), f.at(time.Minute))
			mustPutSignal(t, f, s, f.at(time.Hour), true)
			again := f.signal("sig", f.alice(), f.at(2*time.Minute))
			again.Kind = "other-kind"
			again.Severity = detection.Critical
			again.Facts = map[string]string{"replaced": "yes"}
			mustPutSignal(t, f, again, f.at(10*time.Hour), false)

			q := store.SignalQuery{Identity: f.alice().Key()}
			checkSignals(t, f, q, []detection.Signal{s})
			// The first expiry was kept too.
			q.Now = f.at(2 * time.Hour)
			checkSignals(t, f, q, nil)
		}},
		{"an earlier signal of the same id replaces the stored one", func(t *testing.T, f *fixture) {
			// A slot's signal (detection.SlotID) raised by two events that
			// concurrent detectors store latest first.
			later := f.signal("later", f.alice(), f.at(2*time.Minute))
			earlier := f.signal("earlier", f.alice(), f.at(time.Minute))
			earlier.ID = later.ID
			earlier.Facts = map[string]string{"replaced": "yes"}
			mustPutSignal(t, f, later, f.at(time.Hour), true)
			mustPutSignal(t, f, earlier, f.at(2*time.Hour), true)
			mustPutSignal(t, f, later, f.at(time.Hour), false)
			mustPutSignal(t, f, earlier, f.at(2*time.Hour), false)
			q := store.SignalQuery{Identity: f.alice().Key()}
			checkSignals(t, f, q, []detection.Signal{earlier})
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key(), Since: f.at(90 * time.Second)}, nil)
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key(), Since: f.at(0), Until: f.at(90 * time.Second)}, []detection.Signal{earlier})
			// Its expiry came with it.
			q.Now = f.at(90 * time.Minute)
			checkSignals(t, f, q, []detection.Signal{earlier})

			// In the same second, the smaller event id comes first.
			a, b := f.signal("tie-a", f.roleSession("bob"), f.at(time.Minute)), f.signal("tie-b", f.roleSession("bob"), f.at(time.Minute))
			b.ID = a.ID
			first, second := a, b
			if b.EventID < a.EventID {
				first, second = b, a
			}
			mustPutSignal(t, f, second, f.at(time.Hour), true)
			mustPutSignal(t, f, first, f.at(time.Hour), true)
			mustPutSignal(t, f, second, f.at(time.Hour), false)
			checkSignals(t, f, store.SignalQuery{Identity: f.roleSession("bob").Key()}, []detection.Signal{first})

			// Without an event id, a signal is earlier only by time
			// (detection.EarlierEvent): in the same second it replaces none.
			noID := f.signal("no-id", f.roleSession("bob"), f.at(time.Minute))
			noID.ID, noID.EventID = a.ID, ""
			mustPutSignal(t, f, noID, f.at(time.Hour), false)
			checkSignals(t, f, store.SignalQuery{Identity: f.roleSession("bob").Key()}, []detection.Signal{first})
		}},
		{"concurrent PutSignal of one id keeps the earliest", func(t *testing.T, f *fixture) {
			concurrently(goroutines, func(i int) {
				s := f.signal(fmt.Sprintf("event-%02d", goroutines-1-i), f.alice(), f.at(time.Duration(goroutines-1-i)*time.Millisecond))
				s.ID = f.key("slot")
				if _, err := f.s.PutSignal(f.ctx, s, f.at(time.Hour)); err != nil {
					t.Errorf("PutSignal: %v", err)
				}
			})
			want := f.signal("event-00", f.alice(), f.at(0))
			want.ID = f.key("slot")
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{want})
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key(), Since: f.at(0)}, []detection.Signal{want})
		}},
		{"concurrent PutSignal of one id creates it once", func(t *testing.T, f *fixture) {
			var created atomic.Int32
			concurrently(goroutines, func(i int) {
				s := f.signal("sig", f.alice(), f.at(time.Minute))
				ok, err := f.s.PutSignal(f.ctx, s, f.at(time.Hour))
				if err != nil {
					t.Errorf("PutSignal: %v", err)
				}
				if ok {
					created.Add(1)
				}
			})
			if n := created.Load(); n != 1 {
				t.Errorf("%d callers created the signal, want exactly 1", n)
			}
			got, err := f.s.Signals(f.ctx, store.SignalQuery{Identity: f.alice().Key()})
			if err != nil {
				t.Fatalf("Signals: %v", err)
			}
			if len(got) != 1 {
				t.Errorf("Signals returned %d signals, want 1", len(got))
			}
		}},
		{"concurrent PutSignal of different ids creates them all", func(t *testing.T, f *fixture) {
			var want []detection.Signal
			for i := range goroutines {
				want = append(want, f.signal(string(rune('a'+i)), f.alice(), f.at(time.Duration(i)*time.Millisecond)))
			}
			concurrently(goroutines, func(i int) {
				if _, err := f.s.PutSignal(f.ctx, want[i], f.at(time.Hour)); err != nil {
					t.Errorf("PutSignal: %v", err)
				}
			})
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, want)
		}},
		{"stored signal is a copy", func(t *testing.T, f *fixture) {
			s := f.signal("sig", f.alice(), f.at(time.Minute))
			mustPutSignal(t, f, s, f.at(time.Hour), true)
			s.Facts["region"] = "changed after PutSignal"
			s.Attack[0] = "changed after PutSignal"
			s.Resources[0].ARN = "changed after PutSignal"
			s.Identity.Chain[0] = "changed after PutSignal"

			q := store.SignalQuery{Identity: f.alice().Key()}
			got, err := f.s.Signals(f.ctx, q)
			if err != nil {
				t.Fatalf("Signals: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("Signals returned %d signals, want 1", len(got))
			}
			got[0].Facts["region"] = "changed after Signals"
			got[0].Attack[0] = "changed after Signals"
			got[0].Resources[0].ARN = "changed after Signals"
			got[0].Identity.Chain[0] = "changed after Signals"
			checkSignals(t, f, q, []detection.Signal{f.signal("sig", f.alice(), f.at(time.Minute))})
		}},
		{"signals at the same time are ordered by id", func(t *testing.T, f *fixture) {
			var want []detection.Signal
			for i := range 8 {
				s := f.signal(fmt.Sprint(i), f.alice(), f.at(time.Minute))
				mustPutSignal(t, f, s, f.at(time.Hour), true)
				want = append(want, s)
			}
			slices.SortFunc(want, func(a, b detection.Signal) int { return strings.Compare(a.ID, b.ID) })
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, want)
			checkSignals(t, f, store.SignalQuery{Since: f.at(0), Until: f.at(time.Hour)}, want)
		}},
		{"no match is an empty result", func(t *testing.T, f *fixture) {
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, nil)
			checkSignals(t, f, store.SignalQuery{Since: f.at(0), Until: f.at(time.Hour)}, nil)
		}},
	}
}

// testSignalQueries stores a handful of signals and checks the filters,
// limit and order of Signals against them.
func testSignalQueries(t *testing.T, f *fixture) {
	alice := f.alice()
	session1, session2 := f.roleSession("session-1"), f.roleSession("session-2")
	zone := time.FixedZone("UTC-7", -7*3600)
	// Ids are chosen so that, at equal times, the signal put later sorts
	// first.
	s1 := f.signal("a", alice, f.at(0))
	s2 := f.signal("c", session1, f.at(time.Minute))
	s3 := f.signal("b", alice, f.at(time.Minute))
	s4 := f.signal("d", session2, f.at(2*time.Minute).In(zone))
	s5 := f.signal("e", alice, f.at(3*time.Minute))
	puts := []struct {
		s       detection.Signal
		expires time.Time
	}{
		{s5, f.at(time.Hour)},
		{s2, f.at(time.Hour)},
		{s4, f.at(2 * time.Hour)},
		{s1, f.at(10 * time.Hour)},
		{s3, f.at(10 * time.Hour)},
	}
	for _, p := range puts {
		mustPutSignal(t, f, p.s, p.expires, true)
	}

	since, until := f.at(0), f.at(time.Hour) // the subtest's window
	tests := []struct {
		name string
		q    store.SignalQuery
		want []detection.Signal
	}{
		{"time range, ordered by time then id", store.SignalQuery{Since: since, Until: until}, []detection.Signal{s1, s3, s2, s4, s5}},
		{"identity with open range", store.SignalQuery{Identity: alice.Key()}, []detection.Signal{s1, s3, s5}},
		{"identity is the origin key", store.SignalQuery{Identity: session1.Key()}, []detection.Signal{s2, s4}},
		{"session ARN is not an origin key", store.SignalQuery{Identity: session1.ARN}, nil},
		{"unknown identity", store.SignalQuery{Identity: f.userARN("nobody")}, nil},
		{"since is inclusive", store.SignalQuery{Since: f.at(time.Minute), Until: until}, []detection.Signal{s3, s2, s4, s5}},
		{"until is exclusive", store.SignalQuery{Since: since, Until: f.at(2 * time.Minute)}, []detection.Signal{s1, s3, s2}},
		{"since equal to until", store.SignalQuery{Since: f.at(time.Minute), Until: f.at(time.Minute)}, nil},
		{"until in another location", store.SignalQuery{Since: since, Until: f.at(2 * time.Minute).In(zone)}, []detection.Signal{s1, s3, s2}},
		{"identity and range", store.SignalQuery{Identity: alice.Key(), Since: f.at(time.Minute), Until: f.at(3 * time.Minute)}, []detection.Signal{s3}},
		{"identity and since only", store.SignalQuery{Identity: session1.Key(), Since: f.at(2 * time.Minute)}, []detection.Signal{s4}},
		{"identity and until only", store.SignalQuery{Identity: alice.Key(), Until: f.at(time.Minute)}, []detection.Signal{s1}},
		{"now drops signals expired at or before it", store.SignalQuery{Since: since, Until: until, Now: f.at(time.Hour)}, []detection.Signal{s1, s3, s4}},
		{"now before every expiry keeps all", store.SignalQuery{Since: since, Until: until, Now: f.at(time.Hour - time.Millisecond)}, []detection.Signal{s1, s3, s2, s4, s5}},
		{"now after every expiry", store.SignalQuery{Identity: alice.Key(), Now: f.at(10 * time.Hour)}, nil},
		{"limit", store.SignalQuery{Since: since, Until: until, Limit: 2}, []detection.Signal{s1, s3}},
		{"limit applies after now", store.SignalQuery{Since: since, Until: until, Now: f.at(time.Hour), Limit: 3}, []detection.Signal{s1, s3, s4}},
		{"limit with identity", store.SignalQuery{Identity: session2.Key(), Limit: 1}, []detection.Signal{s2}},
		{"limit above the matches", store.SignalQuery{Identity: alice.Key(), Limit: 10}, []detection.Signal{s1, s3, s5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSignals(t, f, tt.q, tt.want)
		})
	}
}

// alice returns a resolved IAM user origin unique to the subtest.
func (f *fixture) alice() identity.Origin {
	arn := f.userARN("alice")
	return identity.Origin{
		ARN:      arn,
		Type:     identity.TypeIAMUser,
		Name:     "alice",
		Account:  "111122223333",
		Chain:    []string{arn},
		Resolved: true,
	}
}

// roleSession returns an unresolved role session origin: its key is the
// role, unique to the subtest, whatever the session name.
func (f *fixture) roleSession(name string) identity.Origin {
	arn := "arn:aws:sts::111122223333:assumed-role/" + f.id + "/" + name
	return identity.Origin{
		ARN:     arn,
		Type:    identity.TypeAssumedRole,
		Name:    f.id,
		Account: "111122223333",
		Chain:   []string{arn},
	}
}

// signal returns a signal with every field set and an id unique to the
// subtest.
func (f *fixture) signal(name string, o identity.Origin, at time.Time) detection.Signal {
	eventID := f.key("event-" + name)
	return detection.Signal{
		ID:          detection.SignalID(eventID, "new-region"),
		Kind:        "new-region",
		Severity:    detection.Medium,
		Attack:      []string{"T1535", "T1078.004"},
		Identity:    o,
		EventID:     eventID,
		EventName:   "RunInstances",
		EventSource: "ec2.amazonaws.com",
		Time:        at,
		Account:     "111122223333",
		Region:      "ap-southeast-3",
		SourceIP:    "203.0.113.7",
		UserAgent:   "aws-cli/2.15.0",
		ErrorCode:   "Client.UnauthorizedOperation",
		Rationale:   "first use of region ap-southeast-3",
		Facts:       map[string]string{"region": "ap-southeast-3", "known": "eu-west-1"},
		Resources: []detection.Resource{
			{Type: "AWS::EC2::Instance", ARN: "arn:aws:ec2:ap-southeast-3:111122223333:instance/i-0abc", ID: "i-0abc", Region: "ap-southeast-3"},
			{Type: "AWS::EC2::KeyPair", ID: "key-1"},
		},
		ServiceInvoked: "cloudformation.amazonaws.com",
	}
}

// mustPutSignal puts s, failing the test on error or when PutSignal does
// not report wantCreated.
func mustPutSignal(t *testing.T, f *fixture, s detection.Signal, expires time.Time, wantCreated bool) {
	t.Helper()
	created, err := f.s.PutSignal(f.ctx, s, expires)
	if err != nil {
		t.Fatalf("PutSignal(%s): %v", s.ID, err)
	}
	if created != wantCreated {
		t.Errorf("PutSignal(%s) = %t, want %t", s.ID, created, wantCreated)
	}
}

// checkSignals fails the test when Signals(q) differs from want.
func checkSignals(t *testing.T, f *fixture, q store.SignalQuery, want []detection.Signal) {
	t.Helper()
	got, err := f.s.Signals(f.ctx, q)
	if err != nil {
		t.Fatalf("Signals(%+v): %v", q, err)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("Signals(%+v) mismatch (-want +got):\n%s", q, d)
	}
}
