package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trailhound/trailhound/shared/store"
)

// The audit log's buckets, created by the first write that needs them (a
// state file written before the audit log existed opens as it is):
//
//   - audit: audit records by id (JSON);
//   - audit_by_time: time, id -> nothing, the order AuditRecords returns.
//     A responder's laptop keeps few records, so a query walks the time
//     range and filters on the rest;
//   - action_slots: account, "#", clock hour (RFC 3339) -> the number of
//     enforcing actions taken (uint64, big-endian).
const (
	bucketAudit       = "audit"
	bucketAuditByTime = "audit_by_time"
	bucketSlots       = "action_slots"
)

var _ store.AuditLog = (*Store)(nil)

// PutAudit creates (Version 1) or updates (Version n over n-1) a record.
func (s *Store) PutAudit(ctx context.Context, r store.AuditRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r = store.CloneAudit(r)
	id := []byte(r.ID)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		records, err := tx.CreateBucketIfNotExists([]byte(bucketAudit))
		if err != nil {
			return err
		}
		byTime, err := tx.CreateBucketIfNotExists([]byte(bucketAuditByTime))
		if err != nil {
			return err
		}
		var old store.AuditRecord
		switch err := getJSON(records, id, &old); {
		case errors.Is(err, store.ErrNotFound):
			if r.Version != 1 {
				return fmt.Errorf("version %d: it does not exist: %w", r.Version, store.ErrConflict)
			}
		case err != nil:
			return err
		case r.Version != old.Version+1:
			return fmt.Errorf("version %d: it is at version %d: %w", r.Version, old.Version, store.ErrConflict)
		default:
			if err := byTime.Delete(indexKey(nil, old.Time, id)); err != nil {
				return err
			}
		}
		if err := putJSON(records, id, r); err != nil {
			return err
		}
		return byTime.Put(indexKey(nil, r.Time, id), nil)
	})
	if err != nil {
		return fmt.Errorf("put audit record %s: %w", r.ID, err)
	}
	return nil
}

// Audit returns the record with the id, or store.ErrNotFound.
func (s *Store) Audit(ctx context.Context, id string) (store.AuditRecord, error) {
	var r store.AuditRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketAudit))
		if b == nil {
			return store.ErrNotFound
		}
		return getJSON(b, []byte(id), &r)
	})
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("audit record %s: %w", id, err)
	}
	return r, nil
}

// AuditRecords walks the time index from q.Since and returns the matching
// records.
func (s *Store) AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	var out []store.AuditRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		records, byTime := tx.Bucket([]byte(bucketAudit)), tx.Bucket([]byte(bucketAuditByTime))
		if records == nil || byTime == nil {
			return nil
		}
		c := byTime.Cursor()
		var k []byte
		if q.Since.IsZero() {
			k, _ = c.First()
		} else {
			k, _ = c.Seek(appendTime(nil, q.Since))
		}
		for ; k != nil; k, _ = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(k) <= timeLen {
				return fmt.Errorf("corrupt index %s entry %q", bucketAuditByTime, k)
			}
			if !q.Until.IsZero() && !decodeTime(k).Before(q.Until) {
				break
			}
			var r store.AuditRecord
			if err := getJSON(records, k[timeLen:], &r); err != nil {
				return fmt.Errorf("audit record %s: %w", k[timeLen:], err)
			}
			if !q.Match(r) {
				continue
			}
			out = append(out, r)
			if q.Limit > 0 && len(out) == q.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query audit records: %w", err)
	}
	return out, nil
}

// ReserveAction takes a slot of the account's hour in one write
// transaction, if one is free.
func (s *Store) ReserveAction(ctx context.Context, account string, at time.Time, max int) (bool, error) {
	if account == "" {
		return false, errors.New("reserve action: empty account")
	}
	key := []byte(account + "#" + at.UTC().Truncate(time.Hour).Format(time.RFC3339))
	took := false
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucketSlots))
		if err != nil {
			return err
		}
		var n uint64
		if v := b.Get(key); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		if max <= 0 || n >= uint64(max) {
			return nil
		}
		took = true
		return b.Put(key, binary.BigEndian.AppendUint64(nil, n+1))
	})
	if err != nil {
		return false, fmt.Errorf("reserve action in %s: %w", account, err)
	}
	return took, nil
}
