package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// incidentCases cover PutIncident, Incident and Incidents, and the outbox.
func incidentCases() []testCase {
	return append(outboxCases(), []testCase{
		{"queries", testIncidentQueries},
		{"incident read back equals the one written", func(t *testing.T, f *fixture) {
			zone := time.FixedZone("UTC-7", -7*3600)
			inc := f.incident(f.alice(), "policy", f.at(time.Minute).In(zone), f.at(5*time.Minute).In(zone))
			inc.Signals[0].Time = inc.Signals[0].Time.In(zone)
			mustPutIncident(t, f, inc)
			checkIncident(t, f, inc)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, []incident.Incident{inc})
		}},
		{"update with the next version replaces it", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			v2 := f.nextVersion(v1, f.at(10*time.Minute))
			mustPutIncident(t, f, v2)
			checkIncident(t, f, v2)
			v3 := f.nextVersion(v2, f.at(20*time.Minute))
			v3.Severity = detection.Critical
			v3.Actions[0].Status = incident.StatusDone
			v3.Actions[0].Mode = incident.ModeEnforce
			mustPutIncident(t, f, v3)
			checkIncident(t, f, v3)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, []incident.Incident{v3})
		}},
		{"stale version conflicts and changes nothing", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			v2 := f.nextVersion(v1, f.at(10*time.Minute))
			mustPutIncident(t, f, v2)

			// Another correlator that read v1 writes its own version 2.
			stale := f.nextVersion(v1, f.at(30*time.Minute))
			stale.Summary = "written over a stale read"
			stale.Policy = f.key("other-policy")
			checkConflict(t, f, stale)
			// A version that skips one, and going back to version 1.
			skip := f.nextVersion(v2, f.at(30*time.Minute))
			skip.Version = 4
			checkConflict(t, f, skip)
			back := v1
			back.LastSeen = f.at(30 * time.Minute)
			checkConflict(t, f, back)

			checkIncident(t, f, v2)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, []incident.Incident{v2})
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key(), LastSeenSince: f.at(11 * time.Minute)}, nil)
			checkIncidents(t, f, store.IncidentQuery{Policy: f.key("other-policy")}, nil)
		}},
		{"version 1 over an existing id conflicts", func(t *testing.T, f *fixture) {
			first := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, first)
			again := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(30*time.Minute))
			again.Summary = "opened twice"
			checkConflict(t, f, again)
			checkIncident(t, f, first)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key(), LastSeenSince: f.at(10 * time.Minute)}, nil)
		}},
		{"update of an unknown id conflicts", func(t *testing.T, f *fixture) {
			inc := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			inc.Version = 2
			checkConflict(t, f, inc)
			checkNoIncident(t, f, inc.ID)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, nil)
		}},
		{"concurrent updates from one version: exactly one succeeds", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			updates := make([]incident.Incident, goroutines)
			for i := range updates {
				updates[i] = f.nextVersion(v1, f.at(time.Duration(10+i)*time.Minute))
				updates[i].Summary = fmt.Sprintf("update %d", i)
			}
			var wins atomic.Int32
			winner := make([]bool, goroutines)
			concurrently(goroutines, func(i int) {
				switch err := f.s.PutIncident(f.ctx, updates[i]); {
				case err == nil:
					wins.Add(1)
					winner[i] = true
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("PutIncident(update %d): err = %v, want nil or ErrConflict", i, err)
				}
			})
			if n := wins.Load(); n != 1 {
				t.Fatalf("%d concurrent updates succeeded, want exactly 1", n)
			}
			checkIncident(t, f, updates[slices.Index(winner, true)])
		}},
		{"concurrent creates of one id: exactly one succeeds", func(t *testing.T, f *fixture) {
			creates := make([]incident.Incident, goroutines)
			for i := range creates {
				creates[i] = f.incident(f.alice(), "policy", f.at(time.Minute), f.at(time.Duration(5+i)*time.Minute))
				creates[i].Summary = fmt.Sprintf("create %d", i)
			}
			var wins atomic.Int32
			winner := make([]bool, goroutines)
			concurrently(goroutines, func(i int) {
				switch err := f.s.PutIncident(f.ctx, creates[i]); {
				case err == nil:
					wins.Add(1)
					winner[i] = true
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("PutIncident(create %d): err = %v, want nil or ErrConflict", i, err)
				}
			})
			if n := wins.Load(); n != 1 {
				t.Fatalf("%d concurrent creates succeeded, want exactly 1", n)
			}
			won := creates[slices.Index(winner, true)]
			checkIncident(t, f, won)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, []incident.Incident{won})
		}},
		{"an update moves the incident between queries", func(t *testing.T, f *fixture) {
			alice := f.alice()
			policyA, policyB := f.key("policy-a"), f.key("policy-b")
			other := f.incident(alice, policyB, f.at(3*time.Minute), f.at(4*time.Minute))
			mustPutIncident(t, f, other)
			v1 := f.incident(alice, policyA, f.at(5*time.Minute), f.at(6*time.Minute))
			mustPutIncident(t, f, v1)
			checkIncidents(t, f, store.IncidentQuery{Identity: alice.Key()}, []incident.Incident{other, v1})

			// A late signal moves the first seen time back; the incident
			// is refiled under another policy and seen again later.
			v2 := f.nextVersion(v1, f.at(20*time.Minute))
			v2.FirstSeen = f.at(time.Minute)
			v2.Policy = policyB
			mustPutIncident(t, f, v2)

			checkIncidents(t, f, store.IncidentQuery{Identity: alice.Key()}, []incident.Incident{v2, other})
			checkIncidents(t, f, store.IncidentQuery{Policy: policyA}, nil)
			checkIncidents(t, f, store.IncidentQuery{Identity: alice.Key(), Policy: policyA}, nil)
			checkIncidents(t, f, store.IncidentQuery{Policy: policyB}, []incident.Incident{v2, other})
			checkIncidents(t, f, store.IncidentQuery{Identity: alice.Key(), Policy: policyB}, []incident.Incident{v2, other})
			checkIncidents(t, f, store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(10 * time.Minute)}, []incident.Incident{v2})
			checkIncidents(t, f, store.IncidentQuery{Policy: policyB, Limit: 1}, []incident.Incident{v2})
		}},
		{"unknown incident is not found", func(t *testing.T, f *fixture) {
			checkNoIncident(t, f, incident.ID(f.alice().Key(), "policy", f.at(0)))
		}},
		{"no match is an empty result", func(t *testing.T, f *fixture) {
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, nil)
			checkIncidents(t, f, store.IncidentQuery{Policy: f.key("policy")}, nil)
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key(), Policy: f.key("policy"), LastSeenSince: f.at(0)}, nil)
		}},
		{"stored incident is a copy", testIncidentCopies},
		{"cancelled context", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			fresh := f.incident(f.roleSession("s"), "policy", f.at(time.Minute), f.at(5*time.Minute))

			ctx, cancel := context.WithCancel(f.ctx)
			cancel()
			calls := []struct {
				name string
				call func() error
			}{
				{"PutIncident create", func() error { return f.s.PutIncident(ctx, fresh) }},
				{"PutIncident update", func() error { return f.s.PutIncident(ctx, f.nextVersion(v1, f.at(time.Hour))) }},
				{"Incident", func() error { _, err := f.s.Incident(ctx, v1.ID); return err }},
				{"Incidents", func() error {
					_, err := f.s.Incidents(ctx, store.IncidentQuery{Identity: f.alice().Key()})
					return err
				}},
			}
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					if err := c.call(); !errors.Is(err, context.Canceled) {
						t.Errorf("err = %v, want context.Canceled", err)
					}
				})
			}
			// Nothing was written.
			checkIncident(t, f, v1)
			checkNoIncident(t, f, fresh.ID)
		}},
		{"empty id and versions below 1 are rejected", func(t *testing.T, f *fixture) {
			noID := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			noID.ID = ""
			if err := f.s.PutIncident(f.ctx, noID); err == nil {
				t.Error("PutIncident with an empty id: err = nil, want an error")
			}
			for _, v := range []int{0, -1} {
				inc := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
				inc.Version = v
				if err := f.s.PutIncident(f.ctx, inc); err == nil {
					t.Errorf("PutIncident with version %d: err = nil, want an error", v)
				}
				checkNoIncident(t, f, inc.ID)
			}
			checkIncidents(t, f, store.IncidentQuery{Identity: f.alice().Key()}, nil)
		}},
	}...)
}

