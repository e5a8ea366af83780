package dynamostore_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailhound/trailhound/shared/awstest"

	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/storetest"
)

// emulatorClient returns a client of the emulator that AWS_ENDPOINT_URL
// names, with the SDK's standard retryer, or skips the test. optFns adjust
// the client (middleware for counting requests).
func emulatorClient(tb testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	cfg := awstest.Config(tb)
	cfg.RetryMode = aws.RetryModeStandard
	return dynamodb.NewFromConfig(cfg, optFns...)
}

// newTable creates a table of a name unique to the run.
func newTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := awstest.Name("trailhound-test")
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
