package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFastPathAgrees decodes every record of the public datasets with the
// fast path, followed by more input as in the Reader's buffer, and with the
// general path alone: where the fast path decodes a record, the events must
// be identical and the length exact. It also checks that the fast path
// takes nearly all of them, which is what makes it worth having.
func TestFastPathAgrees(t *testing.T) {
	root := datasetsDir(t)
	var files []string
	for _, pattern := range []string{
		"invictus-aws-stratus-simulation/raw/*.json",
		"stratus-red-team-detonation-logs/*.json",
		"otrf-cloudgoat-cloud-breach-s3/*/*.json",
	} {
		found, _ := filepath.Glob(filepath.Join(root, pattern))
		files = append(files, found...)
	}
	total, fast := 0, 0
	var got Event
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []json.RawMessage
		var wrapped struct{ Records []json.RawMessage }
		if json.Unmarshal(b, &wrapped) == nil && wrapped.Records != nil {
			recs = wrapped.Records
		} else if json.Unmarshal(b, &recs) != nil {
			continue
		}
		for i, raw := range recs {
			total++
			want, werr := decode(decoder, raw)
			buffered := append(bytes.Clone(raw), `,{"eventID":"next"}]}`...)
			// got is the previous record's event: decoding must overwrite
			// all of it.
			n, ok := fastDecode(buffered, MaxRecordBytes, &got, nil)
			if !ok {
				continue
			}
			fast++
			if werr != nil {
				t.Fatalf("%s record %d: fast path decoded what the general path rejects: %v", f, i, werr)
			}
			if n != len(raw) {
				t.Fatalf("%s record %d: fast path length %d, record %d bytes", f, i, n, len(raw))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s record %d differs (-general +fast):\n%s", f, i, diff)
			}
		}
	}
	if total == 0 {
		t.Fatal("no dataset records found")
	}
	t.Logf("fast path took %d of %d records", fast, total)
	if fast < total*95/100 {
		t.Errorf("fast path took only %d of %d records", fast, total)
	}
}

// TestFastPathGivesUp checks records the fast path must leave to the
// general path, which alone knows how to treat them.
func TestFastPathGivesUp(t *testing.T) {
	base := `"eventVersion":"1.08","eventID":"e1","eventTime":"2024-08-01T15:26:55Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}`
	for _, tc := range []struct{ name, rec string }{
		{"case-insensitive key", `{` + base + `,"AWSRegion":"us-east-1"}`},
		{"duplicate key", `{` + base + `,"eventName":"GetUser"}`},
		{"boolean as string", `{` + base + `,"readOnly":"true"}`},
		{"null identity part", `{"eventVersion":"1.08","eventID":"e1","eventTime":"2024-08-01T15:26:55Z","eventSource":"s","eventName":"n","userIdentity":{"sessionContext":null}}`},
		{"number for a string", `{` + base + `,"recipientAccountId":111122223333}`},
		{"envelope", `{"detail-type":"AWS API Call via CloudTrail","detail":{` + base + `}}`},
		{"wrapper", `{"Records":[{` + base + `}]}`},
		{"missing time", `{"eventID":"e1","eventSource":"s","eventName":"n","userIdentity":{}}`},
		{"bad escape in raw", `{` + base + `,"requestParameters":{"a":"\x"}}`},
		{"non-ASCII in raw", `{` + base + `,"requestParameters":{"a":"é"}}`},
		{"unterminated", `{` + base},
		{"deep", `{` + base + `,"requestParameters":` + string(bytes.Repeat([]byte("["), 100)) + string(bytes.Repeat([]byte("]"), 100)) + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			if _, ok := fastDecode([]byte(tc.rec+"\n"), MaxRecordBytes, &ev, nil); ok {
				t.Errorf("fast path decoded %s", tc.rec)
			}
		})
	}
	// And an ordinary record with escapes and non-ASCII in its strings,
	// which it decodes as the general path does.
	rec := []byte(`{` + base + `,"userAgent":"a\"b é","requestParameters":{"p":"{\"x\":1}","n":[1,-2.5e3,true,null]},"resources":[]}` + "\n")
	var got Event
	n, ok := fastDecode(rec, MaxRecordBytes, &got, nil)
	if !ok || n != len(rec)-1 {
		t.Fatalf("fast path refused an ordinary record (ok %v, n %d)", ok, n)
	}
	want, err := decode(decoder, rec[:n])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("differs (-general +fast):\n%s", diff)
	}
}

// TestParseTimeZ holds the CloudTrail time form's fast parser to
// time.Parse, on good and bad times of that form.
func TestParseTimeZ(t *testing.T) {
	for _, s := range []string{
		"2024-08-01T15:26:55Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
		"2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "2024-01-01T00:00:0aZ", "2024-01-01t00:00:00Z", "+024-01-01T00:00:00Z",
	} {
		want, werr := time.Parse(time.RFC3339Nano, s)
		wok := werr == nil && !want.IsZero()
		got, ok := parseTimeZ(s)
		if ok && (!wok || !got.Equal(want) || got.Location() != time.UTC) {
			t.Errorf("parseTimeZ(%q) = %v, time.Parse %v (%v)", s, got, want, werr)
		}
		if !ok && wok && len(s) == 20 && s[19] == 'Z' && s[10] == 'T' {
			t.Errorf("parseTimeZ(%q) refused what time.Parse reads as %v", s, want)
		}
	}
}

// TestPlainRun holds the eight-bytes-at-a-time scan to the byte-by-byte
// one, on every byte value at every position of a run.
func TestPlainRun(t *testing.T) {
	for c := range 256 {
		for pos := range 40 {
			d := bytes.Repeat([]byte("a"), 44)
			d[pos] = byte(c)
			for start := range pos + 1 {
				want := start
				for want < len(d) && !plainStop[d[want]] {
					want++
				}
				if got := plainRun(d, start); got != want {
					t.Fatalf("byte %#x at %d, from %d: plainRun %d, want %d", c, pos, start, got, want)
				}
			}
		}
	}
	// Runs mixing stops and neighbours of stops, where borrows between
	// bytes could mislead a word-wide test.
	alphabet := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '"' + 1, '\\', '\\' + 1, 0x7f, 0x80, 0xff, 'a'}
	rng := uint64(1)
	for range 20000 {
		d := make([]byte, 1+rng%50)
		for i := range d {
			rng = rng*6364136223846793005 + 1442695040888963407
			d[i] = alphabet[(rng>>33)%uint64(len(alphabet))]
		}
		want := 0
		for want < len(d) && !plainStop[d[want]] {
			want++
		}
		if got := plainRun(d, 0); got != want {
			t.Fatalf("%q: plainRun %d, want %d", d, got, want)
		}
	}
}
