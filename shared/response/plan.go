// Package response turns an incident into actions in the member account
// where the attacker is: a table of actions (each with the IAM permissions
// it needs and the functions that read, change and restore its target), a
// plan per incident, and the Executor that takes the decisions.
//
// Planning is pure: it reads the incident's identity, policy and resources
// and says which action, on which target, and why. Every action is planned
// in dry-run; the responder's Config (per account and action: off, dry-run
// or enforce; kill switch, allow-list, rate limit) decides what is
// enforced. The Executor reaches each member account through its response
// role (Accounts), records every decision in the store's audit log
// (store.AuditLog) before and after acting, so that a redelivered incident
// does nothing twice, and undoes an enforced action from its audit record.
//
// In the pipeline it follows the correlator: incidents -> responder ->
// actions, audit records and "Trailhound Response" events.
package response

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
)

// Action is one kind of response, declared as data, the way
// cloud-custodian declares its actions: its name, the IAM permissions it
// needs, and the functions that read the target's state (saved in the
// audit record), act on it, and undo the act from that saved state.
type Action struct {
	Name string
	// Permissions are the IAM actions it needs in the member account; the
	// member stack's response role is built from this table.
	Permissions []string
	// Targets is the resource type it acts on.
	Target string
	// Also are permissions it needs on another resource type than its
	// target's (the member stack grants each on that type).
	Also []Grant
	// Description says what it does, and how it is undone.
	Description string

	// locate finds the account of a target the plan gives without one,
	// among candidates (access keys).
	locate func(ctx context.Context, c *call, candidates []string) error
	// refuse says why a target is never acted on, from its name alone
	// ("" when it may be).
	refuse func(c *call) string
	// read returns the target's state: errMissing when it does not exist,
	// a *refusal when it is one never acted on.
	read func(ctx context.Context, c *call) ([]byte, error)
	// act changes the target, its state read before.
	act func(ctx context.Context, c *call, before []byte, now time.Time) error
	// undo restores the state read before act.
	undo func(ctx context.Context, c *call, before []byte) error
	// effect says what act does (or would do) to that state.
	effect func(c *call, before []byte) string
	// scope, when set, names what else of the incident the decision
	// depends on: a later version of the incident with a different scope
	// is decided again (see AuditID).
	scope func(c *call) string
}

// Grant is a permission an action needs on resources of another type than
// its target, optionally only towards one service (iam:PassedToService).
type Grant struct {
	Target      string
	Permissions []string
	PassedTo    string
}

// Actions returns the response actions.
func Actions() []Action {
	return []Action{deactivateAccessKey(), revokeRoleSessions(), deleteEventBridgeRule(), disableLambda(), quarantineUser()}
}

// Planner plans responses; it satisfies incident.Planner.
type Planner struct{}

// Plan returns the dry-run plan for an incident: contain the identity
// (deactivate the long-term keys it used or created, revoke the sessions of
// the roles it worked through, quarantine its IAM user), and remove what
// it planted (rules, functions) where the policy says so.
func (Planner) Plan(inc *incident.Incident) []incident.Action {
	var plan []incident.Action
	add := func(action, target, account, region, reason string) {
		for _, a := range plan {
			if a.Action == action && a.Target == target {
				return
			}
		}
		plan = append(plan, incident.Action{Action: action, Target: target, Account: account, Region: region,
			Mode: incident.ModeDryRun, Status: incident.StatusPlanned, Reason: reason})
	}
	id := inc.Identity

	if inc.Policy == "root-activity" || id.Type == identity.TypeRoot {
		add("none", id.Origin, identity.AccountOf(id.Origin), "", "the root user's sessions cannot be revoked by a policy: rotate the root password and MFA, and delete any root access key, by hand")
		return plan
	}

	if inc.Policy == "lambda-backdoor" {
		for _, r := range inc.Resources {
			target := r.ARN
			if target == "" {
				target = r.ID
			}
			switch r.Type {
			case "events:rule":
				add("delete-eventbridge-rule", target, identity.AccountOf(target), r.Region, "the rule triggers the planted function; its definition and targets are saved in the audit record")
			case "lambda:function":
				add("disable-lambda", target, identity.AccountOf(target), r.Region, "the function was created or changed by the attacker; concurrency 0 stops it, the code is kept for forensics")
			}
		}
	}

	keys := 0
	for _, r := range inc.Resources {
		if r.Type == "iam:access-key" && r.ID != "" {
			add("deactivate-access-key", r.ID, "", "", "a long-term key used or created by the identity")
			keys++
		}
	}
	// An IAM user whose credentials are compromised, with no key named:
	// every key of the user.
	if keys == 0 && id.Type == identity.TypeIAMUser && inc.Policy == "compromised-credentials" {
		add("deactivate-access-key", id.Origin, identity.AccountOf(id.Origin), "", "the IAM user's credentials are compromised and the incident names no key: every key of the user")
	}

	// Roles the identity worked through, and how wide revoking them is.
	users := map[string][]string{}
	for _, chain := range id.Chains {
		for _, hop := range chain {
			role := identity.RoleARNFromSession(hop)
			if role == "" {
				continue
			}
			users[role] = append(users[role], hop)
		}
	}
	roles := make([]string, 0, len(users))
	for r := range users {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, role := range roles {
		name := identity.RoleName(role)
		switch {
		case strings.HasPrefix(name, "AWSReservedSSO_"):
			add("revoke-role-sessions", role, identity.AccountOf(role), "",
				"an Identity Center permission-set role cannot be edited: deny the user through the permission set's inline policy (aws:userid / identitystore:UserId condition), or disable the user in Identity Center")
		case strings.HasPrefix(name, "AWSServiceRole"):
			add("revoke-role-sessions", role, identity.AccountOf(role), "", "a service-linked role cannot be revoked this way: contain the principal that uses it instead")
		default:
			add("revoke-role-sessions", role, identity.AccountOf(role), "",
				"the identity worked through this role; revoking denies every session of the role issued before now, not only the attacker's")
		}
	}
	if id.Type == identity.TypeIAMUser && (inc.Policy == "compromised-credentials" || inc.Policy == "privilege-escalation" || inc.Policy == "defense-evasion") {
		add("quarantine-user", id.Origin, identity.AccountOf(id.Origin), "", "the IAM user behind the incident")
	}
	if inc.Policy == "privilege-escalation" {
		for _, r := range inc.Resources {
			if r.Type == "iam:user" && r.ID != "" && r.ID != id.Name {
				add("quarantine-user", r.ID, "", "", "a user given credentials or administrator permissions by the identity")
			}
		}
	}
	return plan
}
