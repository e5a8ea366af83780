// Command correlator is the scheduled Lambda function that stitches recent
// signals into incidents and publishes new or changed ones on the
// Trailhound bus.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

func main() {
	if err := run(context.Background()); err != nil {
		slog.Error("correlator init failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	s, err := config.Load(os.Getenv, config.Need{Table: true, Bus: true})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	p, err := pipeline.New(dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table), s.Pipeline, log)
	if err != nil {
		return err
	}
	pub := publish.New(eventbridge.NewFromConfig(cfg), s.Bus, log)
	lambda.Start(handler.NewCorrelator(p, pub, time.Now, log).Handle)
	return nil
}
