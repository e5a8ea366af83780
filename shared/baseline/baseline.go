// Package baseline keeps a behavioural profile per origin identity (services,
// APIs, regions, networks, user agents, accounts, hours of day) and turns what
// is new for an identity into first-seen signals once the identity has left
// its learning period.
//
// In the pipeline it runs after identity attribution and before the
// single-event detections. Profiles live in a store; reads are cached in the
// process and writes happen only when something is new, so a warm detector
// costs almost no store calls per event.
package baseline

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// Store is what the baseline needs from the pipeline's store.
type Store interface {
	// LoadProfile returns the identity's profile, or nil when it has none.
	LoadProfile(ctx context.Context, key string) (*Profile, error)
	// AddFact records the fact atomically and reports whether it was new.
	// A redelivered event (the same eventID) that first recorded the fact
	// gets true again.
	AddFact(ctx context.Context, key string, f Fact, at time.Time, eventID string) (bool, error)
	// AddEvents adds n to the identity's event count.
	AddEvents(ctx context.Context, key string, n int64, at time.Time) error
}

// Options configure the baseline.
type Options struct {
	// LearningEvents and LearningPeriod: an identity is learning until it
	// has both this many events and this much history; while learning,
	// first-seen facts are recorded but not signalled.
	LearningEvents int64
	LearningPeriod time.Duration
	// FlushEvents batches event-count writes: the count is written after
	// this many events of an identity while it learns (and when it leaves
	// learning); FlushEventsAfter after it (the count only decides
	// learning, so afterwards it is kept roughly).
	FlushEvents, FlushEventsAfter int64
	// TouchAfter is how stale a fact's last-seen may get before the
	// baseline writes it again. Hours of day are never touched: only
	// their first sight matters. Last-seen decides nothing; it tells
	// a reader of the profile roughly when a fact was last used.
	TouchAfter time.Duration
	// CacheSize bounds the number of cached profiles.
	CacheSize int
}

// DefaultOptions returns the defaults: a learning period of 100 events and
// 3 days.
func DefaultOptions() Options {
	return Options{
		LearningEvents:   100,
		LearningPeriod:   72 * time.Hour,
		FlushEvents:      50,
		FlushEventsAfter: 1000,
		TouchAfter:       30 * 24 * time.Hour,
		CacheSize:        50000,
	}
}

// Validate reports problems with the options.
func (o Options) Validate() error {
	var errs []string
	if o.LearningEvents < 0 {
		errs = append(errs, "learning events must not be negative")
	}
	if o.LearningPeriod < 0 {
		errs = append(errs, "learning period must not be negative")
	}
	if o.FlushEvents <= 0 {
		errs = append(errs, "flush events must be positive")
	}
	if o.CacheSize <= 0 {
		errs = append(errs, "cache size must be positive")
	}
	if len(errs) > 0 {
		return fmt.Errorf("baseline options: %s", strings.Join(errs, "; "))
	}
	return nil
}

// kind describes the signal a new fact of a dimension raises.
type kind struct {
	name     string
	severity detection.Severity
	attack   []string
	why      string
	tags     []string
}

var anomaly = []string{detection.TagAnomaly}

// kinds is the table of first-seen signals, by dimension. The day dimension
// only measures history (for the learning period) and raises nothing.
var kinds = map[Dimension]kind{
	DimRegion:    {"first-seen-region", detection.Low, []string{"T1535"}, "first call from this identity in region %s", anomaly},
	DimNetwork:   {"first-seen-network", detection.Low, []string{"T1078.004"}, "first call from this identity from network %s", anomaly},
	DimUserAgent: {"first-seen-user-agent", detection.Low, []string{"T1078.004"}, "first call from this identity with user agent %s", anomaly},
	DimAccount:   {"first-seen-account", detection.Low, []string{"T1078.004"}, "first call from this identity in account %s", anomaly},
	DimRole:      {"first-seen-role", detection.Low, []string{"T1548"}, "first time this identity works through role %s", []string{detection.TagRoleHop, detection.TagAnomaly}},
	DimService:   {"first-seen-service", detection.Low, []string{"T1526"}, "first call from this identity to service %s", nil},
	DimAPI:       {"first-seen-api", detection.Info, []string{"T1526"}, "first call from this identity to API %s", nil},
	DimHour:      {"first-seen-hour", detection.Info, []string{"T1078"}, "first call from this identity at hour %s UTC", anomaly},
}

// Kinds returns the names of the first-seen signal kinds.
func Kinds() []string {
	var names []string
	for _, d := range Dimensions {
		if k, ok := kinds[d]; ok {
			names = append(names, k.name)
		}
	}
	return names
}

