package replay_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/replay"
)

// events reads the stream to its end, copying each event, and recycles
// each one after copying it when recycle is set: the raw fields are then
// copied too, as Recycle requires. It also counts the distinct arrays the
// events' requestParameters were in.
func events(t *testing.T, s *replay.Stream, recycle bool) (out []cloudtrail.Event, arrays int) {
	t.Helper()
	seen := map[*byte]bool{}
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, len(seen)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.RequestParameters) > 0 {
			seen[unsafe.SliceData(ev.RequestParameters)] = true
		}
		out = append(out, *ev)
		if recycle {
			out[len(out)-1].RequestParameters = bytes.Clone(ev.RequestParameters)
			s.Recycle(ev)
		}
	}
}

// TestRecycleChangesNothing: a stream whose events are handed back yields
// the same events, the values kept from a recycled event (its strings,
// slices and pointers, the raw fields excepted) are not overwritten by
// later ones, and the raw fields' memory is reused.
func TestRecycleChangesNothing(t *testing.T) {
	dir := t.TempDir()
	var records []string
	for i := range 300 {
		// Out of order, and with duplicates, so events wait in the window
		// and duplicates are recycled by the stream itself.
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		rec := record(id, t0.Add(time.Duration((i*7)%300)*time.Second))
		records = append(records, strings.Replace(rec, `"awsRegion"`, `"requestParameters":{"n":"`+id+`"},"awsRegion"`, 1))
	}
	write(t, filepath.Join(dir, "a.json"), export(records[:200]...))
	write(t, filepath.Join(dir, "b.json.gz"), gz(t, export(records[100:]...)))
	open := func() *replay.Stream {
		// A window much shorter than the events' spread, so that events
		// are released while later ones are still to be read.
		s, err := replay.Open([]string{dir}, replay.Options{Window: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	plain, plainArrays := events(t, open(), false)
	recycled, recycledArrays := events(t, open(), true)
	// At least each record once; a duplicate met more than two windows
	// after its first is let through again.
	if len(plain) < 300 {
		t.Fatalf("%d events, want at least 300", len(plain))
	}
	if plainArrays != len(plain) {
		t.Errorf("without recycling, the events' raw fields are in %d arrays, want one each (%d)", plainArrays, len(plain))
	}
	if recycledArrays >= len(plain)/2 {
		t.Errorf("recycled events' raw fields are in %d arrays: their memory was not reused", recycledArrays)
	}
	if diff := cmp.Diff(plain, recycled); diff != "" {
		t.Errorf("recycled events differ (-plain +recycled):\n%s", diff)
	}
}
