package dynamostore_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/storetest"
)

// skipMessage is why the emulator tests skip when there is no emulator.
const skipMessage = "no AWS emulator: run through tests/emulator/with-moto (make test does)"

// emulatorClient returns a client of the emulator that AWS_ENDPOINT_URL
// names, with the SDK's standard retryer, or skips the test. optFns adjust
// the client (middleware for counting requests).
func emulatorClient(tb testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		tb.Skip(skipMessage)
	}
	cfg, err := config.LoadDefaultConfig(tb.Context(), config.WithRetryMode(aws.RetryModeStandard))
	if err != nil {
		tb.Fatalf("loading the AWS configuration: %v", err)
	}
	optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}}, optFns...)
	return dynamodb.NewFromConfig(cfg, optFns...)
}

var tableSeq atomic.Int64

// newTable creates a table of a name unique to the run.
func newTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := fmt.Sprintf("trailhound-test-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	if err := dynamostore.CreateTable(tb.Context(), client, name); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() {
		// Deleting keeps a long-lived emulator small; errors do not matter.
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// TestConformance runs the store contract on one table: the suite gives
// each subtest its own keys, identities and time window, and a table per
// subtest made the run slower under moto without testing more.
func TestConformance(t *testing.T) {
	client := emulatorClient(t)
	table := newTable(t, client)
	storetest.Run(t, func(t *testing.T) store.Store { return dynamostore.New(client, table) })
}

// BenchmarkStore runs the suite's benchmark against the emulator; its
// numbers measure the emulator more than DynamoDB, TestRequestsPerOperation
// is the portable measure.
func BenchmarkStore(b *testing.B) {
	client := emulatorClient(b)
	storetest.Benchmark(b, func(b *testing.B) store.Store { return dynamostore.New(client, newTable(b, client)) })
}

func TestCreateTableIsIdempotent(t *testing.T) {
	client := emulatorClient(t)
	table := newTable(t, client)
	if err := dynamostore.CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("CreateTable of an existing table: %v", err)
	}
	desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got, want := len(desc.Table.GlobalSecondaryIndexes), len(dynamostore.Schema().GlobalSecondaryIndexes); got != want {
		t.Errorf("table has %d GSIs, want %d", got, want)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != dynamostore.AttrTTL {
		t.Errorf("time to live = %+v, want enabled on %q", d, dynamostore.AttrTTL)
	}
}