type entry struct {
	profile *Profile
	pending int64 // events not yet written
	// recent holds, per slot, the fact this identity's last event had
	// there and what the profile said of it; an event with the same
	// value (usually the same string: interned or memoised) and inside
	// the span has nothing to check there, which spares the two map
	// lookups of the profile. Consecutive events of an identity mostly
	// share their region, network, tool, account, hour and service.
	recent [slots]recent
	// The raw values the last event's network, user-agent family and API
	// came from, which spares their memo lookups.
	ip, network, agent, family string
	source, name, api          string
}

// The slots of recent, one per dimension an event always has.
const (
	slotService = iota
	slotAPI
	slotRegion
	slotNetwork
	slotAgent
	slotAccount
	slotHour
	slotRole // the first role of the chain
	slots
	noSlot = -1 // the further roles: as many as the chain has hops
)

// recent is a fact and the span in which it needs nothing written: after
// the event that first saw it (by time, then event id), before its
// last-seen time gets stale. No fact has an empty value: "" is none.
type recent struct {
	value   string
	afterT  time.Time
	afterID string
	until   time.Time // zero for hours: never touched
}

// quiet reports whether the event needs nothing written for this fact.
func (r *recent) quiet(value string, ev *cloudtrail.Event) bool {
	return r.value != "" && r.value == value && detection.EarlierEvent(r.afterT, r.afterID, ev.EventTime, ev.EventID) &&
		(r.until.IsZero() || ev.EventTime.Before(r.until))
}

// slotted is a fact of an event and its slot.
type slotted struct {
	Fact
	slot int
}

// Baseline checks events against their identity's profile.
type Baseline struct {
	store Store
	opts  Options
	cache map[string]*entry
	// Memoised fact values: user-agent families, API names and the roles
	// of sessions recur from event to event.
	agents, networks, roles memo
	apis                    map[string]map[string]string
}

// New returns a Baseline over the store.
func New(s Store, opts Options) (*Baseline, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Baseline{store: s, opts: opts, cache: make(map[string]*entry),
		agents: memo{}, networks: memo{}, apis: make(map[string]map[string]string), roles: memo{}}, nil
}

// Observe records the event in its identity's profile and returns a signal
// for each fact that is new for an identity past its learning period. AWS
// services acting on their own are not baselined; facts of calls made by a
// service on a principal's behalf are recorded but not signalled.
func (b *Baseline) Observe(ctx context.Context, ev *cloudtrail.Event, at identity.Attribution) ([]detection.Signal, error) {
	if at.ByService {
		return nil, nil
	}
	key := at.Key()
	e, err := b.load(ctx, key)
	if err != nil {
		return nil, err
	}
	learning := b.learning(e, ev.EventTime)

	var signals []detection.Signal
	var facts [12]slotted
	for _, sf := range b.facts(e, ev, at, facts[:0]) {
		f := sf.Fact
		var r *recent
		if sf.slot != noSlot {
			r = &e.recent[sf.slot]
			if r.quiet(f.Value, ev) {
				continue
			}
			r.value = ""
		}
		keep := func(s Seen) {
			if r != nil {
				*r = recent{value: f.Value, afterT: s.First, afterID: s.Event}
				if f.Dim != DimHour {
					r.until = s.Last.Add(b.opts.TouchAfter)
				}
			}
		}
		seen, ok := e.profile.Get(f)
		redelivered := ok && ev.EventID != "" && seen.Event == ev.EventID
		// Known, and not from an event earlier than the one that found it
		// (a concurrent detector may have recorded a later one first):
		// nothing to write unless its last-seen time is getting old.
		if ok && !redelivered && !detection.EarlierEvent(ev.EventTime, ev.EventID, seen.First, seen.Event) &&
			(f.Dim == DimHour || ev.EventTime.Sub(seen.Last) < b.opts.TouchAfter) {
			keep(seen)
			continue
		}
		added := redelivered
		if !redelivered {
			added, err = b.store.AddFact(ctx, key, f, ev.EventTime, ev.EventID)
			if err != nil {
				return signals, fmt.Errorf("record %s %q for %s: %w", f.Dim, f.Value, key, err)
			}
		}
		// The cached profile names the event that found the fact only when
		// the store says so: a fact another detector found is not this
		// event's to signal again when the event is redelivered here.
		discoverer := ev.EventID
		if !added {
			discoverer = ""
		}
		now, _ := e.profile.record(f, ev.EventTime, discoverer)
		keep(now)
		if !added || learning || at.InvokedBy != "" {
			continue
		}
		if f.Dim == DimNetwork && at.Origin.Type == identity.TypeAssumedRole {
			// Roles used by machines (functions, instances, tasks) call
			// from whatever address AWS gives them: a new network says
			// nothing there. Their tools and regions still do.
			continue
		}
		if k, ok := kinds[f.Dim]; ok {
			signals = append(signals, newSignal(ev, at, key, k, f))
		}
	}

	e.profile.Events++
	e.pending++
	flushAt := b.opts.FlushEvents
	if !learning && b.opts.FlushEventsAfter > flushAt {
		flushAt = b.opts.FlushEventsAfter
	}
	if e.pending >= flushAt || (learning && !b.learning(e, ev.EventTime)) {
		if err := b.store.AddEvents(ctx, key, e.pending, ev.EventTime); err != nil {
			return signals, fmt.Errorf("count events of %s: %w", key, err)
		}
		e.pending = 0
	}
	return signals, nil
}