// testIncidentQueries stores a handful of incidents and checks the filters,
// limit and order of Incidents against them.
func testIncidentQueries(t *testing.T, f *fixture) {
	alice, role := f.alice(), f.roleSession("session-1")
	// A second session of the role has the same origin key.
	role2 := f.roleSession("session-2")
	policyA, policyB := f.key("policy-a"), f.key("policy-b")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)

	i1 := f.incident(alice, policyA, f.at(0), f.at(10*time.Minute))
	i2 := f.incident(alice, policyB, f.at(time.Minute), f.at(2*time.Minute))
	i3 := f.incident(role, policyA, f.at(time.Minute).In(zone), f.at(30*time.Minute))
	i4 := f.incident(role2, policyB, f.at(2*time.Minute), f.at(20*time.Minute).In(zone))
	i5 := f.incident(alice, policyA, f.at(3*time.Minute), f.at(3*time.Minute))
	// Put them out of order; i5 is updated once so that versions differ.
	for _, inc := range []incident.Incident{i5, i3, i1, i4, i2} {
		mustPutIncident(t, f, inc)
	}
	i5v2 := f.nextVersion(i5, f.at(40*time.Minute))
	mustPutIncident(t, f, i5v2)
	// i2 and i3 open at the same time: they are ordered by id.
	all := []incident.Incident{i1, i2, i3, i4, i5v2}
	slices.SortFunc(all, incidentOrder)

	// only keeps the incidents of all that are among incs, in all's order.
	only := func(incs ...incident.Incident) []incident.Incident {
		var out []incident.Incident
		for _, a := range all {
			if slices.ContainsFunc(incs, func(b incident.Incident) bool { return a.ID == b.ID }) {
				out = append(out, a)
			}
		}
		return out
	}

	tests := []struct {
		name string
		q    store.IncidentQuery
		want []incident.Incident
	}{
		{"identity, ordered by first seen then id", store.IncidentQuery{Identity: alice.Key()}, only(i1, i2, i5)},
		{"identity is the origin key", store.IncidentQuery{Identity: role.Key()}, only(i3, i4)},
		{"session ARN is not an origin key", store.IncidentQuery{Identity: role.ARN}, nil},
		{"unknown identity", store.IncidentQuery{Identity: f.userARN("nobody")}, nil},
		{"policy", store.IncidentQuery{Policy: policyA}, only(i1, i3, i5)},
		{"other policy", store.IncidentQuery{Policy: policyB}, only(i2, i4)},
		{"unknown policy", store.IncidentQuery{Policy: f.key("policy-c")}, nil},
		{"identity and policy", store.IncidentQuery{Identity: alice.Key(), Policy: policyA}, only(i1, i5)},
		{"identity and other policy", store.IncidentQuery{Identity: role.Key(), Policy: policyB}, only(i4)},
		{"identity and policy without incidents", store.IncidentQuery{Identity: alice.Key(), Policy: f.key("policy-c")}, nil},
		{"last seen since is inclusive", store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(10 * time.Minute)}, only(i1, i5)},
		{"last seen since after an incident", store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(10*time.Minute + time.Millisecond)}, only(i5)},
		{"last seen since sees the update", store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(35 * time.Minute)}, only(i5)},
		{"last seen since in another location", store.IncidentQuery{Policy: policyB, LastSeenSince: f.at(20 * time.Minute).In(zone)}, only(i4)},
		{"last seen since with policy", store.IncidentQuery{Policy: policyA, LastSeenSince: f.at(15 * time.Minute)}, only(i3, i5)},
		{"last seen since with identity and policy", store.IncidentQuery{Identity: role.Key(), Policy: policyA, LastSeenSince: f.at(30 * time.Minute)}, only(i3)},
		{"last seen since after all", store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(time.Hour)}, nil},
		{"limit with identity", store.IncidentQuery{Identity: alice.Key(), Limit: 2}, only(i1, i2)},
		{"limit with policy", store.IncidentQuery{Policy: policyA, Limit: 2}, only(i1, i3)},
		{"limit with identity and policy", store.IncidentQuery{Identity: alice.Key(), Policy: policyA, Limit: 1}, only(i1)},
		{"limit applies after last seen since", store.IncidentQuery{Identity: alice.Key(), LastSeenSince: f.at(5 * time.Minute), Limit: 1}, only(i1)},
		{"limit applies after last seen since, skipping", store.IncidentQuery{Policy: policyA, LastSeenSince: f.at(15 * time.Minute), Limit: 1}, only(i3)},
		{"limit above the matches", store.IncidentQuery{Identity: role.Key(), Limit: 10}, only(i3, i4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkIncidents(t, f, tt.q, tt.want)
		})
	}

	t.Run("no filter returns them all in order", func(t *testing.T) {
		got, err := f.s.Incidents(f.ctx, store.IncidentQuery{})
		if err != nil {
			t.Fatalf("Incidents: %v", err)
		}
		// A backend shared between subtests may hold others' incidents.
		got = slices.DeleteFunc(got, func(inc incident.Incident) bool {
			return !slices.ContainsFunc(all, func(a incident.Incident) bool { return a.ID == inc.ID })
		})
		if d := diff(all, got); d != "" {
			t.Errorf("Incidents({}) mismatch (-want +got):\n%s", d)
		}
	})
}

