package incident

import (
	"cmp"
	"slices"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
)

// Cache makes the correlator keep what it reads from the store in memory
// (on) or read the store on every run (off, the default). It is for a
// process that writes every signal and incident the correlator will read,
// such as a local replay: it must hand each signal it stores to Stored.
// The cache then starts from the store (each identity's window is read
// once) and follows the signals it is given, so that a run reads the same
// signals and incidents as it would from the store, without re-reading an
// identity's day of signals every minute. The Lambda correlator, whose
// signals are written by other processes, leaves it off.
func (c *Correlator) Cache(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case on && c.cache == nil:
		c.cache = &cache{identities: make(map[string]*cachedIdentity)}
	case !on:
		c.cache = nil
	}
}

// Stored tells the cache about signals the process has just stored (new
// ones: a signal the store already had must not be given again). Untagged
// signals are ignored, as policies do not read them.
func (c *Correlator) Stored(signals ...detection.Signal) {
	if len(signals) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		return
	}
	for _, s := range signals {
		if len(s.Tags) > 0 {
			s.Time = s.Time.UTC()
			c.cache.add(s)
		}
	}
}

// cache is the correlator's view of the tagged signals and the incidents in
// the store. Each part is complete from a time on: it was read from the
// store with no upper bound, and every signal stored later was added. A
// query reaching before that time goes to the store again.
type cache struct {
	// recent lists the tagged signals of every identity, ordered by time
	// then id, complete from recentFrom.
	recent       []recentRef
	recentFrom   time.Time
	recentLoaded bool
	identities   map[string]*cachedIdentity
	swept        time.Time
}

// recentRef is a tagged signal in the cache's time index.
type recentRef struct {
	t   time.Time
	id  string
	key string
}

func (a recentRef) compare(b recentRef) int {
	return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.id, b.id))
}

// cachedIdentity is one identity's tagged signals (ordered by time then id,
// complete from signalsFrom) and incidents (ordered by first seen then id,
// complete for those last seen from incidentsFrom).
type cachedIdentity struct {
	signals         []detection.Signal
	signalsFrom     time.Time
	signalsLoaded   bool
	incidents       []Incident
	incidentsFrom   time.Time
	incidentsLoaded bool
	// lastUsed is the end of the last window read, for eviction.
	lastUsed time.Time
	// gen counts the changes to signals and incidents. settled records a
	// run that changed nothing: at generation gen, over the window of n
	// signals starting with the one of id first. A run over the same
	// window at the same generation reads exactly the same signals and
	// incidents, so it changes nothing either and is skipped: an identity
	// is correlated every minute for the lateness margin (15 minutes)
	// after each of its signals, mostly over the same window.
	gen     uint64
	settled settledRun
}

// settledRun is a run of the correlator that changed nothing.
type settledRun struct {
	ok    bool
	gen   uint64
	first string
	n     int
}

// window names the run over signals at the current generation.
func (id *cachedIdentity) window(signals []detection.Signal) settledRun {
	return settledRun{ok: true, gen: id.gen, first: signals[0].ID, n: len(signals)}
}

// recentSince returns the cached index from since on, or false when the
// cache does not reach back that far. It drops what is older: the
// correlator's since only moves forward with its watermark.
func (c *cache) recentSince(since time.Time) ([]recentRef, bool) {
	if !c.recentLoaded || since.Before(c.recentFrom) {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(c.recent, recentRef{t: since}, recentRef.compare)
	if i > 0 && i >= len(c.recent)/2 {
		c.recent = slices.Delete(c.recent, 0, i)
		c.recentFrom = since
		i = 0
	}
	return c.recent[i:], true
}

// loadRecent replaces the index with the tagged signals read from the store
// from since on.
func (c *cache) loadRecent(since time.Time, signals []detection.Signal) []recentRef {
	c.recent = c.recent[:0]
	for _, s := range signals {
		if len(s.Tags) > 0 {
			c.recent = append(c.recent, recentRef{t: s.Time, id: s.ID, key: s.Identity.Key()})
		}
	}
	slices.SortFunc(c.recent, recentRef.compare)
	c.recentFrom, c.recentLoaded = since, true
	return c.recent
}

// add inserts a newly stored tagged signal into the parts of the cache it
// belongs to.
func (c *cache) add(s detection.Signal) {
	key := s.Identity.Key()
	if c.recentLoaded && !s.Time.Before(c.recentFrom) {
		c.recent = insertSorted(c.recent, recentRef{t: s.Time, id: s.ID, key: key}, recentRef.compare)
	}
	if id := c.identities[key]; id != nil && id.signalsLoaded && !s.Time.Before(id.signalsFrom) {
		id.signals = insertSorted(id.signals, s, compareSignals)
		id.gen++
	}
}

// identity returns the cache entry of an identity, creating it, and now and
// then evicts identities whose windows were last read long ago.
func (c *cache) identity(key string) *cachedIdentity {
	id := c.identities[key]
	if id == nil {
		id = &cachedIdentity{}
		c.identities[key] = id
	}
	return id
}

// sweep drops the identities not read since before horizon; they are read
// from the store again if they come back.
func (c *cache) sweep(horizon time.Time) {
	if horizon.Sub(c.swept) < time.Hour {
		return
	}
	for k, id := range c.identities {
		if id.lastUsed.Before(horizon) {
			delete(c.identities, k)
		}
	}
	c.swept = horizon
}

// forget drops an identity, after a conflict showed the store changed
// behind the cache.
func (c *cache) forget(key string) {
	delete(c.identities, key)
}

// trimSignals drops signals before since when they are most of the slice.
func (id *cachedIdentity) trimSignals(since time.Time) {
	i, _ := slices.BinarySearchFunc(id.signals, since, func(s detection.Signal, t time.Time) int { return s.Time.Compare(t) })
	if i > 0 && i >= len(id.signals)/2 {
		id.signals = slices.Delete(id.signals, 0, i)
		id.signalsFrom = since
		id.gen++
	}
}

// putIncident records a written incident: it replaces the version the
// cache had or joins the list in its place.
func (id *cachedIdentity) putIncident(inc Incident) {
	id.gen++
	if !id.incidentsLoaded {
		return
	}
	if i := slices.IndexFunc(id.incidents, func(o Incident) bool { return o.ID == inc.ID }); i >= 0 {
		id.incidents[i] = inc
		return
	}
	id.incidents = insertSorted(id.incidents, inc, func(a, b Incident) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.ID, b.ID))
	})
}

func compareSignals(a, b detection.Signal) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
}

// insertSorted inserts v into the sorted list, after its equals; values
// mostly arrive in order, so the common case is an append.
func insertSorted[T any](list []T, v T, compare func(a, b T) int) []T {
	if n := len(list); n == 0 || compare(list[n-1], v) <= 0 {
		return append(list, v)
	}
	i, _ := slices.BinarySearchFunc(list, v, compare)
	return slices.Insert(list, i, v)
}
