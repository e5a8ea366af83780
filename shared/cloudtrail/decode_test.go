package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// deleteField removes a field in record's overrides.
type deleteField struct{}

var del deleteField

// baseRecord is a real record (Stratus iam-backdoor-user, trimmed) used as
// the starting point of the table tests.
func baseRecord() map[string]any {
	return map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type":        "IAMUser",
			"principalId": "AIDA24ORLF3BXUEV53OS",
			"arn":         "arn:aws:iam::946986569305:user/christophe",
			"accountId":   "946986569305",
			"accessKeyId": "AKIAZ8N5U0VMNJW4S0JI",
			"userName":    "christophe",
		},
		"eventTime":          "2024-07-30T21:43:07Z",
		"eventSource":        "iam.amazonaws.com",
		"eventName":          "CreateAccessKey",
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    "195.253.97.130",
		"userAgent":          "stratus-red-team_3d3b8c33",
		"requestParameters":  map[string]any{"userName": "stratus-red-team-backdoor-user"},
		"responseElements":   nil,
		"requestID":          "d9b0f8b2-4a3e-4f0c-9d15-1a3b5c7d9e0f",
		"eventID":            "3f6b6c2e-9a1d-4d2f-8f3e-7c6b5a4d3e2f",
		"readOnly":           false,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": "946986569305",
		"eventCategory":      "Management",
	}
}

