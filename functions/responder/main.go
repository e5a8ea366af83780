// Command responder is the Lambda function behind the rule on "Trailhound
// Incident" events: it plans the response, takes each action in the mode
// the response configuration gives (dry-run unless enforce is set for the
// account and action), through the member account's response role, and
// reports every decision on the Trailhound bus.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/response"
)

func main() {
	if err := run(context.Background()); err != nil {
		slog.Error("responder init failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	rt, err := handler.Boot(ctx, config.Need{Table: true, Bus: true})
	if err != nil {
		return err
	}
	cfg, err := response.ParseConfig([]byte(os.Getenv(response.EnvConfig)))
	if err != nil {
		return err
	}
	st := rt.Store
	exec, err := response.NewExecutor(cfg, response.NewAccounts(rt.AWS, nil, cfg.RoleName, cfg.ExternalID), st, st, rt.Log)
	if err != nil {
		return err
	}
	events := publish.New(eventbridge.NewFromConfig(rt.AWS), rt.Settings.Bus, rt.Log)
	lambda.Start(handler.NewResponder(response.Planner{}, exec, events, time.Now, rt.Log).Handle)
	return nil
}
