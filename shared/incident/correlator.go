package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// Store is what the correlator needs: recent signals, open incidents, and a
// watermark. The pipeline passes its store.Store through an adapter.
type Store interface {
	// SignalsSince returns the tagged signals (those policies read) with
	// time in [since, until), all identities, ordered by time. A zero
	// until leaves the range open.
	SignalsSince(ctx context.Context, since, until time.Time) ([]detection.Signal, error)
	// SignalsOf returns one identity's tagged signals with time in
	// [since, until), ordered by time. A zero until leaves the range open.
	SignalsOf(ctx context.Context, identityKey string, since, until time.Time) ([]detection.Signal, error)
	// OpenIncidents returns the identity's incidents last seen at or after
	// since.
	OpenIncidents(ctx context.Context, identityKey string, since time.Time) ([]Incident, error)
	// PutIncident writes an incident with optimistic concurrency on
	// Version; it returns an error satisfying errors.Is(err, ErrConflict)
	// when another writer got there first.
	PutIncident(ctx context.Context, inc Incident) error
	// Watermark and AdvanceWatermark keep the correlator's progress.
	Watermark(ctx context.Context, name string) (time.Time, error)
	AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error)
}

// ErrConflict is what Store.PutIncident wraps when it lost a race.
var ErrConflict = errors.New("incident changed concurrently")

// Planner plans the response to an incident (package response).
type Planner interface {
	Plan(inc *Incident) []Action
}

// Options configure the correlator.
type Options struct {
	// Lateness is how far behind the watermark signals may still arrive
	// (CloudTrail delivers within about 15 minutes); they are re-read.
	Lateness time.Duration
	// Quiet is how long an incident stays open with no new signal; after
	// it, new signals open a new incident.
	Quiet time.Duration
	// Watermark names the correlator's watermark in the store.
	Watermark string
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Lateness: 15 * time.Minute, Quiet: 24 * time.Hour, Watermark: "correlator"}
}

// Correlator applies composite policies to recent signals. It is safe for
// concurrent use; runs are serialised.
type Correlator struct {
	// mu serialises runs and guards the cache and the match buffer.
	mu       sync.Mutex
	store    Store
	policies []Policy
	planner  Planner
	opts     Options
	log      *slog.Logger
	maxWin   time.Duration
	// cache, when set, is the in-memory view of the store that Cache
	// enables.
	cache *cache
	// used is match's buffer, reused between policies and runs.
	used []*detection.Signal
}

// NewCorrelator validates the policies and returns a correlator.
func NewCorrelator(s Store, policies []Policy, planner Planner, opts Options, log *slog.Logger) (*Correlator, error) {
	if err := ValidatePolicies(policies); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Correlator{store: s, policies: policies, planner: planner, opts: opts, log: log}
	for _, p := range policies {
		c.maxWin = max(c.maxWin, p.Window)
	}
	return c, nil
}

// Run correlates what is new since the last run, up to now (wall clock in
// Lambda, event time in replay), and returns the incidents it opened or
// changed.
func (c *Correlator) Run(ctx context.Context, now time.Time) ([]Incident, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mark, err := c.store.Watermark(ctx, c.opts.Watermark)
	if err != nil {
		return nil, fmt.Errorf("read watermark: %w", err)
	}
	since := mark.Add(-c.opts.Lateness)
	if mark.IsZero() {
		since = now.Add(-c.maxWin)
	}
	keys, err := c.freshIdentities(ctx, since, now)
	if err != nil {
		return nil, err
	}
	var changed []Incident
	for _, k := range keys {
		incs, err := c.correlate(ctx, k, now)
		if err != nil {
			return changed, err
		}
		changed = append(changed, incs...)
	}
	if c.cache != nil {
		c.cache.sweep(now.Add(-c.maxWin - c.opts.Quiet))
	}
	if _, err := c.store.AdvanceWatermark(ctx, c.opts.Watermark, now); err != nil {
		return changed, fmt.Errorf("advance watermark: %w", err)
	}
	return changed, nil
}

