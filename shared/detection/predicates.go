package detection

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"
)

// Predicates returns the named predicates rules may use with Op Is. It
// returns a new map each time: callers may add their own.
func Predicates() map[string]Predicate {
	return map[string]Predicate{
		"admin-policy-document":       adminPolicyDocument,
		"public-or-foreign-principal": publicOrForeignPrincipal,
		"foreign-or-public-accounts":  foreignOrPublicAccounts,
		"world-cidr":                  worldCIDR,
		"another-user":                anotherUser,
		"large-or-gpu-instance":       largeOrGPUInstance,
		"trailhound-resource":         trailhoundResource,
		"expires-everything":          expiresEverything,
		"human-identity":              humanIdentity,
		"arn-of-another-account":      arnOfAnotherAccount,
		"resource-of-another-account": resourceOfAnotherAccount,
	}
}

// policyDocument parses an IAM policy document that CloudTrail records as a
// JSON string (sometimes URL-encoded) or as an object.
func policyDocument(v gjson.Result) gjson.Result {
	if v.Type == gjson.JSON {
		return v
	}
	s := strings.TrimSpace(v.String())
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
	}
	if !gjson.Valid(s) {
		return gjson.Result{}
	}
	return gjson.Parse(s)
}

// statements calls f for each Allow statement of a policy document.
func statements(doc gjson.Result, f func(st gjson.Result) bool) bool {
	st := doc.Get("Statement")
	found := false
	visit := func(s gjson.Result) bool {
		if !strings.EqualFold(s.Get("Effect").String(), "Allow") {
			return true
		}
		found = f(s)
		return !found
	}
	if st.IsArray() {
		st.ForEach(func(_, s gjson.Result) bool { return visit(s) })
	} else if st.Exists() {
		visit(st)
	}
	return found
}

// values lists a string-or-array policy element.
func values(v gjson.Result) []string {
	if v.IsArray() {
		var out []string
		v.ForEach(func(_, e gjson.Result) bool { out = append(out, e.String()); return true })
		return out
	}
	if v.Exists() {
		return []string{v.String()}
	}
	return nil
}

// adminPolicyDocument holds for a policy that allows every action, or every
// action of IAM, on every resource.
func adminPolicyDocument(_ Context, v gjson.Result) bool {
	doc := policyDocument(v)
	if !doc.Exists() {
		return false
	}
	return statements(doc, func(st gjson.Result) bool {
		wildAction := false
		for _, a := range values(st.Get("Action")) {
			if a == "*" || a == "*:*" || strings.EqualFold(a, "iam:*") {
				wildAction = true
			}
		}
		wildResource := false
		for _, r := range values(st.Get("Resource")) {
			if r == "*" {
				wildResource = true
			}
		}
		return wildAction && wildResource
	})
}

var accountInARN = regexp.MustCompile(`^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::|$)`)

// publicOrForeignPrincipal holds for a resource or trust policy that allows
// everyone, or a principal of another account than the event's.
func publicOrForeignPrincipal(c Context, v gjson.Result) bool {
	doc := policyDocument(v)
	if !doc.Exists() {
		return false
	}
	own := c.Event.Account()
	return statements(doc, func(st gjson.Result) bool {
		p := st.Get("Principal")
		if p.String() == "*" {
			return !hasOrgCondition(st)
		}
		for _, aws := range values(p.Get("AWS")) {
			if aws == "*" {
				return !hasOrgCondition(st)
			}
			if m := accountInARN.FindStringSubmatch(aws); m != nil && m[1] != own {
				return true
			}
		}
		return false
	})
}

// restrictingKeys are condition keys that limit a wildcard principal to the
// organisation, an account, a network or a source resource: a statement
// using one of them is not public.
var restrictingKeys = []string{
	"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount",
	"aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceArn",
	"aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "kms:CallerAccount",
}

