package dynamostore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// item is a DynamoDB item or key.
type item = map[string]types.AttributeValue

// Item prefixes and constant sort keys (see the package comment).
const (
	prefixKey       = "KEY#"
	prefixProfile   = "PROF#"
	prefixFact      = "FACT#"
	prefixSignal    = "SIG#"
	prefixHour      = "SIGH#"
	prefixTagged    = "SIGT#"
	prefixSigIdent  = "SIGI#"
	prefixWatermark = "WM#"
	prefixIncident  = "INC#"
	prefixIncPolicy = "INCP#"
	prefixIncIdent  = "INCI#"

	skKey       = "KEY"
	skProfile   = "PROFILE"
	skSignal    = "SIG"
	skWatermark = "WM"
	skIncident  = "INC"

	pkSignalHours = "SIGHOURS"
	pkIncidents   = "INC"
)

// Names of the attributes that are not keys.
const (
	attrData     = "data"     // the value as JSON
	attrExpires  = "expires"  // expiry, as a time string
	attrDim      = "dim"      // a fact's dimension
	attrVal      = "val"      // a fact's value
	attrFirst    = "first"    // a fact's first seen time
	attrLast     = "last"     // a fact's last seen time
	attrEvent    = "event"    // the id of the event that first recorded a fact, or that a signal stands for
	attrCreated  = "created"  // the earliest AddEvents time of a profile
	attrEvents   = "events"   // a profile's event count
	attrAt       = "at"       // a watermark's time; a signal's event time
	attrVersion  = "version"  // an incident's version
	attrPolicy   = "policy"   // an incident's policy
	attrIdentity = "identity" // an incident's identity key
	attrLastSeen = "lastSeen" // an incident's last seen time
	attrResolved = "resolved" // whether an issued key's origin is resolved
)

// timeLayout formats times as fixed-width UTC strings, which sort as the
// times do for years 1 to 9999.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// hourLayout formats the hour bucket of a time.
const hourLayout = "2006-01-02T15"

// Bounds of the times a store can keep.
var (
	minTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, time.December, 31, 23, 59, 59, 999999999, time.UTC)
)

// checkTime rejects a time a fixed-width string cannot hold.
func checkTime(what string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("dynamostore: %s %v is outside years 1 to 9999", what, t)
	}
	return nil
}

// clampTime brings a query bound within the times a store can keep.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}

// timeString returns t as a sortable string.
func timeString(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime parses a string of timeString.
func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// hourString returns the hour bucket of t.
func hourString(t time.Time) string { return t.UTC().Format(hourLayout) }

// ttlSeconds returns the TTL attribute value for a time: epoch seconds,
// rounded up so that DynamoDB never deletes an item before it expires.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// hasTTL reports whether an expiry gets a TTL attribute: DynamoDB ignores
// times before 1970 (and deletes nothing when the attribute is absent).
func hasTTL(t time.Time) bool { return t.Unix() > 0 }

// maxSortKey is how long a fact's sort key may grow before its value is
// replaced by a hash (DynamoDB allows 1,024 bytes).
const maxSortKey = 900

// factSK returns the sort key of a fact item.
func factSK(dim, value string) string {
	sk := prefixFact + dim + "#" + value
	if len(sk) <= maxSortKey {
		return sk
	}
	h := sha256.Sum256([]byte(value))
	return prefixFact + dim + "#~sha256:" + hex.EncodeToString(h[:])
}

// str returns a string attribute value.
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// num returns a number attribute value.
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// itemKey returns a table key.
func itemKey(pk, sk string) item { return item{AttrPK: str(pk), AttrSK: str(sk)} }

// getS returns a string attribute, "" when it is absent or not a string.
func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// getN returns a number attribute as an int64.
func getN(it item, name string) (int64, error) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s is not a number", name)
	}
	return strconv.ParseInt(v.Value, 10, 64)
}

// getTime returns a time attribute.
func getTime(it item, name string) (time.Time, error) {
	v, ok := it[name].(*types.AttributeValueMemberS)
	if !ok {
		return time.Time{}, fmt.Errorf("attribute %s is not a string", name)
	}
	t, err := parseTime(v.Value)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %w", name, err)
	}
	return t, nil
}

// names returns expression attribute names: "#x" for each x.
func names(attrs ...string) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m["#"+a] = a
	}
	return m
}
