package detection

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// Burst is a detection over many events of one identity in a short window:
// reconnaissance, denials, bulk secret reads, commands on many instances.
// Bursts are declared as data like rules.
type Burst struct {
	ID        string
	Severity  Severity
	Attack    []string
	Rationale string
	Stratus   []string
	Tags      []string
	// Select chooses the events counted.
	Select Selector
	// Window is the sliding window.
	Window time.Duration
	// MinEvents is how many selected events the window needs.
	MinEvents int
	// Distinct, when set, counts distinct values instead: "service",
	// "region", "api", or a field path as in Cond (array values count each
	// element). MinDistinct is how many it needs.
	Distinct    string
	MinDistinct int
}

// Selector chooses events.
type Selector struct {
	// Source and Events, when set, restrict to those.
	Source string
	Events []string
	// ReadOnly keeps read-only calls (List, Describe, Get, …).
	ReadOnly bool
	// Denied keeps calls refused for lack of permission.
	Denied bool
	// Where holds further conditions.
	Where []Cond
}

// notConsole skips what the console does for a person browsing it: each
// page fans out into Describe calls across services and regions, made with
// the console's credentials, a browser's user agent, or the "AWS Internal"
// and aws-internal/ agents of the console's back ends.
var notConsole = []Cond{
	{Field: "sessionCredentialFromConsole", Op: Equals, Values: []string{"true"}, Not: true},
	{Field: "userAgent", Op: Matches, Values: []string{`^\[?(AWS Internal|Mozilla/|console\.[a-z0-9.-]*amazonaws\.com|signin\.amazonaws\.com)|aws-internal/`}, Not: true},
}

// Bursts returns Trailhound's burst detections.
func Bursts() []Burst {
	return []Burst{
		{
			ID: "recon-burst", Severity: Medium, Attack: []string{"T1580", "T1526", "T1087.004"}, Tags: []string{TagRecon},
			Rationale: "a burst of List/Describe/Get calls across many services: the identity is mapping the account",
			// Terraform and CloudFormation read everything they manage
			// before each plan.
			Select: Selector{ReadOnly: true, Where: append([]Cond{notIaC}, notConsole...)}, Window: 10 * time.Minute, MinEvents: 30, Distinct: "service", MinDistinct: 5,
		},
		{
			ID: "recon-regions", Severity: Medium, Attack: []string{"T1580"}, Tags: []string{TagRecon},
			Rationale: "read-only calls across many regions in a few minutes: the identity is looking for where things run",
			Select:    Selector{ReadOnly: true, Where: append([]Cond{notIaC}, notConsole...)}, Window: 10 * time.Minute, MinEvents: 10, Distinct: "region", MinDistinct: 4,
		},
		{
			ID: "access-denied-burst", Severity: Medium, Attack: []string{"T1580", "T1078.004"}, Tags: []string{TagAccessDenied},
			Rationale: "many calls refused for lack of permission: the identity is probing what its credentials allow",
			Stratus:   []string{"aws.credential-access.ec2-get-password-data"},
			Select:    Selector{Denied: true}, Window: 10 * time.Minute, MinEvents: 10,
		},
		{
			ID: "secrets-bulk-read", Severity: Medium, Attack: []string{"T1555.006"}, Tags: []string{TagCredentialAccess},
			Rationale: "many different Secrets Manager secrets read in a few minutes",
			Stratus:   []string{"aws.credential-access.secretsmanager-retrieve-secrets"},
			Select:    Selector{Source: "secretsmanager.amazonaws.com", Events: []string{"GetSecretValue"}, Where: []Cond{notIaC}},
			Window:    10 * time.Minute, MinEvents: 5, Distinct: "requestParameters.secretId", MinDistinct: 5,
		},
		{
			ID: "ssm-parameters-bulk-decrypt", Severity: Medium, Attack: []string{"T1555.006"}, Tags: []string{TagCredentialAccess},
			Rationale: "many SSM SecureString parameters decrypted in a few minutes",
			Stratus:   []string{"aws.credential-access.ssm-retrieve-securestring-parameters"},
			Select: Selector{Source: "ssm.amazonaws.com", Events: []string{"GetParameter", "GetParameters", "GetParametersByPath"},
				Where: []Cond{{Field: "requestParameters.withDecryption", Op: Equals, Values: []string{"true"}}, notIaC}},
			Window: 10 * time.Minute, MinEvents: 5,
		},
		{
			ID: "ssm-command-many-instances", Severity: Medium, Attack: []string{"T1651"}, Tags: []string{TagExecution},
			Rationale: "SSM commands sent to several instances in a few minutes",
			Stratus:   []string{"aws.execution.ssm-send-command", "aws.credential-access.ec2-steal-instance-credentials"},
			Select:    Selector{Source: "ssm.amazonaws.com", Events: []string{"SendCommand"}},
			Window:    10 * time.Minute, MinEvents: 1, Distinct: "requestParameters.instanceIds", MinDistinct: 3,
		},
		{
			ID: "ssm-session-many-instances", Severity: Medium, Attack: []string{"T1651"}, Tags: []string{TagExecution},
			Rationale: "SSM sessions opened on several instances in a few minutes",
			Stratus:   []string{"aws.execution.ssm-start-session"},
			Select:    Selector{Source: "ssm.amazonaws.com", Events: []string{"StartSession"}},
			Window:    10 * time.Minute, MinEvents: 1, Distinct: "requestParameters.target", MinDistinct: 3,
		},
		{
			ID: "instance-connect-many-instances", Severity: Medium, Attack: []string{"T1021.008"}, Tags: []string{TagExecution},
			Rationale: "SSH keys pushed with EC2 Instance Connect to several instances",
			Stratus:   []string{"aws.lateral-movement.ec2-instance-connect"},
			Select:    Selector{Source: "ec2-instance-connect.amazonaws.com", Events: []string{"SendSSHPublicKey"}},
			Window:    10 * time.Minute, MinEvents: 1, Distinct: "requestParameters.instanceId", MinDistinct: 2,
		},
		{
			ID: "console-login-failures", Severity: Medium, Attack: []string{"T1110"}, Tags: []string{TagAccessDenied, TagInitialAccess},
			Rationale: "repeated failed console logins",
			Select: Selector{Source: "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
				Where: []Cond{{Field: "responseElements.ConsoleLogin", Op: Equals, Values: []string{"Failure"}}}},
			Window: 15 * time.Minute, MinEvents: 3,
		},
		{
			ID: "instances-launched-mass", Severity: Medium, Attack: []string{"T1496"}, Tags: []string{TagComputeLaunch},
			Rationale: "many instance launches in a few minutes, or across several regions",
			Select:    Selector{Source: "ec2.amazonaws.com", Events: []string{"RunInstances"}},
			Window:    15 * time.Minute, MinEvents: 3, Distinct: "region", MinDistinct: 3,
		},
	}
}

