package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailhound/trailhound/shared/response"
)

// targetResources maps the resource type a response action acts on
// (response.Action.Target) to the service its permissions belong to and
// the ARN pattern they are granted on in a member account (%s is the
// account). The attacker's resources are not known in advance, so these
// are patterns; every permission stays scoped to the one account.
var targetResources = map[string]struct {
	service, pattern string
}{
	"iam:access-key":  {"iam", "arn:aws:iam::%s:user/*"}, // access keys are sub-resources of their user
	"iam:user":        {"iam", "arn:aws:iam::%s:user/*"},
	"iam:role":        {"iam", "arn:aws:iam::%s:role/*"},
	"events:rule":     {"events", "arn:aws:events:*:%s:rule/*"},     // any region, any bus
	"lambda:function": {"lambda", "arn:aws:lambda:*:%s:function:*"}, // any region
}

// MemberTarget says where a member stack goes. An empty Account makes the
// stack environment-agnostic (the StackSet template): account and region
// are the deployment's, and the response role is created only when the
// region is RoleRegion.
type MemberTarget struct {
	Account, Region string
	// ResponseRole creates the account's response role in this stack
	// (once per account: IAM is global).
	ResponseRole bool
}

// MemberStack forwards a member account's CloudTrail events in one region
// to the Trailhound bus and, once per account, holds the response role.
type MemberStack struct {
	awscdk.Stack
	ForwardRule  awsevents.Rule
	ResponseRole awsiam.Role // nil when the stack has none
}

