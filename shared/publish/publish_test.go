package publish_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/publish"
)

func sample(i, signals int) incident.Incident {
	t0 := time.Date(2026, 11, 21, 2, 10, 0, 0, time.UTC)
	inc := incident.Incident{
		ID: fmt.Sprintf("inc-%03d", i), Policy: "lambda-backdoor", Title: "Lambda backdoor", Severity: detection.Critical,
		Identity:  incident.Identity{Origin: "arn:aws:identitystore:::user/chris@corp.ai", Key: "arn:aws:identitystore:::user/chris@corp.ai", Type: "IdentityCenterUser", Resolved: true, Chain: []string{"a", "b"}, Accounts: []string{"222222222222"}},
		FirstSeen: t0, LastSeen: t0.Add(time.Hour), Updated: t0.Add(time.Hour), Version: 1, Attack: []string{"T1546"},
		Resources: []detection.Resource{{Type: "events:rule", ARN: "arn:aws:events:us-east-1:222222222222:rule/x"}},
		Actions:   []incident.Action{{Action: "delete-eventbridge-rule", Target: "arn:aws:events:us-east-1:222222222222:rule/x", Mode: "dry-run", Status: "planned", Reason: "r"}},
	}
	for j := 0; j < signals; j++ {
		inc.Signals = append(inc.Signals, incident.SignalRef{ID: fmt.Sprintf("s%05d", j), Kind: "recon-burst", Severity: detection.Medium,
			EventID: fmt.Sprintf("e%05d", j), EventName: "DescribeInstances", Time: t0, Rationale: strings.Repeat("x", 100)})
	}
	return inc
}

func TestEncodeFitsTheLimit(t *testing.T) {
	b, err := publish.Encode(sample(1, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 256*1024-512 {
		t.Errorf("detail of %d bytes", len(b))
	}
	var d publish.Detail
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.SignalsOmitted == 0 || len(d.Signals)+d.SignalsOmitted != 5000 {
		t.Errorf("%d signals kept, %d omitted; want a cut that adds up to 5000", len(d.Signals), d.SignalsOmitted)
	}
}

// TestPublishThroughEventBridge publishes through the emulator's
// EventBridge to an SQS queue subscribed by a rule, as the responder and
// the incident topic subscribe, and reads the events back.
func TestPublishThroughEventBridge(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	bus, queueURL := awstest.BusQueue(t, ctx, eb, q, `{"source":["trailhound"],"detail-type":["Trailhound Incident"]}`)

	var incs []incident.Incident
	for i := 0; i < 12; i++ {
		incs = append(incs, sample(i, 3))
	}
	incs = append(incs, sample(99, 5000)) // over the limit: cut to fit
	published, err := publish.New(eb, bus, nil).Publish(ctx, incs)
	if err != nil || len(published) != len(incs) {
		t.Fatalf("Publish: %d of %d published, %v", len(published), len(incs), err)
	}

	got := map[string]publish.Detail{}
	for tries := 0; len(got) < len(incs) && tries < 20; tries++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var env struct {
				Source     string         `json:"source"`
				DetailType string         `json:"detail-type"`
				Detail     publish.Detail `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			if env.Source != publish.Source || env.DetailType != publish.DetailTypeIncident {
				t.Errorf("source %q detail-type %q", env.Source, env.DetailType)
			}
			got[env.Detail.ID] = env.Detail
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != len(incs) {
		t.Fatalf("%d incidents arrived, want %d", len(got), len(incs))
	}
	if diff := cmp.Diff(incs[0], got[incs[0].ID].Incident); diff != "" {
		t.Errorf("incident changed on the bus (-want +got):\n%s", diff)
	}
	if big := got["inc-099"]; big.SignalsOmitted == 0 {
		t.Errorf("the oversized incident arrived with %d signals and none omitted", len(big.Signals))
	}
}
