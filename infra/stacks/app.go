// Package stacks is Trailhound's CDK app: the security account's stack
// (table, bus, detector, correlator, responder, their rules, dead-letter
// queues, alarms and topics) and the member accounts' stacks (forwarding
// CloudTrail events to the bus; the response role), built from the
// configuration in cdk.json's context and validated at synth time.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack ids.
const (
	SecurityStackID = "Trailhound"
	MemberStackID   = "TrailhoundMember"
	StackSetStageID = "StackSet"
	StackSetStackID = "TrailhoundMember"
)

// Deployment is everything Build adds to an app.
type Deployment struct {
	Security *SecurityStack
	// Members are keyed by "<account>/<region>".
	Members map[string]*MemberStack
	// StackSet is the environment-agnostic member stack (nil unless
	// stackset_template is set).
	StackSet *MemberStack
}

// Option changes how Build builds.
type Option func(*options)

type options struct{ logSuppressed bool }

// LogNagSuppressions makes cdk-nag annotate every suppressed finding as
// info, with its reason (tests use it to see that the checks ran).
func LogNagSuppressions() Option { return func(o *options) { o.logSuppressed = true } }

// NewApp reads the configuration from the app's context (cdk.json, or
// props.Context in tests), validates it and builds the stacks. A bad
// configuration is an error naming its keys, before anything is built.
func NewApp(props *awscdk.AppProps, opts ...Option) (awscdk.App, *Deployment, error) {
	app := awscdk.NewApp(props)
	cfg, err := ParseContext(app.Node().TryGetContext(jsii.String(ContextKey)))
	if err != nil {
		return nil, nil, err
	}
	d, err := Build(app, cfg, opts...)
	if err != nil {
		return nil, nil, err
	}
	return app, d, nil
}

// Build adds the stacks of cfg to app: the security stack, one stage per
// member account and region, the StackSet template if asked for, and
// cdk-nag's AwsSolutions checks on all of them.
func Build(app awscdk.App, cfg Config, opts ...Option) (*Deployment, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	nag := func() cdknag.AwsSolutionsChecks {
		return cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true), LogIgnores: jsii.Bool(o.logSuppressed)})
	}
	d := &Deployment{Members: map[string]*MemberStack{}}
	var err error
	if d.Security, err = NewSecurityStack(app, SecurityStackID, cfg); err != nil {
		return nil, err
	}
	for _, account := range cfg.MemberAccounts {
		for i, region := range cfg.MemberRegions {
			stage := awscdk.NewStage(app, jsii.String(fmt.Sprintf("Member-%s-%s", account, region)), &awscdk.StageProps{
				Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
			})
			// Aspects added to the app do not reach into stages.
			awscdk.Aspects_Of(stage).Add(nag(), nil)
			m, err := NewMemberStack(stage, MemberStackID, cfg, MemberTarget{Account: account, Region: region, ResponseRole: i == 0})
			if err != nil {
				return nil, err
			}
			d.Members[account+"/"+region] = m
		}
	}
	if cfg.StackSetTemplate {
		// In a stage of its own so that `cdk deploy --all` (top-level
		// stacks only) never deploys it: StackSets do.
		stage := awscdk.NewStage(app, jsii.String(StackSetStageID), nil)
		awscdk.Aspects_Of(stage).Add(nag(), nil)
		if d.StackSet, err = NewMemberStack(stage, StackSetStackID, cfg, MemberTarget{}); err != nil {
			return nil, err
		}
	}
	awscdk.Aspects_Of(app).Add(nag(), nil)
	return d, nil
}
