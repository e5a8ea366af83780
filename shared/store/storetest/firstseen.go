package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
)

// firstSeenCases cover the atomicity of AddFact and AddEvents under
// concurrent callers.
func firstSeenCases() []testCase {
	return []testCase{
		{"the event that first recorded a fact is told so again on redelivery", func(t *testing.T, f *fixture) {
			key := f.key("p")
			fact := baseline.Fact{Dim: baseline.DimRegion, Value: "ap-south-1"}
			for _, c := range []struct {
				event string
				at    time.Duration
				want  bool
			}{
				{"discoverer", time.Hour, true},
				{"discoverer", time.Hour, true},            // redelivered, same time
				{"other", 2 * time.Hour, false},            // a later event
				{"discoverer", time.Hour, true},            // redelivered after the other
				{"", 3 * time.Hour, false},                 // no event id
				{"discoverer", 4 * time.Hour, true},        // even at another time
				{"earlier", 30 * time.Minute, true},        // an earlier event (concurrent detectors): now the first
				{"earlier", 30 * time.Minute, true},        // and told so on redelivery
				{"discoverer", time.Hour, false},           // no longer the first
				{"a-same-second", 30 * time.Minute, true},  // the same second: the smaller event id is first
				{"z-same-second", 30 * time.Minute, false}, // a larger one is not
				{"earlier", 30 * time.Minute, false},       // nor, now, is "earlier"
			} {
				got, err := f.s.AddFact(f.ctx, key, fact, f.at(c.at), c.event)
				if err != nil {
					t.Fatalf("AddFact(%s): %v", c.event, err)
				}
				if got != c.want {
					t.Errorf("AddFact by %q at %v = %v, want %v", c.event, c.at, got, c.want)
				}
			}
		}},
		{"same new fact from many goroutines is added once", func(t *testing.T, f *fixture) {
			key := f.key("p")
			fact := baseline.Fact{Dim: baseline.DimNetwork, Value: "203.0.113.0/24"}
			var added atomic.Int32
			concurrently(goroutines, func(i int) {
				ok, err := f.s.AddFact(f.ctx, key, fact, f.at(0), "")
				if err != nil {
					t.Errorf("AddFact: %v", err)
				}
				if ok {
					added.Add(1)
				}
			})
			if n := added.Load(); n != 1 {
				t.Errorf("%d callers were told the fact was new, want exactly 1", n)
			}
			// Whichever caller won, no update was lost.
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(0),
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					fact.Dim: {fact.Value: {First: f.at(0), Last: f.at(0)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"events of a fact added out of order by many goroutines: the earliest is its first", func(t *testing.T, f *fixture) {
			key := f.key("p")
			fact := baseline.Fact{Dim: baseline.DimNetwork, Value: "198.51.100.0/24"}
			event := func(i int) string { return fmt.Sprintf("event-%02d", i) }
			// Latest first, as concurrent detectors may: several callers
			// may be told they are first on the way, the earliest always.
			concurrently(goroutines, func(i int) {
				i = goroutines - 1 - i
				ok, err := f.s.AddFact(f.ctx, key, fact, f.at(time.Duration(i)*time.Millisecond), event(i))
				if err != nil {
					t.Errorf("AddFact: %v", err)
				}
				if i == 0 && !ok {
					t.Errorf("AddFact by the earliest event = false, want true")
				}
			})
			// Afterwards exactly the earliest event is the fact's first.
			for i := range goroutines {
				ok, err := f.s.AddFact(f.ctx, key, fact, f.at(time.Duration(i)*time.Millisecond), event(i))
				if err != nil {
					t.Fatalf("AddFact: %v", err)
				}
				if ok != (i == 0) {
					t.Errorf("AddFact by %s after the others = %v, want %v", event(i), ok, i == 0)
				}
			}
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(0),
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					fact.Dim: {fact.Value: {First: f.at(0), Last: f.at((goroutines - 1) * time.Millisecond), Event: event(0)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"different new facts from many goroutines are all added", func(t *testing.T, f *fixture) {
			const perGoroutine = 4
			key := f.key("p")
			concurrently(goroutines, func(i int) {
				for j := range perGoroutine {
					fact := baseline.Fact{Dim: baseline.DimAPI, Value: fmt.Sprintf("api-%d-%d", i, j)}
					ok, err := f.s.AddFact(f.ctx, key, fact, f.at(time.Hour), "")
					if err != nil {
						t.Errorf("AddFact(%v): %v", fact, err)
					}
					if !ok {
						t.Errorf("AddFact(%v) = false, want true", fact)
					}
				}
			})
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Facts:   map[baseline.Dimension]map[string]baseline.Seen{baseline.DimAPI: {}},
			}
			for i := range goroutines {
				for j := range perGoroutine {
					want.Facts[baseline.DimAPI][fmt.Sprintf("api-%d-%d", i, j)] = baseline.Seen{First: f.at(time.Hour), Last: f.at(time.Hour)}
				}
			}
			checkProfile(t, f, key, want)
		}},
		{"concurrent AddEvents lose no events", func(t *testing.T, f *fixture) {
			key := f.key("p")
			concurrently(goroutines, func(i int) {
				if err := f.s.AddEvents(f.ctx, key, int64(i+1), f.at(time.Duration(goroutines-i)*time.Millisecond)); err != nil {
					t.Errorf("AddEvents: %v", err)
				}
			})
			want := &baseline.Profile{Key: key, Created: f.at(time.Millisecond), Events: goroutines * (goroutines + 1) / 2}
			checkProfile(t, f, key, want)
		}},
	}
}
