// Command detector is the Lambda function that observes one CloudTrail event
// per EventBridge delivery: attribute, baseline, detect, store signals.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
)

func main() {
	rt, err := handler.Boot(context.Background(), config.Need{Table: true})
	if err != nil {
		slog.Error("detector init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler.NewDetector(rt.Pipeline, rt.Log).Handle)
}
