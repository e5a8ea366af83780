package handler_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// An incident stored by a run whose publication failed (EventBridge
// throttling every attempt, injected through the SDK's middleware) is
// published by the next run, although nothing new happened, and only once.
func TestOutboxPublishesWhatAFailedRunStored(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	q := sqs.NewFromConfig(cfg)
	faults := &awstest.Faults{}
	faulty := cfg.Copy()
	awstest.FastRetries(&faulty)
	faulty.APIOptions = append(faulty.APIOptions, faults.Inject)
	eb := eventbridge.NewFromConfig(faulty)
	bus, queueURL := awstest.BusQueue(t, ctx, eventbridge.NewFromConfig(cfg), q,
		`{"source":["trailhound"],"detail-type":["Trailhound Incident"]}`)

	st := memstore.New()
	p, err := pipeline.New(st, pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lambda.NewHandler(handler.NewDetector(p, nil).Handle).Invoke(ctx, deliver(t, "d1", ruleRecord(t, "cloudtrail-stopped"))); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 7, 31, 13, 10, 0, 0, time.UTC)
	corr := lambda.NewHandler(handler.NewCorrelator(p, publish.New(eb, bus, nil), func() time.Time { return now }, nil,
		handler.WithOutbox(st, 24*time.Hour)).Handle)
	tick := []byte(`{"version":"0","id":"tick","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)

	faults.Throttle(func(string, int) bool { return true })
	if _, err := corr.Invoke(ctx, tick); err == nil {
		t.Fatal("correlator run with EventBridge down returned no error")
	}
	backlog, err := st.Unpublished(ctx, now.Add(-24*time.Hour))
	if err != nil || len(backlog) == 0 {
		t.Fatalf("after the failed run: %d unpublished incidents (%v), want the stored one", len(backlog), err)
	}

	faults.Throttle(nil)
	for _, minutes := range []time.Duration{1, 2} {
		now = now.Add(minutes * time.Minute)
		if _, err := corr.Invoke(ctx, tick); err != nil {
			t.Fatalf("run after the outage: %v", err)
		}
	}
	if left, err := st.Unpublished(ctx, now.Add(-24*time.Hour)); err != nil || len(left) != 0 {
		t.Errorf("after the outage: %d unpublished (%v), want none", len(left), err)
	}
	got := map[string]int{}
	for tries := 0; tries < 5; tries++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var env struct {
				Detail publish.Detail `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatal(err)
			}
			got[env.Detail.ID]++
		}
	}
	for _, inc := range backlog {
		if got[inc.ID] != 1 {
			t.Errorf("incident %s (%s) reached the bus %d times, want once", inc.ID, inc.Policy, got[inc.ID])
		}
	}
}
