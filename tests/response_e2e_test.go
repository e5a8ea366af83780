package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// The demo's member accounts and what the attacker planted in them
// (events/demo/README.md).
var demoPlanted = []struct{ account, region string }{
	{"222222222222", "us-east-1"},
	{"333333333333", "eu-west-1"},
	{"333333333333", "us-west-2"},
}

const (
	demoRole     = "lambdaManager-role"
	demoFunction = "sys-health-check"
	demoRule     = "sys-health-check-schedule"
)

// demoServerless is the demo replayed once through the detector and
// correlator handlers against the emulator (TestLambdaPathEqualsReplay
// does it), and what the response check needs of it.
type demoServerless struct {
	cfg                  aws.Config
	st                   *dynamostore.Store
	eb                   *eventbridge.Client
	q                    *sqs.Client
	bus                  string
	incidents, responses string // queues subscribed to the bus
	now                  time.Time
}

// prepareDemoResponse subscribes the response check's queues to the bus and
// creates, before the replay, the resources the demo's incidents name (the
// roles the attacker worked through, the planted functions and their
// schedules) in the member accounts.
func prepareDemoResponse(t *testing.T, d *demoServerless) {
	t.Helper()
	ctx := context.Background()
	d.incidents = subscribe(t, ctx, d.eb, d.q, d.bus, fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, publish.Source, publish.DetailTypeIncident))
	d.responses = subscribe(t, ctx, d.eb, d.q, d.bus, fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, publish.Source, publish.DetailTypeResponse))
	for _, p := range demoPlanted {
		plant(t, d.cfg, p.account, p.region)
	}
}

