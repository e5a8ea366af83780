package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/infra/stacks"
	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// artefacts is a folder of dummy bootstrap files standing in for `make
// build`'s, so the tests need no cross-compiled binaries.
var artefacts string

// haveNode says whether the CDK (which runs on Node.js) can run here.
var haveNode bool

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	_, err := exec.LookPath("node")
	haveNode = err == nil
	if !haveNode {
		fmt.Fprintln(os.Stderr, "infra/stacks: the CDK template tests are skipped: node is not installed (the CDK runs on Node.js)")
	}
	dir, err := os.MkdirTemp("", "trailhound-artefacts-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, fn := range stacks.Functions {
		err := os.MkdirAll(filepath.Join(dir, fn), 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	artefacts = dir
	code := m.Run()
	if haveNode {
		jsii.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func needNode(t *testing.T) {
	t.Helper()
	if !haveNode {
		t.Skip("node is not installed")
	}
}

// sampleContext is the trailhound context of the repository's cdk.json,
// pointed at the dummy artefacts.
func sampleContext(t *testing.T) map[string]any {
	t.Helper()
	c, err := readSample()
	if err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return c
}

// deployment is the sample configuration's app, built once for all the
// template tests (starting the CDK costs seconds, each test then ~0.3 s).
var deployment = sync.OnceValues(func() (*stacks.Deployment, error) {
	ctx, err := readSample()
	if err != nil {
		return nil, err
	}
	_, d, err := stacks.NewApp(&awscdk.AppProps{Context: &map[string]any{stacks.ContextKey: ctx}}, stacks.LogNagSuppressions())
	return d, err
})

func readSample() (map[string]any, error) {
	raw, err := os.ReadFile("../../cdk.json")
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	c := f.Context[stacks.ContextKey]
	if c == nil {
		return nil, fmt.Errorf("no context key %q", stacks.ContextKey)
	}
	c["artefacts"] = artefacts
	return c, nil
}

func sample(t *testing.T) *stacks.Deployment {
	t.Helper()
	needNode(t)
	d, err := deployment()
	if err != nil {
		t.Fatalf("the sample cdk.json does not build: %v", err)
	}
	return d
}

// tmpl is a synthesised template as JSON, with helpers to walk it.
type tmpl struct {
	j map[string]any
	a assertions.Template
}

var templates sync.Map // stack path -> *tmpl

func templateOf(t *testing.T, st awscdk.Stack) *tmpl {
	t.Helper()
	key := *st.Node().Path()
	if v, ok := templates.Load(key); ok {
		return v.(*tmpl)
	}
	a := assertions.Template_FromStack(st, nil)
	v := &tmpl{j: *a.ToJSON(), a: a}
	templates.Store(key, v)
	return v
}

// resources returns the properties of the resources of a type, by logical id.
func (tp *tmpl) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tp.j["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// ref returns the logical id a {"Ref": id} or {"Fn::GetAtt": [id, …]} names.
func ref(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// functionByDescription finds a function's properties by its description.
func (tp *tmpl) function(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	for id, p := range tp.resources("AWS::Lambda::Function") {
		if p["Description"] == "Trailhound "+name {
			return id, p
		}
	}
	t.Fatalf("no %s function", name)
	return "", nil
}

func TestSampleConfigurationIsValid(t *testing.T) {
	c, err := stacks.ParseContext(sampleContext(t))
	if err != nil {
		t.Fatalf("the sample cdk.json is invalid:\n%v", err)
	}
	if len(c.MemberAccounts) == 0 || len(c.MemberRegions) < 2 || !c.StackSetTemplate {
		t.Errorf("the sample should exercise member stacks in several regions and the StackSet template: %+v", c)
	}
}

func TestBadConfigurationNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		want   []string // each must appear in the error
	}{
		{"unknown response mode", func(c map[string]any) { c["response"].(map[string]any)["default"] = "sometimes" },
			[]string{"trailhound.response", `default: unknown mode "sometimes"`}},
		{"unknown per-account action mode", func(c map[string]any) {
			c["response"].(map[string]any)["accounts"] = map[string]any{"222222222222": map[string]any{"actions": map[string]any{"disable-lambda": "always"}}}
		}, []string{"trailhound.response", `accounts.222222222222.actions.disable-lambda: unknown mode "always"`}},
		{"malformed member account", func(c map[string]any) { c["member_accounts"] = []any{"222222222222", "12345"} },
			[]string{`trailhound.member_accounts[1]: "12345" is not a 12-digit account id`}},
		{"malformed security account", func(c map[string]any) { c["security_account"] = "11111111111x" },
			[]string{`trailhound.security_account: "11111111111x" is not a 12-digit account id`}},
		{"response role without external id", func(c map[string]any) { delete(c["response"].(map[string]any), "external_id") },
			[]string{"trailhound.response", "external_id: required with role_name"}},
		{"member accounts without response role", func(c map[string]any) {
			r := c["response"].(map[string]any)
			delete(r, "role_name")
			delete(r, "external_id")
		}, []string{"trailhound.response.role_name: required with member accounts"}},
		{"bad region", func(c map[string]any) { c["member_regions"] = []any{"eu-west-1", "Europe"} },
			[]string{`trailhound.member_regions[1]: "Europe" is not a region name`}},
		{"no us-east-1", func(c map[string]any) { c["member_regions"] = []any{"eu-west-1"} },
			[]string{"trailhound.member_regions: must include us-east-1"}},
		{"bad organisation id", func(c map[string]any) { c["organization_id"] = "org-1" },
			[]string{`trailhound.organization_id: "org-1" is not an organisation id`}},
		{"schedule out of range", func(c map[string]any) { c["correlator_every_minutes"] = 0.5 },
			[]string{"trailhound"}}, // 0.5 is not an int: a decoding error naming the field
		{"schedule too slow", func(c map[string]any) { c["correlator_every_minutes"] = 90 },
			[]string{"trailhound.correlator_every_minutes: 90 is not between 1 and 60"}},
		{"silence too short", func(c map[string]any) { c["silence_alarm_minutes"] = 1 },
			[]string{"trailhound.silence_alarm_minutes: 1 is not between 5 and 1440"}},
		{"log retention CloudWatch lacks", func(c map[string]any) { c["log_retention_days"] = 100 },
			[]string{"trailhound.log_retention_days: 100 is not a retention CloudWatch Logs offers"}},
		{"negative learning period", func(c map[string]any) { c["learning_events"] = -1 },
			[]string{"trailhound.learning_events: -1 is negative"}},
		{"unknown subscription protocol", func(c map[string]any) {
			c["incident_subscriptions"] = []any{map[string]any{"protocol": "pager", "endpoint": "x"}}
		}, []string{`trailhound.incident_subscriptions[0].protocol: unknown protocol "pager"`}},
		{"malformed e-mail", func(c map[string]any) {
			c["alarm_subscriptions"] = []any{map[string]any{"protocol": "email", "endpoint": "nobody"}}
		}, []string{`trailhound.alarm_subscriptions[0].endpoint: "nobody" is not an e-mail address`}},
		{"unknown key", func(c map[string]any) { c["member_acounts"] = []any{} },
			[]string{`unknown field "member_acounts"`}},
		{"missing artefacts", func(c map[string]any) { c["artefacts"] = filepath.Join(t.TempDir(), "dist") },
			[]string{"trailhound.artefacts:", "detector/bootstrap not found: run `make build` first"}},
		{"bad log level", func(c map[string]any) { c["log_level"] = "loud" },
			[]string{`trailhound.log_level: "loud" is not debug, info, warn or error`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleContext(t)
			tc.change(c)
			_, err := stacks.ParseContext(c)
			if err == nil {
				t.Fatal("the configuration was accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not say %q", err, w)
				}
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	c := sampleContext(t)
	c["security_account"] = "1"
	c["home_region"] = "nowhere"
	_, err := stacks.ParseContext(c)
	if err == nil || !strings.Contains(err.Error(), "security_account") || !strings.Contains(err.Error(), "home_region") {
		t.Errorf("want both problems, got %v", err)
	}
}

func TestContextAsJSONString(t *testing.T) {
	// `cdk synth -c trailhound='{…}'` passes the value as a string.
	b, err := json.Marshal(sampleContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stacks.ParseContext(string(b)); err != nil {
		t.Errorf("the context as a JSON string: %v", err)
	}
	if _, err := stacks.ParseContext(nil); err == nil || !strings.Contains(err.Error(), `"trailhound" is missing`) {
		t.Errorf("no context: %v", err)
	}
}

func TestBadConfigurationFailsTheSynth(t *testing.T) {
	needNode(t)
	c := sampleContext(t)
	c["response"].(map[string]any)["accounts"] = map[string]any{"2222": map[string]any{"default": "enforce"}}
	_, _, err := stacks.NewApp(&awscdk.AppProps{Context: &map[string]any{stacks.ContextKey: c}})
	if err == nil || !strings.Contains(err.Error(), `trailhound.response: response configuration: accounts: "2222" is not a 12-digit account id`) {
		t.Errorf("got %v", err)
	}
}

// TestCLISynthFailsOnBadConfiguration runs the real `cdk synth` (the CLI
// `make synth` installs) on the app with a bad configuration given on the
// command line: it must fail, saying what is wrong, and write no template.
func TestCLISynthFailsOnBadConfiguration(t *testing.T) {
	needNode(t)
	cli, err := filepath.Abs("../../_tools/cdk/node_modules/.bin/cdk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Skip("the CDK CLI is not installed (make synth installs it)")
	}
	if testing.Short() {
		t.Skip("runs the CDK CLI (about 10 s)")
	}
	c := sampleContext(t)
	c["member_accounts"] = []any{"22222222222"}
	r := c["response"].(map[string]any)
	r["default"] = "sometimes"
	delete(r, "external_id")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(cli, "synth", "--no-version-reporting", "--no-notices", "--quiet", "--output", out, "-c", stacks.ContextKey+"="+string(b))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	got, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("cdk synth succeeded on a bad configuration:\n%s", got)
	}
	for _, want := range []string{
		`trailhound.member_accounts[0]: "22222222222" is not a 12-digit account id`,
		`trailhound.response: response configuration: default: unknown mode "sometimes"`,
		"external_id: required with role_name",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("cdk synth output does not say %q:\n%s", want, got)
		}
	}
	if templates, _ := filepath.Glob(filepath.Join(out, "*.template.json")); len(templates) > 0 {
		t.Errorf("templates written for a bad configuration: %v", templates)
	}
}

func TestCheckActions(t *testing.T) {
	if err := stacks.CheckActions(response.Actions()); err != nil {
		t.Fatalf("the response role cannot be built from response.Actions(): %v", err)
	}
	for _, tc := range []struct {
		name   string
		action response.Action
		want   string
	}{
		{"unknown target", response.Action{Name: "snapshot-disk", Target: "ec2:volume", Permissions: []string{"ec2:CreateSnapshot"}}, `acts on "ec2:volume"`},
		{"wildcard permission", response.Action{Name: "quarantine-user", Target: "iam:user", Permissions: []string{"iam:*"}}, `"iam:*" is not a iam action without wildcards`},
		{"other service", response.Action{Name: "quarantine-user", Target: "iam:user", Permissions: []string{"s3:GetObject"}}, `"s3:GetObject" is not a iam action`},
		{"no permissions", response.Action{Name: "quarantine-user", Target: "iam:user"}, "declares no permissions"},
		{"extra grant of another service", response.Action{Name: "delete-eventbridge-rule", Target: "events:rule", Permissions: []string{"events:DeleteRule"},
			Also: []response.Grant{{Target: "iam:role", Permissions: []string{"events:PutTargets"}}}}, `"events:PutTargets" is not a iam action`},
		{"extra grant on an unknown type", response.Action{Name: "delete-eventbridge-rule", Target: "events:rule", Permissions: []string{"events:DeleteRule"},
			Also: []response.Grant{{Target: "kms:key", Permissions: []string{"kms:Decrypt"}}}}, `also needs "kms:key"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := stacks.CheckActions([]response.Action{tc.action})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTableIsTheStoreDesign(t *testing.T) {
	d := sample(t)
	tp := templateOf(t, d.Security.Stack)
	tables := tp.resources("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("%d tables", len(tables))
	}
	var got map[string]any
	for _, p := range tables {
		got = p
	}
	want := dynamostore.Schema()
	keys := func(v any) map[string]string {
		m := map[string]string{}
		for _, k := range list(v) {
			k := k.(map[string]any)
			m[k["AttributeName"].(string)] = k["KeyType"].(string)
		}
		return m
	}
	wantKeys := map[string]string{}
	for _, k := range want.KeySchema {
		wantKeys[*k.AttributeName] = string(k.KeyType)
	}
	if diff := cmp.Diff(wantKeys, keys(got["KeySchema"])); diff != "" {
		t.Errorf("key schema (-want +got):\n%s", diff)
	}
	gotGSI := map[string]map[string]string{}
	for _, g := range list(got["GlobalSecondaryIndexes"]) {
		g := g.(map[string]any)
		if g["Projection"].(map[string]any)["ProjectionType"] != "ALL" {
			t.Errorf("index %v does not project ALL", g["IndexName"])
		}
		gotGSI[g["IndexName"].(string)] = keys(g["KeySchema"])
	}
	wantGSI := map[string]map[string]string{}
	for _, g := range want.GlobalSecondaryIndexes {
		m := map[string]string{}
		for _, k := range g.KeySchema {
			m[*k.AttributeName] = string(k.KeyType)
		}
		wantGSI[*g.IndexName] = m
	}
	if diff := cmp.Diff(wantGSI, gotGSI); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
	checks := map[string]any{
		"BillingMode":                      string(want.BillingMode),
		"TimeToLiveSpecification":          map[string]any{"AttributeName": want.TTLAttribute, "Enabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"DeletionProtectionEnabled":        true,
	}
	for k, w := range checks {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	tp.a.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{"DeletionPolicy": "Retain"})
}

func TestBusAdmitsTheOrganisation(t *testing.T) {
	d := sample(t)
	tp := templateOf(t, d.Security.Stack)
	found := tp.a.FindResources(jsii.String("AWS::Events::EventBusPolicy"), &map[string]any{
		"Properties": assertions.Match_ObjectLike(&map[string]any{
			"Statement": assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Allow",
				"Action":    "events:PutEvents",
				"Principal": map[string]any{"AWS": "*"},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-exampleorg1"}},
			}),
		}),
	})
	if len(*found) != 1 {
		t.Errorf("want one bus policy admitting only the organisation, found %d", len(*found))
	}
	for _, p := range tp.resources("AWS::Events::EventBus") {
		if p["Name"] != stacks.DefaultBusName {
			t.Errorf("bus name %v", p["Name"])
		}
	}
}

func TestRuleStatesAndTargets(t *testing.T) {
	d := sample(t)
	sec := templateOf(t, d.Security.Stack)
	rules := sec.resources("AWS::Events::Rule")
	if len(rules) != 4 {
		t.Fatalf("%d rules in the security stack, want 4", len(rules))
	}
	queues := sec.resources("AWS::SQS::Queue")
	byTarget := map[string]map[string]any{} // function or topic logical id -> target
	for id, r := range rules {
		targets := list(r["Targets"])
		if len(targets) == 0 {
			t.Errorf("rule %s has no target", id)
		}
		for _, tg := range targets {
			tg := tg.(map[string]any)
			dlq := ref(tg["DeadLetterConfig"].(map[string]any)["Arn"])
			if _, ok := queues[dlq]; !ok {
				t.Errorf("rule %s target %v: dead-letter queue %q is not one of the stack's queues", id, tg["Id"], dlq)
			}
			rp, _ := tg["RetryPolicy"].(map[string]any)
			if rp == nil || rp["MaximumRetryAttempts"] == nil || rp["MaximumEventAgeInSeconds"] == nil {
				t.Errorf("rule %s target %v has no retry policy: %v", id, tg["Id"], tg)
			}
			arn := tg["Arn"]
			name := ref(arn)
			if name == "" {
				name = mustJSON(arn)
			}
			byTarget[name] = r
		}
	}
	detectorID, _ := sec.function(t, "detector")
	correlatorID, _ := sec.function(t, "correlator")
	responderID, _ := sec.function(t, "responder")
	if r := byTarget[detectorID]; r == nil || r["State"] != stacks.RuleStateAllManagementEvents || ref(r["EventBusName"]) == "" {
		t.Errorf("the detector's rule must be on the Trailhound bus in state %s: %v", stacks.RuleStateAllManagementEvents, r)
	} else if diff := cmp.Diff(managementPattern, r["EventPattern"]); diff != "" {
		t.Errorf("the detector's rule pattern (-want +got):\n%s", diff)
	}
	if r := byTarget[correlatorID]; r == nil || r["ScheduleExpression"] != "rate(1 minute)" {
		t.Errorf("the correlator's schedule: %v", r)
	}
	responses := 0
	for _, r := range rules {
		want := map[string]any{"source": []any{publish.Source}, "detail-type": []any{publish.DetailTypeResponse}}
		if !cmp.Equal(r["EventPattern"], want) {
			continue
		}
		responses++
		if tg := list(r["Targets"]); len(tg) != 1 || sec.resources("AWS::SNS::Topic")[ref(tg[0].(map[string]any)["Arn"])] == nil {
			t.Errorf("the responder's decisions go to the incident topic only: %v", r["Targets"])
		}
	}
	if responses != 1 {
		t.Errorf("%d rules on the responder's decisions, want 1", responses)
	}
	r := byTarget[responderID]
	wantPattern := map[string]any{"source": []any{publish.Source}, "detail-type": []any{publish.DetailTypeIncident}}
	if r == nil || !cmp.Equal(r["EventPattern"], wantPattern) {
		t.Errorf("the responder's rule pattern: %v", r)
	}
	if r != nil && len(list(r["Targets"])) != 2 {
		t.Errorf("the incident rule should feed the responder and the incident topic: %v", r["Targets"])
	}

	for key, m := range d.Members {
		mt := templateOf(t, m.Stack)
		rules := mt.resources("AWS::Events::Rule")
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules", key, len(rules))
		}
		for _, r := range rules {
			if r["State"] != stacks.RuleStateAllManagementEvents || r["EventBusName"] != nil {
				t.Errorf("%s: forwarding rule must be on the default bus in state %s: %v", key, stacks.RuleStateAllManagementEvents, r)
			}
			if diff := cmp.Diff(managementPattern, r["EventPattern"]); diff != "" {
				t.Errorf("%s: forwarding rule pattern (-want +got):\n%s", key, diff)
			}
			tg := list(r["Targets"])[0].(map[string]any)
			if tg["Arn"] != "arn:aws:events:eu-west-1:111111111111:event-bus/trailhound" || ref(tg["RoleArn"]) == "" {
				t.Errorf("%s: forwarding target %v", key, tg)
			}
			if dlq := ref(tg["DeadLetterConfig"].(map[string]any)["Arn"]); mt.resources("AWS::SQS::Queue")[dlq] == nil {
				t.Errorf("%s: forwarding target has no dead-letter queue: %v", key, tg)
			}
		}
	}
}

// managementPattern is CloudTrail's management events, in the detail types
// the detector decodes.
var managementPattern = map[string]any{
	"detail-type": []any{cloudtrail.DetailTypeAPICall, cloudtrail.DetailTypeConsoleLogin, cloudtrail.DetailTypeServiceEvent},
	"detail":      map[string]any{"eventCategory": []any{"Management"}},
}

func TestFunctions(t *testing.T) {
	d := sample(t)
	sec := templateOf(t, d.Security.Stack)
	fns := sec.resources("AWS::Lambda::Function")
	if len(fns) != 3 {
		t.Fatalf("%d functions", len(fns))
	}
	sec.a.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"Architectures": []any{"arm64"}, "Runtime": "provided.al2023", "Handler": "bootstrap",
		"LoggingConfig": assertions.Match_ObjectLike(&map[string]any{"LogGroup": assertions.Match_AnyValue(),
			"LogFormat": "JSON", "SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO"}),
	})
	for _, lg := range sec.resources("AWS::Logs::LogGroup") {
		if lg["RetentionInDays"] != float64(90) {
			t.Errorf("log retention %v, want the sample's 90", lg["RetentionInDays"])
		}
	}
	env := func(name string) map[string]any {
		_, p := sec.function(t, name)
		return p["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	correlatorID, _ := sec.function(t, "correlator")
	det := env("detector")
	if ref(det[config.EnvCorrelatorFunction]) != correlatorID || ref(det[config.EnvTable]) == "" {
		t.Errorf("detector environment %v", det)
	}
	if det[config.EnvLearningEvents] != "100" || det[config.EnvLearningDays] != "3" {
		t.Errorf("detector learning period %v", det)
	}
	if cor := env("correlator"); ref(cor[config.EnvBus]) == "" || ref(cor[config.EnvTable]) == "" {
		t.Errorf("correlator environment %v", cor)
	}
	res := env("responder")
	if ref(res[config.EnvBus]) == "" || ref(res[config.EnvTable]) == "" {
		t.Errorf("responder environment %v", res)
	}
	got, err := response.ParseConfig([]byte(res[response.EnvConfig].(string)))
	if err != nil {
		t.Fatalf("the responder would refuse its configuration: %v", err)
	}
	cfg, err := stacks.ParseContext(sampleContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg.ResponseConfig(), got); diff != "" {
		t.Errorf("response configuration (-want +got):\n%s", diff)
	}
	for _, own := range []string{"arn:aws:iam::111111111111:role/" + stacks.ResponderRoleName, "arn:aws:iam::222222222222:role/trailhound-response", "arn:aws:iam::222222222222:role/trailhound-forward-us-east-1"} {
		if !got.Allowed(own) {
			t.Errorf("the responder may act on Trailhound's own role %s", own)
		}
	}
	if got.Allowed("arn:aws:iam::222222222222:role/lambdaManager-role") {
		t.Error("the allow-list is too wide")
	}
}

func TestAlarms(t *testing.T) {
	d := sample(t)
	sec := templateOf(t, d.Security.Stack)
	alarms := sec.resources("AWS::CloudWatch::Alarm")
	count := map[string]int{}
	var silence map[string]any
	for _, a := range alarms {
		count[a["Namespace"].(string)+"/"+a["MetricName"].(string)]++
		if a["MetricName"] == "Invocations" {
			silence = a
		}
		if len(list(a["AlarmActions"])) != 1 {
			t.Errorf("alarm %v has no action", a["AlarmDescription"])
		}
	}
	want := map[string]int{
		"AWS/Lambda/Errors": 3, "AWS/Lambda/Throttles": 3, "AWS/Lambda/Invocations": 1,
		"AWS/SQS/ApproximateNumberOfMessagesVisible": len(sec.resources("AWS::SQS::Queue")),
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
	if silence == nil || silence["Period"] != float64(3600) || silence["ComparisonOperator"] != "LessThanThreshold" || silence["TreatMissingData"] != "breaching" {
		t.Errorf("silence alarm %v", silence)
	}
	subs := sec.resources("AWS::SNS::Subscription")
	if len(subs) != 2 {
		t.Errorf("%d subscriptions, want the sample's 2", len(subs))
	}
	for _, topic := range sec.resources("AWS::SNS::Topic") {
		if topic["KmsMasterKeyId"] == nil {
			t.Errorf("topic %v is not encrypted", topic["DisplayName"])
		}
	}
}

// statements returns every IAM policy statement of a template: managed
// and inline policies, and the roles' inline policies, by where they are.
func (tp *tmpl) statements() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	add := func(where string, doc any) {
		for _, s := range list(doc.(map[string]any)["Statement"]) {
			out[where] = append(out[where], s.(map[string]any))
		}
	}
	for id, p := range tp.resources("AWS::IAM::Policy") {
		add(id, p["PolicyDocument"])
	}
	for id, p := range tp.resources("AWS::IAM::Role") {
		for _, pol := range list(p["Policies"]) {
			add(id, pol.(map[string]any)["PolicyDocument"])
		}
		if len(list(p["ManagedPolicyArns"])) > 0 {
			out[id+" managed"] = nil
		}
	}
	return out
}

func TestIAMLeastPrivilege(t *testing.T) {
	d := sample(t)
	all := []awscdk.Stack{d.Security.Stack, d.StackSet.Stack}
	for _, m := range d.Members {
		all = append(all, m.Stack)
	}
	for _, st := range all {
		tp := templateOf(t, st)
		for where, stmts := range tp.statements() {
			if strings.HasSuffix(where, " managed") {
				t.Errorf("%s: %s uses managed policies", *st.StackName(), where)
			}
			for _, s := range stmts {
				for _, a := range list(s["Action"]) {
					if strings.Contains(a.(string), "*") {
						t.Errorf("%s %s: wildcard action %v", *st.StackName(), where, a)
					}
				}
				for _, r := range list(s["Resource"]) {
					str, isString := r.(string)
					if !isString {
						str = mustJSON(r)
					}
					switch {
					case str == "*":
						t.Errorf("%s %s: Resource *", *st.StackName(), where)
					case strings.Contains(str, "*") && st != d.Security.Stack && s["Effect"] == "Allow" && !responsePattern.MatchString(str):
						t.Errorf("%s %s: wildcard resource %s", *st.StackName(), where, str)
					case strings.Contains(str, "*") && st == d.Security.Stack:
						t.Errorf("%s %s: wildcard resource %s where the names are known", *st.StackName(), where, str)
					}
				}
			}
		}
	}
	// The responder assumes exactly the member accounts' response roles.
	sec := templateOf(t, d.Security.Stack)
	var assumes []string
	for _, stmts := range sec.statements() {
		for _, s := range stmts {
			if slices.Contains(list(s["Action"]), any("sts:AssumeRole")) {
				for _, r := range list(s["Resource"]) {
					assumes = append(assumes, r.(string))
				}
			}
		}
	}
	sort.Strings(assumes)
	want := []string{"arn:aws:iam::111111111111:role/trailhound-response", "arn:aws:iam::222222222222:role/trailhound-response"}
	if diff := cmp.Diff(want, assumes); diff != "" {
		t.Errorf("roles the responder may assume (-want +got):\n%s", diff)
	}
}

// responsePattern is the shape of a response permission's resource: one
// resource type in one account (the account as a literal or a token).
var responsePattern = regexp.MustCompile(`^(\{.*)?arn:aws:(iam::|events:\*:|lambda:\*:)("|[0-9]{12}|.*AWS::AccountId.*)`)

func TestResponseRole(t *testing.T) {
	d := sample(t)
	withRole := 0
	for key, m := range d.Members {
		mt := templateOf(t, m.Stack)
		account, region, _ := strings.Cut(key, "/")
		var role map[string]any
		for _, r := range mt.resources("AWS::IAM::Role") {
			if r["RoleName"] == "trailhound-response" {
				role = r
			}
		}
		if region != "eu-west-1" {
			if role != nil {
				t.Errorf("%s: the response role belongs in the account's first region only", key)
			}
			continue
		}
		if role == nil {
			t.Fatalf("%s: no response role", key)
		}
		withRole++
		trust := list(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
		wantTrust := []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"AWS": "arn:aws:iam::111111111111:role/" + stacks.ResponderRoleName},
			"Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "trailhound-example-external-id"}},
		}}
		if diff := cmp.Diff(wantTrust, trust); diff != "" {
			t.Errorf("%s: trust (-want +got):\n%s", key, diff)
		}
		// One statement per response action, with exactly its permissions,
		// scoped to this account.
		got := map[string][]string{}
		var deny map[string]any
		for _, p := range list(role["Policies"]) {
			for _, s := range list(p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"]) {
				s := s.(map[string]any)
				if s["Effect"] == "Deny" {
					deny = s
					continue
				}
				for _, a := range list(s["Action"]) {
					got[s["Sid"].(string)] = append(got[s["Sid"].(string)], a.(string))
					if a == "iam:PassRole" && !reflect.DeepEqual(s["Condition"], map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "events.amazonaws.com"}}) {
						t.Errorf("%s: iam:PassRole not limited to EventBridge: %v", key, s["Condition"])
					}
				}
				for _, r := range list(s["Resource"]) {
					if !strings.Contains(r.(string), ":"+account+":") {
						t.Errorf("%s: %v granted outside the account: %v", key, s["Sid"], r)
					}
				}
			}
		}
		want := map[string][]string{}
		for _, a := range response.Actions() {
			want[statementID(a.Name)] = a.Permissions
			for i, g := range a.Also {
				want[fmt.Sprintf("%sAlso%d", statementID(a.Name), i+1)] = g.Permissions
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: response permissions differ from response.Actions() (-want +got):\n%s", key, diff)
		}
		if deny == nil || !slices.Contains(list(deny["Resource"]), any("arn:aws:iam::"+account+":role/trailhound-response")) {
			t.Errorf("%s: the response role does not protect itself: %v", key, deny)
		}
	}
	if withRole != 2 {
		t.Errorf("%d response roles, want one per member account", withRole)
	}
	// The StackSet template creates it in one region only.
	ss := templateOf(t, d.StackSet.Stack)
	for id, r := range ss.j["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == "AWS::IAM::Role" && r["Properties"].(map[string]any)["RoleName"] == "trailhound-response" {
			cond, _ := r["Condition"].(string)
			want := map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AWS::Region"}, "eu-west-1"}}
			if c := ss.j["Conditions"].(map[string]any)[cond]; !cmp.Equal(c, want) {
				t.Errorf("StackSet response role %s condition %v", id, c)
			}
		}
	}
	if params, _ := ss.j["Parameters"].(map[string]any); params["BootstrapVersion"] != nil {
		t.Error("the StackSet template needs a CDK bootstrap")
	}
}

func statementID(name string) string {
	var b strings.Builder
	for _, p := range strings.Split(name, "-") {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func TestNagAwsSolutions(t *testing.T) {
	d := sample(t)
	all := map[string]awscdk.Stack{"security": d.Security.Stack, "stackset": d.StackSet.Stack}
	for k, m := range d.Members {
		all["member "+k] = m.Stack
	}
	for name, st := range all {
		t.Run(name, func(t *testing.T) {
			ann := assertions.Annotations_FromStack(st)
			for _, e := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
				t.Errorf("cdk-nag: %s", mustJSON(e))
			}
			for _, w := range *ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
				t.Logf("cdk-nag warning: %s", mustJSON(w))
			}
			// The checks did run here: the suppressed findings are logged.
			if n := len(*ann.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-SQS3")))); n == 0 {
				t.Error("cdk-nag did not run on this stack (no suppressed finding logged)")
			}
			// Every suppression says why.
			for id, r := range templateOf(t, st).j["Resources"].(map[string]any) {
				md, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, _ := md["cdk_nag"].(map[string]any)
				for _, s := range list(nag["rules_to_suppress"]) {
					s := s.(map[string]any)
					if reason, _ := s["reason"].(string); len(reason) < 40 {
						t.Errorf("%s: suppression of %v without a reason: %q", id, s["id"], reason)
					}
				}
			}
		})
	}
}