// NewMemberStack builds a member account's stack.
func NewMemberStack(scope constructs.Construct, id string, cfg Config, target MemberTarget) (*MemberStack, error) {
	props := &awscdk.StackProps{Description: jsii.String("Trailhound: forwards CloudTrail management events to the security account, and the response role")}
	account, region := target.Account, target.Region
	agnostic := account == ""
	if agnostic {
		props.Synthesizer = awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}) // StackSets have no CDK bootstrap
		account, region = *awscdk.Aws_ACCOUNT_ID(), *awscdk.Aws_REGION()
	} else {
		props.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	st := awscdk.NewStack(scope, jsii.String(id), props)
	m := &MemberStack{Stack: st}

	bus := awsevents.EventBus_FromEventBusArn(st, jsii.String("TrailhoundBus"), jsii.String(cfg.busARN()))
	forwardRole := awsiam.NewRole(st, jsii.String("ForwardRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(forwardRolePrefix + region),
		Description: jsii.String("EventBridge delivers this region's CloudTrail events to the Trailhound bus"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
		}),
	})
	// The event-bus target below allows the role events:PutEvents on the
	// bus, and nothing else.
	m.ForwardRule = awsevents.NewRule(st, jsii.String("ForwardRule"), &awsevents.RuleProps{
		RuleName:     jsii.String(ForwardRuleName),
		Description:  jsii.String("CloudTrail management events, read-only ones included, to the Trailhound bus"),
		EventPattern: managementEvents(),
	})
	setAllManagementEvents(m.ForwardRule)
	dlq := newQueue(st, "ForwardDeadLetters")
	// EventBridge takes no retry policy for event-bus targets: it retries
	// them for 24 hours itself, then dead-letters.
	m.ForwardRule.AddTarget(awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{Role: forwardRole, DeadLetterQueue: dlq}))
	awscloudwatch.NewAlarm(st, jsii.String("ForwardDeadLettersDepth"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("CloudTrail events could not be forwarded to the Trailhound bus: check the bus policy and redrive"),
		Metric: dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}),
		Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("this queue is itself the dead-letter queue of the forwarding rule's target"),
	}}, jsii.Bool(false))

	if !target.ResponseRole && !agnostic {
		return m, nil
	}
	doc, err := ResponsePolicy(account, cfg.Response.RoleName)
	if err != nil {
		return nil, err
	}
	m.ResponseRole = awsiam.NewRole(st, jsii.String("ResponseRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(cfg.Response.RoleName),
		Description:        jsii.String("Trailhound's responder acts in this account through this role, only with the response actions' permissions"),
		AssumedBy:          awsiam.NewArnPrincipal(jsii.String(cfg.responderRoleARN())),
		ExternalIds:        jsii.Strings(cfg.Response.ExternalID),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies:     &map[string]awsiam.PolicyDocument{"ResponseActions": doc},
	})
	if agnostic {
		cond := awscdk.NewCfnCondition(st, jsii.String("InRoleRegion"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), cfg.roleRegion()),
		})
		m.ResponseRole.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(cond)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(m.ResponseRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("the attacker's users, roles, rules and functions are not known before the incident: each response permission is granted on that resource type " +
			"in this account only (never Resource *), and Trailhound's own roles and rule are denied"),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:aws:(iam|events|lambda):(\*)?:.+:(user|role|rule|function)[/:](trailhound-forward-)?\*$/g`)}},
	}}, jsii.Bool(true))
	return m, nil
}

// ResponsePolicy is the response role's policy in account: one statement
// per response action, its permissions from response.Actions() on the
// resource type it acts on, and a deny on Trailhound's own roles and rule,
// so the responder cannot be turned against its own eyes. An action whose
// target or permissions the table below does not cover is an error, so
// the code and the permissions cannot drift apart silently.
func ResponsePolicy(account, roleName string) (awsiam.PolicyDocument, error) {
	actions := response.Actions()
	if err := CheckActions(actions); err != nil {
		return nil, err
	}
	doc := awsiam.NewPolicyDocument(nil)
	var all []string
	for _, a := range actions {
		tr := targetResources[a.Target]
		doc.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(statementID(a.Name)),
			Actions:   jsii.Strings(a.Permissions...),
			Resources: jsii.Strings(fmt.Sprintf(tr.pattern, account)),
		}))
		all = append(all, a.Permissions...)
		for i, g := range a.Also {
			props := &awsiam.PolicyStatementProps{
				Sid:       jsii.String(alsoStatementID(a.Name, i)),
				Actions:   jsii.Strings(g.Permissions...),
				Resources: jsii.Strings(fmt.Sprintf(targetResources[g.Target].pattern, account)),
			}
			if g.PassedTo != "" {
				props.Conditions = &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": g.PassedTo}}
			}
			doc.AddStatements(awsiam.NewPolicyStatement(props))
			all = append(all, g.Permissions...)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	doc.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("ProtectTrailhound"),
		Effect:  awsiam.Effect_DENY,
		Actions: jsii.Strings(all...),
		Resources: jsii.Strings(
			"arn:aws:iam::"+account+":role/"+roleName,
			"arn:aws:iam::"+account+":role/"+forwardRolePrefix+"*",
			"arn:aws:events:*:"+account+":rule/"+ForwardRuleName,
		),
	}))
	return doc, nil
}

// CheckActions reports the first response action the response role
// cannot be built for: a target without a resource pattern, no
// permissions, or a permission of another service or with a wildcard.
func CheckActions(actions []response.Action) error {
	names := map[string]bool{}
	for _, a := range actions {
		tr, ok := targetResources[a.Target]
		switch {
		case !ok:
			return fmt.Errorf("response action %s acts on %q, which has no resource pattern in infra/stacks targetResources", a.Name, a.Target)
		case len(a.Permissions) == 0:
			return fmt.Errorf("response action %s declares no permissions", a.Name)
		case names[statementID(a.Name)] || statementID(a.Name) == "":
			return fmt.Errorf("response action %q: its statement id %q is empty or taken", a.Name, statementID(a.Name))
		}
		names[statementID(a.Name)] = true
		if err := checkPermissions(a.Name, tr.service, a.Permissions); err != nil {
			return err
		}
		for i, g := range a.Also {
			gr, ok := targetResources[g.Target]
			if !ok {
				return fmt.Errorf("response action %s also needs %q, which has no resource pattern in infra/stacks targetResources", a.Name, g.Target)
			}
			if len(g.Permissions) == 0 {
				return fmt.Errorf("response action %s: an extra grant on %s declares no permissions", a.Name, g.Target)
			}
			if err := checkPermissions(a.Name, gr.service, g.Permissions); err != nil {
				return err
			}
			names[alsoStatementID(a.Name, i)] = true
		}
	}
	return nil
}

// checkPermissions reports a permission of the action that is not one of
// service's actions, or has a wildcard.
func checkPermissions(action, service string, permissions []string) error {
	for _, p := range permissions {
		if !strings.HasPrefix(p, service+":") || len(p) == len(service)+1 || strings.Contains(p, "*") {
			return fmt.Errorf("response action %s: permission %q is not a %s action without wildcards", action, p, service)
		}
	}
	return nil
}

// alsoStatementID names the statement of an action's i-th extra grant.
func alsoStatementID(name string, i int) string {
	return fmt.Sprintf("%sAlso%d", statementID(name), i+1)
}

// statementID turns an action name into a policy statement id
// (deactivate-access-key -> DeactivateAccessKey).
func statementID(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') }) {
		b.WriteString(titled(part))
	}
	return b.String()
}

func (c Config) busARN() string {
	return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", c.HomeRegion, c.SecurityAccount, c.BusName)
}

func (c Config) responderRoleARN() string {
	return "arn:aws:iam::" + c.SecurityAccount + ":role/" + ResponderRoleName
}

// roleRegion is the region whose member stack holds the response role:
// the first member region, else the home region.
func (c Config) roleRegion() string {
	if len(c.MemberRegions) > 0 {
		return c.MemberRegions[0]
	}
	return c.HomeRegion
}
