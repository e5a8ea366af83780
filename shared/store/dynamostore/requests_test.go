package dynamostore_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// requestCounter counts the HTTP requests a client sends (every attempt,
// retries too), by DynamoDB operation.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// option adds the counting middleware to a client, after the retry
// middleware so that it sees each attempt.
func (c *requestCounter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountRequests",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.counts[middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// take returns the counts since the last take, as "2 (UpdateItem 1,
// PutItem 1)", and resets them.
func (c *requestCounter) take() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(c.counts)) {
		total += c.counts[op]
		parts = append(parts, fmt.Sprintf("%s %d", op, c.counts[op]))
	}
	clear(c.counts)
	return total, strings.Join(parts, ", ")
}

// TestRequestsPerOperation measures how many DynamoDB requests each store
// operation costs, logs them (go test -v) and fails when one costs more
// than the design says: the hot paths of the pipeline are one request.
func TestRequestsPerOperation(t *testing.T) {
	counter := &requestCounter{counts: make(map[string]int)}
	client := emulatorClient(t, counter.option)
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	base := time.Date(2100, time.March, 1, 10, 0, 0, 0, time.UTC)
	const key = "arn:aws:iam::111122223333:user/requests"
	alice := identity.Origin{ARN: key, Type: identity.TypeIAMUser, Chain: []string{key}, Resolved: true}
	fact := baseline.Fact{Dim: baseline.DimAPI, Value: "s3:GetObject"}
	signal := func(i int, at time.Time) detection.Signal {
		return detection.Signal{ID: fmt.Sprintf("sig-%d", i), Kind: "k", Identity: alice, Time: at, Tags: []string{"t"}}
	}
	inc := incident.Incident{ID: "inc-requests", Policy: "p", Identity: incident.Identity{Key: key}, FirstSeen: base, LastSeen: base, Version: 1}

	steps := []struct {
		name string
		want int
		call func() error
	}{
		{"AddFact new", 1, func() error { _, err := s.AddFact(ctx, key, fact, base.Add(time.Minute), ""); return err }},
		{"AddFact existing, later", 1, func() error { _, err := s.AddFact(ctx, key, fact, base.Add(2*time.Minute), ""); return err }},
		{"AddFact existing, same time", 1, func() error { _, err := s.AddFact(ctx, key, fact, base.Add(2*time.Minute), ""); return err }},
		{"AddFact existing, within first–last", 1, func() error { _, err := s.AddFact(ctx, key, fact, base.Add(90*time.Second), ""); return err }},
		{"AddFact existing, before first seen", 2, func() error { _, err := s.AddFact(ctx, key, fact, base, ""); return err }},
		{"AddEvents", 1, func() error { return s.AddEvents(ctx, key, 10, base.Add(time.Hour)) }},
		{"AddEvents, before created", 2, func() error { return s.AddEvents(ctx, key, 10, base) }},
		{"Profile (1 fact)", 1, func() error { _, err := s.Profile(ctx, key); return err }},
		{"200 AddFact new (8 dimensions × 25)", 200, func() error {
			for _, d := range baseline.Dimensions[:8] {
				for v := range 25 {
					if _, err := s.AddFact(ctx, key, baseline.Fact{Dim: d, Value: fmt.Sprint(v)}, base, ""); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{"Profile (201 facts)", 1, func() error { _, err := s.Profile(ctx, key); return err }},
		{"PutSignal, first of its day", 2, func() error { _, err := s.PutSignal(ctx, signal(1, base), base.Add(time.Hour)); return err }},
		{"PutSignal, same day", 1, func() error {
			_, err := s.PutSignal(ctx, signal(2, base.Add(time.Minute)), base.Add(time.Hour))
			return err
		}},
		{"PutSignal, existing id", 1, func() error {
			_, err := s.PutSignal(ctx, signal(2, base.Add(time.Minute)), base.Add(time.Hour))
			return err
		}},
		{"Signals of an identity", 1, func() error {
			_, err := s.Signals(ctx, store.SignalQuery{Identity: key, Now: base})
			return err
		}},
		{"Signals, tagged, of an hour", 1, func() error {
			_, err := s.Signals(ctx, store.SignalQuery{Since: base, Until: base.Add(time.Hour), Tagged: true})
			return err
		}},
		// The days that hold signals are listed, then each hour of those
		// days from Since on is read.
		{"Signals, since only (lists days first)", 1 + 24 - base.UTC().Hour(), func() error {
			_, err := s.Signals(ctx, store.SignalQuery{Since: base})
			return err
		}},
		{"AdvanceWatermark", 1, func() error { _, err := s.AdvanceWatermark(ctx, "w", base); return err }},
		{"Watermark", 1, func() error { _, err := s.Watermark(ctx, "w"); return err }},
		{"PutIncident", 1, func() error { return s.PutIncident(ctx, inc) }},
		{"Incidents of an identity and policy", 1, func() error {
			_, err := s.Incidents(ctx, store.IncidentQuery{Identity: key, Policy: "p", LastSeenSince: base})
			return err
		}},
	}
	counter.take() // CreateTable's requests
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		n, detail := counter.take()
		t.Logf("%-40s %3d request(s): %s", st.name, n, detail)
		if n != st.want {
			t.Errorf("%s: %d requests, want %d", st.name, n, st.want)
		}
	}
}
