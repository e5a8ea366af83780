package detection

// unevidencedRules are detections Trailhound shipped before every rule had
// to carry real evidence, for which no record of the shared datasets
// (Stratus detonation logs, the Invictus run, CloudGoat, Panther's rule
// tests) shows the behaviour: no GuardDuty, Access Analyzer, EventBridge or
// event-source-mapping write, no admin policy document, no Lambda role or
// environment change, and of course no Trailhound resource appears in them.
// They stay in the catalogue because production and the composite policies
// rely on them (lambda-backdoor needs the EventBridge rules; the responder
// deletes the rule they name), and TestCatalogueEvidence reports each of
// them until a real positive record is added to
// testdata/extract/evidence.txt. Their evidence files hold real near-miss
// negatives already.
func unevidencedRules() []Rule {
	return []Rule{
		// Defense evasion.
		{
			ID: "guardduty-disabled", Severity: Critical, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "GuardDuty detection was deleted, or the account taken out of its administrator's view",
			Source:    "guardduty.amazonaws.com", Events: []string{"DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "StopMonitoringMembers", "DeleteMembers", "DisassociateMembers"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"guardduty:detector", "requestParameters.detectorId"}},
		},
		{
			ID: "guardduty-findings-suppressed", Severity: High, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "a GuardDuty filter now archives findings automatically",
			Source:    "guardduty.amazonaws.com", Events: []string{"CreateFilter", "UpdateFilter"},
			Where:     []Cond{notIaC, {Field: "requestParameters.action", Op: EqualsFold, Values: []string{"ARCHIVE"}}},
			Resources: []Ref{{"guardduty:detector", "requestParameters.detectorId"}},
		},
		{
			ID: "guardduty-detector-suspended", Severity: Critical, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "a GuardDuty detector was disabled",
			Source:    "guardduty.amazonaws.com", Events: []string{"UpdateDetector"},
			Where:     []Cond{notIaC, {Field: "requestParameters.enable", Op: Equals, Values: []string{"false"}}},
			Resources: []Ref{{"guardduty:detector", "requestParameters.detectorId"}},
		},
		{
			ID: "access-analyzer-deleted", Severity: Medium, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "an IAM Access Analyzer analyzer was deleted",
			Source:    "access-analyzer.amazonaws.com", Events: []string{"DeleteAnalyzer"},
			Where: []Cond{notIaC},
		},
		// Privilege escalation.
		{
			ID: "admin-inline-policy", Severity: High, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "an inline policy granting every action on every resource was put on a user, role or group",
			Source:    "iam.amazonaws.com", Events: []string{"PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.policyDocument", Op: Is, Values: []string{"admin-policy-document"}}},
			Resources: policyTargets,
		},
		{
			ID: "admin-policy-version", Severity: High, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "a managed policy got a version granting every action on every resource",
			Source:    "iam.amazonaws.com", Events: []string{"CreatePolicyVersion", "CreatePolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.policyDocument", Op: Is, Values: []string{"admin-policy-document"}}},
			Resources: []Ref{{"iam:policy", "requestParameters.policyArn"}},
		},
		{
			ID: "policy-version-set-default", Severity: Medium, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "a managed policy's default version was switched: an old, broader version may be back in force",
			Source:    "iam.amazonaws.com", Events: []string{"SetDefaultPolicyVersion"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"iam:policy", "requestParameters.policyArn"}},
		},
		// Lambda and EventBridge.
		{
			ID: "lambda-role-or-environment-changed", Severity: Medium, Attack: []string{"T1546"}, Tags: lambdaChange,
			Rationale: "a Lambda function's execution role or environment was changed",
			Source:    "lambda.amazonaws.com", Events: updateConfig,
			Where:     []Cond{notIaC, {Field: "requestParameters", Op: Matches, Values: []string{`"role"|"environment":\s*\{\s*"variables"`}}},
			Resources: functionRef,
		},
		{
			ID: "lambda-event-source-mapped", Severity: Low, Attack: []string{"T1546"}, Tags: lambdaTrigger,
			Rationale: "an event source (queue, stream, table) was mapped to a Lambda function",
			Source:    "lambda.amazonaws.com", Events: []string{"CreateEventSourceMapping20150331", "CreateEventSourceMapping"},
			Resources: functionRef,
		},
		{
			ID: "eventbridge-rule-put", Severity: Low, Attack: []string{"T1546"}, Tags: lambdaTrigger,
			Rationale: "an EventBridge rule was created or changed",
			Source:    "events.amazonaws.com", Events: []string{"PutRule"},
			Resources: []Ref{{"events:rule", "responseElements.ruleArn"}},
			Facts:     []Ref{{"rule", "requestParameters.name"}, {"schedule", "requestParameters.scheduleExpression"}, {"pattern", "requestParameters.eventPattern"}},
		},
		{
			ID: "eventbridge-lambda-target", Severity: Medium, Attack: []string{"T1546"}, Tags: lambdaTrigger,
			Rationale: "an EventBridge rule now invokes a Lambda function",
			Source:    "events.amazonaws.com", Events: []string{"PutTargets"},
			Where:     []Cond{notIaC, {Field: "requestParameters.targets.#.arn", Op: Contains, Values: []string{":lambda:"}}},
			Resources: []Ref{{"lambda:function", "requestParameters.targets.#.arn"}},
			Facts:     []Ref{{"rule", "requestParameters.rule"}, {"bus", "requestParameters.eventBusName"}},
		},
		// Trailhound's own resources.
		{
			ID: "trailhound-tampered", Severity: High, Attack: []string{"T1562.001"}, Tags: []string{TagSelf, TagLoggingWeakened},
			Rationale: "one of Trailhound's own rules, functions, tables or buses was changed",
			Source:    "events.amazonaws.com", Events: []string{"DeleteRule", "DisableRule", "RemoveTargets", "PutRule", "PutTargets", "DeleteEventBus", "PutPermission", "RemovePermission"},
			Where: []Cond{{Field: "requestParameters", Op: Is, Values: []string{"trailhound-resource"}}},
		},
		{
			ID: "trailhound-function-tampered", Severity: High, Attack: []string{"T1562.001"}, Tags: []string{TagSelf, TagLoggingWeakened},
			Rationale: "one of Trailhound's own Lambda functions was changed or throttled",
			Source:    "lambda.amazonaws.com", Events: []string{"UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "DeleteFunction20150331", "PutFunctionConcurrency20171031", "DeleteEventSourceMapping20150331", "AddPermission20150331v2", "RemovePermission20150331v2"},
			Where: []Cond{{Field: "requestParameters.functionName", Op: Is, Values: []string{"trailhound-resource"}}},
		},
		{
			ID: "trailhound-table-tampered", Severity: High, Attack: []string{"T1562.001"}, Tags: []string{TagSelf, TagLoggingWeakened},
			Rationale: "Trailhound's DynamoDB table was deleted or changed",
			Source:    "dynamodb.amazonaws.com", Events: []string{"DeleteTable", "UpdateTable", "UpdateTimeToLive", "DeleteItem", "BatchWriteItem"},
			Where: []Cond{{Field: "requestParameters.tableName", Op: Is, Values: []string{"trailhound-resource"}}},
		},
	}
}
