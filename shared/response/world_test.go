package response_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/response"
)

// world is one member account in the emulator with the resources an
// attacker leaves behind: an IAM user with an access key, a role the
// attacker worked through, an EventBridge rule on a custom bus targeting a
// planted Lambda function that the attacker let the rule invoke, and a
// user the attacker made administrator.
type world struct {
	t       *testing.T
	ctx     context.Context
	base    aws.Config
	account string
	region  string
	iam     *iam.Client
	events  *eventbridge.Client
	lambda  *lambda.Client

	user, key, role, victim  string
	bus, rule, ruleARN       string
	function, functionARN    string
	backdoorSid, keepSid     string
	legitimateSourceARN      string
	responseRole, externalID string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	base := awstest.Config(t)
	w := &world{t: t, ctx: t.Context(), base: base, account: awstest.NewAccount(), region: "eu-west-1",
		user: "mallory", role: "lambdaManager-role", victim: "svc-reporting", bus: "apps", rule: "sys-health-check-schedule",
		function: "sys-health-check", backdoorSid: "backdoor-invoke", keepSid: "s3-invoke",
		responseRole: "incident-response", externalID: "trailhound-test"}
	acfg := awstest.AccountConfig(t, base, w.account, "setup")
	rcfg := acfg.Copy()
	rcfg.Region = w.region
	w.iam, w.events, w.lambda = iam.NewFromConfig(acfg), eventbridge.NewFromConfig(rcfg), lambda.NewFromConfig(rcfg)
	ctx := w.ctx
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setting up %s: %v", what, err)
		}
	}
	for _, u := range []string{w.user, w.victim} {
		_, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})
		must("user "+u, err)
	}
	k, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(w.user)})
	must("access key", err)
	w.key = aws.ToString(k.AccessKey.AccessKeyId)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(w.role), AssumeRolePolicyDocument: aws.String(trust)})
	must("role", err)

	_, err = w.events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(w.bus)})
	must("bus", err)
	r, err := w.events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(w.rule), EventBusName: aws.String(w.bus),
		EventPattern: aws.String(`{"source":["aws.health"]}`), Description: aws.String("health check")})
	must("rule", err)
	w.ruleARN = aws.ToString(r.RuleArn)

	fn, err := w.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(w.function),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Role: role.Role.Arn,
		Code: &lambdatypes.FunctionCode{ZipFile: awstest.FunctionZip(t)}})
	must("function", err)
	w.functionARN = aws.ToString(fn.FunctionArn)
	_, err = w.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(w.function), StatementId: aws.String(w.backdoorSid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(w.ruleARN)})
	must("backdoor permission", err)
	w.legitimateSourceARN = "arn:aws:s3:::reports-" + w.account
	_, err = w.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(w.function), StatementId: aws.String(w.keepSid),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String(w.legitimateSourceARN),
		SourceAccount: aws.String(w.account)})
	must("legitimate permission", err)
	_, err = w.events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(w.rule), EventBusName: aws.String(w.bus),
		Targets: []ebtypes.Target{{Id: aws.String("planted"), Arn: aws.String(w.functionARN), Input: aws.String(`{"check":"all"}`)}}})
	must("rule target", err)
	return w
}

// roleARN, userARN name the world's principals.
func (w *world) roleARN() string { return "arn:aws:iam::" + w.account + ":role/" + w.role }
func (w *world) userARN(u string) string {
	return "arn:aws:iam::" + w.account + ":user/" + u
}

