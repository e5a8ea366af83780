package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
)

// maxTimeline bounds the steps an investigation keeps; the counts still
// cover every event.
const maxTimeline = 5000

func newInvestigateCommand(stdout, stderr io.Writer) *cobra.Command {
	var flags commonFlags
	var who string
	cmd := &cobra.Command{
		Use:   "investigate --identity ID [flags] PATH...",
		Short: "Tell the story of one identity: timeline, places, tools, role chains and signals",
		Long: `Investigate replays the logs and tells the story of one identity, the question a
responder asks before acting: when it was active, in which accounts and regions, which
services and APIs it called, what failed, from which networks and tools, through which
role chains back to the user, and what Trailhound flagged.

ID matches the origin identity (ARN, or the end of it such as "user/alice"), its name
(an Identity Center user name such as chris@corp.ai), or any role or session in its
chains (so a role ARN shows everyone who used that role).`,
		Example: `  trailhound investigate --identity chris@corp.ai events/demo
  trailhound investigate --identity arn:aws:iam::111122223333:role/lambdaManager-role --output json logs/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := flags.pipelineOptions("text", "json")
			if who == "" {
				return usageError{fmt.Errorf("--identity is required")}
			}
			if err != nil {
				return err
			}
			st := newStory(who)
			r := &runner{flags: flags, opts: opts, stderr: stderr}
			r.onEvent = func(ev *cloudtrail.Event, obs pipeline.Observation) error {
				if matches(who, obs.Attribution) {
					st.add(ev, obs)
				}
				return nil
			}
			if err := r.run(cmd.Context(), args); err != nil {
				return err
			}
			for _, inc := range r.incidents {
				if st.keys[inc.Identity.Key] {
					st.Incidents = append(st.Incidents, inc)
				}
			}
			st.finish()
			if flags.output == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return st.writeText(stdout)
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&who, "identity", "", "the identity to investigate (required)")
	return cmd
}

// matches reports whether the attribution concerns the identity named q.
func matches(q string, at identity.Attribution) bool {
	o := at.Origin
	candidates := append([]string{o.ARN, o.Key(), o.Name, at.Session}, o.Chain...)
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if strings.EqualFold(c, q) || strings.HasSuffix(c, "/"+q) || strings.HasSuffix(c, ":"+q) {
			return true
		}
		if r := identity.RoleARNFromSession(c); r != "" && strings.EqualFold(r, q) {
			return true
		}
	}
	return false
}

// count is a value and how often it was seen.
type count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// chain is a role chain and how many events went through it.
type chain struct {
	Chain    []string `json:"chain"`
	Resolved bool     `json:"resolved"`
	Events   int      `json:"events"`
}

// step is one line of the timeline: consecutive identical calls folded.
type step struct {
	Time     time.Time `json:"time"`
	Last     time.Time `json:"last,omitempty"`
	API      string    `json:"api"`
	Account  string    `json:"account,omitempty"`
	Region   string    `json:"region,omitempty"`
	SourceIP string    `json:"source_ip,omitempty"`
	Session  string    `json:"session,omitempty"`
	Error    string    `json:"error,omitempty"`
	Count    int       `json:"count"`
	Signals  []string  `json:"signals,omitempty"`
}

// story is what investigate prints.
type story struct {
	Query      string              `json:"query"`
	Origins    []identity.Origin   `json:"origins"`
	FirstSeen  time.Time           `json:"first_seen"`
	LastSeen   time.Time           `json:"last_seen"`
	Events     int                 `json:"events"`
	Errors     int                 `json:"errors"`
	Accounts   []count             `json:"accounts"`
	Regions    []count             `json:"regions"`
	Services   []count             `json:"services"`
	APIs       []count             `json:"apis"`
	ErrorCodes []count             `json:"error_codes"`
	SourceIPs  []count             `json:"source_ips"`
	UserAgents []count             `json:"user_agents"`
	Chains     []chain             `json:"chains"`
	Incidents  []incident.Incident `json:"incidents"`
	Signals    []detection.Signal  `json:"signals"`
	Timeline   []step              `json:"timeline"`
	Truncated  int                 `json:"timeline_truncated,omitempty"`

	origins map[string]identity.Origin
	keys    map[string]bool
	tallies map[string]map[string]int
	chains  map[string]*chain
}

func newStory(q string) *story {
	return &story{Query: q, origins: map[string]identity.Origin{}, keys: map[string]bool{}, tallies: map[string]map[string]int{}, chains: map[string]*chain{}}
}

func (s *story) tally(dim, v string) {
	if v == "" {
		return
	}
	m := s.tallies[dim]
	if m == nil {
		m = map[string]int{}
		s.tallies[dim] = m
	}
	m[v]++
}

func (s *story) add(ev *cloudtrail.Event, obs pipeline.Observation) {
	o := obs.Attribution.Origin
	s.keys[o.Key()] = true
	if _, ok := s.origins[o.ARN]; !ok {
		first := o
		first.Chain = nil
		s.origins[o.ARN] = first
	}
	if s.Events == 0 || ev.EventTime.Before(s.FirstSeen) {
		s.FirstSeen = ev.EventTime
	}
	if ev.EventTime.After(s.LastSeen) {
		s.LastSeen = ev.EventTime
	}
	s.Events++
	if ev.Failed() {
		s.Errors++
		s.tally("error", ev.ErrorCode)
	}
	api := ev.Service() + ":" + ev.EventName
	s.tally("account", ev.Account())
	s.tally("region", ev.AWSRegion)
	s.tally("service", ev.EventSource)
	s.tally("api", api)
	s.tally("ip", ev.SourceIPAddress)
	s.tally("ua", ev.UserAgent)
	ck := strings.Join(o.Chain, " -> ")
	c := s.chains[ck]
	if c == nil {
		c = &chain{Chain: o.Chain, Resolved: o.Resolved}
		s.chains[ck] = c
	}
	c.Events++

	var kinds []string
	for _, sig := range obs.Signals {
		s.Signals = append(s.Signals, sig)
		kinds = append(kinds, sig.Kind)
	}
	session := obs.Attribution.Session
	if n := len(s.Timeline); n > 0 {
		prev := &s.Timeline[n-1]
		if prev.API == api && prev.Session == session && prev.Error == ev.ErrorCode &&
			prev.Region == ev.AWSRegion && prev.SourceIP == ev.SourceIPAddress && len(kinds) == 0 && len(prev.Signals) == 0 {
			prev.Count++
			prev.Last = ev.EventTime
			return
		}
	}
	if len(s.Timeline) >= maxTimeline {
		s.Truncated++
		return
	}
	s.Timeline = append(s.Timeline, step{Time: ev.EventTime, API: api, Account: ev.Account(), Region: ev.AWSRegion,
		SourceIP: ev.SourceIPAddress, Session: session, Error: ev.ErrorCode, Count: 1, Signals: kinds})
}

// finish turns the tallies into sorted lists.
func (s *story) finish() {
	sorted := func(dim string) []count {
		out := []count{}
		for v, n := range s.tallies[dim] {
			out = append(out, count{v, n})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Count != out[j].Count {
				return out[i].Count > out[j].Count
			}
			return out[i].Value < out[j].Value
		})
		return out
	}
	s.Accounts, s.Regions, s.Services, s.APIs = sorted("account"), sorted("region"), sorted("service"), sorted("api")
	s.ErrorCodes, s.SourceIPs, s.UserAgents = sorted("error"), sorted("ip"), sorted("ua")
	s.Origins = []identity.Origin{}
	for _, o := range s.origins {
		s.Origins = append(s.Origins, o)
	}
	sort.Slice(s.Origins, func(i, j int) bool { return s.Origins[i].ARN < s.Origins[j].ARN })
	s.Chains = []chain{}
	for _, c := range s.chains {
		s.Chains = append(s.Chains, *c)
	}
	sort.Slice(s.Chains, func(i, j int) bool {
		if s.Chains[i].Events != s.Chains[j].Events {
			return s.Chains[i].Events > s.Chains[j].Events
		}
		return strings.Join(s.Chains[i].Chain, " ") < strings.Join(s.Chains[j].Chain, " ")
	})
	if s.Signals == nil {
		s.Signals = []detection.Signal{}
	}
	if s.Incidents == nil {
		s.Incidents = []incident.Incident{}
	}
	if s.Timeline == nil {
		s.Timeline = []step{}
	}
}

func (s *story) writeText(w io.Writer) error {
	b := &strings.Builder{}
	if s.Events == 0 {
		fmt.Fprintf(b, "No events of %q in these logs.\n", s.Query)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(b, "Identity %s\n", s.Query)
	for _, o := range s.Origins {
		state := "resolved"
		if !o.Resolved {
			state = "unresolved: the chain could not be followed back to a user"
		}
		fmt.Fprintf(b, "  origin   %s (%s, %s)\n", o.ARN, o.Type, state)
	}
	fmt.Fprintf(b, "  active   %s → %s (%s)\n", s.FirstSeen.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), s.LastSeen.Sub(s.FirstSeen).Round(time.Second))
	fmt.Fprintf(b, "  events   %d, %d failed\n", s.Events, s.Errors)
	list := func(label string, cs []count, limit int) {
		if len(cs) == 0 {
			return
		}
		parts := make([]string, 0, limit)
		for i, c := range cs {
			if i == limit {
				parts = append(parts, fmt.Sprintf("… %d more", len(cs)-limit))
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%d)", c.Value, c.Count))
		}
		fmt.Fprintf(b, "  %-8s %s\n", label, strings.Join(parts, ", "))
	}
	list("accounts", s.Accounts, 10)
	list("regions", s.Regions, 10)
	list("services", s.Services, 12)
	list("apis", s.APIs, 15)
	list("errors", s.ErrorCodes, 10)
	list("ips", s.SourceIPs, 10)
	list("agents", s.UserAgents, 5)
	fmt.Fprintf(b, "\nRole chains\n")
	for _, c := range s.Chains {
		mark := ""
		if !c.Resolved {
			mark = "  [unresolved]"
		}
		fmt.Fprintf(b, "  %5d  %s%s\n", c.Events, strings.Join(c.Chain, " → "), mark)
	}
	fmt.Fprintf(b, "\nIncidents (%d)\n", len(s.Incidents))
	for _, inc := range s.Incidents {
		fmt.Fprintf(b, "  %s  %-8s %-24s %s\n", inc.FirstSeen.UTC().Format(time.RFC3339), inc.Severity, inc.Policy, inc.ID)
	}
	fmt.Fprintf(b, "\nSignals (%d)\n", len(s.Signals))
	for _, sig := range s.Signals {
		fmt.Fprintf(b, "  %s  %-8s %-24s %s\n", sig.Time.UTC().Format(time.RFC3339), sig.Severity, sig.Kind, sig.Rationale)
	}
	fmt.Fprintf(b, "\nTimeline\n")
	for _, st := range s.Timeline {
		line := fmt.Sprintf("  %s  %-45s %s %s", st.Time.UTC().Format(time.RFC3339), st.API, st.Region, st.SourceIP)
		if st.Count > 1 {
			line += fmt.Sprintf("  ×%d until %s", st.Count, st.Last.UTC().Format(time.TimeOnly))
		}
		if st.Error != "" {
			line += "  [" + st.Error + "]"
		}
		if st.Session != "" && len(s.Origins) > 0 && st.Session != s.Origins[0].ARN {
			line += "  as " + strings.TrimPrefix(strings.TrimPrefix(st.Session, "arn:aws:sts::"), "arn:aws:iam::")
		}
		if len(st.Signals) > 0 {
			line += "  ⚑ " + strings.Join(st.Signals, ", ")
		}
		fmt.Fprintln(b, line)
	}
	if s.Truncated > 0 {
		fmt.Fprintf(b, "  … %d more steps not shown\n", s.Truncated)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
