// Package awstest connects tests to the AWS emulator that
// tests/emulator/with-moto starts (make test does): an SDK config pointing
// at AWS_ENDPOINT_URL with dummy credentials. Without an emulator, tests
// that need one are skipped with one clear message.
package awstest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Config returns an SDK config for the emulator, or skips the test.
func Config(t testing.TB) aws.Config {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		t.Skip("no AWS emulator: run through tests/emulator/with-moto (make test does)")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region()))
	if err != nil {
		t.Fatalf("AWS config for the emulator: %v", err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	return cfg
}

func region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

var counter atomic.Int64

// Name returns a name unique to this test run, for tables, buses and queues.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, counter.Add(1))
}

// FunctionZip returns a deployment package holding a stub bootstrap, for
// creating Lambda functions in the emulator (which never runs them).
func FunctionZip(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	f, err := z.Create("bootstrap")
	if err == nil {
		_, err = f.Write([]byte("#!/bin/sh\n"))
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
