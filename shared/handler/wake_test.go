package handler_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// recordingInvoker passes invocations to the emulator's Lambda and keeps
// what it answered.
type recordingInvoker struct {
	*awslambda.Client
	mu    sync.Mutex
	calls []invocation
}

type invocation struct {
	function string
	kind     lambdatypes.InvocationType
	payload  []byte
	status   int32
}

func (r *recordingInvoker) Invoke(ctx context.Context, in *awslambda.InvokeInput, opts ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error) {
	out, err := r.Client.Invoke(ctx, in, opts...)
	if err == nil {
		r.mu.Lock()
		r.calls = append(r.calls, invocation{aws.ToString(in.FunctionName), in.InvocationType, in.Payload, out.StatusCode})
		r.mu.Unlock()
	}
	return out, err
}

// ruleRecord returns the first positive record of a catalogue rule's
// evidence file.
func ruleRecord(t *testing.T, rule string) json.RawMessage {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "detection", "testdata", "rules", rule+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Expect bool            `json:"expect"`
			Record json.RawMessage `json:"record"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Expect {
			return line.Record
		}
	}
	t.Fatalf("no positive record for %s", rule)
	return nil
}

func deliver(t *testing.T, id string, record json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": "AWS API Call via CloudTrail",
		"source": "aws.cloudtrail", "account": "111122223333", "time": "2024-07-31T13:06:24Z", "region": "us-east-1",
		"resources": []string{}, "detail": record})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A critical signal wakes the correlator function at once, through a real
// (emulated) asynchronous Lambda invocation; a second one for the same
// identity within the debounce does not invoke again, and ordinary events
// invoke nothing.
func TestCriticalSignalWakesTheCorrelator(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	fn := correlatorFunction(t, ctx, cfg)

	rec := &recordingInvoker{Client: awslambda.NewFromConfig(cfg)}
	clock := time.Date(2024, 7, 31, 13, 7, 0, 0, time.UTC)
	waker := handler.NewCorrelatorWaker(rec, fn, func() time.Time { return clock })
	p, err := pipeline.New(memstore.New(), pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := lambda.NewHandler(handler.NewDetector(p, nil, handler.WakeOnCritical(waker)).Handle)

	ordinary, err := os.ReadFile(filepath.Join("..", "cloudtrail", "testdata", "envelope-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Invoke(ctx, ordinary); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 0 {
		t.Fatalf("an ordinary event invoked the correlator: %+v", rec.calls)
	}

	stop := ruleRecord(t, "cloudtrail-stopped")
	if _, err := d.Invoke(ctx, deliver(t, "d1", stop)); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("%d invocations after a critical signal, want 1", len(rec.calls))
	}
	c := rec.calls[0]
	if c.function != fn || c.kind != lambdatypes.InvocationTypeEvent || c.status != 202 {
		t.Errorf("invocation %s %s answered %d; want an Event invocation of %s answered 202", c.function, c.kind, c.status, fn)
	}
	var wake struct {
		DetailType string `json:"detail-type"`
		Detail     struct {
			Kind string `json:"kind"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(c.payload, &wake); err != nil || wake.DetailType != handler.DetailTypeWake || wake.Detail.Kind != "cloudtrail-stopped" {
		t.Errorf("wake payload %s (%v): want a %q event naming the signal", c.payload, err, handler.DetailTypeWake)
	}

	// The same stop again, as a new event, within the debounce.
	again := bytes.Replace(stop, []byte(`"eventID": "10163ed2`), []byte(`"eventID": "20163ed2`), 1)
	if bytes.Equal(again, stop) {
		t.Fatal("test record has no eventID to change")
	}
	clock = clock.Add(5 * time.Second)
	if _, err := d.Invoke(ctx, deliver(t, "d2", again)); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 {
		t.Errorf("%d invocations; a second critical signal within the debounce must not wake again", len(rec.calls))
	}
}

// correlatorFunction creates a function in the emulator to stand for the
// correlator (the emulator answers invocations without running it).
func correlatorFunction(t *testing.T, ctx context.Context, cfg aws.Config) string {
	t.Helper()
	name := awstest.Name("correlator")
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = awslambda.NewFromConfig(cfg).CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Code: &lambdatypes.FunctionCode{ZipFile: awstest.FunctionZip(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}
