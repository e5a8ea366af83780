package awstest

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Calls counts the AWS calls a client makes, per service and operation,
// through the SDK's middleware: one per operation, however many attempts
// the retryer makes. Add it to a config with cfg.APIOptions =
// append(cfg.APIOptions, calls.Count).
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// NewCalls returns an empty counter.
func NewCalls() *Calls { return &Calls{n: make(map[string]int)} }

// Count is the middleware option.
func (c *Calls) Count(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("trailhound-count-calls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			key := awsmiddleware.GetServiceID(ctx) + ":" + awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.n[key]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Snapshot returns the counts so far, keyed "Service:Operation".
func (c *Calls) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// Reset sets every count to zero.
func (c *Calls) Reset() {
	c.mu.Lock()
	clear(c.n)
	c.mu.Unlock()
}

// Faults injects failures into a client's requests through the SDK's
// middleware, after its retryer, so every attempt meets them: Throttle
// decides per attempt whether the emulator "answers" with a
// ThrottlingException (which the retryer retries, then gives up on).
// Attempts counts the attempts that reached it.
type Faults struct {
	mu       sync.Mutex
	throttle func(operation string, attempt int) bool
	attempts int
}

// Throttle sets the rule (nil: no faults).
func (f *Faults) Throttle(rule func(operation string, attempt int) bool) {
	f.mu.Lock()
	f.throttle = rule
	f.mu.Unlock()
}

// Attempts returns how many attempts have passed through so far.
func (f *Faults) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// Inject is the middleware option.
func (f *Faults) Inject(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("trailhound-inject-faults",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			f.mu.Lock()
			f.attempts++
			n, rule := f.attempts, f.throttle
			f.mu.Unlock()
			if rule != nil && rule(awsmiddleware.GetOperationName(ctx), n) {
				return middleware.FinalizeOutput{}, middleware.Metadata{},
					&smithy.GenericAPIError{Code: "ThrottlingException", Message: "throttled (injected by the test)", Fault: smithy.FaultServer}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// FastRetries gives cfg the SDK's standard retryer (three attempts) with
// millisecond backoff and no client-side rate limit, so that tests that
// inject faults do not sleep for seconds.
func FastRetries(cfg *aws.Config) {
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 2 * time.Millisecond
			o.RateLimiter = ratelimit.None
		})
	}
}
