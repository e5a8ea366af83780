package response

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM is every IAM call the actions make; *iam.Client implements it.
type IAM interface {
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
}

// EventBridge is every EventBridge call the actions make;
// *eventbridge.Client implements it.
type EventBridge interface {
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
}

// Lambda is every Lambda call the actions make; *lambda.Client implements
// it.
type Lambda interface {
	GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	PutFunctionConcurrency(context.Context, *lambda.PutFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(context.Context, *lambda.DeleteFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
}

// STS is the STS calls the responder makes; *sts.Client implements it.
type STS interface {
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// ErrOtherAccount is returned for a target in another account than the
// caller's own credentials are for, when there is no response role to
// assume there: acting on a same-named resource of the wrong account must
// never happen.
var ErrOtherAccount = errors.New("the target is in another account than the credentials")

// Clients gives the API clients of a member account (and region), acting
// for the named session (the incident being responded to).
type Clients interface {
	IAM(ctx context.Context, account, session string) (IAM, error)
	EventBridge(ctx context.Context, account, region, session string) (EventBridge, error)
	Lambda(ctx context.Context, account, region, session string) (Lambda, error)
}

// SessionDuration is how long the response role's sessions last: the
// shortest STS allows.
const SessionDuration = 900 * time.Second

// sessionExpiryWindow is how long before expiry cached credentials are
// refreshed.
const sessionExpiryWindow = 2 * time.Minute

// Accounts is Clients over the SDK. With a role name it assumes
// arn:aws:iam::<account>:role/<role name> with the external id, in
// sessions of SessionDuration named after the incident, and caches the
// credentials per account and session until shortly before they expire
// (and the clients per account, region and session). Without a role name
// it uses its own credentials for every account (the CLI run by a
// responder in the account itself). It is safe for concurrent use.
type Accounts struct {
	base       aws.Config
	sts        STS
	roleName   string
	externalID string

	mu      sync.Mutex
	creds   map[string]aws.CredentialsProvider
	clients map[string]any
	// own is the account of the caller's own credentials, once asked.
	own string
}

var _ Clients = (*Accounts)(nil)

// NewAccounts returns the SDK clients built from cfg, assuming roleName
// (empty: none) with externalID through the STS client stsClient (nil: one
// built from cfg).
func NewAccounts(cfg aws.Config, stsClient STS, roleName, externalID string) *Accounts {
	if stsClient == nil {
		stsClient = sts.NewFromConfig(cfg)
	}
	return &Accounts{base: cfg, sts: stsClient, roleName: roleName, externalID: externalID,
		creds: map[string]aws.CredentialsProvider{}, clients: map[string]any{}}
}

// config returns the SDK config for an account, region and session.
func (a *Accounts) config(ctx context.Context, account, region, session string) (aws.Config, error) {
	cfg := a.base.Copy()
	if region != "" {
		cfg.Region = region
	}
	if a.roleName == "" {
		if account == "" {
			return cfg, nil
		}
		if a.own == "" {
			out, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return cfg, fmt.Errorf("which account the credentials are for (GetCallerIdentity): %w", err)
			}
			a.own = aws.ToString(out.Account)
		}
		if account != a.own {
			return cfg, fmt.Errorf("%w: target in %s, credentials for %s; configure a response role (role_name) to act across accounts", ErrOtherAccount, account, a.own)
		}
		return cfg, nil
	}
	if !accountID.MatchString(account) {
		return cfg, fmt.Errorf("cannot assume the response role: %q is not an account id", account)
	}
	key := account + "/" + session
	p, ok := a.creds[key]
	if !ok {
		role := "arn:aws:iam::" + account + ":role/" + a.roleName
		p = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(a.sts, role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = SessionName(session)
			o.Duration = SessionDuration
			o.ExternalID = aws.String(a.externalID)
		}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = sessionExpiryWindow })
		a.creds[key] = p
	}
	cfg.Credentials = p
	return cfg, nil
}

// client returns the cached client of kind for the account, region and
// session, building it with build on first use.
func client[T any](ctx context.Context, a *Accounts, kind, account, region, session string, build func(aws.Config) T) (T, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := kind + "/" + account + "/" + region + "/" + session
	if c, ok := a.clients[key]; ok {
		return c.(T), nil
	}
	var zero T
	cfg, err := a.config(ctx, account, region, session)
	if err != nil {
		return zero, err
	}
	c := build(cfg)
	a.clients[key] = c
	return c, nil
}

// IAM returns the account's IAM client.
func (a *Accounts) IAM(ctx context.Context, account, session string) (IAM, error) {
	return client(ctx, a, "iam", account, "", session, func(cfg aws.Config) IAM { return iam.NewFromConfig(cfg) })
}

// EventBridge returns the account's EventBridge client in region.
func (a *Accounts) EventBridge(ctx context.Context, account, region, session string) (EventBridge, error) {
	return client(ctx, a, "events", account, region, session, func(cfg aws.Config) EventBridge { return eventbridge.NewFromConfig(cfg) })
}

// Lambda returns the account's Lambda client in region.
func (a *Accounts) Lambda(ctx context.Context, account, region, session string) (Lambda, error) {
	return client(ctx, a, "lambda", account, region, session, func(cfg aws.Config) Lambda { return lambda.NewFromConfig(cfg) })
}

var sessionChars = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName returns the STS session name for a response to an incident:
// "trailhound-" and the incident id, with characters STS refuses replaced
// and cut to 64 characters, so that CloudTrail in the member account names
// the incident behind every call.
func SessionName(incidentID string) string {
	s := sessionChars.ReplaceAllString("trailhound-"+incidentID, "_")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
