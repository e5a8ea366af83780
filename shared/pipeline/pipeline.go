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
	// IssuerWait, with Clock, makes Observe wait for the event that issued
	// an event's temporary credentials (identity.IssuerPending): a detector
	// handling events as they happen gets an identity's events in any order
	// (concurrent invocations, EventBridge's delivery), and a key's first
	// use can come before the AssumeRole that issued it. Zero (replay,
	// which reads events in time order) never waits.
	IssuerWait time.Duration
	// Clock tells the time for IssuerWait (time.Now in the detector).
	Clock func() time.Time
}

// ErrIssuerPending is returned by Observe for an event whose credentials'
// issuing event may still be on its way: retrying the event later
// attributes it to its origin rather than to its session. Nothing of the
// event was recorded, not even the credentials it issued (the attributor
// holds it before it records them).
var ErrIssuerPending = identity.ErrHeld

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
	// repeats remembers, by slot id, the earliest event this detector
	// stored (or found stored) each folding signal from, to fold
	// repetitions (30 denied GetPasswordData calls are one signal, the
	// burst detections count them) without writing them.
	repeats map[string]repeat
	// signals is the buffer Observe gathers an event's signals in.
	signals []detection.Signal
	// repeatKinds memoises repeatKind (there are as many as rules).
	repeatKinds map[string]string
	// accounts are the accounts whose events this detector has handled:
	// the organisation's, whose trails Trailhound reads.
	accounts map[string]bool
}

// maxAccounts bounds Pipeline.accounts (an organisation has at most a few
// thousand accounts).
const maxAccounts = 20000

// watched reports whether Trailhound reads the account's trail.
func (p *Pipeline) watched(account string) bool { return p.accounts[account] }

// repeat is the event a folding signal was stored from.
type repeat struct {
	t     time.Time
	event string
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
	p := &Pipeline{
		store:       s,
		attr:        identity.NewAttributor(storeAdapter{s}),
		baseline:    b,
		catalogue:   cat,
		bursts:      bursts,
		instances:   detection.NewInstanceCredentials(0),
		correlator:  corr,
		opts:        opts,
		log:         log,
		repeats:     make(map[string]repeat),
		accounts:    make(map[string]bool),
		repeatKinds: make(map[string]string),
	}
	if opts.IssuerWait > 0 && opts.Clock != nil {
		p.attr.Hold = p.issuerPending
	}
	return p, nil
}

