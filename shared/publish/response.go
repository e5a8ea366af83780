package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/store"
)

// DetailTypeResponse is the detail-type of the events reporting response
// decisions.
const DetailTypeResponse = "Trailhound Response"

// Response is a response decision as published: its audit record and the
// severity (high when an action failed or the rate limit stopped it).
type Response struct {
	store.AuditRecord
	Severity detection.Severity `json:"severity"`
}

// PublishResponses puts one "Trailhound Response" event per decision on
// the bus, batched and retried as Publish does, and returns an error
// naming the audit records it could not publish.
func (p *Publisher) PublishResponses(ctx context.Context, rs []Response) error {
	var errs []error
	for i := 0; i < len(rs); i += maxEntries {
		var batch []types.PutEventsRequestEntry
		var ids []string
		for _, r := range rs[i:min(i+maxEntries, len(rs))] {
			detail, err := json.Marshal(r)
			if err != nil {
				errs = append(errs, fmt.Errorf("encode response %s: %w", r.ID, err))
				continue
			}
			// An audit record is small (its saved state at most a rule's
			// targets); cut the state when it is not.
			if len(detail)+overhead > maxBytes/maxEntries {
				r.Before = nil
				if detail, err = json.Marshal(r); err != nil {
					errs = append(errs, fmt.Errorf("encode response %s: %w", r.ID, err))
					continue
				}
			}
			batch = append(batch, types.PutEventsRequestEntry{
				EventBusName: aws.String(p.bus),
				Source:       aws.String(Source),
				DetailType:   aws.String(DetailTypeResponse),
				Detail:       aws.String(string(detail)),
				Resources:    []string{},
			})
			ids = append(ids, r.ID)
		}
		if len(batch) == 0 {
			continue
		}
		if _, err := p.put(ctx, batch, ids); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
