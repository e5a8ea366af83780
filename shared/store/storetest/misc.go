package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/store"
)

// contextCases check that every method honours a cancelled context: it
// returns an error that wraps context.Canceled, even when the store could
// have answered without waiting.
func contextCases() []testCase {
	return []testCase{
		{"cancelled context", func(t *testing.T, f *fixture) {
			key := f.key("p")
			fact := baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}
			mustAddFact(t, f, key, fact, f.at(0), true)
			sig := f.signal("sig", f.alice(), f.at(0))
			mustPutSignal(t, f, sig, f.at(time.Hour), true)

			ctx, cancel := context.WithCancel(f.ctx)
			cancel()
			calls := []struct {
				name string
				call func() error
			}{
				{"PutKey", func() error { return f.s.PutKey(ctx, f.issuedKey("ASIA", f.at(time.Hour))) }},
				{"LookupKey", func() error { _, err := f.s.LookupKey(ctx, f.key("ASIA"), f.at(0)); return err }},
				{"Profile", func() error { _, err := f.s.Profile(ctx, key); return err }},
				{"AddFact", func() error { _, err := f.s.AddFact(ctx, key, fact, f.at(time.Hour), ""); return err }},
				{"AddEvents", func() error { return f.s.AddEvents(ctx, key, 1, f.at(0)) }},
				{"PutSignal", func() error { _, err := f.s.PutSignal(ctx, sig, f.at(time.Hour)); return err }},
				{"Signals", func() error { _, err := f.s.Signals(ctx, store.SignalQuery{Identity: f.alice().Key()}); return err }},
				{"Watermark", func() error { _, err := f.s.Watermark(ctx, f.key("w")); return err }},
				{"AdvanceWatermark", func() error { _, err := f.s.AdvanceWatermark(ctx, f.key("w"), f.at(0)); return err }},
			}
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					if err := c.call(); !errors.Is(err, context.Canceled) {
						t.Errorf("err = %v, want context.Canceled", err)
					}
				})
			}
			// Nothing was written.
			checkProfile(t, f, key, &baseline.Profile{
				Key:     key,
				Created: f.at(0),
				Facts:   map[baseline.Dimension]map[string]baseline.Seen{fact.Dim: {fact.Value: {First: f.at(0), Last: f.at(0)}}},
			})
			checkWatermark(t, f, f.key("w"), time.Time{})
		}},
	}
}

// invalidInputCases check that empty keys, ids and names are rejected
// rather than stored.
func invalidInputCases() []testCase {
	fact := baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}
	return []testCase{
		{"empty keys are rejected", func(t *testing.T, f *fixture) {
			noID := f.signal("sig", f.alice(), f.at(0))
			noID.ID = ""
			noKey := f.issuedKey("ASIA", f.at(time.Hour))
			noKey.AccessKeyID = ""
			calls := []struct {
				name string
				call func() error
			}{
				{"PutKey", func() error { return f.s.PutKey(f.ctx, noKey) }},
				{"AddFact", func() error { _, err := f.s.AddFact(f.ctx, "", fact, f.at(0), ""); return err }},
				{"AddEvents", func() error { return f.s.AddEvents(f.ctx, "", 1, f.at(0)) }},
				{"PutSignal", func() error { _, err := f.s.PutSignal(f.ctx, noID, f.at(time.Hour)); return err }},
				{"AdvanceWatermark", func() error { _, err := f.s.AdvanceWatermark(f.ctx, "", f.at(0)); return err }},
			}
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					if err := c.call(); err == nil {
						t.Error("err = nil, want an error")
					}
				})
			}
		}},
	}
}

// purger is implemented by stores that delete expired items on request
// rather than leaving them to a TTL sweeper.
type purger interface {
	// Purge deletes the keys and signals expired at now and reports how
	// many items it deleted.
	Purge(ctx context.Context, now time.Time) (int, error)
}

