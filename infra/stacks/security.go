package stacks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// managementEvents matches CloudTrail's management events as EventBridge
// delivers them: API calls (read-only ones too with the rule state below),
// console sign-ins and service events, the detail types the detector
// decodes; data events (S3 objects, Lambda invocations), which a trail may
// also log, are left out at the source.
func managementEvents() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		DetailType: jsii.Strings(cloudtrail.DetailTypeAPICall, cloudtrail.DetailTypeConsoleLogin, cloudtrail.DetailTypeServiceEvent),
		Detail:     &map[string]any{"eventCategory": []string{"Management"}},
	}
}

// RuleStateAllManagementEvents makes a rule receive read-only management
// events too (List*, Describe*, Get*): reconnaissance detection needs them,
// and EventBridge withholds them from rules in the plain ENABLED state.
const RuleStateAllManagementEvents = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

// function is one function's sizing and asynchronous-invocation policy;
// /tmp/trailhound-notes/cdk.md (the README's "Sizing, and why") gives the
// measurements behind each figure.
type function struct {
	name     string
	memoryMB int
	timeout  awscdk.Duration
	// retries and maxAge bound Lambda's retries of a failed asynchronous
	// invocation (EventBridge's deliveries are asynchronous).
	retries int
	maxAge  awscdk.Duration
	env     map[string]string
	// deadLetters receives the invocations that failed every retry (nil:
	// none).
	deadLetters awssqs.Queue
}

// SecurityStack is the stack in the security account: table, bus, the
// three functions, their rules, dead-letter queues, alarms and topics.
type SecurityStack struct {
	awscdk.Stack
	Table                                              awsdynamodb.Table
	Bus                                                awsevents.EventBus
	Detector, Correlator, Responder                    awslambda.Function
	IncidentTopic, AlarmTopic                          awssns.Topic
	DetectorRule, CorrelatorRule, Incidents, Responses awsevents.Rule
}