// freshIdentities returns the identities with tagged signals in [since,
// now), in the order of their first such signal.
func (c *Correlator) freshIdentities(ctx context.Context, since, now time.Time) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if c.cache != nil {
		refs, ok := c.cache.recentSince(since)
		if !ok {
			// Everything stored from since on, so that the signals fed
			// from now on complete it.
			fresh, err := c.store.SignalsSince(ctx, since, time.Time{})
			if err != nil {
				return nil, fmt.Errorf("read signals since %s: %w", since.Format(time.RFC3339), err)
			}
			refs = c.cache.loadRecent(since, fresh)
		}
		for _, r := range refs {
			if !r.t.Before(now) {
				break
			}
			add(r.key)
		}
		return keys, nil
	}
	fresh, err := c.store.SignalsSince(ctx, since, now)
	if err != nil {
		return nil, fmt.Errorf("read signals since %s: %w", since.Format(time.RFC3339), err)
	}
	for _, s := range fresh {
		if len(s.Tags) == 0 {
			// No policy reads an untagged signal: it cannot change an
			// incident.
			continue
		}
		add(s.Identity.Key())
	}
	return keys, nil
}

// correlate evaluates every policy for one identity, retrying once when
// another correlator updated the same incident concurrently.
func (c *Correlator) correlate(ctx context.Context, key string, now time.Time) ([]Incident, error) {
	var out []Incident
	for attempt := 0; ; attempt++ {
		incs, err := c.correlateOnce(ctx, key, now)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			if c.cache != nil {
				c.cache.forget(key)
			}
			continue
		}
		out = append(out, incs...)
		return out, err
	}
}

// signalsOf returns the identity's tagged signals in [since, until), from
// the cache when it holds them.
func (c *Correlator) signalsOf(ctx context.Context, key string, since, until time.Time) ([]detection.Signal, error) {
	if c.cache == nil {
		return c.store.SignalsOf(ctx, key, since, until)
	}
	id := c.cache.identity(key)
	if !id.signalsLoaded || since.Before(id.signalsFrom) {
		all, err := c.store.SignalsOf(ctx, key, since, time.Time{})
		if err != nil {
			return nil, err
		}
		id.signals, id.signalsFrom, id.signalsLoaded = all, since, true
		id.gen++
	}
	id.trimSignals(since)
	id.lastUsed = until
	return between(id.signals, since, until), nil
}

// openIncidents returns the identity's incidents last seen at or after
// since, from the cache when it holds them.
func (c *Correlator) openIncidents(ctx context.Context, key string, since time.Time) ([]Incident, error) {
	if c.cache == nil {
		return c.store.OpenIncidents(ctx, key, since)
	}
	id := c.cache.identity(key)
	if !id.incidentsLoaded || since.Before(id.incidentsFrom) {
		all, err := c.store.OpenIncidents(ctx, key, since)
		if err != nil {
			return nil, err
		}
		id.incidents, id.incidentsFrom, id.incidentsLoaded = all, since, true
		id.gen++
	}
	// Incidents last seen before since are closed to this query and, since
	// moves forward, to the next ones: drop them.
	n := len(id.incidents)
	id.incidents = slices.DeleteFunc(id.incidents, func(inc Incident) bool { return inc.LastSeen.Before(since) })
	if len(id.incidents) != n {
		id.gen++
	}
	id.incidentsFrom = since
	return slices.Clone(id.incidents), nil
}

// putIncident writes the incident and keeps the cache's copy current.
func (c *Correlator) putIncident(ctx context.Context, inc Incident) error {
	if err := c.store.PutIncident(ctx, inc); err != nil {
		return err
	}
	if c.cache != nil {
		c.cache.identity(inc.Identity.Key).putIncident(inc)
	}
	return nil
}

