package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BusQueue creates an event bus and an SQS queue subscribed to the events
// matching pattern by a rule on it, the way a subscriber of Trailhound's
// bus (the responder, the incident topic) is wired, and returns the bus
// name and the queue URL.
func BusQueue(t testing.TB, ctx context.Context, eb *eventbridge.Client, q *sqs.Client, pattern string) (bus, queueURL string) {
	t.Helper()
	bus = Name("trailhound-bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatalf("create bus: %v", err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(Name("subscriber"))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	rule := Name("subscription")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus),
		EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatalf("put targets: %v", err)
	}
	return bus, aws.ToString(queue.QueueUrl)
}
