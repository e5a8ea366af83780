// Package memstore is an in-memory store.Store: maps behind a mutex, with
// deep copies in and out so that callers never share memory with the store.
// It backs tests and short-lived runs (a one-off hunt over a directory of
// logs); nothing survives the process.
package memstore

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// Store is an in-memory store.Store. Its zero value is not usable; call New.
// Times are kept in UTC.
type Store struct {
	mu       sync.Mutex
	keys     map[string]identity.IssuedKey
	profiles map[string]*baseline.Profile
	signals  map[string]storedSignal
	// Signal indexes, ordered by time then id: all signals, and per
	// identity key. Queries seek with a binary search.
	byTime     []sigRef
	byIdentity map[string][]sigRef
	watermarks map[string]time.Time
	incidents  map[string]incident.Incident
	// ofIdentity indexes the incidents' ids by identity key: a
	// correlator asks for one identity's incidents every minute, and
	// scanning them all was 2 % of a replay.
	ofIdentity map[string][]string
	// published is the version of each incident marked published.
	published map[string]int
	// audit holds the audit log (audit.go).
	audit auditLog
	// The expiry times of the keys and signals put, earliest first, for
	// Purge to find the expired ones without a scan. An entry whose item
	// was replaced since is skipped: the item's own entry comes later.
	keyExpiries    expiryHeap
	signalExpiries expiryHeap
}

// expiry is an item's expiry time.
type expiry struct {
	t  time.Time
	id string
}

// expiryHeap is a min-heap of expiries (container/heap).
type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].t.Before(h[j].t) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// expired pops the entries expired at now and calls drop with each id.
func (h *expiryHeap) expired(now time.Time, drop func(id string)) {
	for h.Len() > 0 && !(*h)[0].t.After(now) {
		drop(heap.Pop(h).(expiry).id)
	}
}

// sigRef is an index entry.
type sigRef struct {
	t  time.Time
	id string
}

func (a sigRef) compare(b sigRef) int {
	return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.id, b.id))
}

// insertRef keeps refs ordered; signals mostly arrive in time order, so
// the common case is an append.
func insertRef(refs []sigRef, r sigRef) []sigRef {
	if n := len(refs); n == 0 || refs[n-1].compare(r) < 0 {
		return append(refs, r)
	}
	i, _ := slices.BinarySearchFunc(refs, r, sigRef.compare)
	return slices.Insert(refs, i, r)
}

// removeRef deletes r from refs.
func removeRef(refs []sigRef, r sigRef) []sigRef {
	if i, ok := slices.BinarySearchFunc(refs, r, sigRef.compare); ok {
		return slices.Delete(refs, i, i+1)
	}
	return refs
}

// storedSignal is a signal and the time it expires.
type storedSignal struct {
	signal  detection.Signal
	expires time.Time
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		keys:       make(map[string]identity.IssuedKey),
		profiles:   make(map[string]*baseline.Profile),
		signals:    make(map[string]storedSignal),
		byIdentity: make(map[string][]sigRef),
		watermarks: make(map[string]time.Time),
		incidents:  make(map[string]incident.Incident),
		ofIdentity: make(map[string][]string),
		published:  make(map[string]int),
		audit:      auditLog{records: make(map[string]store.AuditRecord), slots: make(map[string]int)},
	}
}

// errEmpty reports a required key, id or name that is empty.
func errEmpty(what string) error {
	return fmt.Errorf("memstore: empty %s", what)
}