// readPrefixes are the verbs of read-only calls, for records that lack the
// readOnly field.
var readPrefixes = []string{"List", "Describe", "Get", "Search", "Lookup", "BatchGet", "Scan", "Query"}

// deniedCodes are the error codes of refused calls.
func denied(code string) bool {
	return code != "" && (strings.Contains(code, "AccessDenied") || strings.Contains(code, "UnauthorizedOperation") ||
		strings.Contains(code, "Unauthorized") || code == "Forbidden")
}

// BurstDetector tracks bursts per identity in memory: a detector process
// sees its share of an identity's events (all of them in replay).
type BurstDetector struct {
	bursts []Burst
	cat    *Catalogue // for Cond evaluation
	state  map[string]*identityWindows
	limit  int
	// sameSelect[i] is an earlier burst with the same selector as burst i,
	// or -1; selected holds each burst's selection of the current event.
	// Bursts over the same events (the two reconnaissance bursts, with
	// their regular expressions on the user agent) select once.
	sameSelect []int
	selected   []bool
	apis       []api // see apiList
}

// api is an event source and name.
type api struct{ service, name string }

type hit struct {
	t  int64  // the event time, Unix nanoseconds (compared on every hit)
	id string // the event id: a redelivered event counts once
	// value is the one distinct value when one is set (a service, a
	// region or an API: no slice to allocate), values the values
	// otherwise.
	value   string
	one     bool
	failed  bool // the call returned an error
	values  []string
	service string
	region  string
	name    string
}

// window is one burst's sliding window for one identity, with the distinct
// values counted incrementally.
type window struct {
	// hits[first:] are the window's hits in time order (a late event is
	// put in its place), so that finding a time is a binary search: one
	// burst window is searched for every event a burst selects. Dropping moves
	// first; the hits move back to the front of the array once the
	// dropped ones are the larger part, so that appending reuses the
	// array instead of growing a new one every time a window slides past
	// its end (re-slicing from the front did that: 2 % of the bytes a
	// replay allocated).
	hits  []hit
	first int
	// counts counts the distinct values. The services and regions of a
	// window, facts of its signal, are gathered only when it signals.
	counts  map[string]int
	cooling time.Time // no new signal before this
}

type identityWindows struct {
	windows []*window
	touched time.Time
}

