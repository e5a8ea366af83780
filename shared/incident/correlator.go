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
	"time"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// Store is what the correlator needs: recent signals, open incidents, and a
// watermark. The pipeline passes its store.Store through an adapter.
type Store interface {
	// SignalsSince returns the tagged signals (those policies read) with
	// time in [since, until), all identities, ordered by time.
	SignalsSince(ctx context.Context, since, until time.Time) ([]detection.Signal, error)
	// SignalsOf returns one identity's tagged signals with time in
	// [since, until), ordered by time.
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

// Correlator applies composite policies to recent signals.
type Correlator struct {
	store    Store
	policies []Policy
	planner  Planner
	opts     Options
	log      *slog.Logger
	maxWin   time.Duration
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
	mark, err := c.store.Watermark(ctx, c.opts.Watermark)
	if err != nil {
		return nil, fmt.Errorf("read watermark: %w", err)
	}
	since := mark.Add(-c.opts.Lateness)
	if mark.IsZero() {
		since = now.Add(-c.maxWin)
	}
	fresh, err := c.store.SignalsSince(ctx, since, now)
	if err != nil {
		return nil, fmt.Errorf("read signals since %s: %w", since.Format(time.RFC3339), err)
	}
	var keys []string
	seen := map[string]bool{}
	for _, s := range fresh {
		if len(s.Tags) == 0 {
			// No policy reads an untagged signal: it cannot change an
			// incident.
			continue
		}
		k := s.Identity.Key()
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var changed []Incident
	for _, k := range keys {
		incs, err := c.correlate(ctx, k, now)
		if err != nil {
			return changed, err
		}
		changed = append(changed, incs...)
	}
	if _, err := c.store.AdvanceWatermark(ctx, c.opts.Watermark, now); err != nil {
		return changed, fmt.Errorf("advance watermark: %w", err)
	}
	return changed, nil
}

// correlate evaluates every policy for one identity, retrying once when
// another correlator updated the same incident concurrently.
func (c *Correlator) correlate(ctx context.Context, key string, now time.Time) ([]Incident, error) {
	var out []Incident
	for attempt := 0; ; attempt++ {
		incs, err := c.correlateOnce(ctx, key, now)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue
		}
		out = append(out, incs...)
		return out, err
	}
}

func (c *Correlator) correlateOnce(ctx context.Context, key string, now time.Time) ([]Incident, error) {
	signals, err := c.store.SignalsOf(ctx, key, now.Add(-c.maxWin), now)
	if err != nil {
		return nil, fmt.Errorf("read signals of %s: %w", key, err)
	}
	if len(signals) == 0 {
		return nil, nil
	}
	// Incidents that may still be open for these signals: an incident stays
	// open while its signals keep coming within the quiet period.
	open, err := c.store.OpenIncidents(ctx, key, signals[0].Time.Add(-c.opts.Quiet))
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
			// Signals after the quiet period of the last incident start a
			// new one, which must stand on its own.
			known := map[string]bool{}
			for _, r := range prev.Signals {
				known[r.ID] = true
			}
			first := slices.IndexFunc(window, func(s detection.Signal) bool { return !known[s.ID] })
			if first >= 0 && window[first].Time.After(prev.LastSeen.Add(c.opts.Quiet)) {
				current = nil
				window = since(window, prev.LastSeen.Add(time.Nanosecond))
			}
		}
		used := p.match(window)
		if used == nil {
			continue
		}
		inc, ok := c.build(p, current, used, now)
		if !ok {
			continue
		}
		if err := c.store.PutIncident(ctx, inc); err != nil {
			return changed, fmt.Errorf("write incident %s: %w", inc.ID, err)
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "incident", slog.String("id", inc.ID), slog.String("policy", inc.Policy),
			slog.String("severity", inc.Severity.String()), slog.String("identity", inc.Identity.Origin), slog.Int("version", inc.Version))
		changed = append(changed, inc)
	}
	return changed, nil
}

// since returns the signals (ordered by time) at or after t.
func since(signals []detection.Signal, t time.Time) []detection.Signal {
	i, _ := slices.BinarySearchFunc(signals, t, func(s detection.Signal, t time.Time) int { return s.Time.Compare(t) })
	return signals[i:]
}

// build merges the signals into the open incident (or a new one) and
// reports whether anything changed.
func (c *Correlator) build(p *Policy, current *Incident, used []detection.Signal, now time.Time) (Incident, bool) {
	var inc Incident
	known := map[string]bool{}
	if current != nil {
		inc = *current
		for _, r := range inc.Signals {
			known[r.ID] = true
		}
	}
	added := false
	for _, s := range used {
		if known[s.ID] {
			continue
		}
		known[s.ID] = true
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

func ref(s detection.Signal) SignalRef {
	session := ""
	if n := len(s.Identity.Chain); n > 0 {
		session = s.Identity.Chain[n-1]
	}
	return SignalRef{ID: s.ID, Kind: s.Kind, Severity: s.Severity, EventID: s.EventID, EventName: s.EventName,
		Time: s.Time, Account: s.Account, Region: s.Region, Session: session, Rationale: s.Rationale}
}

// addSignalFacts folds one signal's event into the facts.
func (inc *Incident) addSignalFacts(s detection.Signal) {
	f := &inc.Facts
	f.Events++
	if s.ErrorCode != "" {
		f.Errors++
	}
	f.Regions = mergeStrings(f.Regions, s.Region)
	f.Services = mergeStrings(f.Services, s.EventSource)
	f.APIs = mergeStrings(f.APIs, strings.TrimSuffix(s.EventSource, ".amazonaws.com")+":"+s.EventName)
	f.SourceIPs = mergeStrings(f.SourceIPs, s.SourceIP)
	f.UserAgents = mergeStrings(f.UserAgents, s.UserAgent)
	if n, err := strconv.Atoi(s.Facts["events"]); err == nil && n > 1 {
		// A burst signal stands for many events.
		f.Events += n - 1
	}
	// A burst signal also lists the regions and services of its window.
	f.Regions = mergeStrings(f.Regions, strings.Split(s.Facts["regions"], ",")...)
	f.Services = mergeStrings(f.Services, strings.Split(s.Facts["services"], ",")...)
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
func chainResources(s detection.Signal) []detection.Resource {
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
// and unique.
func mergeStrings(have []string, add ...string) []string {
	out := slices.Clone(have)
	for _, v := range add {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
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