// testIncidentCopies checks that changing an incident after PutIncident, or
// after getting it back from Incident or Incidents, does not change the
// store.
func testIncidentCopies(t *testing.T, f *fixture) {
	want := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
	inc := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
	mustPutIncident(t, f, inc)
	mutateIncident(&inc, "changed after PutIncident")

	got, err := f.s.Incident(f.ctx, want.ID)
	if err != nil {
		t.Fatalf("Incident: %v", err)
	}
	mutateIncident(&got, "changed after Incident")
	q := store.IncidentQuery{Identity: f.alice().Key()}
	list, err := f.s.Incidents(f.ctx, q)
	if err != nil {
		t.Fatalf("Incidents: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("Incidents returned %d incidents, want 1", len(list))
	}
	mutateIncident(&list[0], "changed after Incidents")

	checkIncident(t, f, want)
	checkIncidents(t, f, q, []incident.Incident{want})
}

// mutateIncident changes every slice element of inc that a store could
// share with its caller.
func mutateIncident(inc *incident.Incident, s string) {
	inc.Identity.Chain[0] = s
	inc.Identity.Chains[0][0] = s
	inc.Identity.Accounts[0] = s
	inc.Facts.Regions[0] = s
	inc.Facts.Services[0] = s
	inc.Facts.APIs[0] = s
	inc.Facts.SourceIPs[0] = s
	inc.Facts.UserAgents[0] = s
	inc.Attack[0] = s
	inc.Signals[0].ID = s
	inc.Resources[0].ARN = s
	inc.Actions[0].Status = s
}

// incident returns a version 1 incident of the origin under the policy
// (made unique to the subtest), with every field set and its id derived
// from the origin key, policy and first seen time.
func (f *fixture) incident(o identity.Origin, policy string, first, last time.Time) incident.Incident {
	if !strings.HasPrefix(policy, f.id) {
		policy = f.key(policy)
	}
	sig := f.signal("inc-"+policy+"-"+first.UTC().Format(time.RFC3339Nano), o, first)
	otherChain := []string{o.ARN, "arn:aws:sts::444455556666:assumed-role/" + f.id + "-admin/x"}
	return incident.Incident{
		ID:       incident.ID(o.Key(), policy, first),
		Policy:   policy,
		Title:    "Compromised credentials used from a new region",
		Severity: detection.High,
		Identity: incident.Identity{
			Origin:   o.ARN,
			Key:      o.Key(),
			Type:     o.Type,
			Name:     o.Name,
			Resolved: o.Resolved,
			Chain:    slices.Clone(o.Chain),
			Chains:   [][]string{slices.Clone(o.Chain), otherChain},
			Accounts: []string{"111122223333", "444455556666"},
		},
		FirstSeen: first,
		LastSeen:  last,
		Updated:   last,
		Summary:   "new region, then instances launched",
		Facts: incident.Facts{
			Events:     12,
			Regions:    []string{"ap-southeast-3", "eu-west-1"},
			Services:   []string{"ec2.amazonaws.com", "sts.amazonaws.com"},
			APIs:       []string{"RunInstances", "GetCallerIdentity"},
			SourceIPs:  []string{"203.0.113.7"},
			UserAgents: []string{"aws-cli/2.15.0"},
			Errors:     3,
		},
		Attack: []string{"T1535", "T1078.004"},
		Signals: []incident.SignalRef{{
			ID:        sig.ID,
			Kind:      sig.Kind,
			Severity:  sig.Severity,
			EventID:   sig.EventID,
			EventName: sig.EventName,
			Time:      sig.Time,
			Account:   sig.Account,
			Region:    sig.Region,
			Session:   "session-1",
			Rationale: sig.Rationale,
		}},
		Resources: slices.Clone(sig.Resources),
		Actions: []incident.Action{{
			Action:  "deactivate-access-key",
			Target:  f.key("AKIA"),
			Account: "111122223333",
			Region:  "us-east-1",
			Mode:    incident.ModeDryRun,
			Status:  incident.StatusPlanned,
			Reason:  "credentials used from a new region",
		}},
		Version: 1,
	}
}

// nextVersion returns the update of inc to the next version that a
// correlator makes when a signal at time last joins it.
func (f *fixture) nextVersion(inc incident.Incident, last time.Time) incident.Incident {
	next := inc
	next.Identity.Chain = slices.Clone(inc.Identity.Chain)
	next.Identity.Chains = slices.Clone(inc.Identity.Chains)
	next.Identity.Accounts = slices.Clone(inc.Identity.Accounts)
	next.Attack = slices.Clone(inc.Attack)
	next.Resources = slices.Clone(inc.Resources)
	next.Actions = slices.Clone(inc.Actions)
	next.Facts.Regions = slices.Clone(inc.Facts.Regions)
	next.Facts.Events++
	sig := f.signal(fmt.Sprintf("%s-v%d", inc.ID, inc.Version+1), f.alice(), last)
	next.Signals = append(slices.Clone(inc.Signals), incident.SignalRef{
		ID:        sig.ID,
		Kind:      "privilege-escalation",
		Severity:  detection.Critical,
		EventID:   sig.EventID,
		EventName: "AttachUserPolicy",
		Time:      last,
		Rationale: fmt.Sprintf("version %d", inc.Version+1),
	})
	next.LastSeen = last
	next.Updated = last
	next.Summary = fmt.Sprintf("%s (version %d)", inc.Summary, inc.Version+1)
	next.Version = inc.Version + 1
	return next
}

// mustPutIncident puts inc, failing the test on error.
func mustPutIncident(t *testing.T, f *fixture, inc incident.Incident) {
	t.Helper()
	if err := f.s.PutIncident(f.ctx, inc); err != nil {
		t.Fatalf("PutIncident(%s version %d): %v", inc.ID, inc.Version, err)
	}
}

// checkConflict fails the test unless putting inc fails with
// store.ErrConflict.
func checkConflict(t *testing.T, f *fixture, inc incident.Incident) {
	t.Helper()
	if err := f.s.PutIncident(f.ctx, inc); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutIncident(%s version %d): err = %v, want ErrConflict", inc.ID, inc.Version, err)
	}
}

