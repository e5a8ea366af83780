package tests

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
)

// TestDemoStory replays events/demo, the shipped six-day scenario, and
// checks the incidents field by field: three, all chris@corp.ai's, with the
// role chain into both accounts, the attacker's network and tool, the
// planted rules and functions, and the plan to remove them; nothing on the
// CI role, the scanner, the engineers or the services.
func TestDemoStory(t *testing.T) {
	dir := filepath.Join("..", "events", "demo")
	truth := groundTruth(t, filepath.Join(dir, "ground-truth.txt"))
	res := replayPipeline(t, dir)
	rep := res.report
	if rep.SkippedRecords() != 0 || rep.Events != 13347 {
		t.Fatalf("replayed %d events, skipped %v; want 13347, none skipped", rep.Events, rep.Skipped)
	}

	const (
		chris   = "arn:aws:identitystore:::user/chris@corp.ai"
		sso     = "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_AdministratorAccess_5f2a8c1e9d7b3a4f/chris@corp.ai"
		lmProd  = "arn:aws:sts::222222222222:assumed-role/lambdaManager-role/chris"
		lmDev   = "arn:aws:sts::333333333333:assumed-role/lambdaManager-role/chris"
		evilIP  = "185.220.101.47"
		kaliCLI = "aws-cli/1.29.62 Python/3.11.6 Linux/6.5.0-kali3-amd64 botocore/1.31.62"
	)
	var got []string
	for _, inc := range res.incidents {
		got = append(got, inc.Policy+" "+inc.Severity.String()+" "+inc.Identity.Origin)
	}
	want := []string{
		"compromised-credentials high " + chris,
		"privilege-escalation high " + chris,
		"lambda-backdoor critical " + chris,
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("incidents (-want +got):\n%s", diff)
	}

	attackStart := time.Date(2026, 11, 21, 2, 10, 0, 0, time.UTC)
	attackEnd := time.Date(2026, 11, 21, 2, 50, 0, 0, time.UTC)
	for _, inc := range res.incidents {
		t.Run(inc.Policy, func(t *testing.T) {
			id := inc.Identity
			if id.Type != "IdentityCenterUser" || id.Name != "chris@corp.ai" || !id.Resolved || id.Key != chris {
				t.Errorf("identity %+v", id)
			}
			if id.Chain[0] != chris || id.Chain[1] != sso {
				t.Errorf("chain %v does not start chris@corp.ai -> the AdministratorAccess session", id.Chain)
			}
			if inc.FirstSeen.Before(attackStart) || inc.LastSeen.After(attackEnd) {
				t.Errorf("incident spans %v to %v, outside the attack", inc.FirstSeen, inc.LastSeen)
			}
			if inc.ID == "" || inc.Summary == "" || len(inc.Attack) == 0 || len(inc.Actions) == 0 {
				t.Errorf("incomplete record: id %q, summary %q, attack %v, %d actions", inc.ID, inc.Summary, inc.Attack, len(inc.Actions))
			}
			for _, s := range inc.Signals {
				if !truth[s.EventID] && s.EventName != "AssumeRoleWithSAML" {
					t.Errorf("signal %s on event %s (%s) is not an attack event", s.Kind, s.EventID, s.EventName)
				}
			}
			if !slices.Contains(inc.Facts.SourceIPs, evilIP) || !slices.Contains(inc.Facts.UserAgents, kaliCLI) {
				t.Errorf("facts %+v lack the attacker's network and tool", inc.Facts)
			}
			for _, a := range inc.Actions {
				if a.Mode != incident.ModeDryRun || a.Status != incident.StatusPlanned || a.Reason == "" {
					t.Errorf("action %+v is not a planned dry run with a reason", a)
				}
			}
		})
	}

	backdoor := res.incidents[slices.IndexFunc(res.incidents, func(i incident.Incident) bool { return i.Policy == "lambda-backdoor" })]
	if backdoor.Severity != detection.Critical {
		t.Errorf("lambda-backdoor severity %s", backdoor.Severity)
	}
	if !slices.ContainsFunc(backdoor.Identity.Chains, func(c []string) bool {
		return slices.Equal(c, []string{chris, sso, lmProd, lmDev})
	}) {
		t.Errorf("chains %v lack chris -> SSO -> lambdaManager (prod) -> lambdaManager (dev)", backdoor.Identity.Chains)
	}
	if diff := cmp.Diff([]string{"222222222222", "333333333333"}, backdoor.Identity.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	rules := []string{
		"arn:aws:events:us-east-1:222222222222:rule/sys-health-check-schedule",
		"arn:aws:events:eu-west-1:333333333333:rule/sys-health-check-schedule",
		"arn:aws:events:us-west-2:333333333333:rule/sys-health-check-schedule",
	}
	functions := []string{
		"arn:aws:lambda:us-east-1:222222222222:function:sys-health-check",
		"arn:aws:lambda:eu-west-1:333333333333:function:sys-health-check",
		"arn:aws:lambda:us-west-2:333333333333:function:sys-health-check",
	}
	for _, r := range rules {
		if !planned(backdoor, "delete-eventbridge-rule", r) {
			t.Errorf("plan does not delete %s: %+v", r, backdoor.Actions)
		}
	}
	for _, f := range functions {
		if !planned(backdoor, "disable-lambda", f) {
			t.Errorf("plan does not disable %s", f)
		}
	}
	for _, role := range []string{"arn:aws:iam::222222222222:role/lambdaManager-role", "arn:aws:iam::333333333333:role/lambdaManager-role"} {
		if !planned(backdoor, "revoke-role-sessions", role) {
			t.Errorf("plan does not revoke %s", role)
		}
	}
	if !planned(backdoor, "revoke-role-sessions", "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_5f2a8c1e9d7b3a4f") {
		t.Errorf("plan does not address the Identity Center session")
	}

	// The recon bursts stand for the whole enumeration: the incident lists
	// every API it called and counts its refused calls, not only the
	// calls that crossed a threshold.
	compromised := res.incidents[slices.IndexFunc(res.incidents, func(i incident.Incident) bool { return i.Policy == "compromised-credentials" })]
	for _, api := range []string{"iam:ListUsers", "iam:GetAccountAuthorizationDetails", "organizations:ListAccounts", "s3:ListBuckets", "ec2:DescribeVpcs", "ec2:DescribeRouteTables"} {
		if !slices.Contains(compromised.Facts.APIs, api) {
			t.Errorf("compromised-credentials facts lack the recon call %s: %v", api, compromised.Facts.APIs)
		}
	}
	if f := compromised.Facts; f.Errors < 4 || f.Errors > f.Events {
		t.Errorf("compromised-credentials counts %d failed calls of %d; the recon had 4 refused or failed calls before its burst", f.Errors, f.Events)
	}

	escalation := res.incidents[slices.IndexFunc(res.incidents, func(i incident.Incident) bool { return i.Policy == "privilege-escalation" })]
	if !slices.ContainsFunc(escalation.Actions, func(a incident.Action) bool {
		return a.Action == "deactivate-access-key" && strings.HasPrefix(a.Target, "AKIA")
	}) {
		t.Errorf("plan does not deactivate the key planted on svc-reporting: %+v", escalation.Actions)
	}
}

func planned(inc incident.Incident, action, target string) bool {
	return slices.ContainsFunc(inc.Actions, func(a incident.Action) bool { return a.Action == action && a.Target == target })
}

// groundTruth reads the demo's attack event ids.
func groundTruth(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			EventID string `json:"eventID"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		ids[line.EventID] = true
	}
	if len(ids) == 0 {
		t.Fatal("empty ground truth")
	}
	return ids
}
