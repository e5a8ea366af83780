package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The datasets live outside the module (see /work/shared/datasets/INDEX.md);
// TRAILHOUND_DATASETS overrides the location, and the tests skip when they
// are absent.

// readAll reads every event of a stream, failing the test on any error.
func readAll(t *testing.T, r io.Reader) []Event {
	t.Helper()
	cr := NewReader(r)
	var out []Event
	for {
		ev, err := cr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
}

func readFile(t *testing.T, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readAll(t, f)
}

func TestDatasetStratus(t *testing.T) {
	dir := filepath.Join(datasetsDir(t), "stratus-red-team-detonation-logs")
	want := []struct {
		file string
		n    int
	}{
		{"aws.credential-access.ec2-get-password-data.json", 34},
		{"aws.credential-access.ec2-steal-instance-credentials.json", 45},
		{"aws.credential-access.secretsmanager-batch-retrieve-secrets.json", 5},
		{"aws.credential-access.secretsmanager-retrieve-secrets.json", 21},
		{"aws.credential-access.ssm-retrieve-securestring-parameters.json", 10},
		{"aws.defense-evasion.cloudtrail-delete.json", 1},
		{"aws.defense-evasion.cloudtrail-event-selectors.json", 1},
		{"aws.defense-evasion.cloudtrail-stop.json", 1},
		{"aws.defense-evasion.dns-delete-logs.json", 1},
		{"aws.defense-evasion.organizations-leave.json", 3},
		{"aws.defense-evasion.vpc-remove-flow-logs.json", 1},
		{"aws.discovery.ec2-download-user-data.json", 19},
		{"aws.execution.ec2-launch-unusual-instances.json", 3},
		{"aws.execution.ec2-user-data.json", 35},
		{"aws.execution.ssm-send-command.json", 56},
		{"aws.execution.ssm-start-session.json", 29},
		{"aws.exfiltration.ec2-security-group-open-port-22-ingress.json", 1},
		{"aws.exfiltration.ec2-share-ami.json", 1},
		{"aws.exfiltration.ec2-share-ebs-snapshot.json", 1},
		{"aws.exfiltration.rds-share-snapshot.json", 1},
		{"aws.impact.bedrock-invoke-model.json", 15},
		{"aws.initial-access.console-login-without-mfa.json", 1},
		{"aws.lateral-movement.ec2-instance-connect.json", 3},
		{"aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json", 4},
		{"aws.persistence.iam-backdoor-role.json", 1},
		{"aws.persistence.iam-backdoor-user.json", 1},
		{"aws.persistence.iam-create-admin-user.json", 3},
		{"aws.persistence.iam-create-backdoor-role.json", 2},
		{"aws.persistence.iam-create-user-login-profile.json", 3},
		{"aws.persistence.lambda-backdoor-function.json", 1},
		{"aws.persistence.lambda-layer-extension.json", 1},
		{"aws.persistence.lambda-overwrite-code.json", 1},
		{"aws.persistence.rolesanywhere-create-trust-anchor.json", 2},
		{"aws.persistence.sts-federation-token.json", 2},
		{"aws.privilege-escalation.iam-update-user-login-profile.json", 1},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 35 {
		t.Fatalf("found %d Stratus files, want 35", len(files))
	}
	total := 0
	for _, w := range want {
		t.Run(w.file, func(t *testing.T) {
			evs := readFile(t, filepath.Join(dir, w.file))
			if len(evs) != w.n {
				t.Errorf("got %d events, want %d", len(evs), w.n)
			}
			total += len(evs)
		})
	}
	if total != 310 {
		t.Errorf("got %d Stratus events in total, want 310", total)
	}
}

// invictusLabel is one row of the Invictus labels.jsonl, which was derived
// from the raw files independently of this package.
type invictusLabel struct {
	File        string `json:"file"`
	EventID     string `json:"eventID"`
	EventTime   string `json:"eventTime"`
	EventSource string `json:"eventSource"`
	EventName   string `json:"eventName"`
	Principal   string `json:"principal_arn"`
}

func TestDatasetInvictus(t *testing.T) {
	dir := filepath.Join(datasetsDir(t), "invictus-aws-stratus-simulation")
	files, _ := filepath.Glob(filepath.Join(dir, "raw", "*.json"))
	if len(files) != 55 {
		t.Fatalf("found %d Invictus files, want 55", len(files))
	}
	labels := map[string]invictusLabel{}
	lf, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(lf) {
		var l invictusLabel
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		labels[l.EventID] = l
	}
	seen := map[string]bool{}
	types := map[string]int{}
	for _, f := range files {
		for _, ev := range readFile(t, f) {
			if seen[ev.EventID] {
				t.Errorf("duplicate eventID %s", ev.EventID)
			}
			seen[ev.EventID] = true
			types[ev.EventType]++
			l, ok := labels[ev.EventID]
			if !ok {
				t.Errorf("event %s not in labels.jsonl", ev.EventID)
				continue
			}
			got := invictusLabel{
				File:        filepath.Base(f),
				EventID:     ev.EventID,
				EventTime:   ev.EventTime.Format(time.RFC3339),
				EventSource: ev.EventSource,
				EventName:   ev.EventName,
				Principal:   l.Principal,
			}
			if diff := cmp.Diff(l, got); diff != "" {
				t.Errorf("event %s differs from its label (-label +decoded):\n%s", ev.EventID, diff)
			}
		}
	}
	if len(seen) != 2900 {
		t.Errorf("got %d Invictus events, want 2900", len(seen))
	}
	wantTypes := map[string]int{"AwsApiCall": 2855, "AwsServiceEvent": 42, "AwsConsoleSignIn": 3}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
}

func TestDatasetOTRF(t *testing.T) {
	path := filepath.Join(datasetsDir(t), "otrf-cloudgoat-cloud-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	evs := readFile(t, path)
	if len(evs) != 103 {
		t.Fatalf("got %d events, want 103", len(evs))
	}
	// The records have no eventTime; the time comes from Logstash's
	// @timestamp.
	first, last := evs[0].EventTime, evs[0].EventTime
	for _, ev := range evs {
		if ev.EventTime.Before(first) {
			first = ev.EventTime
		}
		if ev.EventTime.After(last) {
			last = ev.EventTime
		}
	}
	wantFirst := time.Date(2020, 9, 14, 0, 44, 20, 0, time.UTC)
	wantLast := time.Date(2020, 9, 14, 1, 13, 20, 0, time.UTC)
	if !first.Equal(wantFirst) || !last.Equal(wantLast) {
		t.Errorf("time span %v – %v, want %v – %v", first, last, wantFirst, wantLast)
	}
	attack := 0
	for _, ev := range evs {
		if ev.UserIdentity.ARN == "arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/i-0317f6c6b66ae9c40" {
			attack++
		}
	}
	if attack != 11 {
		t.Errorf("got %d events by the stolen role session, want 11", attack)
	}
}

func TestDatasetPantherScenarios(t *testing.T) {
	dir := filepath.Join(datasetsDir(t), "panther-analysis-rule-tests", "scenarios")
	for _, tc := range []struct {
		file string
		n    int
	}{
		{"compromised-root-creds.attacker_cloudtrail.jsonl", 12},
		{"compromised-root-creds.victim_cloudtrail.jsonl", 4},
		{"enrichment-example.attacker_cloudtrail.jsonl", 7},
		{"enrichment-example.victim_cloudtrail.jsonl", 4},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if evs := readFile(t, filepath.Join(dir, tc.file)); len(evs) != tc.n {
				t.Errorf("got %d events, want %d", len(evs), tc.n)
			}
		})
	}
}

// TestDatasetPantherRuleTests decodes the log of every Panther test case.
// The expected split was counted independently (python3 over the same file,
// applying the documented rules): 442 decode; 22 have no usable time (null,
// "redacted", "..." or absent) and 11 no userIdentity. No log is rejected
// for another reason.
func TestDatasetPantherRuleTests(t *testing.T) {
	path := filepath.Join(datasetsDir(t), "panther-analysis-rule-tests", "cloudtrail_rule_tests.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	decoded := 0
	reasons := map[string]int{}
	for sc.Scan() {
		var tc struct {
			Name string          `json:"test_name"`
			Log  json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(sc.Bytes(), &tc); err != nil {
			t.Fatal(err)
		}
		ev, err := Decode(tc.Log)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: error %v is not a *RecordError matching ErrMalformed", tc.Name, err)
			}
			reasons[re.Reason]++
			continue
		}
		decoded++
		if ev.EventID == "" || ev.EventTime.IsZero() || ev.EventTime.Location() != time.UTC {
			t.Errorf("%s: bad event id %q or time %v", tc.Name, ev.EventID, ev.EventTime)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if decoded != 442 {
		t.Errorf("decoded %d logs, want 442", decoded)
	}
	want := map[string]int{ReasonMissingTime: 22, ReasonMissingIdentity: 11}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("rejections by reason (-want +got):\n%s", diff)
	}
}

// TestDatasetGzipAndChunking reads every Invictus and Stratus file plain,
// gzip-compressed, and one byte at a time, and expects the same events.
func TestDatasetGzipAndChunking(t *testing.T) {
	root := datasetsDir(t)
	files, _ := filepath.Glob(filepath.Join(root, "invictus-aws-stratus-simulation", "raw", "*.json"))
	more, _ := filepath.Glob(filepath.Join(root, "stratus-red-team-detonation-logs", "*.json"))
	files = append(files, more...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, bytes.NewReader(data))
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(data)
			zw.Close()
			if diff := cmp.Diff(want, readAll(t, &gz)); diff != "" {
				t.Errorf("gzip read differs (-plain +gzip):\n%s", diff)
			}
			if diff := cmp.Diff(want, readAll(t, iotest.OneByteReader(bytes.NewReader(data)))); diff != "" {
				t.Errorf("byte-at-a-time read differs (-plain +one-byte):\n%s", diff)
			}
		})
	}
}

// TestDatasetMatchesEncodingJSON decodes every dataset record with the
// chosen JSON library and with encoding/json and expects identical events.
func TestDatasetMatchesEncodingJSON(t *testing.T) {
	std := backend{name: "encoding/json", unmarshal: json.Unmarshal}
	recs := invictusRecords(t)
	for i, raw := range recs {
		want, werr := decode(std, raw)
		got, gerr := Decode(raw)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("record %d: encoding/json error %v, Decode error %v", i, werr, gerr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("record %d differs (-encoding/json +Decode):\n%s", i, diff)
		}
	}
}
