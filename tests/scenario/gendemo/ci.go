package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"time"
)

// A Lambda function of the scenario.
type function struct {
	acct, region, name, runtime, handler string
	role                                 *role
	mem, timeout                         int
	stack                                string
	arch                                 string // x86_64 when empty, Lambda's default
	codeSize                             int    // random when 0
}

func (f *function) arn() string {
	return "arn:aws:lambda:" + f.region + ":" + f.acct + ":function:" + f.name
}

const (
	reconcileRule  = "payments-prod-ReconcileSchedule-1T6ZQ0V3X8KD"
	settlementRule = "payments-prod-SettlementReportSchedule-9XW2RB7Q4M1L"
	settlementRole = "payments-prod-SettlementReportRole-4KQ8N1W7ZC2E"
)

func (g *gen) functions() []*function {
	mk := func(region, name, runtime, handler, roleName string, mem, timeout int, stack string) *function {
		return &function{acct: prod, region: region, name: name, runtime: runtime, handler: handler,
			role: g.role(prod, "", roleName), mem: mem, timeout: timeout, stack: stack, arch: "arm64"}
	}
	return []*function{
		mk("us-east-1", "payments-api", "nodejs20.x", "index.handler", "payments-api-role", 512, 29, "payments-prod"),
		mk("us-east-1", "payments-reconcile", "python3.12", "app.handler", "payments-reconcile-role", 1024, 300, "payments-prod"),
		mk("us-east-1", "payments-notify", "python3.12", "app.handler", "payments-notify-role", 256, 60, "payments-prod"),
		mk("eu-west-1", "payments-api", "nodejs20.x", "index.handler", "payments-api-eu-role", 512, 29, "payments-prod-eu"),
	}
}

func (g *gen) settlementFunction() *function {
	return &function{acct: prod, region: "us-east-1", name: "payments-settlement-report", runtime: "python3.12", handler: "app.handler",
		role: g.role(prod, "", settlementRole), mem: 512, timeout: 600, stack: "payments-prod", arch: "arm64"}
}

func ciCLI(command string) string {
	return "aws-cli/2.31.12 md/awscrt#0.27.6 ua/2.1 os/linux#6.11.0-1018-azure md/arch#x86_64 lang/python#3.13.7 md/pyimpl#CPython m/Z,b cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#" + command
}

