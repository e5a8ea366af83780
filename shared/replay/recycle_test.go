package replay_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/replay"
)

// events reads the stream to its end, copying each event, and recycles
// each one after copying it when recycle is set.
func events(t *testing.T, s *replay.Stream, recycle bool) []cloudtrail.Event {
	t.Helper()
	var out []cloudtrail.Event
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *ev)
		if recycle {
			s.Recycle(ev)
		}
	}
}

// TestRecycleChangesNothing: a stream whose events are handed back yields
// the same events, and the values kept from a recycled event (its strings,
// slices and pointers) are not overwritten by later ones.
func TestRecycleChangesNothing(t *testing.T) {
	dir := t.TempDir()
	var records []string
	for i := range 300 {
		// Out of order, and with duplicates, so events wait in the window
		// and duplicates are recycled by the stream itself.
		records = append(records, record(string(rune('a'+i%26))+string(rune('a'+i/26)), t0.Add(time.Duration((i*7)%300)*time.Second)))
	}
	write(t, filepath.Join(dir, "a.json"), export(records[:200]...))
	write(t, filepath.Join(dir, "b.json.gz"), gz(t, export(records[100:]...)))
	open := func() *replay.Stream {
		s, err := replay.Open([]string{dir}, replay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	plain := events(t, open(), false)
	recycled := events(t, open(), true)
	if len(plain) != 300 {
		t.Fatalf("%d events, want 300", len(plain))
	}
	if diff := cmp.Diff(plain, recycled); diff != "" {
		t.Errorf("recycled events differ (-plain +recycled):\n%s", diff)
	}
}
