package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stdBackend decodes with encoding/json: the reference the chosen library
// is compared with.
var stdBackend = backend{name: "encoding/json", unmarshal: json.Unmarshal}

// checkDecoded checks the invariants of one Decode result.
func checkDecoded(t *testing.T, ev Event, err error) {
	t.Helper()
	if err != nil {
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v (%T) is not a *RecordError matching ErrMalformed", err, err)
		}
		if re.Reason == "" || re.Reason == ReasonDecoderPanic {
			t.Fatalf("bad reason %q: %v", re.Reason, err)
		}
		return
	}
	if ev.EventID == "" || ev.EventSource == "" || ev.EventName == "" {
		t.Fatalf("decoded event lacks id, source or name: %+v", ev)
	}
	if ev.EventTime.IsZero() || ev.EventTime.Location() != time.UTC {
		t.Fatalf("bad event time %v", ev.EventTime)
	}
	if !supportedVersion(ev.EventVersion) {
		t.Fatalf("unsupported version %q accepted", ev.EventVersion)
	}
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		ev, err := Decode(data)
		if !bytes.Equal(orig, data) {
			t.Fatal("Decode changed its input")
		}
		checkDecoded(t, ev, err)

		// The chosen library must agree with encoding/json.
		want, werr := decode(stdBackend, data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Decode error %v, encoding/json error %v", err, werr)
		}
		if err != nil {
			var re, wre *RecordError
			errors.As(err, &re)
			errors.As(werr, &wre)
			if re.Reason != wre.Reason {
				t.Fatalf("Decode reason %q, encoding/json reason %q (%v / %v)", re.Reason, wre.Reason, err, werr)
			}
			return
		}
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Fatalf("Decode and encoding/json differ (-encoding/json +Decode):\n%s", diff)
		}
	})
}

// result is one outcome of Reader.Next, for comparing two reads.
type result struct {
	Event  *Event
	Reason string
	Fatal  bool
}

// readResults reads r to the end, checking that it makes progress: no more
// results than limit, and io.EOF for good after the end.
func readResults(t *testing.T, r *Reader, limit int) []result {
	return read(t, r, limit, r.Next)
}

// readInto is readResults with NextInto, decoding every element into the
// same event and raw memory.
func readInto(t *testing.T, r *Reader, limit int) []result {
	var ev Event
	var raw []byte
	return read(t, r, limit, func() (Event, error) {
		err := r.NextInto(&ev, &raw)
		// The raw fields are overwritten by the next element.
		e := ev
		for _, f := range []*json.RawMessage{&e.RequestParameters, &e.ResponseElements, &e.AdditionalEventData, &e.ServiceEventDetails} {
			if *f != nil {
				*f = bytes.Clone(*f)
			}
		}
		return e, err
	})
}

func read(t *testing.T, r *Reader, limit int, next func() (Event, error)) []result {
	t.Helper()
	var out []result
	for {
		ev, err := next()
		if err == io.EOF {
			break
		}
		if len(out) >= limit {
			t.Fatalf("more than %d results: the Reader does not make progress", limit)
		}
		var re *RecordError
		var fe *FileError
		switch {
		case err == nil:
			checkDecoded(t, ev, nil)
			out = append(out, result{Event: &ev})
		case errors.As(err, &re):
			checkDecoded(t, ev, err)
			out = append(out, result{Reason: re.Reason})
		case errors.As(err, &fe):
			if !errors.Is(err, ErrFileCorrupt) || fe.Reason == "" {
				t.Fatalf("bad file error %v", err)
			}
			out = append(out, result{Reason: fe.Reason, Fatal: true})
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	}
	for range 2 {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end returned %v", err)
		}
	}
	if n := len(out); n > 1 {
		for _, res := range out[:n-1] {
			if res.Fatal {
				t.Fatal("a fatal error was not the last result")
			}
		}
	}
	return out
}

// fuzzGzip is reused across fuzz inputs (which a worker runs one at a
// time): a new gzip.Writer costs more than the rest of an iteration.
var fuzzGzip, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)

func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		gzipped := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		// Every result but io.EOF consumes at least one byte of the
		// (decompressed) input.
		limit := len(data) + 1
		if gzipped {
			limit = 1 << 20
		}
		want := readResults(t, NewReader(bytes.NewReader(data)), limit)

		// Reading one byte at a time crosses every buffer boundary and must
		// not change anything.
		got := readResults(t, NewReader(iotest.OneByteReader(bytes.NewReader(data))), limit)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("one byte at a time differs (-whole +one-byte):\n%s", diff)
		}

		// Decoding every element into the same event and memory must not
		// change anything either.
		got = readInto(t, NewReader(bytes.NewReader(data)), limit)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("NextInto differs (-Next +NextInto):\n%s", diff)
		}

		// A tiny element limit exercises the skipping of large elements.
		small := NewReader(bytes.NewReader(data))
		small.MaxRecordBytes = 16
		readResults(t, small, limit)

		if !gzipped {
			var buf bytes.Buffer
			fuzzGzip.Reset(&buf)
			fuzzGzip.Write(data)
			fuzzGzip.Close()
			got := readResults(t, NewReader(&buf), limit)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("gzip differs (-plain +gzip):\n%s", diff)
			}
		}
	})
}
