package detection

// credentialAccessRules: secrets, passwords and parameters read.
func credentialAccessRules() []Rule {
	return []Rule{
		{
			ID: "ec2-password-data-retrieved", Severity: Medium, Attack: []string{"T1552"}, Tags: secrets,
			Rationale: "an EC2 instance's Windows administrator password data was retrieved",
			Stratus:   []string{"aws.credential-access.ec2-get-password-data"},
			Source:    "ec2.amazonaws.com", Events: []string{"GetPasswordData"},
			Where:     []Cond{notIaC},
			Resources: instanceRef,
		},
		{
			ID: "secrets-batch-retrieved", Severity: Medium, Attack: []string{"T1555.006"}, Tags: secrets,
			Rationale: "many Secrets Manager secrets were read in one call",
			Stratus:   []string{"aws.credential-access.secretsmanager-batch-retrieve-secrets"},
			Source:    "secretsmanager.amazonaws.com", Events: []string{"BatchGetSecretValue"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"filters", "requestParameters.filters"}},
		},
		{
			ID: "secret-value-read", Severity: Low, Attack: []string{"T1555.006"}, Tags: secrets,
			Rationale: "a person read a Secrets Manager secret's value (applications do so all day with workload roles; telling in a burst or from a new identity)",
			Stratus:   []string{"aws.credential-access.secretsmanager-retrieve-secrets"},
			Source:    "secretsmanager.amazonaws.com", Events: []string{"GetSecretValue"},
			Where:     []Cond{byPerson},
			Resources: []Ref{{"secretsmanager:secret", "requestParameters.secretId"}},
		},
		{
			ID: "ssm-parameter-decrypted", Severity: Low, Attack: []string{"T1555.006"}, Tags: secrets,
			Rationale: "SSM SecureString parameters were read decrypted",
			Stratus:   []string{"aws.credential-access.ssm-retrieve-securestring-parameters"},
			Source:    "ssm.amazonaws.com", Events: []string{"GetParameter", "GetParameters", "GetParametersByPath"},
			Where: []Cond{{Field: "requestParameters.withDecryption", Op: Equals, Values: []string{"true"}}},
			Facts: []Ref{{"name", "requestParameters.name"}, {"names", "requestParameters.names"}, {"path", "requestParameters.path"}},
		},
		{
			ID: "ec2-user-data-read", Severity: Low, Attack: []string{"T1552.005"}, Tags: []string{TagCredentialAccess, TagRecon},
			Rationale: "an instance's user data (often holding secrets) was read",
			Stratus:   []string{"aws.discovery.ec2-download-user-data"},
			Source:    "ec2.amazonaws.com", Events: []string{"DescribeInstanceAttribute"},
			Where:     []Cond{{Field: "requestParameters.attribute", Op: Equals, Values: []string{"userData"}}},
			Resources: instanceRef,
		},
		{
			ID: "rds-log-downloaded", Severity: Low, Attack: []string{"T1552.001"}, Tags: secrets,
			Rationale: "a database log file was downloaded (logs can hold credentials and query data)",
			Source:    "rds.amazonaws.com", Events: []string{"DownloadDBLogFilePortion", "DownloadCompleteDBLogFile"},
			Resources: dbInstanceRef,
			Facts:     []Ref{{"log_file", "requestParameters.logFileName"}},
		},
	}
}

