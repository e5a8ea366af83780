package main

import (
	"math/rand/v2"
	"time"
)

func lambdaUA(f *function, api string) string {
	if f.runtime == "nodejs20.x" {
		return "aws-sdk-js/3.864.0 ua/2.1 os/linux#5.10.240-258.952.amzn2.x86_64 lang/js md/nodejs#20.19.4 api/" + api + "#3.864.0 exec-env/AWS_Lambda_nodejs20.x m/E,N"
	}
	return "Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10.240-258.952.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 m/Z,b cfg/retry-mode#legacy Botocore/1.40.4"
}

// coldStartCalls are the management calls a function makes when a new
// execution environment starts (its data-plane calls are not logged).
func coldStartCalls(f *function) []C {
	table := C{src: "dynamodb.amazonaws.com", name: "DescribeTable", region: f.region, ro: true, req: obj("tableName", "payments-ledger"),
		res: []O{obj("accountId", f.acct, "type", "AWS::DynamoDB::Table", "ARN", "arn:aws:dynamodb:"+f.region+":"+f.acct+":table/payments-ledger")}}
	param := func(name string) C {
		return C{src: "ssm.amazonaws.com", name: "GetParameter", region: f.region, ro: true, req: obj("name", name, "withDecryption", true)}
	}
	secret := func(id string) C {
		return C{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", region: f.region, ro: true, req: obj("secretId", id)}
	}
	queue := "https://sqs." + f.region + ".amazonaws.com/" + f.acct + "/payments-notify"
	switch f.name {
	case "payments-api":
		return []C{param("/payments/prod/api-config"), table}
	case "payments-reconcile":
		return []C{secret("payments/prod/db"), table, {src: "sqs.amazonaws.com", name: "GetQueueUrl", region: f.region, ro: true, req: obj("queueName", "payments-notify")}}
	case "payments-notify":
		return []C{secret("payments/prod/smtp"), {src: "sqs.amazonaws.com", name: "GetQueueAttributes", region: f.region, ro: true,
			req: obj("queueUrl", queue, "attributeNames", []string{"All"})}}
	case "payments-settlement-report":
		return []C{param("/payments/prod/report-config")}
	}
	return nil
}

// coldStart emits Lambda assuming the function's execution role for a new
// execution environment and the function's first calls.
func (g *gen) coldStart(r *rand.Rand, t time.Time, f *function) {
	s, _ := g.serviceAssume(t, "lambda.amazonaws.com", f.role, f.name, 12*time.Hour, f.region, actLambda)
	ip := pick(r, natIPs[f.region])
	t = t.Add(jitter(r, 1, 2))
	for _, c := range coldStartCalls(f) {
		api := map[string]string{"dynamodb.amazonaws.com": "dynamodb", "ssm.amazonaws.com": "ssm", "secretsmanager.amazonaws.com": "secrets-manager", "sqs.amazonaws.com": "sqs"}[c.src]
		g.emit(t, f.acct, s.as(ip, lambdaUA(f, api), actLambda), c)
		t = t.Add(time.Duration(r.IntN(2)) * time.Second)
	}
}

// natIPs are the NAT gateways' addresses of prod's VPC: the payments
// functions run in it and reach AWS APIs through them.
var natIPs = map[string][]string{
	"us-east-1": {"52.72.161.30", "54.84.211.17"},
	"eu-west-1": {"34.251.77.102", "52.51.19.233"},
}

// lambdaRuntime runs the payments functions all week.
func (g *gen) lambdaRuntime() {
	r := seeded("lambda")
	busy := func(t time.Time, from, to int) bool {
		return t.Weekday() >= time.Monday && t.Weekday() <= time.Friday && t.Hour() >= from && t.Hour() < to
	}
	for _, f := range g.functions() {
		switch f.name {
		case "payments-reconcile":
			for t := weekStart; t.Before(weekEnd); {
				g.coldStart(r, t.Add(jitter(r, 1, 25)), f)
				if !g.reconcileEvery30.IsZero() && t.After(g.reconcileEvery30) {
					t = t.Add(30 * time.Minute)
				} else {
					t = t.Add(time.Hour)
				}
			}
		default:
			from, to := 8, 19
			if f.region == "eu-west-1" {
				from, to = 6, 17
			}
			for t := weekStart.Add(jitter(r, 60, 3600)); t.Before(weekEnd); {
				g.coldStart(r, t, f)
				if busy(t, from, to) {
					t = t.Add(jitter(r, 25*60, 95*60))
				} else {
					t = t.Add(jitter(r, 40*60, 110*60))
				}
			}
		}
	}
	if !g.settlementCreated.IsZero() {
		f := g.settlementFunction()
		for d := 0; d < 6; d++ {
			t := at(d, 6, 0, 0).Add(jitter(r, 1, 20))
			if t.After(g.settlementCreated) {
				g.coldStart(r, t, f)
			}
		}
	}
}

const ssmAgent = "aws-sdk-go/1.55.7 (go1.23.9; linux; amd64) amazon-ssm-agent/3.3.2958.0"

// instanceLife emits an instance's role credentials and its agents' calls
// between from and to.
func (g *gen) instanceLife(r *rand.Rand, instance, privateIP, publicIP string, from, to time.Time) {
	rl := g.role(prod, "", "web-server-role")
	var s *session
	var rotate time.Time
	tick := 0
	for t := from.Add(75 * time.Second); t.Before(to); t = t.Add(5*time.Minute + jitter(r, 0, 3) - time.Second) {
		if s == nil || t.After(rotate) {
			s = g.instanceAssume(t.Add(-jitter(r, 20, 60)), rl, instance, "us-east-1", actEC2)
			rotate = s.created.Add(3*time.Hour + jitter(r, 0, 40*60))
		}
		agent := s.as(publicIP, ssmAgent, actEC2)
		g.emit(t, prod, agent, C{src: "ssm.amazonaws.com", name: "UpdateInstanceInformation", region: "us-east-1", ro: false,
			req: obj("instanceId", instance, "agentVersion", "3.3.2958.0", "agentStatus", "Active", "platformType", "Linux",
				"platformName", "Amazon Linux", "platformVersion", "2023", "iPAddress", privateIP,
				"computerName", "ip-"+dashed(privateIP)+".ec2.internal", "agentName", "amazon-ssm-agent")})
		if tick%6 == 0 {
			g.emit(t.Add(jitter(r, 1, 4)), prod, agent, C{src: "ssm.amazonaws.com", name: "ListInstanceAssociations", region: "us-east-1", ro: true,
				req: obj("instanceId", instance, "maxResults", 20)})
		}
		if tick%12 == 3 {
			cw := s.as(publicIP, "aws-sdk-go/1.55.7 (go1.23.9; linux; amd64) CWAgent/1.300061.0 (go1.23.9; linux; amd64)", actEC2)
			g.emit(t.Add(jitter(r, 5, 60)), prod, cw, C{src: "ec2.amazonaws.com", name: "DescribeTags", region: "us-east-1", ro: true,
				req: obj("filterSet", obj("items", []O{obj("name", "resource-id", "valueSet", obj("items", []O{obj("value", instance)}))}))})
		}
		if tick%24 == 7 {
			app := s.as(publicIP, "aws-sdk-java/2.29.6 Linux/6.1.119-129.201.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy", actEC2)
			g.emit(t.Add(jitter(r, 5, 90)), prod, app, bucketNamed("corp-ai-web-assets").read("GetBucketLocation"))
		}
		tick++
	}
}

func dashed(ip string) string {
	b := []byte(ip)
	for i := range b {
		if b[i] == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// webServers runs the prod web server all week, and Auto Scaling adds a
// second one for Wednesday afternoon's peak.
func (g *gen) webServers() {
	r := seeded("ec2")
	g.instanceLife(r, webInstance, "10.0.12.34", "3.231.87.14", weekStart, weekEnd)

	as := seeded("autoscaling")
	asRole := g.role(prod, "aws-service-role/autoscaling.amazonaws.com/", "AWSServiceRoleForAutoScaling")
	t := at(2, 14, 12, 0).Add(jitter(as, 0, 120))
	s, _ := g.serviceAssume(t, "autoscaling.amazonaws.com", asRole, "AutoScaling", time.Hour, "us-east-1", actServices)
	inst := "i-0d71b5e2a94c3f608"
	t = t.Add(time.Second)
	g.emit(t, prod, s.viaService("autoscaling.amazonaws.com", actServices), C{src: "ec2.amazonaws.com", name: "RunInstances", region: "us-east-1", ro: false,
		req: obj("instancesSet", obj("items", []O{obj("minCount", 1, "maxCount", 1)}), "blockDeviceMapping", empty(),
			"monitoring", obj("enabled", false), "disableApiTermination", false, "disableApiStop", false,
			"clientToken", "fleet-"+uuid(as), "launchTemplate", obj("launchTemplateId", "lt-0b9e4d2c7a1f53e68", "version", "7"),
			"subnetId", "subnet-0e6a1c9d3b7f42a15",
			"tagSpecificationSet", obj("items", []O{obj("resourceType", "instance", "tags", []O{obj("key", "aws:autoscaling:groupName", "value", "web-asg")})})),
		resp: obj("requestId", uuid(as), "reservationId", "r-0"+randHex(as, 16), "ownerId", prod, "requesterId", "226008221399", "groupSet", empty(),
			"instancesSet", obj("items", []O{obj("instanceId", inst, "imageId", "ami-0c7217cdde317cfec", "currentInstanceBootMode", "uefi",
				"instanceState", obj("code", 0, "name", "pending"), "privateDnsName", "ip-10-0-14-201.ec2.internal", "amiLaunchIndex", 0,
				"productCodes", empty(), "instanceType", "t3.medium", "launchTime", t.UnixMilli(),
				"placement", obj("availabilityZone", "us-east-1b", "tenancy", "default"), "monitoring", obj("state", "disabled"),
				"subnetId", "subnet-0e6a1c9d3b7f42a15", "vpcId", "vpc-04c1e8b7a3d92f651", "privateIpAddress", "10.0.14.201",
				"iamInstanceProfile", obj("arn", "arn:aws:iam::"+prod+":instance-profile/web-server-profile", "id", awsID(seeded("profile"), "AIPA", prod, 1)),
				"architecture", "x86_64", "rootDeviceType", "ebs", "rootDeviceName", "/dev/xvda")}))})
	end := at(2, 17, 40, 0).Add(jitter(as, 0, 300))
	g.instanceLife(as, inst, "10.0.14.201", "44.201.163.7", t.Add(40*time.Second), end)
	s2, _ := g.serviceAssume(end, "autoscaling.amazonaws.com", asRole, "AutoScaling", time.Hour, "us-east-1", actServices)
	g.emit(end.Add(time.Second), prod, s2.viaService("autoscaling.amazonaws.com", actServices), C{src: "ec2.amazonaws.com", name: "TerminateInstances", region: "us-east-1", ro: false,
		req: obj("instancesSet", obj("items", []O{obj("instanceId", inst)})),
		resp: obj("requestId", uuid(as), "instancesSet", obj("items", []O{obj("instanceId", inst,
			"currentState", obj("code", 32, "name", "shutting-down"), "previousState", obj("code", 16, "name", "running"))}))})
}

const prowlerUA = "Boto3/1.34.162 md/Botocore#1.34.162 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.162 Prowler/4.2.4"

// scanner is the security team's Prowler, run from the security tooling
// account every six hours against both member accounts: read-only calls in
// every commercial region.
func (g *gen) scanner() {
	r := seeded("scanner")
	su := g.user(security, "scanner")
	caller := &who{ui: su.ui(su.key, time.Time{}, false), ip: "54.161.92.13", ua: prowlerUA, tls: true, actor: actScanner}
	for d := 0; d < 6; d++ {
		for _, h := range []int{0, 6, 12, 18} {
			t := at(d, h, 2, 0).Add(jitter(r, 0, 90))
			for _, acct := range []string{prod, dev} {
				rl := g.role(acct, "", "SecurityAuditRole")
				s, _ := g.assumeRole(t, caller, security, rl, "ProwlerAssessmentSession", time.Hour, true, "us-east-1")
				t = g.scan(r, t.Add(jitter(r, 1, 3)), acct, s.as(caller.ip, prowlerUA, actScanner))
				t = t.Add(jitter(r, 20, 60))
			}
		}
	}
}

func (g *gen) scan(r *rand.Rand, t time.Time, acct string, w *who) time.Time {
	do := func(c C) {
		g.emit(t, acct, w, c)
		t = t.Add(time.Duration(r.IntN(2)) * time.Second)
	}
	do(stsCallerIdentity("us-east-1"))
	do(iamCall("GetAccountSummary", true, nil, nil))
	pp := iamCall("GetAccountPasswordPolicy", true, nil, nil)
	if acct == dev {
		pp.err, pp.msg = "NoSuchEntityException", "The Password Policy with domain name "+dev+" cannot be found."
	}
	do(pp)
	do(iamCall("ListUsers", true, nil, nil))
	do(iamCall("ListRoles", true, nil, nil))
	do(iamCall("ListPolicies", true, obj("scope", "Local", "onlyAttached", false), nil))
	do(iamCall("GetAccountAuthorizationDetails", true, nil, nil))
	do(iamCall("ListVirtualMFADevices", true, nil, nil))
	users := map[string][]string{prod: {"alice", "svc-reporting"}, dev: {"bob"}}[acct]
	for _, u := range users {
		do(iamCall("ListAttachedUserPolicies", true, obj("userName", u), nil))
		do(iamCall("ListMFADevices", true, obj("userName", u), nil))
	}
	do(listBuckets())
	for _, b := range bucketsOf(acct, t) {
		for _, n := range []string{"GetBucketPolicy", "GetBucketAcl", "GetBucketEncryption", "GetBucketLogging"} {
			do(b.read(n))
		}
	}
	// The regional checks run in parallel threads.
	base := t
	for _, region := range commercial {
		rt := base.Add(jitter(r, 0, 40))
		for _, c := range []C{
			ec2Read(region, "DescribeInstances"),
			ec2Read(region, "DescribeSecurityGroups"),
			ec2Read(region, "DescribeVpcs"),
			{src: "kms.amazonaws.com", name: "ListKeys", region: region, ro: true},
			{src: "cloudtrail.amazonaws.com", name: "DescribeTrails", region: region, ro: true, req: obj("trailNameList", []string{}, "includeShadowTrails", true)},
			{src: "guardduty.amazonaws.com", name: "ListDetectors", region: region, ro: true},
			{src: "config.amazonaws.com", name: "DescribeConfigurationRecorders", region: region, ro: true},
		} {
			g.emit(rt, acct, w, c)
			rt = rt.Add(jitter(r, 0, 4))
			if rt.After(t) {
				t = rt
			}
		}
	}
	return t
}

// configSession returns an AWS Config recorder session valid at t,
// assuming the service-linked role when none is.
func (g *gen) configSession(t time.Time, acct, region string) *session {
	k := acct + "/" + region
	for _, s := range g.config[k] {
		if !s.created.After(t.Add(-time.Second)) && t.Before(s.expires.Add(-5*time.Minute)) {
			return s
		}
	}
	rl := g.role(acct, "aws-service-role/config.amazonaws.com/", "AWSServiceRoleForConfig")
	s, _ := g.serviceAssume(t, "config.amazonaws.com", rl, "AWSConfig-Describe", time.Hour, region, actServices)
	g.config[k] = append(g.config[k], s)
	return s
}

// configNotice emits the Config recorder describing resources after a change.
func (g *gen) configNotice(t time.Time, acct, region string, calls ...C) {
	s := g.configSession(t, acct, region)
	w := s.viaService("config.amazonaws.com", actServices)
	t = t.Add(2 * time.Second)
	r := seeded("config:" + ts(t))
	for _, c := range calls {
		g.emit(t, acct, w, c)
		t = t.Add(jitter(r, 0, 2))
	}
}

// configPeriodic is the Config recorder's regular sweep in the habitual regions.
func (g *gen) configPeriodic() {
	r := seeded("config")
	for _, acct := range []string{prod, dev} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for t := weekStart.Add(jitter(r, 600, 3600)); t.Before(weekEnd.Add(-10 * time.Minute)); t = t.Add(6*time.Hour + jitter(r, -600, 600)) {
				calls := []C{ec2Read(region, "DescribeInstances"), ec2Read(region, "DescribeSecurityGroups"), ec2Read(region, "DescribeVpcs"),
					ec2Read(region, "DescribeSubnets"), ec2Read(region, "DescribeNetworkInterfaces")}
				if region == "us-east-1" {
					calls = append(calls, iamCall("GetAccountAuthorizationDetails", true, obj("filter", []string{"User", "Role", "Group", "LocalManagedPolicy"}), nil))
				}
				g.configNotice(t, acct, region, calls...)
			}
		}
	}
}

// rotations are AWS services' own scheduled work: KMS rotating a customer
// key and Secrets Manager rotating the database secret with its function.
func (g *gen) rotations() {
	r := seeded("rotations")
	t := at(3, 7, 14, 0).Add(jitter(r, 0, 60))
	keyID := uuid(r)
	g.emit(t, dev, &who{ui: obj("accountId", dev, "invokedBy", "kms.amazonaws.com"), ip: "kms.amazonaws.com", ua: "kms.amazonaws.com", actor: actServices},
		C{src: "kms.amazonaws.com", name: "RotateKey", region: "us-east-1", ro: false, typ: "AwsServiceEvent", noReqID: true,
			res: []O{obj("accountId", dev, "type", "AWS::KMS::Key", "ARN", "arn:aws:kms:us-east-1:"+dev+":key/"+keyID)},
			sed: obj("keyId", keyID)})

	secretARN := "arn:aws:secretsmanager:us-east-1:" + prod + ":secret:payments/prod/db-Xq3v9T"
	sm := &who{ui: obj("accountId", prod, "invokedBy", "secretsmanager.amazonaws.com"), ip: "secretsmanager.amazonaws.com", ua: "secretsmanager.amazonaws.com", actor: actServices}
	t = at(3, 4, 0, 0).Add(jitter(r, 1, 20))
	g.emit(t, prod, sm, C{src: "secretsmanager.amazonaws.com", name: "RotationStarted", region: "us-east-1", ro: false, typ: "AwsServiceEvent", noReqID: true,
		addl: obj("SecretId", secretARN)})
	f := &function{acct: prod, region: "us-east-1", name: "payments-db-rotation", runtime: "python3.12", handler: "lambda_function.lambda_handler",
		role: g.role(prod, "", "payments-db-rotation-role"), mem: 128, timeout: 30}
	t = t.Add(time.Second)
	s, _ := g.serviceAssume(t, "lambda.amazonaws.com", f.role, f.name, 12*time.Hour, f.region, actServices)
	w := s.as(pick(r, natIPs["us-east-1"]), lambdaUA(f, ""), actServices)
	version := uuid(r)
	steps := []C{
		{src: "secretsmanager.amazonaws.com", name: "DescribeSecret", ro: true, req: obj("secretId", secretARN)},
		{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", ro: true, req: obj("secretId", secretARN, "versionStage", "AWSCURRENT")},
		{src: "secretsmanager.amazonaws.com", name: "GetRandomPassword", ro: true, req: obj("excludeCharacters", `/@"'\`)},
		{src: "secretsmanager.amazonaws.com", name: "PutSecretValue", ro: false,
			req:  obj("secretId", secretARN, "clientRequestToken", version, "versionStages", []string{"AWSPENDING"}),
			resp: obj("arn", secretARN, "name", "payments/prod/db", "versionId", version, "versionStages", []string{"AWSPENDING"})},
		{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", ro: true, req: obj("secretId", secretARN, "versionId", version, "versionStage", "AWSPENDING")},
		{src: "secretsmanager.amazonaws.com", name: "DescribeSecret", ro: true, req: obj("secretId", secretARN)},
		{src: "secretsmanager.amazonaws.com", name: "UpdateSecretVersionStage", ro: false,
			req:  obj("secretId", secretARN, "versionStage", "AWSCURRENT", "moveToVersionId", version, "removeFromVersionId", uuid(r)),
			resp: obj("arn", secretARN, "name", "payments/prod/db")},
	}
	for _, c := range steps {
		t = t.Add(jitter(r, 0, 2))
		c.region = "us-east-1"
		g.emit(t, prod, w, c)
	}
	t = t.Add(jitter(r, 1, 3))
	g.emit(t, prod, sm, C{src: "secretsmanager.amazonaws.com", name: "RotationSucceeded", region: "us-east-1", ro: false, typ: "AwsServiceEvent", noReqID: true,
		addl: obj("SecretId", secretARN)})
}
