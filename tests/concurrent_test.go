package tests

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// The concurrent-delivery proof (issue 5): the demo scenario delivered to
// 8 detector execution environments at once, every event twice, must give
// what one detector given each event once in order gives.
//
// Each environment is a detector handler with its own pipeline (its own
// caches and burst windows, as a Lambda execution environment has), all
// over one store. Events go out in event-time order to whichever
// environment is free; each event's second delivery right after the first,
// so the two usually run at the same time. An event the detector asks to
// retry (pipeline.ErrIssuerPending) is delivered again as Lambda retries an
// asynchronous invocation: after one minute, then two more, the detector's
// clock moving on accordingly. The correlator runs every minute of event
// time, once the minute's deliveries (retries included) are done.
//
// What must be equal: every signal decided through the store (first-seen
// facts, single-event detections and their folding, instance credentials)
// field by field, and every incident (policy, identity and chain,
// severity, first seen, ATT&CK ids, resources, planned actions, and its
// signals). Burst detections count an identity's events in each
// environment's memory, so under concurrency they are raised from a later
// event, or not at all, when no environment sees enough of the burst (see
// README, Limits): each is kept once per identity and window slot, and must
// be one the sequential run raised near it; the differences are reported.
//
// The learning period is set by time alone here: its event count is kept
// per environment and batched (an exact count would cost a write per
// event), so where an identity leaves learning can move by a few events.

const concurrentEnvironments = 8

// lambdaRetries are the delays after which Lambda runs a failed
// asynchronous invocation again (the detector's RetryAttempts is 2).
var lambdaRetries = []time.Duration{0, time.Minute, 3 * time.Minute}

func TestConcurrentDeliveriesEqualSequential(t *testing.T) {
	ds := deliveries(t, filepath.Join("..", "events", "demo"))
	seq := runEnvironments(t, memstore.New(), ds, 1, 1)
	con := runEnvironments(t, memstore.New(), ds, concurrentEnvironments, 2)
	compareRuns(t, seq, con)
}

// TestConcurrentDeliveriesDynamoDB is the same proof over the emulator's
// DynamoDB: the conditional writes that make first-seen facts, signals and
// incidents converge are DynamoDB's own.
func TestConcurrentDeliveriesDynamoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("long emulator test")
	}
	ctx := context.Background()
	cfg := awstest.Config(t)
	ds := deliveries(t, filepath.Join("..", "events", "demo"))
	seq := runEnvironments(t, memstore.New(), ds, 1, 1)
	ddb := dynamodb.NewFromConfig(cfg)
	table := awstest.Name("trailhound-concurrent")
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	con := runEnvironments(t, dynamostore.New(ddb, table), ds, concurrentEnvironments, 2)
	compareRuns(t, seq, con)
}

// environmentsRun is what a run left in its store.
type environmentsRun struct {
	signals   []detection.Signal
	incidents []incident.Incident
	retried   int
}

func concurrentOptions() pipeline.Options {
	opts := pipeline.DefaultOptions()
	opts.Baseline.LearningEvents = 0
	return opts
}

