package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// API is the part of the DynamoDB API a Store uses; *dynamodb.Client
// implements it. Give the client the SDK's standard retry mode (the
// default of config.LoadDefaultConfig): the Store does not retry by itself.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Option configures a Store.
type Option func(*Store)

// ConsistentReads makes reads of the table itself (GetItem, and the Query
// of Profile) strongly consistent, at twice the read cost. Index queries
// are eventually consistent whatever the option.
func ConsistentReads() Option { return func(s *Store) { s.consistent = true } }

// Store is a store.Store on a DynamoDB table of Schema's design. It is safe
// for concurrent use, by several processes too.
type Store struct {
	db         API
	table      *string
	consistent bool

	mu sync.Mutex
	// days maps each signal day this Store has marked in SIGHOURS to
	// the marker's TTL known to be stored (math.MaxInt64: none).
	days map[string]int64
}

var _ store.Store = (*Store)(nil)

// New returns a Store on the table, which must exist (see CreateTable).
func New(client API, table string, opts ...Option) *Store {
	s := &Store{db: client, table: aws.String(table), days: make(map[string]int64)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

// errEmpty reports a required key, id or name that is empty.
func errEmpty(what string) error { return fmt.Errorf("dynamostore: empty %s", what) }

// PutKey remembers the key until k.Expires, replacing any earlier record.
func (s *Store) PutKey(ctx context.Context, k identity.IssuedKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if k.AccessKeyID == "" {
		return errEmpty("access key id")
	}
	if err := checkTime("key expiry", k.Expires); err != nil {
		return err
	}
	k.Expires = k.Expires.UTC()
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("dynamostore: encoding key %s: %w", k.AccessKeyID, err)
	}
	it := itemKey(prefixKey+k.AccessKeyID, skKey)
	it[attrData] = str(string(data))
	it[attrExpires] = str(timeString(k.Expires))
	if hasTTL(k.Expires) {
		it[AttrTTL] = num(ttlSeconds(k.Expires))
	}
	it[attrResolved] = &types.AttributeValueMemberBOOL{Value: k.Origin.Resolved}
	in := &dynamodb.PutItemInput{TableName: s.table, Item: it}
	if !k.Origin.Resolved {
		// Never over a resolved record (identity.IssuedKey.Replaces as a
		// condition). Records written before the attribute existed are
		// replaced, as they were.
		in.ConditionExpression = aws.String("attribute_not_exists(#resolved) OR #resolved = :false")
		in.ExpressionAttributeNames = names(attrResolved)
		in.ExpressionAttributeValues = item{":false": &types.AttributeValueMemberBOOL{Value: false}}
	}
	_, err = s.db.PutItem(ctx, in)
	err = mapErr(ctx, "PutKey", err)
	if _, ok := asConditionFailed(err); ok {
		return nil
	}
	return err
}

// LookupKey returns the key's record, or store.ErrNotFound when it is
// unknown or expired at now.
func (s *Store) LookupKey(ctx context.Context, accessKeyID string, now time.Time) (identity.IssuedKey, error) {
	var k identity.IssuedKey
	if err := s.getData(ctx, "LookupKey", itemKey(prefixKey+accessKeyID, skKey), "key "+accessKeyID, &k); err != nil {
		return identity.IssuedKey{}, err
	}
	if !k.Expires.After(now) {
		return identity.IssuedKey{}, fmt.Errorf("key %s: %w", accessKeyID, store.ErrNotFound)
	}
	return k, nil
}

// Profile reads the identity's partition: the header and every fact.
func (s *Store) Profile(ctx context.Context, key string) (*baseline.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &baseline.Profile{Key: key, Facts: make(map[baseline.Dimension]map[string]baseline.Seen)}
	found := false
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names(AttrPK),
		ExpressionAttributeValues: item{":pk": str(prefixProfile + key)},
		ConsistentRead:            aws.Bool(s.consistent),
	}
	err := s.query(ctx, "Profile", in, func(it item) (bool, error) {
		found = true
		switch sk := getS(it, AttrSK); {
		case sk == skProfile:
			created, err := getTime(it, attrCreated)
			if err != nil {
				return false, err
			}
			if p.Events, err = getN(it, attrEvents); err != nil {
				return false, err
			}
			if p.Created.IsZero() || created.Before(p.Created) {
				p.Created = created
			}
		case strings.HasPrefix(sk, prefixFact):
			first, err := getTime(it, attrFirst)
			if err != nil {
				return false, err
			}
			last, err := getTime(it, attrLast)
			if err != nil {
				return false, err
			}
			dim := baseline.Dimension(getS(it, attrDim))
			vals := p.Facts[dim]
			if vals == nil {
				vals = make(map[string]baseline.Seen)
				p.Facts[dim] = vals
			}
			vals[getS(it, attrVal)] = baseline.Seen{First: first, Last: last, Event: getS(it, attrEvent)}
			// Created is the earliest time anything was added at.
			if p.Created.IsZero() || first.Before(p.Created) {
				p.Created = first
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("profile %s: %w", key, store.ErrNotFound)
	}
	return p, nil
}

// AddFact records the fact at time at with one UpdateItem on the fact's
// item (two when at is earlier than its first seen time), and reports
// whether the fact was new.
func (s *Store) AddFact(ctx context.Context, key string, f baseline.Fact, at time.Time, eventID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if key == "" {
		return false, errEmpty("profile key")
	}
	if err := checkTime("fact time", at); err != nil {
		return false, err
	}
	k := itemKey(prefixProfile+key, factSK(string(f.Dim), f.Value))
	t := str(timeString(at))
	// Created if absent (first = last = t), else last moved forward to t;
	// the old item, returned either way, says which.
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 k,
		UpdateExpression:                    aws.String("SET #first = if_not_exists(#first, :t), #last = :t, #dim = :dim, #val = :val, #event = if_not_exists(#event, :ev)"),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #last < :t"),
		ExpressionAttributeNames:            names(AttrPK, attrFirst, attrLast, attrDim, attrVal, attrEvent),
		ExpressionAttributeValues:           item{":t": t, ":dim": str(string(f.Dim)), ":val": str(f.Value), ":ev": str(eventID)},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	err = mapErr(ctx, "AddFact", err)
	if err == nil {
		return len(out.Attributes) == 0 || sameEvent(out.Attributes, eventID), nil
	}
	cf, ok := asConditionFailed(err)
	if !ok {
		return false, err
	}
	redelivered := sameEvent(cf.old, eventID)
	// The fact exists and was last seen at or after at: only its first
	// seen time, and event, may need to move back.
	if first, err := getTime(cf.old, attrFirst); err == nil && !detection.EarlierEvent(at, eventID, first, getS(cf.old, attrEvent)) {
		return redelivered, nil
	}
	cond, values, attrs := earlierCond(attrFirst, t, eventID)
	update := "SET #first = :t"
	if eventID != "" {
		update = "SET #first = :t, #event = :ev"
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       k,
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  attrs,
		ExpressionAttributeValues: values,
	})
	err = mapErr(ctx, "AddFact", err)
	if _, ok := asConditionFailed(err); ok {
		// A concurrent caller moved it back further.
		return redelivered, nil
	}
	return err == nil, err
}

// AddEvents adds n to the profile header's event count with one UpdateItem
// (two when at is earlier than its created time).
func (s *Store) AddEvents(ctx context.Context, key string, n int64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return errEmpty("profile key")
	}
	if err := checkTime("events time", at); err != nil {
		return err
	}
	k := itemKey(prefixProfile+key, skProfile)
	t := str(timeString(at))
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       k,
		UpdateExpression:          aws.String("ADD #events :n SET #created = if_not_exists(#created, :t)"),
		ExpressionAttributeNames:  names(attrEvents, attrCreated),
		ExpressionAttributeValues: item{":n": num(n), ":t": t},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err := mapErr(ctx, "AddEvents", err); err != nil {
		return err
	}
	if created, err := getTime(out.Attributes, attrCreated); err == nil && !created.After(at) {
		return nil
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       k,
		UpdateExpression:          aws.String("SET #created = :t"),
		ConditionExpression:       aws.String("#created > :t"),
		ExpressionAttributeNames:  names(attrCreated),
		ExpressionAttributeValues: item{":t": t},
	})
	if err = mapErr(ctx, "AddEvents", err); err != nil {
		if _, ok := asConditionFailed(err); !ok {
			return err
		}
	}
	return nil
}

