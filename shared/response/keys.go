package response

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailhound/trailhound/shared/identity"
)

// keyState is what deactivate-access-key saves: the user and the status
// of each key it sets Inactive.
type keyState struct {
	User    string      `json:"user"`
	UserARN string      `json:"user_arn"`
	Keys    []keyStatus `json:"keys"`
}

type keyStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// The target of deactivate-access-key is an access key id (AKIA…), or an
// IAM user's ARN for all of the user's keys.
func keyTargetIsUser(target string) bool { return strings.HasPrefix(target, "arn:") }

func deactivateAccessKey() Action {
	return Action{
		Name: "deactivate-access-key", Target: "iam:access-key",
		Permissions: []string{"iam:UpdateAccessKey", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:GetUser"},
		Description: "sets the access key Inactive (never deletes it); undo reactivates it",
		locate:      locateKey,
		refuse: func(c *call) string {
			if keyTargetIsUser(c.target) && isOwn(lastSegment(c.target, '/')) {
				return "a Trailhound user: never acted on"
			}
			return ""
		},
		read: func(ctx context.Context, c *call) ([]byte, error) {
			st, err := readKeys(ctx, c)
			if err != nil {
				return nil, err
			}
			return encode(st)
		},
		act: func(ctx context.Context, c *call, before []byte, _ time.Time) error {
			var st keyState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			return setKeys(ctx, c, st, func(keyStatus) iamtypes.StatusType { return iamtypes.StatusTypeInactive })
		},
		undo: func(ctx context.Context, c *call, before []byte) error {
			var st keyState
			if err := decodeState(before, &st); err != nil {
				return err
			}
			return setKeys(ctx, c, st, func(k keyStatus) iamtypes.StatusType { return iamtypes.StatusType(k.Status) })
		},
		effect: func(c *call, before []byte) string {
			var st keyState
			_ = decodeState(before, &st)
			ids := make([]string, len(st.Keys))
			for i, k := range st.Keys {
				ids[i] = k.ID + " (" + k.Status + ")"
			}
			return fmt.Sprintf("set access key(s) %s of %s Inactive", strings.Join(ids, ", "), st.UserARN)
		},
	}
}

// locateKey finds the account of an access key the plan gives without
// one: the first candidate account where the key's user exists.
func locateKey(ctx context.Context, c *call, candidates []string) error {
	if keyTargetIsUser(c.target) {
		c.account = identity.AccountOf(c.target)
		return nil
	}
	var errs []error
	for _, acct := range candidates {
		c.account = acct
		user, err := keyUser(ctx, c)
		if err != nil {
			if !errors.Is(err, errMissing) && !errors.Is(err, ErrOtherAccount) {
				errs = append(errs, fmt.Errorf("account %s: %w", orUnknown(acct), err))
			}
			continue
		}
		if _, err := getUser(ctx, c, user); err == nil {
			// The user's ARN says where it is (with the caller's own
			// credentials every candidate is the caller's account).
			if a := identity.AccountOf(c.principal); a != "" {
				c.account = a
			}
			return nil
		} else if !errors.Is(err, errMissing) {
			errs = append(errs, fmt.Errorf("account %s: %w", orUnknown(acct), err))
		}
	}
	c.account = ""
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return missing("access key %s in accounts %v", c.target, candidates)
}

// keyUser returns the user name of an access key in the call's account.
func keyUser(ctx context.Context, c *call) (string, error) {
	client, err := c.iam(ctx)
	if err != nil {
		return "", err
	}
	out, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(c.target)})
	if isNotFound(err) || (err == nil && aws.ToString(out.UserName) == "") {
		return "", missing("access key %s", c.target)
	}
	if err != nil {
		return "", fmt.Errorf("GetAccessKeyLastUsed %s: %w", c.target, err)
	}
	return aws.ToString(out.UserName), nil
}

// getUser reads an IAM user, setting the call's principal to its ARN.
func getUser(ctx context.Context, c *call, name string) (*iamtypes.User, error) {
	client, err := c.iam(ctx)
	if err != nil {
		return nil, err
	}
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if isNotFound(err) {
		return nil, missing("user %s in account %s", name, orUnknown(c.account))
	}
	if err != nil {
		return nil, fmt.Errorf("GetUser %s: %w", name, err)
	}
	c.principal = aws.ToString(out.User.Arn)
	return out.User, nil
}

// readKeys reads the user and the status of the targeted keys.
func readKeys(ctx context.Context, c *call) (keyState, error) {
	var st keyState
	var err error
	if keyTargetIsUser(c.target) {
		st.User = lastSegment(c.target, '/')
	} else if st.User, err = keyUser(ctx, c); err != nil {
		return st, err
	}
	user, err := getUser(ctx, c, st.User)
	if err != nil {
		return st, err
	}
	st.UserARN = aws.ToString(user.Arn)
	if isOwn(st.User) {
		return st, refuse("%s is a Trailhound user: never acted on", st.UserARN)
	}
	client, err := c.iam(ctx)
	if err != nil {
		return st, err
	}
	p := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String(st.User)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			return st, missing("user %s", st.User)
		}
		if err != nil {
			return st, fmt.Errorf("ListAccessKeys %s: %w", st.User, err)
		}
		for _, k := range page.AccessKeyMetadata {
			if id := aws.ToString(k.AccessKeyId); keyTargetIsUser(c.target) || id == c.target {
				st.Keys = append(st.Keys, keyStatus{ID: id, Status: string(k.Status)})
			}
		}
	}
	if len(st.Keys) == 0 {
		return st, missing("access key %s of user %s", c.target, st.User)
	}
	return st, nil
}

// setKeys sets each key of st to the status status gives it.
func setKeys(ctx context.Context, c *call, st keyState, status func(keyStatus) iamtypes.StatusType) error {
	client, err := c.iam(ctx)
	if err != nil {
		return err
	}
	for _, k := range st.Keys {
		_, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(st.User), AccessKeyId: aws.String(k.ID), Status: status(k)})
		if isNotFound(err) {
			return missing("access key %s of user %s", k.ID, st.User)
		}
		if err != nil {
			return fmt.Errorf("UpdateAccessKey %s: %w", k.ID, err)
		}
	}
	return nil
}
