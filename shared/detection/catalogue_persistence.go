package detection

// persistenceRules: credentials, users, trust and identity providers an
// attacker can come back through.
func persistenceRules() []Rule {
	return []Rule{
		{
			ID: "access-key-created-for-another-user", Severity: High, Attack: []string{"T1098.001"}, Tags: credentials,
			Rationale: "an access key was created for another user: long-lived credentials the attacker holds",
			Stratus:   []string{"aws.persistence.iam-backdoor-user", "aws.persistence.iam-create-admin-user"},
			Source:    "iam.amazonaws.com", Events: []string{"CreateAccessKey"},
			Where:     []Cond{notIaC, {Field: "requestParameters.userName", Op: Is, Values: []string{"another-user"}}},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}, {"iam:access-key", "responseElements.accessKey.accessKeyId"}},
		},
		{
			ID: "root-access-key-created", Severity: High, Attack: []string{"T1098.001"}, Tags: []string{TagRoot, TagCredentialGrant},
			Rationale: "an access key was created for the root user: unrestricted long-lived credentials",
			Source:    "iam.amazonaws.com", Events: []string{"CreateAccessKey"},
			Where:     []Cond{byRoot, {Field: "requestParameters.userName", Op: Exists, Not: true}},
			Resources: []Ref{{"iam:access-key", "responseElements.accessKey.accessKeyId"}},
		},
		{
			ID: "login-profile-created-for-another-user", Severity: High, Attack: []string{"T1098.001"}, Tags: credentials,
			Rationale: "a console password was created for another user",
			Stratus:   []string{"aws.persistence.iam-create-user-login-profile"},
			Source:    "iam.amazonaws.com", Events: []string{"CreateLoginProfile"},
			Where:     []Cond{notIaC, {Field: "requestParameters.userName", Op: Is, Values: []string{"another-user"}}},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}},
		},
		{
			ID: "login-profile-changed-for-another-user", Severity: High, Attack: []string{"T1098.001"}, Tags: credentials,
			Rationale: "another user's console password was set without requiring a reset: the caller can sign in as that user",
			Stratus:   []string{"aws.privilege-escalation.iam-update-user-login-profile"},
			Source:    "iam.amazonaws.com", Events: []string{"UpdateLoginProfile"},
			Where: []Cond{notIaC,
				{Field: "requestParameters.userName", Op: Is, Values: []string{"another-user"}},
				{Field: "requestParameters.passwordResetRequired", Op: Equals, Values: []string{"true"}, Not: true}},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}},
		},
		{
			ID: "iam-password-changed", Severity: Low, Attack: []string{"T1098"}, Tags: credentials,
			Rationale: "an IAM user changed their own console password",
			Source:    "iam.amazonaws.com", Events: []string{"ChangePassword"},
		},
		{
			ID: "root-password-changed", Severity: High, Attack: []string{"T1098"}, Tags: []string{TagRoot, TagCredentialGrant},
			Rationale: "the root user's password was changed",
			Source:    "signin.amazonaws.com", Events: []string{"PasswordUpdated"},
			Where: []Cond{byRoot, {Field: "responseElements.PasswordUpdated", Op: Equals, Values: []string{"Failure"}, Not: true}},
		},
		{
			ID: "iam-user-created", Severity: Low, Attack: []string{"T1136.003"}, Tags: credentials,
			Rationale: "an IAM user was created",
			Stratus:   []string{"aws.persistence.iam-create-admin-user"},
			Source:    "iam.amazonaws.com", Events: []string{"CreateUser"},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}},
		},
		{
			ID: "role-trust-opened", Severity: High, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "a role's trust policy now admits everyone or another account",
			Stratus:   []string{"aws.persistence.iam-backdoor-role"},
			Source:    "iam.amazonaws.com", Events: []string{"UpdateAssumeRolePolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.policyDocument", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"iam:role", "requestParameters.roleName"}},
		},
		{
			ID: "role-created-with-foreign-trust", Severity: Medium, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "a role was created that everyone or another account may assume",
			Stratus:   []string{"aws.persistence.iam-create-backdoor-role"},
			Source:    "iam.amazonaws.com", Events: []string{"CreateRole"},
			Where:     []Cond{notIaC, {Field: "requestParameters.assumeRolePolicyDocument", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"iam:role", "requestParameters.roleName"}},
		},
		{
			ID: "rolesanywhere-trust-anchor", Severity: High, Attack: []string{"T1098"}, Tags: credentials,
			Rationale: "an IAM Roles Anywhere trust anchor or profile was created: certificates from outside AWS can now get credentials",
			Stratus:   []string{"aws.persistence.rolesanywhere-create-trust-anchor"},
			Source:    "rolesanywhere.amazonaws.com", Events: []string{"CreateTrustAnchor", "CreateProfile", "UpdateTrustAnchor"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"name", "requestParameters.name"}},
		},
		{
			ID: "saml-provider-changed", Severity: High, Attack: []string{"T1484.002"}, Tags: granted,
			Rationale: "a SAML identity provider was created, changed or deleted: whoever controls it can sign in to the roles that trust it",
			Source:    "iam.amazonaws.com", Events: []string{"CreateSAMLProvider", "UpdateSAMLProvider", "DeleteSAMLProvider"},
			// IAM Identity Center manages its own AWSSSO_ providers.
			Where: []Cond{notIaC, {Field: "requestParameters", Op: Contains, Values: []string{"AWSSSO_"}, Not: true}},
			Facts: []Ref{{"provider", "requestParameters.sAMLProviderArn"}, {"name", "requestParameters.name"}},
		},
		{
			ID: "federation-token", Severity: Medium, Attack: []string{"T1550.001"}, Tags: credentials,
			Rationale: "GetFederationToken issued credentials that survive the deletion of the user's access key",
			Stratus:   []string{"aws.persistence.sts-federation-token"},
			Source:    "sts.amazonaws.com", Events: []string{"GetFederationToken"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"name", "requestParameters.name"}},
		},
		{
			ID: "session-token-by-user", Severity: Low, Attack: []string{"T1550.001"}, Tags: credentials,
			Rationale: "an IAM user turned its long-lived key into session credentials (GetSessionToken), which outlive the key's deactivation",
			Source:    "sts.amazonaws.com", Events: []string{"GetSessionToken"},
			Where: []Cond{{Field: "userIdentity.type", Op: Equals, Values: []string{"IAMUser", "Root"}}},
		},
		{
			ID: "rds-master-password-changed", Severity: Medium, Attack: []string{"T1098"}, Tags: credentials,
			Rationale: "a database's master user password was reset through the RDS API: whoever set it owns the database",
			Source:    "rds.amazonaws.com", Events: []string{"ModifyDBInstance", "ModifyDBCluster"},
			Where:     []Cond{notIaC, {Field: "requestParameters.masterUserPassword", Op: Exists}},
			Resources: dbInstanceRef,
		},
		{
			ID: "console-session-from-api-credentials", Severity: Medium, Attack: []string{"T1550.001"}, Tags: credentials,
			Rationale: "API credentials were exchanged for a console sign-in token outside IAM Identity Center: stolen keys opened in a browser",
			Source:    "signin.amazonaws.com", Events: []string{"GetSigninToken"},
			Where: []Cond{{Field: "userIdentity.arn", Op: Contains, Values: []string{"AWSReservedSSO_"}, Not: true}},
		},
	}
}

