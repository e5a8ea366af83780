package response

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// ruleState is what delete-eventbridge-rule saves: the rule's definition
// and its targets, enough to recreate both. (Tags are not saved.)
type ruleState struct {
	Name         string           `json:"name"`
	Bus          string           `json:"bus"`
	ARN          string           `json:"arn"`
	Description  string           `json:"description,omitempty"`
	EventPattern string           `json:"event_pattern,omitempty"`
	Schedule     string           `json:"schedule,omitempty"`
	State        string           `json:"state,omitempty"`
	RoleARN      string           `json:"role_arn,omitempty"`
	Targets      []ebtypes.Target `json:"targets"`
}

// parseRuleARN splits arn:aws:events:<region>:<account>:rule/[<bus>/]<name>.
func parseRuleARN(arn string) (region, account, bus, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" || !strings.HasPrefix(parts[5], "rule/") {
		return "", "", "", "", false
	}
	rest := strings.TrimPrefix(parts[5], "rule/")
	bus, name = "default", rest
	if b, n, found := strings.Cut(rest, "/"); found {
		bus, name = b, n
	}
	return parts[3], parts[4], bus, name, name != ""
}

func deleteEventBridgeRule() Action {
	return Action{
		Name: "delete-eventbridge-rule", Target: "events:rule",
		Permissions: []string{"events:DescribeRule", "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule", "events:PutRule", "events:PutTargets"},
		// Undo recreates targets that carried a RoleArn (a stream, a state
		// machine, another bus): PutTargets passes that role to EventBridge.
		Also:        []Grant{{Target: "iam:role", Permissions: []string{"iam:PassRole"}, PassedTo: "events.amazonaws.com"}},
		Description: "saves the rule and its targets, removes the targets, deletes the rule; undo recreates both",
		refuse: func(c *call) string {
			_, _, _, name, ok := parseRuleARN(c.target)
			switch {
			case !ok:
				return "not an EventBridge rule ARN: " + c.target
			case isOwn(name):
				return "a Trailhound rule: never deleted"
			}
			return ""
		},
		read: func(ctx context.Context, c *call) ([]byte, error) {
			_, _, bus, name, _ := parseRuleARN(c.target)
			client, err := c.events(ctx)
			if err != nil {
				return nil, err
			}
			rule, err := client.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)})
			if isNotFound(err) {
				return nil, missing("rule %s on bus %s in %s", name, bus, c.region)
			}
			if err != nil {
				return nil, fmt.Errorf("DescribeRule %s: %w", name, err)
			}
			if m := aws.ToString(rule.ManagedBy); m != "" {
				return nil, refuse("a managed rule (managed by %s): never deleted", m)
			}
			st := ruleState{Name: name, Bus: bus, ARN: aws.ToString(rule.Arn), Description: aws.ToString(rule.Description),
				EventPattern: aws.ToString(rule.EventPattern), Schedule: aws.ToString(rule.ScheduleExpression),
				State: string(rule.State), RoleARN: aws.ToString(rule.RoleArn), Targets: []ebtypes.Target{}}
			in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name), EventBusName: aws.String(bus)}
			for {
				out, err := client.ListTargetsByRule(ctx, in)
				if isNotFound(err) {
					return nil, missing("rule %s on bus %s in %s", name, bus, c.region)
				}
				if err != nil {
					return nil, fmt.Errorf("ListTargetsByRule %s: %w", name, err)
				}
				st.Targets = append(st.Targets, out.Targets...)
				if aws.ToString(out.NextToken) == "" {
					break
				}
				in.NextToken = out.NextToken
			}
			return encode(st)
		},
		act: func(ctx context.Context, c *call, before []byte, _ time.Time) error {
			var st ruleState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			client, err := c.events(ctx)
			if err != nil {
				return err
			}
			for i := 0; i < len(st.Targets); i += 100 {
				var ids []string
				for _, t := range st.Targets[i:min(i+100, len(st.Targets))] {
					ids = append(ids, aws.ToString(t.Id))
				}
				out, err := client.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(st.Name), EventBusName: aws.String(st.Bus), Ids: ids})
				if isNotFound(err) {
					return missing("rule %s", st.Name)
				}
				if err != nil {
					return fmt.Errorf("RemoveTargets %s: %w", st.Name, err)
				}
				if out.FailedEntryCount > 0 {
					e := out.FailedEntries[0]
					return fmt.Errorf("RemoveTargets %s: %d targets not removed (%s: %s)", st.Name, out.FailedEntryCount, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
				}
			}
			_, err = client.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(st.Name), EventBusName: aws.String(st.Bus)})
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("DeleteRule %s: %w", st.Name, err)
			}
			return nil
		},
		undo: func(ctx context.Context, c *call, before []byte) error {
			var st ruleState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			client, err := c.events(ctx)
			if err != nil {
				return err
			}
			in := &eventbridge.PutRuleInput{Name: aws.String(st.Name), EventBusName: aws.String(st.Bus), State: ebtypes.RuleState(st.State)}
			for p, v := range map[**string]string{&in.Description: st.Description, &in.EventPattern: st.EventPattern, &in.ScheduleExpression: st.Schedule, &in.RoleArn: st.RoleARN} {
				if v != "" {
					*p = aws.String(v)
				}
			}
			if _, err := client.PutRule(ctx, in); err != nil {
				return fmt.Errorf("PutRule %s: %w", st.Name, err)
			}
			for i := 0; i < len(st.Targets); i += 10 {
				out, err := client.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(st.Name), EventBusName: aws.String(st.Bus), Targets: st.Targets[i:min(i+10, len(st.Targets))]})
				if err != nil {
					return fmt.Errorf("PutTargets %s: %w", st.Name, err)
				}
				if out.FailedEntryCount > 0 {
					e := out.FailedEntries[0]
					return fmt.Errorf("PutTargets %s: %d targets not restored (%s: %s)", st.Name, out.FailedEntryCount, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
				}
			}
			return nil
		},
		effect: func(c *call, before []byte) string {
			var st ruleState
			_ = decodeState(before, &st)
			return fmt.Sprintf("remove the %d target(s) of rule %s on bus %s and delete it", len(st.Targets), st.Name, st.Bus)
		},
	}
}