// runEnvironments delivers ds to n detector environments over st, each
// event copies times, and correlates every minute of event time.
func runEnvironments(t *testing.T, st store.Store, ds []delivery, n, copies int) environmentsRun {
	t.Helper()
	ctx := context.Background()
	type environment struct {
		detector lambda.Handler
		now      time.Time
		pipeline *pipeline.Pipeline
	}
	envs := make([]*environment, n)
	for i := range envs {
		e := &environment{}
		opts := concurrentOptions()
		opts.IssuerWait, opts.Clock = 2*time.Minute, func() time.Time { return e.now }
		p, err := pipeline.New(st, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.pipeline, e.detector = p, lambda.NewHandler(handler.NewDetector(p, nil).Handle)
		envs[i] = e
	}
	correlator, err := pipeline.New(st, concurrentOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var run environmentsRun

	// deliver hands the batch to the environments, retrying what asks to
	// be retried on Lambda's schedule.
	deliver := func(batch []delivery) {
		copies := copies
		for attempt, delay := range lambdaRetries {
			if len(batch) == 0 {
				return
			}
			work := make(chan delivery)
			var mu sync.Mutex
			var retry []delivery
			var wg sync.WaitGroup
			for _, e := range envs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for d := range work {
						e.now = d.ev.EventTime.Add(delay)
						_, err := e.detector.Invoke(ctx, d.payload)
						switch {
						case errors.Is(err, pipeline.ErrIssuerPending) && attempt < len(lambdaRetries)-1:
							mu.Lock()
							retry = append(retry, d)
							mu.Unlock()
						case err != nil:
							t.Errorf("detector on %s (attempt %d): %v", d.ev.EventID, attempt+1, err)
						}
					}
				}()
			}
			for _, d := range batch {
				for range copies {
					work <- d
				}
			}
			close(work)
			wg.Wait()
			run.retried += len(retry)
			// A retry is one delivery: the second copy was retried too if
			// it asked.
			batch, copies = retry, 1
		}
	}

	var batch []delivery
	var next, last time.Time
	for _, d := range ds {
		if !next.IsZero() && !d.ev.EventTime.Before(next) {
			deliver(batch)
			batch = nil
			if _, err := correlator.Correlate(ctx, next); err != nil {
				t.Fatal(err)
			}
		}
		if next.IsZero() || !d.ev.EventTime.Before(next) {
			next = d.ev.EventTime.Add(pipeline.CorrelateEvery)
		}
		last = d.ev.EventTime
		batch = append(batch, d)
	}
	deliver(batch)
	for _, e := range envs {
		if err := e.pipeline.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := correlator.Correlate(ctx, last.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if run.signals, err = st.Signals(ctx, store.SignalQuery{}); err != nil {
		t.Fatal(err)
	}
	if run.incidents, err = st.Incidents(ctx, store.IncidentQuery{}); err != nil {
		t.Fatal(err)
	}
	sortIncidents(run.incidents)
	t.Logf("%d environments, %d deliveries per event: %d signals, %d incidents, %d deliveries retried waiting for their issuer",
		n, copies, len(run.signals), len(run.incidents), run.retried)
	return run
}

// compareRuns checks the concurrent run against the sequential one.
func compareRuns(t *testing.T, seq, con environmentsRun) {
	t.Helper()
	bursts := map[string]time.Duration{}
	for _, b := range detection.Bursts() {
		bursts[b.ID] = b.Window
	}
	split := func(sigs []detection.Signal) (exact, burst map[string]detection.Signal) {
		exact, burst = map[string]detection.Signal{}, map[string]detection.Signal{}
		for _, s := range sigs {
			if _, ok := bursts[s.Kind]; ok {
				burst[s.ID] = s
			} else {
				exact[s.ID] = s
			}
		}
		return exact, burst
	}
	seqExact, seqBurst := split(seq.signals)
	conExact, conBurst := split(con.signals)
	if len(seqExact) == 0 || len(seq.incidents) == 0 {
		t.Fatal("the sequential run raised nothing")
	}
	if d := cmp.Diff(seqExact, conExact); d != "" {
		t.Errorf("signals decided through the store differ (-sequential +concurrent):\n%s", d)
	}

	// Bursts: at most one per identity, burst and window.
	var same, moved, missing, extra int
	for id, s := range seqBurst {
		switch c, ok := conBurst[id]; {
		case !ok:
			missing++
		case c.EventID == s.EventID:
			same++
		default:
			moved++
		}
	}
	for id := range conBurst {
		if _, ok := seqBurst[id]; !ok {
			extra++
		}
	}
	// Each environment's window holds a share of the identity's events, so
	// a burst it raises is one the sequential detector raised too, for the
	// same identity, at most a window or so away (out-of-order arrivals
	// can stretch an environment's window a little).
	seqByIdentity := map[string][]detection.Signal{}
	for _, s := range seqBurst {
		k := s.Identity.Key() + "\x00" + s.Kind
		seqByIdentity[k] = append(seqByIdentity[k], s)
	}
	near := 0
	for _, c := range conBurst {
		w := bursts[c.Kind]
		if !slices.ContainsFunc(seqByIdentity[c.Identity.Key()+"\x00"+c.Kind], func(s detection.Signal) bool {
			d := c.Time.Sub(s.Time)
			return d > -2*w && d < 2*w
		}) {
			t.Errorf("%s raised for %s at %v: the sequential run raised none near it", c.Kind, c.Identity.Key(), c.Time)
		}
		for _, o := range conBurst {
			if o.ID != c.ID && o.Kind == c.Kind && o.Identity.Key() == c.Identity.Key() && o.Time.After(c.Time) && o.Time.Sub(c.Time) < w {
				near++
			}
		}
	}
	t.Logf("burst signals: %d sequential; concurrently %d from the same event, %d from another event of the window, %d not raised, %d in another window, %d less than a window after another",
		len(seqBurst), same, moved, missing, extra, near)

	// Incidents: the same, but for what bursts add to them (their signals
	// compared by slot, when raised at all, and the ATT&CK ids only they
	// bring).
	core := func(incs []incident.Incident) []incident.Incident {
		out := make([]incident.Incident, 0, len(incs))
		for _, inc := range incs {
			c := incident.Incident{ID: inc.ID, Policy: inc.Policy, Title: inc.Title, Severity: inc.Severity,
				Identity: inc.Identity, FirstSeen: inc.FirstSeen, Resources: inc.Resources, Actions: inc.Actions}
			for _, r := range inc.Signals {
				if _, ok := bursts[r.Kind]; !ok {
					c.Signals = append(c.Signals, r)
				}
			}
			slices.SortFunc(c.Signals, func(a, b incident.SignalRef) int { return strings.Compare(a.ID, b.ID) })
			out = append(out, c)
		}
		return out
	}
	if d := cmp.Diff(core(seq.incidents), core(con.incidents)); d != "" {
		t.Errorf("incidents differ (-sequential +concurrent):\n%s", d)
	}
	for i := range min(len(seq.incidents), len(con.incidents)) {
		s, c := seq.incidents[i], con.incidents[i]
		for _, a := range c.Attack {
			if !slices.Contains(s.Attack, a) {
				t.Errorf("incident %s has ATT&CK id %s that the sequential run's has not", c.ID, a)
			}
		}
	}
}
