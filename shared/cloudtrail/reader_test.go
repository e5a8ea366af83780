package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// rec returns a compact record named name.
func rec(t *testing.T, name string) string {
	return string(record(t, map[string]any{"eventName": name, "eventID": "id-" + name}))
}

// pretty returns an indented record named name.
func pretty(t *testing.T, name string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(rec(t, name)), "  ", "\t"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// outcomes reads r to the end and describes each result: "ev:<eventName>",
// "err:<reason>" for a *RecordError and "fatal:<reason>" for a *FileError.
// It fails the test if the Reader does not end, misclassifies an error, or
// does not keep returning io.EOF after the end.
func outcomes(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("Reader does not end")
		}
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RecordError
		var fe *FileError
		switch {
		case err == nil:
			out = append(out, "ev:"+ev.EventName)
		case errors.As(err, &re):
			if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrFileCorrupt) {
				t.Errorf("record error %v: Is(ErrMalformed)=%v Is(ErrFileCorrupt)=%v", err,
					errors.Is(err, ErrMalformed), errors.Is(err, ErrFileCorrupt))
			}
			out = append(out, "err:"+re.Reason)
		case errors.As(err, &fe):
			if !errors.Is(err, ErrFileCorrupt) || errors.Is(err, ErrMalformed) {
				t.Errorf("file error %v: Is(ErrFileCorrupt)=%v Is(ErrMalformed)=%v", err,
					errors.Is(err, ErrFileCorrupt), errors.Is(err, ErrMalformed))
			}
			if r.Err() != err {
				t.Errorf("Err() = %v, want %v", r.Err(), err)
			}
			out = append(out, "fatal:"+fe.Reason)
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	}
	for range 2 {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end returned %v, want io.EOF", err)
		}
	}
	return out
}

func gz(b string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(b))
	zw.Close()
	return buf.String()
}

