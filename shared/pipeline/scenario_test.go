package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// Scenario tests for the composite policies: events over time in,
// incidents at fixed times out. Records are CloudTrail-shaped, built by
// the helpers below with the fields the real ones carry.

const acct = "111122223333"

var monday = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

type who struct {
	arn, typ, user, key string
	issuer              string // for assumed roles
	invokedBy           string
}

var alice = who{arn: "arn:aws:iam::" + acct + ":user/alice", typ: "IAMUser", user: "alice", key: "AKIAALICE0000000001"}

func (w who) identity() map[string]any {
	ui := map[string]any{"type": w.typ, "arn": w.arn, "accountId": acct, "principalId": "AIDA" + w.user}
	if w.user != "" {
		ui["userName"] = w.user
	}
	if w.key != "" {
		ui["accessKeyId"] = w.key
	}
	if w.issuer != "" {
		ui["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": w.issuer, "accountId": acct},
			"attributes": map[string]any{"mfaAuthenticated": "false"}}
	}
	if w.invokedBy != "" {
		ui["invokedBy"] = w.invokedBy
	}
	return ui
}

// call is one API call in a scenario.
type call struct {
	at       time.Time
	who      who
	source   string
	name     string
	region   string
	ip       string
	ua       string
	readOnly bool
	params   map[string]any
	response map[string]any
	errCode  string
}

var seq int

func (c call) record() []byte {
	seq++
	r := map[string]any{
		"eventVersion": "1.09", "eventID": fmt.Sprintf("ev-%06d", seq), "eventTime": c.at.UTC().Format(time.RFC3339),
		"eventSource": c.source, "eventName": c.name, "awsRegion": c.region, "sourceIPAddress": c.ip, "userAgent": c.ua,
		"userIdentity": c.who.identity(), "requestParameters": c.params, "responseElements": c.response,
		"readOnly": c.readOnly, "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": acct, "eventCategory": "Management",
	}
	if c.errCode != "" {
		r["errorCode"] = c.errCode
		r["errorMessage"] = "denied"
	}
	if c.who.invokedBy != "" {
		r["sourceIPAddress"], r["userAgent"] = c.who.invokedBy, c.who.invokedBy
	}
	b, _ := json.Marshal(r)
	return b
}

const (
	officeIP = "198.51.100.7"
	macCLI   = "aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off"
	evilIP   = "185.220.101.47"
	kaliCLI  = "aws-cli/1.29.62 Python/3.11.6 Linux/6.5.0-kali3-amd64 botocore/1.31.62"
)

// habit is four working days of alice's ordinary reads from the office:
// enough to leave the learning period.
func habit() []call {
	var out []call
	apis := []struct{ src, name string }{
		{"ec2.amazonaws.com", "DescribeInstances"}, {"s3.amazonaws.com", "ListBuckets"}, {"logs.amazonaws.com", "FilterLogEvents"},
		{"cloudwatch.amazonaws.com", "GetMetricData"}, {"lambda.amazonaws.com", "ListFunctions20150331"},
	}
	for day := 0; day < 4; day++ {
		for i := 0; i < 40; i++ {
			a := apis[i%len(apis)]
			at := monday.Add(time.Duration(day)*24*time.Hour + 9*time.Hour + time.Duration(i)*7*time.Minute)
			out = append(out, call{at: at, who: alice, source: a.src, name: a.name, region: "eu-west-1", ip: officeIP, ua: macCLI, readOnly: true})
		}
	}
	return out
}

// friday2am is when the attacks happen: after the habit, at night.
var friday2am = monday.Add(4*24*time.Hour + 2*time.Hour)

func at(min int) time.Time { return friday2am.Add(time.Duration(min) * time.Minute) }

// sliceSource serves decoded events in order.
type sliceSource struct{ events []*cloudtrail.Event }

func (s *sliceSource) Next() (*cloudtrail.Event, error) {
	if len(s.events) == 0 {
		return nil, io.EOF
	}
	ev := s.events[0]
	s.events = s.events[1:]
	return ev, nil
}

