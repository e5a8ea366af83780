// Package boltstore is a store.Store in a single file, over bbolt: the state
// file of a responder running Trailhound on a laptop or a build agent.
//
// # Layout
//
// Every value is JSON; every time is stored in UTC. The file holds these
// buckets:
//
//   - meta: the schema version. Open refuses a file with a newer version.
//   - keys: issued keys by access key id; keys_by_expiry indexes them by
//     expiry (encoded time, then id) for Purge.
//   - profiles: one sub-bucket per identity key, holding the header
//     (created, events) under "h" and one entry per fact under "f" + the
//     length-prefixed dimension + the value. A fact is a small entry of its
//     own, so AddFact writes a few hundred bytes however large the profile.
//   - signals: signal records (signal and expiry) by id, indexed by time
//     (signals_by_time: time, id), by origin and time (signals_by_identity:
//     length-prefixed identity key, time, id) and by expiry
//     (signals_by_expiry). The time indexes hold the expiry as their value,
//     so Signals skips expired signals without decoding them, and a query
//     with a time range or an identity reads only the index range it needs.
//   - watermarks: times by name.
//   - incidents: incident records by id, indexed by identity and policy
//     (incidents_by_identity: length-prefixed identity key, length-prefixed
//     policy, first seen, id) and by policy (incidents_by_policy:
//     length-prefixed policy, first seen, id). The index entries hold the
//     incident's last seen time as their value, so Incidents skips
//     incidents last seen too early without decoding them, and a query
//     with an identity or a policy reads only that part of an index.
//
// Buckets added by later versions of this package are created when Open
// finds them missing: a file written before incidents existed opens as it
// is, without a schema version change.
//
// Encoded times are 12 bytes, big-endian: the Unix second with its sign bit
// flipped, then the nanosecond, so that byte order is time order.
//
// # Cost
//
// Every write is one bbolt Update transaction, and bbolt serialises writers
// and syncs the file when a transaction commits: a write costs about one
// fsync. That suits the pipeline, which calls AddFact only when its cached
// profile says a fact is new, PutSignal once per signal, PutIncident once
// per change to an incident and AdvanceWatermark once per batch. AddFact and AdvanceWatermark first check
// in a read transaction, which costs no fsync, whether they would change
// anything. Expired keys and signals are invisible to reads but stay in the
// file until Purge deletes them.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// SchemaVersion is the version of the file layout this package writes and
// reads.
const SchemaVersion = 1

// ErrLocked is returned by Open when another process holds the state file.
var ErrLocked = errors.New("state file is locked by another trailhound process")

// Bucket names and keys of the layout described in the package comment.
const (
	bucketMeta                = "meta"
	bucketKeys                = "keys"
	bucketKeysByExpiry        = "keys_by_expiry"
	bucketProfiles            = "profiles"
	bucketSignals             = "signals"
	bucketSignalsByTime       = "signals_by_time"
	bucketSignalsByIdentity   = "signals_by_identity"
	bucketSignalsByExpiry     = "signals_by_expiry"
	bucketWatermarks          = "watermarks"
	bucketIncidents           = "incidents"
	bucketIncidentsByIdentity = "incidents_by_identity"
	bucketIncidentsByPolicy   = "incidents_by_policy"

	metaSchemaVersion = "schema_version"

	profileHeaderKey = "h"
	profileFactTag   = 'f'
)

// buckets lists every bucket of the layout.
func buckets() []string {
	return []string{
		bucketMeta, bucketKeys, bucketKeysByExpiry, bucketProfiles, bucketSignals,
		bucketSignalsByTime, bucketSignalsByIdentity, bucketSignalsByExpiry, bucketWatermarks,
		bucketIncidents, bucketIncidentsByIdentity, bucketIncidentsByPolicy,
	}
}

// Store is a store.Store over a bbolt file. It is safe for concurrent use;
// only one process can open a file at a time.
type Store struct {
	db *bolt.DB
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	lockTimeout time.Duration
}