// NewBurstDetector validates the bursts and returns a detector holding at
// most maxIdentities identities' windows (least recently touched dropped).
func NewBurstDetector(bursts []Burst, preds map[string]Predicate, maxIdentities int) (*BurstDetector, error) {
	var rules []Rule
	for _, b := range bursts {
		events := b.Select.Events
		if len(events) == 0 {
			events = []string{"*"}
		}
		source := b.Select.Source
		if source == "" {
			source = "*"
		}
		rules = append(rules, Rule{ID: b.ID, Severity: b.Severity, Attack: b.Attack, Rationale: b.Rationale,
			Tags: b.Tags, Source: source, Events: events, Where: b.Select.Where})
		if b.Window <= 0 || (b.MinEvents <= 0 && b.MinDistinct <= 0) {
			return nil, fmt.Errorf("burst %s: needs a window and a threshold", b.ID)
		}
	}
	cat, err := NewCatalogue(rules, preds)
	if err != nil {
		return nil, err
	}
	if maxIdentities <= 0 {
		maxIdentities = 100000
	}
	same := make([]int, len(bursts))
	for i := range bursts {
		same[i] = slices.IndexFunc(bursts[:i], func(b Burst) bool { return reflect.DeepEqual(b.Select, bursts[i].Select) })
	}
	return &BurstDetector{bursts: bursts, cat: cat, state: map[string]*identityWindows{}, limit: maxIdentities,
		sameSelect: same, selected: make([]bool, len(bursts))}, nil
}

func (w *window) add(h hit) {
	i := w.first + w.search(h.t+1) // after the hits of its time or earlier
	w.hits = append(w.hits, h)
	if i < len(w.hits)-1 {
		// Delivered after later events: it goes in its place.
		copy(w.hits[i+1:], w.hits[i:len(w.hits)-1])
		w.hits[i] = h
	}
	if h.one {
		w.counts[h.value]++
	}
	for _, v := range h.values {
		w.counts[v]++
	}
}

// search returns the index in live() of the first hit at or after t.
func (w *window) search(t int64) int {
	live := w.live()
	return sort.Search(len(live), func(i int) bool { return live[i].t >= t })
}

// has reports whether the window already counts the event.
func (w *window) has(ev *cloudtrail.Event) bool {
	if ev.EventID == "" {
		return false
	}
	t := ev.EventTime.UnixNano()
	live := w.live()
	for i := w.search(t); i < len(live) && live[i].t == t; i++ {
		if live[i].id == ev.EventID {
			return true
		}
	}
	return false
}

// live returns the window's hits, oldest first.
func (w *window) live() []hit { return w.hits[w.first:] }

// drop forgets the oldest n hits.
func (w *window) drop(n int) {
	dec := func(m map[string]int, k string) {
		if m[k]--; m[k] <= 0 {
			delete(m, k)
		}
	}
	for _, h := range w.live()[:n] {
		if h.one {
			dec(w.counts, h.value)
		}
		for _, v := range h.values {
			dec(w.counts, v)
		}
	}
	w.first += n
	if live := len(w.hits) - w.first; live <= w.first {
		copy(w.hits, w.hits[w.first:])
		clear(w.hits[live:])
		w.hits, w.first = w.hits[:live], 0
	}
}

