package response

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Modes of an action in an account.
const (
	ModeOff     = "off"
	ModeDryRun  = "dry-run"
	ModeEnforce = "enforce"
)

// EnvConfig is the environment variable the responder reads its Config
// from, as JSON. The CDK app sets it from cdk.json's context.
const EnvConfig = "TRAILHOUND_RESPONSE_CONFIG"

// Config is the responder's configuration: what it may do, where, to whom.
// Its JSON form is what the CDK app writes into EnvConfig and what
// `trailhound respond --config` reads.
type Config struct {
	// KillSwitch, when true, turns every action everywhere into dry-run:
	// nothing is changed, every decision is still recorded.
	KillSwitch bool `json:"kill_switch"`
	// Default is the mode of every action in an account not listed in
	// Accounts (dry-run when empty).
	Default string `json:"default,omitempty"`
	// Accounts sets the modes per member account id.
	Accounts map[string]AccountModes `json:"accounts,omitempty"`
	// Allow lists principals never acted on, as ARN patterns where * matches
	// any run of characters (arn:aws:iam::*:role/BreakGlass*).
	Allow []string `json:"allow,omitempty"`
	// RoleName is the response role in every member account (the member
	// stack creates it); empty means act with the responder's own
	// credentials (the CLI, the account itself).
	RoleName string `json:"role_name,omitempty"`
	// ExternalID is required with RoleName: the response role trusts only
	// the responder's role with this external id.
	ExternalID string `json:"external_id,omitempty"`
	// MaxActionsPerHour caps the enforcing actions per account per hour;
	// beyond it actions are recorded as skipped. 0 means the default, 10.
	MaxActionsPerHour int `json:"max_actions_per_hour,omitempty"`
	// SharedRolePrincipals is how many distinct principals may have used a
	// role recently before revoking its sessions needs that action set to
	// enforce explicitly for the account (not only through its default).
	// 0 means the default, 3.
	SharedRolePrincipals int `json:"shared_role_principals,omitempty"`
}

// AccountModes are one account's modes: Default for every action, Actions
// per action name.
type AccountModes struct {
	Default string            `json:"default,omitempty"`
	Actions map[string]string `json:"actions,omitempty"`
}

// Defaults of Config's numeric settings.
const (
	DefaultMaxActionsPerHour    = 10
	DefaultSharedRolePrincipals = 3
)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// ParseConfig decodes a Config strictly (unknown fields are errors) and
// validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("response configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate reports every problem at once, each naming its field.
func (c Config) Validate() error {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+": "+fmt.Sprintf(format, args...))
	}
	known := map[string]bool{}
	for _, a := range Actions() {
		known[a.Name] = true
	}
	mode := func(field, m string) {
		switch m {
		case "", ModeOff, ModeDryRun, ModeEnforce:
		default:
			bad(field, "unknown mode %q (off, dry-run or enforce)", m)
		}
	}
	mode("default", c.Default)
	accounts := make([]string, 0, len(c.Accounts))
	for id := range c.Accounts {
		accounts = append(accounts, id)
	}
	sort.Strings(accounts)
	for _, id := range accounts {
		if !accountID.MatchString(id) {
			bad("accounts", "%q is not a 12-digit account id", id)
		}
		am := c.Accounts[id]
		mode("accounts."+id+".default", am.Default)
		names := make([]string, 0, len(am.Actions))
		for n := range am.Actions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if !known[n] {
				bad("accounts."+id+".actions", "unknown action %q", n)
			}
			mode("accounts."+id+".actions."+n, am.Actions[n])
		}
	}
	for i, p := range c.Allow {
		if !strings.HasPrefix(p, "arn:") {
			bad(fmt.Sprintf("allow[%d]", i), "%q is not an ARN pattern (arn:…, * as wildcard)", p)
		}
	}
	if c.RoleName != "" && c.ExternalID == "" {
		bad("external_id", "required with role_name: the response role trusts the responder only with an external id")
	}
	if c.MaxActionsPerHour < 0 {
		bad("max_actions_per_hour", "%d is negative", c.MaxActionsPerHour)
	}
	if c.SharedRolePrincipals < 0 {
		bad("shared_role_principals", "%d is negative", c.SharedRolePrincipals)
	}
	if len(problems) > 0 {
		return errors.New("response configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// ModeFor returns the mode of an action in an account, and whether it was
// set for that action explicitly (not through a default). The kill switch
// is applied by the executor, not here.
func (c Config) ModeFor(account, action string) (mode string, explicit bool) {
	if am, ok := c.Accounts[account]; ok {
		if m := am.Actions[action]; m != "" {
			return m, true
		}
		if am.Default != "" {
			return am.Default, false
		}
	}
	if c.Default != "" {
		return c.Default, false
	}
	return ModeDryRun, false
}

// ModeForDefault is the mode of an action in an account the configuration
// does not name.
func (c Config) ModeForDefault() string {
	m, _ := c.ModeFor("", "")
	return m
}

// Allowed reports whether the principal ARN matches the allow-list.
func (c Config) Allowed(arn string) bool {
	for _, p := range c.Allow {
		if matchARN(p, arn) {
			return true
		}
	}
	return false
}

// matchARN matches an ARN against a pattern where * is any run of
// characters (including / and :), as IAM's ArnLike does.
func matchARN(pattern, arn string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == arn
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(arn, parts[0]) {
		return false
	}
	rest := arn[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(rest, p) && len(rest) >= len(p)
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return true
}