// purgeCases check Purge, for the stores that have it.
func purgeCases() []testCase {
	return []testCase{
		{"purge deletes expired keys and signals", func(t *testing.T, f *fixture) {
			p, ok := f.s.(purger)
			if !ok {
				t.Skip("store has no Purge method")
			}
			oldKey := f.issuedKey("ASIAOLD", f.at(time.Hour))
			liveKey := f.issuedKey("ASIALIVE", f.at(3*time.Hour))
			mustPutKey(t, f, oldKey)
			mustPutKey(t, f, liveKey)
			oldSig := f.signal("old", f.alice(), f.at(0))
			liveSig := f.signal("live", f.alice(), f.at(time.Minute))
			mustPutSignal(t, f, oldSig, f.at(2*time.Hour), true)
			mustPutSignal(t, f, liveSig, f.at(3*time.Hour), true)

			n, err := p.Purge(f.ctx, f.at(2*time.Hour))
			if err != nil {
				t.Fatalf("Purge: %v", err)
			}
			// A backend shared between subtests may purge others' items too.
			if n < 2 {
				t.Errorf("Purge deleted %d items, want at least 2", n)
			}

			// The expired items are gone, whatever time they are read at.
			if _, err := f.s.LookupKey(f.ctx, oldKey.AccessKeyID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey(expired) after Purge: err = %v, want ErrNotFound", err)
			}
			if _, err := f.s.LookupKey(f.ctx, liveKey.AccessKeyID, f.at(2*time.Hour)); err != nil {
				t.Errorf("LookupKey(live) after Purge: %v", err)
			}
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{liveSig})
			checkSignals(t, f, store.SignalQuery{Since: f.at(0), Until: f.at(time.Hour)}, []detection.Signal{liveSig})
			// A purged signal's id is free again.
			mustPutSignal(t, f, oldSig, f.at(4*time.Hour), true)
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{oldSig, liveSig})

			if _, err := p.Purge(f.ctx, f.at(2*time.Hour)); err != nil {
				t.Fatalf("second Purge: %v", err)
			}
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{oldSig, liveSig})
		}},
		{"purge keeps an item put again with a later expiry", func(t *testing.T, f *fixture) {
			p, ok := f.s.(purger)
			if !ok {
				t.Skip("store has no Purge method")
			}
			key := f.issuedKey("ASIAAGAIN", f.at(time.Hour))
			mustPutKey(t, f, key)
			key.Expires = f.at(3 * time.Hour)
			mustPutKey(t, f, key)
			later := f.signal("again", f.alice(), f.at(time.Minute))
			mustPutSignal(t, f, later, f.at(time.Hour), true)
			// The same id at an earlier time replaces it, with a later expiry.
			earlier := f.signal("again", f.alice(), f.at(0))
			mustPutSignal(t, f, earlier, f.at(3*time.Hour), true)

			if _, err := p.Purge(f.ctx, f.at(2*time.Hour)); err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if _, err := f.s.LookupKey(f.ctx, key.AccessKeyID, f.at(2*time.Hour)); err != nil {
				t.Errorf("LookupKey of the key put again: %v", err)
			}
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, []detection.Signal{earlier})

			if _, err := p.Purge(f.ctx, f.at(3*time.Hour)); err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if _, err := f.s.LookupKey(f.ctx, key.AccessKeyID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey after its expiry and a Purge: err = %v, want ErrNotFound", err)
			}
			checkSignals(t, f, store.SignalQuery{Identity: f.alice().Key()}, nil)
		}},
		{"purge honours a cancelled context", func(t *testing.T, f *fixture) {
			p, ok := f.s.(purger)
			if !ok {
				t.Skip("store has no Purge method")
			}
			ctx, cancel := context.WithCancel(f.ctx)
			cancel()
			if _, err := p.Purge(ctx, f.at(0)); !errors.Is(err, context.Canceled) {
				t.Errorf("Purge: err = %v, want context.Canceled", err)
			}
		}},
	}
}