// record returns baseRecord with overrides applied, as JSON.
func record(t *testing.T, overrides map[string]any) []byte {
	t.Helper()
	m := baseRecord()
	for k, v := range overrides {
		if _, ok := v.(deleteField); ok {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func baseEvent() Event {
	f, tr := false, true
	return Event{
		EventVersion:    "1.09",
		EventID:         "3f6b6c2e-9a1d-4d2f-8f3e-7c6b5a4d3e2f",
		EventTime:       time.Date(2024, 7, 30, 21, 43, 7, 0, time.UTC),
		EventSource:     "iam.amazonaws.com",
		EventName:       "CreateAccessKey",
		EventType:       "AwsApiCall",
		EventCategory:   "Management",
		AWSRegion:       "us-east-1",
		SourceIPAddress: "195.253.97.130",
		UserAgent:       "stratus-red-team_3d3b8c33",
		UserIdentity: UserIdentity{
			Type:        "IAMUser",
			PrincipalID: "AIDA24ORLF3BXUEV53OS",
			ARN:         "arn:aws:iam::946986569305:user/christophe",
			AccountID:   "946986569305",
			AccessKeyID: "AKIAZ8N5U0VMNJW4S0JI",
			UserName:    "christophe",
		},
		RequestParameters:  json.RawMessage(`{"userName":"stratus-red-team-backdoor-user"}`),
		RequestID:          "d9b0f8b2-4a3e-4f0c-9d15-1a3b5c7d9e0f",
		ReadOnly:           &f,
		ManagementEvent:    &tr,
		RecipientAccountID: "946986569305",
	}
}

func TestDecode(t *testing.T) {
	tr := true
	tests := []struct {
		name      string
		overrides map[string]any
		want      func(*Event)
	}{
		{"real record", nil, func(*Event) {}},
		{"fractional seconds", map[string]any{"eventTime": "2024-07-30T21:43:07.123456Z"},
			func(e *Event) { e.EventTime = e.EventTime.Add(123456 * time.Microsecond) }},
		{"zone offset becomes UTC", map[string]any{"eventTime": "2024-07-30T23:43:07+02:00"}, func(*Event) {}},
		{"space separated, nanoseconds, no zone", map[string]any{"eventTime": "2024-07-30 21:43:07.000000000"}, func(*Event) {}},
		{"space separated, no fraction", map[string]any{"eventTime": "2024-07-30 21:43:07"}, func(*Event) {}},
		{"space separated with Z", map[string]any{"eventTime": "2024-07-30 21:43:07Z"}, func(*Event) {}},
		{"no zone", map[string]any{"eventTime": "2024-07-30T21:43:07.000"}, func(*Event) {}},
		{"@timestamp when eventTime is missing", map[string]any{"eventTime": del, "@timestamp": "2024-07-30T21:43:07.000Z"}, func(*Event) {}},
		{"@timestamp when eventTime is redacted", map[string]any{"eventTime": "redacted", "@timestamp": "2024-07-30T21:43:07.000Z"}, func(*Event) {}},
		{"eventTime wins over @timestamp", map[string]any{"@timestamp": "2020-01-01T00:00:00Z"}, func(*Event) {}},
		{"missing eventVersion", map[string]any{"eventVersion": del}, func(e *Event) { e.EventVersion = "" }},
		{"eventVersion 1", map[string]any{"eventVersion": "1"}, func(e *Event) { e.EventVersion = "1" }},
		{"eventVersion 1.11", map[string]any{"eventVersion": "1.11"}, func(e *Event) { e.EventVersion = "1.11" }},
		{"null requestParameters", map[string]any{"requestParameters": nil}, func(e *Event) { e.RequestParameters = nil }},
		{"readOnly as a string", map[string]any{"readOnly": "true"}, func(e *Event) { e.ReadOnly = &tr }},
		{"sessionCredentialFromConsole as a boolean", map[string]any{"sessionCredentialFromConsole": true},
			func(e *Event) { e.SessionCredentialFromConsole = "true" }},
		{"accountId as a number", map[string]any{"recipientAccountId": 946986569305}, func(*Event) {}},
		{"unconvertible optional field is dropped", map[string]any{"userAgent": map[string]any{"x": 1}},
			func(e *Event) { e.UserAgent = "" }},
		{"resources", map[string]any{"resources": []any{map[string]any{"ARN": "arn:aws:iam::946986569305:user/x", "accountId": "946986569305", "type": "AWS::IAM::User"}}},
			func(e *Event) {
				e.Resources = []Resource{{ARN: "arn:aws:iam::946986569305:user/x", AccountID: "946986569305", Type: "AWS::IAM::User"}}
			}},
		{"resources as ARN strings", map[string]any{"resources": []any{"arn:aws:iam::946986569305:user/x"}},
			func(e *Event) { e.Resources = []Resource{{ARN: "arn:aws:iam::946986569305:user/x"}} }},
		{"empty userIdentity is present", map[string]any{"userIdentity": map[string]any{}},
			func(e *Event) { e.UserIdentity = UserIdentity{} }},
		{"session context", map[string]any{"userIdentity": map[string]any{
			"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/r/s",
			"sessionContext": map[string]any{
				"sessionIssuer":       map[string]any{"type": "Role", "arn": "arn:aws:iam::1:role/r"},
				"attributes":          map[string]any{"creationDate": "2024-07-30T21:00:00Z", "mfaAuthenticated": "false"},
				"webIdFederationData": map[string]any{},
				"ec2RoleDelivery":     "2.0",
			},
		}}, func(e *Event) {
			e.UserIdentity = UserIdentity{Type: "AssumedRole", ARN: "arn:aws:sts::1:assumed-role/r/s", SessionContext: &SessionContext{
				SessionIssuer:       SessionIssuer{Type: "Role", ARN: "arn:aws:iam::1:role/r"},
				Attributes:          SessionAttributes{CreationDate: "2024-07-30T21:00:00Z", MFAAuthenticated: "false"},
				WebIDFederationData: &WebIDFederationData{},
				EC2RoleDelivery:     "2.0",
			}}
		}},
		{"lower-case keys match like encoding/json", map[string]any{"eventName": del, "eventname": "CreateAccessKey"}, func(*Event) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := record(t, tc.overrides)
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := baseEvent()
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.EventTime.Location() != time.UTC {
				t.Errorf("EventTime location %v, want UTC", got.EventTime.Location())
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		raw    []byte
		reason string
	}{
		{"empty", []byte(``), ReasonNotJSON},
		{"not JSON", []byte(`hello`), ReasonNotJSON},
		{"truncated object", []byte(`{"eventVersion":"1.08","userIdentity":{`), ReasonNotJSON},
		{"trailing garbage", append(record(t, nil), " x"...), ReasonNotJSON},
		{"two records", append(record(t, nil), record(t, nil)...), ReasonNotJSON},
		{"number", []byte(`5`), ReasonWrongShape},
		{"string", []byte(`"eventName"`), ReasonWrongShape},
		{"null", []byte(`null`), ReasonWrongShape},
		{"array of strings", []byte(`["a","b"]`), ReasonWrongShape},
		{"array of records", []byte("[" + string(record(t, nil)) + "]"), ReasonWrongShape},
		{"Records is a number", []byte(`{"Records": 5}`), ReasonWrongShape},
		{"S3 export", []byte(`{"Records": [` + string(record(t, nil)) + `]}`), ReasonWrongShape},
		{"empty object", []byte(`{}`), ReasonMissingTime},
		{"missing userIdentity", record(t, map[string]any{"userIdentity": del}), ReasonMissingIdentity},
		{"null userIdentity", record(t, map[string]any{"userIdentity": nil}), ReasonMissingIdentity},
		{"userIdentity is a string", record(t, map[string]any{"userIdentity": "root"}), ReasonMissingIdentity},
		{"missing eventTime", record(t, map[string]any{"eventTime": del}), ReasonMissingTime},
		{"null eventTime", record(t, map[string]any{"eventTime": nil}), ReasonMissingTime},
		{"redacted eventTime", record(t, map[string]any{"eventTime": "redacted"}), ReasonMissingTime},
		{"eventTime ...", record(t, map[string]any{"eventTime": "..."}), ReasonMissingTime},
		{"eventTime placeholder", record(t, map[string]any{"eventTime": "YYYY-MM-DD hh:mm:ss.fffffffff"}), ReasonMissingTime},
		{"zero eventTime", record(t, map[string]any{"eventTime": "0001-01-01T00:00:00Z"}), ReasonMissingTime},
		{"eventTime as a number", record(t, map[string]any{"eventTime": 1722375787}), ReasonMissingTime},
		{"bad @timestamp too", record(t, map[string]any{"eventTime": del, "@timestamp": "yesterday"}), ReasonMissingTime},
		{"missing eventSource", record(t, map[string]any{"eventSource": del}), ReasonMissingSource},
		{"empty eventSource", record(t, map[string]any{"eventSource": ""}), ReasonMissingSource},
		{"missing eventName", record(t, map[string]any{"eventName": del}), ReasonMissingName},
		{"eventVersion 2.0", record(t, map[string]any{"eventVersion": "2.0"}), ReasonUnsupportedVersion},
		{"eventVersion 0.9", record(t, map[string]any{"eventVersion": "0.9"}), ReasonUnsupportedVersion},
		{"eventVersion garbage", record(t, map[string]any{"eventVersion": "abc"}), ReasonUnsupportedVersion},
		{"too large", []byte(`{"x":"` + strings.Repeat("a", MaxRecordBytes) + `"}`), ReasonTooLarge},
		{"too deep", []byte(`{"requestParameters":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`), ReasonTooDeep},
		{"too deep and unbalanced", []byte(`{"requestParameters":` + strings.Repeat("[", 4<<20-100)), ReasonTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRecordError(t, tc.raw, tc.reason)
		})
	}
}

// checkRecordError decodes raw and expects a *RecordError with reason.
func checkRecordError(t *testing.T, raw []byte, reason string) {
	t.Helper()
	ev, err := Decode(raw)
	if err == nil {
		t.Fatalf("Decode succeeded (%s %s), want %q", ev.EventSource, ev.EventName, reason)
	}
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RecordError", err, err)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("errors.Is(%v, ErrMalformed) is false", err)
	}
	if errors.Is(err, ErrFileCorrupt) {
		t.Errorf("errors.Is(%v, ErrFileCorrupt) is true", err)
	}
	if re.Reason != reason {
		t.Errorf("reason %q (%v), want %q", re.Reason, err, reason)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("Error() %q does not contain the reason", err.Error())
	}
}

func TestDecodeDeepButFine(t *testing.T) {
	// Many brackets in total, but shallow: must not be rejected.
	many := strings.Repeat(`[1],`, maxDepth+10)
	raw := record(t, map[string]any{"requestParameters": json.RawMessage(`{"a":[` + many + `[2]]}`)})
	if _, err := Decode(raw); err != nil {
		t.Fatal(err)
	}
	// Brackets inside strings do not count.
	raw = record(t, map[string]any{"userAgent": strings.Repeat("[", maxDepth+10)})
	if _, err := Decode(raw); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeSynthesisedID(t *testing.T) {
	raw := record(t, map[string]any{"eventID": del})
	a, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.EventID, "th-") || len(a.EventID) != 3+32 {
		t.Errorf("synthesised id %q, want th- and 32 hex digits", a.EventID)
	}
	if a.EventID != b.EventID {
		t.Errorf("ids differ on re-reading: %q, %q", a.EventID, b.EventID)
	}
	c, err := Decode(record(t, map[string]any{"eventID": del, "eventName": "DeleteAccessKey"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventID == a.EventID {
		t.Errorf("different records got the same id %q", c.EventID)
	}
	// An empty eventID counts as missing.
	d, err := Decode(record(t, map[string]any{"eventID": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.EventID, "th-") {
		t.Errorf("empty eventID kept as %q", d.EventID)
	}
}

// TestDecodeDoesNotKeepInput checks that decoded events do not change when
// the caller reuses its buffer.
func TestDecodeDoesNotKeepInput(t *testing.T) {
	raw := record(t, nil)
	ev, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'x'
	}
	if diff := cmp.Diff(baseEvent(), ev); diff != "" {
		t.Errorf("event changed with its input (-want +got):\n%s", diff)
	}
}

func TestDecodeEnvelopes(t *testing.T) {
	tests := []struct {
		file       string
		detailType string
		eventName  string
	}{
		{"testdata/envelope-api-call.json", DetailTypeAPICall, "AssumeRole"},
		{"testdata/envelope-console-signin.json", DetailTypeConsoleLogin, "ConsoleLogin"},
		{"testdata/envelope-service-event.json", DetailTypeServiceEvent, "EndSecretVersionDelete"},
	}
	for _, tc := range tests {
		t.Run(tc.detailType, func(t *testing.T) {
			raw, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				DetailType string          `json:"detail-type"`
				Resources  []string        `json:"resources"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			if env.DetailType != tc.detailType {
				t.Fatalf("fixture detail-type %q, want %q", env.DetailType, tc.detailType)
			}
			want, err := Decode(env.Detail)
			if err != nil {
				t.Fatalf("decoding the bare record: %v", err)
			}
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("decoding the envelope: %v", err)
			}
			if got.EventName != tc.eventName {
				t.Errorf("eventName %q, want %q", got.EventName, tc.eventName)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope and bare record differ (-bare +envelope):\n%s", diff)
			}
		})
	}
	t.Run("other detail-type", func(t *testing.T) {
		raw := []byte(`{"version":"0","id":"1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"1","time":"2024-07-30T21:43:07Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:1:instance/i-1"],"detail":{"instance-id":"i-1","state":"running"}}`)
		checkRecordError(t, raw, ReasonNotEnvelope)
	})
	t.Run("detail-type is not a string", func(t *testing.T) {
		checkRecordError(t, []byte(`{"detail-type":5,"detail":{}}`), ReasonNotEnvelope)
	})
	t.Run("detail is not an object", func(t *testing.T) {
		checkRecordError(t, []byte(`{"detail-type":"AWS API Call via CloudTrail","detail":"x"}`), ReasonWrongShape)
	})
	t.Run("no detail", func(t *testing.T) {
		checkRecordError(t, []byte(`{"detail-type":"AWS API Call via CloudTrail"}`), ReasonWrongShape)
	})
	t.Run("envelope in an envelope", func(t *testing.T) {
		inner, _ := os.ReadFile("testdata/envelope-api-call.json")
		raw := []byte(`{"detail-type":"AWS API Call via CloudTrail","resources":[],"detail":` + string(inner) + `}`)
		checkRecordError(t, raw, ReasonWrongShape)
	})
	t.Run("detail without userIdentity", func(t *testing.T) {
		rec := record(t, map[string]any{"userIdentity": del})
		raw := []byte(`{"detail-type":"AWS API Call via CloudTrail","resources":["arn:x"],"detail":` + string(rec) + `}`)
		checkRecordError(t, raw, ReasonMissingIdentity)
	})
}

// TestDecodeDetailTypeInsideRecord checks that the text "detail-type" in a
// record's values does not make it an envelope.
func TestDecodeDetailTypeInsideRecord(t *testing.T) {
	raw, err := os.ReadFile("testdata/record-putrule-detail-type.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventName != "PutRule" || !bytes.Contains(ev.RequestParameters, []byte(`detail-type`)) {
		t.Errorf("got %s with requestParameters %s", ev.EventName, ev.RequestParameters)
	}
	// A nested object with detail-type and detail keys is a value, too.
	raw = record(t, map[string]any{"requestParameters": map[string]any{
		"detail-type": "AWS API Call via CloudTrail", "detail": map[string]any{"eventName": "x"},
	}})
	if _, err := Decode(raw); err != nil {
		t.Fatal(err)
	}
}
