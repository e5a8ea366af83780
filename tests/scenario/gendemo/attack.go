package main

import (
	"math/rand/v2"
	"time"
)

const (
	attackerIP = "185.220.101.47"
	attackerUA = "aws-cli/1.29.62 Python/3.11.6 Linux/6.5.0-kali3-amd64 botocore/1.31.62"

	backdoorName = "sys-health-check"
	backdoorRule = "sys-health-check-schedule"
)

// Attack steps, as ground-truth.txt names them.
const (
	stepRecon      = "recon"
	stepModifyUser = "modify-user"
	stepAssume     = "assume-lambdaManager"
	stepBackdoor   = "backdoor"
	stepLateral    = "lateral"
)

// attack is Saturday night: whoever stole chris@corp.ai's Identity Center
// session signs in to prod like chris does every day, then works from a
// Tor exit with the AWS CLI v1 on Kali.
func (g *gen) attack() {
	r := seeded("attack")
	t := at(5, 2, 10, 7)
	admin, _ := g.assumeSAML(t, prod, adminPS, "chris@corp.ai", 12*time.Hour, actAttacker, stepRecon)
	w := admin.as(attackerIP, attackerUA, actAttacker)
	w.stsGlobal = true // botocore 1.31 calls the global STS endpoint
	step := func(s string) { w.step = s }
	do := func(c C) {
		g.emit(t, prod, w, c)
		t = t.Add(jitter(r, 3, 24))
	}

	// a. Reconnaissance.
	step(stepRecon)
	t = t.Add(34 * time.Second)
	do(stsCallerIdentity("us-east-1"))
	t = t.Add(jitter(r, 10, 30))
	do(iamCall("ListUsers", true, nil, nil))
	do(iamCall("ListRoles", true, nil, nil))
	for _, u := range []string{"alice", "svc-reporting"} {
		do(iamCall("ListAttachedUserPolicies", true, obj("userName", u), nil))
		do(iamCall("ListUserPolicies", true, obj("userName", u), nil))
	}
	do(iamCall("GetAccountAuthorizationDetails", true, nil, nil))
	do(iamCall("ListPolicies", true, obj("scope", "Local", "onlyAttached", true), nil))
	do(iamCall("GetRole", true, obj("roleName", "lambdaManager-role"), nil))
	do(iamCall("ListAttachedRolePolicies", true, obj("roleName", "lambdaManager-role"), nil))
	do(C{src: "organizations.amazonaws.com", name: "DescribeOrganization", region: "us-east-1", ro: true})
	for _, n := range []string{"ListAccounts", "ListRoots"} {
		do(C{src: "organizations.amazonaws.com", name: n, region: "us-east-1", ro: true,
			err: "AccessDeniedException", msg: "You don't have permissions to access this resource."})
	}
	do(C{src: "sso.amazonaws.com", name: "ListPermissionSets", region: "us-east-1", ro: true, req: obj("instanceArn", ssoInstance),
		err: "AccessDeniedException", msg: "User: " + admin.arn() + " is not authorized to perform: sso:ListPermissionSets on resource: " + ssoInstance + " because no resource-based policy allows the sso:ListPermissionSets action"})
	t = t.Add(jitter(r, 30, 90))
	for _, region := range []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1", "sa-east-1"} {
		g.emit(t, prod, w, ec2Read(region, "DescribeInstances"))
		t = t.Add(jitter(r, 1, 3))
	}
	t = t.Add(jitter(r, 40, 120))
	do(listBuckets())
	for _, x := range []struct{ b, n string }{
		{"corp-ai-payments-prod-data", "GetBucketPolicy"}, {"corp-ai-payments-prod-data", "GetBucketAcl"},
		{"corp-ai-web-assets", "GetBucketPolicy"}, {"corp-ai-prod-logs", "GetBucketAcl"},
	} {
		do(bucketNamed(x.b).read(x.n))
	}
	t = t.Add(jitter(r, 30, 90))
	for _, n := range []string{"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeRouteTables", "DescribeNetworkAcls"} {
		do(ec2Read("us-east-1", n))
	}

	// b. Give the reporting user administrator rights and a new key.
	step(stepModifyUser)
	t = t.Add(jitter(r, 120, 200))
	admin2 := "arn:aws:iam::aws:policy/AdministratorAccess"
	do(iamCall("AttachUserPolicy", false, obj("userName", "svc-reporting", "policyArn", admin2), nil))
	newKey := g.newKey("AKIA", prod)
	do(iamCall("CreateAccessKey", false, obj("userName", "svc-reporting"),
		obj("accessKey", obj("userName", "svc-reporting", "accessKeyId", newKey, "status", "Active", "createDate", iamDate(t)))))
	g.configNotice(t.Add(jitter(r, 90, 200)), prod, "us-east-1",
		iamCall("GetUser", true, obj("userName", "svc-reporting"), nil),
		iamCall("ListAttachedUserPolicies", true, obj("userName", "svc-reporting"), nil),
		iamCall("ListUserPolicies", true, obj("userName", "svc-reporting"), nil),
		iamCall("ListGroupsForUser", true, obj("userName", "svc-reporting"), nil))

	// c. Hop to lambdaManager-role.
	step(stepAssume)
	t = t.Add(jitter(r, 120, 200))
	lm := g.role(prod, "", "lambdaManager-role")
	lmSess, _ := g.assumeRole(t, w, prod, lm, "chris", time.Hour, false, "us-east-1")
	t = t.Add(jitter(r, 60, 120))

	// d. The backdoor in prod: a function with an administrator role, run by
	// a schedule.
	lw := lmSess.as(attackerIP, attackerUA, actAttacker)
	lw.stsGlobal = true
	lw.step = stepBackdoor
	t = g.backdoor(r, t, lw, prod, "us-east-1")

	// e. Into dev, and the same backdoor in two more regions.
	lw.step = stepLateral
	t = t.Add(jitter(r, 120, 200))
	devLM := g.role(dev, "", "lambdaManager-role")
	devSess, _ := g.assumeRole(t, lw, prod, devLM, "chris", time.Hour, false, "us-east-1")
	dw := devSess.as(attackerIP, attackerUA, actAttacker)
	dw.stsGlobal = true
	dw.step = stepLateral
	t = t.Add(jitter(r, 20, 40))
	g.emit(t, dev, dw, C{src: "ec2.amazonaws.com", name: "DescribeRegions", region: "us-east-1", ro: true, req: obj("regionSet", empty())})
	for _, region := range []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1", "eu-central-1"} {
		t = t.Add(jitter(r, 2, 6))
		g.emit(t, dev, dw, C{src: "lambda.amazonaws.com", name: "ListFunctions20150331", region: region, ro: true})
	}
	t = t.Add(jitter(r, 300, 400)) // packaging the function for dev's regions
	for _, region := range []string{"eu-west-1", "us-west-2"} {
		t = t.Add(jitter(r, 90, 180))
		t = g.backdoor(r, t, dw, dev, region)
	}
	// A last look that the schedules are wired.
	t = t.Add(jitter(r, 90, 150))
	for _, region := range []string{"eu-west-1", "us-west-2"} {
		f := &function{acct: dev, region: region, name: backdoorName}
		g.emit(t, dev, dw, getFunction(f))
		t = t.Add(jitter(r, 4, 12))
		g.emit(t, dev, dw, C{src: "events.amazonaws.com", name: "ListTargetsByRule", region: region, ro: true, req: obj("rule", backdoorRule)})
		t = t.Add(jitter(r, 10, 30))
	}
}

