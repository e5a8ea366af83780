package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/trailhound/trailhound/shared/detection"
)

// DetailTypeWake is the detail-type of the event a detector sends the
// correlator to wake it before its schedule.
const DetailTypeWake = "Trailhound Wake"

// Waker wakes the correlator at once, for a critical signal, instead of
// leaving the signal to the next scheduled run.
type Waker interface {
	Wake(ctx context.Context, s detection.Signal) error
}

// LambdaInvoker is the one Lambda call the waker makes.
type LambdaInvoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// CorrelatorWaker invokes the correlator function asynchronously (an
// "Event" invocation: Lambda queues it and retries it), at most once per
// identity per Debounce: one run correlates everything new, so a burst of
// critical signals needs one wake-up.
type CorrelatorWaker struct {
	client   LambdaInvoker
	function string
	now      func() time.Time
	// Debounce is the least time between two wake-ups for one identity.
	Debounce time.Duration

	mu   sync.Mutex
	last map[string]time.Time
}

// NewCorrelatorWaker returns a waker of the named function (name or ARN);
// now is the clock (time.Now in Lambda).
func NewCorrelatorWaker(client LambdaInvoker, function string, now func() time.Time) *CorrelatorWaker {
	return &CorrelatorWaker{client: client, function: function, now: now, Debounce: 30 * time.Second, last: make(map[string]time.Time)}
}

// wakeDetail is the detail of the wake-up event.
type wakeDetail struct {
	Identity string    `json:"identity"`
	Signal   string    `json:"signal"`
	Kind     string    `json:"kind"`
	EventID  string    `json:"event_id"`
	Time     time.Time `json:"time"`
}

// Wake invokes the correlator unless it was woken for the identity less
// than Debounce ago. The payload is shaped as an EventBridge event, the
// type the correlator's handler takes.
func (w *CorrelatorWaker) Wake(ctx context.Context, s detection.Signal) error {
	key, now := s.Identity.Key(), w.now()
	w.mu.Lock()
	if t, ok := w.last[key]; ok && now.Sub(t) < w.Debounce {
		w.mu.Unlock()
		return nil
	}
	if len(w.last) > 10000 {
		clear(w.last)
	}
	w.last[key] = now
	w.mu.Unlock()

	payload, err := json.Marshal(map[string]any{
		"version": "0", "id": "wake-" + s.ID, "detail-type": DetailTypeWake, "source": "trailhound",
		"time": now.UTC().Format(time.RFC3339), "resources": []string{},
		"detail": wakeDetail{Identity: s.Identity.ARN, Signal: s.ID, Kind: s.Kind, EventID: s.EventID, Time: s.Time},
	})
	if err != nil {
		return fmt.Errorf("wake payload: %w", err)
	}
	_, err = w.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(w.function),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		w.mu.Lock()
		delete(w.last, key)
		w.mu.Unlock()
		return fmt.Errorf("wake correlator %s: %w", w.function, err)
	}
	return nil
}
