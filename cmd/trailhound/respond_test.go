package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
)

// TestRespondByHand runs `trailhound respond` with the caller's own
// credentials (for a fresh account of the emulator) on an incident naming
// a rule on the default bus and an attacker's access key: dry-run changes
// nothing, enforce deletes the rule and deactivates the key, a second run
// decides nothing new, and --undo brings the rule back.
func TestRespondByHand(t *testing.T) {
	base := awstest.Config(t)
	ctx := t.Context()
	account := awstest.NewAccount()
	acfg := awstest.AccountConfig(t, base, account, "responder")
	creds, err := acfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", creds.SessionToken)

	eb, iamc := eventbridge.NewFromConfig(acfg), iam.NewFromConfig(acfg)
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("nightly-sync"), ScheduleExpression: aws.String("rate(1 hour)")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mallory")})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(key.AccessKey.AccessKeyId)
	origin := "arn:aws:iam::" + account + ":user/mallory"
	inc := incident.Incident{ID: "inc-cli-" + account, Policy: "lambda-backdoor",
		Identity: incident.Identity{Origin: origin, Key: origin, Type: "IAMUser", Name: "mallory", Accounts: []string{account}},
		Resources: []detection.Resource{
			{Type: "events:rule", ARN: aws.ToString(rule.RuleArn), Region: base.Region},
			{Type: "iam:access-key", ID: keyID},
		}}
	dir := t.TempDir()
	incFile, state := filepath.Join(dir, "incident.json"), filepath.Join(dir, "response.db")
	b, _ := json.Marshal(inc)
	if err := os.WriteFile(incFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ruleExists := func() bool {
		_, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nightly-sync")})
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException" {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true
	}
	keyStatus := func() string {
		out, err := iamc.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("mallory")})
		if err != nil || len(out.AccessKeyMetadata) != 1 {
			t.Fatalf("keys: %v %v", out, err)
		}
		return string(out.AccessKeyMetadata[0].Status)
	}

	stdout, stderr, code := runCLI(t, "respond", "--incident", incFile, "--state", state)
	if code != 0 || strings.Count(stdout, "planned  dry-run") != 2 || !ruleExists() || keyStatus() != "Active" {
		t.Fatalf("dry-run: exit %d, rule exists %v, key %s\n%s%s", code, ruleExists(), keyStatus(), stdout, stderr)
	}

	stdout, stderr, code = runCLI(t, "respond", "--incident", incFile, "--state", state, "--mode", "enforce")
	if code != 0 || strings.Count(stdout, "done     enforce") != 2 || ruleExists() || keyStatus() != "Inactive" {
		t.Fatalf("enforce: exit %d, rule exists %v, key %s\n%s%s", code, ruleExists(), keyStatus(), stdout, stderr)
	}
	m := regexp.MustCompile(`done     enforce  delete-eventbridge-rule \S+ \[[^]]*\] audit (aud-[0-9a-f]+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no audit id for the rule in:\n%s", stdout)
	}

	stdout, _, code = runCLI(t, "respond", "--incident", incFile, "--state", state, "--mode", "enforce")
	if code != 0 || strings.Count(stdout, "decided earlier") != 2 {
		t.Errorf("second enforce: exit %d, want both decisions from earlier:\n%s", code, stdout)
	}

	stdout, stderr, code = runCLI(t, "respond", "--undo", m[1], "--state", state)
	if code != 0 || !strings.HasPrefix(stdout, "undone  delete-eventbridge-rule") || !ruleExists() {
		t.Errorf("undo: exit %d, rule exists %v\n%s%s", code, ruleExists(), stdout, stderr)
	}

	// A same-named rule of another account is never touched with these
	// credentials.
	other := inc
	other.ID = "inc-cli-other-" + account
	other.Resources = []detection.Resource{{Type: "events:rule", ARN: "arn:aws:events:" + base.Region + ":210987654321:rule/nightly-sync", Region: base.Region}}
	b, _ = json.Marshal(other)
	otherFile := filepath.Join(dir, "other.json")
	if err := os.WriteFile(otherFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runCLI(t, "respond", "--incident", otherFile, "--state", state, "--mode", "enforce")
	if code != exitError || !strings.Contains(stdout, "credentials for "+account) || !ruleExists() {
		t.Errorf("rule of another account: exit %d, rule exists %v\n%s", code, ruleExists(), stdout)
	}

	if _, _, code := runCLI(t, "respond", "--undo", m[1]); code != exitUsage {
		t.Errorf("--undo without --state: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "respond", "--incident", incFile, "--mode", "yes"); code != exitUsage {
		t.Errorf("--mode yes: exit %d, want %d", code, exitUsage)
	}
}
