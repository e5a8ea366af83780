package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/response"
)

// ContextKey is the cdk.json context key holding the whole configuration,
// as one object (or, from `cdk synth -c`, as a JSON string).
const ContextKey = "trailhound"

// Functions are the Lambda functions, in the order of the pipeline; each
// is deployed from <artefacts>/<name>/bootstrap (`make build`).
var Functions = []string{"detector", "correlator", "responder"}

// Physical names other accounts refer to, so they must be fixed.
const (
	// ResponderRoleName is the responder's role in the security account:
	// the member accounts' response role trusts only this role.
	ResponderRoleName = "trailhound-responder"
	// ForwardRuleName is the member accounts' rule on the default bus.
	ForwardRuleName = "trailhound-forward"
	// forwardRolePrefix starts the name of the role EventBridge uses to
	// deliver a member region's events (one per region: IAM is global).
	forwardRolePrefix = "trailhound-forward-"
)

// Config is everything a deployer sets, read from the cdk.json context key
// ContextKey. JSON names are the keys a deployer writes; Validate's
// messages name them.
type Config struct {
	// SecurityAccount is the account the security stack is deployed in.
	SecurityAccount string `json:"security_account"`
	// HomeRegion is the security stack's region, where the bus is.
	HomeRegion string `json:"home_region"`
	// OrganizationID admits the organisation's accounts to the bus.
	OrganizationID string `json:"organization_id"`
	// MemberAccounts get a member stack per region in MemberRegions (one
	// CDK stage each); list the security account too to watch it.
	MemberAccounts []string `json:"member_accounts"`
	// MemberRegions are the enabled regions; the first hosts the
	// account's response role (IAM is global).
	MemberRegions []string `json:"member_regions"`
	// StackSetTemplate adds the environment-agnostic member stack
	// TrailhoundMemberStackSet, for a service-managed StackSet.
	StackSetTemplate bool `json:"stackset_template"`
	// BusName is the Trailhound bus in the security account.
	BusName string `json:"bus_name"`
	// LearningEvents and LearningDays set the learning period of a new
	// identity (nil: the functions' defaults).
	LearningEvents *int64   `json:"learning_events"`
	LearningDays   *float64 `json:"learning_days"`
	// SignalTTLDays is how long signals are kept (nil: the default).
	SignalTTLDays *float64 `json:"signal_ttl_days"`
	// CorrelatorEveryMinutes is the correlator's schedule.
	CorrelatorEveryMinutes int `json:"correlator_every_minutes"`
	// SilenceAlarmMinutes raises the silence alarm when the detector has
	// received no event for that long.
	SilenceAlarmMinutes int `json:"silence_alarm_minutes"`
	// LogRetentionDays is the functions' log retention.
	LogRetentionDays int `json:"log_retention_days"`
	// LogLevel is the functions' log level (empty: info).
	LogLevel string `json:"log_level"`
	// IncidentSubscriptions receive every incident; AlarmSubscriptions the
	// operational alarms.
	IncidentSubscriptions []Subscription `json:"incident_subscriptions"`
	AlarmSubscriptions    []Subscription `json:"alarm_subscriptions"`
	// Response is the responder's configuration, passed to it as JSON in
	// response.EnvConfig; RoleName and ExternalID also shape the member
	// accounts' response role.
	Response response.Config `json:"response"`
	// RetainData keeps the table when the stack is deleted (default true).
	RetainData *bool `json:"retain_data"`
	// Artefacts is the folder holding <function>/bootstrap, relative to
	// where cdk runs (the repository root).
	Artefacts string `json:"artefacts"`
}

// Subscription is one subscriber of a topic.
type Subscription struct {
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
}

// Defaults.
const (
	DefaultBusName             = "trailhound"
	DefaultCorrelatorMinutes   = 1
	DefaultSilenceAlarmMinutes = 60
	DefaultLogRetentionDays    = 90
	DefaultArtefacts           = "dist"
)

// ParseContext decodes the context value (as TryGetContext returns it)
// strictly, applies the defaults and validates the result.
func ParseContext(value any) (Config, error) {
	var c Config
	if value == nil {
		return c, fmt.Errorf("cdk.json context %q is missing: copy the sample cdk.json and set your accounts", ContextKey)
	}
	raw, ok := value.(string)
	if !ok {
		b, err := json.Marshal(value)
		if err != nil {
			return c, fmt.Errorf("cdk.json context %q: %w", ContextKey, err)
		}
		raw = string(b)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("cdk.json context %q: %w", ContextKey, err)
	}
	c.applyDefaults()
	return c, c.Validate()
}

func (c *Config) applyDefaults() {
	if c.BusName == "" {
		c.BusName = DefaultBusName
	}
	if c.CorrelatorEveryMinutes == 0 {
		c.CorrelatorEveryMinutes = DefaultCorrelatorMinutes
	}
	if c.SilenceAlarmMinutes == 0 {
		c.SilenceAlarmMinutes = DefaultSilenceAlarmMinutes
	}
	if c.LogRetentionDays == 0 {
		c.LogRetentionDays = DefaultLogRetentionDays
	}
	if c.Artefacts == "" {
		c.Artefacts = DefaultArtefacts
	}
	if c.RetainData == nil {
		t := true
		c.RetainData = &t
	}
}

