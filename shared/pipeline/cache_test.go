package pipeline_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/replay"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// TestRunCorrelatesAsFromTheStore replays real event folders twice: with
// Run, whose correlator keeps each identity's window in memory, and by
// hand on the same schedule with the correlator reading the store every
// minute, as the Lambda correlator does. The incidents must be identical.
func TestRunCorrelatesAsFromTheStore(t *testing.T) {
	paths := []string{filepath.Join("..", "..", "events", "demo")}
	datasets := os.Getenv("TRAILHOUND_DATASETS")
	if datasets == "" {
		datasets = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	if inv := filepath.Join(datasets, "invictus-aws-stratus-simulation", "raw"); dirExists(inv) {
		paths = append(paths, inv)
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			if !dirExists(path) {
				t.Skipf("%s not found", path)
			}
			ctx := context.Background()
			cached := newTestPipeline(t)
			res, err := cached.p.Run(ctx, openStream(t, path), nil)
			if err != nil {
				t.Fatal(err)
			}
			uncached := newTestPipeline(t)
			want := correlateFromStore(t, uncached, openStream(t, path))
			if len(want) == 0 {
				t.Fatal("the replay raised no incident: nothing compared")
			}
			if diff := gocmp.Diff(want, res.Incidents); diff != "" {
				t.Errorf("incidents differ (-from the store +cached):\n%s", diff)
			}
			t.Logf("%d events, %d incidents", res.Events, len(res.Incidents))
		})
	}
}

type testPipeline struct {
	p     *pipeline.Pipeline
	store *memstore.Store
}

func newTestPipeline(t *testing.T) testPipeline {
	s := memstore.New()
	p, err := pipeline.New(s, pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return testPipeline{p, s}
}

func openStream(t *testing.T, path string) *replay.Stream {
	s, err := replay.Open([]string{path}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// correlateFromStore observes the stream and correlates on Run's schedule
// through Correlate, which reads the store, and returns the incidents
// changed in Run's order.
func correlateFromStore(t *testing.T, tp testPipeline, s *replay.Stream) []incident.Incident {
	ctx := context.Background()
	changed := map[string]bool{}
	correlate := func(now time.Time) {
		incs, err := tp.p.Correlate(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range incs {
			changed[inc.ID] = true
		}
	}
	var next, last time.Time
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !next.IsZero() && !ev.EventTime.Before(next) {
			correlate(next)
		}
		if next.IsZero() || !ev.EventTime.Before(next) {
			next = ev.EventTime.Add(pipeline.CorrelateEvery)
		}
		last = ev.EventTime
		if _, err := tp.p.Observe(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	correlate(last.Add(time.Second))
	var out []incident.Incident
	for id := range changed {
		inc, err := tp.store.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b incident.Incident) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func dirExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
