package detection

import (
	"regexp"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// InstanceCredentialsKind is the signal raised when an EC2 instance's role
// credentials are used somewhere other than the instance.
const InstanceCredentialsKind = "instance-credentials-off-instance"

// workstation user agents: an instance runs Linux or Windows Server; a
// Mac, or a penetration-testing distribution, is somebody's laptop.
var workstation = regexp.MustCompile(`(?i)darwin/|macintosh|mac os x|kali|parrot|pentoo|blackarch`)

// isInstanceSession reports whether a session name is an EC2 instance id,
// as `^i-[0-9a-fA-F]{8,17}$` would.
func isInstanceSession(name string) bool {
	if len(name) < 2+8 || len(name) > 2+17 || name[0] != 'i' || name[1] != '-' {
		return false
	}
	for i := 2; i < len(name); i++ {
		if !hexByte[name[i]] {
			return false
		}
	}
	return true
}

var hexByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

// workstationMemoSize bounds the memo of user agents matched against
// workstation; a full memo is cleared.
const workstationMemoSize = 10000

// InstanceCredentials watches EC2 instance-role sessions (the credentials
// the instance metadata service hands out) for use away from the instance:
// from a workstation's tool, or from a second network after the instance's
// own. It keeps the first network of each session, for a bounded number of
// sessions.
type InstanceCredentials struct {
	first map[string]string // session ARN -> first /16 seen
	fired map[string]bool
	limit int
	// workstation memoises workstation.MatchString by user agent.
	workstation map[string]bool
}

// NewInstanceCredentials returns a detector remembering at most limit
// sessions (0 means 100,000).
func NewInstanceCredentials(limit int) *InstanceCredentials {
	if limit <= 0 {
		limit = 100000
	}
	return &InstanceCredentials{first: map[string]string{}, fired: map[string]bool{}, limit: limit, workstation: map[string]bool{}}
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
	if !isInstanceSession(name) && !delivered {
		return nil
	}
	if d.fired[ui.ARN] {
		return nil
	}
	why := ""
	if d.isWorkstation(ev.UserAgent) {
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
			why = "the instance role's credentials, first used from " + first + ".0.0/16, are now used from " + net + ".0.0/16"
		}
	}
	if why == "" {
		return nil
	}
	d.fired[ui.ARN] = true
	// One per session, whichever of its events shows it.
	s := NewSlotSignal(ev, at, InstanceCredentialsKind, High, []string{"T1552.005", "T1078.004"}, why, ui.ARN)
	s.Tags = []string{TagAnomaly, TagCredentialAccess}
	s.Resources = []Resource{{Type: "iam:role", ARN: identity.RoleARNFromSession(ui.ARN)}, {Type: "ec2:instance", ID: name, Region: ev.AWSRegion}}
	return []Signal{s}
}

// isWorkstation reports whether the user agent is a workstation's.
func (d *InstanceCredentials) isWorkstation(ua string) bool {
	w, ok := d.workstation[ua]
	if !ok {
		w = workstation.MatchString(ua)
		if len(d.workstation) >= workstationMemoSize {
			clear(d.workstation)
		}
		d.workstation[ua] = w
	}
	return w
}

// network16 returns the first two parts of an IPv4 source address, which
// name its /16 ("203.0" for 203.0.113.7), or "" for service names,
// internal callers and anything else.
func network16(ip string) string {
	// Four parts of one to three digits; the first two are a piece of ip
	// (no allocation: this runs on every instance session's event).
	end, parts, digits := 0, 0, 0
	for i := 0; i <= len(ip); i++ {
		if i == len(ip) || ip[i] == '.' {
			if digits == 0 {
				return ""
			}
			if parts++; parts == 2 {
				end = i
			}
			digits = 0
			continue
		}
		if ip[i] < '0' || ip[i] > '9' || digits == 3 {
			return ""
		}
		digits++
	}
	if parts != 4 {
		return ""
	}
	return ip[:end]
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