// WithLockTimeout sets how long Open waits for another process to release
// the file before it fails with ErrLocked. The default is one second; zero
// waits indefinitely.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// Open opens the state file at path, creating it (mode 0600) if it does not
// exist. It fails with ErrLocked when another process has the file open,
// and with a descriptive error when the file is not a Trailhound state file,
// is corrupt, or was written by a newer Trailhound.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{lockTimeout: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := openDB(path, o)
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// openDB opens and, when new, initialises the bbolt file. bbolt validates
// the meta pages it reads but panics on some files corrupted elsewhere; the
// panic becomes an error. bbolt then leaves the file mapped, and so locked,
// until the process exits, which suits a command that stops on the error.
func openDB(path string, o options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, err = nil, fmt.Errorf("corrupt state file: %v", r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, ErrLocked
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("not a trailhound state file, or a corrupt one: %w", err)
	case err != nil:
		return nil, err
	}
	if err := db.Update(initialise); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// initialise checks the schema version of an existing file, or writes the
// layout into a new one.
func initialise(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		other := false
		if err := tx.ForEach(func([]byte, *bolt.Bucket) error { other = true; return nil }); err != nil {
			return err
		}
		if other {
			return errors.New("not a trailhound state file: it is a bbolt database without a schema version")
		}
		var err error
		if meta, err = tx.CreateBucket([]byte(bucketMeta)); err != nil {
			return err
		}
		if err := putJSON(meta, []byte(metaSchemaVersion), SchemaVersion); err != nil {
			return err
		}
	}
	var version int
	if err := getJSON(meta, []byte(metaSchemaVersion), &version); err != nil {
		return fmt.Errorf("not a trailhound state file, or a corrupt one: schema version: %w", err)
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("the file has schema version %d, newer than the version %d this trailhound understands: upgrade trailhound", version, SchemaVersion)
	case version < 1:
		return fmt.Errorf("not a trailhound state file, or a corrupt one: schema version %d", version)
	}
	for _, name := range buckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the file, waiting for running transactions to finish.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state file %s: %w", s.db.Path(), err)
	}
	return nil
}

// view runs fn in a read transaction, unless ctx is done.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// update runs fn in a write transaction, unless ctx is done. A transaction
// that was waiting for the write lock when ctx ended is rolled back.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

// PutKey remembers the key until k.Expires, replacing any earlier record
// unless that one is resolved and k is not (store.Store).
func (s *Store) PutKey(ctx context.Context, k identity.IssuedKey) error {
	if k.AccessKeyID == "" {
		return errors.New("put key: empty access key id")
	}
	k.Expires = k.Expires.UTC()
	id := []byte(k.AccessKeyID)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		keys, byExpiry := tx.Bucket([]byte(bucketKeys)), tx.Bucket([]byte(bucketKeysByExpiry))
		var old identity.IssuedKey
		switch err := getJSON(keys, id, &old); {
		case err == nil && !k.Replaces(old):
			return nil // store.Store: never replaced by an unresolved record
		case err == nil:
			if err := byExpiry.Delete(indexKey(nil, old.Expires, id)); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := putJSON(keys, id, k); err != nil {
			return err
		}
		return byExpiry.Put(indexKey(nil, k.Expires, id), []byte{})
	})
	if err != nil {
		return fmt.Errorf("put key %s: %w", k.AccessKeyID, err)
	}
	return nil
}

// LookupKey returns the key's record, or store.ErrNotFound when it is
// unknown or expired at now.
func (s *Store) LookupKey(ctx context.Context, accessKeyID string, now time.Time) (identity.IssuedKey, error) {
	var k identity.IssuedKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket([]byte(bucketKeys)), []byte(accessKeyID), &k); err != nil {
			return err
		}
		if !k.Expires.After(now) {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return identity.IssuedKey{}, fmt.Errorf("key %s: %w", accessKeyID, err)
	}
	return k, nil
}

// profileHeader is what a profile holds besides its facts.
type profileHeader struct {
	Created time.Time `json:"created"`
	Events  int64     `json:"events"`
}

