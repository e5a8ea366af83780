package main

import (
	"crypto/sha1"
	"encoding/base64"
	"time"
)

// role is an IAM role of the scenario.
type role struct {
	acct, path, name, id string
}

func (r *role) arn() string { return "arn:aws:iam::" + r.acct + ":role/" + r.path + r.name }

// role returns the role, creating its stable id on first use.
func (g *gen) role(acct, path, name string) *role {
	k := acct + "/" + name
	if r, ok := g.roles[k]; ok {
		return r
	}
	r := &role{acct: acct, path: path, name: name, id: awsID(seeded("role:"+k), "AROA", acct, 1)}
	g.roles[k] = r
	return r
}

// user is an IAM user of the scenario with its long-term access key.
type user struct {
	acct, name, id, key string
}

func (u *user) arn() string { return "arn:aws:iam::" + u.acct + ":user/" + u.name }

func (g *gen) user(acct, name string) *user {
	k := acct + "/" + name
	if u, ok := g.users[k]; ok {
		return u
	}
	r := seeded("user:" + k)
	u := &user{acct: acct, name: name, id: awsID(r, "AIDA", acct, 1)}
	u.key = awsID(r, "AKIA", acct, 0)
	g.keys[u.key] = true
	g.users[k] = u
	return u
}

// ui is the user's identity when it signs with key (its access key, or a
// console session key when created is set).
func (u *user) ui(key string, created time.Time, mfa bool) O {
	o := obj("type", "IAMUser", "principalId", u.id, "arn", u.arn(), "accountId", u.acct)
	if key != "" {
		o = append(o, kv{"accessKeyId", key})
	}
	o = append(o, kv{"userName", u.name})
	if !created.IsZero() {
		m := "false"
		if mfa {
			m = "true"
		}
		o = append(o, kv{"sessionContext", obj("attributes", obj("creationDate", ts(created), "mfaAuthenticated", m))})
	}
	return o
}

// session is a role session: temporary credentials issued by an STS event.
type session struct {
	r                *role
	name             string
	key              string
	created, expires time.Time
	fed              O      // webIdFederationData
	ec2              string // ec2RoleDelivery
}

func (s *session) arn() string {
	return "arn:aws:sts::" + s.r.acct + ":assumed-role/" + s.r.name + "/" + s.name
}

// ui is the identity of a call signed with the session's key; invokedBy
// names the service calling on the session's behalf.
func (s *session) ui(invokedBy string) O {
	sc := O{{"sessionIssuer", obj("type", "Role", "principalId", s.r.id, "arn", s.r.arn(), "accountId", s.r.acct, "userName", s.r.name)}}
	if s.fed != nil {
		sc = append(sc, kv{"webIdFederationData", s.fed})
	}
	sc = append(sc, kv{"attributes", obj("creationDate", ts(s.created), "mfaAuthenticated", "false")})
	if s.ec2 != "" {
		sc = append(sc, kv{"ec2RoleDelivery", s.ec2})
	}
	o := obj("type", "AssumedRole", "principalId", s.r.id+":"+s.name, "arn", s.arn(), "accountId", s.r.acct,
		"accessKeyId", s.key, "sessionContext", sc)
	if invokedBy != "" {
		o = append(o, kv{"invokedBy", invokedBy})
	}
	return o
}

// as is the caller that signs with the session from a network and tool.
func (s *session) as(ip, ua, actor string) *who {
	return &who{ui: s.ui(""), ip: ip, ua: ua, tls: true, actor: actor}
}

// viaService is the caller when an AWS service calls on the session's behalf.
func (s *session) viaService(svc, actor string) *who {
	return &who{ui: s.ui(svc), ip: svc, ua: svc, actor: actor}
}

func (g *gen) credentials(s *session) O {
	return obj("accessKeyId", s.key, "sessionToken", sessionToken(g.ids), "expiration", expiry(s.expires))
}

