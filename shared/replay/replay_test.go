package replay_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/replay"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func record(id string, at time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","eventID":%q,"eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"eu-west-1",`+
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}}`, id, at.Format(time.RFC3339))
}

func export(records ...string) []byte {
	return []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, s *replay.Stream) []string {
	t.Helper()
	var ids []string
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.EventID)
	}
}

// An AWSLogs tree as a trail writes it: two regions whose files overlap in
// time, gzip, a digest folder, a duplicate delivered by a second trail.
func TestTreeInEventTimeOrder(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, "AWSLogs", "o-abc123", "111122223333", "CloudTrail")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	write(t, filepath.Join(base, "eu-west-1/2025/06/01/111122223333_CloudTrail_eu-west-1_20250601T1205Z_a.json.gz"),
		gz(t, export(record("a1", at(0)), record("a3", at(2)), record("a5", at(4)))))
	write(t, filepath.Join(base, "us-east-1/2025/06/01/111122223333_CloudTrail_us-east-1_20250601T1205Z_b.json.gz"),
		gz(t, export(record("b2", at(1)), record("b4", at(3)), record("a3", at(2)))))
	// Within a file, records a little out of order.
	write(t, filepath.Join(base, "eu-west-1/2025/06/01/111122223333_CloudTrail_eu-west-1_20250601T1215Z_c.json.gz"),
		gz(t, export(record("c7", at(7)), record("c6", at(6)))))
	write(t, filepath.Join(root, "AWSLogs", "o-abc123", "111122223333", "CloudTrail-Digest", "eu-west-1", "digest.json.gz"), gz(t, []byte(`{"digestStartTime":"x"}`)))

	s, err := replay.Open([]string{root}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := drain(t, s)
	want := []string{"a1", "b2", "a3", "b4", "a5", "c6", "c7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	rep := s.Report()
	if rep.Files != 3 || rep.Records != 8 || rep.Events != 7 || rep.Duplicates != 1 || rep.Ignored != 1 || rep.Late != 0 {
		t.Errorf("report %+v, want 3 files, 8 records, 7 events, 1 duplicate, 1 ignored, 0 late", rep)
	}
}

// Records later than the window are still processed, and counted as late.
func TestLateRecords(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "x.json"), export(record("e1", t0), record("e2", t0.Add(30*time.Minute)), record("e0", t0.Add(-time.Hour))))
	s, err := replay.Open([]string{dir}, replay.Options{Window: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, s)
	if diff := cmp.Diff([]string{"e1", "e0", "e2"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if rep := s.Report(); rep.Late != 1 {
		t.Errorf("late = %d, want 1", rep.Late)
	}
}

// Bad files and records are reported with their file and reason; the rest
// is processed.
// Event ids are remembered for two windows behind the stream, late events
// included: a duplicate within them is dropped, the same id long after is
// an event again.
func TestDuplicatesForgotten(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "x.json"), export(
		record("a", t0), record("b", t0.Add(time.Minute)), record("a", t0.Add(2*time.Minute)),
		record("c", t0.Add(2*time.Hour)), record("l", t0.Add(-time.Hour)),
		record("d", t0.Add(5*time.Hour)), record("a", t0.Add(5*time.Hour+time.Minute)),
		record("l", t0.Add(5*time.Hour+2*time.Minute)), record("e", t0.Add(9*time.Hour))))
	s, err := replay.Open([]string{dir}, replay.Options{Window: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, s)
	if diff := cmp.Diff([]string{"a", "b", "l", "c", "d", "a", "l", "e"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if rep := s.Report(); rep.Duplicates != 1 || rep.Late != 1 {
		t.Errorf("duplicates %d, late %d; want 1 and 1", rep.Duplicates, rep.Late)
	}
}

func TestBadInputIsReportedAndSkipped(t *testing.T) {
	dir := t.TempDir()
	good := export(record("g1", t0), record("g2", t0.Add(time.Second)))
	write(t, filepath.Join(dir, "good.json"), good)
	var many []string
	for i := 0; i < 400; i++ {
		many = append(many, record(fmt.Sprintf("t%d-%x", i, i*7919), t0.Add(time.Duration(2+i)*time.Second)))
	}
	truncated := gz(t, export(many...))
	write(t, filepath.Join(dir, "truncated.json.gz"), truncated[:len(truncated)*2/3])
	write(t, filepath.Join(dir, "notjson.json"), []byte("this is not json"))
	write(t, filepath.Join(dir, "mixed.jsonl"), []byte(record("m1", t0.Add(4*time.Second))+"\n"+`{"eventID":"m2","eventSource":"x","eventName":"y","userIdentity":{}}`+"\n"))
	write(t, filepath.Join(dir, "notes.txt"), []byte("ignored"))

	var skips []replay.Skip
	s, err := replay.Open([]string{dir}, replay.Options{OnSkip: func(k replay.Skip) { skips = append(skips, k) }})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, s)
	for _, want := range []string{"g1", "g2", "t0-0", "t1-1eef", "m1"} {
		if !contains(got, want) {
			t.Errorf("event %s missing from %v", want, got)
		}
	}
	reasons := map[string]string{}
	for _, k := range skips {
		reasons[filepath.Base(k.File)] = k.Reason
		if k.String() == "" || k.File == "" {
			t.Errorf("skip without file or text: %+v", k)
		}
	}
	for _, f := range []string{"truncated.json.gz", "notjson.json", "mixed.jsonl"} {
		if reasons[f] == "" {
			t.Errorf("no skip reported for %s (skips: %v)", f, skips)
		}
	}
	if reasons["mixed.jsonl"] != "missing eventTime" {
		t.Errorf("mixed.jsonl reason %q, want missing eventTime", reasons["mixed.jsonl"])
	}
	rep := s.Report()
	if rep.Ignored != 1 {
		t.Errorf("ignored %d files, want 1 (notes.txt)", rep.Ignored)
	}
}

func TestMissingPath(t *testing.T) {
	if _, err := replay.Open([]string{filepath.Join(t.TempDir(), "nope")}, replay.Options{}); err == nil {
		t.Error("Open of a missing path succeeded")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
