package main

import (
	"math/rand/v2"
	"time"
)

// User agents of the people's tools.
const (
	firefoxMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0"
	chromeMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	edgeWin    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0"
	s3Console  = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.780 Linux/5.10.230-202.885.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.432-b06 java/1.8.0_432 vendor/Oracle_Corporation cfg/retry-mode/standard]"
)

func awsCLIMac(command string) string {
	return "aws-cli/2.31.12 md/awscrt#0.27.6 ua/2.1 os/macos#25.1.0 md/arch#arm64 lang/python#3.13.7 md/pyimpl#CPython m/Z,b cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#" + command
}

func terraformUA(api string) string {
	return "APN/1.0 HashiCorp/1.0 Terraform/1.13.4 (+https://www.terraform.io) terraform-provider-aws/6.19.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.39.5 ua/2.1 os/macos lang/go#1.24.8 md/GOOS#darwin md/GOARCH#arm64 api/" + api + " m/C"
}

// consoleCall adapts a call to how the console makes it: the browser calls
// some services itself, the console back end calls others ("AWS Internal",
// no client TLS), and the S3 console has its own agent.
func consoleCall(c C, browser string) C {
	switch c.src {
	case "s3.amazonaws.com":
		c.ua = s3Console
	case "monitoring.amazonaws.com", "logs.amazonaws.com", "iam.amazonaws.com", "health.amazonaws.com", "cloudtrail.amazonaws.com":
		c.ua = "AWS Internal"
		c.noTLS = true
	default:
		c.ua = browser
	}
	return c
}

func healthHeartbeat(t time.Time) C {
	return C{src: "health.amazonaws.com", name: "DescribeEventAggregates", region: "us-east-1", ro: true,
		req: obj("aggregateField", "eventTypeCategory", "filter", obj("eventStatusCodes", []string{"open", "upcoming"},
			"startTimes", []O{obj("from", expiry(t.AddDate(0, 0, -7)))}))}
}

