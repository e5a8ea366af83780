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
	return SlotID(kind, eventID)
}

// SlotID is the id of a signal that stands for a class of events rather
// than one: a fact first seen by an identity, a rule's repetitions in a
// fold window, a burst in its window. It derives from the slot (identity,
// detection and window) alone, so that every detector raising the signal
// for any event of the slot writes the same id, and the store keeps the
// earliest (Signal.Before).
func SlotID(kind string, slot ...string) string {
	var buf [idInput]byte
	return hashID(appendSlot(buf[:0], slot), kind)
}

// WindowSlotID is SlotID(kind, slot..., WindowSlot(t, w)) without the
// window's name to build: the pipeline names a slot for every single-event
// signal it folds.
func WindowSlotID(kind string, t time.Time, w time.Duration, slot ...string) string {
	var buf [idInput]byte
	b := appendSlot(buf[:0], slot)
	if len(slot) > 0 {
		b = append(b, 0)
	}
	return hashID(appendWindowSlot(b, t, w), kind)
}

// idInput is the room on the stack for the input of an id's hash; longer
// inputs are built on the heap.
const idInput = 256

// appendSlot appends the slot's parts to b, separated by NULs.
func appendSlot(b []byte, slot []string) []byte {
	for i, s := range slot {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return b
}

// hashID returns the id of slot (the slot's parts, appendSlot) and kind:
// the first 12 bytes of the SHA-256 of "<slot>\x00<kind>", in hex.
func hashID(slot []byte, kind string) string {
	slot = append(slot, 0)
	slot = append(slot, kind...)
	h := sha256.Sum256(slot)
	var id [24]byte
	hex.Encode(id[:], h[:12])
	return string(id[:])
}

// WindowSlot names the window of length w that t falls in: windows aligned
// on the Unix epoch, so that every detector names the same windows.
func WindowSlot(t time.Time, w time.Duration) string {
	return string(appendWindowSlot(nil, t, w))
}

// appendWindowSlot appends WindowSlot(t, w) to b.
func appendWindowSlot(b []byte, t time.Time, w time.Duration) []byte {
	return t.UTC().Truncate(w).AppendFormat(b, time.RFC3339)
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
