package detection

// Lambda records its API versions in the event name.
var (
	createFunction  = []string{"CreateFunction20150331", "CreateFunction"}
	deleteFunction  = []string{"DeleteFunction20150331", "DeleteFunction"}
	updateCode      = []string{"UpdateFunctionCode20150331v2", "UpdateFunctionCode20150331", "UpdateFunctionCode"}
	updateConfig    = []string{"UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration20150331", "UpdateFunctionConfiguration"}
	addPermission   = []string{"AddPermission20150331v2", "AddPermission20150331", "AddPermission"}
	publicPrincipal = Cond{Field: "requestParameters.principal", Op: Is, Values: []string{"foreign-or-public-accounts"}}
)

// lambdaRules: functions created or changed (code, layers, configuration)
// and the permissions that let something invoke them. A lambda-change
// signal and a lambda-trigger signal together make the lambda-backdoor
// story.
func lambdaRules() []Rule {
	return []Rule{
		{
			ID: "lambda-function-created", Severity: Low, Attack: []string{"T1648"}, Tags: lambdaChange,
			Rationale: "a Lambda function was created",
			Source:    "lambda.amazonaws.com", Events: createFunction,
			Resources: []Ref{{"lambda:function", "responseElements.functionArn"}, {"iam:role", "requestParameters.role"}},
			Facts:     []Ref{{"role", "requestParameters.role"}, {"runtime", "requestParameters.runtime"}},
		},
		{
			ID: "lambda-function-deleted", Severity: Low, Attack: []string{"T1485"}, Tags: lambdaChange,
			Rationale: "a Lambda function was deleted",
			Source:    "lambda.amazonaws.com", Events: deleteFunction,
			Resources: functionRef,
		},
		{
			ID: "lambda-code-updated", Severity: Medium, Attack: []string{"T1648"}, Tags: lambdaChange,
			Rationale: "a person replaced a Lambda function's code by hand (pipelines deploy code with workload roles)",
			Stratus:   []string{"aws.persistence.lambda-overwrite-code"},
			Source:    "lambda.amazonaws.com", Events: updateCode,
			Where:     []Cond{notIaC, byPerson},
			Resources: []Ref{{"lambda:function", "requestParameters.functionName"}},
		},
		{
			ID: "lambda-code-updated-by-workload", Severity: Low, Attack: []string{"T1648"}, Tags: lambdaChange,
			Rationale: "a workload role replaced a Lambda function's code (a deployment, unless the role is being misused)",
			Source:    "lambda.amazonaws.com", Events: updateCode,
			Where:     []Cond{byWorkload},
			Resources: []Ref{{"lambda:function", "requestParameters.functionName"}},
		},
		{
			ID: "lambda-layer-added", Severity: High, Attack: []string{"T1546"}, Tags: lambdaChange,
			Rationale: "a person set layers (possibly an extension that sees every invocation) on a Lambda function",
			Stratus:   []string{"aws.persistence.lambda-layer-extension"},
			Source:    "lambda.amazonaws.com", Events: updateConfig,
			Where:     []Cond{notIaC, byPerson, {Field: "requestParameters.layers", Op: Exists}},
			Resources: functionRef, Facts: []Ref{{"layers", "requestParameters.layers"}},
		},
		{
			ID: "lambda-configuration-changed", Severity: Low, Attack: []string{"T1546"}, Tags: lambdaChange,
			Rationale: "a Lambda function's configuration (role, environment, layers, handler) was changed",
			Source:    "lambda.amazonaws.com", Events: updateConfig,
			Resources: functionRef,
		},
		{
			ID: "lambda-permission-public", Severity: High, Attack: []string{"T1098"}, Tags: []string{TagLambdaTrigger, TagPermissionGrant},
			Rationale: "a Lambda function's resource policy now lets anyone, or another account, invoke it",
			Stratus:   []string{"aws.persistence.lambda-backdoor-function"},
			Source:    "lambda.amazonaws.com", Events: addPermission,
			Where:     []Cond{notIaC, publicPrincipal, {Field: "requestParameters.principalOrgID", Op: Exists, Not: true}},
			Resources: functionRef, Facts: []Ref{{"principal", "requestParameters.principal"}},
		},
		{
			ID: "lambda-permission-added", Severity: Low, Attack: []string{"T1546"}, Tags: lambdaTrigger,
			Rationale: "a Lambda function's resource policy was extended (a service or principal of the account may now invoke it: a trigger being wired)",
			Source:    "lambda.amazonaws.com", Events: addPermission,
			Where:     []Cond{{Field: "requestParameters.principal", Op: Is, Values: []string{"foreign-or-public-accounts"}, Not: true}},
			Resources: functionRef, Facts: []Ref{{"principal", "requestParameters.principal"}, {"source_arn", "requestParameters.sourceArn"}},
		},
	}
}
