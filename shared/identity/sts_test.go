package identity

import (
	"encoding/json"
	"testing"
)

// parseSTSResponse reads what unmarshalling into a struct of those members
// read, and gives up where unmarshalling failed.
func TestParseSTSResponse(t *testing.T) {
	tests := []struct {
		name, raw string
		want      stsResponse
		ok        bool
	}{
		{"role", `{"credentials":{"accessKeyId":"ASIA1","sessionToken":"x","expiration":"Nov 21, 2026, 3:04:05 AM"},"assumedRoleUser":{"assumedRoleId":"AROA:s","arn":"arn:aws:sts::1:assumed-role/r/s"},"sourceIdentity":"alice"}`,
			stsResponse{AccessKeyID: "ASIA1", Expiration: "Nov 21, 2026, 3:04:05 AM", Session: "arn:aws:sts::1:assumed-role/r/s", SourceIdentity: "alice"}, true},
		{"federated", `{"credentials":{"accessKeyId":"ASIA2"},"federatedUser":{"arn":"arn:aws:sts::1:federated-user/bob"}}`,
			stsResponse{AccessKeyID: "ASIA2", Session: "arn:aws:sts::1:federated-user/bob"}, true},
		{"assumed role user names the session", `{"assumedRoleUser":{},"federatedUser":{"arn":"f"},"credentials":{"accessKeyId":"ASIA3"}}`,
			stsResponse{AccessKeyID: "ASIA3"}, true},
		{"a service's session: no user", `{"credentials":{"accessKeyId":"ASIA4","expiration":"x"},"assumedRoleUser":null}`,
			stsResponse{AccessKeyID: "ASIA4", Expiration: "x"}, true},
		{"the last of a repeated member", `{"credentials":{"accessKeyId":"A","accessKeyId":"B"}}`, stsResponse{AccessKeyID: "B"}, true},
		{"no credentials", `{"assumedRoleUser":{"arn":"a"}}`, stsResponse{}, false},
		{"null credentials", `{"credentials":null}`, stsResponse{}, false},
		{"credentials not an object", `{"credentials":"ASIA5"}`, stsResponse{}, false},
		{"key not a string", `{"credentials":{"accessKeyId":5}}`, stsResponse{}, false},
		{"user not an object", `{"credentials":{"accessKeyId":"A"},"assumedRoleUser":"arn"}`, stsResponse{}, false},
		{"arn not a string", `{"credentials":{"accessKeyId":"A"},"federatedUser":{"arn":[1]}}`, stsResponse{}, false},
		{"source identity not a string", `{"credentials":{"accessKeyId":"A"},"sourceIdentity":{}}`, stsResponse{}, false},
		{"not an object", `["credentials"]`, stsResponse{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid([]byte(tt.raw)) {
				t.Fatalf("not JSON: %s", tt.raw)
			}
			got, ok := parseSTSResponse([]byte(tt.raw))
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("parseSTSResponse(%s) = %+v, %v; want %+v, %v", tt.raw, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSessionFromRequest(t *testing.T) {
	for raw, want := range map[string]string{
		`{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"ci-42"}`: "arn:aws:sts::111122223333:assumed-role/deploy/ci-42",
		`{"roleArn":"arn:aws:iam::111122223333:role/deploy"}`:                           "",
		`{"roleArn":"arn:aws:iam::111122223333:user/bob","roleSessionName":"s"}`:        "",
		`{"roleArn":5,"roleSessionName":"s"}`:                                           "",
		``:                                                                              "",
	} {
		if got := sessionFromRequest(json.RawMessage(raw)); got != want {
			t.Errorf("sessionFromRequest(%s) = %q, want %q", raw, got, want)
		}
	}
}

// The members parseSTSResponse and sessionFromRequest return are read from
// a view of the event's bytes, which the replay reuses: they must not share
// them.
func TestSTSMembersOutliveTheirBytes(t *testing.T) {
	resp := []byte(`{"credentials":{"accessKeyId":"ASIA1","expiration":"Nov 21, 2026, 3:04:05 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/r/s"},"sourceIdentity":"alice"}`)
	req := []byte(`{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"ci-42"}`)
	got, ok := parseSTSResponse(resp)
	session := sessionFromRequest(req)
	for _, b := range [][]byte{resp, req} {
		for i := range b {
			b[i] = 'x'
		}
	}
	want := stsResponse{AccessKeyID: "ASIA1", Expiration: "Nov 21, 2026, 3:04:05 AM", Session: "arn:aws:sts::1:assumed-role/r/s", SourceIdentity: "alice"}
	if !ok || got != want {
		t.Errorf("after its bytes changed, the response read %+v, %v; want %+v", got, ok, want)
	}
	if want := "arn:aws:sts::111122223333:assumed-role/deploy/ci-42"; session != want {
		t.Errorf("after its bytes changed, the session read %q, want %q", session, want)
	}
}