// Profile returns a copy of the identity's profile, or store.ErrNotFound.
func (s *Store) Profile(ctx context.Context, key string) (*baseline.Profile, error) {
	p := &baseline.Profile{Key: key, Facts: make(map[baseline.Dimension]map[string]baseline.Seen)}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketProfiles)).Bucket([]byte(key))
		if b == nil {
			return store.ErrNotFound
		}
		var h profileHeader
		if err := getJSON(b, []byte(profileHeaderKey), &h); err != nil {
			return err
		}
		p.Created, p.Events = h.Created, h.Events
		c := b.Cursor()
		for k, v := c.Seek([]byte{profileFactTag}); k != nil && k[0] == profileFactTag; k, v = c.Next() {
			f, err := decodeFactKey(k)
			if err != nil {
				return err
			}
			var seen baseline.Seen
			if err := json.Unmarshal(v, &seen); err != nil {
				return fmt.Errorf("fact %s %q: %w", f.Dim, f.Value, err)
			}
			vals := p.Facts[f.Dim]
			if vals == nil {
				vals = make(map[string]baseline.Seen)
				p.Facts[f.Dim] = vals
			}
			vals[f.Value] = seen
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", key, err)
	}
	return p, nil
}

// AddFact records the fact at time at, creating the profile if needed, and
// reports whether the event is now its first (store.Store). Its first and
// last seen times become the earliest and latest times it was added at, as
// with baseline.Profile.Record, and the profile's Created the earliest time
// anything was added at. It costs a write transaction only when it changes
// something.
func (s *Store) AddFact(ctx context.Context, key string, f baseline.Fact, at time.Time, eventID string) (bool, error) {
	if key == "" {
		return false, errors.New("add fact: empty profile key")
	}
	at = at.UTC()
	fk := factKey(f)
	// Fast path: a fact seen both before and after at changes nothing.
	var unchanged, redelivered bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketProfiles)).Bucket([]byte(key))
		if b == nil {
			return nil
		}
		var seen baseline.Seen
		switch err := getJSON(b, fk, &seen); {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		first, changed := seen.Record(at, eventID) // a copy: nothing is written here
		unchanged, redelivered = !changed, first
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add fact %s %q to profile %s: %w", f.Dim, f.Value, key, err)
	}
	if unchanged {
		return redelivered, nil
	}

	var added bool
	err = s.update(ctx, func(tx *bolt.Tx) error {
		added = false
		b, err := tx.Bucket([]byte(bucketProfiles)).CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return err
		}
		if err := touchHeader(b, 0, at); err != nil {
			return err
		}
		var seen baseline.Seen
		switch err := getJSON(b, fk, &seen); {
		case errors.Is(err, store.ErrNotFound):
			added = true
			seen = baseline.Seen{First: at, Last: at, Event: eventID}
		case err != nil:
			return err
		default:
			added, _ = seen.Record(at, eventID)
		}
		return putJSON(b, fk, seen)
	})
	if err != nil {
		return false, fmt.Errorf("add fact %s %q to profile %s: %w", f.Dim, f.Value, key, err)
	}
	return added, nil
}

// AddEvents adds n to the identity's event count, creating the profile if
// needed. The profile's Created moves back to at when at is earlier.
func (s *Store) AddEvents(ctx context.Context, key string, n int64, at time.Time) error {
	if key == "" {
		return errors.New("add events: empty profile key")
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte(bucketProfiles)).CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return err
		}
		return touchHeader(b, n, at.UTC())
	})
	if err != nil {
		return fmt.Errorf("add %d events to profile %s: %w", n, key, err)
	}
	return nil
}

// touchHeader adds events to the profile header in b and moves its Created
// back to at when at is earlier, writing the header only when it changes.
func touchHeader(b *bolt.Bucket, events int64, at time.Time) error {
	var h profileHeader
	if err := getJSON(b, []byte(profileHeaderKey), &h); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	changed := events != 0
	h.Events += events
	if h.Created.IsZero() || at.Before(h.Created) {
		h.Created = at
		changed = true
	}
	if !changed {
		return nil
	}
	return putJSON(b, []byte(profileHeaderKey), h)
}