// assumeRole emits sts:AssumeRole by the caller w of account callerAcct into
// r, from region. When the role is in another account of the data, CloudTrail
// delivers the event to both accounts with one sharedEventID; the role
// owner's copy names the caller only by account. It returns the new session.
func (g *gen) assumeRole(t time.Time, w *who, callerAcct string, r *role, name string, dur time.Duration, sendDuration bool, region string) (*session, []*event) {
	s := &session{r: r, name: name, key: g.newKey("ASIA", r.acct), created: t, expires: t.Add(dur)}
	req := obj("roleArn", r.arn(), "roleSessionName", name)
	if sendDuration {
		req = append(req, kv{"durationSeconds", int(dur / time.Second)})
	}
	resp := obj("credentials", g.credentials(s), "assumedRoleUser", obj("assumedRoleId", r.id+":"+name, "arn", s.arn()))
	c := C{src: "sts.amazonaws.com", name: "AssumeRole", region: region, ro: true, req: req, resp: resp,
		res: resRole(r), addl: stsDetails(region), host: "sts." + region + ".amazonaws.com"}
	if callerAcct == r.acct {
		return s, []*event{g.emit(t, r.acct, w, c)}
	}
	c.shared = g.uuid()
	c.reqID = g.uuid()
	var evs []*event
	if callerAcct == prod || callerAcct == dev {
		evs = append(evs, g.emit(t, callerAcct, w, c))
	}
	pid, _ := w.ui[1].v.(string) // principalId
	owner := *w
	owner.ui = obj("type", "AWSAccount", "principalId", pid, "accountId", callerAcct)
	evs = append(evs, g.emit(t, r.acct, &owner, c))
	return s, evs
}

// serviceAssume emits an AWS service assuming a role for a resource it runs:
// no assumedRoleUser in the response, no client TLS, a sharedEventID.
func (g *gen) serviceAssume(t time.Time, svc string, r *role, name string, dur time.Duration, region, actor string) (*session, *event) {
	s := &session{r: r, name: name, key: g.newKey("ASIA", r.acct), created: t, expires: t.Add(dur)}
	w := &who{ui: obj("type", "AWSService", "invokedBy", svc), ip: svc, ua: svc, actor: actor}
	ev := g.emit(t, r.acct, w, C{src: "sts.amazonaws.com", name: "AssumeRole", region: region, ro: true,
		req:  obj("roleArn", r.arn(), "roleSessionName", name),
		resp: obj("credentials", g.credentials(s)), res: resRole(r), shared: g.uuid()})
	return s, ev
}

// instanceAssume emits the instance-profile AssumeRole pair EC2 makes for
// an instance (one key for IMDSv1 delivery, one for IMDSv2), returning the
// IMDSv2 session the instance's software uses.
func (g *gen) instanceAssume(t time.Time, r *role, instance, region, actor string) *session {
	reqID := g.uuid()
	var last *session
	for _, delivery := range []string{"1.0", "2.0"} {
		s := &session{r: r, name: instance, key: g.newKey("ASIA", r.acct), created: t, expires: t.Add(6*time.Hour + 30*time.Minute), ec2: delivery}
		w := &who{ui: obj("type", "AWSService", "invokedBy", "ec2.amazonaws.com"), ip: "ec2.amazonaws.com", ua: "ec2.amazonaws.com", actor: actor}
		g.emit(t, r.acct, w, C{src: "sts.amazonaws.com", name: "AssumeRole", region: region, ro: true,
			req:  obj("roleArn", r.arn(), "roleSessionName", instance),
			resp: obj("credentials", g.credentials(s)), res: resRole(r), shared: g.uuid(), reqID: reqID})
		last = s
	}
	return last
}

// ssoIssuer is the SAML issuer of the organisation's Identity Center.
var ssoIssuer = "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/" +
	base64.StdEncoding.EncodeToString([]byte(mgmt+"_ins-72234f1a9c8e6b5d"))

func samlProvider(acct string) string {
	return "arn:aws:iam::" + acct + ":saml-provider/AWSSSO_" + ssoHex + "_DO_NOT_DELETE"
}

