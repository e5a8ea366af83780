// Command correlator is the scheduled Lambda function that stitches recent
// signals into incidents and publishes new or changed ones on the
// Trailhound bus (and, from its outbox, those an earlier run stored but
// could not publish).
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
)

func main() {
	rt, err := handler.Boot(context.Background(), config.Need{Table: true, Bus: true})
	if err != nil {
		slog.Error("correlator init failed", "error", err)
		os.Exit(1)
	}
	pub := publish.New(eventbridge.NewFromConfig(rt.AWS), rt.Settings.Bus, rt.Log)
	outbox := handler.WithOutbox(rt.Store, rt.Settings.Pipeline.Correlator.Quiet)
	lambda.Start(handler.NewCorrelator(rt.Pipeline, pub, time.Now, rt.Log, outbox).Handle)
}
