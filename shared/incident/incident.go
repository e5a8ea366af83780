// Package incident stitches signals into composite incidents: the story of
// one identity (compromised credentials, a Lambda backdoor, privilege
// escalation, …) with the facts a responder needs and a dry-run response
// plan. Composite policies are a table of values; the correlator applies
// them over a sliding window of each identity's recent signals, keeping one
// open incident per identity and policy.
//
// In the pipeline it follows detection: detector -> signals -> correlator ->
// incidents -> responder.
package incident

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
)

// Incident is DESIGN.md's incident record.
type Incident struct {
	ID        string             `json:"id"`
	Policy    string             `json:"policy"`
	Title     string             `json:"title"`
	Severity  detection.Severity `json:"severity"`
	Identity  Identity           `json:"identity"`
	FirstSeen time.Time          `json:"first_seen"`
	LastSeen  time.Time          `json:"last_seen"`
	// Updated is the (event) time the correlator last changed the incident.
	Updated   time.Time            `json:"updated"`
	Summary   string               `json:"summary"`
	Facts     Facts                `json:"facts"`
	Attack    []string             `json:"attack"`
	Signals   []SignalRef          `json:"signals"`
	Resources []detection.Resource `json:"resources"`
	Actions   []Action             `json:"actions"`
	// Version counts updates, for optimistic concurrency in shared stores.
	Version int `json:"version"`
}

// Identity is who the incident is about.
type Identity struct {
	Origin   string   `json:"origin"`
	Key      string   `json:"key"`
	Type     string   `json:"type"`
	Name     string   `json:"name,omitempty"`
	Resolved bool     `json:"resolved"`
	Chain    []string `json:"chain"`
	// Chains lists every distinct role chain seen in the signals.
	Chains   [][]string `json:"chains,omitempty"`
	Accounts []string   `json:"accounts"`
}

// Facts summarise the events behind the incident's signals.
type Facts struct {
	Events     int      `json:"events"`
	Regions    []string `json:"regions"`
	Services   []string `json:"services"`
	APIs       []string `json:"apis"`
	SourceIPs  []string `json:"source_ips"`
	UserAgents []string `json:"user_agents"`
	Errors     int      `json:"errors"`
}

// SignalRef is a signal as an incident lists it.
type SignalRef struct {
	ID        string             `json:"id"`
	Kind      string             `json:"kind"`
	Severity  detection.Severity `json:"severity"`
	EventID   string             `json:"event_id"`
	EventName string             `json:"event_name"`
	Time      time.Time          `json:"time"`
	Account   string             `json:"account,omitempty"`
	Region    string             `json:"region,omitempty"`
	Session   string             `json:"session,omitempty"`
	Rationale string             `json:"rationale"`
}

// Action is one planned or taken response.
type Action struct {
	Action string `json:"action"`
	Target string `json:"target"`
	// Account and Region say where the target is.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	Mode    string `json:"mode"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
}

// Action statuses and modes.
const (
	StatusPlanned = "planned"
	StatusDone    = "done"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
	ModeDryRun    = "dry-run"
	ModeEnforce   = "enforce"
)

// ID derives an incident's id from its identity, policy and opening time.
func ID(identityKey, policy string, opened time.Time) string {
	h := sha256.Sum256([]byte(identityKey + "\x00" + policy + "\x00" + opened.UTC().Format(time.RFC3339Nano)))
	return "inc-" + hex.EncodeToString(h[:10])
}