// NewSecurityStack builds the security account's stack.
func NewSecurityStack(scope constructs.Construct, id string, cfg Config) (*SecurityStack, error) {
	st := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cfg.SecurityAccount), Region: jsii.String(cfg.HomeRegion)},
		Description: jsii.String("Trailhound: CloudTrail threat detection and response (security account)"),
	})
	s := &SecurityStack{Stack: st}
	s.Table = newTable(st, cfg)

	s.Bus = awsevents.NewEventBus(st, jsii.String("Bus"), &awsevents.EventBusProps{EventBusName: jsii.String(cfg.BusName)})
	s.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationPutEvents"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  jsii.Strings(*s.Bus.EventBusArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": cfg.OrganizationID}},
	}))

	// One key for both topics: EventBridge and CloudWatch publish to
	// them, which the AWS-managed SNS key would not let them do. The SNS
	// rule target grants EventBridge the key itself; CloudWatch's alarm
	// actions are granted here.
	key := awskms.NewKey(st, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Trailhound topics (incidents, alarms)"),
		EnableKeyRotation: jsii.Bool(true),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"), // in a key policy, * is this key
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfg.SecurityAccount}},
	}), nil)
	s.IncidentTopic = newTopic(st, "IncidentTopic", "Trailhound incidents", key, cfg.IncidentSubscriptions)
	s.AlarmTopic = newTopic(st, "AlarmTopic", "Trailhound alarms", key, cfg.AlarmSubscriptions)

	env := cfg.functionEnvironment()
	env[config.EnvTable] = *s.Table.TableName()
	responseJSON, err := cfg.ResponseConfigJSON()
	if err != nil {
		return nil, err
	}

	// Every dead-letter queue, as made, for the depth alarms.
	var dlqs deadLetters
	detectorFnDLQ, responderFnDLQ := dlqs.queue(st, "DetectorDeadLetters"), dlqs.queue(st, "ResponderDeadLetters")
	// The correlator first: the detector is given its name.
	s.Correlator = newFunction(st, cfg, function{
		name: "correlator", memoryMB: 512, timeout: awscdk.Duration_Seconds(jsii.Number(cfg.correlatorTimeout().Seconds())),
		// A failed run is not retried: the next one reads from the same
		// watermark, so nothing is lost.
		retries: 0, maxAge: awscdk.Duration_Minutes(jsii.Number(2)),
		env: merge(env, map[string]string{config.EnvBus: *s.Bus.EventBusName()}),
	})
	s.Detector = newFunction(st, cfg, function{
		name: "detector", memoryMB: 256, timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		retries: 2, maxAge: awscdk.Duration_Hours(jsii.Number(6)),
		env:         merge(env, map[string]string{config.EnvCorrelatorFunction: *s.Correlator.FunctionName()}),
		deadLetters: detectorFnDLQ,
	})
	s.Responder = newFunction(st, cfg, function{
		name: "responder", memoryMB: 256, timeout: awscdk.Duration_Seconds(jsii.Number(60)),
		retries: 2, maxAge: awscdk.Duration_Hours(jsii.Number(6)),
		env:         merge(env, map[string]string{config.EnvBus: *s.Bus.EventBusName(), response.EnvConfig: responseJSON}),
		deadLetters: responderFnDLQ,
	})

	// Least privilege, written out: no wildcard actions, and the
	// resources named (the CDK grant helpers add wildcard actions).
	for _, fn := range []awslambda.Function{s.Detector, s.Correlator, s.Responder} {
		fn.AddToRolePolicy(tableStatement(s.Table))
	}
	for _, fn := range []awslambda.Function{s.Correlator, s.Responder} {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("PublishIncidents"), Actions: jsii.Strings("events:PutEvents"), Resources: jsii.Strings(*s.Bus.EventBusArn()),
		}))
	}
	s.Detector.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("WakeCorrelator"), Actions: jsii.Strings("lambda:InvokeFunction"), Resources: jsii.Strings(*s.Correlator.FunctionArn()),
	}))
	if roles := cfg.responseRoleARNs(); len(roles) > 0 {
		s.Responder.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AssumeResponseRoles"), Actions: jsii.Strings("sts:AssumeRole"), Resources: jsii.Strings(roles...),
		}))
	}

	// Rules: every target retried, then dead-lettered.
	s.DetectorRule = awsevents.NewRule(st, jsii.String("DetectorRule"), &awsevents.RuleProps{
		Description:  jsii.String("CloudTrail management events, read-only ones included, to the detector"),
		EventBus:     s.Bus,
		EventPattern: managementEvents(),
	})
	setAllManagementEvents(s.DetectorRule)
	s.DetectorRule.AddTarget(functionForADay(s.Detector, dlqs.queue(st, "DetectorRuleDeadLetters")))

	s.CorrelatorRule = awsevents.NewRule(st, jsii.String("CorrelatorSchedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("runs the correlator every %d minute(s)", cfg.CorrelatorEveryMinutes)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(float64(cfg.CorrelatorEveryMinutes)))),
	})
	correlatorDLQ := dlqs.queue(st, "CorrelatorRuleDeadLetters")
	s.CorrelatorRule.AddTarget(awseventstargets.NewLambdaFunction(s.Correlator, &awseventstargets.LambdaFunctionProps{
		// A tick older than a few minutes is superseded by later ones.
		DeadLetterQueue: correlatorDLQ, RetryAttempts: jsii.Number(3), MaxEventAge: awscdk.Duration_Minutes(jsii.Number(5)),
	}))

	s.Incidents = awsevents.NewRule(st, jsii.String("IncidentRule"), &awsevents.RuleProps{
		Description: jsii.String("Trailhound incidents to the responder and the incident topic"),
		EventBus:    s.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(publish.Source),
			DetailType: jsii.Strings(publish.DetailTypeIncident),
		},
	})
	s.Incidents.AddTarget(functionForADay(s.Responder, dlqs.queue(st, "IncidentRuleResponderDeadLetters")))
	s.Incidents.AddTarget(topicForADay(s.IncidentTopic, dlqs.queue(st, "IncidentRuleTopicDeadLetters")))

	// The responder's decisions go to the incident topic's subscribers
	// too (not back to the responder).
	s.Responses = awsevents.NewRule(st, jsii.String("ResponseRule"), &awsevents.RuleProps{
		Description: jsii.String("the responder's decisions to the incident topic"),
		EventBus:    s.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(publish.Source),
			DetailType: jsii.Strings(publish.DetailTypeResponse),
		},
	})
	s.Responses.AddTarget(topicForADay(s.IncidentTopic, dlqs.queue(st, "ResponseRuleTopicDeadLetters")))

	// Alarms, all to the alarm topic.
	alarm := newAlarms(st, s.AlarmTopic)
	for _, fn := range []struct {
		name string
		fn   awslambda.Function
	}{{"Detector", s.Detector}, {"Correlator", s.Correlator}, {"Responder", s.Responder}} {
		alarm(fn.name+"Errors", "the "+fn.name+" function failed", fn.fn.MetricErrors(sum5m()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
		alarm(fn.name+"Throttles", "the "+fn.name+" function was throttled", fn.fn.MetricThrottles(sum5m()), 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	for _, q := range dlqs {
		alarm(q.name+"Depth", "events were dead-lettered in "+q.name+": inspect and redrive them",
			q.q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}),
			1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	alarm("DetectorSilence",
		fmt.Sprintf("the detector received no event for %d minutes: is a trail, or a member account's forwarding rule, stopped?", cfg.SilenceAlarmMinutes),
		s.Detector.MetricInvocations(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(float64(cfg.SilenceAlarmMinutes))), Statistic: jsii.String("Sum")}),
		1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, awscloudwatch.TreatMissingData_BREACHING)

	for name, v := range map[string]*string{
		"TableName": s.Table.TableName(), "BusArn": s.Bus.EventBusArn(), "IncidentTopicArn": s.IncidentTopic.TopicArn(),
		"AlarmTopicArn": s.AlarmTopic.TopicArn(), "ResponderRoleArn": s.Responder.Role().RoleArn(),
	} {
		awscdk.NewCfnOutput(st, jsii.String(name), &awscdk.CfnOutputProps{Value: v})
	}

	// cdk-nag recognises the functions' dead-letter queues, not the rule
	// targets'.
	var targetDLQs []awssqs.Queue
	for _, q := range dlqs {
		if q.q != detectorFnDLQ && q.q != responderFnDLQ {
			targetDLQs = append(targetDLQs, q.q)
		}
	}
	suppressDeadLetterCheck(targetDLQs)
	return s, nil
}

// newTable creates the table of dynamostore.Schema's design.
func newTable(st awscdk.Stack, cfg Config) awsdynamodb.Table {
	d := dynamostore.Schema()
	keys := func(ks []types.KeySchemaElement) (pk, sk *awsdynamodb.Attribute) {
		for _, k := range ks {
			a := &awsdynamodb.Attribute{Name: k.AttributeName, Type: awsdynamodb.AttributeType_STRING}
			if k.KeyType == types.KeyTypeHash {
				pk = a
			} else {
				sk = a
			}
		}
		return pk, sk
	}
	pk, sk := keys(d.KeySchema)
	removal := awscdk.RemovalPolicy_DESTROY
	if *cfg.RetainData {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	t := awsdynamodb.NewTable(st, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     pk,
		SortKey:                          sk,
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute:              jsii.String(d.TTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection:               cfg.RetainData,
		RemovalPolicy:                    removal,
	})
	for _, g := range d.GlobalSecondaryIndexes {
		gpk, gsk := keys(g.KeySchema)
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName: g.IndexName, PartitionKey: gpk, SortKey: gsk, ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return t
}

// tableStatement allows the item calls dynamostore makes (its API
// interface) on the table and each of its indexes, by name.
func tableStatement(t awsdynamodb.Table) awsiam.PolicyStatement {
	resources := []string{*t.TableArn()}
	for _, g := range dynamostore.Schema().GlobalSecondaryIndexes {
		resources = append(resources, *t.TableArn()+"/index/"+*g.IndexName)
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Table"),
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"),
		Resources: jsii.Strings(resources...),
	})
}

// newFunction creates one function from its `make build` artefact, with
// its own role (logs to its own log group only) and log group.
func newFunction(st awscdk.Stack, cfg Config, f function) awslambda.Function {
	id := titled(f.name)
	logs := awslogs.NewLogGroup(st, jsii.String(id+"Logs"), &awslogs.LogGroupProps{RemovalPolicy: awscdk.RemovalPolicy_DESTROY})
	// The Go binding's RetentionDays is a name (ONE_YEAR), not a number:
	// set the number Validate checked directly.
	logs.Node().DefaultChild().(awslogs.CfnLogGroup).AddPropertyOverride(jsii.String("RetentionInDays"), cfg.LogRetentionDays)
	var roleName *string
	if f.name == "responder" {
		roleName = jsii.String(ResponderRoleName) // the member response roles trust it by name
	}
	role := awsiam.NewRole(st, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    roleName,
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Trailhound " + f.name),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Logs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	vars := map[string]*string{}
	for k, v := range f.env {
		vars[k] = jsii.String(v)
	}
	return awslambda.NewFunction(st, jsii.String(id), &awslambda.FunctionProps{
		Description:  jsii.String("Trailhound " + f.name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.Artefacts, f.name)), nil),
		MemorySize:   jsii.Number(float64(f.memoryMB)),
		Timeout:      f.timeout,
		Environment:  &vars,
		Role:         role,
		LogGroup:     logs,
		// JSON logs (the functions write slog JSON), the platform's own
		// lines (START, END, REPORT) only from WARN: per-event logging
		// stays off the bill.
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		ApplicationLogLevelV2: applicationLogLevel(cfg.LogLevel),
		DeadLetterQueue:       f.deadLetters,
		RetryAttempts:         jsii.Number(float64(f.retries)),
		MaxEventAge:           f.maxAge,
	})
}

// applicationLogLevel is Lambda's filter for the functions' own JSON lines:
// the configured level, so that Lambda passes what the function writes.
func applicationLogLevel(level string) awslambda.ApplicationLogLevel {
	switch strings.ToLower(level) {
	case "debug":
		return awslambda.ApplicationLogLevel_DEBUG
	case "warn":
		return awslambda.ApplicationLogLevel_WARN
	case "error":
		return awslambda.ApplicationLogLevel_ERROR
	}
	return awslambda.ApplicationLogLevel_INFO
}

// A day of retries (EventBridge's own default: 185 attempts over 24 hours),
// then the target's own dead-letter queue.
const dayOfRetries = 185

// functionForADay is a rule target invoking fn, retried for a day, then
// dead-lettered into dlq.
func functionForADay(fn awslambda.IFunction, dlq awssqs.IQueue) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: dlq, RetryAttempts: jsii.Number(dayOfRetries), MaxEventAge: awscdk.Duration_Hours(jsii.Number(24)),
	})
}

