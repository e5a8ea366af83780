package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/replay"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// TestLambdaPathEqualsReplay delivers the demo scenario event by event
// through the detector handler (the real aws-lambda-go decoder) against the
// emulator's DynamoDB, runs the correlator handler on the same event-time
// schedule as replay, and checks that the incidents in DynamoDB and on the
// bus equal, field by field, what `trailhound replay` finds. Then it takes
// the same run on through the responder (checkDemoResponse): one replay
// through the emulator serves both proofs.
func TestLambdaPathEqualsReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("long emulator test")
	}
	ctx := context.Background()
	cfg := awstest.Config(t)
	dir := filepath.Join("..", "events", "demo")

	// What replay finds, with the in-memory store.
	want := replayIncidents(t, dir)

	// The serverless path: DynamoDB, EventBridge bus -> SQS.
	ddb := dynamodb.NewFromConfig(cfg)
	table := awstest.Name("trailhound")
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	st := dynamostore.New(ddb, table)
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	bus, queueURL := awstest.BusQueue(t, ctx, eb, q, fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, publish.Source, publish.DetailTypeIncident))

	demo := &demoServerless{cfg: cfg, st: st, eb: eb, q: q, bus: bus}
	prepareDemoResponse(t, demo)

	lp := newLambdaPath(t, st, publish.New(eb, bus, nil))
	events := lp.run(t, deliveries(t, dir), nil)
	demo.now = lp.now
	t.Logf("%d events through the detector", events)

	got, err := st.Incidents(ctx, store.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	sortIncidents(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("incidents in DynamoDB differ from replay (-replay +dynamodb):\n%s", diff)
	}

	// The bus carries every version; the last of each equals the store's.
	onBus := map[string]incident.Incident{}
	for tries := 0; tries < 30; tries++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 && len(onBus) == len(want) {
			break
		}
		for _, m := range out.Messages {
			var env struct {
				Detail publish.Detail `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatal(err)
			}
			if prev, ok := onBus[env.Detail.ID]; !ok || env.Detail.Version > prev.Version {
				onBus[env.Detail.ID] = env.Detail.Incident
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var busList []incident.Incident
	for _, inc := range onBus {
		busList = append(busList, inc)
	}
	sortIncidents(busList)
	if diff := cmp.Diff(want, busList); diff != "" {
		t.Errorf("incidents on the bus differ from replay (-replay +bus):\n%s", diff)
	}

	// The same run, on to the responder (issue 6's end-to-end proof).
	t.Run("responder enforces on the demo", func(t *testing.T) { checkDemoResponse(t, demo) })
}

func replayIncidents(t *testing.T, dir string) []incident.Incident {
	t.Helper()
	incs := replayPipeline(t, dir).incidents
	if len(incs) == 0 {
		t.Fatal("replay found no incidents")
	}
	sortIncidents(incs)
	return incs
}

func sortIncidents(incs []incident.Incident) {
	slices.SortFunc(incs, func(a, b incident.Incident) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		if a.Policy != b.Policy {
			if a.Policy < b.Policy {
				return -1
			}
			return 1
		}
		return 0
	})
}

// delivery is one CloudTrail event as EventBridge hands it to the detector.
type delivery struct {
	ev      *cloudtrail.Event
	payload []byte
}

// deliveries reads the paths in replay's event-time order and wraps each
// record in its EventBridge envelope.
func deliveries(t *testing.T, paths ...string) []delivery {
	t.Helper()
	stream, err := replay.Open(paths, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var out []delivery
	for {
		ev, err := stream.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		env, err := awstest.Envelope(ev, raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, delivery{ev, env})
	}
}

// lambdaPath is the detector and correlator handlers over one store, driven
// through the real aws-lambda-go decoder, with the correlator's clock on
// event time.
type lambdaPath struct {
	detector, correlator lambda.Handler
	now                  time.Time
	// correlatorDown, when set, lets correlator runs fail (a store outage):
	// the next scheduled run catches up. Their count is kept.
	correlatorDown   bool
	correlatorFailed int
}

func newLambdaPath(t *testing.T, st store.Store, pub handler.Publisher) *lambdaPath {
	t.Helper()
	p, err := pipeline.New(st, pipeline.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lp := &lambdaPath{detector: lambda.NewHandler(handler.NewDetector(p, nil).Handle)}
	lp.correlator = lambda.NewHandler(handler.NewCorrelator(p, pub, func() time.Time { return lp.now }, nil,
		handler.WithOutbox(st, pipeline.DefaultOptions().Correlator.Quiet)).Handle)
	return lp
}

var tick = []byte(`{"version":"0","id":"tick","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)

// correlate runs the correlator handler as the schedule would at now.
func (lp *lambdaPath) correlate(t *testing.T, now time.Time) {
	t.Helper()
	lp.now = now
	if _, err := lp.correlator.Invoke(context.Background(), tick); err != nil {
		if !lp.correlatorDown {
			t.Fatalf("correlator at %v: %v", now, err)
		}
		lp.correlatorFailed++
	}
}

// run delivers every event to the detector, and runs the correlator on the
// same event-time schedule as replay (every pipeline.CorrelateEvery, and
// once after the last event). deliver, when set, makes each delivery
// (retries included) instead of a plain Invoke that must succeed. It
// returns the number of events delivered.
func (lp *lambdaPath) run(t *testing.T, ds []delivery, deliver func(i int, d delivery)) int {
	t.Helper()
	ctx := context.Background()
	if deliver == nil {
		deliver = func(_ int, d delivery) {
			if _, err := lp.detector.Invoke(ctx, d.payload); err != nil {
				t.Fatalf("detector on %s: %v", d.ev.EventID, err)
			}
		}
	}
	var next, last time.Time
	for i, d := range ds {
		ev := d.ev
		if !next.IsZero() && !ev.EventTime.Before(next) {
			lp.correlate(t, next)
		}
		if next.IsZero() || !ev.EventTime.Before(next) {
			next = ev.EventTime.Add(pipeline.CorrelateEvery)
		}
		last = ev.EventTime
		deliver(i, d)
	}
	lp.correlate(t, last.Add(time.Second))
	return len(ds)
}