func TestReader(t *testing.T) {
	A, B, C := rec(t, "A"), rec(t, "B"), rec(t, "C")
	noUI := string(record(t, map[string]any{"userIdentity": del}))
	v2 := string(record(t, map[string]any{"eventVersion": "2.0"}))
	envelope, err := os.ReadFile("testdata/envelope-console-signin.json")
	if err != nil {
		t.Fatal(err)
	}
	env := string(envelope)
	big := string(record(t, map[string]any{"eventName": "Big", "userAgent": strings.Repeat("x", 1500)}))
	mixed := A + "\n[" + B + "," + env + "]\n" + `{"Records":[` + C + "]}" + A

	tests := []struct {
		name  string
		input string
		max   int
		want  []string
	}{
		// Layouts.
		{"single record", A, 0, []string{"ev:A"}},
		{"single pretty record", pretty(t, "A"), 0, []string{"ev:A"}},
		{"array", "[" + A + "," + B + "," + C + "]", 0, []string{"ev:A", "ev:B", "ev:C"}},
		{"pretty array", "[\n" + pretty(t, "A") + " ,\r\n  " + pretty(t, "B") + "\n]\n", 0, []string{"ev:A", "ev:B"}},
		{"S3 export", `{"Records":[` + A + "," + B + "]}", 0, []string{"ev:A", "ev:B"}},
		{"pretty S3 export", "{\r\n  \"Records\" : [\r\n" + pretty(t, "A") + ",\r\n" + pretty(t, "B") + "\r\n ]\r\n}\r\n", 0, []string{"ev:A", "ev:B"}},
		{"JSON lines", A + "\n" + B + "\n" + C + "\n", 0, []string{"ev:A", "ev:B", "ev:C"}},
		{"concatenated", A + B + C, 0, []string{"ev:A", "ev:B", "ev:C"}},
		{"envelope", env, 0, []string{"ev:ConsoleLogin"}},
		{"envelopes as JSON lines", env + "\n" + A + "\n" + env, 0, []string{"ev:ConsoleLogin", "ev:A", "ev:ConsoleLogin"}},
		{"mixed layouts", mixed, 0, []string{"ev:A", "ev:B", "ev:ConsoleLogin", "ev:C", "ev:A"}},
		{"two S3 exports", `{"Records":[` + A + "]}\n" + `{"Records":[` + B + "]}", 0, []string{"ev:A", "ev:B"}},
		{"wrapper with other keys", `{"x":{"a":[1,"]"]},"Records":[` + A + `],"y":"}","z":[{}]}` + B, 0, []string{"ev:A", "ev:B"}},
		{"wrapper with two Records arrays", `{"Records":[` + A + `],"Records":[` + B + `]}`, 0, []string{"ev:A", "ev:B"}},
		{"byte order mark", "\xef\xbb\xbf" + A, 0, []string{"ev:A"}},
		{"empty input", "", 0, nil},
		{"whitespace only", " \n\t\r\n", 0, nil},
		{"empty array", "[]", 0, nil},
		{"empty Records", `{"Records":[]}`, 0, nil},
		{"trailing comma", "[" + A + ",]", 0, []string{"ev:A"}},

		// Per-record problems: the reader goes on.
		{"bad record in the middle of an array", "[" + A + "," + noUI + "," + C + "]", 0,
			[]string{"ev:A", "err:" + ReasonMissingIdentity, "ev:C"}},
		{"bad records in an S3 export", `{"Records":[` + A + `,5,"x",null,[` + B + `],` + v2 + "," + C + "]}", 0,
			[]string{"ev:A", "err:" + ReasonWrongShape, "err:" + ReasonWrongShape, "err:" + ReasonWrongShape,
				"err:" + ReasonWrongShape, "err:" + ReasonUnsupportedVersion, "ev:C"}},
		{"Records is a number", `{"Records": 5}`, 0, []string{"err:" + ReasonWrongShape}},
		{"top-level number", "5", 0, []string{"err:" + ReasonWrongShape}},
		{"top-level string", `"hello"` + A, 0, []string{"err:" + ReasonWrongShape, "ev:A"}},
		{"array of strings", `["a","b"]`, 0, []string{"err:" + ReasonWrongShape, "err:" + ReasonWrongShape}},
		{"nested array", "[[" + A + "]]", 0, []string{"err:" + ReasonWrongShape}},
		{"broken top-level object", `{"a" 1}` + "\n" + A, 0, []string{"err:" + ReasonNotJSON, "ev:A"}},
		{"broken object with strings", `{"a":"}" "b":{"c":"\"}"}}` + A, 0, []string{"err:" + ReasonNotJSON, "ev:A"}},
		{"broken element", `[{"a" 1},` + A + "]", 0, []string{"err:" + ReasonNotJSON, "ev:A"}},
		{"garbage token in an array", "[abc," + A + "]", 0, []string{"err:" + ReasonNotJSON, "ev:A"}},
		{"unknown eventVersion", A + v2 + B, 0, []string{"ev:A", "err:" + ReasonUnsupportedVersion, "ev:B"}},
		{"missing eventTime", string(record(t, map[string]any{"eventTime": "redacted"})), 0, []string{"err:" + ReasonMissingTime}},
		{"other EventBridge event", `{"detail-type":"Scheduled Event","detail":{}}` + A, 0, []string{"err:" + ReasonNotEnvelope, "ev:A"}},

		// Oversized elements are skipped.
		{"large element in an array", "[" + A + "," + big + "," + B + "]", 1000,
			[]string{"ev:A", "err:" + ReasonTooLarge, "ev:B"}},
		{"large element in an S3 export", `{"Records":[` + big + "," + B + "]}", 1000,
			[]string{"err:" + ReasonTooLarge, "ev:B"}},
		{"large JSON line", A + "\n" + big + "\n" + B, 1000, []string{"ev:A", "err:" + ReasonTooLarge, "ev:B"}},
		{"large wrapper key before Records", `{"x":"` + strings.Repeat("y", 1500) + `","Records":[` + A + "]}", 1000, []string{"ev:A"}},
		{"large top-level string", `"` + strings.Repeat("y", 1500) + `"` + A, 1000, []string{"err:" + ReasonTooLarge, "ev:A"}},

		// Structural problems end the stream.
		{"not JSON", "hello world", 0, []string{"fatal:" + ReasonNotJSON}},
		{"HTML", "<html><body>Access Denied</body></html>", 0, []string{"fatal:" + ReasonNotJSON}},
		{"garbage after a record", A + "\n<html>", 0, []string{"ev:A", "fatal:" + ReasonNotJSON}},
		{"invalid literal", "tru", 0, []string{"fatal:" + ReasonNotJSON}},
		{"unterminated array", "[" + A + "," + B[:40], 0, []string{"ev:A", "fatal:" + ReasonUnterminated}},
		{"unterminated array after element", "[" + A, 0, []string{"ev:A", "fatal:" + ReasonUnterminated}},
		{"unterminated top-level object", A + B[:len(B)-1], 0, []string{"ev:A", "fatal:" + ReasonUnterminated}},
		{"unterminated string", `"abc`, 0, []string{"fatal:" + ReasonUnterminated}},
		{"missing comma", "[" + A + " " + B + "]", 0, []string{"ev:A", "fatal:" + ReasonNotJSON}},
		{"bad byte where an element starts", "[:" + A + "]", 0, []string{"fatal:" + ReasonNotJSON}},
		{"broken wrapper after Records", `{"Records":[` + A + `] x}`, 0, []string{"ev:A", "fatal:" + ReasonNotJSON}},
		{"unterminated wrapper", `{"Records":[` + A + `]`, 0, []string{"ev:A", "fatal:" + ReasonUnterminated}},
		{"unterminated Records", `{"Records":[` + A, 0, []string{"ev:A", "fatal:" + ReasonUnterminated}},

		// Gzip.
		{"gzip S3 export", gz(`{"Records":[` + A + "," + B + "]}"), 0, []string{"ev:A", "ev:B"}},
		{"gzip mixed layouts", gz(mixed), 0, []string{"ev:A", "ev:B", "ev:ConsoleLogin", "ev:C", "ev:A"}},
		{"concatenated gzip members", gz(A) + gz(B), 0, []string{"ev:A", "ev:B"}},
		{"gzip of nothing", gz(""), 0, nil},
		{"gzip magic only", "\x1f\x8b", 0, []string{"fatal:" + ReasonTruncatedGzip}},
		{"gzip bad header", "\x1f\x8b\x00\x00\x00\x00\x00\x00\x00\x00", 0, []string{"fatal:" + ReasonBadGzip}},
		{"gzip with trailing garbage", gz(A) + "this is not gzip data", 0, []string{"ev:A", "fatal:" + ReasonBadGzip}},
		{"gzip of garbage", gz("hello"), 0, []string{"fatal:" + ReasonNotJSON}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.input))
			if tc.max != 0 {
				r.MaxRecordBytes = tc.max
			}
			got := outcomes(t, r)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The same input fed one byte at a time, across every buffer
			// boundary, must give the same results.
			r = NewReader(iotest.OneByteReader(strings.NewReader(tc.input)))
			if tc.max != 0 {
				r.MaxRecordBytes = tc.max
			}
			if diff := cmp.Diff(got, outcomes(t, r)); diff != "" {
				t.Errorf("one byte at a time (-whole +one-byte):\n%s", diff)
			}
		})
	}
}