// factKey is the key of a fact in its profile's bucket: the fact tag, the
// length-prefixed dimension and the value.
func factKey(f baseline.Fact) []byte {
	k := make([]byte, 0, 1+binary.MaxVarintLen64+len(f.Dim)+len(f.Value))
	k = append(k, profileFactTag)
	k = binary.AppendUvarint(k, uint64(len(f.Dim)))
	k = append(k, f.Dim...)
	return append(k, f.Value...)
}

// decodeFactKey is the inverse of factKey.
func decodeFactKey(k []byte) (baseline.Fact, error) {
	n, size := binary.Uvarint(k[1:])
	if size <= 0 || uint64(len(k)-1-size) < n {
		return baseline.Fact{}, fmt.Errorf("corrupt fact key %q", k)
	}
	rest := k[1+size:]
	return baseline.Fact{Dim: baseline.Dimension(rest[:n]), Value: string(rest[n:])}, nil
}

// signalRecord is a signal as stored, with its expiry.
type signalRecord struct {
	Signal  detection.Signal `json:"signal"`
	Expires time.Time        `json:"expires"`
}

// PutSignal stores the signal until expires unless a signal with its id
// that comes before it is already stored (expired or not, until Purge
// deletes it), and reports whether it stored it (store.Store).
func (s *Store) PutSignal(ctx context.Context, sig detection.Signal, expires time.Time) (bool, error) {
	if sig.ID == "" {
		return false, errors.New("put signal: empty id")
	}
	sig.Time = sig.Time.UTC()
	expires = expires.UTC()
	id := []byte(sig.ID)
	var created bool
	err := s.update(ctx, func(tx *bolt.Tx) error {
		created = false
		signals := tx.Bucket([]byte(bucketSignals))
		var old signalRecord
		switch err := getJSON(signals, id, &old); {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case !sig.Before(old.Signal):
			return nil
		default:
			// An earlier event of the same slot: it replaces the stored one.
			if err := deleteSignalIndexes(tx, id, old.Signal); err != nil {
				return err
			}
			if err := tx.Bucket([]byte(bucketSignalsByExpiry)).Delete(indexKey(nil, old.Expires, id)); err != nil {
				return err
			}
		}
		if err := putJSON(signals, id, signalRecord{Signal: sig, Expires: expires}); err != nil {
			return err
		}
		exp := appendTime(nil, expires)
		if err := tx.Bucket([]byte(bucketSignalsByTime)).Put(indexKey(nil, sig.Time, id), exp); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketSignalsByIdentity)).Put(indexKey(identityPrefix(sig.Identity.Key()), sig.Time, id), exp); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketSignalsByExpiry)).Put(indexKey(nil, expires, id), []byte{}); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("put signal %s: %w", sig.ID, err)
	}
	return created, nil
}

// Signals returns the signals matching q, ordered by time then id. It reads
// the identity index when q names an identity and the time index otherwise,
// from q.Since to q.Until, and stops at q.Limit.
func (s *Store) Signals(ctx context.Context, q store.SignalQuery) ([]detection.Signal, error) {
	var out []detection.Signal
	err := s.view(ctx, func(tx *bolt.Tx) error {
		index, prefix := bucketSignalsByTime, []byte(nil)
		if q.Identity != "" {
			index, prefix = bucketSignalsByIdentity, identityPrefix(q.Identity)
		}
		start := bytes.Clone(prefix)
		if !q.Since.IsZero() {
			start = appendTime(start, q.Since)
		}
		var end []byte
		if !q.Until.IsZero() {
			end = appendTime(bytes.Clone(prefix), q.Until)
		}
		signals := tx.Bucket([]byte(bucketSignals))
		c := tx.Bucket([]byte(index)).Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if end != nil && bytes.Compare(k, end) >= 0 {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(k) < len(prefix)+timeLen || len(v) != timeLen {
				return fmt.Errorf("corrupt index %s entry %q", index, k)
			}
			if !q.Now.IsZero() && !decodeTime(v).After(q.Now) {
				continue
			}
			var rec signalRecord
			if err := getJSON(signals, k[len(prefix)+timeLen:], &rec); err != nil {
				return fmt.Errorf("signal %s: %w", k[len(prefix)+timeLen:], err)
			}
			if !q.Match(rec.Signal, rec.Expires) {
				continue
			}
			out = append(out, rec.Signal)
			if q.Limit > 0 && len(out) == q.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query signals: %w", err)
	}
	return out, nil
}

// Watermark returns the named watermark, the zero time when unset.
func (s *Store) Watermark(ctx context.Context, name string) (time.Time, error) {
	var t time.Time
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket([]byte(bucketWatermarks)), []byte(name), &t); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("watermark %s: %w", name, err)
	}
	return t, nil
}

