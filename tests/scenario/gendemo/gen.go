package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Accounts, organisation and directory of the scenario.
const (
	orgID    = "o-7h3d5x9k2q"
	mgmt     = "111111111111" // management account: not part of the data
	prod     = "222222222222"
	dev      = "333333333333"
	security = "444444444444" // security tooling account: not part of the data
	idStore  = "d-9067a1b2c3"

	// ssoHex names the Identity Center SAML provider in member accounts.
	ssoHex      = "7a1e4c9b2d5f8a30"
	ssoInstance = "arn:aws:sso:::instance/ssoins-72234f1a9c8e6b5d"
	adminPS     = "AWSReservedSSO_AdministratorAccess_5f2a8c1e9d7b3a4f"
	readOnlyPS  = "AWSReservedSSO_ReadOnlyAccess_0c1d2e3f4a5b6c7d"
	ssoPath     = "aws-reserved/sso.amazonaws.com/"
)

var (
	weekStart = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // Monday
	weekEnd   = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) // after Saturday

	// commercial lists the 17 regions enabled by default.
	commercial = []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
		"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
		"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
	}
)

// day returns midnight UTC of the scenario day d (0 = Monday ... 5 = Saturday).
func day(d int) time.Time { return weekStart.AddDate(0, 0, d) }

