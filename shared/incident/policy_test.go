package incident_test

import (
	"strings"
	"testing"

	"github.com/trailhound/trailhound/shared/incident"
)

func TestPoliciesAreValidAndCoverTheContract(t *testing.T) {
	ps := incident.Policies()
	if err := incident.ValidatePolicies(ps); err != nil {
		t.Fatal(err)
	}
	// DESIGN.md's stable policy ids: outside checks match on them.
	want := []string{"compromised-credentials", "lambda-backdoor", "privilege-escalation", "defense-evasion",
		"cloud-ransomware", "cryptomining", "data-exfiltration", "root-activity"}
	have := map[string]bool{}
	for _, p := range ps {
		have[p.ID] = true
	}
	for _, id := range want {
		if !have[id] {
			t.Errorf("policy %s missing", id)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d policies, want %d", len(ps), len(want))
	}
}

func TestValidatePoliciesRejects(t *testing.T) {
	bad := []incident.Policy{
		{ID: "Bad", Title: "t", Rationale: "r", Window: 1, AllOf: [][]string{{"x"}}},
		{ID: "dup", Title: "t", Rationale: "r", Window: 1, AllOf: [][]string{{"x"}}},
		{ID: "dup", Title: "", Rationale: "", Window: 0, AllOf: [][]string{{}}, Attack: []string{"1078"}},
	}
	err := incident.ValidatePolicies(bad)
	if err == nil {
		t.Fatal("bad policies accepted")
	}
	for _, w := range []string{"lower-case", "duplicate id", "empty clause", "window must be positive", "no title or rationale", "malformed ATT&CK"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}