// PutSignal stores the signal until expires with a PutItem under
// attribute_not_exists(pk), or an earlier time (then event id) than the
// stored signal's, and reports whether it stored it. The first
// signal of an hour (per Store) also marks the hour in SIGHOURS.
func (s *Store) PutSignal(ctx context.Context, sig detection.Signal, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if sig.ID == "" {
		return false, errEmpty("signal id")
	}
	if err := checkTime("signal time", sig.Time); err != nil {
		return false, err
	}
	if err := checkTime("signal expiry", expires); err != nil {
		return false, err
	}
	sig.Time = sig.Time.UTC()
	data, err := json.Marshal(sig)
	if err != nil {
		return false, fmt.Errorf("dynamostore: encoding signal %s: %w", sig.ID, err)
	}
	hour := hourString(sig.Time)
	if err := s.markDay(ctx, hour[:len("2006-01-02")], expires); err != nil {
		return false, err
	}
	sk := timeString(sig.Time) + "#" + sig.ID
	it := itemKey(prefixSignal+sig.ID, skSignal)
	it[attrData] = str(string(data))
	it[attrExpires] = str(timeString(expires))
	if hasTTL(expires) {
		it[AttrTTL] = num(ttlSeconds(expires))
	}
	it[AttrGSI1PK], it[AttrGSI1SK] = str(prefixHour+hour), str(sk)
	it[AttrGSI2PK], it[AttrGSI2SK] = str(prefixSigIdent+sig.Identity.Key()), str(sk)
	if len(sig.Tags) > 0 {
		it[AttrGSI3PK], it[AttrGSI3SK] = str(prefixTagged+hour), str(sk)
	}
	// The time and event id order signals of one id (detection.Signal.Before):
	// an earlier one replaces the stored one.
	it[attrAt], it[attrEvent] = str(timeString(sig.Time)), str(sig.EventID)
	cond, values, attrs := earlierCond(attrAt, it[attrAt], sig.EventID)
	attrs["#pk"] = AttrPK
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      it,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR " + cond),
		ExpressionAttributeNames:  attrs,
		ExpressionAttributeValues: values,
	})
	err = mapErr(ctx, "PutSignal", err)
	if _, ok := asConditionFailed(err); ok {
		return false, nil
	}
	return err == nil, err
}

