package incident

import (
	"slices"
	"testing"
)

func TestMergeStrings(t *testing.T) {
	have := []string{"b", "d"}
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"nothing new", mergeStrings(have, "d", "", "b"), []string{"b", "d"}},
		{"new values", mergeStrings(have, "c", "a", "c"), []string{"a", "b", "c", "d"}},
		{"unsorted input is sorted", mergeStrings([]string{"z", "a"}), []string{"a", "z"}},
		{"list", mergeList(have, "e,b,,a"), []string{"a", "b", "d", "e"}},
		{"empty list", mergeList(have, ""), []string{"b", "d"}},
		{"known API", mergeAPI([]string{"iam:ListUsers"}, "iam.amazonaws.com", "ListUsers"), []string{"iam:ListUsers"}},
		{"new API", mergeAPI([]string{"iam:ListUsers"}, "iam.amazonaws.com", "ListRoles"), []string{"iam:ListRoles", "iam:ListUsers"}},
		{"API of another service", mergeAPI([]string{"iam:ListUsers"}, "sso.amazonaws.com", "ListUsers"), []string{"iam:ListUsers", "sso:ListUsers"}},
		{"nil stays nil", mergeStrings(nil, ""), nil},
	} {
		if !slices.Equal(tc.got, tc.want) || (tc.want == nil) != (tc.got == nil) {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !slices.Equal(have, []string{"b", "d"}) {
		t.Errorf("the merged list was written to: %q", have)
	}
	// A list that gains nothing comes back capped: appending to it must
	// not write into the original's spare room.
	roomy := make([]string, 1, 4)
	roomy[0] = "a"
	same := mergeStrings(roomy, "a")
	_ = append(same, "x")
	if roomy[:2][1] == "x" {
		t.Error("an append to the result wrote into the input's array")
	}
}
