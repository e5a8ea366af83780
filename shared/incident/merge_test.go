package incident

import (
	"slices"
	"testing"

	"github.com/trailhound/trailhound/shared/detection"
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

// A burst signal stands for its window: its events, failures, regions,
// services and APIs all count in the incident's facts, its own event once.
func TestBurstSignalFacts(t *testing.T) {
	var inc Incident
	inc.addSignalFacts(&detection.Signal{EventSource: "sts.amazonaws.com", EventName: "AssumeRole", Region: "us-east-1", ErrorCode: "AccessDenied",
		Facts: map[string]string{"events": "23", "errors": "20", "regions": "us-east-1", "services": "ec2.amazonaws.com,sts.amazonaws.com",
			"apis": "ec2:DescribeInstanceAttribute,sts:AssumeRole"}})
	inc.addSignalFacts(&detection.Signal{EventSource: "iam.amazonaws.com", EventName: "CreateUser", Region: "us-east-1"})
	f := inc.Facts
	if f.Events != 24 || f.Errors != 20 {
		t.Errorf("events %d errors %d, want 24 and 20", f.Events, f.Errors)
	}
	if want := []string{"ec2:DescribeInstanceAttribute", "iam:CreateUser", "sts:AssumeRole"}; !slices.Equal(f.APIs, want) {
		t.Errorf("apis %q, want %q", f.APIs, want)
	}
	if want := []string{"ec2.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"}; !slices.Equal(f.Services, want) {
		t.Errorf("services %q, want %q", f.Services, want)
	}
}