// AdvanceWatermark moves the named watermark forward to t, and reports
// false, changing nothing, when it is already at or past t.
func (s *Store) AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error) {
	if name == "" {
		return false, errors.New("advance watermark: empty name")
	}
	t = t.UTC()
	// Watermarks only move forward, so one at or past t in a read
	// transaction stays there.
	cur, err := s.Watermark(ctx, name)
	if err != nil {
		return false, err
	}
	if !t.After(cur) {
		return false, nil
	}
	var advanced bool
	err = s.update(ctx, func(tx *bolt.Tx) error {
		advanced = false
		b := tx.Bucket([]byte(bucketWatermarks))
		var cur time.Time
		if err := getJSON(b, []byte(name), &cur); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !t.After(cur) {
			return nil
		}
		advanced = true
		return putJSON(b, []byte(name), t)
	})
	if err != nil {
		return false, fmt.Errorf("advance watermark %s: %w", name, err)
	}
	return advanced, nil
}

// PutIncident creates or updates the incident keyed by its id, in one write
// transaction that checks the stored version: Version 1 only when the id is
// unknown, Version n only over the stored Version n-1. Otherwise it returns
// store.ErrConflict and changes nothing. An empty id or a Version below 1
// is rejected.
func (s *Store) PutIncident(ctx context.Context, inc incident.Incident) error {
	if inc.ID == "" {
		return errors.New("put incident: empty id")
	}
	if inc.Version < 1 {
		return fmt.Errorf("put incident %s: version %d, want 1 or more", inc.ID, inc.Version)
	}
	inc = utcIncident(inc)
	id := []byte(inc.ID)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		incidents := tx.Bucket([]byte(bucketIncidents))
		byIdentity := tx.Bucket([]byte(bucketIncidentsByIdentity))
		byPolicy := tx.Bucket([]byte(bucketIncidentsByPolicy))
		var old incident.Incident
		switch err := getJSON(incidents, id, &old); {
		case errors.Is(err, store.ErrNotFound):
			if inc.Version != 1 {
				return fmt.Errorf("version %d: it does not exist: %w", inc.Version, store.ErrConflict)
			}
		case err != nil:
			return err
		case inc.Version != old.Version+1:
			return fmt.Errorf("version %d: it is at version %d: %w", inc.Version, old.Version, store.ErrConflict)
		default:
			if err := byIdentity.Delete(incidentIdentityKey(old)); err != nil {
				return err
			}
			if err := byPolicy.Delete(incidentPolicyKey(old)); err != nil {
				return err
			}
		}
		if err := putJSON(incidents, id, inc); err != nil {
			return err
		}
		last := appendTime(nil, inc.LastSeen)
		if err := byIdentity.Put(incidentIdentityKey(inc), last); err != nil {
			return err
		}
		return byPolicy.Put(incidentPolicyKey(inc), last)
	})
	if err != nil {
		return fmt.Errorf("put incident %s: %w", inc.ID, err)
	}
	return nil
}

