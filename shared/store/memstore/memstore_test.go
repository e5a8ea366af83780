package memstore_test

import (
	"testing"

	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/memstore"
	"github.com/trailhound/trailhound/shared/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) store.Store { return memstore.New() })
}
