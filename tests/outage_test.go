package tests

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// discard is a publisher for runs whose incidents are read from the store.
type discard struct{}

func (discard) Publish(_ context.Context, incs []incident.Incident) ([]incident.Incident, error) {
	return incs, nil
}

// TestDynamoDBOutageLosesNoEvent replays the Invictus run (2,900 real
// events, attacks among ordinary work) through the detector and correlator
// handlers over the emulator's DynamoDB while the SDK's middleware injects
// ThrottlingExceptions: first intermittent ones, which the SDK's retryer
// absorbs, then an outage in which every call fails. During the outage each
// delivery that needed DynamoDB must return an error (so that EventBridge
// retries it); the harness redelivers those once the outage ends, as
// EventBridge does. At the end the table must hold exactly the signals and
// incidents of a run without faults.
func TestDynamoDBOutageLosesNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("long emulator test")
	}
	ctx := context.Background()
	cfg := awstest.Config(t)
	ds := deliveries(t, filepath.Join(datasets(t), "invictus-aws-stratus-simulation"))

	// Without faults (memstore: the Lambda path test shows it equals DynamoDB).
	clean := memstore.New()
	newLambdaPath(t, clean, discard{}).run(t, ds, nil)
	wantSignals, wantIncidents := storedSignals(t, clean), storedIncidents(t, clean)
	if len(wantIncidents) == 0 {
		t.Fatal("the clean run found no incidents")
	}

	// With faults.
	faults := &awstest.Faults{}
	awstest.FastRetries(&cfg)
	cfg.APIOptions = append(cfg.APIOptions, faults.Inject)
	ddb := dynamodb.NewFromConfig(cfg)
	table := awstest.Name("trailhound-outage")
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	st := dynamostore.New(ddb, table)
	lp := newLambdaPath(t, st, discard{})
	lp.correlatorDown = true

	n := len(ds)
	flakyFrom, flakyTo := n/5, 2*n/5
	downFrom, downTo := n/2, n/2+200
	var retry []delivery
	refused, acknowledged := 0, 0
	lp.run(t, ds, func(i int, d delivery) {
		switch i {
		case flakyFrom:
			faults.Throttle(func(_ string, attempt int) bool { return attempt%2 == 0 })
		case flakyTo:
			faults.Throttle(nil)
		case downFrom:
			faults.Throttle(func(string, int) bool { return true })
		case downFrom + 100:
			lp.correlate(t, d.ev.EventTime) // a scheduled run meets the outage
		case downTo:
			faults.Throttle(nil)
			for _, r := range retry {
				if _, err := lp.detector.Invoke(ctx, r.payload); err != nil {
					t.Fatalf("redelivery of %s after the outage: %v", r.ev.EventID, err)
				}
			}
		}
		before := faults.Attempts()
		_, err := lp.detector.Invoke(ctx, d.payload)
		touched := faults.Attempts() > before
		switch {
		case err != nil && i >= downFrom && i < downTo:
			refused++
			retry = append(retry, d)
		case err != nil:
			t.Fatalf("delivery %d (%s) failed outside the outage: %v", i, d.ev.EventID, err)
		case touched && i >= downFrom && i < downTo:
			t.Fatalf("delivery %d (%s) met the outage in DynamoDB but was acknowledged: its effects are lost", i, d.ev.EventID)
		case i >= downFrom && i < downTo:
			acknowledged++ // needed nothing from DynamoDB (warm caches, nothing new)
		}
	})
	t.Logf("%d deliveries refused during the outage and redelivered after it, %d acknowledged without DynamoDB; %d correlator runs failed", refused, acknowledged, lp.correlatorFailed)
	if refused == 0 || lp.correlatorFailed == 0 {
		t.Fatal("the outage refused no delivery or failed no correlator run: the faults were not injected")
	}

	if diff := cmp.Diff(wantSignals, storedSignals(t, st)); diff != "" {
		t.Errorf("signals after the outage differ from a run without faults (-clean +outage):\n%s", diff)
	}
	if diff := cmp.Diff(wantIncidents, storedIncidents(t, st)); diff != "" {
		t.Errorf("incidents after the outage differ from a run without faults (-clean +outage):\n%s", diff)
	}
}

// signalKey is what identifies a stored signal for comparison.
type signalKey struct{ ID, Kind, EventID, Identity, Severity string }

func storedSignals(t *testing.T, st store.Store) []signalKey {
	t.Helper()
	sigs, err := st.Signals(context.Background(), store.SignalQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]signalKey, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, keyOf(s))
	}
	slices.SortFunc(out, func(a, b signalKey) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

func keyOf(s detection.Signal) signalKey {
	return signalKey{s.ID, s.Kind, s.EventID, s.Identity.Key(), s.Severity.String()}
}

func storedIncidents(t *testing.T, st store.Store) []incident.Incident {
	t.Helper()
	incs, err := st.Incidents(context.Background(), store.IncidentQuery{})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	sortIncidents(incs)
	return incs
}
