// Package store holds the contract every Trailhound store satisfies: the
// issued-key ledger, behavioural profiles with atomic first-seen, signals
// (idempotent by id, with expiry) and watermarks. The pipeline runs over it
// unchanged whether the store is in memory (memstore), a file on a
// responder's laptop (boltstore) or DynamoDB in the security account.
//
// Package storetest is the contract written down as a conformance suite:
// every store runs storetest.Run.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
)

// ErrNotFound is returned when a requested item does not exist (or has
// expired).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a conditional write finds the item changed
// since it was read (an incident updated by another correlator).
var ErrConflict = errors.New("conflict: item changed since it was read")

// ErrTransient marks failures worth retrying (throttling, timeouts, a store
// that is briefly unavailable). Callers test it with errors.Is.
var ErrTransient = errors.New("transient store failure")

// Store is the persistence contract of the pipeline. Every method is safe for
// concurrent use by several goroutines (and, for shared stores, several
// processes).
type Store interface {
	// PutKey remembers temporary credentials and the origin they belong to
	// until k.Expires. Putting the same key again replaces it, except that
	// a record whose origin is resolved is never replaced by one whose
	// origin is not (that put changes nothing and succeeds): a
	// cross-account AssumeRole is delivered to both accounts, the target
	// account's copy seeing the caller only as another account, and
	// concurrent detectors may record the copies in either order.
	PutKey(ctx context.Context, k identity.IssuedKey) error
	// LookupKey returns the key's record, or ErrNotFound when it is unknown
	// or expired at now.
	LookupKey(ctx context.Context, accessKeyID string, now time.Time) (identity.IssuedKey, error)

	// Profile returns a copy of the identity's profile, or ErrNotFound.
	Profile(ctx context.Context, key string) (*baseline.Profile, error)
	// AddFact records that the identity used the fact at time at, in the
	// event eventID, creating the profile if needed (its Created set to at).
	// It reports whether that event is now the fact's first: the fact was
	// new, or the event comes before the fact's first event (by time, then
	// event id: detection.EarlierEvent), which it then replaces. Detectors running
	// concurrently record an identity's events out of order; the fact's
	// first event, and so its first-seen signal, is the earliest whatever
	// the order. It is atomic: when several callers add the same new fact
	// concurrently, exactly one of them gets true unless a later caller's
	// event is earlier. It also reports true when the fact was first
	// recorded by the same eventID: a redelivered event gets its
	// first-seen signal again if storing it failed the first time. For a
	// fact already present it advances its last-seen time.
	AddFact(ctx context.Context, key string, f baseline.Fact, at time.Time, eventID string) (added bool, err error)
	// AddEvents adds n to the identity's event count, creating the profile
	// if needed (its Created set to at).
	AddEvents(ctx context.Context, key string, n int64, at time.Time) error

	// PutSignal stores a signal until expires. It is idempotent by signal
	// id: it reports created=false, and changes nothing, when a signal with
	// the id is stored that comes before s or is s (detection.Signal.Before).
	// A signal that comes before the stored one replaces it and reports
	// true: signals that stand for a slot (detection.SlotID) keep the
	// earliest of its events, in whatever order detectors store them.
	PutSignal(ctx context.Context, s detection.Signal, expires time.Time) (created bool, err error)
	// Signals returns the signals matching q, ordered by time then id.
	Signals(ctx context.Context, q SignalQuery) ([]detection.Signal, error)

	// Watermark returns the named watermark, the zero time when unset.
	Watermark(ctx context.Context, name string) (time.Time, error)
	// AdvanceWatermark moves the named watermark forward to t. It reports
	// false, and changes nothing, when the watermark is already at or past t.
	AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error)

	// PutIncident creates or updates an incident, keyed by its id. An
	// incident whose Version is 1 must not exist yet; an update of Version n
	// succeeds only over the stored Version n-1. Otherwise it returns
	// ErrConflict and changes nothing.
	PutIncident(ctx context.Context, inc incident.Incident) error
	// Incident returns the incident with the id, or ErrNotFound.
	Incident(ctx context.Context, id string) (incident.Incident, error)
	// Incidents returns the incidents matching q, ordered by first seen
	// then id.
	Incidents(ctx context.Context, q IncidentQuery) ([]incident.Incident, error)

	// MarkPublished records that the version of the incident is on the
	// Trailhound bus. Marking a version at or below the one marked already
	// changes nothing; an unknown incident is ErrNotFound.
	MarkPublished(ctx context.Context, id string, version int) error
	// Unpublished returns the incidents last seen at or after since whose
	// stored version is not marked published (the correlator's outbox),
	// ordered by first seen then id.
	Unpublished(ctx context.Context, since time.Time) ([]incident.Incident, error)

	// Close releases the store's resources.
	Close() error
}

// IncidentQuery selects incidents.
type IncidentQuery struct {
	// Identity, when set, keeps the incidents whose Identity.Key equals it.
	Identity string
	// Policy, when set, keeps the incidents of that policy.
	Policy string
	// LastSeenSince, when set, keeps incidents last seen at or after it
	// (the open ones, for a correlator).
	LastSeenSince time.Time
	// Limit caps the number returned; 0 means no cap.
	Limit int
}

// Match reports whether inc satisfies q.
func (q IncidentQuery) Match(inc incident.Incident) bool {
	if q.Identity != "" && inc.Identity.Key != q.Identity {
		return false
	}
	if q.Policy != "" && inc.Policy != q.Policy {
		return false
	}
	if !q.LastSeenSince.IsZero() && inc.LastSeen.Before(q.LastSeenSince) {
		return false
	}
	return true
}

// SignalQuery selects signals.
type SignalQuery struct {
	// Identity, when set, keeps the signals whose Identity.Key() equals it.
	Identity string
	// Since and Until bound the signal time: Since <= time < Until. Zero
	// values leave that side open.
	Since, Until time.Time
	// Now drops signals whose expiry is at or before it; zero keeps all.
	Now time.Time
	// Tagged keeps only signals with tags, the ones composite policies
	// read (a DynamoDB store serves it from a sparse index).
	Tagged bool
	// Limit caps the number of signals returned; 0 means no cap.
	Limit int
}

// Match reports whether a signal stored until expires satisfies q.
func (q SignalQuery) Match(s detection.Signal, expires time.Time) bool {
	if q.Tagged && len(s.Tags) == 0 {
		return false
	}
	if q.Identity != "" && s.Identity.Key() != q.Identity {
		return false
	}
	if !q.Since.IsZero() && s.Time.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !s.Time.Before(q.Until) {
		return false
	}
	if !q.Now.IsZero() && !expires.After(q.Now) {
		return false
	}
	return true
}
