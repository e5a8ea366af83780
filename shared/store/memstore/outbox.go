package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// MarkPublished records that the version of the incident was published.
func (s *Store) MarkPublished(ctx context.Context, id string, version int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return errEmpty("incident id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.incidents[id]; !ok {
		return fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	if version > s.published[id] {
		s.published[id] = version
	}
	return nil
}

// Unpublished returns the incidents last seen at or after since whose
// version is not marked published.
func (s *Store) Unpublished(ctx context.Context, since time.Time) ([]incident.Incident, error) {
	all, err := s.Incidents(ctx, store.IncidentQuery{LastSeenSince: since})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := all[:0]
	for _, inc := range all {
		if s.published[inc.ID] < inc.Version {
			out = append(out, inc)
		}
	}
	return out, nil
}