// executionRules: commands run on instances (user data, SSM, Instance
// Connect, the serial console).
func executionRules() []Rule {
	return []Rule{
		{
			ID: "ec2-user-data-modified", Severity: High, Attack: []string{"T1059.009"}, Tags: execution,
			Rationale: "an instance's user data was changed: the new script runs as root at next boot",
			Stratus:   []string{"aws.execution.ec2-user-data"},
			Source:    "ec2.amazonaws.com", Events: []string{"ModifyInstanceAttribute"},
			Where:     []Cond{notIaC, {Field: "requestParameters.userData", Op: Exists}},
			Resources: instanceRef,
		},
		{
			ID: "ssm-shell-command-sent", Severity: Medium, Attack: []string{"T1651"}, Tags: execution,
			Rationale: "a shell command was sent to instances through SSM Run Command",
			Stratus:   []string{"aws.execution.ssm-send-command", "aws.credential-access.ec2-steal-instance-credentials"},
			Source:    "ssm.amazonaws.com", Events: []string{"SendCommand"},
			Where:     []Cond{notIaC, {Field: "requestParameters.documentName", Op: Equals, Values: []string{"AWS-RunShellScript", "AWS-RunPowerShellScript"}}},
			Resources: []Ref{{"ec2:instance", "requestParameters.instanceIds"}},
			Facts:     []Ref{{"document", "requestParameters.documentName"}},
		},
		{
			ID: "ssm-session-started", Severity: Medium, Attack: []string{"T1651"}, Tags: execution,
			Rationale: "an interactive SSM Session Manager shell was opened on an instance",
			Stratus:   []string{"aws.execution.ssm-start-session"},
			Source:    "ssm.amazonaws.com", Events: []string{"StartSession"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"ec2:instance", "requestParameters.target"}},
		},
		{
			ID: "instance-connect-key-pushed", Severity: Medium, Attack: []string{"T1021.008"}, Tags: execution,
			Rationale: "an SSH key was pushed to an instance with EC2 Instance Connect",
			Stratus:   []string{"aws.lateral-movement.ec2-instance-connect"},
			Source:    "ec2-instance-connect.amazonaws.com", Events: []string{"SendSSHPublicKey"},
			Where:     []Cond{notIaC},
			Resources: instanceRef,
			Facts:     []Ref{{"os_user", "requestParameters.instanceOSUser"}},
		},
		{
			ID: "serial-console-key-pushed", Severity: High, Attack: []string{"T1021.008"}, Tags: execution,
			Rationale: "an SSH key was pushed to an instance's serial console",
			Stratus:   []string{"aws.lateral-movement.ec2-serial-console-send-ssh-public-key"},
			Source:    "ec2-instance-connect.amazonaws.com", Events: []string{"SendSerialConsoleSSHPublicKey"},
			Where:     []Cond{notIaC},
			Resources: instanceRef,
		},
		{
			ID: "serial-console-enabled", Severity: Medium, Attack: []string{"T1021.008"}, Tags: execution,
			Rationale: "EC2 serial console access was enabled for the account",
			Stratus:   []string{"aws.lateral-movement.ec2-serial-console-send-ssh-public-key"},
			Source:    "ec2.amazonaws.com", Events: []string{"EnableSerialConsoleAccess"},
			Where: []Cond{notIaC},
		},
	}
}

// Console sign-in outcomes.
var (
	loginFailed    = Cond{Field: "responseElements.ConsoleLogin", Op: Equals, Values: []string{"Failure"}}
	loginSucceeded = Cond{Field: "responseElements.ConsoleLogin", Op: Equals, Values: []string{"Success"}}
)

// initialAccessRules: console sign-ins (without MFA, failed, by root) and
// the root user at work.
func initialAccessRules() []Rule {
	return []Rule{
		{
			ID: "console-login-without-mfa", Severity: Medium, Attack: []string{"T1078.004"}, Tags: []string{TagInitialAccess},
			Rationale: "an IAM user signed in to the console without MFA",
			Stratus:   []string{"aws.initial-access.console-login-without-mfa"},
			Source:    "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
			Where: []Cond{
				loginSucceeded,
				{Field: "additionalEventData.MFAUsed", Op: Equals, Values: []string{"No"}},
				{Field: "userIdentity.type", Op: Equals, Values: []string{"IAMUser", "Root"}},
				// A SAML sign-in did its MFA at the identity provider.
				{Field: "additionalEventData.SamlProviderArn", Op: Exists, Not: true},
			},
		},
		{
			ID: "console-login-failed", Severity: Low, Attack: []string{"T1110"}, Tags: []string{TagAccessDenied, TagInitialAccess},
			Rationale: "a console sign-in failed",
			Source:    "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
			Where: []Cond{loginFailed, notByRoot},
		},
		{
			ID: "console-login-mfa-failed", Severity: Medium, Attack: []string{"T1621", "T1110"}, Tags: []string{TagAccessDenied, TagInitialAccess},
			Rationale: "a console sign-in got past the password and failed at MFA: the password is known to whoever tried",
			Source:    "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
			Where: []Cond{loginFailed, {Field: "additionalEventData.MFAUsed", Op: Equals, Values: []string{"Yes"}}},
		},
		{
			ID: "root-activity", Severity: High, Attack: []string{"T1078.004"}, Tags: []string{TagRoot, TagInitialAccess},
			Rationale: "the root user signed in to the console",
			Source:    "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
			Where: []Cond{byRoot, {Field: "responseElements.ConsoleLogin", Op: Equals, Values: []string{"Failure"}, Not: true}},
		},
		{
			ID: "root-console-login-failed", Severity: Medium, Attack: []string{"T1110"}, Tags: []string{TagRoot, TagAccessDenied},
			Rationale: "a console sign-in as the root user failed",
			Source:    "signin.amazonaws.com", Events: []string{"ConsoleLogin"},
			Where: []Cond{byRoot, loginFailed},
		},
		{
			ID: "root-iam-change", Severity: High, Attack: []string{"T1078.004", "T1098"}, Tags: rootTags,
			Rationale: "the root user changed IAM (users, keys, policies, roles)",
			Source:    "iam.amazonaws.com", Events: []string{
				"CreateUser", "DeleteUser", "CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
				"CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey",
				"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy",
				"AddUserToGroup", "CreateRole", "UpdateAssumeRolePolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
				"DeactivateMFADevice", "DeleteVirtualMFADevice", "CreateSAMLProvider", "CreateOpenIDConnectProvider"},
			Where:     []Cond{byRoot},
			Resources: policyTargets,
		},
		{
			ID: "root-s3-change", Severity: Medium, Attack: []string{"T1078.004"}, Tags: rootTags,
			Rationale: "the root user changed a bucket's configuration",
			Source:    "s3.amazonaws.com", Events: []string{
				"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketVersioning", "PutBucketLifecycle",
				"PutBucketLifecycleConfiguration", "PutBucketLogging", "PutBucketReplication", "DeleteBucketReplication",
				"PutBucketEncryption", "DeleteBucketEncryption", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
				"PutObjectLockConfiguration", "DeleteBucket"},
			Where:     []Cond{byRoot},
			Resources: bucketRef,
		},
		{
			ID: "root-account-settings-changed", Severity: Medium, Attack: []string{"T1078.004"}, Tags: rootTags,
			Rationale: "the root user changed the account's contact or billing settings",
			Source:    "billingconsole.amazonaws.com", Events: []string{"SetContactAddress", "SetAccountContact", "UpdateAccountContact"},
			Where: []Cond{byRoot},
		},
	}
}