// nameQualifier is STS's hash of the SAML issuer, account and provider name,
// which CloudTrail writes as the SAML user's identity provider.
func nameQualifier(acct string) string {
	h := sha1.Sum([]byte(ssoIssuer + acct + "/AWSSSO_" + ssoHex + "_DO_NOT_DELETE"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ssoSTSAgent is the SDK Identity Center calls STS with.
const ssoSTSAgent = "aws-sdk-java/2.46.14 md/io#sync md/http#Apache md/internal ua/2.1 api/STS#2.46.x os/Linux#4.14.355-284.735.amzn2.x86_64 lang/java#17.0.19 md/OpenJDK_64-Bit_Server_VM#17.0.19+11-LTS md/vendor#Amazon.com_Inc. md/en_US m/E,N,AJ"

// assumeSAML emits Identity Center signing user into the permission-set role
// of acct, as AssumeRoleWithSAML made by the Identity Center service.
func (g *gen) assumeSAML(t time.Time, acct, permissionSet, userName string, dur time.Duration, actor, step string) (*session, *event) {
	r := g.role(acct, ssoPath, permissionSet)
	s := &session{r: r, name: userName, key: g.newKey("ASIA", acct), created: t, expires: t.Add(dur)}
	nq := nameQualifier(acct)
	w := &who{ui: obj("type", "SAMLUser", "principalId", nq+":"+userName, "userName", userName, "identityProvider", nq),
		ip: "52.94.133." + []string{"131", "137", "142", "150"}[g.ids.IntN(4)], ua: ssoSTSAgent, tls: true, actor: actor, step: step}
	ev := g.emit(t, acct, w, C{src: "sts.amazonaws.com", name: "AssumeRoleWithSAML", region: "us-east-1", ro: true,
		req: obj("sAMLAssertionID", "_"+g.uuid(), "roleSessionName", userName, "roleArn", r.arn(),
			"principalArn", samlProvider(acct), "durationSeconds", int(dur/time.Second)),
		resp: obj("credentials", g.credentials(s),
			"assumedRoleUser", obj("assumedRoleId", r.id+":"+userName, "arn", s.arn()),
			"subject", userName, "subjectType", "persistent", "issuer", ssoIssuer,
			"audience", "https://signin.aws.amazon.com/saml", "nameQualifier", nq),
		addl: obj("ExtendedRequestId", randB64(g.ids, 42), "RequestDetails", obj("endpointType", "regional", "awsServingRegion", "us-east-1")),
		res: []O{
			obj("accountId", acct, "type", "AWS::IAM::Role", "ARN", r.arn()),
			obj("accountId", acct, "type", "AWS::IAM::SAMLProvider", "ARN", samlProvider(acct)),
		},
		host: "sts.us-east-1.amazonaws.com"})
	return s, ev
}

const (
	githubSub      = "repo:corp-ai/payments:ref:refs/heads/main"
	githubActionUA = "aws-sdk-js/3.887.0 ua/2.1 os/linux#6.11.0-1018-azure lang/js md/nodejs#20.19.5 api/sts#3.887.0 m/N,E,e configure-aws-credentials-for-github-actions"
)

func oidcProvider(acct string) string {
	return "arn:aws:iam::" + acct + ":oidc-provider/token.actions.githubusercontent.com"
}

// assumeWebIdentity emits a GitHub Actions workflow exchanging its OIDC
// token for a session of r.
func (g *gen) assumeWebIdentity(t time.Time, r *role, ip, actor string) *session {
	provider := oidcProvider(r.acct)
	s := &session{r: r, name: "GitHubActions", key: g.newKey("ASIA", r.acct), created: t, expires: t.Add(time.Hour),
		fed: obj("federatedProvider", provider, "attributes", empty())}
	w := &who{ui: obj("type", "WebIdentityUser", "principalId", provider+":sts.amazonaws.com:"+githubSub, "userName", githubSub, "identityProvider", provider),
		ip: ip, ua: githubActionUA, tls: true, actor: actor}
	g.emit(t, r.acct, w, C{src: "sts.amazonaws.com", name: "AssumeRoleWithWebIdentity", region: "us-east-1", ro: true,
		req: obj("roleArn", r.arn(), "roleSessionName", "GitHubActions", "durationSeconds", 3600),
		resp: obj("credentials", g.credentials(s), "subjectFromWebIdentityToken", githubSub,
			"assumedRoleUser", obj("assumedRoleId", r.id+":GitHubActions", "arn", s.arn()),
			"provider", provider, "audience", "sts.amazonaws.com"),
		addl: obj("identityProviderConnectionVerificationMethod", "IAMTrustStore", "RequestDetails", obj("awsServingRegion", "us-east-1", "endpointType", "regional")),
		res:  resRole(r), host: "sts.us-east-1.amazonaws.com"})
	return s
}

// consoleLogin emits a successful console sign-in.
func (g *gen) consoleLogin(t time.Time, acct string, ui O, ip, ua, actor string, addl O) {
	w := &who{ui: ui, ip: ip, ua: ua, tls: true, actor: actor}
	g.emit(t, acct, w, C{src: "signin.amazonaws.com", name: "ConsoleLogin", region: "us-east-1", ro: false,
		resp: obj("ConsoleLogin", "Success"), addl: addl, typ: "AwsConsoleSignIn", noReqID: true})
}
