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