func at(d, h, m, s int) time.Time {
	return day(d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// Actor labels: the identities events are counted under in the README.
const (
	actAlice    = "alice (IAM user, prod)"
	actBob      = "bob (IAM user, dev, Terraform)"
	actChris    = "chris@corp.ai (Identity Center, AdministratorAccess, prod)"
	actDana     = "dana@corp.ai (Identity Center, ReadOnlyAccess, prod and dev)"
	actCI       = "ci-deploy (GitHub Actions OIDC, prod) incl. CloudFormation on its behalf"
	actLambda   = "payments-* Lambda functions (lambda.amazonaws.com and execution roles)"
	actEC2      = "web-server-role (EC2 instances, SSM and CloudWatch agents)"
	actScanner  = "SecurityAuditRole (scanner user in 444444444444, both accounts)"
	actReport   = "svc-reporting (IAM user, nightly cost report)"
	actServices = "AWS services (Config, Auto Scaling, KMS, Secrets Manager rotation)"
	actAttacker = "attacker (chris@corp.ai's stolen Identity Center session)"
	actBackdoor = "sys-health-check backdoor running (lambda.amazonaws.com)"
)

// event is one generated record and what the generator knows about it.
type event struct {
	t      time.Time
	seq    int
	acct   string
	region string
	actor  string
	step   string // attack step, or ""
	id     string
	name   string
	rec    O
}

// gen accumulates the scenario.
type gen struct {
	ids    *rand.Rand // event ids, request ids, keys and tokens, in emission order
	events []*event
	seq    int
	roles  map[string]*role
	users  map[string]*user
	keys   map[string]bool
	config map[string][]*session // AWS Config sessions by account/region

	settlementCreated time.Time // when CloudFormation created payments-settlement-report
	reconcileEvery30  time.Time // when the reconcile schedule went from hourly to every 30 minutes
}

func newGen() *gen {
	return &gen{
		ids:    seeded("ids"),
		roles:  map[string]*role{},
		users:  map[string]*user{},
		keys:   map[string]bool{},
		config: map[string][]*session{},
	}
}

// who is the caller of a set of events: its userIdentity and the network
// and tool it calls from.
type who struct {
	ui      O
	ip, ua  string
	tls     bool // a client call over TLS (tlsDetails are written)
	console bool // session credentials from the console
	// stsGlobal: the tool calls STS's global endpoint (older SDKs).
	stsGlobal bool
	actor     string
	step      string
}

// C describes one call.
type C struct {
	src, name, region string
	ro                bool
	req, resp         any
	err, msg          string
	addl              O
	res               []O
	host              string // TLS host header, when not the service's regional endpoint
	ip, ua            string // overrides of the caller's
	noTLS             bool
	shared            string // sharedEventID
	reqID             string
	noReqID           bool
	typ               string // eventType, AwsApiCall by default
	sed               O      // serviceEventDetails
	vpce              string
	step              string
	actor             string
}

func eventVersion(src, typ string) string {
	switch {
	case src == "s3.amazonaws.com":
		return "1.10"
	case typ == "AwsServiceEvent":
		return "1.10"
	}
	return "1.11"
}

// host is the endpoint a client called.
func host(c C) string {
	if c.host != "" {
		return c.host
	}
	svc := strings.TrimSuffix(c.src, ".amazonaws.com")
	switch svc {
	case "iam":
		return "iam.amazonaws.com"
	case "signin":
		return "signin.aws.amazon.com"
	case "s3":
		return "s3.amazonaws.com"
	}
	return svc + "." + c.region + ".amazonaws.com"
}

func (g *gen) uuid() string { return uuid(g.ids) }

func (g *gen) requestID(src string) string {
	if src == "s3.amazonaws.com" {
		return randString(g.ids, upperAlnum, 16)
	}
	return uuid(g.ids)
}

// newKey issues a fresh access key id for the account.
func (g *gen) newKey(prefix, account string) string {
	for {
		k := awsID(g.ids, prefix, account, 0)
		if !g.keys[k] {
			g.keys[k] = true
			return k
		}
	}
}

func (g *gen) s3Addl(failed bool, out int) O {
	if out == 0 {
		out = 300 + g.ids.IntN(900)
		if failed {
			out = 250 + g.ids.IntN(120)
		}
	}
	return obj("SignatureVersion", "SigV4", "CipherSuite", "TLS_AES_128_GCM_SHA256", "bytesTransferredIn", 0,
		"AuthenticationMethod", "AuthHeader", "x-amz-id-2", randB64(g.ids, 56), "bytesTransferredOut", out)
}

// emit writes one record in account acct.
func (g *gen) emit(t time.Time, acct string, w *who, c C) *event {
	ip, ua := w.ip, w.ua
	if c.ip != "" {
		ip = c.ip
	}
	if c.ua != "" {
		ua = c.ua
	}
	if c.src == "s3.amazonaws.com" && !strings.HasPrefix(ua, "[") && !isServiceAgent(ua) {
		ua = "[" + ua + "]"
	}
	if w.stsGlobal && c.src == "sts.amazonaws.com" {
		c.host = "sts.amazonaws.com"
		c.addl = obj("RequestDetails", obj("awsServingRegion", "us-east-1", "endpointType", "global"))
	}
	typ := c.typ
	if typ == "" {
		typ = "AwsApiCall"
	}
	if c.region == "" {
		panic("emit: no region for " + c.name)
	}
	rec := O{
		{"eventVersion", eventVersion(c.src, typ)},
		{"userIdentity", w.ui},
		{"eventTime", ts(t)},
		{"eventSource", c.src},
		{"eventName", c.name},
		{"awsRegion", c.region},
		{"sourceIPAddress", ip},
		{"userAgent", ua},
	}
	if c.err != "" {
		rec = append(rec, kv{"errorCode", c.err}, kv{"errorMessage", c.msg})
	}
	rec = append(rec, kv{"requestParameters", c.req})
	resp := c.resp
	if c.err != "" {
		resp = nil
	}
	rec = append(rec, kv{"responseElements", resp})
	addl := c.addl
	if c.src == "s3.amazonaws.com" && addl == nil {
		addl = g.s3Addl(c.err != "", 0)
	}
	if addl != nil {
		rec = append(rec, kv{"additionalEventData", addl})
	}
	if !c.noReqID {
		id := c.reqID
		if id == "" {
			id = g.requestID(c.src)
		}
		rec = append(rec, kv{"requestID", id})
	}
	eid := g.uuid()
	rec = append(rec, kv{"eventID", eid}, kv{"readOnly", c.ro})
	if len(c.res) > 0 {
		rec = append(rec, kv{"resources", c.res})
	}
	rec = append(rec, kv{"eventType", typ}, kv{"managementEvent", true}, kv{"recipientAccountId", acct})
	if c.shared != "" {
		rec = append(rec, kv{"sharedEventID", c.shared})
	}
	if c.vpce != "" {
		rec = append(rec, kv{"vpcEndpointId", c.vpce})
	}
	if c.sed != nil {
		rec = append(rec, kv{"serviceEventDetails", c.sed})
	}
	rec = append(rec, kv{"eventCategory", "Management"})
	if w.tls && !c.noTLS {
		rec = append(rec, kv{"tlsDetails", O{
			{"tlsVersion", "TLSv1.3"},
			{"cipherSuite", "TLS_AES_128_GCM_SHA256"},
			{"clientProvidedHostHeader", host(c)},
		}})
	}
	if w.console {
		rec = append(rec, kv{"sessionCredentialFromConsole", "true"})
	}
	actor, step := w.actor, w.step
	if c.actor != "" {
		actor = c.actor
	}
	if c.step != "" {
		step = c.step
	}
	if actor == "" {
		panic(fmt.Sprintf("emit: no actor for %s", c.name))
	}
	g.seq++
	ev := &event{t: t, seq: g.seq, acct: acct, region: c.region, actor: actor, step: step, id: eid, name: c.name, rec: rec}
	g.events = append(g.events, ev)
	return ev
}

// Resource helpers.
func resRole(r *role) []O {
	return []O{obj("accountId", r.acct, "type", "AWS::IAM::Role", "ARN", r.arn())}
}

func resBucket(acct, bucket string) []O {
	return []O{obj("accountId", acct, "type", "AWS::S3::Bucket", "ARN", "arn:aws:s3:::"+bucket)}
}

// s3 describes a bucket-level S3 call.
func s3(region, acct, bucket, name string, ro bool, sub string) C {
	req := obj("bucketName", bucket, "Host", bucket+".s3."+region+".amazonaws.com")
	if sub != "" {
		req = append(req, kv{sub, ""})
	}
	return C{src: "s3.amazonaws.com", name: name, region: region, ro: ro, req: req,
		res: resBucket(acct, bucket), host: bucket + ".s3." + region + ".amazonaws.com"}
}

func listBuckets() C {
	return C{src: "s3.amazonaws.com", name: "ListBuckets", region: "us-east-1", ro: true,
		req: obj("Host", "s3.amazonaws.com")}
}

// s3Sub maps S3 read calls to their request subresource and the error a
// bucket without that configuration answers.
var s3Sub = map[string]struct{ sub, err, msg string }{
	"GetBucketAcl":                     {"acl", "", ""},
	"GetBucketPolicy":                  {"policy", "NoSuchBucketPolicy", "The bucket policy does not exist"},
	"GetBucketPolicyStatus":            {"policyStatus", "NoSuchBucketPolicy", "The bucket policy does not exist"},
	"GetBucketCors":                    {"cors", "NoSuchCORSConfiguration", "The CORS configuration does not exist"},
	"GetBucketWebsite":                 {"website", "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"},
	"GetBucketVersioning":              {"versioning", "", ""},
	"GetAccelerateConfiguration":       {"accelerate", "", ""},
	"GetBucketRequestPayment":          {"requestPayment", "", ""},
	"GetBucketLogging":                 {"logging", "", ""},
	"GetBucketLifecycle":               {"lifecycle", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"},
	"GetBucketReplication":             {"replication", "ReplicationConfigurationNotFoundError", "The replication configuration was not found"},
	"GetBucketEncryption":              {"encryption", "", ""},
	"GetBucketObjectLockConfiguration": {"object-lock", "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"},
	"GetBucketTagging":                 {"tagging", "NoSuchTagSet", "The TagSet does not exist"},
	"GetBucketOwnershipControls":       {"ownershipControls", "", ""},
	"GetBucketPublicAccessBlock":       {"publicAccessBlock", "", ""},
	"GetBucketLocation":                {"location", "", ""},
}

// bucket is an S3 bucket of the scenario and the configurations it has.
type bucket struct {
	acct, region, name string
	has                map[string]bool // read calls that succeed although they can fail
	created            time.Time       // zero: existed before the week
}

func (b *bucket) read(name string) C {
	s := s3Sub[name]
	c := s3(b.region, b.acct, b.name, name, true, s.sub)
	if s.err != "" && !b.has[name] {
		c.err, c.msg = s.err, s.msg
	}
	return c
}

func has(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

var buckets = []*bucket{
	{prod, "us-east-1", "corp-ai-payments-prod-data", has("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketLifecycle", "GetBucketReplication", "GetBucketTagging"), time.Time{}},
	{prod, "us-east-1", "corp-ai-payments-artifacts", has("GetBucketLifecycle", "GetBucketTagging"), time.Time{}},
	{prod, "us-east-1", "corp-ai-prod-logs", has("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketLifecycle", "GetBucketTagging"), time.Time{}},
	{prod, "us-east-1", "corp-ai-web-assets", has("GetBucketCors", "GetBucketTagging"), time.Time{}},
	{prod, "eu-west-1", "corp-ai-payments-eu-data", has("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketTagging"), time.Time{}},
	{dev, "us-east-1", "corp-ai-dev-sandbox", has(), time.Time{}},
	{dev, "us-east-1", "corp-ai-dev-terraform-state", has("GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketTagging"), time.Time{}},
	{dev, "eu-west-1", "corp-ai-dev-data", has("GetBucketTagging", "GetBucketLifecycle"), time.Time{}},
	// Created by bob's Terraform on Wednesday.
	{dev, "us-east-1", "corp-ai-dev-exports", has("GetBucketTagging"), at(2, 14, 20, 0)},
}

// bucketsOf lists the account's buckets that exist at t.
func bucketsOf(acct string, t time.Time) []*bucket {
	var bs []*bucket
	for _, b := range buckets {
		if b.acct == acct && (b.created.IsZero() || !b.created.After(t)) {
			bs = append(bs, b)
		}
	}
	return bs
}

func bucketNamed(name string) *bucket {
	for _, b := range buckets {
		if b.name == name {
			return b
		}
	}
	panic("no bucket " + name)
}

// EC2 read calls and their empty request shapes.
func ec2Read(region, name string) C {
	var req any
	switch name {
	case "DescribeInstances":
		req = obj("instancesSet", empty(), "filterSet", empty())
	case "DescribeSecurityGroups":
		req = obj("securityGroupSet", empty(), "securityGroupIdSet", empty(), "filterSet", empty())
	case "DescribeVpcs":
		req = obj("vpcSet", empty(), "filterSet", empty())
	case "DescribeSubnets":
		req = obj("subnetSet", empty(), "filterSet", empty())
	case "DescribeRouteTables":
		req = obj("routeTableIdSet", empty(), "filterSet", empty())
	case "DescribeNetworkAcls":
		req = obj("networkAclIdSet", empty(), "filterSet", empty())
	case "DescribeVolumes":
		req = obj("volumeSet", empty(), "filterSet", empty())
	case "DescribeInstanceStatus":
		req = obj("instancesSet", empty(), "filterSet", empty(), "includeAllInstances", false)
	case "DescribeAddresses":
		req = obj("publicIpsSet", empty(), "allocationIdsSet", empty(), "filterSet", empty())
	case "DescribeNetworkInterfaces":
		req = obj("networkInterfaceIdSet", empty(), "filterSet", empty())
	case "DescribeSnapshots":
		req = obj("snapshotSet", empty(), "ownersSet", obj("items", []O{obj("owner", "self")}), "sharedUsersSet", empty(), "filterSet", empty())
	case "DescribeSecurityGroupRules":
		req = obj("DescribeSecurityGroupRulesRequest", obj("Filter", obj("Name", "group-id", "Value", obj("content", "sg-0c4d1e7a9b2f35e81", "tag", 1))))
	case "DescribeRegions":
		req = obj("regionSet", empty())
	case "DescribeAvailabilityZones":
		req = obj("availabilityZoneSet", empty(), "availabilityZoneIdSet", empty())
	case "DescribeLaunchTemplates":
		req = obj("DescribeLaunchTemplatesRequest", empty())
	case "DescribeVpcAttribute":
		req = obj("vpcId", "vpc-0a7f3c2e91d4b8e56", "attribute", "enableDnsSupport")
	case "DescribeAccountAttributes":
		req = obj("accountAttributeNameSet", empty(), "filterSet", empty())
	default:
		panic("ec2Read: " + name)
	}
	return C{src: "ec2.amazonaws.com", name: name, region: region, ro: true, req: req}
}

func iamCall(name string, ro bool, req any, resp any) C {
	return C{src: "iam.amazonaws.com", name: name, region: "us-east-1", ro: ro, req: req, resp: resp}
}

func stsCallerIdentity(region string) C {
	return C{src: "sts.amazonaws.com", name: "GetCallerIdentity", region: region, ro: true,
		addl: stsDetails(region), host: "sts." + region + ".amazonaws.com"}
}

func stsDetails(region string) O {
	return obj("RequestDetails", obj("awsServingRegion", region, "endpointType", "regional"))
}