// markDay makes sure the SIGHOURS partition lists the day (a UTC date), so
// that open-ended signal queries find its hours, with a TTL no earlier than
// expires rounded up to a whole UTC day: the signals of one day, kept for a
// fixed retention, expire within a day of each other, so a Store writes
// about once per day that has signals. (Stores before this one marked
// hours; signalHours reads both.)
func (s *Store) markDay(ctx context.Context, day string, expires time.Time) error {
	want := int64(math.MaxInt64)
	if hasTTL(expires) {
		const secondsPerDay = 24 * 60 * 60
		want = (ttlSeconds(expires) + secondsPerDay - 1) / secondsPerDay * secondsPerDay
	}
	s.mu.Lock()
	have, ok := s.days[day]
	s.mu.Unlock()
	if ok && have >= want {
		return nil
	}
	var err error
	if want == math.MaxInt64 {
		// A signal that never expires: the marker must not either.
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: itemKey(pkSignalHours, day)})
	} else {
		// Raise the marker's TTL to want; an existing marker without a
		// TTL, or with a later one, stays as it is.
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 s.table,
			Key:                       itemKey(pkSignalHours, day),
			UpdateExpression:          aws.String("SET #ttl = :ttl"),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #ttl < :ttl"),
			ExpressionAttributeNames:  names(AttrPK, AttrTTL),
			ExpressionAttributeValues: item{":ttl": num(want)},
		})
	}
	if err = mapErr(ctx, "PutSignal (marking the day)", err); err != nil {
		if _, ok := asConditionFailed(err); !ok {
			return err
		}
	}
	s.mu.Lock()
	s.days[day] = max(s.days[day], want)
	s.mu.Unlock()
	return nil
}

// directHours is the longest Since–Until range, in hours, that Signals
// walks hour by hour without reading SIGHOURS first.
const directHours = 24

