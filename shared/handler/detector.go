// Package handler adapts AWS Lambda invocations to the pipeline: the
// detector receives one CloudTrail event per EventBridge delivery. Adapters
// live here, not in the functions' main packages, so that tests drive them
// through the real aws-lambda-go decoder.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/pipeline"
)

// Observer is the part of the pipeline the detector calls.
type Observer interface {
	Observe(ctx context.Context, ev *cloudtrail.Event) (pipeline.Observation, error)
}

// Detector handles EventBridge deliveries of CloudTrail events.
type Detector struct {
	pipeline Observer
	log      *slog.Logger
}

// NewDetector returns a detector over the pipeline.
func NewDetector(p Observer, log *slog.Logger) *Detector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Detector{pipeline: p, log: log}
}

// Handle processes one delivery. A malformed event is logged with its id
// and the reason, and acknowledged (retrying cannot fix it); a failure to
// persist is returned, so that EventBridge retries and then dead-letters.
func (d *Detector) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	log := d.log.With(slog.String("delivery_id", env.ID), slog.String("detail_type", env.DetailType))
	ev, err := cloudtrail.Decode(env.Detail)
	if err != nil {
		if errors.Is(err, cloudtrail.ErrMalformed) {
			log.LogAttrs(ctx, slog.LevelWarn, "malformed event acknowledged", slog.String("error", err.Error()))
			return nil
		}
		return fmt.Errorf("decode delivery %s: %w", env.ID, err)
	}
	obs, err := d.pipeline.Observe(ctx, &ev)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "event not persisted; EventBridge will retry",
			slog.String("event_id", ev.EventID), slog.String("error", err.Error()))
		return err
	}
	for _, s := range obs.Signals {
		log.LogAttrs(ctx, slog.LevelInfo, "signal",
			slog.String("event_id", ev.EventID), slog.String("kind", s.Kind), slog.String("severity", s.Severity.String()),
			slog.String("identity", s.Identity.ARN))
	}
	return nil
}
