package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxRecordBytes is the default limit on the size of one record (or one
// element of a stream). Decode rejects larger input with reason "too large";
// a Reader skips larger elements without buffering them (see
// Reader.MaxRecordBytes).
const MaxRecordBytes = 4 << 20

// EventBridge detail-types that carry a CloudTrail record in "detail".
const (
	DetailTypeAPICall      = "AWS API Call via CloudTrail"
	DetailTypeConsoleLogin = "AWS Console Sign In via CloudTrail"
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
)

// wireRecord is what is read from the JSON: the record fields of Event with
// the ones that need checking or that differ between a record and an
// EventBridge envelope kept loose, plus the envelope's own keys.
type wireRecord struct {
	EventVersion                 string          `json:"eventVersion"`
	EventID                      string          `json:"eventID"`
	EventTime                    string          `json:"eventTime"`
	Timestamp                    string          `json:"@timestamp"`
	EventSource                  string          `json:"eventSource"`
	EventName                    string          `json:"eventName"`
	EventType                    string          `json:"eventType"`
	EventCategory                string          `json:"eventCategory"`
	AWSRegion                    string          `json:"awsRegion"`
	SourceIPAddress              string          `json:"sourceIPAddress"`
	UserAgent                    string          `json:"userAgent"`
	UserIdentity                 *UserIdentity   `json:"userIdentity"`
	RequestParameters            json.RawMessage `json:"requestParameters"`
	ResponseElements             json.RawMessage `json:"responseElements"`
	AdditionalEventData          json.RawMessage `json:"additionalEventData"`
	ServiceEventDetails          json.RawMessage `json:"serviceEventDetails"`
	ErrorCode                    string          `json:"errorCode"`
	ErrorMessage                 string          `json:"errorMessage"`
	RequestID                    string          `json:"requestID"`
	ReadOnly                     *bool           `json:"readOnly"`
	ManagementEvent              *bool           `json:"managementEvent"`
	RecipientAccountID           string          `json:"recipientAccountId"`
	SharedEventID                string          `json:"sharedEventID"`
	VPCEndpointID                string          `json:"vpcEndpointId"`
	SessionCredentialFromConsole string          `json:"sessionCredentialFromConsole"`

	// Resources is an array of objects in a record and an array of ARN
	// strings in an EventBridge envelope, so it is decoded in a second step.
	Resources json.RawMessage `json:"resources"`

	// EventBridge envelope keys.
	DetailType json.RawMessage `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`

	// Records is the key of the S3 export wrapper, which is not a record.
	Records json.RawMessage `json:"Records"`

	// resources are the decoded resources when resourcesDone is set (the
	// fast path decodes them on its way).
	resources     []Resource
	resourcesDone bool
}

// backend is the JSON library behind Decode. aliases reports that decoded
// strings may point into the input, in which case Decode hands it a private
// copy of the record.
type backend struct {
	name      string
	unmarshal func(data []byte, v any) error
	aliases   bool
}

// Decode decodes one CloudTrail record, or one EventBridge envelope whose
// detail-type is one of the DetailType constants, into an Event.
//
// Decode is strict about what the pipeline relies on: the record must have a
// userIdentity, an eventSource, an eventName and a usable time (eventTime in
// RFC 3339 form, with or without fractional seconds, or in the form
// "2006-01-02 15:04:05.999999999" read as UTC, or else a Logstash
// "@timestamp"), and an eventVersion, when present, must have major version 1.
// A record without eventID gets a stable one made from a hash of its bytes,
// prefixed "th-". EventTime is in UTC. A JSON null in a raw field
// (requestParameters and the like) is returned as a nil RawMessage. Fields of
// an unexpected JSON type that Trailhound does not require are converted when
// the conversion is obvious (true and "true") and dropped otherwise.
//
// Every error Decode returns is a *RecordError and matches ErrMalformed.
// The returned Event shares no memory with raw, which the caller may reuse.
func Decode(raw []byte) (Event, error) {
	if len(raw) > MaxRecordBytes {
		return Event{}, recordErr(ReasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(raw), MaxRecordBytes))
	}
	if data := trimSpace(raw); len(data) > 0 && data[0] == '{' {
		var ev Event
		if n, ok := fastDecode(data, MaxRecordBytes, &ev, nil); ok && n == len(data) {
			return ev, nil
		}
	}
	return decode(decoder, raw)
}

