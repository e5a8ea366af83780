// Package pipeline is Trailhound's one core. Observe takes one CloudTrail
// event through attribution, the identity's baseline, the single-event
// detections and the burst detections, and stores the resulting signals;
// Correlate stitches recent signals into incidents. The detector and
// correlator Lambdas, the local CLI and the tests all run this same code over
// a store.Store.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store"
)

// Options configure the pipeline. The catalogues are values, so a test can
// hand the pipeline a one-rule catalogue.
type Options struct {
	Baseline baseline.Options
	// SignalTTL is how long signals are kept.
	SignalTTL time.Duration
	// Rules, Bursts and Policies are the detections and composite policies.
	Rules      []detection.Rule
	Bursts     []detection.Burst
	Policies   []incident.Policy
	Predicates map[string]detection.Predicate
	// Correlator configures the correlator.
	Correlator incident.Options
}

// DefaultOptions returns the defaults and Trailhound's catalogues.
func DefaultOptions() Options {
	return Options{
		Baseline:   baseline.DefaultOptions(),
		SignalTTL:  14 * 24 * time.Hour,
		Rules:      detection.Rules(),
		Bursts:     detection.Bursts(),
		Policies:   incident.Policies(),
		Predicates: detection.Predicates(),
		Correlator: incident.DefaultOptions(),
	}
}

// Pipeline observes events and correlates signals.
type Pipeline struct {
	store      store.Store
	attr       *identity.Attributor
	baseline   *baseline.Baseline
	catalogue  *detection.Catalogue
	bursts     *detection.BurstDetector
	instances  *detection.InstanceCredentials
	correlator *incident.Correlator
	opts       Options
	log        *slog.Logger
	// repeats remembers when each identity last raised each rule on each
	// resource, to fold repetitions (30 denied GetPasswordData calls are
	// one signal, the burst detections count them).
	repeats map[string]repeat
}

// repeat is the last stored signal of a rule, identity and resource.
type repeat struct {
	t  time.Time
	id string
}

// repeatWindow is how long a repeated single-event signal is folded into
// the first.
const repeatWindow = 10 * time.Minute

// routineWindow is how long a habitual low or info signal is folded: a
// routine call that a low rule notes (an application reading its decrypted
// parameters every few minutes, day after day) is one signal a day, not one
// every ten minutes, once the identity has done it on an earlier day too.
const routineWindow = 24 * time.Hour

// New returns a pipeline over the store, validating the options and
// catalogues.
func New(s store.Store, opts Options, log *slog.Logger) (*Pipeline, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.SignalTTL <= 0 {
		return nil, errors.New("pipeline options: signal TTL must be positive")
	}
	b, err := baseline.New(storeAdapter{s}, opts.Baseline)
	if err != nil {
		return nil, err
	}
	cat, err := detection.NewCatalogue(opts.Rules, opts.Predicates)
	if err != nil {
		return nil, err
	}
	bursts, err := detection.NewBurstDetector(opts.Bursts, opts.Predicates, 0)
	if err != nil {
		return nil, err
	}
	corr, err := incident.NewCorrelator(storeAdapter{s}, opts.Policies, response.Planner{}, opts.Correlator, log)
	if err != nil {
		return nil, err
	}
	return &Pipeline{
		store:      s,
		attr:       identity.NewAttributor(storeAdapter{s}),
		baseline:   b,
		catalogue:  cat,
		bursts:     bursts,
		instances:  detection.NewInstanceCredentials(0),
		correlator: corr,
		opts:       opts,
		log:        log,
		repeats:    make(map[string]repeat),
	}, nil
}

// Observation is what the pipeline made of one event.
type Observation struct {
	Attribution identity.Attribution
	// Signals are the signals this event raised that were not already
	// stored (a redelivered event raises none).
	Signals []detection.Signal
}

// Observe runs one event through the pipeline. Errors come from the store
// and are worth retrying: the event's effects are idempotent.
func (p *Pipeline) Observe(ctx context.Context, ev *cloudtrail.Event) (Observation, error) {
	var obs Observation
	at, err := p.attr.Attribute(ctx, ev)
	if err != nil {
		return obs, fmt.Errorf("attribute event %s: %w", ev.EventID, err)
	}
	obs.Attribution = at
	if at.ByService {
		// AWS services acting on their own are not attackers.
		return obs, nil
	}
	firstSeen, err := p.baseline.Observe(ctx, ev, at)
	if err != nil {
		return obs, fmt.Errorf("baseline event %s: %w", ev.EventID, err)
	}
	// Single-event signals carry the key that folds their repeats; it is
	// remembered once the signal is stored.
	signals := make([]pending, 0, len(firstSeen))
	for _, s := range firstSeen {
		signals = append(signals, pending{Signal: s})
	}
	for _, s := range p.catalogue.Evaluate(ev, at) {
		k := repeatKey(s)
		if folded, err := p.folded(ctx, k, s); err != nil {
			return obs, fmt.Errorf("baseline repeat of event %s: %w", ev.EventID, err)
		} else if !folded {
			signals = append(signals, pending{s, k})
		}
	}
	for _, s := range p.instances.Observe(ev, at) {
		signals = append(signals, pending{Signal: s})
	}
	for _, s := range p.bursts.Observe(ev, at) {
		habitual, err := p.baseline.Habitual(ctx, at.Origin.Key(), s.Kind, ev.EventTime)
		if err != nil {
			return obs, fmt.Errorf("baseline burst of event %s: %w", ev.EventID, err)
		}
		if habitual {
			s.Severity = detection.Info
			s.Rationale += " (habitual for this identity)"
			s.Tags = nil
		}
		signals = append(signals, pending{Signal: s})
	}
	for _, s := range signals {
		created, err := p.store.PutSignal(ctx, s.Signal, s.Time.Add(p.opts.SignalTTL))
		if err != nil {
			return obs, fmt.Errorf("store signal %s of event %s: %w", s.Kind, ev.EventID, err)
		}
		if s.repeatKey != "" {
			p.stored(s.repeatKey, s.Signal)
		}
		if created {
			obs.Signals = append(obs.Signals, s.Signal)
			p.log.LogAttrs(ctx, slog.LevelDebug, "signal",
				slog.String("kind", s.Kind), slog.String("event_id", s.EventID), slog.String("identity", s.Identity.ARN))
		}
	}
	return obs, nil
}