// checkIncident fails the test when Incident(want.ID) differs from want.
func checkIncident(t *testing.T, f *fixture, want incident.Incident) {
	t.Helper()
	got, err := f.s.Incident(f.ctx, want.ID)
	if err != nil {
		t.Fatalf("Incident(%s): %v", want.ID, err)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("Incident(%s) mismatch (-want +got):\n%s", want.ID, d)
	}
}

// checkNoIncident fails the test unless Incident(id) returns
// store.ErrNotFound.
func checkNoIncident(t *testing.T, f *fixture, id string) {
	t.Helper()
	if _, err := f.s.Incident(f.ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Incident(%s): err = %v, want ErrNotFound", id, err)
	}
}

// checkIncidents fails the test when Incidents(q) differs from want.
func checkIncidents(t *testing.T, f *fixture, q store.IncidentQuery, want []incident.Incident) {
	t.Helper()
	got, err := f.s.Incidents(f.ctx, q)
	if err != nil {
		t.Fatalf("Incidents(%+v): %v", q, err)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("Incidents(%+v) mismatch (-want +got):\n%s", q, d)
	}
}

// incidentOrder is the order of Incidents: first seen, then id.
func incidentOrder(a, b incident.Incident) int {
	return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), strings.Compare(a.ID, b.ID))
}
