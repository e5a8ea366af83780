package identity

import (
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
)

// IssuerPending reports whether an event attributed with an unresolved
// origin may just have arrived before the event that would resolve it: it
// is signed with temporary credentials (an ASIA key) of a session created
// less than wait before the event, the event happened less than wait
// before now, and either no event seen so far issued the credentials, or
// only the target account's copy of a cross-account AssumeRole did (which
// sees the caller as just another account) while the caller's account is
// one whose trail Trailhound reads (watched), so the caller's own copy,
// which names it, is on its way.
//
// A detector handling events as they happen gets an identity's events in
// any order: concurrent invocations share them out, and EventBridge does
// not promise order. A role session's first calls come seconds after the
// AssumeRole that created it, and handled first they would be attributed
// to the session itself, a stranger, rather than to the person behind it.
// Retrying such an event a minute later (the detector returns an error, and
// Lambda retries an asynchronous invocation after one and then two more
// minutes) finds the issuing event recorded. Sessions older than wait, and
// events older than wait, are attributed as they are: the issuer was not
// seen (another region's trail, an account outside the organisation,
// before Trailhound was deployed) and waiting would not help, so a retried
// event stops waiting once wait has passed since it happened.
func IssuerPending(ev *cloudtrail.Event, at Attribution, now time.Time, wait time.Duration, watched func(account string) bool) bool {
	if wait <= 0 || at.Origin.Resolved || at.ByService || now.Sub(ev.EventTime) >= wait {
		return false
	}
	unseen := len(at.Origin.Chain) <= 1
	callerToCome := at.Origin.Type == TypeAWSAccount && watched != nil && watched(at.Origin.Account)
	if !unseen && !callerToCome {
		return false
	}
	ui := &ev.UserIdentity
	if !strings.HasPrefix(ui.AccessKeyID, "ASIA") || ui.SessionContext == nil {
		return false
	}
	created, err := time.Parse(time.RFC3339, ui.SessionContext.Attributes.CreationDate)
	if err != nil {
		return false
	}
	return ev.EventTime.Sub(created) < wait
}
