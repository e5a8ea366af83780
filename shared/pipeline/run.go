package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/incident"
)

// EventSource yields events in event-time order and io.EOF at the end, as
// replay.Stream does.
type EventSource interface {
	Next() (*cloudtrail.Event, error)
}

// recycler is an EventSource that can reuse an event's memory once the
// run is done with it, as replay.Stream can.
type recycler interface {
	Recycle(*cloudtrail.Event)
}

// RunResult is what a run found.
type RunResult struct {
	Events     int
	Signals    int
	Identities int
	// Incidents are those opened or changed during the run, in their final
	// state, ordered by first seen.
	Incidents []incident.Incident
}

// purgeEvery is how many events Run processes between purges of expired
// items, for stores that need one (DynamoDB expires items itself).
const purgeEvery = 50000

// purger is a store that can drop expired items.
type purger interface {
	Purge(ctx context.Context, now time.Time) (int, error)
}

// purge drops expired signals and keys from stores that keep them: replay
// memory follows the signal TTL, not the input size.
func (p *Pipeline) purge(ctx context.Context, now time.Time) error {
	s, ok := p.store.(purger)
	if !ok {
		return nil
	}
	if _, err := s.Purge(ctx, now); err != nil {
		return fmt.Errorf("purge expired items: %w", err)
	}
	return nil
}

// CorrelateEvery is how often, in event time, Run correlates: as the
// scheduled correlator Lambda does in wall-clock time.
const CorrelateEvery = time.Minute

// Run observes every event of src and correlates on a schedule in event
// time: at the first scheduled minute after each batch of events (nothing
// arrived between that minute and the next event), and once after the last
// event. onEvent, when set, sees each event and what the pipeline made of
// it. This is the local CLI's and the tests' way to run the whole pipeline.
func (p *Pipeline) Run(ctx context.Context, src EventSource, onEvent func(*cloudtrail.Event, Observation) error) (RunResult, error) {
	var res RunResult
	// This run writes every signal the correlator reads: the correlator
	// keeps each identity's window in memory, fed with the new signals,
	// rather than re-reading it from the store every minute.
	p.correlator.Cache(true)
	defer p.correlator.Cache(false)
	identities := map[string]bool{}
	changed := map[string]bool{}
	correlate := func(now time.Time) error {
		incs, err := p.Correlate(ctx, now)
		for _, inc := range incs {
			changed[inc.ID] = true
		}
		return err
	}
	// Without onEvent nothing outside the pipeline sees the events, and the
	// pipeline keeps no *Event (only strings and slices of it), so each
	// event's memory can go back to the source for the next one.
	var recycle func(*cloudtrail.Event)
	if r, ok := src.(recycler); ok && onEvent == nil {
		recycle = r.Recycle
	}
	var next, lastTime time.Time
	var lastKey string
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ev, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		if !next.IsZero() && !ev.EventTime.Before(next) {
			if err := correlate(next); err != nil {
				return res, err
			}
		}
		if next.IsZero() || !ev.EventTime.Before(next) {
			next = ev.EventTime.Add(CorrelateEvery)
		}
		lastTime = ev.EventTime
		obs, err := p.Observe(ctx, ev)
		if err != nil {
			return res, err
		}
		res.Events++
		if res.Events%purgeEvery == 0 {
			if err := p.purge(ctx, ev.EventTime); err != nil {
				return res, err
			}
		}
		p.correlator.Stored(obs.Signals...)
		res.Signals += len(obs.Signals)
		if !obs.Attribution.ByService {
			// Consecutive events mostly share their origin, and the
			// attribution's key is worked out already: the map is
			// written once per change.
			if k := obs.Attribution.Key(); k != lastKey {
				lastKey = k
				identities[k] = true
			}
		}
		if onEvent != nil {
			if err := onEvent(ev, obs); err != nil {
				return res, err
			}
		}
		if recycle != nil {
			recycle(ev)
		}
	}
	if !lastTime.IsZero() {
		if err := correlate(lastTime.Add(time.Second)); err != nil {
			return res, err
		}
	}
	if err := p.Flush(ctx); err != nil {
		return res, err
	}
	res.Identities = len(identities)
	for id := range changed {
		inc, err := p.store.Incident(ctx, id)
		if err != nil {
			return res, fmt.Errorf("read incident %s: %w", id, err)
		}
		res.Incidents = append(res.Incidents, inc)
	}
	slices.SortFunc(res.Incidents, func(a, b incident.Incident) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.ID, b.ID))
	})
	return res, nil
}
