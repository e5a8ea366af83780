package detection

// Rules returns Trailhound's single-event detections, as data. Each rule's
// evidence (positive and negative real CloudTrail records) is in
// testdata/rules/<id>.jsonl; TestCatalogueEvidence walks them all. The rules
// are grouped by tactic, one file each (catalogue_<tactic>.go).
//
// Severity is for a successful call by a principal acting directly; a failed
// call is one level lower (an attempt), and a call CloudFormation makes on a
// principal's behalf one level lower again. Calls by infrastructure-as-code
// tools (Terraform, Pulumi, CDK) never raise the medium-and-above rules that
// carry notIaC: where the datasets show such a tool doing the same thing, a
// low "-by-iac" twin keeps a trace of it.
//
// Older rules that no record of the shared datasets can evidence yet are in
// unevidencedRules (catalogue_unevidenced.go); new behaviours in the same
// situation are written in pendingRules (catalogue_pending.go) and are not
// shipped until real evidence exists for them.
func Rules() []Rule {
	var rules []Rule
	for _, group := range [][]Rule{
		defenseEvasionRules(),
		persistenceRules(),
		privilegeRules(),
		lambdaRules(),
		exfiltrationRules(),
		impactRules(),
		credentialAccessRules(),
		executionRules(),
		initialAccessRules(),
		discoveryRules(),
		unevidencedRules(),
	} {
		rules = append(rules, group...)
	}
	return rules
}

// Tag sets shared by many rules.
var (
	weakened      = []string{TagLoggingWeakened}
	granted       = []string{TagPermissionGrant}
	credentials   = []string{TagCredentialGrant}
	shareOut      = []string{TagShareOut}
	lambdaChange  = []string{TagLambdaChange}
	lambdaTrigger = []string{TagLambdaTrigger}
	recovery      = []string{TagRecoveryRemoved}
	unreadable    = []string{TagDataUnreadable}
	secrets       = []string{TagCredentialAccess}
	execution     = []string{TagExecution}
	recon         = []string{TagRecon}
	rootTags      = []string{TagRoot}
)

// iacAgents matches the user agents of infrastructure-as-code tools.
const iacAgents = `(?i)terraform|hashicorp|pulumi|aws-cdk|crossplane`

// Conditions shared by many rules.
var (
	// notIaC skips calls by infrastructure-as-code tools (Terraform,
	// Pulumi, CDK, Crossplane): their teardown deletes trails and log
	// groups, their set-up attaches policies and opens security groups, all
	// reviewed as code. A new tool for an identity is the baseline's
	// first-seen signal. CloudFormation is not matched: the engine already
	// weighs the calls it makes for a principal one level lower.
	notIaC = Cond{Field: "userAgent", Op: Matches, Values: []string{iacAgents}, Not: true}
	// byIaC is notIaC's opposite, for the low twins.
	byIaC = Cond{Field: "userAgent", Op: Matches, Values: []string{iacAgents}}
	// byPerson holds when a person (an IAM user, root, an SSO or federated
	// session, or a role chain resolving to one) made the call; pipelines
	// use workload roles.
	byPerson = Cond{Field: "userIdentity.type", Op: Is, Values: []string{"human-identity"}}
	// byWorkload is byPerson's opposite.
	byWorkload = Cond{Field: "userIdentity.type", Op: Is, Values: []string{"human-identity"}, Not: true}
	// byRoot holds for the root user.
	byRoot = Cond{Field: "userIdentity.type", Op: Equals, Values: []string{"Root"}}
	// notByRoot leaves the root user to the root rules.
	notByRoot = Cond{Field: "userIdentity.type", Op: Equals, Values: []string{"Root"}, Not: true}
)

// Where calls name their targets.
var (
	policyTargets = []Ref{{"iam:user", "requestParameters.userName"}, {"iam:role", "requestParameters.roleName"}, {"iam:group", "requestParameters.groupName"}}
	functionRef   = []Ref{{"lambda:function", "requestParameters.functionName"}}
	bucketRef     = []Ref{{"s3:bucket", "requestParameters.bucketName"}}
	trailRef      = []Ref{{"cloudtrail:trail", "requestParameters.name"}}
	instanceRef   = []Ref{{"ec2:instance", "requestParameters.instanceId"}}
	dbInstanceRef = []Ref{{"rds:db", "requestParameters.dBInstanceIdentifier"}, {"rds:cluster", "requestParameters.dBClusterIdentifier"}}
)
