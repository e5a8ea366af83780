package response

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailhound/trailhound/shared/identity"
)

// RevokePolicyName is the inline policy revoke-role-sessions puts on a
// role.
const RevokePolicyName = "TrailhoundRevokeOlderSessions"

// roleState is what revoke-role-sessions saves: the role, and the inline
// policy of that name it replaces (empty when there was none).
type roleState struct {
	Role     string `json:"role"`
	ARN      string `json:"arn"`
	Previous string `json:"previous_policy,omitempty"`
}

// RevokePolicy is the deny-all policy on the sessions of a role issued
// before at, as the console's "revoke active sessions" writes it.
func RevokePolicy(at time.Time) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Deny", "Action": "*", "Resource": "*",
			"Condition": map[string]any{"DateLessThan": map[string]string{"aws:TokenIssueTime": at.UTC().Format(time.RFC3339)}},
		}},
	}
	b, _ := json.Marshal(doc) // a map of strings: cannot fail
	return string(b)
}

// roleRefusal says why a role is never edited, from its ARN.
func roleRefusal(arn string) string {
	name := identity.RoleName(arn)
	_, resource, _ := strings.Cut(strings.TrimPrefix(arn, "arn:"), ":role/")
	switch {
	case strings.HasSuffix(arn, ":root"):
		return "the root user's sessions cannot be revoked by a policy: rotate the root password and MFA, and delete any root access key, by hand"
	case strings.HasPrefix(name, "AWSReservedSSO_") || strings.HasPrefix(resource, "aws-reserved/"):
		return "an IAM Identity Center role cannot be edited (Identity Center owns it): deny the user in Identity Center, through the permission set's inline policy with a condition on the user's identitystore:UserId, or disable the user; Trailhound does not do it for you"
	case strings.HasPrefix(name, "AWSServiceRole") || strings.HasPrefix(resource, "aws-service-role/"):
		return "a service-linked role cannot be revoked this way (AWS owns its policies): contain the principal that uses the service instead"
	case isOwn(name):
		return "a Trailhound role: never acted on"
	}
	return ""
}

func revokeRoleSessions() Action {
	return Action{
		Name: "revoke-role-sessions", Target: "iam:role",
		Permissions: []string{"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy"},
		Description: "puts an inline deny-all policy on the role for tokens issued before now; undo removes it (or restores the one it replaced)",
		refuse:      func(c *call) string { return roleRefusal(c.target) },
		read: func(ctx context.Context, c *call) ([]byte, error) {
			client, err := c.iam(ctx)
			if err != nil {
				return nil, err
			}
			name := identity.RoleName(c.target)
			role, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
			if isNotFound(err) {
				return nil, missing("role %s", c.target)
			}
			if err != nil {
				return nil, fmt.Errorf("GetRole %s: %w", name, err)
			}
			st := roleState{Role: name, ARN: aws.ToString(role.Role.Arn)}
			c.principal = st.ARN
			if why := roleRefusal(st.ARN); why != "" {
				return nil, refuse("%s", why)
			}
			pol, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokePolicyName)})
			switch {
			case isNotFound(err):
			case err != nil:
				return nil, fmt.Errorf("GetRolePolicy %s: %w", name, err)
			default:
				// IAM returns policy documents URL-encoded.
				doc := aws.ToString(pol.PolicyDocument)
				if d, err := url.QueryUnescape(doc); err == nil {
					doc = d
				}
				st.Previous = doc
			}
			return encode(st)
		},
		act: func(ctx context.Context, c *call, before []byte, now time.Time) error {
			var st roleState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			return putRolePolicy(ctx, c, st.Role, RevokePolicy(now))
		},
		undo: func(ctx context.Context, c *call, before []byte) error {
			var st roleState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			if st.Previous != "" {
				return putRolePolicy(ctx, c, st.Role, st.Previous)
			}
			client, err := c.iam(ctx)
			if err != nil {
				return err
			}
			_, err = client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(st.Role), PolicyName: aws.String(RevokePolicyName)})
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("DeleteRolePolicy %s: %w", st.Role, err)
			}
			return nil
		},
		effect: func(c *call, before []byte) string {
			return "deny every session of " + c.target + " issued before now (inline policy " + RevokePolicyName + ")"
		},
	}
}

func putRolePolicy(ctx context.Context, c *call, role, doc string) error {
	client, err := c.iam(ctx)
	if err != nil {
		return err
	}
	_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(RevokePolicyName), PolicyDocument: aws.String(doc)})
	if isNotFound(err) {
		return missing("role %s", role)
	}
	if err != nil {
		return fmt.Errorf("PutRolePolicy %s: %w", role, err)
	}
	return nil
}