// Incident returns the incident with the id, or store.ErrNotFound.
func (s *Store) Incident(ctx context.Context, id string) (incident.Incident, error) {
	var inc incident.Incident
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket([]byte(bucketIncidents)), []byte(id), &inc)
	})
	if err != nil {
		return incident.Incident{}, fmt.Errorf("incident %s: %w", id, err)
	}
	return inc, nil
}

// Incidents returns the incidents matching q, ordered by first seen then
// id. It reads the part of the identity index for q.Identity (and
// q.Policy) when q names an identity, the part of the policy index for
// q.Policy when it names only a policy, and the whole policy index
// otherwise; it decodes only the incidents it returns. With an identity and
// a policy, or a policy alone, the index is in result order and the read
// stops at q.Limit.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]incident.Incident, error) {
	var out []incident.Incident
	err := s.view(ctx, func(tx *bolt.Tx) error {
		index, prefix := bucketIncidentsByPolicy, []byte(nil)
		// skip is how many length-prefixed strings follow prefix before
		// the first seen time and id.
		skip := 1
		switch {
		case q.Identity != "" && q.Policy != "":
			index, prefix, skip = bucketIncidentsByIdentity, lengthPrefixed(lengthPrefixed(nil, q.Identity), q.Policy), 0
		case q.Identity != "":
			index, prefix, skip = bucketIncidentsByIdentity, lengthPrefixed(nil, q.Identity), 1
		case q.Policy != "":
			prefix, skip = lengthPrefixed(nil, q.Policy), 0
		}
		// With skip 0 the entries come in result order.
		ordered := skip == 0
		var ids [][]byte // first seen and id, each
		c := tx.Bucket([]byte(index)).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			rest := k[len(prefix):]
			for range skip {
				var ok bool
				if rest, ok = skipLengthPrefixed(rest); !ok {
					return fmt.Errorf("corrupt index %s entry %q", index, k)
				}
			}
			if len(rest) <= timeLen || len(v) != timeLen {
				return fmt.Errorf("corrupt index %s entry %q", index, k)
			}
			if !q.LastSeenSince.IsZero() && decodeTime(v).Before(q.LastSeenSince) {
				continue
			}
			ids = append(ids, rest)
			if ordered && q.Limit > 0 && len(ids) == q.Limit {
				break
			}
		}
		if !ordered {
			slices.SortFunc(ids, bytes.Compare)
			if q.Limit > 0 && len(ids) > q.Limit {
				ids = ids[:q.Limit]
			}
		}
		incidents := tx.Bucket([]byte(bucketIncidents))
		out = make([]incident.Incident, 0, len(ids))
		for _, k := range ids {
			var inc incident.Incident
			if err := getJSON(incidents, k[timeLen:], &inc); err != nil {
				return fmt.Errorf("incident %s: %w", k[timeLen:], err)
			}
			if !q.Match(inc) {
				return fmt.Errorf("incident %s: index %s is out of date", k[timeLen:], index)
			}
			out = append(out, inc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query incidents: %w", err)
	}
	return out, nil
}

// incidentIdentityKey is the key of inc in the identity index: its
// length-prefixed identity key and policy, first seen time and id.
func incidentIdentityKey(inc incident.Incident) []byte {
	return indexKey(lengthPrefixed(lengthPrefixed(nil, inc.Identity.Key), inc.Policy), inc.FirstSeen, []byte(inc.ID))
}

// incidentPolicyKey is the key of inc in the policy index: its
// length-prefixed policy, first seen time and id.
func incidentPolicyKey(inc incident.Incident) []byte {
	return indexKey(lengthPrefixed(nil, inc.Policy), inc.FirstSeen, []byte(inc.ID))
}

// utcIncident returns inc with its times in UTC.
func utcIncident(inc incident.Incident) incident.Incident {
	inc.FirstSeen = inc.FirstSeen.UTC()
	inc.LastSeen = inc.LastSeen.UTC()
	inc.Updated = inc.Updated.UTC()
	if inc.Signals != nil {
		refs := make([]incident.SignalRef, len(inc.Signals))
		for i, r := range inc.Signals {
			r.Time = r.Time.UTC()
			refs[i] = r
		}
		inc.Signals = refs
	}
	return inc
}

// Purge deletes the keys and signals expired at now, with their index
// entries, and reports how many keys and signals it deleted. It reads only
// the expired part of the expiry indexes. Profiles, watermarks and
// incidents never expire.
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		keys := tx.Bucket([]byte(bucketKeys))
		entries, err := expired(tx.Bucket([]byte(bucketKeysByExpiry)), now)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := keys.Delete(e[timeLen:]); err != nil {
				return err
			}
			n++
		}

		signals := tx.Bucket([]byte(bucketSignals))
		if entries, err = expired(tx.Bucket([]byte(bucketSignalsByExpiry)), now); err != nil {
			return err
		}
		for _, e := range entries {
			id := e[timeLen:]
			var rec signalRecord
			if err := getJSON(signals, id, &rec); err != nil {
				return fmt.Errorf("signal %s: %w", id, err)
			}
			if err := deleteSignalIndexes(tx, id, rec.Signal); err != nil {
				return err
			}
			if err := signals.Delete(id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge state file: %w", err)
	}
	return n, nil
}

