package detection_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// evidence is one line of testdata/rules/<rule id>.jsonl: a real CloudTrail
// record, whether the rule must fire on it, and where it comes from.
type evidence struct {
	Expect bool            `json:"expect"`
	Source string          `json:"source"`
	Record json.RawMessage `json:"record"`
	// Synthetic, when set, says what was changed in the real record named
	// by Source, for the behaviours no public dataset shows
	// (testdata/extract/synthetic.py).
	Synthetic string `json:"synthetic,omitempty"`
}

type noLedger struct{}

func (noLedger) Remember(context.Context, identity.IssuedKey) error { return nil }
func (noLedger) Lookup(context.Context, string, time.Time) (identity.IssuedKey, bool, error) {
	return identity.IssuedKey{}, false, nil
}

func catalogue(t testing.TB) *detection.Catalogue {
	t.Helper()
	c, err := detection.NewCatalogue(detection.Rules(), detection.Predicates())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fires reports whether rule id raises a signal for the record.
func fires(t *testing.T, c *detection.Catalogue, id string, raw []byte) bool {
	t.Helper()
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatalf("evidence record does not decode: %v", err)
	}
	at, err := identity.NewAttributor(noLedger{}).Attribute(context.Background(), &ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Evaluate(&ev, at) {
		if s.Kind == id {
			if s.ID == "" || s.Rationale == "" || len(s.Attack) == 0 || s.EventID != ev.EventID {
				t.Errorf("incomplete signal %+v", s)
			}
			return true
		}
	}
	return false
}

// TestCatalogueEvidence walks the whole catalogue: every rule ships at
// least one positive and one negative real record, and behaves on each.
func TestCatalogueEvidence(t *testing.T) {
	c := catalogue(t)
	for _, r := range c.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "rules", r.ID+".jsonl"))
			if err != nil {
				t.Fatalf("rule has no evidence file: %v", err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			pos, neg := 0, 0
			for line := 1; sc.Scan(); line++ {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				var e evidence
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("line %d: %v", line, err)
				}
				if e.Source == "" {
					t.Errorf("line %d: evidence without a source", line)
				}
				if e.Expect {
					pos++
				} else {
					neg++
				}
				if got := fires(t, c, r.ID, e.Record); got != e.Expect {
					t.Errorf("line %d (%s): fired=%v, want %v", line, e.Source, got, e.Expect)
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("%d positive and %d negative examples; want at least one of each", pos, neg)
			}
		})
	}
}

func TestCatalogueIsValid(t *testing.T) {
	c := catalogue(t)
	if n := len(c.Rules()); n < 40 {
		t.Errorf("%d rules", n)
	}
	for _, r := range c.Rules() {
		if len(r.Tags) == 0 {
			t.Errorf("rule %s has no tags: no composite policy would use it", r.ID)
		}
	}
}

func TestNewCatalogueRejectsBadRules(t *testing.T) {
	bad := []detection.Rule{
		{ID: "Bad Id", Severity: detection.High, Attack: []string{"T1562.008"}, Rationale: "x", Source: "s", Events: []string{"E"}},
		{ID: "dup", Severity: detection.High, Attack: []string{"T1562.008"}, Rationale: "x", Source: "s", Events: []string{"E"}},
		{ID: "dup", Severity: detection.High, Attack: []string{"1562"}, Rationale: "", Source: "", Events: nil},
		{ID: "ops", Severity: detection.High, Attack: []string{"T1078"}, Rationale: "x", Source: "s", Events: []string{"E"},
			Where: []detection.Cond{{Field: "a", Op: "nope"}, {Field: "b", Op: detection.Is, Values: []string{"no-such-predicate"}}, {Field: "c", Op: detection.Matches, Values: []string{"("}}}},
	}
	_, err := detection.NewCatalogue(bad, detection.Predicates())
	if err == nil {
		t.Fatal("NewCatalogue accepted bad rules")
	}
	for _, want := range []string{"lower-case", "duplicate id", "malformed ATT&CK id", "no rationale", "no event source", "unknown op", "unknown predicate", "pattern on c"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	c := catalogue(b)
	raw := []byte(`{"eventVersion":"1.08","eventID":"x","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","awsRegion":"us-east-1",
	"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333","userName":"a"},
	"requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess","userName":"b"}}`)
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	at := identity.Attribution{Origin: identity.Origin{ARN: "arn:aws:iam::111122223333:user/a", Type: "IAMUser"}}
	for b.Loop() {
		if len(c.Evaluate(&ev, at)) == 0 {
			b.Fatal("no signal")
		}
	}
}