// decode decodes raw with the JSON library be.
func decode(be backend, raw []byte) (ev Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			ev, err = Event{}, recordErr(ReasonDecoderPanic, fmt.Errorf("%v", p))
		}
	}()
	if firstByte(raw) != '{' {
		return Event{}, notObject(raw)
	}
	if tooDeep(raw) {
		return Event{}, recordErr(ReasonTooDeep, fmt.Errorf("nested more than %d levels", maxDepth))
	}
	if be.aliases {
		// Decoded raw fields point into the record: give them a copy that
		// nothing else holds or changes.
		raw = bytes.Clone(raw)
	}
	var w wireRecord
	if err := be.unmarshal(raw, &w); err != nil {
		if err := decodeLenient(raw, &w); err != nil {
			return Event{}, err
		}
	}
	if w.DetailType != nil {
		return decodeEnvelope(&w, be)
	}
	err = finish(&w, raw, be, &ev)
	return ev, err
}

// decodeEnvelope checks an EventBridge envelope and decodes its detail.
func decodeEnvelope(env *wireRecord, be backend) (Event, error) {
	dt := jsonString(env.DetailType)
	switch dt {
	case DetailTypeAPICall, DetailTypeConsoleLogin, DetailTypeServiceEvent:
	default:
		if len(dt) > 64 {
			dt = dt[:64] + "..."
		}
		return Event{}, recordErr(ReasonNotEnvelope, fmt.Errorf("detail-type %q", dt))
	}
	detail := env.Detail
	if firstByte(detail) != '{' {
		return Event{}, recordErr(ReasonWrongShape, errors.New("envelope detail is not an object"))
	}
	// The detail is a slice of the envelope buffer or a fresh copy of it, so
	// it can be aliased exactly when the envelope could.
	var w wireRecord
	if err := be.unmarshal(detail, &w); err != nil {
		if err := decodeLenient(detail, &w); err != nil {
			return Event{}, err
		}
	}
	if w.DetailType != nil {
		return Event{}, recordErr(ReasonWrongShape, errors.New("envelope inside an envelope"))
	}
	var ev Event
	err := finish(&w, detail, be, &ev)
	return ev, err
}

// finish checks a decoded record and converts it into an Event. raw is the
// record's own bytes, used for a synthesised eventID.
func finish(w *wireRecord, raw []byte, be backend, ev *Event) error {
	if w.Records != nil {
		return recordErr(ReasonWrongShape, errors.New(`a "Records" wrapper, not a record`))
	}
	if !supportedVersion(w.EventVersion) {
		v := w.EventVersion
		if len(v) > 32 {
			v = v[:32] + "..."
		}
		return recordErr(ReasonUnsupportedVersion, fmt.Errorf("eventVersion %q", v))
	}
	t, ok := parseTime(w.EventTime)
	if !ok {
		t, ok = parseTime(w.Timestamp)
		if !ok {
			if w.EventTime == "" {
				return recordErr(ReasonMissingTime, nil)
			}
			v := w.EventTime
			if len(v) > 40 {
				v = v[:40] + "..."
			}
			return recordErr(ReasonMissingTime, fmt.Errorf("unusable eventTime %q", v))
		}
	}
	if w.UserIdentity == nil {
		return recordErr(ReasonMissingIdentity, nil)
	}
	if w.EventSource == "" {
		return recordErr(ReasonMissingSource, nil)
	}
	if w.EventName == "" {
		return recordErr(ReasonMissingName, nil)
	}
	resources := w.resources
	if !w.resourcesDone && len(w.Resources) > 0 && !isNull(w.Resources) {
		resources = decodeResources(be, w.Resources, resources)
	}
	id := w.EventID
	if id == "" {
		sum := sha256.Sum256(raw)
		id = "th-" + hex.EncodeToString(sum[:16])
	}
	// Field by field: a composite literal stored through ev would be built
	// in a temporary and copied.
	ev.EventVersion = w.EventVersion
	ev.EventID = id
	ev.EventTime = t
	ev.EventSource = w.EventSource
	ev.EventName = w.EventName
	ev.EventType = w.EventType
	ev.EventCategory = w.EventCategory
	ev.AWSRegion = w.AWSRegion
	ev.SourceIPAddress = w.SourceIPAddress
	ev.UserAgent = w.UserAgent
	ev.UserIdentity = *w.UserIdentity
	ev.RequestParameters = nilIfNull(w.RequestParameters)
	ev.ResponseElements = nilIfNull(w.ResponseElements)
	ev.AdditionalEventData = nilIfNull(w.AdditionalEventData)
	ev.ServiceEventDetails = nilIfNull(w.ServiceEventDetails)
	ev.ErrorCode = w.ErrorCode
	ev.ErrorMessage = w.ErrorMessage
	ev.RequestID = w.RequestID
	ev.ReadOnly = w.ReadOnly
	ev.ManagementEvent = w.ManagementEvent
	ev.RecipientAccountID = w.RecipientAccountID
	ev.SharedEventID = w.SharedEventID
	ev.VPCEndpointID = w.VPCEndpointID
	ev.Resources = resources
	ev.SessionCredentialFromConsole = w.SessionCredentialFromConsole
	return nil
}