func (c *Correlator) correlateOnce(ctx context.Context, key string, now time.Time) ([]Incident, error) {
	signals, err := c.signalsOf(ctx, key, now.Add(-c.maxWin), now)
	if err != nil {
		return nil, fmt.Errorf("read signals of %s: %w", key, err)
	}
	if len(signals) == 0 {
		return nil, nil
	}
	var cached *cachedIdentity
	if c.cache != nil {
		cached = c.cache.identity(key)
		if cached.settled == cached.window(signals) {
			return nil, nil
		}
	}
	// Incidents that may still be open for these signals: an incident stays
	// open while its signals keep coming within the quiet period.
	open, err := c.openIncidents(ctx, key, signals[0].Time.Add(-c.opts.Quiet))
	if err != nil {
		return nil, fmt.Errorf("read open incidents of %s: %w", key, err)
	}
	var changed []Incident
	latest := signals[len(signals)-1].Time
	for i := range c.policies {
		p := &c.policies[i]
		var prev *Incident
		for j := range open {
			if open[j].Policy == p.ID && (prev == nil || open[j].LastSeen.After(prev.LastSeen)) {
				prev = &open[j]
			}
		}
		window := since(signals, latest.Add(-p.Window))
		current := prev
		if prev != nil {
			// The policy's first signal the incident does not list: with
			// none, nothing can change it. Signals after the quiet period
			// of the last incident start a new one, which must stand on
			// its own; signals of other stories do not keep it open.
			known := newKnownSet(prev.Signals)
			first := firstUnknown(window, &known, p)
			if first < 0 {
				continue
			}
			if window[first].Time.After(prev.LastSeen.Add(c.opts.Quiet)) {
				current = nil
				window = since(window, prev.LastSeen.Add(time.Nanosecond))
			}
		}
		used := p.match(window, c.used)
		if used == nil {
			continue
		}
		inc, ok := c.build(p, current, used, now)
		// The buffer is reused; build copied what it keeps, and the
		// pointers into the window must not keep it alive.
		clear(used)
		c.used = used
		if !ok {
			continue
		}
		if err := c.putIncident(ctx, inc); err != nil {
			return changed, fmt.Errorf("write incident %s: %w", inc.ID, err)
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "incident", slog.String("id", inc.ID), slog.String("policy", inc.Policy),
			slog.String("severity", inc.Severity.String()), slog.String("identity", inc.Identity.Origin), slog.Int("version", inc.Version))
		changed = append(changed, inc)
	}
	if cached != nil {
		// Recorded after the run: its own reads may have dropped closed
		// incidents (a change of generation).
		cached.settled = settledRun{}
		if len(changed) == 0 {
			cached.settled = cached.window(signals)
		}
	}
	return changed, nil
}

// knownSet tells which signals an incident already lists. Both the
// incident's refs and the signals asked about are ordered by time then id,
// so it walks the refs alongside the questions, without building a set;
// refs in another order (never written so) fall back to a map. Questions
// must come in that order too.
type knownSet struct {
	refs []SignalRef
	next int
	ids  map[string]bool
}

func newKnownSet(refs []SignalRef) knownSet {
	k := knownSet{refs: refs}
	if !slices.IsSortedFunc(refs, compareRefs) {
		k.ids = make(map[string]bool, len(refs))
		for _, r := range refs {
			k.ids[r.ID] = true
		}
	}
	return k
}

func compareRefs(a, b SignalRef) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
}

// has reports whether s is among the refs.
func (k *knownSet) has(s *detection.Signal) bool {
	if k.ids != nil {
		return k.ids[s.ID]
	}
	for k.next < len(k.refs) {
		r := &k.refs[k.next]
		switch cmp.Or(r.Time.Compare(s.Time), cmp.Compare(r.ID, s.ID)) {
		case 0:
			return true
		case 1:
			return false
		}
		k.next++
	}
	return false
}

// firstUnknown returns the index of the first of the signals p uses that
// the known set does not hold, or -1.
func firstUnknown(signals []detection.Signal, known *knownSet, p *Policy) int {
	for i := range signals {
		if s := &signals[i]; p.uses(s) && !known.has(s) {
			return i
		}
	}
	return -1
}

// since returns the signals (ordered by time) at or after t.
func since(signals []detection.Signal, t time.Time) []detection.Signal {
	i, _ := slices.BinarySearchFunc(signals, t, func(s detection.Signal, t time.Time) int { return s.Time.Compare(t) })
	return signals[i:]
}

// between returns the signals (ordered by time) in [from, until).
func between(signals []detection.Signal, from, until time.Time) []detection.Signal {
	signals = since(signals, from)
	j, _ := slices.BinarySearchFunc(signals, until, func(s detection.Signal, t time.Time) int { return s.Time.Compare(t) })
	return signals[:j:j]
}

