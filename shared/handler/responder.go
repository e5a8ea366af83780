package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
)

// Planner plans the response to an incident (package response).
type Planner interface {
	Plan(inc *incident.Incident) []incident.Action
}

// Executor takes the decisions of a plan (response.Executor).
type Executor interface {
	Respond(ctx context.Context, inc *incident.Incident, plan []incident.Action, now time.Time) ([]response.Decision, error)
}

// ResponsePublisher reports decisions on the Trailhound bus
// (publish.Publisher).
type ResponsePublisher interface {
	PublishResponses(ctx context.Context, rs []publish.Response) error
}

// Responder handles "Trailhound Incident" events: it plans the response,
// has the executor decide each action (in the modes the configuration
// gives), and publishes every new decision as a "Trailhound Response"
// event.
type Responder struct {
	planner Planner
	exec    Executor
	events  ResponsePublisher
	now     func() time.Time
	log     *slog.Logger
}

// NewResponder returns the handler; now is the clock (time.Now in the
// Lambda).
func NewResponder(p Planner, x Executor, events ResponsePublisher, now func() time.Time, log *slog.Logger) *Responder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{planner: p, exec: x, events: events, now: now, log: log}
}

// Handle responds to one incident event. An event that is not an incident
// record is logged and acknowledged: retrying cannot fix it. Failed
// actions are recorded and published, not retried; an audit log or bus
// failure is returned, so that EventBridge delivers the incident again
// (decisions already recorded are not taken twice).
func (r *Responder) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	var d publish.Detail
	if env.DetailType != publish.DetailTypeIncident || json.Unmarshal(env.Detail, &d) != nil || d.ID == "" {
		r.log.LogAttrs(ctx, slog.LevelWarn, "not an incident event; acknowledged",
			slog.String("delivery_id", env.ID), slog.String("detail_type", env.DetailType))
		return nil
	}
	decisions, err := r.exec.Respond(ctx, &d.Incident, r.planner.Plan(&d.Incident), r.now())
	var fresh []publish.Response
	for _, dec := range decisions {
		if dec.New {
			fresh = append(fresh, publish.Response{AuditRecord: dec.Record, Severity: dec.Severity})
		}
	}
	if len(fresh) > 0 && r.events != nil {
		if perr := r.events.PublishResponses(ctx, fresh); perr != nil {
			r.log.LogAttrs(ctx, slog.LevelError, "response decisions not published", slog.String("incident", d.ID), slog.String("error", perr.Error()))
		}
	}
	if err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "response not recorded", slog.String("incident", d.ID), slog.String("error", err.Error()))
		return err
	}
	return nil
}
