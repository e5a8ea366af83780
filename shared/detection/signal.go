// Package detection turns one attributed CloudTrail event into signals: one
// suspicious fact each, with a severity, ATT&CK technique ids and the facts a
// responder needs later. Single-event detections are declared as a catalogue
// of rules (data, not a chain of ifs); baseline signals (first-seen kinds) are
// produced by package baseline with the same Signal type.
package detection

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/identity"
)

// Severity ranks a signal or an incident.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name used in records: "info" … "critical".
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Signal is one suspicious fact about one event, as DESIGN.md's signal record
// defines it.
type Signal struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Severity    Severity        `json:"severity"`
	Attack      []string        `json:"attack,omitempty"`
	Identity    identity.Origin `json:"identity"`
	EventID     string          `json:"event_id"`
	EventName   string          `json:"event_name"`
	EventSource string          `json:"event_source"`
	Time        time.Time       `json:"time"`
	Account     string          `json:"account,omitempty"`
	Region      string          `json:"region,omitempty"`
	SourceIP    string          `json:"source_ip,omitempty"`
	UserAgent   string          `json:"user_agent,omitempty"`
	ErrorCode   string          `json:"error_code,omitempty"`
	Rationale   string          `json:"rationale"`
	// Tags say what the signal means to the composite policies.
	Tags []string `json:"tags,omitempty"`
	// Facts holds detection-specific details (the new region, the foreign
	// account a snapshot was shared with, the rule ARN, …).
	Facts map[string]string `json:"facts,omitempty"`
	// Resources names what the event touched, for incidents and responses.
	Resources []Resource `json:"resources,omitempty"`
	// ServiceInvoked is set when an AWS service made the call on the
	// principal's behalf (CloudFormation, for instance).
	ServiceInvoked string `json:"service_invoked,omitempty"`
}

// Resource is a resource a signal or incident involves.
type Resource struct {
	Type   string `json:"type"`
	ARN    string `json:"arn,omitempty"`
	ID     string `json:"id,omitempty"`
	Region string `json:"region,omitempty"`
}

// SignalID derives a signal's id from its event id and kind, so that
// processing the same event twice yields the same id (stores treat signals
// as idempotent by id).
func SignalID(eventID, kind string) string {
	h := sha256.Sum256([]byte(eventID + "\x00" + kind))
	return hex.EncodeToString(h[:12])
}

// SlotID is the id of a signal that stands for a class of events rather
// than one: a fact first seen by an identity, a rule's repetitions in a
// fold window, a burst in its window. It derives from the slot (identity,
// detection and window) alone, so that every detector raising the signal
// for any event of the slot writes the same id, and the store keeps the
// earliest (Signal.Before).
func SlotID(kind string, slot ...string) string {
	return SignalID(strings.Join(slot, "\x00"), kind)
}

// WindowSlot names the window of length w that t falls in: windows aligned
// on the Unix epoch, so that every detector names the same windows.
func WindowSlot(t time.Time, w time.Duration) string {
	return t.UTC().Truncate(w).Format(time.RFC3339)
}

// Before reports whether s comes before o (EarlierEvent of their events).
// Stores keep, of the signals with one id, the first in this order,
// whatever order they arrive in.
func (s Signal) Before(o Signal) bool {
	return EarlierEvent(s.Time, s.EventID, o.Time, o.EventID)
}

// EarlierEvent reports whether the event (t, eventID) comes before the
// event (than, thanID): by time, then, for events of the same second, by
// event id, so that every detector orders the same two events the same
// way. An event without an id (a count, not an event) is earlier only by
// time. It is the one order of signals and of facts' first events.
func EarlierEvent(t time.Time, eventID string, than time.Time, thanID string) bool {
	if !t.Equal(than) {
		return t.Before(than)
	}
	return eventID != "" && thanID != "" && eventID < thanID
}

// String returns the signal as JSON.
func (s Signal) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}