// pending is a signal on its way to the store, with the key that folds its
// repeats ("" for signals that are not folded).
type pending struct {
	detection.Signal
	repeatKey string
}

// repeatKey names a rule raised by an identity on a resource.
func repeatKey(s detection.Signal) string {
	key := s.Identity.Key() + "\x00" + s.Kind
	if len(s.Resources) > 0 {
		key += "\x00" + s.Resources[0].ARN + s.Resources[0].ID
	}
	return key
}

// folded reports whether s repeats the identity's last stored signal of
// the same rule on the same resource (key): within repeatWindow always;
// within routineWindow when s is low or info and the identity's baseline
// has the repetition as a habit (it repeated the rule on an earlier day).
func (p *Pipeline) folded(ctx context.Context, key string, s detection.Signal) (bool, error) {
	last, ok := p.repeats[key]
	if !ok || last.id == s.ID || s.Time.Before(last.t) {
		return false, nil
	}
	switch gap := s.Time.Sub(last.t); {
	case gap < repeatWindow:
		return true, nil
	case gap < routineWindow && s.Severity <= detection.Low:
		return p.baseline.Habitual(ctx, s.Identity.Key(), "repeat:"+s.Kind, s.Time)
	}
	return false, nil
}

// stored remembers a signal once it is safely stored, so that a
// redelivered event whose signal failed to store raises it again.
func (p *Pipeline) stored(key string, s detection.Signal) {
	if len(p.repeats) > 100000 {
		for k, r := range p.repeats {
			if s.Time.Sub(r.t) > routineWindow {
				delete(p.repeats, k)
			}
		}
	}
	if last, ok := p.repeats[key]; !ok || !s.Time.Before(last.t) {
		p.repeats[key] = repeat{s.Time, s.ID}
	}
}

// Correlate runs the correlator up to now and returns the incidents it
// opened or changed.
func (p *Pipeline) Correlate(ctx context.Context, now time.Time) ([]incident.Incident, error) {
	return p.correlator.Run(ctx, now)
}

// Flush writes what the pipeline batches (event counts).
func (p *Pipeline) Flush(ctx context.Context) error {
	return p.baseline.Flush(ctx)
}

// Profile returns an identity's baseline profile (nil when it has none).
func (p *Pipeline) Profile(ctx context.Context, key string) (*baseline.Profile, error) {
	return p.baseline.Profile(ctx, key)
}

// storeAdapter lets the store serve as the identity ledger, the baseline
// store and the correlator's store, mapping ErrNotFound to "absent" and
// ErrConflict to the correlator's.
type storeAdapter struct{ s store.Store }

func (a storeAdapter) Remember(ctx context.Context, k identity.IssuedKey) error {
	return a.s.PutKey(ctx, k)
}

func (a storeAdapter) Lookup(ctx context.Context, key string, at time.Time) (identity.IssuedKey, bool, error) {
	k, err := a.s.LookupKey(ctx, key, at)
	if errors.Is(err, store.ErrNotFound) {
		return identity.IssuedKey{}, false, nil
	}
	if err != nil {
		return identity.IssuedKey{}, false, err
	}
	return k, true, nil
}

func (a storeAdapter) LoadProfile(ctx context.Context, key string) (*baseline.Profile, error) {
	p, err := a.s.Profile(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

func (a storeAdapter) AddFact(ctx context.Context, key string, f baseline.Fact, at time.Time, eventID string) (bool, error) {
	return a.s.AddFact(ctx, key, f, at, eventID)
}

func (a storeAdapter) AddEvents(ctx context.Context, key string, n int64, at time.Time) error {
	return a.s.AddEvents(ctx, key, n, at)
}

func (a storeAdapter) SignalsSince(ctx context.Context, since, until time.Time) ([]detection.Signal, error) {
	return a.s.Signals(ctx, store.SignalQuery{Since: since, Until: until, Tagged: true})
}

func (a storeAdapter) SignalsOf(ctx context.Context, key string, since, until time.Time) ([]detection.Signal, error) {
	return a.s.Signals(ctx, store.SignalQuery{Identity: key, Since: since, Until: until, Tagged: true})
}

func (a storeAdapter) OpenIncidents(ctx context.Context, key string, since time.Time) ([]incident.Incident, error) {
	return a.s.Incidents(ctx, store.IncidentQuery{Identity: key, LastSeenSince: since})
}

func (a storeAdapter) PutIncident(ctx context.Context, inc incident.Incident) error {
	err := a.s.PutIncident(ctx, inc)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %w", incident.ErrConflict, err)
	}
	return err
}

func (a storeAdapter) Watermark(ctx context.Context, name string) (time.Time, error) {
	return a.s.Watermark(ctx, name)
}

func (a storeAdapter) AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error) {
	return a.s.AdvanceWatermark(ctx, name, t)
}
