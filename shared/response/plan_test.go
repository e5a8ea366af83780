package response_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/response"
)

func targets(plan []incident.Action) []string {
	var out []string
	for _, a := range plan {
		out = append(out, a.Action+" "+a.Target)
		if a.Mode != incident.ModeDryRun || a.Status != incident.StatusPlanned || a.Reason == "" {
			panic("action without dry-run mode, planned status and reason")
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	sso := "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123/chris@corp.ai"
	hop := "arn:aws:sts::222222222222:assumed-role/lambdaManager-role/chris"
	chris := "arn:aws:identitystore:::user/chris@corp.ai"
	tests := []struct {
		name string
		inc  incident.Incident
		want []string
	}{
		{
			name: "lambda backdoor by an Identity Center user through a role",
			inc: incident.Incident{Policy: "lambda-backdoor",
				Identity: incident.Identity{Origin: chris, Type: "IdentityCenterUser", Chains: [][]string{{chris, sso, hop}}},
				Resources: []detection.Resource{
					{Type: "events:rule", ARN: "arn:aws:events:us-east-1:222222222222:rule/r", Region: "us-east-1"},
					{Type: "lambda:function", ARN: "arn:aws:lambda:us-east-1:222222222222:function:f", Region: "us-east-1"},
					{Type: "iam:access-key", ID: "AKIAPLANTED"},
				}},
			want: []string{
				"delete-eventbridge-rule arn:aws:events:us-east-1:222222222222:rule/r",
				"disable-lambda arn:aws:lambda:us-east-1:222222222222:function:f",
				"deactivate-access-key AKIAPLANTED",
				"revoke-role-sessions arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
				"revoke-role-sessions arn:aws:iam::222222222222:role/lambdaManager-role",
			},
		},
		{
			name: "compromised IAM user: key and quarantine, no rule deletion outside a backdoor",
			inc: incident.Incident{Policy: "compromised-credentials",
				Identity: incident.Identity{Origin: "arn:aws:iam::111122223333:user/alice", Type: "IAMUser", Name: "alice",
					Chains: [][]string{{"arn:aws:iam::111122223333:user/alice"}}},
				Resources: []detection.Resource{{Type: "iam:access-key", ID: "AKIAALICE"}, {Type: "events:rule", ARN: "arn:aws:events:us-east-1:111122223333:rule/x"}}},
			want: []string{"deactivate-access-key AKIAALICE", "quarantine-user arn:aws:iam::111122223333:user/alice"},
		},
		{
			name: "compromised IAM user with no key named: all its keys",
			inc: incident.Incident{Policy: "compromised-credentials",
				Identity: incident.Identity{Origin: "arn:aws:iam::111122223333:user/bob", Type: "IAMUser", Name: "bob"}},
			want: []string{"deactivate-access-key arn:aws:iam::111122223333:user/bob", "quarantine-user arn:aws:iam::111122223333:user/bob"},
		},
		{
			name: "root is handled by hand",
			inc:  incident.Incident{Policy: "root-activity", Identity: incident.Identity{Origin: "arn:aws:iam::111122223333:root", Type: "Root"}},
			want: []string{"none arn:aws:iam::111122223333:root"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := targets(response.Planner{}.Plan(&tt.inc))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActionsDeclarePermissions(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range response.Actions() {
		if seen[a.Name] || len(a.Permissions) == 0 || a.Target == "" || a.Description == "" {
			t.Errorf("action %+v: duplicate or incomplete", a)
		}
		seen[a.Name] = true
		for _, p := range a.Permissions {
			if p == "*" || p[len(p)-1] == '*' {
				t.Errorf("action %s asks for a wildcard permission %s", a.Name, p)
			}
		}
	}
	for _, name := range []string{"deactivate-access-key", "revoke-role-sessions", "delete-eventbridge-rule", "disable-lambda", "quarantine-user"} {
		if !seen[name] {
			t.Errorf("DESIGN.md action %s missing", name)
		}
	}
}
