// Package response turns an incident into actions in the member account
// where the attacker is: a table of actions (each with the IAM permissions
// it needs), a plan per incident, and (with the responder) the executor.
//
// Planning is pure: it reads the incident's identity, policy and resources
// and says which action, on which target, and why. Every action is planned
// in dry-run; the responder's per-account configuration decides what is
// enforced.
package response

import (
	"sort"
	"strings"

	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
)

// Action is one kind of response, declared as data.
type Action struct {
	Name string
	// Permissions are the IAM actions it needs in the member account; the
	// member stack's response role is built from this table.
	Permissions []string
	// Targets is the resource type it acts on.
	Target string
	// Description says what it does, and how it is undone.
	Description string
}

// Actions returns the response actions.
func Actions() []Action {
	return []Action{
		{
			Name: "deactivate-access-key", Target: "iam:access-key",
			Permissions: []string{"iam:UpdateAccessKey", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"},
			Description: "sets the access key Inactive (never deletes it); undo reactivates it",
		},
		{
			Name: "revoke-role-sessions", Target: "iam:role",
			Permissions: []string{"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy"},
			Description: "puts an inline deny-all policy on the role for tokens issued before now; undo removes it",
		},
		{
			Name: "delete-eventbridge-rule", Target: "events:rule",
			Permissions: []string{"events:DescribeRule", "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule", "events:PutRule", "events:PutTargets"},
			Description: "saves the rule and its targets, removes the targets, deletes the rule; undo recreates both",
		},
		{
			Name: "disable-lambda", Target: "lambda:function",
			Permissions: []string{"lambda:GetFunction", "lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetPolicy", "lambda:RemovePermission", "lambda:AddPermission"},
			Description: "sets reserved concurrency to 0 and removes the permissions the attacker added, keeping the code; undo restores both",
		},
		{
			Name: "quarantine-user", Target: "iam:user",
			Permissions: []string{"iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:ListAttachedUserPolicies"},
			Description: "attaches AWS's deny-all managed policy (AWSDenyAll) to the user; undo detaches it",
		},
	}
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

	for _, r := range inc.Resources {
		if r.Type == "iam:access-key" && r.ID != "" {
			add("deactivate-access-key", r.ID, "", "", "a long-term key used or created by the identity")
		}
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