// discoveryRules: enumeration a single event already gives away (bursts of
// ordinary reads are the baseline's to find).
func discoveryRules() []Rule {
	return []Rule{
		{
			ID: "account-authorization-details", Severity: Low, Attack: []string{"T1087.004"}, Tags: recon,
			Rationale: "every IAM user, role, group and policy was downloaded at once",
			Source:    "iam.amazonaws.com", Events: []string{"GetAccountAuthorizationDetails"},
		},
		{
			// Auditing tools (Prowler, ScoutSuite, CloudSploit) are left to
			// the baseline: run on a schedule they are habits, and a new one
			// is a first-seen-user-agent signal.
			ID: "attack-tool-identity-check", Severity: Medium, Attack: []string{"T1087.004"}, Tags: []string{TagRecon, TagAnomaly},
			Rationale: "an offensive tool or penetration-testing distribution (Kali, Parrot, Pentoo, Pacu, TruffleHog, CloudFox, …) checked whose credentials it holds",
			Source:    "sts.amazonaws.com", Events: []string{"GetCallerIdentity"},
			Where: []Cond{{Field: "userAgent", Op: Matches, Values: []string{
				`(?i)kali|parrot|pentoo|pacu|trufflehog|cloudfox|weirdaal|pmapper|nebula/`}}},
		},
		{
			ID: "ses-sending-enumerated", Severity: Low, Attack: []string{"T1526"}, Tags: recon,
			Rationale: "SES sending limits, identities or status were read: spammers check a stolen account's mail capacity first",
			Source:    "ses.amazonaws.com", Events: []string{"GetSendQuota", "GetAccountSendingEnabled", "ListIdentities", "GetIdentityVerificationAttributes", "GetAccount"},
			// Trusted Advisor checks the quota with its service-linked role.
			Where: []Cond{{Field: "userIdentity.sessionContext.sessionIssuer.arn", Op: Contains, Values: []string{"/aws-service-role/"}, Not: true}},
		},
		{
			ID: "billing-contacts-read", Severity: Low, Attack: []string{"T1087.004"}, Tags: recon,
			Rationale: "the account's contact information was read",
			Source:    "billingconsole.amazonaws.com", Events: []string{"GetContactInformation", "GetAlternateContact"},
		},
		{
			ID: "organization-accounts-read", Severity: Low, Attack: []string{"T1087.004"}, Tags: recon,
			Rationale: "the organisation's member accounts were described or listed",
			Source:    "organizations.amazonaws.com", Events: []string{"DescribeAccount", "ListAccounts"},
		},
		{
			ID: "rds-shared-snapshots-enumerated", Severity: Low, Attack: []string{"T1580"}, Tags: recon,
			Rationale: "public or shared database snapshots were listed",
			Source:    "rds.amazonaws.com", Events: []string{"DescribeDBSnapshots", "DescribeDBClusterSnapshots"},
			Where: []Cond{{Field: "requestParameters", Op: Matches, Values: []string{`"include(Public|Shared)":\s*true`}}},
		},
	}
}
