package response

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/trailhound/trailhound/shared/identity"
)

// lambdaState is what disable-lambda saves: the reserved concurrency it
// replaces (nil: none) and the resource-policy statements it removes.
type lambdaState struct {
	Function string       `json:"function"`
	ARN      string       `json:"arn"`
	Reserved *int32       `json:"reserved_concurrency"`
	Removed  []permission `json:"removed_permissions"`
}

// permission is one statement of a function's resource policy, in the
// terms of AddPermission.
type permission struct {
	Sid            string `json:"sid"`
	Action         string `json:"action"`
	Principal      string `json:"principal"`
	SourceARN      string `json:"source_arn,omitempty"`
	SourceAccount  string `json:"source_account,omitempty"`
	PrincipalOrgID string `json:"principal_org_id,omitempty"`
	URLAuthType    string `json:"function_url_auth_type,omitempty"`
}

// policyStatement is a statement of a Lambda resource policy as GetPolicy
// returns it.
type policyStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal json.RawMessage              `json:"Principal"`
	Action    json.RawMessage              `json:"Action"`
	Condition map[string]map[string]string `json:"Condition"`
}

// principal returns the statement's principal as AddPermission takes it.
func (s policyStatement) principal() string {
	var star string
	if json.Unmarshal(s.Principal, &star) == nil {
		return star
	}
	var m map[string]string
	if json.Unmarshal(s.Principal, &m) == nil {
		for _, k := range []string{"Service", "AWS"} {
			if v := m[k]; v != "" {
				return v
			}
		}
	}
	return ""
}

func (s policyStatement) condition(key string) string {
	for _, kv := range s.Condition {
		for k, v := range kv {
			if strings.EqualFold(k, key) {
				return v
			}
		}
	}
	return ""
}

func (s policyStatement) permission() permission {
	var action string
	if json.Unmarshal(s.Action, &action) != nil {
		var list []string
		if json.Unmarshal(s.Action, &list) == nil && len(list) > 0 {
			action = list[0]
		}
	}
	return permission{Sid: s.Sid, Action: action, Principal: s.principal(),
		SourceARN: s.condition("AWS:SourceArn"), SourceAccount: s.condition("AWS:SourceAccount"),
		PrincipalOrgID: s.condition("aws:PrincipalOrgID"), URLAuthType: s.condition("lambda:FunctionUrlAuthType")}
}

// attackers reports whether a statement is one the attacker added, as far
// as the incident tells: it lets a resource the incident names (the
// planted rule) invoke the function, or it opens the function to anyone
// (principal * with no source condition).
func (p permission) attackers(named []string) bool {
	if p.SourceARN != "" && slices.Contains(named, p.SourceARN) {
		return true
	}
	return (p.Principal == "*") && p.SourceARN == "" && p.SourceAccount == "" && p.PrincipalOrgID == ""
}