// run replays calls through a pipeline, correlating every minute of event
// time as the scheduled correlator does, and returns the incidents by the end.
func run(t *testing.T, calls []call) []incident.Incident {
	t.Helper()
	p, err := pipeline.New(memstore.New(), pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(calls, func(a, b call) int { return a.at.Compare(b.at) })
	src := &sliceSource{}
	for _, c := range calls {
		ev, err := cloudtrail.Decode(c.record())
		if err != nil {
			t.Fatalf("scenario record: %v", err)
		}
		src.events = append(src.events, &ev)
	}
	res, err := p.Run(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Incidents
}

func policies(incs []incident.Incident) []string {
	var out []string
	for _, inc := range incs {
		out = append(out, inc.Policy+"/"+inc.Severity.String())
	}
	return out
}

func find(incs []incident.Incident, policy string) *incident.Incident {
	for i := range incs {
		if incs[i].Policy == policy {
			return &incs[i]
		}
	}
	return nil
}

func TestHabitAloneRaisesNothing(t *testing.T) {
	if incs := run(t, habit()); len(incs) != 0 {
		t.Errorf("incidents on ordinary work: %v", policies(incs))
	}
}

func TestCompromisedCredentials(t *testing.T) {
	calls := habit()
	services := []struct{ src, name string }{
		{"iam.amazonaws.com", "ListUsers"}, {"iam.amazonaws.com", "ListRoles"}, {"s3.amazonaws.com", "ListBuckets"},
		{"ec2.amazonaws.com", "DescribeVpcs"}, {"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"kms.amazonaws.com", "ListKeys"},
		{"secretsmanager.amazonaws.com", "ListSecrets"}, {"rds.amazonaws.com", "DescribeDBInstances"},
	}
	for i := 0; i < 40; i++ {
		s := services[i%len(services)]
		calls = append(calls, call{at: at(0).Add(time.Duration(i) * 5 * time.Second), who: alice, source: s.src, name: s.name,
			region: "eu-west-1", ip: evilIP, ua: kaliCLI, readOnly: true})
	}
	incs := run(t, calls)
	inc := find(incs, "compromised-credentials")
	if inc == nil {
		t.Fatalf("no compromised-credentials incident; got %v", policies(incs))
	}
	if inc.Identity.Origin != alice.arn || inc.Severity < detection.High {
		t.Errorf("incident %s on %s severity %s; want alice, at least high", inc.Policy, inc.Identity.Origin, inc.Severity)
	}
	kinds := kindsOf(inc)
	for _, want := range []string{"first-seen-network", "first-seen-user-agent", "recon-burst"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("incident lacks %s: %v", want, kinds)
		}
	}
	if !slices.Contains(inc.Facts.SourceIPs, evilIP) || inc.FirstSeen.Before(friday2am) {
		t.Errorf("facts %+v, first seen %v", inc.Facts, inc.FirstSeen)
	}
	if !hasAction(inc, "quarantine-user", alice.arn) || !hasAction(inc, "deactivate-access-key", alice.key) {
		t.Errorf("plan %+v lacks quarantining alice and deactivating her key", inc.Actions)
	}
}

func kindsOf(inc *incident.Incident) []string {
	var out []string
	for _, s := range inc.Signals {
		out = append(out, s.Kind)
	}
	return out
}

func hasAction(inc *incident.Incident, action, target string) bool {
	for _, a := range inc.Actions {
		if a.Action == action && a.Target == target && a.Mode == incident.ModeDryRun && a.Status == incident.StatusPlanned {
			return true
		}
	}
	return false
}

// backdoor is the Lambda backdoor by whoever acts as w, through role.
func backdoor(w who, start time.Time) []call {
	fn := "arn:aws:lambda:us-east-1:" + acct + ":function:sys-health"
	rule := "arn:aws:events:us-east-1:" + acct + ":rule/sys-health-schedule"
	ip, ua := evilIP, kaliCLI
	return []call{
		{at: start, who: w, source: "lambda.amazonaws.com", name: "CreateFunction20150331", region: "us-east-1", ip: ip, ua: ua,
			params:   map[string]any{"functionName": "sys-health", "role": "arn:aws:iam::" + acct + ":role/ops-admin", "runtime": "python3.12"},
			response: map[string]any{"functionName": "sys-health", "functionArn": fn}},
		{at: start.Add(20 * time.Second), who: w, source: "lambda.amazonaws.com", name: "AddPermission20150331v2", region: "us-east-1", ip: ip, ua: ua,
			params: map[string]any{"functionName": "sys-health", "principal": "events.amazonaws.com", "sourceArn": rule, "action": "lambda:InvokeFunction", "statementId": "x"}},
		{at: start.Add(40 * time.Second), who: w, source: "events.amazonaws.com", name: "PutRule", region: "us-east-1", ip: ip, ua: ua,
			params:   map[string]any{"name": "sys-health-schedule", "scheduleExpression": "rate(10 minutes)", "state": "ENABLED"},
			response: map[string]any{"ruleArn": rule}},
		{at: start.Add(60 * time.Second), who: w, source: "events.amazonaws.com", name: "PutTargets", region: "us-east-1", ip: ip, ua: ua,
			params: map[string]any{"rule": "sys-health-schedule", "targets": []any{map[string]any{"id": "1", "arn": fn}}}},
	}
}

func TestLambdaBackdoorThroughANewRole(t *testing.T) {
	calls := habit()
	roleSession := "arn:aws:sts::" + acct + ":assumed-role/lambdaManager-role/alice"
	calls = append(calls, call{at: at(0), who: alice, source: "sts.amazonaws.com", name: "AssumeRole", region: "us-east-1", ip: evilIP, ua: kaliCLI,
		params: map[string]any{"roleArn": "arn:aws:iam::" + acct + ":role/lambdaManager-role", "roleSessionName": "alice"},
		response: map[string]any{"credentials": map[string]any{"accessKeyId": "ASIALAMBDAMANAGER01", "expiration": "Mar 7, 2025, 3:00:00 AM"},
			"assumedRoleUser": map[string]any{"arn": roleSession}}})
	hop := who{arn: roleSession, typ: "AssumedRole", key: "ASIALAMBDAMANAGER01", issuer: "arn:aws:iam::" + acct + ":role/lambdaManager-role"}
	calls = append(calls, backdoor(hop, at(2))...)
	incs := run(t, calls)
	inc := find(incs, "lambda-backdoor")
	if inc == nil {
		t.Fatalf("no lambda-backdoor incident; got %v", policies(incs))
	}
	if inc.Severity != detection.Critical || inc.Identity.Origin != alice.arn {
		t.Errorf("%s on %s; want critical on alice", inc.Severity, inc.Identity.Origin)
	}
	if want := []string{alice.arn, roleSession}; !slices.Equal(inc.Identity.Chain, want) {
		t.Errorf("chain %v, want %v", inc.Identity.Chain, want)
	}
	for _, a := range [][2]string{
		{"delete-eventbridge-rule", "arn:aws:events:us-east-1:" + acct + ":rule/sys-health-schedule"},
		{"disable-lambda", "arn:aws:lambda:us-east-1:" + acct + ":function:sys-health"},
		{"revoke-role-sessions", "arn:aws:iam::" + acct + ":role/lambdaManager-role"},
	} {
		if !hasAction(inc, a[0], a[1]) {
			t.Errorf("plan lacks %s on %s: %+v", a[0], a[1], inc.Actions)
		}
	}
}

// The CI role deploying the same resources through CloudFormation raises
// nothing: CloudFormation acting for a principal never makes an incident.
func TestCloudFormationDeployRaisesNothing(t *testing.T) {
	ci := who{arn: "arn:aws:sts::" + acct + ":assumed-role/ci-deploy/GitHubActions", typ: "AssumedRole", key: "ASIACIDEPLOY0000001",
		issuer: "arn:aws:iam::" + acct + ":role/ci-deploy", invokedBy: "cloudformation.amazonaws.com"}
	var calls []call
	for day := 0; day < 5; day++ {
		calls = append(calls, backdoor(ci, monday.Add(time.Duration(day)*24*time.Hour+11*time.Hour))...)
	}
	if incs := run(t, calls); len(incs) != 0 {
		t.Errorf("incidents on CloudFormation deploys: %v", policies(incs))
	}
}

func single(name, source string, params, response map[string]any) []call {
	return append(habit(), call{at: at(0), who: alice, source: source, name: name, region: "eu-west-1", ip: officeIP, ua: macCLI,
		params: params, response: response})
}

func TestSingleEventPolicies(t *testing.T) {
	tests := []struct {
		name   string
		calls  []call
		policy string
		sev    detection.Severity
	}{
		{"trail stopped", single("StopLogging", "cloudtrail.amazonaws.com", map[string]any{"name": "org-trail"}, nil), "defense-evasion", detection.Critical},
		{"admin to another user", single("AttachUserPolicy", "iam.amazonaws.com",
			map[string]any{"userName": "svc-reporting", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, nil), "privilege-escalation", detection.High},
		{"snapshot shared out", single("ModifySnapshotAttribute", "ec2.amazonaws.com",
			map[string]any{"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION",
				"createVolumePermission": map[string]any{"add": map[string]any{"items": []any{map[string]any{"userId": "999988887777"}}}}}, nil),
			"data-exfiltration", detection.Critical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			incs := run(t, tt.calls)
			inc := find(incs, tt.policy)
			if inc == nil || inc.Severity != tt.sev {
				t.Fatalf("got %v, want %s/%s", policies(incs), tt.policy, tt.sev)
			}
			if !inc.FirstSeen.Equal(friday2am) {
				t.Errorf("first seen %v, want %v", inc.FirstSeen, friday2am)
			}
		})
	}
}

func TestCloudRansomware(t *testing.T) {
	calls := habit()
	calls = append(calls,
		call{at: at(0), who: alice, source: "s3.amazonaws.com", name: "PutBucketVersioning", region: "eu-west-1", ip: evilIP, ua: kaliCLI,
			params: map[string]any{"bucketName": "finance", "VersioningConfiguration": map[string]any{"Status": "Suspended"}}},
		call{at: at(3), who: alice, source: "kms.amazonaws.com", name: "ScheduleKeyDeletion", region: "eu-west-1", ip: evilIP, ua: kaliCLI,
			params: map[string]any{"keyId": "arn:aws:kms:eu-west-1:" + acct + ":key/1234", "pendingWindowInDays": 7}},
	)
	incs := run(t, calls)
	if inc := find(incs, "cloud-ransomware"); inc == nil || inc.Severity != detection.Critical {
		t.Fatalf("got %v, want cloud-ransomware/critical", policies(incs))
	}
}

func TestCryptomining(t *testing.T) {
	calls := habit()
	calls = append(calls, call{at: at(0), who: alice, source: "ec2.amazonaws.com", name: "RunInstances", region: "ap-south-1", ip: officeIP, ua: macCLI,
		params: map[string]any{"instanceType": "p3.16xlarge", "instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-1", "minCount": 10, "maxCount": 10}}}}})
	incs := run(t, calls)
	if inc := find(incs, "cryptomining"); inc == nil {
		t.Fatalf("got %v, want cryptomining", policies(incs))
	}
}

