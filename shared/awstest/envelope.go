package awstest

import (
	"encoding/json"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
)

// Envelope wraps a CloudTrail record (detail, the record's JSON) as an
// EventBridge rule delivers it to the detector.
func Envelope(ev *cloudtrail.Event, detail []byte) ([]byte, error) {
	return json.Marshal(map[string]any{
		"version": "0", "id": "delivery-" + ev.EventID, "detail-type": "AWS API Call via CloudTrail",
		"source": "aws." + ev.Service(), "account": ev.Account(), "time": ev.EventTime.Format(time.RFC3339),
		"region": ev.AWSRegion, "resources": []string{}, "detail": json.RawMessage(detail),
	})
}
