package detection_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
)

// The ids are hashed from a buffer rather than joined strings: they are
// still the first 12 bytes of the SHA-256 of the parts joined with NULs,
// then the kind, whatever the length of the parts.
func TestSlotIDs(t *testing.T) {
	want := func(kind string, slot ...string) string {
		h := sha256.Sum256([]byte(strings.Join(slot, "\x00") + "\x00" + kind))
		return hex.EncodeToString(h[:12])
	}
	long := strings.Repeat("arn:aws:iam::111122223333:role/a-long-role-name/", 10)
	at := time.Date(2024, 1, 1, 10, 17, 42, 0, time.FixedZone("CET", 3600))
	if got, w := detection.SignalID("event-1", "kind"), want("kind", "event-1"); got != w {
		t.Errorf("SignalID = %s, want %s", got, w)
	}
	for _, slot := range [][]string{nil, {""}, {"origin"}, {"origin", "kind", "resource"}, {long, long}} {
		if got, w := detection.SlotID("kind", slot...), want("kind", slot...); got != w {
			t.Errorf("SlotID(%.20q) = %s, want %s", slot, got, w)
		}
		window := detection.WindowSlot(at, 10*time.Minute)
		if got, w := detection.WindowSlotID("kind", at, 10*time.Minute, slot...), want("kind", append(slot, window)...); got != w {
			t.Errorf("WindowSlotID(%.20q) = %s, want %s", slot, got, w)
		}
	}
	if got, w := detection.WindowSlot(at, 10*time.Minute), "2024-01-01T09:10:00Z"; got != w {
		t.Errorf("WindowSlot = %s, want %s", got, w)
	}
}

func TestNewResourceRegion(t *testing.T) {
	ev := &cloudtrail.Event{AWSRegion: "eu-west-1", RecipientAccountID: "111122223333"}
	for arn, want := range map[string]string{
		"arn:aws:lambda:us-east-1:111122223333:function:f": "us-east-1",
		"arn:aws:s3:::bucket":                              "",
		"arn:aws:iam::111122223333:role/r":                 "",
		"arn:aws:sns:us-west-2:111122223333":               "us-west-2",
		"arn:aws:sns:us-west-2":                            "eu-west-1",
		"arn:":                                             "eu-west-1",
	} {
		if got := detection.NewResource("any", arn, ev).Region; got != want {
			t.Errorf("NewResource(%q).Region = %q, want %q", arn, got, want)
		}
	}
}