// Signals returns the signals matching q, ordered by time then id, from
// gsi2 (an identity) or gsi1/gsi3 (hour by hour).
func (s *Store) Signals(ctx context.Context, q store.SignalQuery) ([]detection.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, nil
	}
	var out []detection.Signal
	collect := func(it item) (bool, error) {
		var sig detection.Signal
		if err := decode(it, &sig); err != nil {
			return false, fmt.Errorf("dynamostore: signal %s: %w", getS(it, AttrPK), err)
		}
		expires, err := getTime(it, attrExpires)
		if err != nil {
			return false, fmt.Errorf("dynamostore: signal %s: %w", sig.ID, err)
		}
		if q.Match(sig, expires) {
			out = append(out, sig)
		}
		return q.Limit == 0 || len(out) < q.Limit, nil
	}
	if q.Identity != "" {
		err := s.query(ctx, "Signals", signalQuery(s.table, q, IndexGSI2, prefixSigIdent+q.Identity), collect)
		return out, err
	}
	hours, err := s.signalHours(ctx, q)
	if err != nil {
		return nil, err
	}
	index, prefix := IndexGSI1, prefixHour
	if q.Tagged {
		index, prefix = IndexGSI3, prefixTagged
	}
	for _, h := range hours {
		if err := s.query(ctx, "Signals", signalQuery(s.table, q, index, prefix+h), collect); err != nil {
			return nil, err
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// signalQuery returns the Query of q over one partition of an index: the
// range of the sort key "<time>#<id>", which is at or after "<since>" when
// the time is and before "<until>" when the time is, and filters on expiry
// and (over gsi2) on tags.
func signalQuery(table *string, q store.SignalQuery, index, pk string) *dynamodb.QueryInput {
	pkName, skName := indexKeys(index)
	in := &dynamodb.QueryInput{
		TableName:                 table,
		IndexName:                 aws.String(index),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: item{":pk": str(pk)},
	}
	cond := "#pk = :pk"
	if !q.Since.IsZero() || !q.Until.IsZero() {
		in.ExpressionAttributeNames["#sk"] = skName
	}
	switch {
	case !q.Since.IsZero() && !q.Until.IsZero():
		cond += " AND #sk BETWEEN :since AND :until"
	case !q.Since.IsZero():
		cond += " AND #sk >= :since"
	case !q.Until.IsZero():
		cond += " AND #sk < :until"
	}
	in.KeyConditionExpression = aws.String(cond)
	if !q.Since.IsZero() {
		in.ExpressionAttributeValues[":since"] = str(timeString(clampTime(q.Since)))
	}
	if !q.Until.IsZero() {
		in.ExpressionAttributeValues[":until"] = str(timeString(clampTime(q.Until)))
	}
	var filters []string
	if !q.Now.IsZero() {
		filters = append(filters, "#expires > :now")
		in.ExpressionAttributeNames["#expires"] = attrExpires
		in.ExpressionAttributeValues[":now"] = str(timeString(clampTime(q.Now)))
	}
	if q.Tagged && index == IndexGSI2 {
		filters = append(filters, "attribute_exists(#tagged)")
		in.ExpressionAttributeNames["#tagged"] = AttrGSI3PK
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	} else if q.Limit > 0 {
		// Without filters, a page of Limit items is all it takes.
		in.Limit = aws.Int32(int32(min(q.Limit, 1000)))
	}
	return in
}

// indexKeys returns the key attributes of an index.
func indexKeys(index string) (pk, sk string) {
	switch index {
	case IndexGSI2:
		return AttrGSI2PK, AttrGSI2SK
	case IndexGSI3:
		return AttrGSI3PK, AttrGSI3SK
	}
	return AttrGSI1PK, AttrGSI1SK
}

// signalHours returns the hours, in order, that may hold signals of q's
// time range: every hour of a range up to directHours long, else the hours
// SIGHOURS lists.
func (s *Store) signalHours(ctx context.Context, q store.SignalQuery) ([]string, error) {
	var first, last time.Time
	if !q.Since.IsZero() {
		first = clampTime(q.Since).UTC().Truncate(time.Hour)
	}
	if !q.Until.IsZero() {
		last = clampTime(q.Until.Add(-time.Nanosecond)).UTC().Truncate(time.Hour)
	}
	if !first.IsZero() && !last.IsZero() && last.Sub(first) < directHours*time.Hour {
		var hours []string
		for h := first; !h.After(last); h = h.Add(time.Hour) {
			hours = append(hours, hourString(h))
		}
		return hours, nil
	}
	keyCond := "#pk = :pk"
	values := item{":pk": str(pkSignalHours)}
	switch {
	case !first.IsZero() && !last.IsZero():
		keyCond += " AND #sk BETWEEN :first AND :last"
	case !first.IsZero():
		keyCond += " AND #sk >= :first"
	case !last.IsZero():
		keyCond += " AND #sk <= :last"
	}
	// Day markers sort before their day's hours ("2006-01-02" <
	// "2006-01-02T00"): from the first day, to the last day's last hour.
	if !first.IsZero() {
		values[":first"] = str(first.Format(time.DateOnly))
	}
	if !last.IsZero() {
		values[":last"] = str(hourString(last))
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    aws.String(keyCond),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: values,
		ConsistentRead:            aws.Bool(s.consistent),
		ProjectionExpression:      aws.String("#sk"),
	}
	var hours []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hours = append(hours, h)
		}
	}
	err := s.query(ctx, "Signals (listing days)", in, func(it item) (bool, error) {
		marker := getS(it, AttrSK)
		if len(marker) == len(hourLayout) {
			add(marker) // an hour marked by an older Store
			return true, nil
		}
		day, err := time.Parse(time.DateOnly, marker)
		if err != nil {
			return false, fmt.Errorf("dynamostore: signal day marker %q: %w", marker, err)
		}
		for h := day; h.Before(day.Add(24 * time.Hour)); h = h.Add(time.Hour) {
			if (first.IsZero() || !h.Before(first)) && (last.IsZero() || !h.After(last)) {
				add(hourString(h))
			}
		}
		return true, nil
	})
	slices.Sort(hours)
	return hours, err
}

