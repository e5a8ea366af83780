package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuditLog is the responder's part of the contract: the audit record of
// every response decision, which is also what makes responses idempotent
// (a decision is keyed by incident, action, target and whether it acts),
// and the per-account hourly budget of enforcing actions. Every store
// (memstore, boltstore, dynamostore) implements it; storetest.Run checks
// it. It holds across processes for shared stores: concurrent responders
// claim a decision, or a slot of the budget, with one conditional write.
type AuditLog interface {
	// PutAudit creates or updates an audit record, keyed by its ID, with
	// PutIncident's optimistic concurrency: a record whose Version is 1
	// must not exist yet (a second responder claiming the same decision
	// gets ErrConflict), an update of Version n succeeds only over the
	// stored Version n-1. Otherwise it returns ErrConflict and changes
	// nothing.
	PutAudit(ctx context.Context, r AuditRecord) error
	// Audit returns the record with the id, or ErrNotFound.
	Audit(ctx context.Context, id string) (AuditRecord, error)
	// AuditRecords returns the records matching q, ordered by time then id.
	AuditRecords(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
	// ReserveAction takes one slot of the account's budget of enforcing
	// actions in the clock hour of at, if fewer than max slots of that hour
	// are taken, and reports whether it did. Of concurrent callers over the
	// last slots, exactly as many as there are free slots get true.
	ReserveAction(ctx context.Context, account string, at time.Time, max int) (bool, error)
}

// AuditRecord is one response decision: what was (or would have been) done
// to which target, why, the target's state read before acting (what undo
// restores), and whether it was undone.
type AuditRecord struct {
	// ID is derived from incident, action, target and whether the decision
	// acts (see response.AuditID).
	ID       string `json:"id"`
	Incident string `json:"incident"`
	// Policy and Origin say which incident and whose.
	Policy string `json:"policy,omitempty"`
	Origin string `json:"origin,omitempty"`
	Action string `json:"action"`
	Target string `json:"target"`
	// Account and Region say where the target is.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// Mode is the effective mode: off, dry-run or enforce.
	Mode string `json:"mode"`
	// Status is pending (claimed, not decided yet), planned (dry-run),
	// done, skipped or failed.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Error is the AWS error of a failed action.
	Error string `json:"error,omitempty"`
	// Time is when the decision was taken.
	Time time.Time `json:"time"`
	// Before is the target's state read before acting, as the action
	// defines it; undo restores it.
	Before json.RawMessage `json:"before,omitempty"`
	// BlastRadius is, for revoke-role-sessions, how many distinct
	// principals were seen using the role recently.
	BlastRadius int `json:"blast_radius,omitempty"`
	// Undone is when the action was undone; zero while it stands.
	Undone time.Time `json:"undone,omitzero"`
	// UndoError is the last failed attempt to undo it.
	UndoError string `json:"undo_error,omitempty"`
	// Version counts updates, for optimistic concurrency.
	Version int `json:"version"`
}

// AuditQuery selects audit records.
type AuditQuery struct {
	// Incident, when set, keeps the records of that incident.
	Incident string
	// Since and Until bound the record time: Since <= time < Until. Zero
	// values leave that side open.
	Since, Until time.Time
	// Limit caps the number returned; 0 means no cap.
	Limit int
}

// Match reports whether r satisfies q.
func (q AuditQuery) Match(r AuditRecord) bool {
	if q.Incident != "" && r.Incident != q.Incident {
		return false
	}
	if !q.Since.IsZero() && r.Time.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !r.Time.Before(q.Until) {
		return false
	}
	return true
}

// Validate reports what makes r unfit to be written: every store checks it
// before it writes.
func (r AuditRecord) Validate() error {
	if r.ID == "" {
		return errors.New("audit record: empty id")
	}
	if r.Version < 1 {
		return fmt.Errorf("audit record %s: version %d, want 1 or more", r.ID, r.Version)
	}
	return nil
}

// CloneAudit returns a deep copy of r, its times in UTC.
func CloneAudit(r AuditRecord) AuditRecord {
	r.Before = append(json.RawMessage(nil), r.Before...)
	if len(r.Before) == 0 {
		r.Before = nil
	}
	r.Time = r.Time.UTC()
	if !r.Undone.IsZero() {
		r.Undone = r.Undone.UTC()
	}
	return r
}
