package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// bucketPublished maps an incident id to the version marked published
// (8 bytes, big-endian). It is created on first use, so state files written
// before it existed open unchanged.
const bucketPublished = "incidents_published"

// MarkPublished records that the version of the incident was published.
func (s *Store) MarkPublished(ctx context.Context, id string, version int) error {
	if id == "" {
		return errors.New("mark published: empty incident id")
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bucketIncidents)).Get([]byte(id)) == nil {
			return store.ErrNotFound
		}
		b, err := tx.CreateBucketIfNotExists([]byte(bucketPublished))
		if err != nil {
			return err
		}
		if publishedVersion(b, id) >= version {
			return nil
		}
		return b.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(version)))
	})
	if err != nil {
		return fmt.Errorf("mark incident %s version %d published: %w", id, version, err)
	}
	return nil
}

// publishedVersion is the version of the incident marked published, 0 for
// none (b may be nil).
func publishedVersion(b *bolt.Bucket, id string) int {
	if b == nil {
		return 0
	}
	v := b.Get([]byte(id))
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

// Unpublished returns the incidents last seen at or after since whose
// version is not marked published.
func (s *Store) Unpublished(ctx context.Context, since time.Time) ([]incident.Incident, error) {
	all, err := s.Incidents(ctx, store.IncidentQuery{LastSeenSince: since})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	err = s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketPublished))
		for _, inc := range all {
			if publishedVersion(b, inc.ID) < inc.Version {
				out = append(out, inc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unpublished incidents: %w", err)
	}
	return out, nil
}