// topicForADay is a rule target publishing to topic, retried for a day,
// then dead-lettered into dlq.
func topicForADay(topic awssns.ITopic, dlq awssqs.IQueue) awsevents.IRuleTarget {
	return awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
		DeadLetterQueue: dlq, RetryAttempts: jsii.Number(dayOfRetries), MaxEventAge: awscdk.Duration_Hours(jsii.Number(24)),
	})
}

// deadLetters are a stack's dead-letter queues, each named by its id.
type deadLetters []struct {
	name string
	q    awssqs.Queue
}

// queue makes a dead-letter queue and keeps it in the list.
func (d *deadLetters) queue(st awscdk.Stack, id string) awssqs.Queue {
	q := newQueue(st, id)
	*d = append(*d, struct {
		name string
		q    awssqs.Queue
	}{id, q})
	return q
}

// newQueue is a dead-letter queue: encrypted, TLS only, kept 14 days.
func newQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

func newTopic(st awscdk.Stack, id, display string, key awskms.IKey, subs []Subscription) awssns.Topic {
	t := awssns.NewTopic(st, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String(display), MasterKey: key, EnforceSSL: jsii.Bool(true),
	})
	for i, s := range subs {
		awssns.NewCfnSubscription(st, jsii.String(fmt.Sprintf("%sSubscription%d", id, i)), &awssns.CfnSubscriptionProps{
			TopicArn: t.TopicArn(), Protocol: jsii.String(s.Protocol), Endpoint: jsii.String(s.Endpoint),
		})
	}
	return t
}

