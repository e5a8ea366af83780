package dynamostore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// TestSignalTimeRanges covers what the conformance suite leaves to a
// shared backend: time queries without an identity whose range is open or
// longer than a day, served from the hours listed in SIGHOURS. memstore
// is the oracle. The test has its own table, since open ranges see every
// signal in it.
func TestSignalTimeRanges(t *testing.T) {
	client := emulatorClient(t)
	table := newTable(t, client)
	ctx := t.Context()
	want := memstore.New()
	base := time.Date(2100, time.May, 1, 0, 0, 0, 0, time.UTC)
	origin := identity.Origin{ARN: "arn:aws:iam::111122223333:user/ranges", Type: identity.TypeIAMUser}

	// Signals over three days, every 7 hours and a bit, some tagged, some
	// expiring early; written by two Stores (two Lambda instances), so
	// that hours are marked by both.
	writers := []*dynamostore.Store{dynamostore.New(client, table), dynamostore.New(client, table)}
	for i := range 12 {
		at := base.Add(time.Duration(i) * (7*time.Hour + 13*time.Minute))
		sig := detection.Signal{ID: fmt.Sprintf("sig-%02d", i), Kind: "k", Identity: origin, Time: at}
		if i%3 == 0 {
			sig.Tags = []string{"exfiltration"}
		}
		expires := base.Add(30 * 24 * time.Hour)
		if i%4 == 1 {
			expires = base.Add(24 * time.Hour)
		}
		if _, err := writers[i%2].PutSignal(ctx, sig, expires); err != nil {
			t.Fatalf("PutSignal: %v", err)
		}
		if _, err := want.PutSignal(ctx, sig, expires); err != nil {
			t.Fatalf("memstore PutSignal: %v", err)
		}
	}

	reader := dynamostore.New(client, table)
	mid := base.Add(40 * time.Hour)
	queries := []store.SignalQuery{
		{},
		{Tagged: true},
		{Since: mid},
		{Until: mid},
		{Since: base.Add(5 * time.Hour), Until: base.Add(60 * time.Hour)},
		{Since: base.Add(5 * time.Hour), Until: base.Add(29 * time.Hour)},
		{Since: base.Add(-time.Hour), Until: base.Add(200 * time.Hour), Tagged: true},
		{Now: base.Add(48 * time.Hour)},
		{Until: mid, Now: base.Add(48 * time.Hour), Limit: 2},
		{Since: base.Add(time.Hour), Limit: 3},
		{Since: base.Add(time.Hour), Until: base.Add(time.Hour)},
		{Since: base.Add(2 * time.Hour), Until: base.Add(time.Hour)},
		{Since: base.Add(1000 * time.Hour)},
		{Until: base},
	}
	for _, q := range queries {
		wantSigs, err := want.Signals(ctx, q)
		if err != nil {
			t.Fatalf("memstore Signals: %v", err)
		}
		got, err := reader.Signals(ctx, q)
		if err != nil {
			t.Fatalf("Signals(%+v): %v", q, err)
		}
		if d := cmp.Diff(wantSigs, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("Signals(%+v) mismatch (-want +got):\n%s", q, d)
		}
	}
}
