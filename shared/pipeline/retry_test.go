package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// flaky is a store whose signal writes fail while down is set.
type flaky struct {
	*memstore.Store
	down bool
}

func (f *flaky) PutSignal(ctx context.Context, s detection.Signal, expires time.Time) (bool, error) {
	if f.down {
		return false, errors.Join(store.ErrTransient, errors.New("injected outage"))
	}
	return f.Store.PutSignal(ctx, s, expires)
}

// An event whose signal could not be stored returns an error (so
// EventBridge retries), and the retry stores the signal: nothing is lost.
func TestRedeliveryAfterAFailedWrite(t *testing.T) {
	ctx := context.Background()
	st := &flaky{Store: memstore.New()}
	p, err := pipeline.New(st, pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := func(id string, at time.Time) *cloudtrail.Event {
		c := call{at: at, who: alice, source: "cloudtrail.amazonaws.com", name: "StopLogging", region: "eu-west-1", ip: officeIP, ua: macCLI,
			params: map[string]any{"name": "org-trail"}}
		ev, err := cloudtrail.Decode(c.record())
		if err != nil {
			t.Fatal(err)
		}
		ev.EventID = id
		return &ev
	}
	first, second := stop("first", friday2am), stop("second", friday2am.Add(time.Minute))

	st.down = true
	if _, err := p.Observe(ctx, first); !errors.Is(err, store.ErrTransient) {
		t.Fatalf("Observe during the outage: %v, want a transient error", err)
	}
	st.down = false
	obs, err := p.Observe(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if !hasKind(obs.Signals, "cloudtrail-stopped") {
		t.Errorf("redelivery raised %v, want the cloudtrail-stopped signal the outage lost", obs.Signals)
	}
	// A second stop of the same trail within minutes folds into the first.
	obs, err = p.Observe(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if hasKind(obs.Signals, "cloudtrail-stopped") {
		t.Errorf("a repeat within the window raised another signal")
	}
	// And a plain redelivery of a stored event raises nothing new.
	if obs, err := p.Observe(ctx, first); err != nil || len(obs.Signals) != 0 {
		t.Errorf("redelivery of a stored event: %v, %v; want no new signal", obs.Signals, err)
	}
}

func hasKind(sigs []detection.Signal, kind string) bool {
	for _, s := range sigs {
		if s.Kind == kind {
			return true
		}
	}
	return false
}

// A first-seen fact recorded before the outage hit the signal write is
// still signalled on redelivery: the store knows which event recorded it.
func TestRedeliveryKeepsFirstSeenSignals(t *testing.T) {
	ctx := context.Background()
	st := &flaky{Store: memstore.New()}
	opts := pipeline.DefaultOptions()
	opts.Baseline.LearningEvents, opts.Baseline.LearningPeriod = 0, 0
	p, err := pipeline.New(st, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := call{at: friday2am, who: alice, source: "ec2.amazonaws.com", name: "DescribeInstances", region: "ap-south-1", ip: officeIP, ua: macCLI, readOnly: true}
	ev, err := cloudtrail.Decode(c.record())
	if err != nil {
		t.Fatal(err)
	}
	// The identity exists (created by an earlier event), so the next one's
	// facts are first-seen.
	warm := call{at: friday2am.Add(-time.Hour), who: alice, source: "s3.amazonaws.com", name: "ListBuckets", region: "eu-west-1", ip: officeIP, ua: macCLI, readOnly: true}
	wev, _ := cloudtrail.Decode(warm.record())
	if _, err := p.Observe(ctx, &wev); err != nil {
		t.Fatal(err)
	}
	st.down = true
	if _, err := p.Observe(ctx, &ev); err == nil {
		t.Fatal("Observe during the outage succeeded")
	}
	st.down = false
	// A fresh detector (another Lambda instance) gets the redelivery.
	p2, err := pipeline.New(st, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := p2.Observe(ctx, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if !hasKind(obs.Signals, "first-seen-region") {
		t.Errorf("redelivery raised %v, want the first-seen-region the outage lost", kindsOfSignals(obs.Signals))
	}
}

func kindsOfSignals(sigs []detection.Signal) []string {
	var out []string
	for _, s := range sigs {
		out = append(out, s.Kind)
	}
	return out
}
