package response

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// DenyAllPolicy is AWS's deny-all managed policy, which quarantine-user
// attaches.
const DenyAllPolicy = "arn:aws:iam::aws:policy/AWSDenyAll"

// userState is what quarantine-user saves: whether the policy was
// attached already (undo then leaves it).
type userState struct {
	User            string `json:"user"`
	ARN             string `json:"arn"`
	AlreadyAttached bool   `json:"already_attached"`
}

func quarantineUser() Action {
	return Action{
		Name: "quarantine-user", Target: "iam:user",
		Permissions: []string{"iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:ListAttachedUserPolicies", "iam:GetUser"},
		Description: "attaches AWS's deny-all managed policy (AWSDenyAll) to the user; undo detaches it",
		refuse: func(c *call) string {
			switch {
			case strings.HasSuffix(c.target, ":root"):
				return "the root user cannot be quarantined by a policy: secure it by hand"
			case isOwn(lastSegment(c.target, '/')):
				return "a Trailhound user: never acted on"
			}
			return ""
		},
		read: func(ctx context.Context, c *call) ([]byte, error) {
			user, err := getUser(ctx, c, lastSegment(c.target, '/'))
			if err != nil {
				return nil, err
			}
			st := userState{User: aws.ToString(user.UserName), ARN: aws.ToString(user.Arn)}
			client, err := c.iam(ctx)
			if err != nil {
				return nil, err
			}
			p := iam.NewListAttachedUserPoliciesPaginator(client, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(st.User)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("ListAttachedUserPolicies %s: %w", st.User, err)
				}
				for _, pol := range page.AttachedPolicies {
					if aws.ToString(pol.PolicyArn) == DenyAllPolicy {
						st.AlreadyAttached = true
					}
				}
			}
			return encode(st)
		},
		act: func(ctx context.Context, c *call, before []byte, _ time.Time) error {
			var st userState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			client, err := c.iam(ctx)
			if err != nil {
				return err
			}
			_, err = client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(st.User), PolicyArn: aws.String(DenyAllPolicy)})
			if isNotFound(err) {
				return fmt.Errorf("AttachUserPolicy %s %s (the user, or the policy, does not exist): %w", st.User, DenyAllPolicy, err)
			}
			if err != nil {
				return fmt.Errorf("AttachUserPolicy %s: %w", st.User, err)
			}
			return nil
		},
		undo: func(ctx context.Context, c *call, before []byte) error {
			var st userState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			if st.AlreadyAttached {
				return nil
			}
			client, err := c.iam(ctx)
			if err != nil {
				return err
			}
			_, err = client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(st.User), PolicyArn: aws.String(DenyAllPolicy)})
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("DetachUserPolicy %s: %w", st.User, err)
			}
			return nil
		},
		effect: func(c *call, before []byte) string {
			var st userState
			_ = decodeState(before, &st)
			return "attach " + DenyAllPolicy + " to " + st.ARN
		},
	}
}