// ci deploys the payments application from GitHub Actions two or three
// times every working day: OIDC into ci-deploy, then `aws cloudformation
// deploy`, then CloudFormation updating the functions on ci-deploy's behalf.
func (g *gen) ci() {
	r := seeded("ci")
	ciRole := g.role(prod, "", "ci-deploy")
	for d := 0; d < 5; d++ {
		n := 2 + r.IntN(2)
		var times []time.Time
		for i := 0; i < n; i++ {
			times = append(times, at(d, 9, 30, 0).Add(jitter(r, 0, 8*3600)))
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for i, t := range times {
			kind := "code"
			switch {
			case d == 1 && i == 0:
				kind = "settlement"
			case d == 3 && i == 1:
				kind = "schedule"
			case d == 4 && i == n-1:
				kind = "nochange"
			}
			g.deploy(r, t, ciRole, kind)
		}
	}
}

func (g *gen) deploy(r *rand.Rand, t time.Time, ciRole *role, kind string) {
	ip := fmt.Sprintf("4.148.%d.%d", r.IntN(256), 1+r.IntN(254))
	s := g.assumeWebIdentity(t, ciRole, ip, actCI)
	w := s.as(ip, githubActionUA, actCI)
	t = t.Add(jitter(r, 1, 2))
	g.emit(t, prod, w, stsCallerIdentity("us-east-1"))
	t = t.Add(jitter(r, 25, 70)) // build and package (S3 uploads are data events)

	regions := []string{"us-east-1"}
	if kind == "code" && r.IntN(2) == 0 {
		regions = append(regions, "eu-west-1")
	}
	cfn := s.viaService("cloudformation.amazonaws.com", actCI)
	for _, region := range regions {
		stack := "payments-prod"
		if region == "eu-west-1" {
			stack = "payments-prod-eu"
		}
		stackID := "arn:aws:cloudformation:" + region + ":" + prod + ":stack/" + stack + "/" + uuid(seeded("stack:"+stack))
		cs := "awscli-cloudformation-package-deploy-" + fmt.Sprint(t.Unix())
		csID := "arn:aws:cloudformation:" + region + ":" + prod + ":changeSet/" + cs + "/" + uuid(r)
		cli := func(c C) {
			c.ua = ciCLI("cloudformation.deploy")
			g.emit(t, prod, w, c)
			t = t.Add(jitter(r, 1, 3))
		}
		cli(C{src: "cloudformation.amazonaws.com", name: "DescribeStacks", region: region, ro: true, req: obj("stackName", stack)})
		cli(C{src: "cloudformation.amazonaws.com", name: "CreateChangeSet", region: region, ro: false,
			req: obj("stackName", stack,
				"templateURL", "https://s3."+region+".amazonaws.com/corp-ai-payments-artifacts"+map[bool]string{true: "-eu-west-1"}[region == "eu-west-1"]+"/"+randHex(r, 32)+".template",
				"parameters", []O{obj("parameterKey", "Release", "parameterValue", randHex(r, 7))},
				"capabilities", []string{"CAPABILITY_IAM"}, "changeSetName", cs, "changeSetType", "UPDATE",
				"description", "Created by AWS CLI at "+t.Format("2006-01-02T15:04:05")+fmt.Sprintf(".%06d UTC", r.IntN(1000000))),
			resp: obj("id", csID, "stackId", stackID)})
		for i := 0; i < 2; i++ {
			t = t.Add(jitter(r, 4, 6))
			cli(C{src: "cloudformation.amazonaws.com", name: "DescribeChangeSet", region: region, ro: true,
				req: obj("changeSetName", cs, "stackName", stack)})
		}
		if kind == "nochange" {
			continue // "No changes to deploy": the CLI stops here
		}
		cli(C{src: "cloudformation.amazonaws.com", name: "ExecuteChangeSet", region: region, ro: false,
			req: obj("changeSetName", cs, "stackName", stack)})
		end := g.cfnActions(r, t.Add(jitter(r, 2, 5)), cfn, region, kind)
		for t.Before(end.Add(20 * time.Second)) {
			t = t.Add(jitter(r, 28, 32))
			cli(C{src: "cloudformation.amazonaws.com", name: "DescribeStacks", region: region, ro: true, req: obj("stackName", stack)})
		}
	}
}

// cfnActions emits what CloudFormation does for ci-deploy while executing
// the change set, and returns when it finished.
func (g *gen) cfnActions(r *rand.Rand, t time.Time, cfn *who, region, kind string) time.Time {
	do := func(c C) {
		g.emit(t, prod, cfn, c)
		t = t.Add(jitter(r, 1, 4))
	}
	var fns []*function
	for _, f := range g.functions() {
		if f.region == region {
			fns = append(fns, f)
		}
	}
	switch kind {
	case "settlement":
		f := g.settlementFunction()
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		tags := []O{obj("key", "aws:cloudformation:stack-name", "value", "payments-prod")}
		do(iamCall("CreateRole", false,
			obj("roleName", f.role.name, "assumeRolePolicyDocument", trust, "tags", tags),
			obj("role", obj("path", "/", "roleName", f.role.name, "roleId", f.role.id, "arn", f.role.arn(), "createDate", iamDate(t),
				"assumeRolePolicyDocument", url.QueryEscape(trust), "tags", tags))))
		do(iamCall("AttachRolePolicy", false, obj("roleName", f.role.name, "policyArn", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), nil))
		do(iamCall("PutRolePolicy", false, obj("roleName", f.role.name, "policyName", "SettlementReportRoleDefaultPolicy",
			"policyDocument", `{"Version":"2012-10-17","Statement":[{"Action":"s3:PutObject","Resource":"arn:aws:s3:::corp-ai-payments-prod-data/reports/*","Effect":"Allow"},{"Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:us-east-1:`+prod+`:table/payments-ledger","Effect":"Allow"}]}`), nil))
		t = t.Add(jitter(r, 8, 14)) // CloudFormation waits for IAM to propagate
		do(g.createFunction(t, f, "corp-ai-payments-artifacts", "payments/"+randHex(r, 32)+".zip", actLambda))
		do(getFunction(f))
		ruleArn := "arn:aws:events:us-east-1:" + prod + ":rule/" + settlementRule
		do(C{src: "events.amazonaws.com", name: "PutRule", region: region, ro: false,
			req:  obj("name", settlementRule, "scheduleExpression", "cron(0 6 * * ? *)", "state", "ENABLED", "description", "Daily settlement report"),
			resp: obj("ruleArn", ruleArn)})
		do(addPermission(f, "payments-prod-SettlementReportSchedulePermission-1HBK4Y0S8J2C", ruleArn))
		do(putTargets(region, settlementRule, "Target0", f.arn()))
		g.settlementCreated = t
		fns = fns[:1] // and the API's code
	case "schedule":
		do(C{src: "events.amazonaws.com", name: "PutRule", region: region, ro: false,
			req:  obj("name", reconcileRule, "scheduleExpression", "rate(30 minutes)", "state", "ENABLED", "description", "Payments reconciliation"),
			resp: obj("ruleArn", "arn:aws:events:us-east-1:"+prod+":rule/"+reconcileRule)})
		g.reconcileEvery30 = t
		fns = fns[1:2]
	case "code":
		p := r.Perm(len(fns))
		n := 1 + r.IntN(len(fns))
		var sel []*function
		for i := 0; i < n; i++ {
			sel = append(sel, fns[p[i]])
		}
		fns = sel
	}
	for _, f := range fns {
		do(updateFunctionCode(r, t, f))
		if r.IntN(2) == 0 {
			do(C{src: "lambda.amazonaws.com", name: "UpdateFunctionConfiguration20150331v2", region: f.region, ro: false,
				req:  obj("functionName", f.name, "environment", obj("variables", obj("RELEASE", "HIDDEN_DUE_TO_SECURITY_REASONS"))),
				resp: functionConfig(r, t, f, "$LATEST", "Active")})
		}
		for i := 0; i < 1+r.IntN(2); i++ {
			t = t.Add(jitter(r, 2, 5))
			do(getFunction(f))
		}
	}
	return t
}

func getFunction(f *function) C {
	return C{src: "lambda.amazonaws.com", name: "GetFunction20150331v2", region: f.region, ro: true, req: obj("functionName", f.name)}
}

// functionConfig is Lambda's function configuration as its write calls
// return it.
func functionConfig(r *rand.Rand, t time.Time, f *function, version, state string) O {
	size := f.codeSize
	if size == 0 {
		size = 150_000 + r.IntN(2_800_000)
	}
	o := obj("functionName", f.name, "functionArn", f.arn(), "runtime", f.runtime, "role", f.role.arn(), "handler", f.handler,
		"codeSize", size, "description", "", "timeout", f.timeout, "memorySize", f.mem,
		"lastModified", lambdaDate(t, r.IntN(1000)), "codeSha256", randB64(r, 32), "version", version,
		"tracingConfig", obj("mode", "PassThrough"), "revisionId", uuid(r), "state", state)
	if state == "Pending" {
		o = append(o, kv{"stateReason", "The function is being created."}, kv{"stateReasonCode", "Creating"})
	} else {
		o = append(o, kv{"lastUpdateStatus", "InProgress"}, kv{"lastUpdateStatusReason", "The function is being created."}, kv{"lastUpdateStatusReasonCode", "Creating"})
	}
	arch := f.arch
	if arch == "" {
		arch = "x86_64"
	}
	return append(o,
		kv{"packageType", "Zip"}, kv{"architectures", []string{arch}}, kv{"ephemeralStorage", obj("size", 512)},
		kv{"snapStart", obj("applyOn", "None", "optimizationStatus", "Off")},
		kv{"runtimeVersionConfig", obj("runtimeVersionArn", "arn:aws:lambda:"+f.region+"::runtime:"+randHex(seeded("runtime:"+f.runtime+f.region), 64))},
		kv{"loggingConfig", obj("logFormat", "Text", "logGroup", "/aws/lambda/"+f.name)})
}

// createFunction is lambda:CreateFunction from code in S3; Lambda checks
// that it can assume the execution role (a service AssumeRole).
func (g *gen) createFunction(t time.Time, f *function, bucket, key, validationActor string) C {
	r := seeded("create:" + f.arn() + ts(t))
	g.serviceAssume(t, "lambda.amazonaws.com", f.role, fmt.Sprintf("awslambda_%d_%s%03d", 100+r.IntN(900), t.Format("20060102150405"), r.IntN(1000)),
		2*time.Hour, f.region, validationActor)
	return C{src: "lambda.amazonaws.com", name: "CreateFunction20150331", region: f.region, ro: false,
		req: obj("functionName", f.name, "runtime", f.runtime, "role", f.role.arn(), "handler", f.handler,
			"code", obj("s3Bucket", bucket, "s3Key", key), "timeout", f.timeout, "memorySize", f.mem, "publish", false),
		resp: functionConfig(r, t, f, "$LATEST", "Pending")}
}

func updateFunctionCode(r *rand.Rand, t time.Time, f *function) C {
	bucket := "corp-ai-payments-artifacts"
	if f.region == "eu-west-1" {
		bucket += "-eu-west-1"
	}
	return C{src: "lambda.amazonaws.com", name: "UpdateFunctionCode20150331v2", region: f.region, ro: false,
		req: obj("fullyQualifiedArn", obj("arnPrefix", obj("partition", "aws", "region", f.region, "account", f.acct),
			"relativeId", obj("functionName", f.name), "functionQualifier", empty()),
			"functionName", f.arn(), "s3Bucket", bucket, "s3Key", "payments/"+randHex(r, 32)+".zip", "publish", false, "dryRun", false),
		resp: functionConfig(r, t, f, "$LATEST", "Active")}
}

func addPermission(f *function, sid, sourceArn string) C {
	stmt := `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` +
		f.arn() + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + sourceArn + `"}}}`
	return C{src: "lambda.amazonaws.com", name: "AddPermission20150331v2", region: f.region, ro: false,
		req: obj("functionName", f.name, "statementId", sid, "action", "lambda:InvokeFunction",
			"principal", "events.amazonaws.com", "sourceArn", sourceArn),
		resp: obj("statement", stmt)}
}

func putTargets(region, rule, id, arn string) C {
	return C{src: "events.amazonaws.com", name: "PutTargets", region: region, ro: false,
		req:  obj("rule", rule, "targets", []O{obj("id", id, "arn", arn)}),
		resp: obj("failedEntryCount", 0, "failedEntries", []O{})}
}
