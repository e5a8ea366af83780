package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// outboxCases cover MarkPublished and Unpublished: the correlator's outbox.
func outboxCases() []testCase {
	return []testCase{
		{"a new incident is unpublished until marked", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			checkUnpublished(t, f, f.at(0), v1)
			mustMarkPublished(t, f, v1.ID, 1)
			checkUnpublished(t, f, f.at(0))
		}},
		{"a new version is unpublished again", func(t *testing.T, f *fixture) {
			v1 := f.incident(f.alice(), "policy", f.at(time.Minute), f.at(5*time.Minute))
			mustPutIncident(t, f, v1)
			mustMarkPublished(t, f, v1.ID, 1)
			v2 := f.nextVersion(v1, f.at(10*time.Minute))
			mustPutIncident(t, f, v2)
			checkUnpublished(t, f, f.at(0), v2)
			// A late mark of the older version leaves the new one unpublished.
			mustMarkPublished(t, f, v1.ID, 1)
			checkUnpublished(t, f, f.at(0), v2)
			mustMarkPublished(t, f, v2.ID, 2)
			mustMarkPublished(t, f, v2.ID, 1) // going back changes nothing
			checkUnpublished(t, f, f.at(0))
		}},
		{"only incidents last seen since the time", func(t *testing.T, f *fixture) {
			old := f.incident(f.alice(), "old", f.at(time.Minute), f.at(2*time.Minute))
			recent := f.incident(f.alice(), "recent", f.at(time.Minute), f.at(3*time.Hour))
			mustPutIncident(t, f, old)
			mustPutIncident(t, f, recent)
			checkUnpublished(t, f, f.at(time.Hour), recent)
			checkUnpublished(t, f, f.at(0), old, recent)
		}},
		{"marking an unknown incident is not found", func(t *testing.T, f *fixture) {
			if err := f.s.MarkPublished(f.ctx, f.key("no-such-incident"), 1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("MarkPublished(unknown) = %v, want ErrNotFound", err)
			}
		}},
	}
}

func mustMarkPublished(t *testing.T, f *fixture, id string, version int) {
	t.Helper()
	if err := f.s.MarkPublished(f.ctx, id, version); err != nil {
		t.Fatalf("MarkPublished(%s, %d): %v", id, version, err)
	}
}

// checkUnpublished compares the subtest's unpublished incidents (a shared
// backend holds other subtests' too) with want, ordered by first seen then
// id.
func checkUnpublished(t *testing.T, f *fixture, since time.Time, want ...incident.Incident) {
	t.Helper()
	all, err := f.s.Unpublished(f.ctx, since)
	if err != nil {
		t.Fatalf("Unpublished(%v): %v", since, err)
	}
	var got []incident.Incident
	for _, inc := range all {
		if strings.HasPrefix(inc.Policy, f.id) {
			got = append(got, inc)
		}
	}
	slices.SortStableFunc(want, func(a, b incident.Incident) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if d := diff(want, got); d != "" {
		t.Errorf("Unpublished(%v) mismatch (-want +got):\n%s", since, d)
	}
}
