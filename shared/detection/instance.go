package detection

import (
	"regexp"
	"strings"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// InstanceCredentialsKind is the signal raised when an EC2 instance's role
// credentials are used somewhere other than the instance.
const InstanceCredentialsKind = "instance-credentials-off-instance"

var (
	instanceSession = regexp.MustCompile(`^i-[0-9a-fA-F]{8,17}$`)
	// workstation user agents: an instance runs Linux or Windows Server;
	// a Mac, or a penetration-testing distribution, is somebody's laptop.
	workstation = regexp.MustCompile(`(?i)darwin/|macintosh|mac os x|kali|parrot|pentoo|blackarch`)
)

// InstanceCredentials watches EC2 instance-role sessions (the credentials
// the instance metadata service hands out) for use away from the instance:
// from a workstation's tool, or from a second network after the instance's
// own. It keeps the first network of each session, for a bounded number of
// sessions.
type InstanceCredentials struct {
	first map[string]string // session ARN -> first /16 seen
	fired map[string]bool
	limit int
}

// NewInstanceCredentials returns a detector remembering at most limit
// sessions (0 means 100,000).
func NewInstanceCredentials(limit int) *InstanceCredentials {
	if limit <= 0 {
		limit = 100000
	}
	return &InstanceCredentials{first: map[string]string{}, fired: map[string]bool{}, limit: limit}
}

// Observe returns a signal the first time an instance session is seen used
// off its instance.
func (d *InstanceCredentials) Observe(ev *cloudtrail.Event, at identity.Attribution) []Signal {
	ui := &ev.UserIdentity
	if ui.Type != "AssumedRole" || at.InvokedBy != "" {
		return nil
	}
	name := identity.SessionName(ui.ARN)
	delivered := ui.SessionContext != nil && ui.SessionContext.EC2RoleDelivery != ""
	if !instanceSession.MatchString(name) && !delivered {
		return nil
	}
	if d.fired[ui.ARN] {
		return nil
	}
	why := ""
	if workstation.MatchString(ev.UserAgent) {
		why = "the instance role's credentials are used by a workstation tool (" + trim(ev.UserAgent, 80) + "), not from the instance"
	}
	if net := network16(ev.SourceIPAddress); net != "" {
		if first, ok := d.first[ui.ARN]; !ok {
			if len(d.first) >= d.limit {
				clear(d.first)
				clear(d.fired)
			}
			d.first[ui.ARN] = net
		} else if first != net && why == "" {
			why = "the instance role's credentials, first used from " + first + ", are now used from " + net
		}
	}
	if why == "" {
		return nil
	}
	d.fired[ui.ARN] = true
	s := NewSignal(ev, at, InstanceCredentialsKind, High, []string{"T1552.005", "T1078.004"}, why)
	s.Tags = []string{TagAnomaly, TagCredentialAccess}
	s.Resources = []Resource{{Type: "iam:role", ARN: identity.RoleARNFromSession(ui.ARN)}, {Type: "ec2:instance", ID: name, Region: ev.AWSRegion}}
	return []Signal{s}
}

// network16 returns the /16 of an IPv4 source address, or "" for service
// names, internal callers and anything else.
func network16(ip string) string {
	if strings.HasSuffix(ip, ".amazonaws.com") || strings.EqualFold(ip, "AWS Internal") {
		return ""
	}
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return ""
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return parts[0] + "." + parts[1] + ".0.0/16"
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
