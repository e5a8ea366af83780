// Command detector is the Lambda function that observes one CloudTrail event
// per EventBridge delivery: attribute, baseline, detect, store signals.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

func main() {
	if err := run(context.Background()); err != nil {
		slog.Error("detector init failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	s, err := config.Load(os.Getenv, config.Need{Table: true})
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
	lambda.Start(handler.NewDetector(p, log).Handle)
	return nil
}