// decodeResources decodes a record's resources into rs. It is a function
// of its own because the library's pointer to rs moves rs to the heap:
// inline in finish, that cost an allocation for every event, resources or
// not.
func decodeResources(be backend, raw json.RawMessage, rs []Resource) []Resource {
	if err := be.unmarshal(raw, &rs); err != nil {
		return lenientResources(raw)
	}
	return rs
}

// supportedVersion accepts a missing eventVersion and major version 1.
func supportedVersion(v string) bool {
	if v == "" {
		return true
	}
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	return v == "1"
}

// parseTime reads the time formats seen in CloudTrail records and exports:
// RFC 3339 with or without fractional seconds (also with a space instead of
// the "T", which RFC 3339 allows), and the same without a zone, read as UTC.
// The zero time is not a usable event time.
func parseTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, false
	}
	if t, ok := parseTimeZ(s); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		switch s[10] {
		case ' ':
			if t, err = time.Parse("2006-01-02 15:04:05.999999999Z07:00", s); err != nil {
				t, err = time.Parse("2006-01-02 15:04:05.999999999", s)
			}
		case 'T':
			t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		}
	}
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseTimeZ reads the form CloudTrail writes, "2006-01-02T15:04:05Z",
// without time.Parse's generality; it accepts exactly what time.Parse
// accepts of that form, and leaves anything else to it.
func parseTimeZ(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day || t.IsZero() {
		// Day out of range for the month (time.Parse rejects it), or the
		// zero time.
		return time.Time{}, false
	}
	return t, true
}

// maxDepth is the deepest nesting of arrays and objects Decode accepts, the
// same limit as encoding/json's.
const maxDepth = 10000

// tooDeep reports whether raw nests arrays and objects more than maxDepth
// levels deep. Input with few brackets in total is cleared without a scan.
func tooDeep(raw []byte) bool {
	if bytes.Count(raw, []byte{'{'})+bytes.Count(raw, []byte{'['}) <= maxDepth {
		return false
	}
	depth, inStr, esc := 0, false, false
	for _, c := range raw {
		switch {
		case esc:
			esc = false
		case inStr:
			if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// trimSpace returns b without JSON whitespace around it.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// firstByte returns the first non-whitespace byte of b, or 0.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// notObject explains why input that does not start with '{' is rejected.
func notObject(raw []byte) error {
	if json.Valid(raw) {
		return recordErr(ReasonWrongShape, fmt.Errorf("a JSON %s, not an object", jsonKind(firstByte(raw))))
	}
	var v any
	err := json.Unmarshal(raw, &v)
	if err == nil {
		err = errors.New("invalid JSON")
	}
	return recordErr(ReasonNotJSON, err)
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func isNull(b []byte) bool {
	return len(b) == 4 && string(b) == "null"
}

func nilIfNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || isNull(b) {
		return nil
	}
	return b
}

// jsonString returns the string value of a raw JSON string, or its raw text
// when it is not a string.
func jsonString(b json.RawMessage) string {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1])
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return string(b)
	}
	return s
}