// Profile returns the cached profile of an identity, loading it if needed.
func (b *Baseline) Profile(ctx context.Context, key string) (*Profile, error) {
	e, err := b.load(ctx, key)
	if err != nil {
		return nil, err
	}
	return e.profile.Clone(), nil
}

// Flush writes the pending event counts.
func (b *Baseline) Flush(ctx context.Context) error {
	for key, e := range b.cache {
		if e.pending == 0 {
			continue
		}
		if err := b.store.AddEvents(ctx, key, e.pending, e.profile.Created); err != nil {
			return fmt.Errorf("count events of %s: %w", key, err)
		}
		e.pending = 0
	}
	return nil
}

func (b *Baseline) learning(e *entry, now time.Time) bool {
	p := e.profile
	// An identity's first event is always learning, also when it is
	// redelivered after its profile was created.
	return p.Events < b.opts.LearningEvents || p.Created.IsZero() || !now.After(p.Created) || now.Sub(p.Created) < b.opts.LearningPeriod
}

func (b *Baseline) load(ctx context.Context, key string) (*entry, error) {
	if e, ok := b.cache[key]; ok {
		return e, nil
	}
	p, err := b.store.LoadProfile(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load profile of %s: %w", key, err)
	}
	if p == nil {
		p = &Profile{Key: key}
	}
	if len(b.cache) >= b.opts.CacheSize {
		b.evict(ctx)
	}
	e := &entry{profile: p}
	b.cache[key] = e
	return e, nil
}

// evict drops profiles with no pending writes until the cache is half full.
func (b *Baseline) evict(ctx context.Context) {
	target := b.opts.CacheSize / 2
	for key, e := range b.cache {
		if len(b.cache) <= target {
			return
		}
		if e.pending > 0 {
			if err := b.store.AddEvents(ctx, key, e.pending, e.profile.Created); err != nil {
				continue
			}
		}
		delete(b.cache, key)
	}
}

func newSignal(ev *cloudtrail.Event, at identity.Attribution, key string, k kind, f Fact) detection.Signal {
	// One signal per identity and fact, whichever event raises it: the
	// store keeps the earliest event's.
	s := detection.NewSlotSignal(ev, at, k.name, k.severity, k.attack, fmt.Sprintf(k.why, f.Value), key, string(f.Dim), f.Value)
	if s.Facts == nil {
		s.Facts = map[string]string{}
	}
	s.Facts[string(f.Dim)] = f.Value
	s.Tags = k.tags
	return s
}

// memoSize bounds each memo of fact values; a full memo is cleared.
const memoSize = 20000

// memo remembers what a function of a string gave: the fact values that
// recur from event to event (a session's role, an address's network, a user
// agent's family) are worked out once.
type memo map[string]string

// of returns f(k), computing it only the first time.
func (m memo) of(k string, f func(string) string) string {
	v, ok := m[k]
	if !ok {
		v = f(k)
		if len(m) >= memoSize {
			clear(m)
		}
		m[k] = v
	}
	return v
}