// checkDemoResponse delivers every "Trailhound Incident" event the bus
// carried to the responder handler, with enforce for the demo's member
// accounts, through a response role assumed in each. Afterwards the
// backdoor rules are gone, the functions stopped with their trigger
// permission removed, the stolen role sessions revoked, the Identity Center
// role untouched (skipped, saying why), and every decision is in the audit
// log and on the bus as a "Trailhound Response" event, once.
func checkDemoResponse(t *testing.T, d *demoServerless) {
	ctx := context.Background()
	cfg, st, eb, q, bus, incidents, responses, now := d.cfg, d.st, d.eb, d.q, d.bus, d.incidents, d.responses, d.now
	rc := response.Config{RoleName: "incident-response", ExternalID: "trailhound-demo",
		Accounts: map[string]response.AccountModes{"222222222222": {Default: response.ModeEnforce}, "333333333333": {Default: response.ModeEnforce}}}
	exec, err := response.NewExecutor(rc, response.NewAccounts(cfg, nil, rc.RoleName, rc.ExternalID), st, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	responder := lambda.NewHandler(handler.NewResponder(response.Planner{}, exec, publish.New(eb, bus, nil), func() time.Time { return now }, nil).Handle)
	delivered := 0
	for _, body := range drain(t, ctx, q, incidents, 0) {
		if _, err := responder.Invoke(ctx, []byte(body)); err != nil {
			t.Fatalf("responder: %v", err)
		}
		delivered++
	}
	if delivered == 0 {
		t.Fatal("no incident reached the responder")
	}
	t.Logf("%d incident events through the responder", delivered)

	for _, p := range demoPlanted {
		acfg := awstest.AccountConfig(t, cfg, p.account, "check")
		acfg.Region = p.region
		ebc, lc := eventbridge.NewFromConfig(acfg), awslambda.NewFromConfig(acfg)
		if _, err := ebc.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(demoRule)}); !notFoundErr(err) {
			t.Errorf("backdoor rule in %s %s: DescribeRule = %v, want it gone", p.account, p.region, err)
		}
		conc, err := lc.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String(demoFunction)})
		if err != nil || conc.ReservedConcurrentExecutions == nil || *conc.ReservedConcurrentExecutions != 0 {
			t.Errorf("planted function in %s %s: concurrency %v (%v), want 0", p.account, p.region, conc, err)
		}
		if _, err := lc.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String(demoFunction)}); !notFoundErr(err) {
			t.Errorf("planted function in %s %s still has its trigger permission (%v)", p.account, p.region, err)
		}
	}
	for _, account := range []string{"222222222222", "333333333333"} {
		ic := iam.NewFromConfig(awstest.AccountConfig(t, cfg, account, "check"))
		pol, err := ic.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(demoRole), PolicyName: aws.String(response.RevokePolicyName)})
		if err != nil {
			t.Errorf("stolen sessions of %s in %s not revoked: %v", demoRole, account, err)
			continue
		}
		doc, err := url.QueryUnescape(aws.ToString(pol.PolicyDocument)) // IAM returns documents URL-encoded
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, "aws:TokenIssueTime") || !strings.Contains(doc, now.UTC().Format("2006-01-02T15:04:05Z")) {
			t.Errorf("revoke policy of %s in %s: %s, want sessions issued before %v denied", demoRole, account, doc, now)
		}
	}

	// The audit log: every decision, by incident.
	all, err := st.Incidents(ctx, store.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var records []store.AuditRecord
	for _, inc := range all {
		rs, err := st.AuditRecords(ctx, store.AuditQuery{Incident: inc.ID})
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, rs...)
	}
	counts := map[string]int{}
	for _, r := range records {
		counts[r.Status]++
		switch {
		case strings.Contains(r.Target, "AWSReservedSSO_"):
			if r.Status != incident.StatusSkipped || !strings.Contains(r.Reason, "Identity Center") {
				t.Errorf("Identity Center role: %s %q", r.Status, r.Reason)
			}
		case r.Action == "deactivate-access-key":
			// The demo's planted key id cannot be recreated in the
			// emulator (it chooses key ids): the key is not found.
			if r.Status != incident.StatusSkipped || !strings.Contains(r.Reason, "not found") {
				t.Errorf("planted key: %s %q", r.Status, r.Reason)
			}
		case r.Status != incident.StatusDone:
			t.Errorf("%s %s: %s %q %s", r.Action, r.Target, r.Status, r.Reason, r.Error)
		}
		t.Logf("%s %-8s %s %s", r.ID, r.Status, r.Action, r.Target)
	}
	if counts[incident.StatusDone] == 0 || counts[incident.StatusFailed] != 0 {
		t.Errorf("decisions by status: %v", counts)
	}

	// Every decision on the bus, once.
	onBus := map[string]publish.Response{}
	for _, body := range drain(t, ctx, q, responses, len(records)) {
		var env struct {
			Source     string           `json:"source"`
			DetailType string           `json:"detail-type"`
			Detail     publish.Response `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatal(err)
		}
		if _, dup := onBus[env.Detail.ID]; dup {
			t.Errorf("decision %s published twice", env.Detail.ID)
		}
		onBus[env.Detail.ID] = env.Detail
	}
	for _, r := range records {
		if got, ok := onBus[r.ID]; !ok || got.Status != r.Status {
			t.Errorf("decision %s (%s %s) not on the bus as %s: %+v", r.ID, r.Action, r.Target, r.Status, got)
		}
	}
}

// plant creates, in the account and region, what the demo's attacker left
// there: the role worked through, the function, and its schedule rule
// targeting it with the permission to invoke it.
func plant(t *testing.T, cfg aws.Config, account, region string) {
	t.Helper()
	ctx := context.Background()
	acfg := awstest.AccountConfig(t, cfg, account, "setup")
	ic := iam.NewFromConfig(acfg)
	acfg.Region = region
	ebc, lc := eventbridge.NewFromConfig(acfg), awslambda.NewFromConfig(acfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(demoRole), AssumeRolePolicyDocument: aws.String(trust)})
	var exists *iamEntityExists
	if errors.As(err, &exists) {
		got, gerr := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(demoRole)})
		if gerr != nil {
			t.Fatal(gerr)
		}
		role = &iam.CreateRoleOutput{Role: got.Role}
	} else if err != nil {
		t.Fatal(err)
	}
	fn, err := lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String(demoFunction), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: role.Role.Arn, Code: &lambdatypes.FunctionCode{ZipFile: awstest.FunctionZip(t)}})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := ebc.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(demoRule), ScheduleExpression: aws.String("rate(5 minutes)")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String(demoFunction), StatementId: aws.String("sys-health-check-schedule"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: rule.RuleArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := ebc.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(demoRule),
		Targets: []ebtypes.Target{{Id: aws.String("1"), Arn: fn.FunctionArn}}}); err != nil {
		t.Fatal(err)
	}
}

type iamEntityExists = iamtypes.EntityAlreadyExistsException

// subscribe adds to the bus a rule with pattern targeting a new queue, and
// returns the queue's URL.
func subscribe(t *testing.T, ctx context.Context, eb *eventbridge.Client, q *sqs.Client, bus, pattern string) string {
	t.Helper()
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name("responses"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	rule := awstest.Name("responses")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(queue.QueueUrl)
}

// drain receives the queue's messages until it is empty (and, when want
// is above 0, at least want were received, or tries run out).
func drain(t *testing.T, ctx context.Context, q *sqs.Client, url string, want int) []string {
	t.Helper()
	var out []string
	for tries := 0; tries < 30; tries++ {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) == 0 && len(out) > 0 && len(out) >= want {
			break
		}
		for _, m := range msgs.Messages {
			out = append(out, aws.ToString(m.Body))
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func notFoundErr(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ResourceNotFoundException" || api.ErrorCode() == "NoSuchEntity")
}
