package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/store"
)

// Benchmark measures a store's hot paths: AddFact of a fact the profile
// already holds (at the same time, which changes nothing, and at a later
// time, which advances its last-seen time) and reading a profile of a
// realistic size. newStore is called once per sub-benchmark; the benchmark
// closes the store.
func Benchmark(b *testing.B, newStore func(b *testing.B) store.Store) {
	const key = "arn:aws:iam::111122223333:user/bench"
	base := time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
	fact := baseline.Fact{Dim: baseline.DimAPI, Value: "s3:GetObject"}

	// open returns a store holding a profile of 8 dimensions × 25 values.
	open := func(b *testing.B) store.Store {
		b.Helper()
		s := newStore(b)
		b.Cleanup(func() {
			if err := s.Close(); err != nil {
				b.Errorf("Close: %v", err)
			}
		})
		for _, d := range baseline.Dimensions {
			for v := range 25 {
				if _, err := s.AddFact(b.Context(), key, baseline.Fact{Dim: d, Value: fmt.Sprint(v)}, base, ""); err != nil {
					b.Fatalf("AddFact: %v", err)
				}
			}
		}
		if _, err := s.AddFact(b.Context(), key, fact, base, ""); err != nil {
			b.Fatalf("AddFact: %v", err)
		}
		return s
	}

	b.Run("AddFactExisting/same-time", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		for b.Loop() {
			if _, err := s.AddFact(ctx, key, fact, base, ""); err != nil {
				b.Fatalf("AddFact: %v", err)
			}
		}
	})
	b.Run("AddFactExisting/later-time", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		at := base
		for b.Loop() {
			at = at.Add(time.Millisecond)
			if _, err := s.AddFact(ctx, key, fact, at, ""); err != nil {
				b.Fatalf("AddFact: %v", err)
			}
		}
	})
	b.Run("Profile", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		for b.Loop() {
			if _, err := s.Profile(ctx, key); err != nil {
				b.Fatalf("Profile: %v", err)
			}
		}
	})
}
