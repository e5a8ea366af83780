package baseline

import (
	"time"

	"github.com/trailhound/trailhound/shared/detection"
)

// Dimension is one axis of an identity's behaviour.
type Dimension string

// The dimensions Trailhound baselines.
const (
	DimService   Dimension = "service"
	DimAPI       Dimension = "api"
	DimRegion    Dimension = "region"
	DimNetwork   Dimension = "network"
	DimUserAgent Dimension = "user-agent"
	DimAccount   Dimension = "account"
	DimHour      Dimension = "hour"
	DimRole      Dimension = "role"
	DimBurst     Dimension = "burst"
)

// Dimensions lists every dimension, in the order profiles print them.
var Dimensions = []Dimension{DimService, DimAPI, DimRegion, DimNetwork, DimUserAgent, DimAccount, DimRole, DimHour, DimBurst}

// Fact is one value of one dimension: region "eu-west-1", network
// "203.0.113.0/24".
type Fact struct {
	Dim   Dimension `json:"dim"`
	Value string    `json:"value"`
}

// Seen is when a fact was first and last seen for an identity.
type Seen struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Event is the id of the event that first recorded the fact.
	Event string `json:"event,omitempty"`
}

// Record merges a sighting in the event eventID at t into s: the last-seen
// time moves forward, the first (with its event) back when the event comes
// before it (detection.EarlierEvent: concurrent detectors record an
// identity's events in any order, and the earliest keeps the fact). It
// reports whether the event is now the fact's first (it moved First, or it
// is the event that found it: a redelivery) and whether s changed. Every
// store's AddFact and the cached profile merge with it.
func (s *Seen) Record(t time.Time, eventID string) (first, changed bool) {
	if t.After(s.Last) {
		s.Last, changed = t, true
	}
	if detection.EarlierEvent(t, eventID, s.First, s.Event) {
		s.First, s.Event = t, eventID
		return true, true
	}
	return eventID != "" && s.Event == eventID, changed
}

// Profile is what an origin identity has used, with first and last seen.
type Profile struct {
	// Key is the origin's key (identity.Origin.Key).
	Key string `json:"key"`
	// Created is the time of the first event recorded for the identity.
	Created time.Time `json:"created"`
	// Events counts the identity's events (flushed in batches, so it may lag).
	Events int64 `json:"events"`
	// Facts maps each dimension to its values.
	Facts map[Dimension]map[string]Seen `json:"facts"`
}

// Has reports whether the profile holds the fact.
func (p *Profile) Has(f Fact) bool {
	if p == nil {
		return false
	}
	_, ok := p.Facts[f.Dim][f.Value]
	return ok
}

// Get returns when the fact was seen.
func (p *Profile) Get(f Fact) (Seen, bool) {
	if p == nil {
		return Seen{}, false
	}
	s, ok := p.Facts[f.Dim][f.Value]
	return s, ok
}

// Clone returns a deep copy of the profile.
func (p *Profile) Clone() *Profile {
	if p == nil {
		return nil
	}
	c := *p
	c.Facts = make(map[Dimension]map[string]Seen, len(p.Facts))
	for d, vals := range p.Facts {
		m := make(map[string]Seen, len(vals))
		for v, s := range vals {
			m[v] = s
		}
		c.Facts[d] = m
	}
	return &c
}

// Add records the fact at time t in the profile (first seen kept, last seen
// advanced) and reports whether it was new.
func (p *Profile) Add(f Fact, t time.Time) bool {
	return p.Record(f, t, "")
}

// Record is Add in the event eventID, and reports whether that event is
// now the fact's first: the fact was new, or t comes before its first seen
// time (by time, then event id: concurrent detectors may record the events
// of an identity out of order, and the earliest event keeps the fact
// whatever the order), or the fact was first recorded by that same event
// (a redelivery of the event that discovered it).
func (p *Profile) Record(f Fact, t time.Time, eventID string) bool {
	_, first := p.record(f, t, eventID)
	return first
}

// record is Record, returning the fact's record too.
func (p *Profile) record(f Fact, t time.Time, eventID string) (Seen, bool) {
	if p.Facts == nil {
		p.Facts = make(map[Dimension]map[string]Seen)
	}
	if p.Created.IsZero() || t.Before(p.Created) {
		p.Created = t
	}
	vals := p.Facts[f.Dim]
	if vals == nil {
		vals = make(map[string]Seen)
		p.Facts[f.Dim] = vals
	}
	s, ok := vals[f.Value]
	if !ok {
		s = Seen{First: t, Last: t, Event: eventID}
		vals[f.Value] = s
		return s, true
	}
	first, _ := s.Record(t, eventID)
	vals[f.Value] = s
	return s, first
}
