package detection

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// Tags say what a signal means to the composite policies (package incident).
const (
	TagAnomaly          = "anomaly"           // unusual network, tool, region, hour, role
	TagRoleHop          = "role-hop"          // a role assumed outside the identity's habits
	TagRecon            = "recon"             // enumeration
	TagAccessDenied     = "access-denied"     // repeated failures
	TagCredentialAccess = "credential-access" // secrets, passwords, keys read
	TagCredentialGrant  = "credential-grant"  // keys, passwords, tokens created
	TagPermissionGrant  = "permission-grant"  // policies attached, trust opened
	TagLambdaChange     = "lambda-change"     // function created or modified
	TagLambdaTrigger    = "lambda-trigger"    // rule, target, event source or permission wiring a function
	TagLoggingWeakened  = "logging-weakened"  // CloudTrail, GuardDuty, Config, ... weakened
	TagRecoveryRemoved  = "recovery-removed"  // versioning, backups, snapshots removed
	TagDataUnreadable   = "data-unreadable"   // KMS keys disabled or deleted, encryption changed
	TagComputeLaunch    = "compute-launch"    // instances launched
	TagQuota            = "quota"             // service quota increases
	TagIngressOpen      = "ingress-open"      // network opened to the world
	TagShareOut         = "share-out"         // data shared outside the account
	TagRoot             = "root"              // the root user
	TagExecution        = "execution"         // commands run on instances
	TagInitialAccess    = "initial-access"    // console logins
	TagSelf             = "trailhound"        // Trailhound's own resources touched
)

// Op is a condition's comparison.
type Op string

// The comparisons a Cond can make. String comparisons are case-sensitive
// unless the op says otherwise; a field holding an array matches when any
// element does.
const (
	Equals     Op = "equals"      // the field equals one of Values
	EqualsFold Op = "equals-fold" // … ignoring case
	Contains   Op = "contains"    // the field contains one of Values
	HasPrefix  Op = "prefix"      // the field starts with one of Values
	HasSuffix  Op = "suffix"      // the field ends with one of Values
	Exists     Op = "exists"      // the field is present and not null or empty
	Matches    Op = "matches"     // the field matches the regular expression Values[0]
	Is         Op = "is"          // the named predicate Values[0] holds for the field
)

// Cond is one condition on an event field. Field is a top-level record
// field ("errorCode", "userAgent", "userIdentity.type", …) or a gjson path
// into requestParameters, responseElements, additionalEventData or
// serviceEventDetails ("requestParameters.policyArn").
type Cond struct {
	Field  string
	Op     Op
	Values []string
	// Not inverts the condition.
	Not bool
}

// Ref extracts a resource or a fact from the event.
type Ref struct {
	// Name is the fact's name, or the resource type ("events:rule",
	// "lambda:function", "iam:access-key", "iam:user", "iam:role", …).
	Name string
	// Field is where the value is, as in Cond.
	Field string
}

// Rule is one single-event detection: declared as data, with its evidence
// in testdata/rules/<ID>.jsonl.
type Rule struct {
	ID        string
	Severity  Severity
	Attack    []string
	Rationale string
	// Stratus lists the Stratus Red Team techniques the rule catches.
	Stratus []string
	// Tags feed the composite policies.
	Tags []string
	// Source and Events select the events the rule looks at.
	Source string
	Events []string
	// Where holds further conditions, all of which must hold.
	Where []Cond
	// Resources and Facts are copied from the event into the signal.
	Resources []Ref
	Facts     []Ref
	// SuccessOnly skips failed calls. Otherwise a failed call still
	// signals, one severity lower, as an attempt.
	SuccessOnly bool
}

var attackID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
var ruleID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Catalogue is a validated set of rules indexed by event source and name.
type Catalogue struct {
	rules []Rule
	index map[eventKey][]int
	// patterns[i][j] is the compiled pattern of condition j of rule i,
	// when it matches one.
	patterns [][]*pattern
	preds    map[string]Predicate
	// memo caches pattern matches on short values: user agents and the
	// like repeat across millions of events.
	mu   sync.Mutex
	memo map[memoKey]bool
}

// eventKey indexes rules by event source and name.
type eventKey struct{ source, name string }

type memoKey struct {
	re    *regexp.Regexp
	value string
}

// pattern is a compiled pattern with the last value it was matched on: the
// user agent of an event is matched by several conditions, and consecutive
// events often share theirs (the decoder interns them, so comparing is a
// pointer comparison), which spares hashing it into the memo.
type pattern struct {
	re    *regexp.Regexp
	last  string
	lastV bool
	seen  bool
}

// maxMemo bounds the match cache; it is cleared when full.
const maxMemo = 50000

