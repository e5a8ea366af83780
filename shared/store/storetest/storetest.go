// Package storetest is the store.Store contract written down as a
// conformance suite. Every implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// The suite never reads the wall clock: every time it uses is fixed and
// passed as an argument, and all of them are whole milliseconds. Each
// subtest gets a fresh store from newStore and closes it with t.Cleanup.
// Subtests also use keys, identities and a time window (a few days, after
// 2100 so that no real TTL sweeper deletes the items) derived from their own
// names, so a store whose backend is shared between subtests, such as a
// DynamoDB table in an emulator, passes too.
//
// Times read back are compared with time.Time.Equal: a store may return
// them in any location (the stores in this module return UTC). Nil and
// empty slices and maps are treated as equal.
//
// Besides what the store.Store comments say, the suite pins down:
//
//   - A fact's first and last seen times are the earliest and latest times
//     it was added at, as baseline.Profile.Add has them; a profile's Created
//     is the earliest time AddFact or AddEvents was called at.
//   - Every method but Close returns an error wrapping ctx.Err() when ctx is
//     already done, and changes nothing.
//   - Writes with an empty access key id, profile key, signal id,
//     watermark name or incident id fail, and so does PutIncident of an
//     incident whose Version is below 1.
//   - PutIncident's conflicts wrap store.ErrConflict; of several callers
//     putting the same version of an incident concurrently, exactly one
//     succeeds.
//   - Values are copied in and out: changing a value after passing it to the
//     store, or after getting it back, does not change the store.
//   - A store with a Purge(ctx, now) (int, error) method deletes the keys and
//     signals expired at now, after which a purged signal id can be put
//     again.
package storetest

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailhound/trailhound/shared/store"
)

// Run runs the conformance suite against the stores newStore returns. It
// calls newStore once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Keys", keyCases()},
		{"Profiles", profileCases()},
		{"FirstSeen", firstSeenCases()},
		{"Signals", signalCases()},
		{"Watermarks", watermarkCases()},
		{"Incidents", incidentCases()},
		{"Context", contextCases()},
		{"InvalidInput", invalidInputCases()},
		{"Purge", purgeCases()},
		{"Audit", auditCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, setup(t, newStore))
				})
			}
		})
	}
}

// testCase is one named subtest of the suite.
type testCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// fixture is what a subtest works with: its store, a context and the names
// and times that are unique to it.
type fixture struct {
	s   store.Store
	ctx context.Context
	// id is unique to the subtest; keys, identities and ids embed it.
	id string
	// base starts the subtest's time window.
	base time.Time
}

// windowSlots is how many hour-aligned windows subtests spread over.
const windowSlots = 10 * 365 * 24

// setup opens a fresh store for the subtest, closing it when the subtest
// ends.
func setup(t *testing.T, newStore func(t *testing.T) store.Store) *fixture {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	sum := h.Sum64()
	// Windows start in 2100: far enough in the future that a TTL sweeper
	// running on the wall clock never deletes the suite's items.
	windowStart := time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
	return &fixture{
		s:    s,
		ctx:  t.Context(),
		id:   fmt.Sprintf("st%016x", sum),
		base: windowStart.Add(time.Duration(sum%windowSlots) * time.Hour),
	}
}

// at returns the time d after the start of the subtest's window.
func (f *fixture) at(d time.Duration) time.Time { return f.base.Add(d) }

// key returns a key unique to the subtest.
func (f *fixture) key(name string) string { return f.id + "-" + name }

// userARN returns an IAM user ARN unique to the subtest.
func (f *fixture) userARN(name string) string {
	return "arn:aws:iam::111122223333:user/" + f.id + "-" + name
}

// diff compares want and got the way the suite does: times by instant, nil
// and empty slices and maps alike.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// concurrently calls fn(0) … fn(n-1) from n goroutines released together,
// and waits for all of them.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// goroutines is how many goroutines the concurrency subtests start.
const goroutines = 16
