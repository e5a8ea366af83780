package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// published collects the decisions the responder reports.
type published struct{ rs []publish.Response }

func (p *published) PublishResponses(_ context.Context, rs []publish.Response) error {
	p.rs = append(p.rs, rs...)
	return nil
}

// TestResponderThroughDecoder feeds raw EventBridge envelopes through the
// aws-lambda-go decoder: an event that is not an incident is acknowledged
// and decides nothing; a root incident (no AWS call: by hand only) is
// recorded, published once, and not again on redelivery.
func TestResponderThroughDecoder(t *testing.T) {
	st := memstore.New()
	exec, err := response.NewExecutor(response.Config{}, nil, st, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := &published{}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	h := lambda.NewHandler(handler.NewResponder(response.Planner{}, exec, pub, func() time.Time { return now }, nil).Handle)
	ctx := context.Background()

	for _, raw := range []string{
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`,
		`{"version":"0","id":"y","detail-type":"Trailhound Incident","source":"trailhound","detail":{"policy":"root-activity"}}`,
		`{"version":"0","id":"z","detail-type":"Trailhound Incident","source":"trailhound","detail":"not an object"}`,
	} {
		if _, err := h.Invoke(ctx, []byte(raw)); err != nil {
			t.Errorf("Invoke(%s) = %v, want acknowledged", raw, err)
		}
	}
	if len(pub.rs) != 0 {
		t.Fatalf("non-incident events decided %d actions", len(pub.rs))
	}

	root := `{"version":"0","id":"r","detail-type":"Trailhound Incident","source":"trailhound","detail":{"id":"inc-root","policy":"root-activity",` +
		`"identity":{"origin":"arn:aws:iam::111122223333:root","type":"Root","key":"arn:aws:iam::111122223333:root"}}}`
	for range 2 {
		if _, err := h.Invoke(ctx, []byte(root)); err != nil {
			t.Fatal(err)
		}
	}
	if len(pub.rs) != 1 || pub.rs[0].Status != incident.StatusSkipped || pub.rs[0].Incident != "inc-root" {
		t.Fatalf("published %+v, want one skipped decision", pub.rs)
	}
	recs, err := st.AuditRecords(ctx, store.AuditQuery{Incident: "inc-root"})
	if err != nil || len(recs) != 1 || recs[0].Reason == "" {
		t.Errorf("audit log %+v, %v; want the one decision with its reason", recs, err)
	}
}
