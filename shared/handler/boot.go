package handler

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailhound/trailhound/shared/config"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
)

// Runtime is what a function builds once, at cold start, outside its
// handler, so that warm invocations reuse it.
type Runtime struct {
	Settings config.Settings
	Log      *slog.Logger
	AWS      aws.Config
	// Store is the DynamoDB table and Pipeline runs over it; both nil
	// when the function does not need the table.
	Store    *dynamostore.Store
	Pipeline *pipeline.Pipeline
}

// Boot reads the configuration from the environment, sets up JSON logging
// and the AWS SDK, and builds the pipeline over the table when need.Table.
func Boot(ctx context.Context, need config.Need) (Runtime, error) {
	var rt Runtime
	s, err := config.Load(os.Getenv, need)
	if err != nil {
		return rt, err
	}
	rt.Settings = s
	rt.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: s.LogLevel}))
	if rt.AWS, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
		return rt, err
	}
	if need.Table {
		rt.Store = dynamostore.New(dynamodb.NewFromConfig(rt.AWS), s.Table)
		rt.Pipeline, err = pipeline.New(rt.Store, s.Pipeline, rt.Log)
	}
	return rt, err
}