// newAlarms returns a function adding one alarm, notifying topic when it
// goes into alarm and when it recovers.
func newAlarms(st awscdk.Stack, topic awssns.ITopic) func(id, description string, m awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) {
	action := awscloudwatchactions.NewSnsAction(topic)
	return func(id, description string, m awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) {
		a := awscloudwatch.NewAlarm(st, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: op,
			TreatMissingData:   missing,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
	}
}

func sum5m() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
}

// setAllManagementEvents sets the rule state the construct does not offer.
func setAllManagementEvents(r awsevents.Rule) {
	r.Node().DefaultChild().(awsevents.CfnRule).AddPropertyOverride(jsii.String("State"), jsii.String(RuleStateAllManagementEvents))
}

// responseRoleARNs are the member accounts' response roles the responder
// may assume.
func (c Config) responseRoleARNs() []string {
	if c.Response.RoleName == "" {
		return nil
	}
	arns := make([]string, 0, len(c.MemberAccounts))
	for _, a := range c.MemberAccounts {
		arns = append(arns, "arn:aws:iam::"+a+":role/"+c.Response.RoleName)
	}
	return arns
}

// suppressDeadLetterCheck tells cdk-nag, with the reason, that the rule
// targets' dead-letter queues need no dead-letter queue of their own.
func suppressDeadLetterCheck(dlqs []awssqs.Queue) {
	for _, q := range dlqs {
		cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("this queue is itself the dead-letter queue of an EventBridge rule target (cdk-nag does not see that link); a dead-letter queue of a dead-letter queue would only move the problem"),
		}}, jsii.Bool(false))
	}
}

func merge(a, b map[string]string) map[string]string {
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func titled(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
