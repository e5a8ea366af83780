package detection

var ec2LaunchFacts = []Ref{{"instance_type", "requestParameters.instanceType"}, {"count", "requestParameters.instancesSet.items.0.maxCount"}}

// impactRules: recovery removed (versioning, replication, backups,
// snapshots, deletion protection), data made unreadable (KMS keys, foreign
// or customer-provided encryption, ransom notes), resources hijacked
// (compute, models) and the network opened to the world.
func impactRules() []Rule {
	return []Rule{
		{
			ID: "s3-versioning-suspended", Severity: High, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a bucket's versioning was suspended: overwritten and deleted objects can no longer be recovered",
			Source:    "s3.amazonaws.com", Events: []string{"PutBucketVersioning"},
			Where:     []Cond{notIaC, {Field: "requestParameters.VersioningConfiguration.Status", Op: Equals, Values: []string{"Suspended", "Disabled"}}},
			Resources: bucketRef,
		},
		{
			ID: "s3-mfa-delete-disabled", Severity: High, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "MFA delete was turned off on a bucket: versions can be deleted without a second factor",
			Source:    "s3.amazonaws.com", Events: []string{"PutBucketVersioning"},
			Where:     []Cond{notIaC, {Field: "requestParameters.VersioningConfiguration.MfaDelete", Op: Equals, Values: []string{"Disabled"}}},
			Resources: bucketRef,
		},
		{
			ID: "s3-replication-deleted", Severity: Medium, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a bucket's replication configuration (its off-site copy) was deleted",
			Source:    "s3.amazonaws.com", Events: []string{"DeleteBucketReplication"},
			Where:     []Cond{notIaC},
			Resources: bucketRef,
		},
		{
			ID: "s3-bucket-deleted", Severity: Low, Attack: []string{"T1485"}, Tags: recovery,
			Rationale: "a bucket was deleted",
			Source:    "s3.amazonaws.com", Events: []string{"DeleteBucket"},
			Resources: bucketRef,
		},
		{
			ID: "s3-objects-deleted-in-bulk", Severity: Low, Attack: []string{"T1485"}, Tags: recovery,
			Rationale: "a person deleted objects with a multi-object delete (applications clean up with workload roles)",
			Source:    "s3.amazonaws.com", Events: []string{"DeleteObjects"},
			Where:     []Cond{byPerson},
			Resources: bucketRef,
		},
		{
			ID: "s3-object-encrypted-with-foreign-key", Severity: High, Attack: []string{"T1486"}, Tags: unreadable,
			Rationale: "an object was rewritten under a KMS key of another account: only that account can decrypt it",
			Source:    "s3.amazonaws.com", Events: []string{"CopyObject", "PutObject"},
			Where:     []Cond{notIaC, {Field: "requestParameters.x-amz-server-side-encryption-aws-kms-key-id", Op: Is, Values: []string{"arn-of-another-account"}}},
			Resources: bucketRef,
			Facts:     []Ref{{"kms_key", "requestParameters.x-amz-server-side-encryption-aws-kms-key-id"}, {"key", "requestParameters.key"}},
		},
		{
			ID: "s3-object-encrypted-with-customer-key", Severity: High, Attack: []string{"T1486"}, Tags: unreadable,
			Rationale: "an object was copied under a customer-provided key (SSE-C): whoever holds the key holds the data",
			Source:    "s3.amazonaws.com", Events: []string{"CopyObject"},
			Where:     []Cond{notIaC, {Field: "requestParameters.x-amz-server-side-encryption-customer-algorithm", Op: Exists}},
			Resources: bucketRef,
			Facts:     []Ref{{"key", "requestParameters.key"}},
		},
		{
			ID: "s3-ransom-note-uploaded", Severity: High, Attack: []string{"T1486"}, Tags: unreadable,
			Rationale: "an object named like a ransom note was uploaded",
			Source:    "s3.amazonaws.com", Events: []string{"PutObject"},
			Where: []Cond{notIaC, {Field: "requestParameters.key", Op: Matches, Values: []string{
				`(?i)(how[_ -]?to[_ -]?(decrypt|recover|restore|get[_ -]?back)|ransom|decrypt[_ -]?(instructions|files)|restore[_ -]?files|your[_ -]?files|read[_ -]?me[_ -]?(now|first|to[_ -]?decrypt))`}}},
			Resources: bucketRef,
			Facts:     []Ref{{"key", "requestParameters.key"}},
		},
		{
			ID: "kms-key-deletion-scheduled", Severity: High, Attack: []string{"T1485", "T1486"}, Tags: unreadable,
			Rationale: "a KMS key was scheduled for deletion or disabled: what it encrypts becomes unreadable",
			Source:    "kms.amazonaws.com", Events: []string{"ScheduleKeyDeletion", "DisableKey"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"kms:key", "requestParameters.keyId"}},
		},
		{
			ID: "rds-deletion-protection-disabled", Severity: Medium, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a database's deletion protection was turned off",
			Source:    "rds.amazonaws.com", Events: []string{"ModifyDBInstance", "ModifyDBCluster"},
			Where:     []Cond{notIaC, {Field: "requestParameters.deletionProtection", Op: Equals, Values: []string{"false"}}},
			Resources: dbInstanceRef,
		},
		{
			ID: "rds-database-deleted", Severity: Low, Attack: []string{"T1485"}, Tags: recovery,
			Rationale: "a database instance or cluster was deleted",
			Source:    "rds.amazonaws.com", Events: []string{"DeleteDBInstance", "DeleteDBCluster"},
			Resources: dbInstanceRef,
		},
		{
			ID: "rds-deleted-without-final-snapshot", Severity: High, Attack: []string{"T1485", "T1490"}, Tags: recovery,
			Rationale: "a database was deleted without a final snapshot: nothing is left to restore",
			Source:    "rds.amazonaws.com", Events: []string{"DeleteDBInstance", "DeleteDBCluster"},
			Where:     []Cond{notIaC, {Field: "requestParameters.skipFinalSnapshot", Op: Equals, Values: []string{"true"}}},
			Resources: dbInstanceRef,
		},
		{
			ID: "rds-automated-backups-deleted", Severity: High, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a database's retained automated backups were deleted",
			Source:    "rds.amazonaws.com", Events: []string{"DeleteDBInstanceAutomatedBackup", "DeleteDBClusterAutomatedBackup"},
			Where: []Cond{notIaC},
			Facts: []Ref{{"resource", "requestParameters.dbiResourceId"}, {"cluster_resource", "requestParameters.dbClusterResourceId"}},
		},
		{
			ID: "rds-snapshot-deleted", Severity: Medium, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "a manual database snapshot was deleted",
			Source:    "rds.amazonaws.com", Events: []string{"DeleteDBSnapshot", "DeleteDBClusterSnapshot"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"rds:snapshot", "requestParameters.dBSnapshotIdentifier"}, {"rds:cluster-snapshot", "requestParameters.dBClusterSnapshotIdentifier"}},
		},
		{
			ID: "ebs-snapshot-deleted", Severity: Low, Attack: []string{"T1490"}, Tags: recovery,
			Rationale: "an EBS snapshot was deleted",
			Source:    "ec2.amazonaws.com", Events: []string{"DeleteSnapshot"},
			Resources: []Ref{{"ec2:snapshot", "requestParameters.snapshotId"}},
		},
		{
			ID: "secret-deleted", Severity: Low, Attack: []string{"T1485"}, Tags: recovery,
			Rationale: "a Secrets Manager secret was scheduled for deletion",
			Source:    "secretsmanager.amazonaws.com", Events: []string{"DeleteSecret"},
			Resources: []Ref{{"secretsmanager:secret", "requestParameters.secretId"}},
		},
		{
			ID: "instances-launched-large", Severity: High, Attack: []string{"T1496.001", "T1578.002"}, Tags: []string{TagComputeLaunch},
			Rationale: "GPU, accelerator or very large instances were launched",
			Stratus:   []string{"aws.execution.ec2-launch-unusual-instances"},
			Source:    "ec2.amazonaws.com", Events: []string{"RunInstances"},
			Where: []Cond{notIaC, {Field: "requestParameters.instanceType", Op: Is, Values: []string{"large-or-gpu-instance"}}},
			Facts: ec2LaunchFacts,
		},
		{
			ID: "instances-launched-in-bulk", Severity: Medium, Attack: []string{"T1496.001", "T1578.002"}, Tags: []string{TagComputeLaunch},
			Rationale: "ten or more instances were requested in one call",
			Stratus:   []string{"aws.execution.ec2-launch-unusual-instances"},
			Source:    "ec2.amazonaws.com", Events: []string{"RunInstances"},
			Where: []Cond{notIaC, {Field: "requestParameters.instancesSet.items.#.maxCount", Op: Matches, Values: []string{`^[1-9][0-9]+$`}}},
			Facts: ec2LaunchFacts,
		},
		{
			ID: "bedrock-model-access", Severity: Medium, Attack: []string{"T1496.004"}, Tags: []string{TagComputeLaunch},
			Rationale: "access to a Bedrock foundation model was requested: LLMjacking starts here",
			Stratus:   []string{"aws.impact.bedrock-invoke-model"},
			Source:    "bedrock.amazonaws.com", Events: []string{"PutFoundationModelEntitlement", "PutUseCaseForModelAccess", "CreateFoundationModelAgreement"},
			Where: []Cond{notIaC},
		},
		{
			ID: "security-group-opened-to-world", Severity: Medium, Attack: []string{"T1562.007"}, Tags: []string{TagIngressOpen},
			Rationale: "a security group now admits the whole internet",
			Stratus:   []string{"aws.exfiltration.ec2-security-group-open-port-22-ingress"},
			Source:    "ec2.amazonaws.com", Events: []string{"AuthorizeSecurityGroupIngress"},
			// Both request shapes: the flat cidrIp form and the
			// ipPermissions.items.#.ipRanges.items.#.cidrIp form.
			Where: []Cond{notIaC, {Field: "requestParameters", Op: Matches, Values: []string{
				`"cidrIp(v6)?":\s*"[0-9a-fA-F.:]+/0"`}}},
			Resources: []Ref{{"ec2:security-group", "requestParameters.groupId"}},
			Facts:     []Ref{{"from_port", "requestParameters.fromPort"}, {"to_port", "requestParameters.toPort"}, {"ports", "requestParameters.ipPermissions.items.#.fromPort"}},
		},
		{
			ID: "network-acl-opened-to-world", Severity: Medium, Attack: []string{"T1562.007"}, Tags: []string{TagIngressOpen},
			Rationale: "a network ACL entry now allows inbound traffic from the whole internet",
			Source:    "ec2.amazonaws.com", Events: []string{"CreateNetworkAclEntry", "ReplaceNetworkAclEntry"},
			Where: []Cond{notIaC,
				{Field: "requestParameters.ruleAction", Op: Equals, Values: []string{"allow"}},
				{Field: "requestParameters.egress", Op: Equals, Values: []string{"false"}},
				{Field: "requestParameters", Op: Matches, Values: []string{`"(cidrBlock|ipv6CidrBlock)":\s*"[0-9a-fA-F.:]+/0"`}}},
			Resources: []Ref{{"ec2:network-acl", "requestParameters.networkAclId"}},
			Facts:     []Ref{{"port_from", "requestParameters.portRange.from"}, {"port_to", "requestParameters.portRange.to"}},
		},
		{
			ID: "rds-security-group-opened-to-world", Severity: Medium, Attack: []string{"T1562.007"}, Tags: []string{TagIngressOpen},
			Rationale: "an RDS (classic) security group now admits the whole internet",
			Source:    "rds.amazonaws.com", Events: []string{"AuthorizeDBSecurityGroupIngress"},
			Where:     []Cond{notIaC, {Field: "requestParameters.cIDRIP", Op: Is, Values: []string{"world-cidr"}}},
			Resources: []Ref{{"rds:security-group", "requestParameters.dBSecurityGroupName"}},
		},
		{
			ID: "rds-security-group-ingress-added", Severity: Low, Attack: []string{"T1562.007"}, Tags: []string{TagIngressOpen},
			Rationale: "an RDS (classic) security group now admits another network or security group",
			Source:    "rds.amazonaws.com", Events: []string{"AuthorizeDBSecurityGroupIngress"},
			Where:     []Cond{{Field: "requestParameters.cIDRIP", Op: Is, Values: []string{"world-cidr"}, Not: true}},
			Resources: []Ref{{"rds:security-group", "requestParameters.dBSecurityGroupName"}},
			Facts:     []Ref{{"cidr", "requestParameters.cIDRIP"}, {"security_group", "requestParameters.eC2SecurityGroupId"}},
		},
	}
}