// incident is a backdoor incident naming the world's resources, with a
// plan of every action on them.
func (w *world) incident() (*incident.Incident, []incident.Action) {
	origin := w.userARN(w.user)
	inc := &incident.Incident{ID: "inc-" + w.account, Policy: "lambda-backdoor",
		Identity: incident.Identity{Origin: origin, Key: origin, Type: "IAMUser", Name: w.user,
			Chains: [][]string{{origin, "arn:aws:sts::" + w.account + ":assumed-role/" + w.role + "/mallory"}}, Accounts: []string{w.account}},
		Resources: []detection.Resource{
			{Type: "events:rule", ARN: w.ruleARN, Region: w.region},
			{Type: "lambda:function", ARN: w.functionARN, Region: w.region},
			{Type: "iam:access-key", ID: w.key},
			{Type: "iam:user", ARN: w.userARN(w.victim)},
		}}
	plan := []incident.Action{
		{Action: "deactivate-access-key", Target: w.key, Reason: "a key used by the attacker"},
		{Action: "revoke-role-sessions", Target: w.roleARN(), Account: w.account, Reason: "the attacker worked through the role"},
		{Action: "delete-eventbridge-rule", Target: w.ruleARN, Account: w.account, Region: w.region, Reason: "the rule triggers the planted function"},
		{Action: "disable-lambda", Target: w.functionARN, Account: w.account, Region: w.region, Reason: "the planted function"},
		{Action: "quarantine-user", Target: w.userARN(w.victim), Account: w.account, Reason: "made administrator by the attacker"},
	}
	for i := range plan {
		plan[i].Mode, plan[i].Status = incident.ModeDryRun, incident.StatusPlanned
	}
	return inc, plan
}

// config returns a response configuration for the world's account in
// mode, through the response role.
func (w *world) config(mode string) response.Config {
	return response.Config{RoleName: w.responseRole, ExternalID: w.externalID,
		Accounts: map[string]response.AccountModes{w.account: {Default: mode}}}
}

// state is everything the actions change, read back through the SDK.
type state struct {
	KeyStatus      string
	RevokePolicy   string // the inline policy's document, "" when absent
	Rule           *ruleSnapshot
	Concurrency    *int32
	Statements     []string // sids of the function's resource policy
	VictimPolicies []string
}

type ruleSnapshot struct {
	Pattern, Description, State string
	Targets                     []string // id=arn input
}

func (w *world) state() state {
	w.t.Helper()
	ctx, t := w.ctx, w.t
	var s state
	keys, err := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(w.user)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == w.key {
			s.KeyStatus = string(k.Status)
		}
	}
	pol, err := w.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(w.role), PolicyName: aws.String(response.RevokePolicyName)})
	switch {
	case notFound(err):
	case err != nil:
		t.Fatal(err)
	default:
		s.RevokePolicy, _ = url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	}
	rule, err := w.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(w.rule), EventBusName: aws.String(w.bus)})
	switch {
	case notFound(err):
	case err != nil:
		t.Fatal(err)
	default:
		s.Rule = &ruleSnapshot{Pattern: aws.ToString(rule.EventPattern), Description: aws.ToString(rule.Description), State: string(rule.State)}
		targets, err := w.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(w.rule), EventBusName: aws.String(w.bus)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets.Targets {
			s.Rule.Targets = append(s.Rule.Targets, aws.ToString(tg.Id)+"="+aws.ToString(tg.Arn)+" "+aws.ToString(tg.Input))
		}
	}
	conc, err := w.lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(w.function)})
	if err != nil {
		t.Fatal(err)
	}
	s.Concurrency = conc.ReservedConcurrentExecutions
	fp, err := w.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(w.function)})
	switch {
	case notFound(err):
	case err != nil:
		t.Fatal(err)
	default:
		var doc struct{ Statement []struct{ Sid string } }
		if err := json.Unmarshal([]byte(aws.ToString(fp.Policy)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc.Statement {
			s.Statements = append(s.Statements, st.Sid)
		}
		sort.Strings(s.Statements)
	}
	att, err := w.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(w.victim)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range att.AttachedPolicies {
		s.VictimPolicies = append(s.VictimPolicies, aws.ToString(p.PolicyArn))
	}
	return s
}

func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchEntity" || api.ErrorCode() == "ResourceNotFoundException")
}

// fixedNow is the responder's clock in these tests, a whole second.
var fixedNow = time.Date(2026, 11, 28, 23, 40, 0, 0, time.UTC)