func TestRootActivity(t *testing.T) {
	root := who{arn: "arn:aws:iam::" + acct + ":root", typ: "Root"}
	c := call{at: at(0), who: root, source: "signin.amazonaws.com", name: "ConsoleLogin", region: "us-east-1", ip: evilIP, ua: "Mozilla/5.0",
		response: map[string]any{"ConsoleLogin": "Success"}}
	incs := run(t, []call{c})
	inc := find(incs, "root-activity")
	if inc == nil {
		t.Fatalf("got %v, want root-activity", policies(incs))
	}
	if len(inc.Actions) != 1 || inc.Actions[0].Action != "none" {
		t.Errorf("root plan %+v, want a note that root is handled by hand", inc.Actions)
	}
}

// stopLogging is alice stopping a trail m after friday2am.
func stopLogging(m time.Duration, trail string) call {
	return call{at: friday2am.Add(m), who: alice, source: "cloudtrail.amazonaws.com", name: "StopLogging", region: "eu-west-1",
		ip: officeIP, ua: macCLI, params: map[string]any{"name": trail}}
}

// ofPolicy returns the incidents of a policy.
func ofPolicy(incs []incident.Incident, policy string) []incident.Incident {
	var out []incident.Incident
	for _, inc := range incs {
		if inc.Policy == policy {
			out = append(out, inc)
		}
	}
	return out
}