func disableLambda() Action {
	return Action{
		Name: "disable-lambda", Target: "lambda:function",
		Permissions: []string{"lambda:GetFunction", "lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetPolicy", "lambda:RemovePermission", "lambda:AddPermission"},
		Description: "sets reserved concurrency to 0 and removes the permissions the attacker added, keeping the code; undo restores both",
		scope: func(c *call) string {
			var rules []string
			for _, arn := range incidentARNs(c) {
				if strings.HasPrefix(arn, "arn:aws:events:") && identity.AccountOf(arn) == c.account && regionOf(arn) == c.region {
					rules = append(rules, arn)
				}
			}
			slices.Sort(rules)
			return strings.Join(rules, " ")
		},
		refuse: func(c *call) string {
			if isOwn(functionName(c.target)) {
				return "a Trailhound function: never disabled"
			}
			return ""
		},
		read: func(ctx context.Context, c *call) ([]byte, error) {
			client, err := c.lambda(ctx)
			if err != nil {
				return nil, err
			}
			name := functionName(c.target)
			fn, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
			if isNotFound(err) {
				return nil, missing("function %s in %s", name, c.region)
			}
			if err != nil {
				return nil, fmt.Errorf("GetFunction %s: %w", name, err)
			}
			st := lambdaState{Function: name, Removed: []permission{}}
			if fn.Configuration != nil {
				st.ARN = aws.ToString(fn.Configuration.FunctionArn)
			}
			conc, err := client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("GetFunctionConcurrency %s: %w", name, err)
			}
			st.Reserved = conc.ReservedConcurrentExecutions
			pol, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
			switch {
			case isNotFound(err): // no resource policy
			case err != nil:
				return nil, fmt.Errorf("GetPolicy %s: %w", name, err)
			default:
				var doc struct {
					Statement []policyStatement `json:"Statement"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil {
					return nil, fmt.Errorf("GetPolicy %s: the policy is not JSON: %w", name, err)
				}
				named := incidentARNs(c)
				for _, s := range doc.Statement {
					if p := s.permission(); s.Effect == "Allow" && p.attackers(named) {
						st.Removed = append(st.Removed, p)
					}
				}
			}
			return encode(st)
		},
		act: func(ctx context.Context, c *call, before []byte, _ time.Time) error {
			var st lambdaState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			client, err := c.lambda(ctx)
			if err != nil {
				return err
			}
			_, err = client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(st.Function), ReservedConcurrentExecutions: aws.Int32(0)})
			if isNotFound(err) {
				return missing("function %s", st.Function)
			}
			if err != nil {
				return fmt.Errorf("PutFunctionConcurrency %s: %w", st.Function, err)
			}
			for _, p := range st.Removed {
				_, err := client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(st.Function), StatementId: aws.String(p.Sid)})
				if err != nil && !isNotFound(err) {
					return fmt.Errorf("RemovePermission %s %s: %w", st.Function, p.Sid, err)
				}
			}
			return nil
		},
		undo: func(ctx context.Context, c *call, before []byte) error {
			var st lambdaState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			client, err := c.lambda(ctx)
			if err != nil {
				return err
			}
			if st.Reserved == nil {
				_, err = client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(st.Function)})
			} else {
				_, err = client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(st.Function), ReservedConcurrentExecutions: st.Reserved})
			}
			if err != nil {
				return fmt.Errorf("restoring the concurrency of %s: %w", st.Function, err)
			}
			for _, p := range st.Removed {
				in := &lambda.AddPermissionInput{FunctionName: aws.String(st.Function), StatementId: aws.String(p.Sid),
					Action: aws.String(p.Action), Principal: aws.String(p.Principal)}
				for ptr, v := range map[**string]string{&in.SourceArn: p.SourceARN, &in.SourceAccount: p.SourceAccount, &in.PrincipalOrgID: p.PrincipalOrgID} {
					if v != "" {
						*ptr = aws.String(v)
					}
				}
				if p.URLAuthType != "" {
					in.FunctionUrlAuthType = lambdatypes.FunctionUrlAuthType(p.URLAuthType)
				}
				if _, err := client.AddPermission(ctx, in); err != nil {
					return fmt.Errorf("AddPermission %s %s: %w", st.Function, p.Sid, err)
				}
			}
			return nil
		},
		effect: func(c *call, before []byte) string {
			var st lambdaState
			_ = decodeState(before, &st)
			sids := make([]string, len(st.Removed))
			for i, p := range st.Removed {
				sids[i] = p.Sid
			}
			return fmt.Sprintf("set the reserved concurrency of %s to 0 and remove %d permission(s) %v, keeping the code", st.Function, len(sids), sids)
		},
	}
}

// functionName returns the function name of a Lambda ARN
// (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]) or
// the target itself.
func functionName(target string) string {
	parts := strings.Split(target, ":")
	if len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function" {
		return parts[6]
	}
	return target
}

// incidentARNs lists the ARNs of the incident's resources.
func incidentARNs(c *call) []string {
	if c.inc == nil {
		return nil
	}
	var out []string
	for _, r := range c.inc.Resources {
		if r.ARN != "" {
			out = append(out, r.ARN)
		}
	}
	return out
}
