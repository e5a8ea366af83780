package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/trailhound/trailhound/shared/store"
)

// conditionFailed is a write whose condition expression failed: the item
// was not what the write required. It is store.ErrConflict for PutIncident;
// the other writes turn it into false (not added, not created, not
// advanced).
type conditionFailed struct {
	op string
	// old is the item as stored, when the request asked for it.
	old item
}

func (e *conditionFailed) Error() string {
	return "dynamostore: " + e.op + ": " + store.ErrConflict.Error()
}

// Is makes errors.Is(err, store.ErrConflict) hold.
func (e *conditionFailed) Is(target error) bool { return target == store.ErrConflict }

// asConditionFailed returns err as a *conditionFailed, if it is one.
func asConditionFailed(err error) (*conditionFailed, bool) {
	var cf *conditionFailed
	ok := errors.As(err, &cf)
	return cf, ok
}

// transientCodes are the DynamoDB error codes worth retrying later: the
// SDK's retryer has already retried them.
var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"TransactionConflictException":           true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// mapErr is where every error the DynamoDB client returns goes, and the one
// place that decides what it means:
//
//   - nil stays nil;
//   - a ConditionalCheckFailedException becomes a *conditionFailed carrying
//     the stored item (store.ErrConflict, or false to the caller);
//   - when ctx is done, the error is returned as is if it wraps ctx.Err(),
//     else ctx.Err() is: the caller gave up, retrying is its business;
//   - throttling, request limits, 5xx responses, timeouts and failures to
//     reach the service (what is left after the SDK's retryer gave up) wrap
//     store.ErrTransient and the cause;
//   - anything else (validation, a missing table, access denied) is wrapped
//     with the operation.
func mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return &conditionFailed{op: op, old: ccf.Item}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return err
		}
		return ctxErr
	}
	if isTransient(err) {
		return fmt.Errorf("dynamostore: %s: %w: %w", op, store.ErrTransient, err)
	}
	return fmt.Errorf("dynamostore: %s: %w", op, err)
}

// isTransient reports whether err is a failure that may go away by itself.
func isTransient(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (transientCodes[apiErr.ErrorCode()] || apiErr.ErrorFault() == smithy.FaultServer) {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && (status.HTTPStatusCode() >= 500 || status.HTTPStatusCode() == 429) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// Whatever else the SDK's standard retryer retries: connection resets
	// and refusals, its own timeouts.
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	return retry.IsErrorTimeouts(retry.DefaultTimeouts).IsErrorTimeout(err) == aws.TrueTernary
}
