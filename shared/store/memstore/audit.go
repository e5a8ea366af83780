package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/store"
)

// auditLog is the audit part of the Store, under the Store's mutex; its
// maps are made on first write.
type auditLog struct {
	records map[string]store.AuditRecord
	// slots counts the enforcing actions per account and clock hour.
	slots map[string]int
}

var _ store.AuditLog = (*Store)(nil)

// PutAudit creates (Version 1) or updates (Version n over n-1) a record.
func (s *Store) PutAudit(ctx context.Context, r store.AuditRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	r = store.CloneAudit(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.audit.records[r.ID]
	switch {
	case r.Version == 1 && ok:
		return fmt.Errorf("audit record %s version 1: it exists at version %d: %w", r.ID, old.Version, store.ErrConflict)
	case r.Version > 1 && !ok:
		return fmt.Errorf("audit record %s version %d: it does not exist: %w", r.ID, r.Version, store.ErrConflict)
	case r.Version > 1 && old.Version != r.Version-1:
		return fmt.Errorf("audit record %s version %d: it is at version %d: %w", r.ID, r.Version, old.Version, store.ErrConflict)
	}
	s.audit.records[r.ID] = r
	return nil
}

// Audit returns a copy of the record, or store.ErrNotFound.
func (s *Store) Audit(ctx context.Context, id string) (store.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return store.AuditRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.audit.records[id]
	if !ok {
		return store.AuditRecord{}, fmt.Errorf("audit record %s: %w", id, store.ErrNotFound)
	}
	return store.CloneAudit(r), nil
}

// AuditRecords returns copies of the matching records by time then id.
func (s *Store) AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []store.AuditRecord
	for _, r := range s.audit.records {
		if q.Match(r) {
			out = append(out, store.CloneAudit(r))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b store.AuditRecord) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// ReserveAction takes a slot of the account's hour if one is free.
func (s *Store) ReserveAction(ctx context.Context, account string, at time.Time, max int) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if account == "" {
		return false, errEmpty("account")
	}
	key := account + "#" + at.UTC().Truncate(time.Hour).Format(time.RFC3339)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.audit.slots[key] >= max {
		return false, nil
	}
	s.audit.slots[key]++
	return true, nil
}
