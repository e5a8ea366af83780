package detection

// exfiltrationRules: data shared with another account or the public
// (snapshots, images, buckets, keys, repositories, queues, domains,
// projects), copied out, or network traffic mirrored.
func exfiltrationRules() []Rule {
	return []Rule{
		{
			ID: "ebs-snapshot-shared", Severity: Critical, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an EBS snapshot was shared with another account or made public",
			Stratus:   []string{"aws.exfiltration.ec2-share-ebs-snapshot"},
			Source:    "ec2.amazonaws.com", Events: []string{"ModifySnapshotAttribute"},
			Where:     []Cond{notIaC, {Field: "requestParameters.createVolumePermission.add.items", Op: Is, Values: []string{"foreign-or-public-accounts"}}},
			Resources: []Ref{{"ec2:snapshot", "requestParameters.snapshotId"}},
			Facts:     []Ref{{"shared_with", "requestParameters.createVolumePermission.add.items.#.userId"}, {"shared_with_group", "requestParameters.createVolumePermission.add.items.#.group"}},
		},
		{
			ID: "ami-shared", Severity: Critical, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an AMI was shared with another account or made public",
			Stratus:   []string{"aws.exfiltration.ec2-share-ami"},
			Source:    "ec2.amazonaws.com", Events: []string{"ModifyImageAttribute"},
			Where:     []Cond{notIaC, {Field: "requestParameters.launchPermission.add.items", Op: Is, Values: []string{"foreign-or-public-accounts"}}},
			Resources: []Ref{{"ec2:image", "requestParameters.imageId"}},
			Facts:     []Ref{{"shared_with", "requestParameters.launchPermission.add.items.#.userId"}, {"shared_with_group", "requestParameters.launchPermission.add.items.#.group"}},
		},
		{
			ID: "rds-snapshot-shared", Severity: Critical, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an RDS snapshot was shared with another account or made public",
			Stratus:   []string{"aws.exfiltration.rds-share-snapshot"},
			Source:    "rds.amazonaws.com", Events: []string{"ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"},
			Where:     []Cond{notIaC, {Field: "requestParameters.valuesToAdd", Op: Is, Values: []string{"foreign-or-public-accounts"}}},
			Resources: []Ref{{"rds:snapshot", "requestParameters.dBSnapshotIdentifier"}, {"rds:cluster-snapshot", "requestParameters.dBClusterSnapshotIdentifier"}},
			Facts:     []Ref{{"shared_with", "requestParameters.valuesToAdd"}},
		},
		{
			ID: "rds-snapshot-copied-cross-region", Severity: Medium, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an RDS snapshot was copied from another region: data moved where nobody looks",
			Source:    "rds.amazonaws.com", Events: []string{"CopyDBSnapshot", "CopyDBClusterSnapshot"},
			Where:     []Cond{notIaC, {Field: "requestParameters.sourceRegion", Op: Exists}},
			Resources: []Ref{{"rds:snapshot", "requestParameters.sourceDBSnapshotIdentifier"}, {"rds:cluster-snapshot", "requestParameters.sourceDBClusterSnapshotIdentifier"}},
			Facts:     []Ref{{"source_region", "requestParameters.sourceRegion"}},
		},
		{
			ID: "rds-snapshot-exported", Severity: Medium, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an RDS snapshot was exported to S3 (Parquet files anyone with the bucket can read)",
			Source:    "rds.amazonaws.com", Events: []string{"StartExportTask"},
			Where:     []Cond{notIaC},
			Resources: []Ref{{"rds:snapshot", "requestParameters.sourceArn"}, {"s3:bucket", "requestParameters.s3BucketName"}},
		},
		{
			ID: "rds-public-restore", Severity: High, Attack: []string{"T1537"}, Tags: []string{TagShareOut, TagIngressOpen},
			Rationale: "a database was restored from a snapshot as publicly accessible",
			Source:    "rds.amazonaws.com", Events: []string{"RestoreDBInstanceFromDBSnapshot", "RestoreDBInstanceToPointInTime", "RestoreDBClusterFromSnapshot"},
			// The response says what was built: a restore into a default
			// subnet group is public without asking for it.
			Where:     []Cond{notIaC, {Field: "responseElements.publiclyAccessible", Op: Equals, Values: []string{"true"}}},
			Resources: dbInstanceRef,
		},
		{
			ID: "rds-instance-made-public", Severity: High, Attack: []string{"T1562.007"}, Tags: []string{TagShareOut, TagIngressOpen},
			Rationale: "a database instance or cluster was made publicly accessible",
			Source:    "rds.amazonaws.com", Events: []string{"ModifyDBInstance", "ModifyDBCluster"},
			Where:     []Cond{notIaC, {Field: "requestParameters.publiclyAccessible", Op: Equals, Values: []string{"true"}}},
			Resources: dbInstanceRef,
		},
		{
			ID: "bucket-policy-opened", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "a bucket policy now grants access to everyone or another account",
			Stratus:   []string{"aws.exfiltration.s3-backdoor-bucket-policy"},
			Source:    "s3.amazonaws.com", Events: []string{"PutBucketPolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.bucketPolicy", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: bucketRef,
		},
		{
			ID: "s3-public-access-block-deleted", Severity: Medium, Attack: []string{"T1562.007"}, Tags: shareOut,
			Rationale: "a bucket's public access block was deleted: public policies and ACLs take effect again",
			Source:    "s3.amazonaws.com", Events: []string{"DeleteBucketPublicAccessBlock"},
			Where:     []Cond{notIaC},
			Resources: bucketRef,
		},
		{
			ID: "s3-object-copied-to-another-account", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an object was copied into a bucket owned by another account",
			Source:    "s3.amazonaws.com", Events: []string{"CopyObject"},
			// The record's resources list names both buckets with their owners.
			Where:     []Cond{notIaC, {Field: "requestParameters.bucketName", Op: Is, Values: []string{"resource-of-another-account"}}},
			Resources: bucketRef,
			Facts:     []Ref{{"copy_source", "requestParameters.x-amz-copy-source"}},
		},
		{
			ID: "kms-key-policy-opened", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "a KMS key policy now grants use to everyone or another account",
			Source:    "kms.amazonaws.com", Events: []string{"PutKeyPolicy", "CreateKey"},
			Where:     []Cond{notIaC, {Field: "requestParameters.policy", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"kms:key", "requestParameters.keyId"}},
		},
		{
			ID: "ecr-repository-public", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an ECR repository policy now lets everyone or another account pull its images",
			Source:    "ecr.amazonaws.com", Events: []string{"SetRepositoryPolicy"},
			Where:     []Cond{notIaC, {Field: "requestParameters.policyText", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"ecr:repository", "requestParameters.repositoryName"}},
		},
		{
			ID: "sqs-queue-public", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an SQS queue policy now lets everyone or another account use the queue",
			Source:    "sqs.amazonaws.com", Events: []string{"SetQueueAttributes", "CreateQueue"},
			Where:     []Cond{notIaC, {Field: "requestParameters.attributes.Policy", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"sqs:queue", "requestParameters.queueUrl"}},
		},
		{
			ID: "opensearch-domain-public", Severity: High, Attack: []string{"T1537"}, Tags: shareOut,
			Rationale: "an OpenSearch domain's access policy now admits everyone or another account",
			Source:    "es.amazonaws.com", Events: []string{"CreateElasticsearchDomain", "UpdateElasticsearchDomainConfig", "CreateDomain", "UpdateDomainConfig"},
			Where:     []Cond{notIaC, {Field: "requestParameters.accessPolicies", Op: Is, Values: []string{"public-or-foreign-principal"}}},
			Resources: []Ref{{"es:domain", "requestParameters.domainName"}},
		},
		{
			ID: "codebuild-project-public", Severity: High, Attack: []string{"T1567"}, Tags: shareOut,
			Rationale: "a CodeBuild project's builds (logs, artifacts, often secrets) were made public",
			Source:    "codebuild.amazonaws.com", Events: []string{"UpdateProjectVisibility"},
			Where:     []Cond{notIaC, {Field: "requestParameters.projectVisibility", Op: Equals, Values: []string{"PUBLIC_READ"}}},
			Resources: []Ref{{"codebuild:project", "requestParameters.projectArn"}},
		},
		{
			ID: "traffic-mirroring-configured", Severity: Medium, Attack: []string{"T1020.001"}, Tags: shareOut,
			Rationale: "VPC traffic mirroring was set up or changed: copies of network traffic go to another interface",
			Source:    "ec2.amazonaws.com", Events: []string{"CreateTrafficMirrorSession", "ModifyTrafficMirrorSession", "CreateTrafficMirrorTarget", "CreateTrafficMirrorFilter", "CreateTrafficMirrorFilterRule"},
			Where: []Cond{notIaC},
		},
	}
}