func TestReaderTruncatedGzip(t *testing.T) {
	var recs []string
	for i := range 200 {
		recs = append(recs, rec(t, "E"+strings.Repeat("x", i%7)))
	}
	full := gz(`{"Records":[` + strings.Join(recs, ",") + "]}")
	for _, cut := range []int{len(full) / 3, len(full) / 2, len(full) - 9, len(full) - 1} {
		r := NewReader(strings.NewReader(full[:cut]))
		got := outcomes(t, r)
		if len(got) == 0 || got[len(got)-1] != "fatal:"+ReasonTruncatedGzip {
			t.Fatalf("cut at %d: last outcome %v, want fatal:%s", cut, got[len(got)-1:], ReasonTruncatedGzip)
		}
		for _, o := range got[:len(got)-1] {
			if !strings.HasPrefix(o, "ev:E") {
				t.Fatalf("cut at %d: unexpected outcome %s", cut, o)
			}
		}
		if cut == len(full)-9 && len(got)-1 != 200 {
			// Only the gzip trailer is missing: every record is readable.
			t.Errorf("cut in the trailer: got %d events, want 200", len(got)-1)
		}
		if r.Records() != len(got)-1 {
			t.Errorf("Records() = %d, want %d", r.Records(), len(got)-1)
		}
	}
	// A corrupted byte in the compressed data.
	b := []byte(full)
	b[len(b)/2] ^= 0xff
	got := outcomes(t, NewReader(bytes.NewReader(b)))
	if last := got[len(got)-1]; last != "fatal:"+ReasonBadGzip && last != "fatal:"+ReasonNotJSON {
		t.Errorf("corrupt gzip: last outcome %s", last)
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	A := rec(t, "A")
	r := NewReader(io.MultiReader(strings.NewReader(A+"\n"+A), iotest.ErrReader(boom)))
	got := outcomes(t, r)
	want := []string{"ev:A", "ev:A", "fatal:" + ReasonReadError}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(r.Err(), boom) || !errors.Is(r.Err(), ErrFileCorrupt) {
		t.Errorf("Err() = %v, want one matching both boom and ErrFileCorrupt", r.Err())
	}
	// An error in the middle of a record.
	r = NewReader(io.MultiReader(strings.NewReader(A[:50]), iotest.ErrReader(boom)))
	if diff := cmp.Diff([]string{"fatal:" + ReasonReadError}, outcomes(t, r)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// An error met while filling the buffer for a record that straddled
	// its end comes after that record, and the rest of the input.
	r = NewReader(io.MultiReader(strings.NewReader(`{"Records":[`+A+","+A[:30]), strings.NewReader(A[30:]+"]}"), iotest.ErrReader(boom)))
	if diff := cmp.Diff(want, outcomes(t, r)); diff != "" {
		t.Errorf("straddling record: (-want +got):\n%s", diff)
	}
	// A nil reader is an empty stream.
	if got := outcomes(t, NewReader(nil)); len(got) != 0 {
		t.Errorf("nil reader: %v", got)
	}
}

func TestReaderRecords(t *testing.T) {
	A := rec(t, "A")
	r := NewReader(strings.NewReader(`{"Records":[` + A + `,5,` + A + "]}\n" + A))
	outcomes(t, r)
	if r.Records() != 4 {
		t.Errorf("Records() = %d, want 4", r.Records())
	}
}

// TestReaderHugeRecord uses the default 4 MiB limit: the oversized record
// is skipped without being held, and the next one is read.
func TestReaderHugeRecord(t *testing.T) {
	A, B := rec(t, "A"), rec(t, "B")
	huge := string(record(t, map[string]any{"requestParameters": map[string]any{
		"policy": strings.Repeat(`{\"Effect\":\"Allow\"},`, (5<<20)/24),
	}}))
	if len(huge) <= MaxRecordBytes {
		t.Fatalf("huge record is only %d bytes", len(huge))
	}
	for _, layout := range []struct{ name, input string }{
		{"S3 export", `{"Records":[` + A + "," + huge + "," + B + "]}"},
		{"JSON lines", A + "\n" + huge + "\n" + B},
	} {
		t.Run(layout.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(layout.input))
			got := outcomes(t, r)
			want := []string{"ev:A", "err:" + ReasonTooLarge, "ev:B"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if cap(r.buf) > MaxRecordBytes+readBufSize {
				t.Errorf("buffer grew to %d bytes", cap(r.buf))
			}
		})
	}
}

// endless produces an S3 export with n copies of a record, without holding
// it in memory.
type endless struct {
	rec       []byte
	n         int
	pos       int
	state     int // 0 head, 1 records, 2 tail, 3 done
	remaining []byte
}

func (e *endless) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(e.remaining) == 0 {
			switch e.state {
			case 0:
				e.remaining, e.state = []byte(`{"Records":[`), 1
			case 1:
				if e.pos == e.n {
					e.state = 2
					continue
				}
				e.remaining = e.rec
				if e.pos > 0 {
					e.remaining = append([]byte{','}, e.rec...)
				}
				e.pos++
			case 2:
				e.remaining, e.state = []byte("]}"), 3
			default:
				if total == 0 {
					return 0, io.EOF
				}
				return total, nil
			}
		}
		n := copy(p, e.remaining)
		e.remaining = e.remaining[n:]
		p = p[n:]
		total += n
	}
	return total, nil
}

