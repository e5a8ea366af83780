// Command detector is the Lambda function that observes one CloudTrail event
// per EventBridge delivery: attribute, baseline, detect, store signals; a
// critical signal wakes the correlator at once.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
)

func main() {
	rt, err := handler.Boot(context.Background(), config.Need{Table: true})
	if err != nil {
		slog.Error("detector init failed", "error", err)
		os.Exit(1)
	}
	var opts []handler.DetectorOption
	if fn := rt.Settings.CorrelatorFunction; fn != "" {
		opts = append(opts, handler.WakeOnCritical(handler.NewCorrelatorWaker(awslambda.NewFromConfig(rt.AWS), fn, time.Now)))
	}
	lambda.Start(handler.NewDetector(rt.Pipeline, rt.Log, opts...).Handle)
}