// issuerPending is the attributor's Hold: it notes the event's account as
// one whose trail is read, and reports whether the event waits for its
// issuer (identity.IssuerPending).
func (p *Pipeline) issuerPending(ev *cloudtrail.Event, at identity.Attribution) bool {
	if a := ev.Account(); a != "" && !p.accounts[a] && len(p.accounts) < maxAccounts {
		p.accounts[a] = true
	}
	return identity.IssuerPending(ev, at, p.opts.Clock(), p.opts.IssuerWait, p.watched)
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
	obs.Attribution = at
	if errors.Is(err, ErrIssuerPending) {
		return obs, fmt.Errorf("event %s: %w", ev.EventID, err)
	}
	if err != nil {
		return obs, fmt.Errorf("attribute event %s: %w", ev.EventID, err)
	}
	if at.ByService {
		// AWS services acting on their own are not attackers.
		return obs, nil
	}
	firstSeen, err := p.baseline.Observe(ctx, ev, at)
	if err != nil {
		return obs, fmt.Errorf("baseline event %s: %w", ev.EventID, err)
	}
	// The event's signals are gathered in a buffer the pipeline reuses,
	// emptied once they are stored.
	signals := append(p.signals[:0], firstSeen...)
	defer func() {
		clear(signals)
		p.signals = signals[:0]
	}()
	// Single-event signals fold their repeats into their slot (fold); the
	// slot is remembered once the signal is stored. They are
	// signals[rules:folding].
	key := at.Key()
	rules := len(signals)
	signals = p.catalogue.AppendUnnamed(signals, ev, at)
	folding := rules
	for i := rules; i < len(signals); i++ {
		folded, err := p.fold(ctx, &signals[i], key)
		if err != nil {
			return obs, fmt.Errorf("baseline repeat of event %s: %w", ev.EventID, err)
		}
		if !folded {
			signals[folding] = signals[i]
			folding++
		}
	}
	clear(signals[folding:])
	signals = signals[:folding]
	signals = append(signals, p.instances.Observe(ev, at)...)
	for _, s := range p.bursts.Observe(ev, at) {
		habitual, err := p.baseline.Habitual(ctx, key, s.Kind, ev.EventTime)
		if err != nil {
			return obs, fmt.Errorf("baseline burst of event %s: %w", ev.EventID, err)
		}
		if habitual {
			s.Severity = detection.Info
			s.Rationale += " (habitual for this identity)"
			s.Tags = nil
		}
		signals = append(signals, s)
	}
	for i := range signals {
		s := &signals[i]
		created, err := p.store.PutSignal(ctx, *s, s.Time.Add(p.opts.SignalTTL))
		if err != nil {
			return obs, fmt.Errorf("store signal %s of event %s: %w", s.Kind, ev.EventID, err)
		}
		if i >= rules && i < folding {
			p.stored(s)
		}
		if created {
			obs.Signals = append(obs.Signals, *s)
			p.log.LogAttrs(ctx, slog.LevelDebug, "signal",
				slog.String("kind", s.Kind), slog.String("event_id", s.EventID), slog.String("identity", s.Identity.ARN))
		}
	}
	return obs, nil
}

// fold gives a single-event signal its slot id: the identity, the rule,
// the resource and the fold window the signal falls in. The window is
// repeatWindow, or routineWindow for a low or info signal the identity
// raised on an earlier day too (a habit). Every repetition in the slot is
// the same signal, which the store keeps from the earliest event, so
// detectors that see an identity's events in any order and any share
// store the same signals. fold reports whether the signal is folded
// into one this detector already stored from an earlier event (nothing to
// write).
func (p *Pipeline) fold(ctx context.Context, s *detection.Signal, origin string) (bool, error) {
	window := repeatWindow
	if s.Severity <= detection.Low {
		habit, err := p.baseline.Habitual(ctx, origin, p.repeatKind(s.Kind), s.Time)
		if err != nil {
			return false, err
		}
		if habit {
			window = routineWindow
		}
	}
	// The slot: origin, kind and the first resource (its ARN or id: a
	// resource has one or the other, so naming it builds no string).
	if len(s.Resources) > 0 {
		s.ID = detection.WindowSlotID(s.Kind, s.Time, window, origin, s.Kind, s.Resources[0].ARN+s.Resources[0].ID)
	} else {
		s.ID = detection.WindowSlotID(s.Kind, s.Time, window, origin, s.Kind)
	}
	last, ok := p.repeats[s.ID]
	return ok && !detection.EarlierEvent(s.Time, s.EventID, last.t, last.event), nil
}

// repeatKind returns the name under which the baseline counts a kind's
// repeats ("repeat:" and the kind), built once per kind.
func (p *Pipeline) repeatKind(kind string) string {
	r, ok := p.repeatKinds[kind]
	if !ok {
		r = "repeat:" + kind
		p.repeatKinds[kind] = r
	}
	return r
}

// stored remembers a folding signal once it is safely stored (or found
// stored from an earlier event), so that a redelivered event whose signal
// failed to store raises it again.
func (p *Pipeline) stored(s *detection.Signal) {
	if len(p.repeats) > 100000 {
		for k, r := range p.repeats {
			if s.Time.Sub(r.t) > routineWindow {
				delete(p.repeats, k)
			}
		}
	}
	if last, ok := p.repeats[s.ID]; !ok || detection.EarlierEvent(s.Time, s.EventID, last.t, last.event) {
		p.repeats[s.ID] = repeat{s.Time, s.EventID}
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
