package main

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

const (
	devVPC = "vpc-0a7f3c2e91d4b8e56"
	devSG  = "sg-0c4d1e7a9b2f35e81"
)

// bob applies Terraform to the dev account from the office a few times a
// week: a refresh of everything the configuration manages, then a change.
func (g *gen) bob() {
	r := seeded("bob")
	u := g.user(dev, "bob")
	w := &who{ui: u.ui(u.key, time.Time{}, false), ip: "198.51.100.57", tls: true, actor: actBob}
	runs := []struct {
		t      time.Time
		change string
	}{
		{at(0, 10, 31, 0), "billing-role"},
		{at(2, 14, 17, 0), "exports-bucket"},
		{at(3, 11, 8, 0), "sg-rules"},
		{at(4, 15, 22, 0), ""}, // plan only
	}
	for _, run := range runs {
		g.terraform(r, w, run.t.Add(jitter(r, 0, 40)), run.change)
	}
}

var terraformAPI = map[string]string{"sts": "sts#1.38.9", "iam": "iam#1.47.10", "s3": "s3#1.89.1", "ec2": "ec2#1.258.0"}

func (g *gen) terraform(r *rand.Rand, w *who, t time.Time, change string) {
	do := func(c C) {
		c.ua = terraformUA(terraformAPI[strings.TrimSuffix(c.src, ".amazonaws.com")])
		g.emit(t, dev, w, c)
		t = t.Add(time.Duration(r.IntN(2)) * time.Second)
	}
	do(stsCallerIdentity("us-east-1"))

	// Refresh.
	roles := []string{"dev-app-orders-role", "dev-app-inventory-role"}
	if t.After(at(0, 11, 0, 0)) {
		roles = append(roles, "dev-app-billing-role")
	}
	for _, name := range roles {
		do(iamCall("GetRole", true, obj("roleName", name), nil))
		do(iamCall("ListRolePolicies", true, obj("roleName", name), nil))
		do(iamCall("ListAttachedRolePolicies", true, obj("roleName", name), nil))
	}
	do(C{src: "ec2.amazonaws.com", name: "DescribeVpcs", region: "us-east-1", ro: true,
		req: obj("vpcSet", obj("items", []O{obj("vpcId", devVPC)}), "filterSet", empty())})
	for _, attr := range []string{"enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics"} {
		do(C{src: "ec2.amazonaws.com", name: "DescribeVpcAttribute", region: "us-east-1", ro: true,
			req: obj("vpcId", devVPC, "attribute", attr)})
	}
	do(ec2Read("us-east-1", "DescribeSubnets"))
	do(ec2Read("us-east-1", "DescribeRouteTables"))
	do(C{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", region: "us-east-1", ro: true,
		req: obj("securityGroupSet", empty(), "securityGroupIdSet", obj("items", []O{obj("groupId", devSG)}), "filterSet", empty())})
	do(ec2Read("us-east-1", "DescribeSecurityGroupRules"))
	for _, b := range []string{"corp-ai-dev-sandbox", "corp-ai-dev-data", "corp-ai-dev-exports"} {
		bk := bucketNamed(b)
		if !bk.created.IsZero() && bk.created.After(t) {
			continue
		}
		for _, n := range terraformBucketReads {
			do(bk.read(n))
		}
	}
	if change == "" {
		return
	}

	// Apply, after bob has read the plan.
	t = t.Add(jitter(r, 40, 100))
	switch change {
	case "billing-role":
		rl := g.role(dev, "", "dev-app-billing-role")
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		tags := []O{obj("key", "team", "value", "billing"), obj("key", "managed-by", "value", "terraform")}
		do(iamCall("CreateRole", false,
			obj("path", "/", "roleName", rl.name, "assumeRolePolicyDocument", trust, "description", "Billing service task role", "maxSessionDuration", 3600, "tags", tags),
			obj("role", obj("path", "/", "roleName", rl.name, "roleId", rl.id, "arn", rl.arn(), "createDate", iamDate(t),
				"assumeRolePolicyDocument", url.QueryEscape(trust), "tags", tags))))
		do(iamCall("GetRole", true, obj("roleName", rl.name), nil))
		do(iamCall("AttachRolePolicy", false, obj("roleName", rl.name, "policyArn", "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"), nil))
		do(iamCall("PutRolePolicy", false, obj("roleName", rl.name, "policyName", "billing-queue",
			"policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage"],"Resource":"arn:aws:sqs:us-east-1:`+dev+`:billing-events"}]}`), nil))
		do(iamCall("ListAttachedRolePolicies", true, obj("roleName", rl.name), nil))
		do(sgIngress(r, "AuthorizeSecurityGroupIngress", 8080, "billing service", "10.20.0.0/16"))
		g.configNotice(t.Add(jitter(r, 60, 300)), dev, "us-east-1",
			iamCall("GetRole", true, obj("roleName", rl.name), nil),
			iamCall("ListAttachedRolePolicies", true, obj("roleName", rl.name), nil),
			iamCall("ListRolePolicies", true, obj("roleName", rl.name), nil),
			iamCall("GetRolePolicy", true, obj("roleName", rl.name, "policyName", "billing-queue"), nil),
			C{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", region: "us-east-1", ro: true,
				req: obj("securityGroupSet", empty(), "securityGroupIdSet", obj("items", []O{obj("groupId", devSG)}), "filterSet", empty())})
	case "exports-bucket":
		b := bucketNamed("corp-ai-dev-exports")
		t = b.created
		create := s3(b.region, b.acct, b.name, "CreateBucket", false, "")
		create.req = obj("bucketName", b.name, "Host", b.name+".s3.amazonaws.com")
		create.host = b.name + ".s3.amazonaws.com"
		do(create)
		xmlns := "http://s3.amazonaws.com/doc/2006-03-01/"
		tag := s3(b.region, b.acct, b.name, "PutBucketTagging", false, "tagging")
		tag.req = append(tag.req.(O), kv{"Tagging", obj("xmlns", xmlns, "TagSet", obj("Tag", []O{obj("Key", "team", "Value", "data"), obj("Key", "managed-by", "Value", "terraform")}))})
		do(tag)
		pab := s3(b.region, b.acct, b.name, "PutBucketPublicAccessBlock", false, "publicAccessBlock")
		pab.req = append(pab.req.(O), kv{"PublicAccessBlockConfiguration", obj("xmlns", xmlns, "RestrictPublicBuckets", true, "BlockPublicPolicy", true, "BlockPublicAcls", true, "IgnorePublicAcls", true)})
		do(pab)
		enc := s3(b.region, b.acct, b.name, "PutBucketEncryption", false, "encryption")
		enc.req = append(enc.req.(O), kv{"ServerSideEncryptionConfiguration", obj("xmlns", xmlns,
			"Rule", obj("ApplyServerSideEncryptionByDefault", obj("SSEAlgorithm", "AES256"), "BucketKeyEnabled", true))})
		do(enc)
		ver := s3(b.region, b.acct, b.name, "PutBucketVersioning", false, "versioning")
		ver.req = append(ver.req.(O), kv{"VersioningConfiguration", obj("Status", "Enabled", "xmlns", xmlns)})
		do(ver)
		for _, n := range terraformBucketReads {
			do(b.read(n))
		}
		g.configNotice(t.Add(jitter(r, 60, 300)), dev, "us-east-1",
			b.read("GetBucketAcl"), b.read("GetBucketPolicy"), b.read("GetBucketVersioning"), b.read("GetBucketEncryption"), b.read("GetBucketPublicAccessBlock"))
	case "sg-rules":
		do(sgIngress(r, "RevokeSecurityGroupIngress", 8080, "billing service", "10.20.0.0/16"))
		do(sgIngress(r, "AuthorizeSecurityGroupIngress", 8443, "billing service (TLS)", "10.20.0.0/16", "10.30.0.0/16"))
		g.configNotice(t.Add(jitter(r, 60, 300)), dev, "us-east-1",
			C{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", region: "us-east-1", ro: true,
				req: obj("securityGroupSet", empty(), "securityGroupIdSet", obj("items", []O{obj("groupId", devSG)}), "filterSet", empty())})
	}
}

var terraformBucketReads = []string{
	"GetBucketPolicy", "GetBucketAcl", "GetBucketCors", "GetBucketWebsite", "GetBucketVersioning",
	"GetAccelerateConfiguration", "GetBucketRequestPayment", "GetBucketLogging", "GetBucketLifecycle",
	"GetBucketReplication", "GetBucketEncryption", "GetBucketObjectLockConfiguration", "GetBucketTagging",
}

// sgIngress changes an ingress rule of the dev application security group
// (internal ranges only).
func sgIngress(r *rand.Rand, name string, port int, desc string, cidrs ...string) C {
	var ranges, rules []O
	for _, c := range cidrs {
		ranges = append(ranges, obj("cidrIp", c, "description", desc))
		rules = append(rules, obj("groupOwnerId", dev, "groupId", devSG, "securityGroupRuleId", "sgr-0"+randHex(r, 16),
			"isEgress", false, "ipProtocol", "tcp", "fromPort", port, "toPort", port, "cidrIpv4", c, "description", desc))
	}
	req := obj("groupId", devSG, "ipPermissions", obj("items", []O{obj("ipProtocol", "tcp", "fromPort", port, "toPort", port,
		"groups", empty(), "ipRanges", obj("items", ranges), "ipv6Ranges", empty(), "prefixListIds", empty())}))
	resp := obj("requestId", uuid(r), "_return", true)
	if name == "AuthorizeSecurityGroupIngress" {
		resp = append(resp, kv{"securityGroupRuleSet", obj("items", rules)})
	}
	return C{src: "ec2.amazonaws.com", name: name, region: "us-east-1", ro: false, req: req, resp: resp}
}