// Watermark returns the named watermark, the zero time when unset.
func (s *Store) Watermark(ctx context.Context, name string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	it, err := s.get(ctx, "Watermark", itemKey(prefixWatermark+name, skWatermark))
	if err != nil || it == nil {
		return time.Time{}, err
	}
	t, err := getTime(it, attrAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("dynamostore: watermark %s: %w", name, err)
	}
	return t, nil
}

// AdvanceWatermark moves the named watermark forward to t with an
// UpdateItem under attribute_not_exists(pk) OR at < t, and reports false,
// changing nothing, when it is already at or past t.
func (s *Store) AdvanceWatermark(ctx context.Context, name string, t time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if name == "" {
		return false, errEmpty("watermark name")
	}
	if !t.After(time.Time{}) {
		return false, nil // an unset watermark is the zero time already
	}
	if err := checkTime("watermark", t); err != nil {
		return false, err
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       itemKey(prefixWatermark+name, skWatermark),
		UpdateExpression:          aws.String("SET #at = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #at < :t"),
		ExpressionAttributeNames:  names(AttrPK, attrAt),
		ExpressionAttributeValues: item{":t": str(timeString(t))},
	})
	err = mapErr(ctx, "AdvanceWatermark", err)
	if _, ok := asConditionFailed(err); ok {
		return false, nil
	}
	return err == nil, err
}

// PutIncident creates (version 1, under attribute_not_exists(pk)) or
// updates (version n, under version = n-1) the incident with one PutItem.
// A failed condition is store.ErrConflict.
func (s *Store) PutIncident(ctx context.Context, inc incident.Incident) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if inc.ID == "" {
		return errEmpty("incident id")
	}
	if inc.Version < 1 {
		return fmt.Errorf("dynamostore: incident %s: version %d, want 1 or more", inc.ID, inc.Version)
	}
	for _, t := range []time.Time{inc.FirstSeen, inc.LastSeen, inc.Updated} {
		if err := checkTime("incident time", t); err != nil {
			return err
		}
	}
	inc.FirstSeen, inc.LastSeen, inc.Updated = inc.FirstSeen.UTC(), inc.LastSeen.UTC(), inc.Updated.UTC()
	if inc.Signals != nil {
		inc.Signals = slices.Clone(inc.Signals) // not the caller's array
		for i := range inc.Signals {
			inc.Signals[i].Time = inc.Signals[i].Time.UTC()
		}
	}
	data, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("dynamostore: encoding incident %s: %w", inc.ID, err)
	}
	sk := timeString(inc.FirstSeen) + "#" + inc.ID
	it := itemKey(prefixIncident+inc.ID, skIncident)
	it[attrData] = str(string(data))
	it[attrVersion] = num(int64(inc.Version))
	it[attrPolicy] = str(inc.Policy)
	it[attrIdentity] = str(inc.Identity.Key)
	it[attrLastSeen] = str(timeString(inc.LastSeen))
	it[attrPublished] = num(0)
	it[AttrGSI1PK], it[AttrGSI1SK] = str(prefixIncPolicy+inc.Policy), str(sk)
	it[AttrGSI2PK], it[AttrGSI2SK] = str(prefixIncIdent+inc.Identity.Key), str(sk)
	it[AttrGSI3PK], it[AttrGSI3SK] = str(pkIncidents), str(sk)
	in := &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                it,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if inc.Version == 1 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = names(AttrPK)
	} else {
		in.ConditionExpression = aws.String("#version = :prev")
		in.ExpressionAttributeNames = names(attrVersion)
		in.ExpressionAttributeValues = item{":prev": num(int64(inc.Version - 1))}
	}
	_, err = s.db.PutItem(ctx, in)
	err = mapErr(ctx, "PutIncident", err)
	if cf, ok := asConditionFailed(err); ok {
		stored := "it does not exist"
		if v, err := getN(cf.old, attrVersion); err == nil {
			stored = fmt.Sprintf("it is at version %d", v)
		}
		return fmt.Errorf("incident %s version %d: %s: %w", inc.ID, inc.Version, stored, err)
	}
	return err
}