// PutKey remembers the key until k.Expires, replacing any earlier record.
func (s *Store) PutKey(ctx context.Context, k identity.IssuedKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if k.AccessKeyID == "" {
		return errEmpty("access key id")
	}
	k = cloneKey(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.keys[k.AccessKeyID]; ok && !k.Replaces(old) {
		return nil
	}
	s.keys[k.AccessKeyID] = k
	heap.Push(&s.keyExpiries, expiry{k.Expires, k.AccessKeyID})
	return nil
}

// LookupKey returns the key's record, or store.ErrNotFound when it is
// unknown or expired at now.
func (s *Store) LookupKey(ctx context.Context, accessKeyID string, now time.Time) (identity.IssuedKey, error) {
	if err := ctx.Err(); err != nil {
		return identity.IssuedKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[accessKeyID]
	if !ok || !k.Expires.After(now) {
		return identity.IssuedKey{}, fmt.Errorf("key %s: %w", accessKeyID, store.ErrNotFound)
	}
	return cloneKey(k), nil
}

// Profile returns a copy of the identity's profile, or store.ErrNotFound.
func (s *Store) Profile(ctx context.Context, key string) (*baseline.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[key]
	if !ok {
		return nil, fmt.Errorf("profile %s: %w", key, store.ErrNotFound)
	}
	return p.Clone(), nil
}

// AddFact records the fact at time at with baseline.Profile.Add, creating
// the profile if needed, and reports whether the fact was new.
func (s *Store) AddFact(ctx context.Context, key string, f baseline.Fact, at time.Time, eventID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if key == "" {
		return false, errEmpty("profile key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile(key).Record(f, at.UTC(), eventID), nil
}

// AddEvents adds n to the identity's event count, creating the profile if
// needed. The profile's Created moves back to at when at is earlier.
func (s *Store) AddEvents(ctx context.Context, key string, n int64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return errEmpty("profile key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.profile(key)
	p.Events += n
	if p.Created.IsZero() || at.Before(p.Created) {
		p.Created = at.UTC()
	}
	return nil
}

// profile returns the identity's profile, creating an empty one (with a
// zero Created, which the caller sets) if needed. s.mu must be held.
func (s *Store) profile(key string) *baseline.Profile {
	p, ok := s.profiles[key]
	if !ok {
		p = &baseline.Profile{Key: key, Facts: make(map[baseline.Dimension]map[string]baseline.Seen)}
		s.profiles[key] = p
	}
	return p
}

// PutSignal stores the signal until expires unless a signal with its id is
// already stored (expired or not) that comes before it, and reports
// whether it stored it (store.Store).
func (s *Store) PutSignal(ctx context.Context, sig detection.Signal, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if sig.ID == "" {
		return false, errEmpty("signal id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.signals[sig.ID]; ok {
		if !sig.Before(old.signal) {
			return false, nil
		}
		r := sigRef{old.signal.Time, old.signal.ID}
		s.byTime = removeRef(s.byTime, r)
		k := old.signal.Identity.Key()
		s.byIdentity[k] = removeRef(s.byIdentity[k], r)
	}
	c := cloneSignal(sig)
	s.signals[sig.ID] = storedSignal{signal: c, expires: expires.UTC()}
	heap.Push(&s.signalExpiries, expiry{expires, sig.ID})
	r := sigRef{c.Time, c.ID}
	s.byTime = insertRef(s.byTime, r)
	k := c.Identity.Key()
	s.byIdentity[k] = insertRef(s.byIdentity[k], r)
	return true, nil
}

// Signals returns the signals matching q, ordered by time then id. It
// seeks to q.Since in the time index, or the identity's index.
func (s *Store) Signals(ctx context.Context, q store.SignalQuery) ([]detection.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	refs := s.byTime
	if q.Identity != "" {
		refs = s.byIdentity[q.Identity]
	}
	start := 0
	if !q.Since.IsZero() {
		start, _ = slices.BinarySearchFunc(refs, sigRef{t: q.Since}, sigRef.compare)
	}
	var out []detection.Signal
	for _, r := range refs[start:] {
		if !q.Until.IsZero() && !r.t.Before(q.Until) {
			break
		}
		st := s.signals[r.id]
		if q.Match(st.signal, st.expires) {
			out = append(out, cloneSignal(st.signal))
			if q.Limit > 0 && len(out) == q.Limit {
				break
			}
		}
	}
	s.mu.Unlock()
	return out, nil
}

// Watermark returns the named watermark, the zero time when unset.
func (s *Store) Watermark(ctx context.Context, name string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watermarks[name], nil
}

// AdvanceWatermark moves the named watermark forward to t, and reports
// false, changing nothing, when it is already at or past t.
func (s *Store) AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if name == "" {
		return false, errEmpty("watermark name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.After(s.watermarks[name]) {
		return false, nil
	}
	s.watermarks[name] = t.UTC()
	return true, nil
}

// PutIncident creates or updates the incident keyed by its id: Version 1
// only when the id is unknown, Version n only over the stored Version n-1.
// Otherwise it returns store.ErrConflict and changes nothing. An empty id
// or a Version below 1 is rejected.
func (s *Store) PutIncident(ctx context.Context, inc incident.Incident) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if inc.ID == "" {
		return errEmpty("incident id")
	}
	if inc.Version < 1 {
		return fmt.Errorf("memstore: incident %s: version %d, want 1 or more", inc.ID, inc.Version)
	}
	inc = cloneIncident(inc)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.incidents[inc.ID]
	switch {
	case inc.Version == 1 && ok:
		return fmt.Errorf("incident %s version 1: it exists at version %d: %w", inc.ID, old.Version, store.ErrConflict)
	case inc.Version > 1 && !ok:
		return fmt.Errorf("incident %s version %d: it does not exist: %w", inc.ID, inc.Version, store.ErrConflict)
	case inc.Version > 1 && old.Version != inc.Version-1:
		return fmt.Errorf("incident %s version %d: it is at version %d: %w", inc.ID, inc.Version, old.Version, store.ErrConflict)
	}
	s.incidents[inc.ID] = inc
	if !ok || old.Identity.Key != inc.Identity.Key {
		if ok {
			s.ofIdentity[old.Identity.Key] = slices.DeleteFunc(s.ofIdentity[old.Identity.Key], func(id string) bool { return id == inc.ID })
		}
		s.ofIdentity[inc.Identity.Key] = append(s.ofIdentity[inc.Identity.Key], inc.ID)
	}
	return nil
}

// Incident returns a copy of the incident with the id, or
// store.ErrNotFound.
func (s *Store) Incident(ctx context.Context, id string) (incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return incident.Incident{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, ok := s.incidents[id]
	if !ok {
		return incident.Incident{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return cloneIncident(inc), nil
}

// Incidents returns copies of the incidents matching q, ordered by first
// seen then id. A query naming an identity reads that identity's incidents;
// others scan every stored incident.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []incident.Incident
	if q.Identity != "" {
		for _, id := range s.ofIdentity[q.Identity] {
			if inc := s.incidents[id]; q.Match(inc) {
				out = append(out, inc)
			}
		}
	} else {
		for _, inc := range s.incidents {
			if q.Match(inc) {
				out = append(out, inc)
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b incident.Incident) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.ID, b.ID))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	for i := range out {
		out[i] = cloneIncident(out[i])
	}
	return out, nil
}

// Purge deletes the keys and signals expired at now and reports how many it
// deleted. Expired items are invisible to reads anyway; Purge only frees
// their memory.
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	s.keyExpiries.expired(now, func(id string) {
		if k, ok := s.keys[id]; ok && !k.Expires.After(now) {
			delete(s.keys, id)
			n++
		}
	})
	gone, identities := map[string]bool{}, map[string]bool{}
	s.signalExpiries.expired(now, func(id string) {
		if st, ok := s.signals[id]; ok && !st.expires.After(now) {
			delete(s.signals, id)
			gone[id] = true
			identities[st.signal.Identity.Key()] = true
		}
	})
	if len(gone) > 0 {
		s.unindex(gone, identities)
	}
	return n + len(gone), nil
}

// unindex drops the deleted signals gone, of the identities named, from
// the time and identity indexes. s.mu must be held.
func (s *Store) unindex(gone, identities map[string]bool) {
	removed := func(r sigRef) bool { return gone[r.id] }
	s.byTime = slices.DeleteFunc(s.byTime, removed)
	for k := range identities {
		if refs := slices.DeleteFunc(s.byIdentity[k], removed); len(refs) == 0 {
			delete(s.byIdentity, k)
		} else {
			s.byIdentity[k] = refs
		}
	}
}

// Close does nothing: the store holds no resources beyond memory. The store
// stays usable.
func (s *Store) Close() error { return nil }

// cloneKey returns a deep copy of k with its expiry in UTC.
func cloneKey(k identity.IssuedKey) identity.IssuedKey {
	k.Origin = cloneOrigin(k.Origin)
	k.Expires = k.Expires.UTC()
	return k
}

// cloneOrigin returns a deep copy of o.
func cloneOrigin(o identity.Origin) identity.Origin {
	o.Chain = slices.Clone(o.Chain)
	return o
}

// cloneSignal returns a deep copy of sig with its time in UTC.
func cloneSignal(sig detection.Signal) detection.Signal {
	sig.Attack = slices.Clone(sig.Attack)
	sig.Identity = cloneOrigin(sig.Identity)
	sig.Time = sig.Time.UTC()
	sig.Facts = maps.Clone(sig.Facts)
	sig.Resources = slices.Clone(sig.Resources)
	return sig
}

// cloneIncident returns a deep copy of inc with its times in UTC.
func cloneIncident(inc incident.Incident) incident.Incident {
	inc.FirstSeen = inc.FirstSeen.UTC()
	inc.LastSeen = inc.LastSeen.UTC()
	inc.Updated = inc.Updated.UTC()
	inc.Identity.Chain = slices.Clone(inc.Identity.Chain)
	if inc.Identity.Chains != nil {
		chains := make([][]string, len(inc.Identity.Chains))
		for i, c := range inc.Identity.Chains {
			chains[i] = slices.Clone(c)
		}
		inc.Identity.Chains = chains
	}
	inc.Identity.Accounts = slices.Clone(inc.Identity.Accounts)
	inc.Facts.Regions = slices.Clone(inc.Facts.Regions)
	inc.Facts.Services = slices.Clone(inc.Facts.Services)
	inc.Facts.APIs = slices.Clone(inc.Facts.APIs)
	inc.Facts.SourceIPs = slices.Clone(inc.Facts.SourceIPs)
	inc.Facts.UserAgents = slices.Clone(inc.Facts.UserAgents)
	inc.Attack = slices.Clone(inc.Attack)
	if inc.Signals != nil {
		refs := make([]incident.SignalRef, len(inc.Signals))
		for i, r := range inc.Signals {
			r.Time = r.Time.UTC()
			refs[i] = r
		}
		inc.Signals = refs
	}
	inc.Resources = slices.Clone(inc.Resources)
	inc.Actions = slices.Clone(inc.Actions)
	return inc
}
