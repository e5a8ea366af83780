package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailhound/trailhound/shared/store"
)

// The audit log's items (added to the table design of the package
// comment; no new attribute definitions or indexes):
//
//	item           pk                sk       attributes (index keys)
//	audit record   AUD#<id>          AUD      data, version,
//	                                          gsi2 AUDI#<incident> <time>#<id>,
//	                                          gsi3 AUD <time>#<id>
//	action slots   SLOT#<account>    <hour>   n, ttl (a day after the hour)
//
// PutAudit is PutIncident's conditional PutItem (attribute_not_exists for
// version 1, version = n-1 after). ReserveAction is one UpdateItem, ADD n 1
// under attribute_not_exists(n) OR n < max: concurrent responders take at
// most max slots of an account's hour between them.
const (
	prefixAudit      = "AUD#"
	prefixAuditIncid = "AUDI#"
	prefixSlot       = "SLOT#"
	skAudit          = "AUD"
	pkAudits         = "AUD"
	attrSlots        = "n"
)

var _ store.AuditLog = (*Store)(nil)

// PutAudit creates (Version 1) or updates (Version n over n-1) a record.
func (s *Store) PutAudit(ctx context.Context, r store.AuditRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkTime("audit record time", r.Time); err != nil {
		return err
	}
	r = store.CloneAudit(r)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("dynamostore: encoding audit record %s: %w", r.ID, err)
	}
	sk := timeString(r.Time) + "#" + r.ID
	it := itemKey(prefixAudit+r.ID, skAudit)
	it[attrData] = str(string(data))
	it[attrVersion] = num(int64(r.Version))
	if r.Incident != "" {
		it[AttrGSI2PK], it[AttrGSI2SK] = str(prefixAuditIncid+r.Incident), str(sk)
	}
	it[AttrGSI3PK], it[AttrGSI3SK] = str(pkAudits), str(sk)
	in := &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                it,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if r.Version == 1 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = names(AttrPK)
	} else {
		in.ConditionExpression = aws.String("#version = :prev")
		in.ExpressionAttributeNames = names(attrVersion)
		in.ExpressionAttributeValues = item{":prev": num(int64(r.Version - 1))}
	}
	_, err = s.db.PutItem(ctx, in)
	err = mapErr(ctx, "PutAudit", err)
	if cf, ok := asConditionFailed(err); ok {
		stored := "it does not exist"
		if v, err := getN(cf.old, attrVersion); err == nil {
			stored = fmt.Sprintf("it is at version %d", v)
		}
		return fmt.Errorf("audit record %s version %d: %s: %w", r.ID, r.Version, stored, err)
	}
	return err
}

// Audit returns the record with the id, or store.ErrNotFound.
func (s *Store) Audit(ctx context.Context, id string) (store.AuditRecord, error) {
	var r store.AuditRecord
	if err := s.getData(ctx, "Audit", itemKey(prefixAudit+id, skAudit), "audit record "+id, &r); err != nil {
		return store.AuditRecord{}, err
	}
	return r, nil
}

// AuditRecords queries gsi2 (an incident's records) or gsi3 (all records),
// the time range as a sort key condition.
func (s *Store) AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	index, pkName, skName, pk := IndexGSI3, AttrGSI3PK, AttrGSI3SK, pkAudits
	if q.Incident != "" {
		index, pkName, skName, pk = IndexGSI2, AttrGSI2PK, AttrGSI2SK, prefixAuditIncid+q.Incident
	}
	since, until := timeString(clampTime(q.Since)), "~"
	if !q.Until.IsZero() {
		until = timeString(clampTime(q.Until))
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :since AND :until"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName, "#sk": skName},
		ExpressionAttributeValues: item{":pk": str(pk), ":since": str(since), ":until": str(until)},
	}
	var out []store.AuditRecord
	err := s.query(ctx, "AuditRecords", in, func(it item) (bool, error) {
		var r store.AuditRecord
		if err := decode(it, &r); err != nil {
			return false, fmt.Errorf("dynamostore: audit record %s: %w", getS(it, AttrPK), err)
		}
		if q.Match(r) {
			out = append(out, r)
		}
		return q.Limit == 0 || len(out) < q.Limit, nil
	})
	return out, err
}

// ReserveAction takes a slot of the account's hour with one conditional
// UpdateItem.
func (s *Store) ReserveAction(ctx context.Context, account string, at time.Time, max int) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if account == "" {
		return false, errEmpty("account")
	}
	if max <= 0 {
		return false, nil
	}
	hour := at.UTC().Truncate(time.Hour)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       itemKey(prefixSlot+account, hourString(hour)),
		UpdateExpression:          aws.String("ADD #n :one SET #ttl = :ttl"),
		ConditionExpression:       aws.String("attribute_not_exists(#n) OR #n < :max"),
		ExpressionAttributeNames:  names(attrSlots, AttrTTL),
		ExpressionAttributeValues: item{":one": num(1), ":max": num(int64(max)), ":ttl": num(ttlSeconds(hour.Add(25 * time.Hour)))},
	})
	err = mapErr(ctx, "ReserveAction", err)
	if _, ok := asConditionFailed(err); ok {
		return false, nil
	}
	return err == nil, err
}
