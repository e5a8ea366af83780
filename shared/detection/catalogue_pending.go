package detection

// pendingRules are detections the catalogue should have but does not ship
// yet: no record of the shared datasets (Stratus detonation logs, the
// Invictus run, CloudGoat, Panther's rule tests) shows the behaviour, and a
// new rule ships only with a real positive record (TestCatalogueEvidence).
// Each is complete and validated (TestPendingRulesAreValid); to ship one,
// add its real positive and negative records to
// testdata/extract/evidence.txt, regenerate testdata/rules/<id>.jsonl, and
// move the rule into its tactic's group.
func pendingRules() []Rule {
	return []Rule{
		// Defense evasion.
		{
			ID: "guardduty-trusted-ip-list-changed", Severity: Medium, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "a GuardDuty trusted IP list was created or changed: traffic from those addresses raises no finding",
			Source:    "guardduty.amazonaws.com", Events: []string{"CreateIPSet", "UpdateIPSet"},
			Where: []Cond{notIaC},
		},
		{
			ID: "ebs-default-encryption-disabled", Severity: Medium, Attack: []string{"T1562.001"}, Tags: weakened,
			Rationale: "EBS encryption by default was turned off for the region",
			Source:    "ec2.amazonaws.com", Events: []string{"DisableEbsEncryptionByDefault"},
			Where: []Cond{notIaC},
		},
		{
			ID: "cloudshell-session-started", Severity: Low, Attack: []string{"T1059.009"}, Tags: execution,
			Rationale: "an AWS CloudShell environment or session was started from the console",
			Source:    "cloudshell.amazonaws.com", Events: []string{"CreateEnvironment", "CreateSession"},
		},
		// Persistence and privilege escalation.
		{
			ID: "oidc-provider-changed", Severity: High, Attack: []string{"T1484.002"}, Tags: granted,
			Rationale: "an OpenID Connect identity provider was created or changed: whoever controls it can assume the roles that trust it",
			Source:    "iam.amazonaws.com", Events: []string{"CreateOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint", "AddClientIDToOpenIDConnectProvider"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"url", "requestParameters.url"}, {"provider", "requestParameters.openIDConnectProviderArn"}},
		},
		{
			ID: "admin-group-membership-added", Severity: Medium, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "a user was added to a group whose name says it administers the account",
			Source:    "iam.amazonaws.com", Events: []string{"AddUserToGroup"},
			Where:     []Cond{notIaC, {Field: "requestParameters.groupName", Op: Matches, Values: []string{`(?i)admin`}}},
			Resources: policyTargets,
		},
		{
			ID: "mfa-device-deactivated", Severity: Medium, Attack: []string{"T1556.006"}, Tags: credentials,
			Rationale: "a user's MFA device was deactivated or deleted",
			Source:    "iam.amazonaws.com", Events: []string{"DeactivateMFADevice", "DeleteVirtualMFADevice"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}},
			Facts:     []Ref{{"device", "requestParameters.serialNumber"}},
		},
		// Lambda.
		{
			ID: "lambda-function-url-public", Severity: High, Attack: []string{"T1098"}, Tags: []string{TagLambdaTrigger, TagPermissionGrant},
			Rationale: "a Lambda function got a URL that anyone can call without signing (auth type NONE)",
			Source:    "lambda.amazonaws.com", Events: []string{"CreateFunctionUrlConfig", "UpdateFunctionUrlConfig"},
			Where:     []Cond{notIaC, {Field: "requestParameters.authType", Op: Equals, Values: []string{"NONE"}}},
			Resources: functionRef,
		},
		// Exfiltration.
		{
			ID: "bucket-acl-public", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "a bucket ACL now grants everyone or all authenticated AWS users",
			Source:    "s3.amazonaws.com", Events: []string{"PutBucketAcl"},
			Where: []Cond{notIaC, {Field: "requestParameters", Op: Matches, Values: []string{
				`groups/global/(AllUsers|AuthenticatedUsers)|"x-amz-acl":\s*\[?\s*"(public-read|public-read-write|authenticated-read)"`}}},
			Resources: bucketRef,
		},
		{
			ID: "secret-policy-opened", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "a Secrets Manager resource policy now lets everyone or another account read the secret",
			Source:    "secretsmanager.amazonaws.com", Events: []string{"PutResourcePolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.resourcePolicy", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"secretsmanager:secret", "requestParameters.secretId"}},
		},
		{
			ID: "sns-topic-public", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an SNS topic policy now lets everyone or another account use the topic",
			Source:    "sns.amazonaws.com", Events: []string{"SetTopicAttributes", "CreateTopic"},
			Where:     []Cond{notIaC, {Field: "requestParameters.attributeValue", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"sns:topic", "requestParameters.topicArn"}},
		},
		{
			ID: "kms-grant-to-another-account", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "a KMS grant lets a principal of another account use a key",
			Source:    "kms.amazonaws.com", Events: []string{"CreateGrant"},
			Where:     []Cond{notIaC, {Field: "requestParameters.granteePrincipal", Op: Is, Values: []string{"arn-of-another-account"}}},
			Resources: []Ref{{"kms:key", "requestParameters.keyId"}},
		},
		{
			ID: "route53-domain-transferred", Severity: High, Attack: []string{"T1584.001"}, Tags: shareOut,
			Rationale: "a Route 53 domain was transferred to another account, or its transfer lock removed",
			Source:    "route53domains.amazonaws.com", Events: []string{"TransferDomainToAnotherAwsAccount", "DisableDomainTransferLock", "TransferDomain"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"domain", "requestParameters.domainName"}, {"account", "requestParameters.accountId"}},
		},
		// Impact.
		{
			ID: "s3-object-lock-weakened", Severity: High, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a bucket's object lock configuration was changed or governance retention bypassed",
			Source:    "s3.amazonaws.com", Events: []string{"PutObjectLockConfiguration", "PutObjectRetention"},
			Where:     []Cond{notIaC},
			Resources: bucketRef,
		},
		{
			ID: "region-enabled", Severity: Medium, Attack: []string{"T1535"}, Tags: []string{TagComputeLaunch},
			Rationale: "an opt-in region was enabled for the account: attackers mine where nobody looks",
			Source:    "account.amazonaws.com", Events: []string{"EnableRegion"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"region", "requestParameters.RegionName"}},
		},
		{
			ID: "service-quota-increase", Severity: Medium, Attack: []string{"T1496.001"}, Tags: []string{TagQuota},
			Rationale: "a service quota increase was requested (vCPU limits before a mining fleet)",
			Source:    "servicequotas.amazonaws.com", Events: []string{"RequestServiceQuotaIncrease"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"service", "requestParameters.serviceCode"}, {"quota", "requestParameters.quotaCode"}, {"value", "requestParameters.desiredValue"}},
		},
	}
}