// Incident returns the incident with the id, or store.ErrNotFound.
func (s *Store) Incident(ctx context.Context, id string) (incident.Incident, error) {
	var inc incident.Incident
	if err := s.getData(ctx, "Incident", itemKey(prefixIncident+id, skIncident), "incident "+id, &inc); err != nil {
		return incident.Incident{}, err
	}
	return inc, nil
}

// getData reads one item and decodes its JSON into v, or returns
// store.ErrNotFound naming what when there is none.
func (s *Store) getData(ctx context.Context, op string, key item, what string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	it, err := s.get(ctx, op, key)
	if err != nil {
		return err
	}
	if it == nil {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err := decode(it, v); err != nil {
		return fmt.Errorf("dynamostore: %s: %w", what, err)
	}
	return nil
}

// Incidents returns the incidents matching q, ordered by first seen then
// id, from gsi2 (an identity), gsi1 (a policy) or gsi3 (all incidents).
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	index, pkName, pk := IndexGSI3, AttrGSI3PK, pkIncidents
	switch {
	case q.Identity != "":
		index, pkName, pk = IndexGSI2, AttrGSI2PK, prefixIncIdent+q.Identity
	case q.Policy != "":
		index, pkName, pk = IndexGSI1, AttrGSI1PK, prefixIncPolicy+q.Policy
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: item{":pk": str(pk)},
	}
	var filters []string
	if q.Identity != "" && q.Policy != "" {
		filters = append(filters, "#policy = :policy")
		in.ExpressionAttributeNames["#policy"] = attrPolicy
		in.ExpressionAttributeValues[":policy"] = str(q.Policy)
	}
	if !q.LastSeenSince.IsZero() {
		filters = append(filters, "#lastSeen >= :since")
		in.ExpressionAttributeNames["#lastSeen"] = attrLastSeen
		in.ExpressionAttributeValues[":since"] = str(timeString(clampTime(q.LastSeenSince)))
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	} else if q.Limit > 0 {
		in.Limit = aws.Int32(int32(min(q.Limit, 1000)))
	}
	var out []incident.Incident
	err := s.query(ctx, "Incidents", in, func(it item) (bool, error) {
		var inc incident.Incident
		if err := decode(it, &inc); err != nil {
			return false, fmt.Errorf("dynamostore: incident %s: %w", getS(it, AttrPK), err)
		}
		if q.Match(inc) {
			out = append(out, inc)
		}
		return q.Limit == 0 || len(out) < q.Limit, nil
	})
	return out, err
}

// get reads one item of the table; it returns nil when there is none.
func (s *Store) get(ctx context.Context, op string, k item) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: k, ConsistentRead: aws.Bool(s.consistent)})
	if err := mapErr(ctx, op, err); err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// query runs a paginated Query, calling fn for each item in order until
// it returns false or an error.
func (s *Store) query(ctx context.Context, op string, in *dynamodb.QueryInput, fn func(item) (bool, error)) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err := mapErr(ctx, op, err); err != nil {
			return err
		}
		for _, it := range page.Items {
			more, err := fn(it)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// decode unmarshals an item's data attribute into v.
func decode(it item, v any) error {
	data, ok := it[attrData].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("no %s attribute", attrData)
	}
	return json.Unmarshal([]byte(data.Value), v)
}

// earlierCond is the condition that the event (t, eventID) comes before
// the one an item records in timeAttr and attrEvent: detection.EarlierEvent
// as a condition expression, using :t and :ev.
func earlierCond(timeAttr string, t types.AttributeValue, eventID string) (string, item, map[string]string) {
	n := "#" + timeAttr
	if eventID == "" {
		return n + " > :t", item{":t": t}, names(timeAttr)
	}
	return n + " > :t OR (" + n + " = :t AND #event > :ev)", item{":t": t, ":ev": str(eventID)}, names(timeAttr, attrEvent)
}

// sameEvent reports whether a fact item was first recorded by eventID.
func sameEvent(old item, eventID string) bool {
	return eventID != "" && getS(old, attrEvent) == eventID
}
