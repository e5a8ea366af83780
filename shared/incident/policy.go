package incident

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
)

// Policy is one composite policy: a story told by several signals of one
// identity within a window.
type Policy struct {
	// ID is the stable policy id outside checks match on.
	ID    string
	Title string
	// Severity is the incident's severity when the policy matches; stronger
	// evidence (a critical signal) raises it.
	Severity detection.Severity
	Attack   []string
	// Window is how far back the policy looks from the latest signal.
	Window time.Duration
	// AllOf lists clauses that must all be satisfied, each by at least one
	// signal carrying one of the clause's tags.
	AllOf [][]string
	// Context lists tags of signals that are not required but, when present
	// in the window, belong to the story (anomalies around a backdoor).
	Context []string
	// MinSeverity is the severity at least one required signal must reach.
	MinSeverity detection.Severity
	// Rationale says in a sentence why the combination matters.
	Rationale string
}

var policyID = regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)

// Policies returns Trailhound's composite policies, as data.
func Policies() []Policy {
	const (
		hour = time.Hour
		day  = 24 * time.Hour
	)
	return []Policy{
		{
			ID: "compromised-credentials", Title: "Compromised credentials", Severity: detection.High,
			Attack: []string{"T1078.004"}, Window: 2 * hour,
			AllOf: [][]string{
				{detection.TagAnomaly},
				{detection.TagRecon, detection.TagAccessDenied, detection.TagCredentialAccess},
			},
			Context:     []string{detection.TagRoleHop, detection.TagPermissionGrant, detection.TagCredentialGrant, detection.TagExecution},
			MinSeverity: detection.Low,
			Rationale:   "the identity works from a network, tool, region or hour it never used, and at the same time enumerates, reads secrets or collects denials",
		},
		{
			ID: "lambda-backdoor", Title: "Lambda backdoor", Severity: detection.Critical,
			Attack: []string{"T1546", "T1648"}, Window: 6 * hour,
			AllOf: [][]string{
				{detection.TagLambdaChange},
				{detection.TagLambdaTrigger},
				{detection.TagAnomaly, detection.TagRoleHop},
			},
			Context:     []string{detection.TagPermissionGrant},
			MinSeverity: detection.Low,
			Rationale:   "a Lambda function was created or changed and wired to a trigger by an identity acting out of habit or hopping roles",
		},
		{
			ID: "privilege-escalation", Title: "Privilege escalation", Severity: detection.High,
			Attack: []string{"T1098"}, Window: 6 * hour,
			AllOf:       [][]string{{detection.TagCredentialGrant, detection.TagPermissionGrant}},
			Context:     []string{detection.TagAnomaly, detection.TagRoleHop},
			MinSeverity: detection.High,
			Rationale:   "credentials or administrator permissions were granted to the identity itself or to others",
		},
		{
			ID: "defense-evasion", Title: "Defense evasion", Severity: detection.High,
			Attack: []string{"T1562"}, Window: 6 * hour,
			AllOf:       [][]string{{detection.TagLoggingWeakened}},
			Context:     []string{detection.TagAnomaly, detection.TagRoleHop},
			MinSeverity: detection.High,
			Rationale:   "logging, detection or audit was weakened",
		},
		{
			ID: "cloud-ransomware", Title: "Cloud ransomware", Severity: detection.Critical,
			Attack: []string{"T1486", "T1490"}, Window: day,
			AllOf:       [][]string{{detection.TagRecoveryRemoved}, {detection.TagDataUnreadable}},
			Context:     []string{detection.TagAnomaly, detection.TagShareOut},
			MinSeverity: detection.Medium,
			Rationale:   "recovery was removed and data made unreadable by the same identity",
		},
		{
			ID: "cryptomining", Title: "Cryptomining", Severity: detection.High,
			Attack: []string{"T1496"}, Window: 6 * hour,
			AllOf: [][]string{
				{detection.TagComputeLaunch},
				{detection.TagAnomaly, detection.TagQuota, detection.TagIngressOpen},
			},
			MinSeverity: detection.Medium,
			Rationale:   "compute was launched outside the identity's habits (new regions, GPU or large types, quotas raised, ingress opened)",
		},
		{
			ID: "data-exfiltration", Title: "Data exfiltration", Severity: detection.Critical,
			Attack: []string{"T1537"}, Window: day,
			AllOf:       [][]string{{detection.TagShareOut}},
			Context:     []string{detection.TagAnomaly, detection.TagRecon},
			MinSeverity: detection.High,
			Rationale:   "data was shared outside the account: snapshots, images, buckets or keys",
		},
		{
			ID: "root-activity", Title: "Root user activity", Severity: detection.High,
			Attack: []string{"T1078.004"}, Window: day,
			AllOf:       [][]string{{detection.TagRoot}},
			Context:     []string{detection.TagAnomaly, detection.TagLoggingWeakened, detection.TagCredentialGrant},
			MinSeverity: detection.Medium,
			Rationale:   "the root user was at work",
		},
	}
}

// ValidatePolicies checks a policy table: unique well-formed ids, clauses,
// windows, ATT&CK ids.
func ValidatePolicies(ps []Policy) error {
	var problems []string
	seen := map[string]bool{}
	attack := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for i, p := range ps {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("policy %d (%s): %s", i, p.ID, fmt.Sprintf(format, args...)))
		}
		if !policyID.MatchString(p.ID) {
			bad("id must be lower-case words joined by dashes")
		}
		if seen[p.ID] {
			bad("duplicate id")
		}
		seen[p.ID] = true
		if len(p.AllOf) == 0 {
			bad("no clauses")
		}
		for _, c := range p.AllOf {
			if len(c) == 0 {
				bad("empty clause")
			}
		}
		if p.Window <= 0 {
			bad("window must be positive")
		}
		if p.Rationale == "" || p.Title == "" {
			bad("no title or rationale")
		}
		for _, a := range p.Attack {
			if !attack.MatchString(a) {
				bad("malformed ATT&CK id %q", a)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid policies:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// match returns the signals that make p hold over signals (all of one
// identity, within p's window of the latest), appended to used[:0], or nil
// when it does not hold. Signals from calls an AWS service made on the
// identity's behalf (CloudFormation deploying a stack) never satisfy a
// policy.
func (p *Policy) match(signals []detection.Signal, used []*detection.Signal) []*detection.Signal {
	strong := false
	for _, clause := range p.AllOf {
		satisfied := false
		for i := range signals {
			if counts(&signals[i], clause) {
				satisfied = true
				strong = strong || signals[i].Severity >= p.MinSeverity
				if strong {
					break // nothing later changes either
				}
			}
		}
		if !satisfied {
			return nil
		}
	}
	if !strong {
		return nil
	}
	used = used[:0]
	for i := range signals {
		if s := &signals[i]; p.uses(s) {
			used = append(used, s)
		}
	}
	return used
}

// uses reports whether the signal belongs to p's story when p holds: it
// counts for a clause or for the context.
func (p *Policy) uses(s *detection.Signal) bool {
	if counts(s, p.Context) {
		return true
	}
	for _, clause := range p.AllOf {
		if counts(s, clause) {
			return true
		}
	}
	return false
}

// counts reports whether the signal carries one of the tags and is not a
// call an AWS service made on the identity's behalf.
func counts(s *detection.Signal, tags []string) bool {
	return s.ServiceInvoked == "" && hasAny(s.Tags, tags)
}

func hasAny(tags, want []string) bool {
	for _, t := range tags {
		for _, w := range want {
			if t == w {
				return true
			}
		}
	}
	return false
}