// build merges the signals into the open incident (or a new one) and
// reports whether anything changed.
func (c *Correlator) build(p *Policy, current *Incident, used []*detection.Signal, now time.Time) (Incident, bool) {
	var inc Incident
	var known knownSet
	if current != nil {
		inc = *current
		// The first signal the incident does not list; the walk goes on
		// from there, with the same known set (its questions keep their
		// order).
		known = newKnownSet(current.Signals)
		first := slices.IndexFunc(used, func(s *detection.Signal) bool { return !known.has(s) })
		if first < 0 {
			return inc, false
		}
		used = used[first:]
		// current may be the cache's copy: what is appended or sorted in
		// place below gets arrays of its own.
		inc.Signals = slices.Clone(inc.Signals)
		inc.Resources = slices.Clone(inc.Resources)
		inc.Identity.Chains = slices.Clone(inc.Identity.Chains)
	}
	added := false
	for _, s := range used {
		if known.has(s) {
			continue
		}
		added = true
		inc.Signals = append(inc.Signals, ref(s))
		inc.Resources = mergeResources(inc.Resources, s.Resources)
		inc.Resources = mergeResources(inc.Resources, chainResources(s))
		inc.Attack = mergeStrings(inc.Attack, s.Attack...)
		inc.addSignalFacts(s)
		if inc.FirstSeen.IsZero() || s.Time.Before(inc.FirstSeen) {
			inc.FirstSeen = s.Time
		}
		if s.Time.After(inc.LastSeen) {
			inc.LastSeen = s.Time
		}
		inc.Identity.adopt(s.Identity)
		if s.Severity > inc.Severity {
			inc.Severity = s.Severity
		}
	}
	if !added {
		return inc, false
	}
	if current == nil {
		inc.ID = ID(used[0].Identity.Key(), p.ID, inc.FirstSeen)
		inc.Policy = p.ID
		inc.Title = p.Title
	}
	slices.SortStableFunc(inc.Identity.Chains, func(a, b []string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), slices.Compare(a, b))
	})
	inc.Severity = max(inc.Severity, p.Severity)
	inc.Attack = mergeStrings(p.Attack, inc.Attack...)
	slices.SortStableFunc(inc.Signals, func(a, b SignalRef) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
	})
	inc.Summary = summary(p, &inc)
	inc.Updated = now
	inc.Version++
	if c.planner != nil {
		inc.Actions = c.planner.Plan(&inc)
	}
	return inc, true
}

func ref(s *detection.Signal) SignalRef {
	session := ""
	if n := len(s.Identity.Chain); n > 0 {
		session = s.Identity.Chain[n-1]
	}
	return SignalRef{ID: s.ID, Kind: s.Kind, Severity: s.Severity, EventID: s.EventID, EventName: s.EventName,
		Time: s.Time, Account: s.Account, Region: s.Region, Session: session, Rationale: s.Rationale}
}

// addSignalFacts folds one signal's event into the facts.
func (inc *Incident) addSignalFacts(s *detection.Signal) {
	f := &inc.Facts
	// A signal stands for its event, a burst's for the events of its
	// window (its own among them) and their failures.
	events, failed := 1, 0
	if s.ErrorCode != "" {
		failed = 1
	}
	if n, err := strconv.Atoi(s.Facts["events"]); err == nil && n > 0 {
		events = n
	}
	if n, err := strconv.Atoi(s.Facts["errors"]); err == nil && n > 0 {
		failed = n
	}
	f.Events += events
	f.Errors += failed
	f.Regions = mergeStrings(f.Regions, s.Region)
	f.Services = mergeStrings(f.Services, s.EventSource)
	f.APIs = mergeAPI(f.APIs, s.EventSource, s.EventName)
	f.SourceIPs = mergeStrings(f.SourceIPs, s.SourceIP)
	f.UserAgents = mergeStrings(f.UserAgents, s.UserAgent)
	// A burst signal also lists the regions, services and APIs of its window.
	f.Regions = mergeList(f.Regions, s.Facts["regions"])
	f.Services = mergeList(f.Services, s.Facts["services"])
	f.APIs = mergeList(f.APIs, s.Facts["apis"])
}

