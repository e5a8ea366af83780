package detection_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// TestStratusCoverage replays every Stratus Red Team detonation log and
// reports, per technique, the rules that raise a medium-or-higher signal.
// At least 30 of the 35 techniques must be caught by a single-event rule;
// the rest are left to the baseline (volume, new identity or tool).
func TestStratusCoverage(t *testing.T) {
	dir := datasetsDir(t)
	c := catalogue(t)
	techniques := stratusTechniques(t, dir)
	names := make([]string, 0, len(techniques))
	for tech := range techniques {
		names = append(names, tech)
	}
	sort.Strings(names)

	covered := 0
	var table strings.Builder
	for _, tech := range names {
		fired := map[string]detection.Severity{} // the highest severity of each rule
		replay(t, techniques[tech], func(_ labelled, ev *cloudtrail.Event, at identity.Attribution) {
			for _, s := range c.Evaluate(ev, at) {
				if sev, ok := fired[s.Kind]; !ok || s.Severity > sev {
					fired[s.Kind] = s.Severity
				}
			}
		})
		var medium, low []string
		for kind, sev := range fired {
			entry := fmt.Sprintf("%s(%s)", kind, sev)
			if sev >= detection.Medium {
				medium = append(medium, entry)
			} else {
				low = append(low, entry)
			}
		}
		sort.Strings(medium)
		sort.Strings(low)
		mark := "MISS"
		if len(medium) > 0 {
			covered++
			mark = "ok  "
		}
		fmt.Fprintf(&table, "%s %-62s %s", mark, tech, strings.Join(medium, " "))
		if len(low) > 0 {
			fmt.Fprintf(&table, "  [below medium: %s]", strings.Join(low, " "))
		}
		table.WriteString("\n")
	}
	t.Logf("Stratus techniques with a medium-or-higher signal: %d of %d\n%s", covered, len(names), table.String())
	if covered < 30 {
		t.Errorf("%d of %d Stratus techniques raise a medium-or-higher signal; want at least 30", covered, len(names))
	}
}

// benignLabels are the Invictus labels of activity that is not an attack:
// infrastructure-as-code, the operator's console and CLI, AWS services,
// and the SSM agent of the target instances.
var benignLabels = map[string]bool{
	"stratus-warmup-cleanup-terraform":  true,
	"operator-console-or-cli":           true,
	"aws-service-or-internal":           true,
	"stratus-target-instance-ssm-agent": true,
}

// TestFalsePositives replays the benign Invictus events and CloudGoat's
// operator (pedro) and counts medium-or-higher signals: at most one per
// 10,000 events, which on these ~2,700 events means none.
func TestFalsePositives(t *testing.T) {
	dir := datasetsDir(t)
	c := catalogue(t)
	events, bad := 0, 0
	check := func(set string) func(labelled, *cloudtrail.Event, identity.Attribution) {
		return func(l labelled, ev *cloudtrail.Event, at identity.Attribution) {
			if !benignLabels[l.Label] && l.Label != "pedro" {
				return
			}
			events++
			for _, s := range c.Evaluate(ev, at) {
				if s.Severity >= detection.Medium {
					bad++
					t.Logf("%s %s (%s): %s %s %s by %s, user agent %q", set, l.Key, l.Label, s.Kind, s.Severity, ev.EventName, s.Identity.ARN, ev.UserAgent)
				}
			}
		}
	}
	// The whole files are replayed so that role chains resolve; only the
	// benign events are counted.
	replay(t, invictusEvents(t, dir), check("invictus"))
	replay(t, cloudgoatEvents(t, dir), check("cloudgoat"))
	t.Logf("%d medium-or-higher signals over %d benign events", bad, events)
	if events < 2500 {
		t.Errorf("only %d benign events read; the datasets look incomplete", events)
	}
	if bad*10000 > events {
		t.Errorf("%d medium-or-higher signals over %d benign events: more than one per 10,000", bad, events)
	}
}