// hasOrgCondition reports whether a statement is limited by one of the
// restrictingKeys (the organisation, an account, a network), which is not
// public.
func hasOrgCondition(st gjson.Result) bool {
	raw := strings.ToLower(st.Get("Condition").Raw)
	for _, k := range restrictingKeys {
		if strings.Contains(raw, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

// foreignOrPublicAccounts holds when a list of account ids (snapshot and
// AMI launch permissions, RDS restore attributes, a Lambda principal) names
// "all", "*" or an account other than the event's. EC2 records the list as
// objects ({"userId": "…"} or {"group": "all"}); both shapes are read.
func foreignOrPublicAccounts(c Context, v gjson.Result) bool {
	own := c.Event.Account()
	var visit func(r gjson.Result) bool
	visit = func(r gjson.Result) bool {
		switch {
		case r.IsArray():
			found := false
			r.ForEach(func(_, e gjson.Result) bool { found = visit(e); return !found })
			return found
		case r.IsObject():
			return visit(r.Get("userId")) || visit(r.Get("UserId")) || visit(r.Get("group")) || visit(r.Get("Group"))
		case !r.Exists():
			return false
		}
		s := r.String()
		if strings.EqualFold(s, "all") || s == "*" {
			return true
		}
		if m := accountInARN.FindStringSubmatch(s); m != nil {
			return m[1] != own
		}
		return false
	}
	return visit(v)
}

// worldCIDR holds for an address range open to the whole internet.
func worldCIDR(_ Context, v gjson.Result) bool {
	return anyString(v, func(s string) bool { return s == "0.0.0.0/0" || s == "::/0" })
}

// anotherUser holds when the user the call acts on is not the caller: an
// IAM user managing its own keys or password is routine, managing someone
// else's is how persistence is planted.
func anotherUser(c Context, v gjson.Result) bool {
	target := v.String()
	if target == "" {
		return false
	}
	ui := c.Event.UserIdentity
	if ui.Type == "IAMUser" {
		return !strings.EqualFold(target, ui.UserName)
	}
	return true
}

var bigInstance = regexp.MustCompile(`^(p\d|g\d|inf\d|trn\d|dl\d|x\d|u-|vt\d|f\d|hpc\d)|\.(\d{2,}xlarge|metal)`)

// largeOrGPUInstance holds for GPU, accelerator, memory-giant or very large
// instance types: what cryptominers launch.
func largeOrGPUInstance(_ Context, v gjson.Result) bool {
	return anyString(v, func(s string) bool {
		if !bigInstance.MatchString(s) {
			return false
		}
		// 10xlarge and up only; 2xlarge … 9xlarge are ordinary.
		if i := strings.LastIndexByte(s, '.'); i >= 0 && strings.HasSuffix(s, "xlarge") {
			n := strings.TrimSuffix(s[i+1:], "xlarge")
			if len(n) < 2 && !strings.HasPrefix(s, "p") && !strings.HasPrefix(s, "g") && !strings.HasPrefix(s, "inf") && !strings.HasPrefix(s, "trn") && !strings.HasPrefix(s, "dl") {
				return false
			}
		}
		return true
	})
}

// trailhoundResource holds when the value names one of Trailhound's own
// resources (their names start with "trailhound" or "Trailhound").
func trailhoundResource(_ Context, v gjson.Result) bool {
	return anyString(v, func(s string) bool {
		return strings.Contains(strings.ToLower(s), "trailhound")
	})
}

// expiresEverything holds for an S3 lifecycle configuration with an
// enabled rule expiring objects (or noncurrent versions) after a day or
// less, for the whole bucket.
func expiresEverything(_ Context, v gjson.Result) bool {
	found := false
	var walk func(r gjson.Result)
	walk = func(r gjson.Result) {
		if found {
			return
		}
		if r.IsArray() {
			r.ForEach(func(_, e gjson.Result) bool { walk(e); return !found })
			return
		}
		status := r.Get("Status").String()
		days := []gjson.Result{r.Get("Expiration.Days"), r.Get("NoncurrentVersionExpiration.NoncurrentDays")}
		if strings.EqualFold(status, "Enabled") {
			for _, d := range days {
				if d.Exists() && d.Int() <= 1 {
					// Stratus and real attackers write the prefix "*",
					// meaning everything (S3 reads it literally).
					prefix := strings.TrimLeft(r.Get("Prefix").String()+r.Get("Filter.Prefix").String(), "*/")
					if prefix == "" {
						found = true
					}
				}
			}
		}
		if rules := r.Get("Rule"); rules.Exists() {
			walk(rules)
		}
	}
	walk(v)
	return found
}

// humanTypes are identity types behind which a person signs the call.
var humanTypes = map[string]bool{
	"IAMUser": true, "Root": true, "FederatedUser": true, "SAMLUser": true,
	"WebIdentityUser": true, "IdentityCenterUser": true,
}

// humanIdentity holds when a person, not a workload, is behind the call:
// an IAM user, the root user, a federated or Identity Center user, a role
// session issued by IAM Identity Center (AWSReservedSSO_ roles), or a role
// session whose chain resolves to one of these. The field's value is not
// used.
func humanIdentity(c Context, _ gjson.Result) bool {
	ui := c.Event.UserIdentity
	if humanTypes[ui.Type] || humanTypes[c.Attribution.Origin.Type] {
		return true
	}
	if ui.Type != "AssumedRole" {
		return false
	}
	issuer := ""
	if ui.SessionContext != nil {
		issuer = ui.SessionContext.SessionIssuer.ARN
	}
	return strings.Contains(issuer+" "+ui.ARN, "AWSReservedSSO_")
}

var accountOfARN = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):`)

// arnOfAnotherAccount holds for an ARN (a KMS key, a role, a snapshot)
// that belongs to an account other than the event's.
func arnOfAnotherAccount(c Context, v gjson.Result) bool {
	own := c.Event.Account()
	return anyString(v, func(s string) bool {
		m := accountOfARN.FindStringSubmatch(s)
		return m != nil && m[1] != own
	})
}

// resourceOfAnotherAccount holds when the record's resources list names a
// resource owned by an account other than the event's (S3 data events list
// the destination bucket with its owner). The field's value is not used.
func resourceOfAnotherAccount(c Context, _ gjson.Result) bool {
	own := c.Event.Account()
	for _, r := range c.Event.Resources {
		if r.AccountID != "" && r.AccountID != own {
			return true
		}
	}
	return false
}