// adopt takes the identity from a signal: the origin, and every chain.
func (id *Identity) adopt(o identity.Origin) {
	if id.Origin == "" {
		id.Origin, id.Key, id.Type, id.Name, id.Resolved = o.ARN, o.Key(), o.Type, o.Name, o.Resolved
	}
	if o.Resolved && !id.Resolved {
		id.Origin, id.Type, id.Name, id.Resolved = o.ARN, o.Type, o.Name, true
	}
	if len(o.Chain) > len(id.Chain) {
		id.Chain = slices.Clone(o.Chain)
	}
	found := false
	for _, ch := range id.Chains {
		if slices.Equal(ch, o.Chain) {
			found = true
		}
	}
	if !found && len(o.Chain) > 0 {
		id.Chains = append(id.Chains, slices.Clone(o.Chain))
	}
	for _, hop := range o.Chain {
		if a := identity.AccountOf(hop); a != "" {
			id.Accounts = mergeStrings(id.Accounts, a)
		}
	}
	if o.Account != "" {
		id.Accounts = mergeStrings(id.Accounts, o.Account)
	}
}

// chainResources names the roles the identity worked through and, for an
// IAM user, the user: the targets of session revocation and quarantine.
func chainResources(s *detection.Signal) []detection.Resource {
	var out []detection.Resource
	for _, hop := range s.Identity.Chain {
		if role := identity.RoleARNFromSession(hop); role != "" {
			out = append(out, detection.Resource{Type: "iam:role", ARN: role})
		}
	}
	if s.Identity.Type == identity.TypeIAMUser {
		out = append(out, detection.Resource{Type: "iam:user", ARN: s.Identity.ARN})
	}
	if k := s.Facts["access_key_id"]; strings.HasPrefix(k, "AKIA") {
		out = append(out, detection.Resource{Type: "iam:access-key", ID: k, ARN: ""})
	}
	return out
}

func mergeResources(have, add []detection.Resource) []detection.Resource {
	for _, r := range add {
		if !slices.ContainsFunc(have, func(h detection.Resource) bool { return h.Type == r.Type && h.ARN == r.ARN && h.ID == r.ID }) {
			have = append(have, r)
		}
	}
	return have
}

// mergeStrings adds the non-empty values of add to have, keeping it sorted
// and unique. have is never written to: a list that gains a value is a new
// one, and a list that gains nothing comes back as it was (capped, so that
// an append elsewhere cannot write into it), which is most calls once an
// incident has its facts.
func mergeStrings(have []string, add ...string) []string {
	m := merger{out: slices.Clip(have)}
	for k, v := range add {
		m.add(v, len(add)-k)
	}
	return m.done()
}

// mergeList is mergeStrings for a comma-separated list, as a burst
// signal's facts hold its regions and services.
func mergeList(have []string, list string) []string {
	m := merger{out: slices.Clip(have)}
	for v := range strings.SplitSeq(list, ",") {
		m.add(v, 1)
	}
	return m.done()
}

// mergeAPI adds the API "service:name" of an event source and name,
// building the string only when it is new.
func mergeAPI(have []string, source, name string) []string {
	svc := strings.TrimSuffix(source, ".amazonaws.com")
	for _, a := range have {
		if len(a) == len(svc)+1+len(name) && a[len(svc)] == ':' && a[:len(svc)] == svc && a[len(svc)+1:] == name {
			return slices.Clip(have)
		}
	}
	return mergeStrings(have, svc+":"+name)
}

// merger copies its list on the first value it gains.
type merger struct {
	out   []string
	owned bool
}

// add adds v unless it is empty or listed; left is how many values may
// still come, v included, so that the copy has room for them.
func (m *merger) add(v string, left int) {
	if v == "" || slices.Contains(m.out, v) {
		return
	}
	if !m.owned {
		m.out = append(make([]string, 0, len(m.out)+left), m.out...)
		m.owned = true
	}
	m.out = append(m.out, v)
}

// done returns the list, sorted: a list given unsorted is sorted in a copy.
func (m *merger) done() []string {
	if !m.owned && slices.IsSorted(m.out) {
		return m.out
	}
	if !m.owned {
		m.out = slices.Clone(m.out)
	}
	slices.Sort(m.out)
	return m.out
}

// summary is the incident in one sentence.
func summary(p *Policy, inc *Incident) string {
	who := inc.Identity.Origin
	if inc.Identity.Name != "" {
		who = inc.Identity.Name
	}
	kinds := map[string]bool{}
	var list []string
	for _, s := range inc.Signals {
		if !kinds[s.Kind] {
			kinds[s.Kind] = true
			list = append(list, s.Kind)
		}
	}
	return fmt.Sprintf("%s: %s — %s (%s)", p.Title, who, p.Rationale, strings.Join(list, ", "))
}