// New signals for the same identity and policy update the open incident;
// after the quiet period a new incident opens.
func TestOneOpenIncidentPerIdentityAndPolicy(t *testing.T) {
	calls := habit()
	calls = append(calls, stopLogging(0, "a"), stopLogging(30*time.Minute, "b"), stopLogging(50*time.Hour, "c"))
	incs := run(t, calls)
	de := ofPolicy(incs, "defense-evasion")
	if len(de) != 2 {
		t.Fatalf("%d defense-evasion incidents, want 2 (one updated, one after the quiet period): %v", len(de), policies(incs))
	}
	stops := func(inc incident.Incident) int {
		return len(slices.DeleteFunc(kindsOf(&inc), func(k string) bool { return k != "cloudtrail-stopped" }))
	}
	if stops(de[0]) != 2 || de[0].Version < 2 || stops(de[1]) != 1 {
		t.Errorf("first incident %d stops v%d, second %d stops; want 2 (updated) and 1", stops(de[0]), de[0].Version, stops(de[1]))
	}
}

// Signals of another story do not keep an incident open: a credential
// grant in the quiet period of a defense-evasion incident leaves the next
// trail stopped after that period to a new incident.
func TestQuietPeriodCountsOnlyThePolicysSignals(t *testing.T) {
	calls := habit()
	// alice also works late, in us-east-1 (where IAM's calls are): 22:00
	// and the region are her habits.
	for day := 0; day < 4; day++ {
		calls = append(calls, call{at: monday.Add(time.Duration(day)*24*time.Hour + 22*time.Hour), who: alice, source: "ec2.amazonaws.com",
			name: "DescribeInstances", region: "us-east-1", ip: officeIP, ua: macCLI, readOnly: true})
	}
	grant := call{at: friday2am.Add(20 * time.Hour), who: alice, source: "iam.amazonaws.com", name: "CreateAccessKey", region: "us-east-1",
		ip: officeIP, ua: macCLI, params: map[string]any{"userName": "bob"},
		response: map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIABOB0000000000001", "userName": "bob", "status": "Active"}}}
	calls = append(calls, stopLogging(0, "a"), grant, stopLogging(25*time.Hour, "b"))
	incs := run(t, calls)
	if find(incs, "privilege-escalation") == nil {
		t.Fatalf("the grant raised no privilege-escalation incident: %v", policies(incs))
	}
	de := ofPolicy(incs, "defense-evasion")
	if len(de) != 2 {
		t.Fatalf("%d defense-evasion incidents, want 2 (the second trail stopped 25 hours after the first): %v", len(de), policies(incs))
	}
	if !de[1].FirstSeen.After(de[0].LastSeen.Add(24 * time.Hour)) {
		t.Errorf("second incident first seen %v, first last seen %v: want more than the quiet period apart", de[1].FirstSeen, de[0].LastSeen)
	}
}
