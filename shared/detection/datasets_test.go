package detection_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// datasetsDir is where the shared CloudTrail datasets are:
// $TRAILHOUND_DATASETS, or ../../../shared/datasets from the package
// directory. Tests that need them skip when they are absent.
func datasetsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TRAILHOUND_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
		t.Skipf("datasets not found at %s (set TRAILHOUND_DATASETS): %v", dir, err)
	}
	return dir
}

// mapLedger is an identity.Ledger in a map, so that role chains resolve
// within one replay.
type mapLedger map[string]identity.IssuedKey

func (m mapLedger) Remember(_ context.Context, k identity.IssuedKey) error {
	m[k.AccessKeyID] = k
	return nil
}

func (m mapLedger) Lookup(_ context.Context, key string, at time.Time) (identity.IssuedKey, bool, error) {
	k, ok := m[key]
	if !ok || !at.Before(k.Expires) {
		return identity.IssuedKey{}, false, nil
	}
	return k, true, nil
}

// labelled is one dataset record with its ground-truth label.
type labelled struct {
	Key   string // where it is: file and index or event id
	Label string
	Raw   json.RawMessage
}

// stratusTechniques returns the Stratus detonation files: technique id to
// records, in file order.
func stratusTechniques(t *testing.T, dir string) map[string][]labelled {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "stratus-red-team-detonation-logs", "aws.*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no Stratus detonation logs in %s", dir)
	}
	out := map[string][]labelled{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []json.RawMessage
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tech := strings.TrimSuffix(filepath.Base(f), ".json")
		for i, r := range recs {
			out[tech] = append(out[tech], labelled{Key: tech + "#" + strconv.Itoa(i), Label: "attack", Raw: r})
		}
	}
	return out
}

// invictusEvents returns the Invictus records in time order with the labels
// of labels.jsonl.
func invictusEvents(t *testing.T, dir string) []labelled {
	t.Helper()
	base := filepath.Join(dir, "invictus-aws-stratus-simulation")
	labels := map[string]string{}
	f, err := os.Open(filepath.Join(base, "labels.jsonl"))
	if err != nil {
		t.Skipf("no Invictus labels: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			EventID string `json:"eventID"`
			Label   string `json:"label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		labels[l.EventID] = l.Label
	}
	files, _ := filepath.Glob(filepath.Join(base, "raw", "*.json"))
	type rec struct {
		time string
		l    labelled
	}
	var all []rec
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		var w struct{ Records []json.RawMessage }
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, r := range w.Records {
			var h struct{ EventID, EventTime string }
			_ = json.Unmarshal(r, &h)
			all = append(all, rec{h.EventTime, labelled{Key: h.EventID, Label: labels[h.EventID], Raw: r}})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].time < all[j].time })
	out := make([]labelled, len(all))
	for i, r := range all {
		out[i] = r.l
	}
	return out
}

// cloudgoatEvents returns the OTRF CloudGoat records, labelled "pedro"
// (the operator), "attack" (the stolen instance role) or "service".
func cloudgoatEvents(t *testing.T, dir string) []labelled {
	t.Helper()
	fn := filepath.Join(dir, "otrf-cloudgoat-cloud-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	f, err := os.Open(fn)
	if err != nil {
		t.Skipf("no CloudGoat dataset: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []labelled
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var h struct {
			EventID      string `json:"eventID"`
			UserIdentity struct {
				ARN string `json:"arn"`
			} `json:"userIdentity"`
		}
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatal(err)
		}
		label := "service"
		switch {
		case strings.HasSuffix(h.UserIdentity.ARN, ":user/pedro"):
			label = "pedro"
		case strings.Contains(h.UserIdentity.ARN, ":assumed-role/"):
			label = "attack"
		}
		out = append(out, labelled{Key: h.EventID, Label: label, Raw: json.RawMessage(line)})
	}
	return out
}

// replay decodes and attributes records in order over one map ledger and
// calls f with each event and its signals.
func replay(t *testing.T, recs []labelled, f func(l labelled, ev *cloudtrail.Event, at identity.Attribution)) {
	t.Helper()
	attr := identity.NewAttributor(mapLedger{})
	for _, l := range recs {
		ev, err := cloudtrail.Decode(l.Raw)
		if err != nil {
			t.Fatalf("%s: %v", l.Key, err)
		}
		at, err := attr.Attribute(context.Background(), &ev)
		if err != nil {
			t.Fatal(err)
		}
		f(l, &ev, at)
	}
}