// matchString matches re against s, memoised for short values.
func (c *Catalogue) matchString(p *pattern, s string) bool {
	re := p.re
	if len(s) > 400 {
		return re.MatchString(s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.seen && p.last == s {
		return p.lastV
	}
	k := memoKey{re, s}
	v, ok := c.memo[k]
	if !ok {
		v = re.MatchString(s)
		if len(c.memo) >= maxMemo {
			clear(c.memo)
		}
		c.memo[k] = v
	}
	p.last, p.lastV, p.seen = s, v, true
	return v
}

// NewCatalogue validates the rules (unique well-formed ids, ATT&CK ids, a
// rationale, a source and events, known ops and predicates, compilable
// patterns) and indexes them. It reports every problem at once.
func NewCatalogue(rules []Rule, preds map[string]Predicate) (*Catalogue, error) {
	c := &Catalogue{rules: rules, index: map[eventKey][]int{}, patterns: make([][]*pattern, len(rules)), preds: preds, memo: map[memoKey]bool{}}
	compiled := map[string]*regexp.Regexp{}
	var problems []string
	seen := map[string]bool{}
	for i, r := range rules {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("rule %d (%s): %s", i, r.ID, fmt.Sprintf(format, args...)))
		}
		if !ruleID.MatchString(r.ID) {
			bad("id must be lower-case words joined by dashes")
		}
		if seen[r.ID] {
			bad("duplicate id")
		}
		seen[r.ID] = true
		if len(r.Attack) == 0 {
			bad("no ATT&CK technique")
		}
		for _, a := range r.Attack {
			if !attackID.MatchString(a) {
				bad("malformed ATT&CK id %q", a)
			}
		}
		if strings.TrimSpace(r.Rationale) == "" {
			bad("no rationale")
		}
		if r.Severity < Info || r.Severity > Critical {
			bad("severity out of range")
		}
		if r.Source == "" || len(r.Events) == 0 {
			bad("no event source or names")
		}
		for j, cond := range r.Where {
			switch cond.Op {
			case Equals, EqualsFold, Contains, HasPrefix, HasSuffix:
				if len(cond.Values) == 0 {
					bad("condition on %s has no values", cond.Field)
				}
			case Exists:
			case Matches:
				if len(cond.Values) != 1 {
					bad("matches on %s needs one pattern", cond.Field)
					continue
				}
				re := compiled[cond.Values[0]]
				if re == nil {
					var err error
					if re, err = regexp.Compile(cond.Values[0]); err != nil {
						bad("pattern on %s: %v", cond.Field, err)
						continue
					}
					compiled[cond.Values[0]] = re
				}
				if c.patterns[i] == nil {
					c.patterns[i] = make([]*pattern, len(r.Where))
				}
				c.patterns[i][j] = &pattern{re: re}
			case Is:
				if len(cond.Values) != 1 || preds[cond.Values[0]] == nil {
					bad("unknown predicate %v on %s", cond.Values, cond.Field)
				}
			default:
				bad("unknown op %q on %s", cond.Op, cond.Field)
			}
			if cond.Field == "" {
				bad("condition without a field")
			}
		}
		for _, e := range r.Events {
			k := eventKey{r.Source, e}
			c.index[k] = append(c.index[k], i)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("invalid catalogue:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// Rules returns the catalogue's rules.
func (c *Catalogue) Rules() []Rule { return c.rules }

// Rule returns the rule with the id.
func (c *Catalogue) Rule(id string) (Rule, bool) {
	for _, r := range c.rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Evaluate returns the signals the rules raise for one event. Only the
// rules indexed under the event's source and name are checked.
func (c *Catalogue) Evaluate(ev *cloudtrail.Event, at identity.Attribution) []Signal {
	out := c.AppendUnnamed(nil, ev, at)
	for i := range out {
		out[i].ID = SignalID(ev.EventID, out[i].Kind)
	}
	return out
}

// AppendUnnamed appends the signals Evaluate returns to dst, without their
// ids, for a caller that names them itself (the pipeline names each by its
// fold slot) and reuses dst from event to event.
func (c *Catalogue) AppendUnnamed(dst []Signal, ev *cloudtrail.Event, at identity.Attribution) []Signal {
	idx := c.index[eventKey{ev.EventSource, ev.EventName}]
	for _, i := range idx {
		r := &c.rules[i]
		if r.SuccessOnly && ev.ErrorCode != "" {
			continue
		}
		if !c.match(i, ev, &at) {
			continue
		}
		dst = append(dst, c.signal(r, ev, at))
	}
	return dst
}

// match reports whether the event meets rule i's conditions. It takes the
// conditions and the attribution by reference: it runs for every event a
// rule or a burst is indexed under, for each condition.
func (c *Catalogue) match(i int, ev *cloudtrail.Event, at *identity.Attribution) bool {
	where := c.rules[i].Where
	for j := range where {
		cond := &where[j]
		var p *pattern
		if c.patterns[i] != nil {
			p = c.patterns[i][j]
		}
		if c.holds(cond, p, ev, at) == cond.Not {
			return false
		}
	}
	return true
}

func (c *Catalogue) holds(cond *Cond, p *pattern, ev *cloudtrail.Event, at *identity.Attribution) bool {
	v := Field(ev, cond.Field)
	switch cond.Op {
	case Exists:
		return v.Exists() && v.Type != gjson.Null && v.String() != "" && v.Raw != "{}" && v.Raw != "[]"
	case Is:
		return c.preds[cond.Values[0]](Context{Event: ev, Attribution: *at}, v)
	}
	return anyString(v, func(s string) bool {
		switch cond.Op {
		case Equals:
			return in(s, cond.Values, func(a, b string) bool { return a == b })
		case EqualsFold:
			return in(s, cond.Values, strings.EqualFold)
		case Contains:
			return in(s, cond.Values, strings.Contains)
		case HasPrefix:
			return in(s, cond.Values, strings.HasPrefix)
		case HasSuffix:
			return in(s, cond.Values, strings.HasSuffix)
		case Matches:
			return c.matchString(p, s)
		}
		return false
	})
}

func in(s string, values []string, f func(string, string) bool) bool {
	for _, v := range values {
		if f(s, v) {
			return true
		}
	}
	return false
}

// anyString applies f to the value, or to each leaf of an array.
func anyString(v gjson.Result, f func(string) bool) bool {
	if !v.Exists() {
		return false
	}
	if v.IsArray() {
		found := false
		v.ForEach(func(_, e gjson.Result) bool {
			found = anyString(e, f)
			return !found
		})
		return found
	}
	return f(v.String())
}

func (c *Catalogue) signal(r *Rule, ev *cloudtrail.Event, at identity.Attribution) Signal {
	sev := r.Severity
	rationale := r.Rationale
	if ev.ErrorCode != "" {
		if sev > Low {
			sev--
		}
		rationale += " (attempt failed: " + ev.ErrorCode + ")"
	}
	if at.InvokedBy != "" && sev > Info {
		// A service acting on the principal's behalf (CloudFormation):
		// attributed, but weighed lower.
		sev--
		rationale += " (through " + at.InvokedBy + ")"
	}
	s := newSignal(ev, at, r.ID, sev, r.Attack, rationale)
	s.Tags = r.Tags
	for _, ref := range r.Facts {
		if v := Field(ev, ref.Field); v.Exists() && v.Type != gjson.Null {
			if s.Facts == nil {
				s.Facts = map[string]string{}
			}
			s.Facts[ref.Name] = v.String()
		}
	}
	for _, ref := range r.Resources {
		anyString(Field(ev, ref.Field), func(v string) bool {
			if v != "" {
				s.Resources = append(s.Resources, NewResource(ref.Name, v, ev))
			}
			return false
		})
	}
	return s
}

// NewSignal builds a signal for an event with the event's facts filled in.
func NewSignal(ev *cloudtrail.Event, at identity.Attribution, kind string, sev Severity, attack []string, rationale string) Signal {
	s := newSignal(ev, at, kind, sev, attack, rationale)
	s.ID = SignalID(ev.EventID, kind)
	return s
}

// NewSlotSignal is NewSignal for a signal that stands for a slot of events
// rather than for one: its id is SlotID(kind, slot...).
func NewSlotSignal(ev *cloudtrail.Event, at identity.Attribution, kind string, sev Severity, attack []string, rationale string, slot ...string) Signal {
	s := newSignal(ev, at, kind, sev, attack, rationale)
	s.ID = SlotID(kind, slot...)
	return s
}

// newSignal is NewSignal without the id, for signals named otherwise.
func newSignal(ev *cloudtrail.Event, at identity.Attribution, kind string, sev Severity, attack []string, rationale string) Signal {
	s := Signal{
		Kind:           kind,
		Severity:       sev,
		Attack:         attack,
		Identity:       at.Origin,
		EventID:        ev.EventID,
		EventName:      ev.EventName,
		EventSource:    ev.EventSource,
		Time:           ev.EventTime,
		Account:        ev.Account(),
		Region:         ev.AWSRegion,
		SourceIP:       ev.SourceIPAddress,
		UserAgent:      ev.UserAgent,
		ErrorCode:      ev.ErrorCode,
		Rationale:      rationale,
		ServiceInvoked: at.InvokedBy,
	}
	if k := ev.UserIdentity.AccessKeyID; strings.HasPrefix(k, "AKIA") {
		// Long-term keys are what a responder deactivates.
		s.Facts = map[string]string{"access_key_id": k}
	}
	return s
}

// NewResource names a resource from a value found in an event. An ARN is
// kept as the ARN; a bare name of a resource type whose ARN can be built
// from the event's account and region (a function, a rule on the default
// bus, a role, a user) becomes that ARN, so that responders get targets
// they can act on; anything else is kept as an id.
func NewResource(typ, value string, ev *cloudtrail.Event) Resource {
	if strings.HasPrefix(value, "arn:") {
		return Resource{Type: typ, ARN: value, Region: regionOfARN(value, ev.AWSRegion)}
	}
	account, region := ev.Account(), ev.AWSRegion
	if account != "" && !strings.ContainsAny(value, ":/ ") {
		switch typ {
		case "lambda:function":
			return Resource{Type: typ, ARN: "arn:aws:lambda:" + region + ":" + account + ":function:" + value, Region: region}
		case "events:rule":
			return Resource{Type: typ, ARN: "arn:aws:events:" + region + ":" + account + ":rule/" + value, Region: region}
		case "iam:role":
			return Resource{Type: typ, ARN: "arn:aws:iam::" + account + ":role/" + value}
		case "iam:user":
			return Resource{Type: typ, ARN: "arn:aws:iam::" + account + ":user/" + value}
		}
	}
	return Resource{Type: typ, ID: value, Region: region}
}

// regionOfARN returns an ARN's region field, or def for global ARNs.
func regionOfARN(arn, def string) string {
	// "arn:partition:service:region:account…": the fourth field, when
	// there are five.
	rest := arn
	var field string
	for range 4 {
		var ok bool
		if field, rest, ok = strings.Cut(rest, ":"); !ok {
			return def
		}
	}
	return field
}

// Field returns a field of the event: a top-level field, or a gjson path
// into one of its JSON bodies.
func Field(ev *cloudtrail.Event, path string) gjson.Result {
	head, rest, _ := strings.Cut(path, ".")
	switch head {
	case "requestParameters":
		return sub(ev.RequestParameters, rest)
	case "responseElements":
		return sub(ev.ResponseElements, rest)
	case "additionalEventData":
		return sub(ev.AdditionalEventData, rest)
	case "serviceEventDetails":
		return sub(ev.ServiceEventDetails, rest)
	case "userIdentity":
		return str(userIdentityField(&ev.UserIdentity, rest))
	}
	switch path {
	case "eventName":
		return str(ev.EventName)
	case "eventSource":
		return str(ev.EventSource)
	case "errorCode":
		return str(ev.ErrorCode)
	case "errorMessage":
		return str(ev.ErrorMessage)
	case "userAgent":
		return str(ev.UserAgent)
	case "sourceIPAddress":
		return str(ev.SourceIPAddress)
	case "awsRegion":
		return str(ev.AWSRegion)
	case "eventType":
		return str(ev.EventType)
	case "recipientAccountId":
		return str(ev.RecipientAccountID)
	case "sessionCredentialFromConsole":
		return str(ev.SessionCredentialFromConsole)
	case "readOnly":
		if ev.ReadOnly == nil {
			return gjson.Result{}
		}
		return gjson.Result{Type: gjson.True, Str: fmt.Sprint(*ev.ReadOnly), Raw: fmt.Sprint(*ev.ReadOnly)}
	}
	return gjson.Result{}
}

func userIdentityField(ui *cloudtrail.UserIdentity, f string) string {
	switch f {
	case "type":
		return ui.Type
	case "arn":
		return ui.ARN
	case "userName":
		return ui.UserName
	case "accountId":
		return ui.AccountID
	case "accessKeyId":
		return ui.AccessKeyID
	case "invokedBy":
		return ui.InvokedBy
	case "principalId":
		return ui.PrincipalID
	case "sessionContext.sessionIssuer.arn":
		if ui.SessionContext != nil {
			return ui.SessionContext.SessionIssuer.ARN
		}
	case "sessionContext.sessionIssuer.type":
		if ui.SessionContext != nil {
			return ui.SessionContext.SessionIssuer.Type
		}
	case "sessionContext.attributes.mfaAuthenticated":
		if ui.SessionContext != nil {
			return ui.SessionContext.Attributes.MFAAuthenticated
		}
	case "sessionContext.ec2RoleDelivery":
		if ui.SessionContext != nil {
			return ui.SessionContext.EC2RoleDelivery
		}
	}
	return ""
}

func sub(raw []byte, path string) gjson.Result {
	if len(raw) == 0 {
		return gjson.Result{}
	}
	if path == "" {
		return gjson.ParseBytes(raw)
	}
	return gjson.GetBytes(raw, path)
}

func str(s string) gjson.Result {
	if s == "" {
		return gjson.Result{}
	}
	return gjson.Result{Type: gjson.String, Str: s}
}

// Context is what a predicate sees.
type Context struct {
	Event       *cloudtrail.Event
	Attribution identity.Attribution
}

// Predicate is a named condition too rich for a comparison: a policy
// document granting everything, a principal outside the account.
type Predicate func(c Context, v gjson.Result) bool
