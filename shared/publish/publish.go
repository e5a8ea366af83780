// Package publish puts Trailhound's incidents on the Trailhound event bus,
// where the responder, the incident topic and anyone else subscribe: source
// "trailhound", detail-type "Trailhound Incident", the incident record as
// the detail. It sits at the end of the correlator.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailhound/trailhound/shared/incident"
)

// Event bus identifiers of Trailhound's events.
const (
	Source             = "trailhound"
	DetailTypeIncident = "Trailhound Incident"
)

// Limits of PutEvents: ten entries a call, 256 KB a call (and so an entry),
// counting detail, detail-type, source and resources.
const (
	maxEntries = 10
	maxBytes   = 256 * 1024
	// overhead is a generous allowance for an entry's fields besides detail.
	overhead = 512
	attempts = 3
)

// EventBridge is the one call the publisher makes.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher publishes incidents.
type Publisher struct {
	client EventBridge
	bus    string
	log    *slog.Logger
}

// New returns a publisher to the named bus.
func New(client EventBridge, bus string, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{client: client, bus: bus, log: log}
}

// Detail is an incident as published. When the record would not fit in one
// event, the signal list is cut to fit and SignalsOmitted says how many were
// left out (the incident in the store keeps them all).
type Detail struct {
	incident.Incident
	SignalsOmitted int `json:"signals_omitted,omitempty"`
}

// Encode returns the event detail of an incident, under the size limit.
func Encode(inc incident.Incident) ([]byte, error) {
	d := Detail{Incident: inc}
	for {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode incident %s: %w", inc.ID, err)
		}
		if len(b)+overhead <= maxBytes {
			return b, nil
		}
		n := len(d.Signals)
		if n == 0 {
			return nil, fmt.Errorf("incident %s does not fit in an event (%d bytes) even without its signals", inc.ID, len(b))
		}
		keep := n / 2
		d.SignalsOmitted += n - keep
		d.Signals = d.Signals[:keep]
	}
}

// Publish puts the incidents on the bus, batching entries by count and
// size, and retrying the entries EventBridge failed. It returns the
// incidents it published, and an error naming those it could not.
func (p *Publisher) Publish(ctx context.Context, incs []incident.Incident) ([]incident.Incident, error) {
	var batch []types.PutEventsRequestEntry
	var members []incident.Incident
	var published []incident.Incident
	size := 0
	var errs []error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ids := make([]string, len(members))
		for i, inc := range members {
			ids[i] = inc.ID
		}
		failed, err := p.put(ctx, batch, ids)
		if err != nil {
			errs = append(errs, err)
		}
		for _, inc := range members {
			if !failed[inc.ID] {
				published = append(published, inc)
			}
		}
		batch, members, size = nil, nil, 0
	}
	for _, inc := range incs {
		detail, err := Encode(inc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n := len(detail) + overhead
		if len(batch) == maxEntries || size+n > maxBytes {
			flush()
		}
		batch = append(batch, types.PutEventsRequestEntry{
			EventBusName: aws.String(p.bus),
			Source:       aws.String(Source),
			DetailType:   aws.String(DetailTypeIncident),
			Detail:       aws.String(string(detail)),
			Resources:    []string{},
		})
		members = append(members, inc)
		size += n
	}
	flush()
	return published, errors.Join(errs...)
}

// put sends one batch, resending failed entries; ids name the entries (in
// order) in logs and errors. It returns the ids it could not publish.
func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry, ids []string) (map[string]bool, error) {
	all := func() map[string]bool {
		failed := make(map[string]bool, len(ids))
		for _, id := range ids {
			failed[id] = true
		}
		return failed
	}
	for try := 1; ; try++ {
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return all(), fmt.Errorf("publish incidents %v: %w", ids, err)
		}
		if out.FailedEntryCount == 0 {
			return nil, nil
		}
		var retry []types.PutEventsRequestEntry
		var retryIDs []string
		for i, r := range out.Entries {
			if r.ErrorCode != nil && i < len(entries) {
				retry = append(retry, entries[i])
				retryIDs = append(retryIDs, ids[i])
				p.log.LogAttrs(ctx, slog.LevelWarn, "incident not published", slog.String("incident", ids[i]),
					slog.String("code", aws.ToString(r.ErrorCode)), slog.String("message", aws.ToString(r.ErrorMessage)), slog.Int("attempt", try))
			}
		}
		if len(retry) == 0 {
			// A failure count without failed entries: trust nothing.
			return all(), fmt.Errorf("publish incidents %v: %d entries failed, none named", ids, out.FailedEntryCount)
		}
		if try == attempts {
			failed := make(map[string]bool, len(retryIDs))
			for _, id := range retryIDs {
				failed[id] = true
			}
			return failed, fmt.Errorf("publish incidents %v: %d entries failed after %d attempts", retryIDs, out.FailedEntryCount, try)
		}
		entries, ids = retry, retryIDs
	}
}
