package publish_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/store"
)

// TestPublishResponses puts 12 decisions (two batches) on an emulator bus
// and reads them back from a queue subscribed to "Trailhound Response".
func TestPublishResponses(t *testing.T) {
	cfg := awstest.Config(t)
	ctx := t.Context()
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	bus, url := awstest.BusQueue(t, ctx, eb, q, fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, publish.Source, publish.DetailTypeResponse))
	var rs []publish.Response
	for i := range 12 {
		rs = append(rs, publish.Response{Severity: detection.Info, AuditRecord: store.AuditRecord{
			ID: fmt.Sprintf("aud-%02d", i), Incident: "inc-1", Action: "delete-eventbridge-rule", Target: "arn:aws:events:us-east-1:222222222222:rule/x",
			Mode: "enforce", Status: "done", Time: time.Date(2026, 11, 29, 0, 0, i, 0, time.UTC), Before: json.RawMessage(`{"name":"x"}`), Version: 2}})
	}
	rs[11].Status, rs[11].Severity = "failed", detection.High
	if err := publish.New(eb, bus, nil).PublishResponses(ctx, rs); err != nil {
		t.Fatal(err)
	}
	got := map[string]publish.Response{}
	for tries := 0; tries < 20 && len(got) < len(rs); tries++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var env struct {
				Source string           `json:"source"`
				Detail publish.Response `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatal(err)
			}
			if env.Source != publish.Source {
				t.Errorf("source %q", env.Source)
			}
			got[env.Detail.ID] = env.Detail
		}
	}
	if len(got) != len(rs) {
		t.Fatalf("%d of %d decisions received", len(got), len(rs))
	}
	r := got["aud-11"]
	var before map[string]string
	if err := json.Unmarshal(r.Before, &before); err != nil || r.Status != "failed" || r.Severity != detection.High || before["name"] != "x" {
		t.Errorf("aud-11 received as %+v (%v)", r, err)
	}
}
