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

// Publisher puts incidents on the Trailhound bus.
type Publisher interface {
	Publish(ctx context.Context, incs []incident.Incident) error
}

// Correlator handles the correlator's scheduled invocations (and early
// wake-ups): correlate what is new, publish what changed.
type Correlator struct {
	pipeline  Correlate
	publisher Publisher
	now       func() time.Time
	log       *slog.Logger
}

// NewCorrelator returns the handler; now is the clock (time.Now in Lambda).
func NewCorrelator(p Correlate, pub Publisher, now func() time.Time, log *slog.Logger) *Correlator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Correlator{pipeline: p, publisher: pub, now: now, log: log}
}

// Handle runs one correlation. Errors are returned so that the scheduler's
// retry and the next run pick the work up again: the watermark only
// advances after a successful run, and incident updates are idempotent.
func (c *Correlator) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	now := c.now()
	log := requestLog(ctx, c.log).With(slog.String("trigger", env.DetailType))
	incs, err := c.pipeline.Correlate(ctx, now)
	if err != nil {
		return fmt.Errorf("correlate: %w", err)
	}
	if len(incs) == 0 {
		return nil
	}
	for _, inc := range incs {
		log.LogAttrs(ctx, slog.LevelWarn, "incident", slog.String("incident", inc.ID), slog.String("policy", inc.Policy),
			slog.String("severity", inc.Severity.String()), slog.String("identity", inc.Identity.Origin), slog.Int("version", inc.Version))
	}
	if err := c.publisher.Publish(ctx, incs); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}