// consoleMenu is what a person looks at in the console: named pages, each a
// short series of calls in a region.
func consoleMenu(r *rand.Rand, acct, region, page string) []C {
	switch page {
	case "ec2":
		cs := []C{ec2Read(region, "DescribeInstances"), ec2Read(region, "DescribeInstanceStatus")}
		for _, n := range []string{"DescribeAddresses", "DescribeVolumes", "DescribeSecurityGroups", "DescribeAvailabilityZones"} {
			if r.IntN(2) == 0 {
				cs = append(cs, ec2Read(region, n))
			}
		}
		return cs
	case "vpc":
		return []C{ec2Read(region, "DescribeVpcs"), ec2Read(region, "DescribeSubnets"), ec2Read(region, "DescribeRouteTables"), ec2Read(region, "DescribeSecurityGroups")}
	case "alarms":
		return []C{{src: "monitoring.amazonaws.com", name: "DescribeAlarms", region: region, ro: true, req: obj("maxRecords", 100)}}
	case "logs":
		fn := pick(r, []string{"payments-api", "payments-reconcile", "payments-notify"})
		return []C{
			{src: "logs.amazonaws.com", name: "DescribeLogGroups", region: region, ro: true, req: obj("limit", 50)},
			{src: "logs.amazonaws.com", name: "DescribeLogStreams", region: region, ro: true,
				req: obj("logGroupName", "/aws/lambda/"+fn, "orderBy", "LastEventTime", "descending", true, "limit", 50)},
		}
	case "lambda":
		fn := pick(r, []string{"payments-api", "payments-reconcile", "payments-notify"})
		if region == "eu-west-1" {
			fn = "payments-api"
		}
		cs := []C{
			{src: "lambda.amazonaws.com", name: "ListFunctions20150331", region: region, ro: true},
			{src: "lambda.amazonaws.com", name: "GetAccountSettings20160819", region: region, ro: true},
			{src: "lambda.amazonaws.com", name: "GetFunction20150331v2", region: region, ro: true, req: obj("functionName", fn)},
			{src: "lambda.amazonaws.com", name: "ListEventSourceMappings20150331", region: region, ro: true, req: obj("functionName", fn)},
		}
		gp := C{src: "lambda.amazonaws.com", name: "GetPolicy20150331v2", region: region, ro: true, req: obj("functionName", fn)}
		if fn != "payments-reconcile" {
			gp.err, gp.msg = "ResourceNotFoundException", "The resource you requested does not exist."
		}
		return append(cs, gp)
	case "events":
		cs := []C{{src: "events.amazonaws.com", name: "ListRules", region: region, ro: true, req: obj("limit", 100)}}
		if region == "us-east-1" {
			cs = append(cs, C{src: "events.amazonaws.com", name: "DescribeRule", region: region, ro: true, req: obj("name", reconcileRule)})
		}
		return cs
	case "stacks":
		stack := "payments-prod"
		if region == "eu-west-1" {
			stack = "payments-prod-eu"
		}
		return []C{
			{src: "cloudformation.amazonaws.com", name: "ListStacks", region: region, ro: true,
				req: obj("stackStatusFilter", []string{"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})},
			{src: "cloudformation.amazonaws.com", name: "DescribeStacks", region: region, ro: true, req: obj("stackName", stack)},
			{src: "cloudformation.amazonaws.com", name: "DescribeStackEvents", region: region, ro: true, req: obj("stackName", stack)},
		}
	case "s3":
		cs := []C{listBuckets()}
		bs := bucketsOf(acct, time.Time{})
		b := pick(r, bs)
		for _, n := range []string{"GetBucketLocation", "GetBucketVersioning", "GetBucketPolicy", "GetBucketAcl", "GetBucketEncryption", "GetBucketPublicAccessBlock"} {
			cs = append(cs, b.read(n))
		}
		return cs
	case "iam":
		return []C{
			iamCall("GetAccountSummary", true, nil, nil),
			iamCall("ListRoles", true, obj("maxItems", 1000), nil),
			iamCall("ListUsers", true, obj("maxItems", 1000), nil),
		}
	case "trail":
		return []C{{src: "cloudtrail.amazonaws.com", name: "LookupEvents", region: region, ro: true,
			req: obj("maxResults", 50, "lookupAttributes", []O{})}}
	}
	panic("consoleMenu: " + page)
}

// browse emits a console burst: the pages, a few seconds apart, from t.
func (g *gen) browse(r *rand.Rand, t time.Time, acct string, w *who, region string, pages []string) time.Time {
	g.emit(t, acct, &who{ui: w.ui, ip: w.ip, ua: w.ua, console: true, actor: w.actor}, consoleCall(healthHeartbeat(t), w.ua))
	t = t.Add(jitter(r, 2, 6))
	for _, p := range pages {
		for _, c := range consoleMenu(r, acct, region, p) {
			g.emit(t, acct, w, consoleCall(c, w.ua))
			t = t.Add(jitter(r, 1, 9))
		}
		t = t.Add(jitter(r, 15, 240))
	}
	return t
}

func choose(r *rand.Rand, from []string, n int) []string {
	p := r.Perm(len(from))
	var out []string
	for i := 0; i < n && i < len(p); i++ {
		out = append(out, from[p[i]])
	}
	return out
}

// alice is an engineer with an IAM user in prod: console with MFA in the
// morning, the CLI from her Mac, now and then a Session Manager session.
func (g *gen) alice() {
	r := seeded("alice")
	u := g.user(prod, "alice")
	cli := &who{ui: u.ui(u.key, time.Time{}, false), tls: true, actor: actAlice}
	for d := 0; d < 5; d++ {
		ip := pick(r, []string{"198.51.100.23", "198.51.100.41"})
		cli.ip = ip
		login := at(d, 8, 20, 0).Add(jitter(r, 0, 50*60))
		g.consoleLogin(login, prod, u.ui("", time.Time{}, false), ip, firefoxMac, actAlice, obj(
			"LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"+randHex(r, 16),
			"MobileVersion", "No", "MFAIdentifier", "arn:aws:iam::"+prod+":mfa/alice-macbook", "MFAUsed", "Yes"))
		starts := []time.Time{login.Add(jitter(r, 20, 90)), at(d, 10, 45, 0).Add(jitter(r, 0, 3600)), at(d, 14, 0, 0).Add(jitter(r, 0, 3600))}
		if r.IntN(2) == 0 {
			starts = append(starts, at(d, 16, 10, 0).Add(jitter(r, 0, 2400)))
		}
		for _, st := range starts {
			key := g.newKey("ASIA", prod) // console session keys: issued by the sign-in, not by an STS call
			w := &who{ui: u.ui(key, login, true), ip: ip, ua: firefoxMac, tls: true, console: true, actor: actAlice}
			region := "us-east-1"
			if r.IntN(5) == 0 {
				region = "eu-west-1"
			}
			g.browse(r, st, prod, w, region, choose(r, []string{"ec2", "alarms", "logs", "s3", "lambda", "vpc"}, 2+r.IntN(2)))
		}
		// The CLI, a few times a day.
		for i, n := 0, 2+r.IntN(3); i < n; i++ {
			t := at(d, 9, 30, 0).Add(jitter(r, 0, 8*3600))
			region := pick(r, []string{"us-east-1", "us-east-1", "eu-west-1"})
			cmds := choose(r, []string{"sts.get-caller-identity", "ec2.describe-instances", "logs.describe-log-groups", "s3.ls", "cloudwatch.describe-alarms", "ec2.describe-security-groups"}, 2+r.IntN(3))
			for _, cmd := range cmds {
				c := aliceCommand(cmd, region)
				c.ua = awsCLIMac(cmd)
				g.emit(t, prod, cli, c)
				t = t.Add(jitter(r, 4, 90))
			}
		}
		if d == 1 || d == 3 {
			g.ssmSession(r, at(d, 15, 5, 0).Add(jitter(r, 0, 1800)), cli, "alice")
		}
	}
}

func aliceCommand(cmd, region string) C {
	switch cmd {
	case "sts.get-caller-identity":
		return stsCallerIdentity(region)
	case "ec2.describe-instances":
		return ec2Read(region, "DescribeInstances")
	case "ec2.describe-security-groups":
		return ec2Read(region, "DescribeSecurityGroups")
	case "logs.describe-log-groups":
		return C{src: "logs.amazonaws.com", name: "DescribeLogGroups", region: region, ro: true}
	case "s3.ls":
		return listBuckets()
	case "cloudwatch.describe-alarms":
		return C{src: "monitoring.amazonaws.com", name: "DescribeAlarms", region: region, ro: true, req: obj("stateValue", "ALARM")}
	}
	panic(cmd)
}

const webInstance = "i-0a3f9c21e7b4d5086"

// ssmSession emits a Session Manager session to the web server from the CLI.
func (g *gen) ssmSession(r *rand.Rand, t time.Time, w *who, userName string) {
	id := userName + "-" + randHex(r, 17)
	ua := awsCLIMac("ssm.start-session")
	g.emit(t, prod, w, C{src: "ssm.amazonaws.com", name: "StartSession", region: "us-east-1", ro: false, ua: ua,
		req: obj("target", webInstance),
		resp: obj("sessionId", id, "tokenValue", "Value hidden due to security reasons.",
			"streamUrl", "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/"+id+"?role=publish_subscribe&cell-number="+randB64(r, 36)),
		res: []O{obj("accountId", prod, "ARN", "arn:aws:ec2:us-east-1:"+prod+":instance/"+webInstance)}})
	end := t.Add(jitter(r, 8*60, 40*60))
	g.emit(end, prod, w, C{src: "ssm.amazonaws.com", name: "TerminateSession", region: "us-east-1", ro: false, ua: ua,
		req: obj("sessionId", id), resp: obj("sessionId", id),
		res: []O{obj("accountId", prod, "ARN", "arn:aws:ssm:us-east-1:"+prod+":session/"+id)}})
}

// chris is an administrator who signs in through Identity Center every
// working morning and browses the prod console from home.
func (g *gen) chris() {
	r := seeded("chris")
	for d := 0; d < 5; d++ {
		t := at(d, 8, 40, 0).Add(jitter(r, 0, 50*60))
		dur := time.Duration(8+r.IntN(5)) * time.Hour
		s, _ := g.assumeSAML(t, prod, adminPS, "chris@corp.ai", dur, actChris, "")
		ip := "203.0.113.77"
		if d == 2 {
			ip = "203.0.113.140"
		}
		login := t.Add(jitter(r, 1, 3))
		g.consoleLogin(login, prod, s.ui(""), ip, chromeMac, actChris, obj("MobileVersion", "No", "MFAUsed", "No"))
		w := &who{ui: s.ui(""), ip: ip, ua: chromeMac, tls: true, console: true, actor: actChris}
		last := at(d, 18, 0, 0)
		if s.expires.Before(last) {
			last = s.expires.Add(-20 * time.Minute)
		}
		n := 3 + r.IntN(3)
		span := last.Sub(login) - 30*time.Minute
		for i := 0; i < n; i++ {
			st := login.Add(time.Duration(i)*span/time.Duration(n) + jitter(r, 30, int(span/time.Second)/n/2))
			region := "us-east-1"
			if r.IntN(10) < 3 {
				region = "eu-west-1"
			}
			g.browse(r, st, prod, w, region, choose(r, []string{"lambda", "alarms", "logs", "ec2", "s3", "events", "stacks"}, 2+r.IntN(3)))
		}
	}
}

// dana has read-only access to both accounts and sometimes tries to change
// something.
func (g *gen) dana() {
	r := seeded("dana")
	type visit struct {
		d    int
		acct string
		h    int
		oops string
	}
	visits := []visit{
		{0, prod, 10, ""}, {1, prod, 9, "reboot"}, {1, dev, 14, ""},
		{3, prod, 10, "tag"}, {4, dev, 11, "lambda"}, {4, prod, 15, ""},
	}
	for _, v := range visits {
		t := at(v.d, v.h, 0, 0).Add(jitter(r, 0, 2400))
		s, _ := g.assumeSAML(t, v.acct, readOnlyPS, "dana@corp.ai", 8*time.Hour, actDana, "")
		ip := "198.51.100.112"
		login := t.Add(jitter(r, 1, 3))
		g.consoleLogin(login, v.acct, s.ui(""), ip, edgeWin, actDana, obj("MobileVersion", "No", "MFAUsed", "No"))
		w := &who{ui: s.ui(""), ip: ip, ua: edgeWin, tls: true, console: true, actor: actDana}
		st := login.Add(jitter(r, 10, 60))
		for b := 0; b < 2+r.IntN(2); b++ {
			region := "us-east-1"
			if r.IntN(4) == 0 {
				region = "eu-west-1"
			}
			st = g.browse(r, st, v.acct, w, region, choose(r, []string{"ec2", "s3", "iam", "trail", "alarms", "vpc"}, 2))
			if b == 0 && v.oops != "" {
				g.emit(st, v.acct, w, consoleCall(danaWrite(v.oops, s), edgeWin))
				st = st.Add(jitter(r, 20, 90))
			}
			st = st.Add(jitter(r, 600, 3600))
		}
	}
}

func danaWrite(what string, s *session) C {
	denied := func(action, resource string) string {
		return "User: " + s.arn() + " is not authorized to perform: " + action + " on resource: " + resource +
			" because no identity-based policy allows the " + action + " action"
	}
	switch what {
	case "reboot":
		res := "arn:aws:ec2:us-east-1:" + prod + ":instance/" + webInstance
		return C{src: "ec2.amazonaws.com", name: "RebootInstances", region: "us-east-1", ro: false,
			req: obj("instancesSet", obj("items", []O{obj("instanceId", webInstance)})),
			err: "Client.UnauthorizedOperation",
			msg: "You are not authorized to perform this operation. " + denied("ec2:RebootInstances", res) +
				". Encoded authorization failure message: " + randString(seeded("dana:reboot"), alnum+"-_", 412)}
	case "tag":
		b := bucketNamed("corp-ai-web-assets")
		c := s3(b.region, b.acct, b.name, "PutBucketTagging", false, "tagging")
		c.req = append(c.req.(O), kv{"Tagging", obj("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/",
			"TagSet", obj("Tag", []O{obj("Key", "owner", "Value", "web-team")}))})
		c.err, c.msg = "AccessDenied", "Access Denied"
		return c
	case "lambda":
		return C{src: "lambda.amazonaws.com", name: "UpdateFunctionConfiguration20150331v2", region: "us-east-1", ro: false,
			req: obj("functionName", "orders-dev-worker", "timeout", 60),
			err: "AccessDenied", msg: denied("lambda:UpdateFunctionConfiguration", "arn:aws:lambda:us-east-1:"+dev+":function:orders-dev-worker")}
	}
	panic(what)
}

// svcReporting is a nightly cost report job with a long-term key.
func (g *gen) svcReporting() {
	r := seeded("svc-reporting")
	u := g.user(prod, "svc-reporting")
	w := &who{ui: u.ui(u.key, time.Time{}, false), ip: "44.207.18.64", tls: true, actor: actReport,
		ua: "Boto3/1.40.61 md/Botocore#1.40.61 ua/2.1 os/linux#5.10.244-267.968.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE m/Z,b cfg/retry-mode#legacy Botocore/1.40.61"}
	for d := 0; d < 6; d++ {
		t := at(d, 5, 30, 0).Add(jitter(r, 5, 40))
		from := day(d).AddDate(0, 0, -1).Format("2006-01-02")
		to := day(d).Format("2006-01-02")
		for _, group := range []string{"SERVICE", "LINKED_ACCOUNT"} {
			g.emit(t, prod, w, C{src: "ce.amazonaws.com", name: "GetCostAndUsage", region: "us-east-1", ro: true,
				req: obj("timePeriod", obj("start", from, "end", to), "granularity", "DAILY", "metrics", []string{"UnblendedCost"},
					"groupBy", []O{obj("type", "DIMENSION", "key", group)})})
			t = t.Add(jitter(r, 1, 3))
		}
	}
}