var (
	accountRe    = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	orgRe        = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	busNameRe    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)
	roleNameRe   = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	externalIDRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/_-]+$`)
	smsRe        = regexp.MustCompile(`^\+[0-9]{6,15}$`)
)

// globalEventsRegion is where EventBridge receives the CloudTrail events
// of global services (IAM, STS's global endpoint, Organizations).
const globalEventsRegion = "us-east-1"

// logRetentionDays are the retention periods CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// subscriptionEndpoints are the topic protocols accepted and what their
// endpoint must look like.
var subscriptionEndpoints = map[string]struct {
	valid func(string) bool
	want  string
}{
	"email":      {func(e string) bool { return strings.Count(e, "@") == 1 && !strings.ContainsAny(e, " \t") }, "an e-mail address"},
	"email-json": {func(e string) bool { return strings.Count(e, "@") == 1 && !strings.ContainsAny(e, " \t") }, "an e-mail address"},
	"https":      {func(e string) bool { return strings.HasPrefix(e, "https://") && len(e) > len("https://") }, "an https:// URL"},
	"sms":        {smsRe.MatchString, "a phone number in E.164 form (+44…)"},
	"sqs":        {func(e string) bool { return strings.HasPrefix(e, "arn:aws:sqs:") }, "an SQS queue ARN"},
	"lambda":     {func(e string) bool { return strings.HasPrefix(e, "arn:aws:lambda:") }, "a Lambda function ARN"},
}

// Validate reports every problem at once, each naming its cdk.json key.
func (c Config) Validate() error {
	var problems []string
	bad := func(key, format string, args ...any) {
		if key != "" {
			key = "." + key
		}
		problems = append(problems, fmt.Sprintf("cdk.json context %s%s: %s", ContextKey, key, fmt.Sprintf(format, args...)))
	}
	if !accountRe.MatchString(c.SecurityAccount) {
		bad("security_account", "%q is not a 12-digit account id", c.SecurityAccount)
	}
	if !regionRe.MatchString(c.HomeRegion) {
		bad("home_region", "%q is not a region name (eu-west-1, us-east-1, …)", c.HomeRegion)
	}
	if !orgRe.MatchString(c.OrganizationID) {
		bad("organization_id", "%q is not an organisation id (o- and 10 to 32 lower-case letters or digits)", c.OrganizationID)
	}
	// list reports each item of a list that does not match re, or is listed twice.
	list := func(name string, items []string, re *regexp.Regexp, what string) {
		seen := map[string]bool{}
		for i, v := range items {
			key := fmt.Sprintf("%s[%d]", name, i)
			switch {
			case !re.MatchString(v):
				bad(key, "%q is not %s", v, what)
			case seen[v]:
				bad(key, "%q is listed twice", v)
			}
			seen[v] = true
		}
	}
	list("member_accounts", c.MemberAccounts, accountRe, "a 12-digit account id")
	if len(c.MemberAccounts) > 0 && len(c.MemberRegions) == 0 {
		bad("member_regions", "required with member_accounts: the regions whose CloudTrail events are forwarded")
	}
	list("member_regions", c.MemberRegions, regionRe, "a region name (eu-west-1, us-east-1, …)")
	if len(c.MemberRegions) > 0 && !slices.Contains(c.MemberRegions, globalEventsRegion) {
		bad("member_regions", "must include %s: IAM, STS's global endpoint, Organizations and the other global services deliver their CloudTrail events to EventBridge there only", globalEventsRegion)
	}
	if !busNameRe.MatchString(c.BusName) || c.BusName == "default" {
		bad("bus_name", "%q is not a custom event bus name (letters, digits, . _ -; not default)", c.BusName)
	}
	if c.LearningEvents != nil && *c.LearningEvents < 0 {
		bad("learning_events", "%d is negative", *c.LearningEvents)
	}
	if c.LearningDays != nil && (*c.LearningDays < 0 || *c.LearningDays > 365) {
		bad("learning_days", "%v is not between 0 and 365", *c.LearningDays)
	}
	if c.SignalTTLDays != nil && (*c.SignalTTLDays < 1 || *c.SignalTTLDays > 400) {
		bad("signal_ttl_days", "%v is not between 1 and 400", *c.SignalTTLDays)
	}
	if c.CorrelatorEveryMinutes < 1 || c.CorrelatorEveryMinutes > 60 {
		bad("correlator_every_minutes", "%d is not between 1 and 60", c.CorrelatorEveryMinutes)
	}
	if c.SilenceAlarmMinutes < 5 || c.SilenceAlarmMinutes > 1440 {
		bad("silence_alarm_minutes", "%d is not between 5 and 1440 (a day)", c.SilenceAlarmMinutes)
	}
	if !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		bad("log_retention_days", "%d is not a retention CloudWatch Logs offers (%s)", c.LogRetentionDays, joinInts(logRetentionDays))
	}
	if c.LogLevel != "" {
		switch strings.ToLower(c.LogLevel) {
		case "debug", "info", "warn", "error":
		default:
			bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
		}
	}
	for _, list := range []struct {
		key  string
		subs []Subscription
	}{{"incident_subscriptions", c.IncidentSubscriptions}, {"alarm_subscriptions", c.AlarmSubscriptions}} {
		for i, s := range list.subs {
			key := fmt.Sprintf("%s[%d]", list.key, i)
			p, ok := subscriptionEndpoints[s.Protocol]
			if !ok {
				bad(key+".protocol", "unknown protocol %q (%s)", s.Protocol, strings.Join(sortedKeys(subscriptionEndpoints), ", "))
				continue
			}
			if !p.valid(s.Endpoint) {
				bad(key+".endpoint", "%q is not %s", s.Endpoint, p.want)
			}
		}
	}
	if err := c.Response.Validate(); err != nil {
		bad("response", "%v", err)
	}
	needsRole := len(c.MemberAccounts) > 0 || c.StackSetTemplate
	switch {
	case c.Response.RoleName == "" && needsRole:
		bad("response.role_name", "required with member accounts: the name of the response role the member stacks create")
	case c.Response.RoleName != "" && !roleNameRe.MatchString(c.Response.RoleName):
		bad("response.role_name", "%q is not an IAM role name (1 to 64 of letters, digits, +=,.@_-)", c.Response.RoleName)
	}
	if id := c.Response.ExternalID; id != "" && (len(id) < 2 || len(id) > 1224 || !externalIDRe.MatchString(id)) {
		bad("response.external_id", "not an external id (2 to 1224 of letters, digits, +=,.@:/_-)")
	}
	for _, fn := range Functions {
		p := filepath.Join(c.Artefacts, fn, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			bad("artefacts", "%s not found: run `make build` first (%v)", p, errors.Unwrap(err))
		}
	}
	// The functions validate their own environment at cold start; do it
	// here too, so a value they would refuse fails the synth instead.
	if _, err := config.Load(mapGetenv(c.functionEnvironment()), config.Need{}); err != nil {
		bad("", "the functions would refuse this configuration: %v", err)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// functionEnvironment is the environment every function gets, apart from
// the names of the resources (table, bus, correlator).
func (c Config) functionEnvironment() map[string]string {
	env := map[string]string{}
	if c.LearningEvents != nil {
		env[config.EnvLearningEvents] = strconv.FormatInt(*c.LearningEvents, 10)
	}
	if c.LearningDays != nil {
		env[config.EnvLearningDays] = strconv.FormatFloat(*c.LearningDays, 'f', -1, 64)
	}
	if c.SignalTTLDays != nil {
		env[config.EnvSignalTTLDays] = strconv.FormatFloat(*c.SignalTTLDays, 'f', -1, 64)
	}
	if c.LogLevel != "" {
		env[config.EnvLogLevel] = strings.ToLower(c.LogLevel)
	}
	return env
}

// ResponseConfig is the responder's configuration as deployed: the
// deployer's, with Trailhound's own roles and the deployment roles added
// to the allow-list, so the responder never acts on them.
func (c Config) ResponseConfig() response.Config {
	rc := c.Response
	rc.Allow = append(slices.Clone(rc.Allow),
		"arn:aws:iam::"+c.SecurityAccount+":role/"+ResponderRoleName,
		"arn:aws:iam::*:role/"+forwardRolePrefix+"*",
		"arn:aws:iam::*:role/cdk-hnb659fds-*",                        // the CDK deployment roles (cdk bootstrap, default qualifier)
		"arn:aws:iam::*:role/stacksets-exec-*",                       // self-managed StackSets execution
		"arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole", // service-managed StackSets execution
	)
	if rc.RoleName != "" {
		rc.Allow = append(rc.Allow, "arn:aws:iam::*:role/"+rc.RoleName)
	}
	return rc
}

// ResponseConfigJSON is ResponseConfig in the form the responder reads
// from response.EnvConfig, checked by the responder's own parser.
func (c Config) ResponseConfigJSON() (string, error) {
	b, err := json.Marshal(c.ResponseConfig())
	if err != nil {
		return "", fmt.Errorf("cdk.json context %s.response: %w", ContextKey, err)
	}
	if _, err := response.ParseConfig(b); err != nil {
		return "", fmt.Errorf("cdk.json context %s.response: %w", ContextKey, err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// correlatorTimeout is the correlator's timeout: one schedule interval,
// so a slow run overlaps the next one at most once.
func (c Config) correlatorTimeout() time.Duration {
	return time.Duration(c.CorrelatorEveryMinutes) * time.Minute
}

func mapGetenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
