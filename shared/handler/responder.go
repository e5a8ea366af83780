package handler

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/publish"
)

// Planner plans the response to an incident (package response).
type Planner interface {
	Plan(inc *incident.Incident) []incident.Action
}

// Responder handles "Trailhound Incident" events. Until the executor lands
// it plans in dry-run and logs the plan; it never changes anything.
type Responder struct {
	planner Planner
	log     *slog.Logger
}

// NewResponder returns the handler.
func NewResponder(p Planner, log *slog.Logger) *Responder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{planner: p, log: log}
}

// Handle plans the response to one incident event. An event that is not an
// incident record is logged and acknowledged: retrying cannot fix it.
func (r *Responder) Handle(ctx context.Context, env events.EventBridgeEvent) error {
	var d publish.Detail
	if env.DetailType != publish.DetailTypeIncident || json.Unmarshal(env.Detail, &d) != nil || d.ID == "" {
		r.log.LogAttrs(ctx, slog.LevelWarn, "not an incident event; acknowledged",
			slog.String("delivery_id", env.ID), slog.String("detail_type", env.DetailType))
		return nil
	}
	for _, a := range r.planner.Plan(&d.Incident) {
		r.log.LogAttrs(ctx, slog.LevelInfo, "response planned", slog.String("incident", d.ID), slog.String("action", a.Action),
			slog.String("target", a.Target), slog.String("mode", a.Mode), slog.String("reason", a.Reason))
	}
	return nil
}