// facts appends the baseline facts of an event to dst, with their slots:
// those of the call, and the roles its identity works through.
func (b *Baseline) facts(e *entry, ev *cloudtrail.Event, at identity.Attribution, dst []slotted) []slotted {
	slot := slotRole
	for _, hop := range at.Origin.Chain[min(1, len(at.Origin.Chain)):] {
		if role := b.roles.of(hop, identity.RoleARNFromSession); role != "" {
			dst = append(dst, slotted{Fact{DimRole, role}, slot})
			slot = noSlot
		}
	}
	if ev.EventSource != "" {
		if ev.EventSource != e.source || ev.EventName != e.name {
			e.source, e.name, e.api = ev.EventSource, ev.EventName, b.api(ev)
		}
		dst = append(dst, slotted{Fact{DimService, ev.EventSource}, slotService}, slotted{Fact{DimAPI, e.api}, slotAPI})
	}
	if ev.AWSRegion != "" {
		dst = append(dst, slotted{Fact{DimRegion, ev.AWSRegion}, slotRegion})
	}
	// Network("") and UserAgentFamily("") are "", as are the zero values.
	if ev.SourceIPAddress != e.ip {
		e.ip, e.network = ev.SourceIPAddress, b.networks.of(ev.SourceIPAddress, Network)
	}
	if e.network != "" {
		dst = append(dst, slotted{Fact{DimNetwork, e.network}, slotNetwork})
	}
	if ev.UserAgent != e.agent {
		e.agent, e.family = ev.UserAgent, b.agents.of(ev.UserAgent, UserAgentFamily)
	}
	if e.family != "" {
		dst = append(dst, slotted{Fact{DimUserAgent, e.family}, slotAgent})
	}
	if a := ev.Account(); a != "" {
		dst = append(dst, slotted{Fact{DimAccount, a}, slotAccount})
	}
	if !ev.EventTime.IsZero() {
		t := ev.EventTime.UTC()
		dst = append(dst, slotted{Fact{DimHour, hours[t.Hour()]}, slotHour})
	}
	return dst
}

// api returns the API fact of an event: "<service>:<event name>".
func (b *Baseline) api(ev *cloudtrail.Event) string {
	names := b.apis[ev.EventSource]
	if names == nil {
		names = make(map[string]string)
		b.apis[ev.EventSource] = names
	}
	api, ok := names[ev.EventName]
	if !ok {
		api = ev.Service() + ":" + ev.EventName
		if len(names) < 5000 {
			names[ev.EventName] = api
		}
	}
	return api
}

var hours = func() (h [24]string) {
	for i := range h {
		h[i] = fmt.Sprintf("%02d", i)
	}
	return h
}()

// Network returns the network of a source address: its /24 for IPv4, its
// /48 for IPv6. Service names (calls made by AWS services) and anything that
// is not an address give "". Addresses with leading zeros, as anonymised
// logs write them, are read digit by digit.
func Network(src string) string {
	if src == "" || strings.HasSuffix(src, ".amazonaws.com") || strings.EqualFold(src, "AWS Internal") {
		return ""
	}
	if a, err := netip.ParseAddr(src); err == nil {
		bits := 24
		if a.Is6() && !a.Is4In6() {
			bits = 48
		}
		p, err := a.Unmap().Prefix(bits)
		if err != nil {
			return ""
		}
		return p.String()
	}
	parts := strings.Split(src, ".")
	if len(parts) != 4 {
		return ""
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return ""
		}
	}
	return strconv.Itoa(atoi(parts[0])) + "." + strconv.Itoa(atoi(parts[1])) + "." + strconv.Itoa(atoi(parts[2])) + ".0/24"
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// habitAge is how old the first occurrence of a behaviour must be for it to
// count as a habit: an attacker repeating a burst within the day is not
// establishing one.
const habitAge = 24 * time.Hour

// Habitual records that the identity did something countable (a burst of
// reconnaissance, say) and reports whether it is a habit: done before, on
// an earlier day, in which case the behaviour is part of its baseline.
func (b *Baseline) Habitual(ctx context.Context, key, what string, at time.Time) (bool, error) {
	e, err := b.load(ctx, key)
	if err != nil {
		return false, err
	}
	f := Fact{DimBurst, what}
	if seen, ok := e.profile.Get(f); ok {
		e.profile.Add(f, at)
		return at.Sub(seen.First) >= habitAge, nil
	}
	added, err := b.store.AddFact(ctx, key, f, at, "")
	if err != nil {
		return false, fmt.Errorf("record %s for %s: %w", what, key, err)
	}
	e.profile.Add(f, at)
	if added {
		return false, nil
	}
	// Another detector recorded it since this one loaded the profile:
	// when is the store's to say.
	p, err := b.store.LoadProfile(ctx, key)
	if err != nil {
		return false, fmt.Errorf("load profile of %s: %w", key, err)
	}
	seen, ok := p.Get(f)
	if !ok {
		return false, nil
	}
	e.profile.Add(f, seen.First)
	return at.Sub(seen.First) >= habitAge, nil
}
