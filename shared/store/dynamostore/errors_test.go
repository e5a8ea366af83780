package dynamostore_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// injected is what the injecting middleware answers every attempt with:
// a response for the SDK to deserialize, or an error from the transport.
type injected struct {
	status int
	body   string
	err    error
}

// apiError returns a DynamoDB (JSON 1.0) error response.
func apiError(status int, code string) injected {
	return injected{status: status, body: `{"__type":"com.amazonaws.dynamodb.v20120810#` + code + `","message":"injected ` + code + `"}`}
}

// injectingClient returns a client whose every attempt ends in the
// Deserialize step with inj instead of reaching the network: the SDK's
// own deserializer turns the response into its typed error, and its
// standard retryer (backing off by at most a millisecond here) retries
// what it retries. attempts counts the attempts. The client needs no
// emulator.
func injectingClient(inj injected, attempts *atomic.Int32, cancel context.CancelFunc) *dynamodb.Client {
	inject := middleware.DeserializeMiddlewareFunc("InjectFailure", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		attempts.Add(1)
		if cancel != nil {
			cancel()
			return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: ctx.Err()}
		}
		if inj.err != nil {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithyhttp.RequestSendError{Err: inj.err}
		}
		resp := &http.Response{
			StatusCode: inj.status,
			Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:       io.NopCloser(strings.NewReader(inj.body)),
		}
		return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
	})
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDINJECT", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = time.Millisecond
		}),
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Deserialize.Add(inject, middleware.After)
		}},
	})
}

// storeCalls calls every method of the store that reaches DynamoDB.
func storeCalls(ctx context.Context, s store.Store) map[string]func() error {
	at := time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
	origin := identity.Origin{ARN: "arn:aws:iam::111122223333:user/inject", Type: identity.TypeIAMUser}
	sig := detection.Signal{ID: "sig-inject", Identity: origin, Time: at}
	inc := incident.Incident{ID: "inc-inject", Policy: "p", Identity: incident.Identity{Key: origin.Key()}, FirstSeen: at, LastSeen: at, Version: 2}
	return map[string]func() error{
		"PutKey": func() error {
			return s.PutKey(ctx, identity.IssuedKey{AccessKeyID: "ASIAINJECT", Origin: origin, Expires: at})
		},
		"LookupKey": func() error { _, err := s.LookupKey(ctx, "ASIAINJECT", at); return err },
		"Profile":   func() error { _, err := s.Profile(ctx, origin.Key()); return err },
		"AddFact": func() error {
			_, err := s.AddFact(ctx, origin.Key(), baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}, at, "")
			return err
		},
		"AddEvents":        func() error { return s.AddEvents(ctx, origin.Key(), 1, at) },
		"PutSignal":        func() error { _, err := s.PutSignal(ctx, sig, at.Add(time.Hour)); return err },
		"Signals":          func() error { _, err := s.Signals(ctx, store.SignalQuery{Identity: origin.Key()}); return err },
		"Watermark":        func() error { _, err := s.Watermark(ctx, "w"); return err },
		"AdvanceWatermark": func() error { _, err := s.AdvanceWatermark(ctx, "w", at); return err },
		"PutIncident":      func() error { return s.PutIncident(ctx, inc) },
		"Incident":         func() error { _, err := s.Incident(ctx, inc.ID); return err },
		"Incidents":        func() error { _, err := s.Incidents(ctx, store.IncidentQuery{Policy: "p"}); return err },
	}
}

// callNames returns the names of storeCalls, sorted.
func callNames() []string {
	return slices.Sorted(maps.Keys(storeCalls(context.Background(), nil)))
}

// TestTransientErrors checks that what is worth retrying later comes back
// as store.ErrTransient, after the SDK's retryer has tried three times:
// this is how the pipeline decides to let EventBridge retry an event.
func TestTransientErrors(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name      string
		inj       injected
		transient bool
	}{
		{"throttling", apiError(400, "ThrottlingException"), true},
		{"provisioned throughput exceeded", apiError(400, "ProvisionedThroughputExceededException"), true},
		{"request limit exceeded", apiError(400, "RequestLimitExceeded"), true},
		{"internal server error", apiError(500, "InternalServerError"), true},
		{"503 without a body", injected{status: 503, body: ""}, true},
		{"timeout", injected{err: timeout}, true},
		{"connection refused", injected{err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, true},
		{"validation", apiError(400, "ValidationException"), false},
		{"missing table", apiError(400, "ResourceNotFoundException"), false},
		{"access denied", apiError(400, "AccessDeniedException"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range callNames() {
				t.Run(name, func(t *testing.T) {
					var attempts atomic.Int32
					s := dynamostore.New(injectingClient(tt.inj, &attempts, nil), "injected")
					err := storeCalls(t.Context(), s)[name]()
					if err == nil {
						t.Fatal("err = nil, want the injected failure")
					}
					if got := errors.Is(err, store.ErrTransient); got != tt.transient {
						t.Errorf("errors.Is(err, ErrTransient) = %t, want %t; err = %v", got, tt.transient, err)
					}
					if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
						t.Errorf("err = %v, want neither ErrConflict nor ErrNotFound", err)
					}
					wantAttempts := int32(1)
					if tt.transient {
						wantAttempts = 3 // the standard retryer's default
					}
					if n := attempts.Load(); n != wantAttempts {
						t.Errorf("%d attempts, want %d (the SDK's retryer)", n, wantAttempts)
					}
				})
			}
		})
	}
}

// TestConditionFailures checks the contract's meaning of a failed
// condition, whatever the write.
func TestConditionFailures(t *testing.T) {
	var attempts atomic.Int32
	s := dynamostore.New(injectingClient(apiError(400, "ConditionalCheckFailedException"), &attempts, nil), "injected")
	calls := storeCalls(t.Context(), s)
	if err := calls["PutIncident"](); !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTransient) {
		t.Errorf("PutIncident: err = %v, want ErrConflict", err)
	}
	for _, name := range []string{"AddFact", "PutSignal", "AdvanceWatermark"} {
		if err := calls[name](); err != nil {
			t.Errorf("%s: err = %v, want nil (false)", name, err)
		}
	}
	at := time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
	if ok, _ := s.PutSignal(t.Context(), detection.Signal{ID: "x", Time: at}, at); ok {
		t.Error("PutSignal over a failed condition = true, want false")
	}
	if ok, _ := s.AdvanceWatermark(t.Context(), "w", at); ok {
		t.Error("AdvanceWatermark over a failed condition = true, want false")
	}
}

// TestCancellationDuringACall checks that a context cancelled while a
// call is in flight comes back as the context's error, not as transient.
func TestCancellationDuringACall(t *testing.T) {
	for _, name := range callNames() {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var attempts atomic.Int32
			s := dynamostore.New(injectingClient(injected{}, &attempts, cancel), "injected")
			err := storeCalls(ctx, s)[name]()
			if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrTransient) {
				t.Errorf("err = %v, want context.Canceled and not ErrTransient", err)
			}
			if n := attempts.Load(); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}
