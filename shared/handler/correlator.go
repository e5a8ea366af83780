package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailhound/trailhound/shared/incident"
)

// Correlate is the part of the pipeline the correlator calls.
type Correlate interface {
	Correlate(ctx context.Context, now time.Time) ([]incident.Incident, error)
}

// Publisher puts incidents on the Trailhound bus and returns those it
// published.
type Publisher interface {
	Publish(ctx context.Context, incs []incident.Incident) ([]incident.Incident, error)
}

// Outbox is the store's record of which incident versions are on the bus
// (store.Store has it).
type Outbox interface {
	MarkPublished(ctx context.Context, id string, version int) error
	Unpublished(ctx context.Context, since time.Time) ([]incident.Incident, error)
}

// Correlator handles the correlator's scheduled invocations (and early
// wake-ups): correlate what is new, publish what changed.
type Correlator struct {
	pipeline  Correlate
	publisher Publisher
	outbox    Outbox
	openFor   time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// CorrelatorOption configures a Correlator.
type CorrelatorOption func(*Correlator)

// WithOutbox makes every run also publish the incidents, open within
// openFor, whose current version an earlier run failed to publish, and mark
// what it publishes: an incident stored but not published (the bus
// unavailable, the function timed out) goes out with the next run instead
// of waiting for its next change.
func WithOutbox(o Outbox, openFor time.Duration) CorrelatorOption {
	return func(c *Correlator) { c.outbox, c.openFor = o, openFor }
}

// NewCorrelator returns the handler; now is the clock (time.Now in Lambda).
func NewCorrelator(p Correlate, pub Publisher, now func() time.Time, log *slog.Logger, opts ...CorrelatorOption) *Correlator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Correlator{pipeline: p, publisher: pub, now: now, log: log}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Handle runs one correlation. Errors are returned so that the scheduler's
// retry and the next run pick the work up again: the watermark only
// advances after a successful correlation, incident updates are
// idempotent, and with an outbox what was stored but not published is
// published by the next run.
func (c *Correlator) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	now := c.now()
	log := requestLog(ctx, c.log).With(slog.String("trigger", env.DetailType))
	incs, err := c.pipeline.Correlate(ctx, now)
	if err != nil {
		return fmt.Errorf("correlate: %w", err)
	}
	for _, inc := range incs {
		log.LogAttrs(ctx, slog.LevelWarn, "incident", slog.String("incident", inc.ID), slog.String("policy", inc.Policy),
			slog.String("severity", inc.Severity.String()), slog.String("identity", inc.Identity.Origin), slog.Int("version", inc.Version))
	}
	pending := incs
	if c.outbox != nil {
		backlog, err := c.outbox.Unpublished(ctx, now.Add(-c.openFor))
		if err != nil {
			// The incidents just made still go out; the backlog waits.
			log.LogAttrs(ctx, slog.LevelWarn, "outbox not read", slog.String("error", err.Error()))
		}
		pending = latest(incs, backlog)
	}
	if len(pending) == 0 {
		return nil
	}
	published, err := c.publisher.Publish(ctx, pending)
	if c.outbox != nil {
		for _, inc := range published {
			if err := c.outbox.MarkPublished(ctx, inc.ID, inc.Version); err != nil {
				// Published but not marked: it goes out once more.
				log.LogAttrs(ctx, slog.LevelWarn, "published incident not marked", slog.String("incident", inc.ID), slog.String("error", err.Error()))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// latest returns the incidents of both lists, one per id, the highest
// version of each, in the order first met.
func latest(a, b []incident.Incident) []incident.Incident {
	at := make(map[string]int, len(a)+len(b))
	out := make([]incident.Incident, 0, len(a)+len(b))
	for _, list := range [][]incident.Incident{a, b} {
		for _, inc := range list {
			if i, ok := at[inc.ID]; ok {
				if inc.Version > out[i].Version {
					out[i] = inc
				}
				continue
			}
			at[inc.ID] = len(out)
			out = append(out, inc)
		}
	}
	return out
}