// Observe counts the event and returns the burst signals it completes.
func (d *BurstDetector) Observe(ev *cloudtrail.Event, at identity.Attribution) []Signal {
	if at.InvokedBy != "" {
		// A service working for the identity (Secrets Manager calling
		// KMS, CloudFormation deploying) is not the identity's own pace.
		return nil
	}
	var out []Signal
	var iw *identityWindows
	var key string
	for i := range d.bursts {
		b := &d.bursts[i]
		if j := d.sameSelect[i]; j >= 0 {
			d.selected[i] = d.selected[j]
		} else {
			d.selected[i] = d.selects(i, ev, &at)
		}
		if !d.selected[i] {
			continue
		}
		if iw == nil {
			key = at.Key()
			iw = d.state[key]
			if iw == nil {
				if len(d.state) >= d.limit {
					d.evict()
				}
				iw = &identityWindows{windows: make([]*window, len(d.bursts))}
				d.state[key] = iw
			}
			iw.touched = ev.EventTime
		}
		w := iw.windows[i]
		if w == nil {
			w = &window{counts: map[string]int{}}
			iw.windows[i] = w
		}
		if w.has(ev) {
			// Redelivered: EventBridge delivers at least once.
			continue
		}
		h := hit{t: ev.EventTime.UnixNano(), id: ev.EventID, service: ev.EventSource, region: ev.AWSRegion,
			name: ev.EventName, failed: ev.ErrorCode != ""}
		switch b.Distinct {
		case "":
		case "service":
			h.value, h.one = ev.EventSource, true
		case "region":
			h.value, h.one = ev.AWSRegion, true
		case "api":
			h.value, h.one = ev.EventSource+":"+ev.EventName, true
		default:
			anyString(Field(ev, b.Distinct), func(s string) bool {
				h.values = append(h.values, s)
				return false
			})
		}
		w.add(h)
		hits := w.live()
		cut := w.search(ev.EventTime.Add(-b.Window).UnixNano())
		if keep := 4 * max(b.MinEvents, b.MinDistinct, 16); len(hits)-cut > keep {
			cut = len(hits) - keep
		}
		if cut > 0 {
			w.drop(cut)
		}
		if ev.EventTime.Before(w.cooling) || len(w.live()) < b.MinEvents || len(w.counts) < b.MinDistinct {
			continue
		}
		w.cooling = ev.EventTime.Add(b.Window)
		s := newSignal(ev, at, b.ID, b.Severity, b.Attack, b.Rationale)
		// One per identity and window, whichever detector counts it.
		s.ID = WindowSlotID(b.ID, ev.EventTime, b.Window, key)
		s.Tags = b.Tags
		if s.Facts == nil {
			s.Facts = map[string]string{}
		}
		d.windowFacts(s.Facts, w.live())
		s.Facts["window"] = b.Window.String()
		if b.Distinct != "" && b.Distinct != "service" && b.Distinct != "region" {
			s.Facts["distinct"] = joinKeys(w.counts, 12)
		}
		out = append(out, s)
	}
	return out
}

func (d *BurstDetector) selects(i int, ev *cloudtrail.Event, at *identity.Attribution) bool {
	b := &d.bursts[i]
	sel := &b.Select
	if sel.Source != "" && ev.EventSource != sel.Source {
		return false
	}
	if len(sel.Events) > 0 && !slices.Contains(sel.Events, ev.EventName) {
		return false
	}
	if sel.ReadOnly {
		ro := ev.ReadOnly != nil && *ev.ReadOnly
		if ev.ReadOnly == nil {
			for _, p := range readPrefixes {
				ro = ro || strings.HasPrefix(ev.EventName, p)
			}
		}
		if !ro {
			return false
		}
	}
	if sel.Denied && !denied(ev.ErrorCode) {
		return false
	}
	return d.cat.match(i, ev, at)
}

// windowFacts tells a responder what a burst's window holds: how many
// events since when, how many failed, and their services, regions and
// APIs ("service:name", as incidents list them).
func (d *BurstDetector) windowFacts(facts map[string]string, hits []hit) {
	services, regions := map[string]int{}, map[string]int{}
	failed := 0
	for _, h := range hits {
		services[h.service]++
		regions[h.region]++
		if h.failed {
			failed++
		}
	}
	facts["events"] = strconv.Itoa(len(hits))
	facts["first"] = time.Unix(0, hits[0].t).UTC().Format(time.RFC3339)
	if failed > 0 {
		facts["errors"] = strconv.Itoa(failed)
	}
	facts["services"] = joinKeys(services, 12)
	facts["regions"] = joinKeys(regions, 20)
	facts["apis"] = d.apiList(hits, 20)
}

// apiList lists the distinct APIs of the hits, at most limit of them,
// sorted. A window holds up to a few hundred hits and a handful of APIs:
// the hits' APIs are sorted in a reused array and a name is built once per
// API, not per hit.
func (d *BurstDetector) apiList(hits []hit, limit int) string {
	all := d.apis[:0]
	for _, h := range hits {
		all = append(all, api{h.service, h.name})
	}
	slices.SortFunc(all, func(a, b api) int {
		return cmp.Or(strings.Compare(a.service, b.service), strings.Compare(a.name, b.name))
	})
	all = slices.Compact(all)
	d.apis = all[:0]
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = strings.TrimSuffix(a.service, ".amazonaws.com") + ":" + a.name
	}
	slices.Sort(names)
	return strings.Join(names[:min(len(names), limit)], ",")
}

func joinKeys(m map[string]int, limit int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	return strings.Join(keys, ",")
}

// evict drops the least recently touched half of the windows.
func (d *BurstDetector) evict() {
	type kv struct {
		k string
		t time.Time
	}
	all := make([]kv, 0, len(d.state))
	for k, iw := range d.state {
		all = append(all, kv{k, iw.touched})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	for _, e := range all[:len(all)/2] {
		delete(d.state, e.k)
	}
}