// backdoor creates sys-health-check in acct/region, runs it every ten
// minutes and lets the Lambda service run it for the rest of the week.
func (g *gen) backdoor(r *rand.Rand, t time.Time, w *who, acct, region string) time.Time {
	f := &function{acct: acct, region: region, name: backdoorName, runtime: "python3.12", handler: "lambda_function.lambda_handler",
		role: g.role(acct, "", "ops-admin-role"), mem: 128, timeout: 300, codeSize: 1873}
	ruleArn := "arn:aws:events:" + region + ":" + acct + ":rule/" + backdoorRule
	c := g.createFunction(t, f, "pkg-mirror-7f3a91-"+region, "health.zip", actBackdoor)
	g.emit(t, acct, w, c)
	t = t.Add(jitter(r, 40, 90))
	g.emit(t, acct, w, addPermission(f, backdoorName+"-events", ruleArn))
	t = t.Add(jitter(r, 20, 40))
	g.emit(t, acct, w, C{src: "events.amazonaws.com", name: "PutRule", region: region, ro: false,
		req:  obj("name", backdoorRule, "scheduleExpression", "rate(10 minutes)", "state", "ENABLED"),
		resp: obj("ruleArn", ruleArn)})
	t = t.Add(jitter(r, 15, 30))
	g.emit(t, acct, w, putTargets(region, backdoorRule, "1", f.arn()))
	if region != "us-west-2" { // the Config recorder runs in the habitual regions only
		g.configNotice(t.Add(jitter(r, 60, 180)), acct, region,
			getFunction(f),
			C{src: "lambda.amazonaws.com", name: "GetPolicy20150331v2", region: region, ro: true, req: obj("functionName", f.name)},
			C{src: "lambda.amazonaws.com", name: "ListTags20170331", region: region, ro: true, req: obj("resource", f.arn())})
	}
	// The schedule fires from ten minutes on; Lambda assumes the function's
	// role for each new execution environment.
	for run := t.Add(10*time.Minute + jitter(r, 0, 40)); run.Before(weekEnd); run = run.Add(jitter(r, 120*60, 260*60)) {
		g.serviceAssume(run, "lambda.amazonaws.com", f.role, f.name, 12*time.Hour, region, actBackdoor)
	}
	return t.Add(jitter(r, 5, 15))
}
