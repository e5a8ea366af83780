// Command responder is the Lambda function behind the rule on "Trailhound
// Incident" events: it plans the response (dry-run until the executor
// lands) and logs it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/response"
)

func main() {
	rt, err := handler.Boot(context.Background(), config.Need{})
	if err != nil {
		slog.Error("responder init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler.NewResponder(response.Planner{}, rt.Log).Handle)
}
