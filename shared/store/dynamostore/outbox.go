package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// attrPublished is the incident item's version marked published. PutIncident
// writes the whole item with it at 0, so a new version is unpublished until
// marked.
const attrPublished = "published"

// MarkPublished is one conditional UpdateItem on the incident item: it sets
// published when the item exists and its published version is lower. A
// failed condition returns the old item: none means no such incident.
func (s *Store) MarkPublished(ctx context.Context, id string, version int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return errEmpty("incident id")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 itemKey(prefixIncident+id, skIncident),
		UpdateExpression:                    aws.String("SET #published = :v"),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #published < :v"),
		ExpressionAttributeNames:            names(AttrPK, attrPublished),
		ExpressionAttributeValues:           item{":v": num(int64(version))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	err = mapErr(ctx, "MarkPublished", err)
	if cf, ok := asConditionFailed(err); ok {
		if len(cf.old) == 0 {
			return fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
		}
		return nil // marked at this version or later already
	}
	return err
}

// Unpublished queries gsi3 (every incident) with a filter on last seen and
// on the published version being absent or below the stored version.
func (s *Store) Unpublished(ctx context.Context, since time.Time) ([]incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		IndexName:              aws.String(IndexGSI3),
		KeyConditionExpression: aws.String("#pk = :pk"),
		FilterExpression:       aws.String("#lastSeen >= :since AND #published < #version"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrGSI3PK, "#lastSeen": attrLastSeen,
			"#published": attrPublished, "#version": attrVersion},
		ExpressionAttributeValues: item{":pk": str(pkIncidents), ":since": str(timeString(clampTime(since)))},
	}
	var out []incident.Incident
	err := s.query(ctx, "Unpublished", in, func(it item) (bool, error) {
		var inc incident.Incident
		if err := decode(it, &inc); err != nil {
			return false, fmt.Errorf("dynamostore: incident %s: %w", getS(it, AttrPK), err)
		}
		out = append(out, inc)
		return true, nil
	})
	return out, err
}
