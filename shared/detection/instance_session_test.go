package detection

import (
	"regexp"
	"testing"
)

// TestIsInstanceSession holds the hand-written check to the pattern it
// replaced.
func TestIsInstanceSession(t *testing.T) {
	re := regexp.MustCompile(`^i-[0-9a-fA-F]{8,17}$`)
	for _, name := range []string{
		"i-0abc1234", "i-0abc123", "i-0123456789abcdef0", "i-0123456789abcdef01", "i-0123456789ABCDEF",
		"i-0abc123g", "I-0abc1234", "i_0abc1234", "i-", "", "i-0abc1234\n", "xi-0abc1234", "i-0abc1234 ",
		"botocore-session-1722", "i-deadbeefdeadbeef",
	} {
		if got, want := isInstanceSession(name), re.MatchString(name); got != want {
			t.Errorf("isInstanceSession(%q) = %v, pattern says %v", name, got, want)
		}
	}
}
