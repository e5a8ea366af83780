package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// failing is an Observer whose store is down.
type failing struct{}

func (failing) Observe(context.Context, *cloudtrail.Event) (pipeline.Observation, error) {
	return pipeline.Observation{}, errors.New("store unavailable")
}

func invoke(t *testing.T, d *handler.Detector, payload []byte) error {
	t.Helper()
	_, err := lambda.NewHandler(d.Handle).Invoke(context.Background(), payload)
	return err
}

func TestDetectorThroughTheLambdaDecoder(t *testing.T) {
	envelope, err := os.ReadFile(filepath.Join("..", "cloudtrail", "testdata", "envelope-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(memstore.New(), pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d := handler.NewDetector(p, slog.New(slog.NewJSONHandler(&logs, nil)))

	t.Run("a CloudTrail event is observed", func(t *testing.T) {
		if err := invoke(t, d, envelope); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
	})
	t.Run("a malformed event is acknowledged and logged", func(t *testing.T) {
		var env map[string]any
		if err := json.Unmarshal(envelope, &env); err != nil {
			t.Fatal(err)
		}
		delete(env["detail"].(map[string]any), "eventTime")
		bad, _ := json.Marshal(env)
		if err := invoke(t, d, bad); err != nil {
			t.Fatalf("malformed event returned %v, want it acknowledged", err)
		}
		if !strings.Contains(logs.String(), "malformed event acknowledged") || !strings.Contains(logs.String(), "missing eventTime") {
			t.Errorf("log does not say why:\n%s", logs.String())
		}
	})
	t.Run("a persistence failure is returned for retry", func(t *testing.T) {
		if err := invoke(t, handler.NewDetector(failing{}, nil), envelope); err == nil {
			t.Error("store failure acknowledged; want an error so EventBridge retries")
		}
	})
}

// A role session's first call delivered before the AssumeRole that created
// it: the detector asks Lambda to retry it, until the wait has passed.
func TestDetectorWaitsForTheIssuer(t *testing.T) {
	envelope := []byte(`{"version":"0","id":"d1","detail-type":"AWS API Call via CloudTrail","source":"aws.lambda","account":"333333333333",
	  "time":"2026-11-21T02:30:05Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.09","eventID":"e1","eventTime":"2026-11-21T02:30:05Z",
	  "eventSource":"lambda.amazonaws.com","eventName":"ListFunctions","awsRegion":"us-east-1","recipientAccountId":"333333333333",
	  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::333333333333:assumed-role/ops/s","accountId":"333333333333","accessKeyId":"ASIAFRESH",
	    "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::333333333333:role/ops"},"attributes":{"creationDate":"2026-11-21T02:30:00Z"}}}}}`)
	eventTime := time.Date(2026, 11, 21, 2, 30, 5, 0, time.UTC)
	now := eventTime
	opts := pipeline.DefaultOptions()
	opts.IssuerWait, opts.Clock = 2*time.Minute, func() time.Time { return now }
	p, err := pipeline.New(memstore.New(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := handler.NewDetector(p, nil)
	for _, c := range []struct {
		after   time.Duration
		pending bool
	}{{0, true}, {time.Minute, true}, {3 * time.Minute, false}} {
		now = eventTime.Add(c.after)
		err := invoke(t, d, envelope)
		if got := err != nil; got != c.pending {
			t.Errorf("%v after the event: error %v, want pending %v", c.after, err, c.pending)
		}
		if err != nil && !strings.Contains(err.Error(), pipeline.ErrIssuerPending.Error()) {
			t.Errorf("error %v does not say the event waits for its issuer", err)
		}
	}
}
