// Command detector is the Lambda function that observes one CloudTrail event
// per EventBridge delivery: attribute, baseline, detect, store signals.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

func main() {
	if err := run(context.Background()); err != nil {
		slog.Error("detector init failed", "error", err)
		os.Exit(1)
	}
}

func run(context.Context) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// Until the DynamoDB store lands, state lives in the warm execution
	// environment only.
	log.Warn("in-memory store: baselines and the key ledger do not survive a cold start")
	p, err := pipeline.New(memstore.New(), pipeline.DefaultOptions(), log)
	if err != nil {
		return err
	}
	lambda.Start(handler.NewDetector(p, log).Handle)
	return nil
}