// privilegeRules: permissions granted (policies attached or put, versions
// switched).
func privilegeRules() []Rule {
	adminPolicies := Cond{Field: "requestParameters.policyArn", Op: HasSuffix, Values: []string{"/AdministratorAccess", "/IAMFullAccess", "/PowerUserAccess"}}
	return []Rule{
		{
			ID: "admin-policy-attached", Severity: High, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "an administrator policy was attached to a user, role or group",
			Stratus:   []string{"aws.persistence.iam-create-admin-user", "aws.persistence.iam-create-backdoor-role"},
			Source:    "iam.amazonaws.com", Events: []string{"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"},
			Where:     []Cond{notIaC, adminPolicies},
			Resources: policyTargets, Facts: []Ref{{"policy", "requestParameters.policyArn"}},
		},
		{
			ID: "admin-policy-attached-by-iac", Severity: Low, Attack: []string{"T1098.003"}, Tags: granted,
			Rationale: "an infrastructure-as-code tool attached an administrator policy to a user, role or group",
			Source:    "iam.amazonaws.com", Events: []string{"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"},
			Where:     []Cond{byIaC, adminPolicies},
			Resources: policyTargets, Facts: []Ref{{"policy", "requestParameters.policyArn"}},
		},
		{
			ID: "rds-iam-role-added", Severity: Low, Attack: []string{"T1098"}, Tags: granted,
			Rationale: "an IAM role was associated with a database (S3 import/export, Lambda calls from SQL)",
			Source:    "rds.amazonaws.com", Events: []string{"AddRoleToDBInstance", "AddRoleToDBCluster"},
			Resources: append([]Ref{{"iam:role", "requestParameters.roleArn"}}, dbInstanceRef...),
			Facts:     []Ref{{"feature", "requestParameters.featureName"}},
		},
		{
			ID: "leaked-access-key-quarantined", Severity: High, Attack: []string{"T1552.001", "T1078.004"}, Tags: secrets,
			Rationale: "AWS found a user's access key exposed in public and attached its quarantine policy: the key is compromised",
			Source:    "iam.amazonaws.com", Events: []string{"AttachUserPolicy", "PutUserPolicy"},
			Where:     []Cond{{Field: "requestParameters", Op: Matches, Values: []string{`AWSCompromisedKeyQuarantine|AWSExposedCredentialPolicy`}}},
			Resources: []Ref{{"iam:user", "requestParameters.userName"}},
		},
	}
}
