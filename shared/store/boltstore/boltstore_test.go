package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/boltstore"
	"github.com/trailhound/trailhound/shared/store/storetest"
)

// open opens a store in a new file of a temporary directory.
func open(tb testing.TB) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.Store { return open(b) })
}
