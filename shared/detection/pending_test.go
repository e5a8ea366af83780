package detection

import "testing"

// TestPendingRulesAreValid keeps the rules waiting for evidence buildable:
// valid on their own and with the shipped catalogue (no id used twice).
func TestPendingRulesAreValid(t *testing.T) {
	pending := pendingRules()
	if _, err := NewCatalogue(append(Rules(), pending...), Predicates()); err != nil {
		t.Fatal(err)
	}
	for _, r := range pending {
		if len(r.Tags) == 0 {
			t.Errorf("pending rule %s has no tags", r.ID)
		}
		t.Logf("pending (no real record in the datasets yet): %s", r.ID)
	}
}
