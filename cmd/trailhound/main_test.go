package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// datasets returns the shared datasets folder, as tests/ finds it.
func datasets(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TRAILHOUND_DATASETS"); dir != "" {
		return dir
	}
	dir := filepath.Join("..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
		t.Skip("no shared datasets beside the checkout; set TRAILHOUND_DATASETS")
	}
	return dir
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	stratus := filepath.Join(datasets(t), "stratus-red-team-detonation-logs")
	events := filepath.Join("..", "..", "events", "invictus-stratus-run")
	tests := []struct {
		name string
		args []string
	}{
		{"replay-signals-text", []string{"replay", "--emit", "signals", "--learning-events", "0", "--learning-days", "0",
			filepath.Join(stratus, "aws.credential-access.ec2-get-password-data.json"), filepath.Join(stratus, "aws.persistence.sts-federation-token.json")}},
		{"replay-signals-jsonl", []string{"replay", "--emit", "signals", "--output", "jsonl", "--learning-events", "0", "--learning-days", "0",
			filepath.Join(stratus, "aws.persistence.sts-federation-token.json")}},
		{"replay-incidents-invictus", []string{"replay", events}},
		{"investigate-christophe-text", []string{"investigate", "--identity", "christophe", filepath.Join(stratus, "aws.credential-access.ec2-get-password-data.json")}},
		{"investigate-stolen-role-json", []string{"investigate", "--identity", "stratus-red-team-ec2-steal-credentials-role", "--output", "json", events}},
		{"investigate-bert-jan-text", []string{"investigate", "--identity", "user/bert-jan", events}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tt.name, stdout)
			if !strings.Contains(stderr, "summary: ") {
				t.Errorf("no summary on stderr:\n%s", stderr)
			}
		})
	}
}

func TestBadInputExitsZeroAndNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"Records":[{"eventID":"x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.json"), []byte(`[{"eventVersion":"1.08","eventID":"g","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "replay", "--emit", "signals", dir)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "broken.json") || !strings.Contains(stderr, "summary: 2 files, 1 records read, 1 events processed") {
		t.Errorf("stderr does not name the bad file or count right:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing (no signals during learning)", stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no paths", []string{"replay"}, "arg(s)"},
		{"bad output", []string{"replay", "--output", "xml", "x"}, "--output must be text or jsonl"},
		{"bad emit", []string{"replay", "--emit", "everything", "x"}, "--emit must be"},
		{"investigate without identity", []string{"investigate", "x"}, "--identity is required"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestMissingPathFails(t *testing.T) {
	_, stderr, code := runCLI(t, "replay", filepath.Join(t.TempDir(), "nope"))
	if code != exitError || !strings.Contains(stderr, "nope") {
		t.Errorf("exit %d, stderr %q; want 1 naming the path", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"replay", "--help"}, {"investigate", "--help"}} {
		stdout, _, code := runCLI(t, args...)
		if code != exitOK || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: exit %d, output %q", args, code, stdout)
		}
	}
}

func TestStateKeepsBaselinesBetweenRuns(t *testing.T) {
	stratus := filepath.Join(datasets(t), "stratus-red-team-detonation-logs")
	state := filepath.Join(t.TempDir(), "th.db")
	file := filepath.Join(stratus, "aws.credential-access.ec2-get-password-data.json")
	args := []string{"replay", "--state", state, "--emit", "signals", "--output", "jsonl", "--learning-events", "0", "--learning-days", "0", file}
	first, stderr, code := runCLI(t, args...)
	if code != exitOK || first == "" {
		t.Fatalf("first run: exit %d, %d bytes of signals; stderr:\n%s", code, len(first), stderr)
	}
	second, stderr, code := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("second run: exit %d; stderr:\n%s", code, stderr)
	}
	if second != "" {
		t.Errorf("second run over the same state raised signals again:\n%s", second)
	}
}