// expired deletes from the expiry index b the entries expired at now and
// returns their keys (encoded expiry, then id).
func expired(b *bolt.Bucket, now time.Time) ([][]byte, error) {
	// Collect first: deleting under a bbolt cursor can skip entries.
	var ks [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < timeLen {
			return nil, fmt.Errorf("corrupt expiry index entry %q", k)
		}
		if decodeTime(k).After(now) {
			break
		}
		ks = append(ks, bytes.Clone(k))
	}
	for _, k := range ks {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// timeLen is the length of an encoded time.
const timeLen = 12

// appendTime appends t encoded so that byte order is time order: the Unix
// second with its sign bit flipped, then the nanosecond, both big-endian.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// decodeTime decodes the time at the start of b, in UTC.
func decodeTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:]))).UTC()
}

// indexKey returns prefix, the encoded time and the id: an index key whose
// byte order, within one prefix, is time order then id order.
func indexKey(prefix []byte, t time.Time, id []byte) []byte {
	k := make([]byte, 0, len(prefix)+timeLen+len(id))
	k = append(k, prefix...)
	k = appendTime(k, t)
	return append(k, id...)
}

// identityPrefix is the prefix of an origin's entries in the identity
// index: its length-prefixed key. Length-prefixing keeps one key's entries
// apart from those of a longer key it is a prefix of.
func identityPrefix(key string) []byte {
	return lengthPrefixed(make([]byte, 0, binary.MaxVarintLen64+len(key)), key)
}

// lengthPrefixed appends to b the length of s, as a uvarint, then s.
func lengthPrefixed(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// skipLengthPrefixed returns what follows the length-prefixed string at the
// start of b, or false when b does not start with one.
func skipLengthPrefixed(b []byte) ([]byte, bool) {
	n, size := binary.Uvarint(b)
	if size <= 0 || uint64(len(b)-size) < n {
		return nil, false
	}
	return b[size+int(n):], true
}

// getJSON decodes the value of k in b into v, or returns store.ErrNotFound.
func getJSON(b *bolt.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return store.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", k, err)
	}
	return nil
}

// putJSON stores v, JSON-encoded, under k in b.
func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", k, err)
	}
	return b.Put(k, data)
}

// deleteSignalIndexes removes a stored signal from the time and identity
// indexes (the expiry index is the caller's: Purge walks it).
func deleteSignalIndexes(tx *bolt.Tx, id []byte, sig detection.Signal) error {
	if err := tx.Bucket([]byte(bucketSignalsByTime)).Delete(indexKey(nil, sig.Time, id)); err != nil {
		return err
	}
	return tx.Bucket([]byte(bucketSignalsByIdentity)).Delete(indexKey(identityPrefix(sig.Identity.Key()), sig.Time, id))
}