// TestReaderMemory streams a 60 MB S3 export and checks that the live heap
// does not grow with it.
func TestReaderMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 60 MB")
	}
	A := []byte(rec(t, "A"))
	n := 60 << 20 / len(A)
	r := NewReader(&endless{rec: A, n: n})
	var ms runtime.MemStats
	var first, peak uint64
	count := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%20000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if first == 0 {
				first = ms.HeapAlloc
			}
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != n {
		t.Fatalf("read %d records, want %d", count, n)
	}
	if peak > first+(2<<20) {
		t.Errorf("live heap grew from %d to %d bytes while streaming", first, peak)
	}
	t.Logf("%d records (%d MB), live heap %d–%d KB", n, n*len(A)>>20, first>>10, peak>>10)
}

// TestNextIntoOverwrites reads records of different shapes, a bad one among
// them, into one reused event: each must come out as Next returns it, with
// nothing left over from the record before.
func TestNextIntoOverwrites(t *testing.T) {
	full := record(t, map[string]any{
		"eventID": "full", "errorCode": "AccessDenied", "errorMessage": "no",
		"resources":           []map[string]string{{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"}},
		"additionalEventData": map[string]any{"x": 1}, "sharedEventID": "s", "vpcEndpointId": "vpce-1",
	})
	bare := record(t, map[string]any{
		"eventID": "bare", "requestParameters": deleteField{}, "responseElements": deleteField{},
		"readOnly": deleteField{}, "userIdentity": map[string]any{"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
	})
	input := "[" + string(full) + "," + string(bare) + `,{"eventName":1},` + string(full) + "," + string(bare) + "]"
	want := NewReader(strings.NewReader(input))
	got := NewReader(strings.NewReader(input))
	var ev Event
	var raw []byte
	for i := 0; ; i++ {
		w, werr := want.Next()
		gerr := got.NextInto(&ev, &raw)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("record %d: NextInto error %v, Next error %v", i, gerr, werr)
		}
		if diff := cmp.Diff(w, ev); diff != "" {
			t.Errorf("record %d: NextInto differs from Next (-Next +NextInto):\n%s", i, diff)
		}
		if werr == io.EOF {
			break
		}
	}
	if cap(raw) == 0 {
		t.Error("NextInto did not keep the memory of the raw fields")
	}
}
