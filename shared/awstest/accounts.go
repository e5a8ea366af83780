package awstest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// NewAccount returns a twelve-digit account id unique to this test run.
// moto keeps every account apart (IAM, EventBridge, Lambda, …) and creates
// an account's backends on first use, so a test gets accounts of its own.
func NewAccount() string {
	return fmt.Sprintf("9%04d%07d", os.Getpid()%10000, (time.Now().UnixNano()/1000+counter.Add(1))%10_000_000)
}

// AccountConfig returns cfg acting in account: credentials from an
// AssumeRole into arn:aws:iam::<account>:role/<role> (moto attributes
// assumed-role credentials to the role's account, and does not check that
// the role exists).
func AccountConfig(t testing.TB, cfg aws.Config, account, role string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + role), RoleSessionName: aws.String("test-setup"),
	})
	if err != nil {
		t.Fatalf("assume a role in %s: %v", account, err)
	}
	c := out.Credentials
	acfg := cfg.Copy()
	acfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
			SessionToken: aws.ToString(c.SessionToken), CanExpire: false}, nil
	})
	return acfg
}
