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
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
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
	waker    Waker
}

// DetectorOption configures a Detector.
type DetectorOption func(*Detector)

// WakeOnCritical makes the detector wake the correlator when an event
// raises a critical signal.
func WakeOnCritical(w Waker) DetectorOption { return func(d *Detector) { d.waker = w } }

// NewDetector returns a detector over the pipeline.
func NewDetector(p Observer, log *slog.Logger, opts ...DetectorOption) *Detector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Detector{pipeline: p, log: log}
	for _, o := range opts {
		o(d)
	}
	return d
}

// requestLog returns log with the Lambda request id, when ctx has one.
func requestLog(ctx context.Context, log *slog.Logger) *slog.Logger {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return log.With(slog.String("request_id", lc.AwsRequestID))
	}
	return log
}

// logger returns the logger of one delivery: the request, delivery and
// detail-type on every line. It is built only where something is logged:
// most events log nothing, and slog's With formats its attributes at once.
func (d *Detector) logger(ctx context.Context, env *events.EventBridgeEvent) *slog.Logger {
	return requestLog(ctx, d.log).With(slog.String("delivery_id", env.ID), slog.String("detail_type", env.DetailType))
}

// Handle processes one delivery. A malformed event is logged with its id
// and the reason, and acknowledged (retrying cannot fix it); a failure to
// persist is returned, so that EventBridge retries and then dead-letters.
func (d *Detector) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	ev, err := cloudtrail.Decode(env.Detail)
	if err != nil {
		if errors.Is(err, cloudtrail.ErrMalformed) {
			d.logger(ctx, &env).LogAttrs(ctx, slog.LevelWarn, "malformed event acknowledged", slog.String("error", err.Error()))
			return nil
		}
		return fmt.Errorf("decode delivery %s: %w", env.ID, err)
	}
	obs, err := d.pipeline.Observe(ctx, &ev)
	if errors.Is(err, pipeline.ErrIssuerPending) {
		// Not a failure: Lambda retries the event in a minute, when the
		// AssumeRole that issued its credentials will have been recorded.
		d.logger(ctx, &env).LogAttrs(ctx, slog.LevelInfo, "event waits for the event that issued its credentials; Lambda will retry",
			slog.String("event_id", ev.EventID), slog.String("access_key", identity.Redact(ev.UserIdentity.AccessKeyID)))
		return err
	}
	if err != nil {
		d.logger(ctx, &env).LogAttrs(ctx, slog.LevelError, "event not persisted; EventBridge will retry",
			slog.String("event_id", ev.EventID), slog.String("error", err.Error()))
		return err
	}
	if len(obs.Signals) == 0 {
		return nil
	}
	log := d.logger(ctx, &env)
	woken := false
	for _, s := range obs.Signals {
		log.LogAttrs(ctx, slog.LevelInfo, "signal",
			slog.String("event_id", ev.EventID), slog.String("kind", s.Kind), slog.String("severity", s.Severity.String()),
			slog.String("identity", s.Identity.ARN))
		if d.waker != nil && !woken && s.Severity >= detection.Critical {
			woken = true
			// The schedule correlates it anyway: a failed wake-up is logged, not retried.
			if err := d.waker.Wake(ctx, s); err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "correlator not woken; the schedule will pick the signal up",
					slog.String("event_id", ev.EventID), slog.String("identity", s.Identity.ARN), slog.String("error", err.Error()))
			}
		}
	}
	return nil
}
