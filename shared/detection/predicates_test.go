package detection_test

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

// predicateCase runs one named predicate on a value, for an event of
// account 111122223333 signed by the given identity.
type predicateCase struct {
	name     string
	identity string // userIdentity JSON; an IAM user "alice" when empty
	value    string // JSON value handed to the predicate
	origin   string // Attribution.Origin.Type, when the chain resolved
	want     bool
}

func runPredicate(t *testing.T, pred string, cases []predicateCase, extra string) {
	t.Helper()
	p := detection.Predicates()[pred]
	if p == nil {
		t.Fatalf("no predicate %q", pred)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ui := tc.identity
			if ui == "" {
				ui = `{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`
			}
			raw := `{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"X","recipientAccountId":"111122223333","userIdentity":` + ui + extra + `}`
			ev, err := cloudtrail.Decode([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			ctx := detection.Context{Event: &ev, Attribution: identity.Attribution{Origin: identity.Origin{Type: tc.origin}}}
			if got := p(ctx, gjson.Parse(tc.value)); got != tc.want {
				t.Errorf("%s(%s) = %v, want %v", pred, tc.value, got, tc.want)
			}
		})
	}
}

func TestAdminPolicyDocument(t *testing.T) {
	runPredicate(t, "admin-policy-document", []predicateCase{
		{name: "string document", value: `"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"`, want: true},
		{name: "iam star", value: `{"Statement":{"Effect":"Allow","Action":["s3:Get*","iam:*"],"Resource":["*"]}}`, want: true},
		{name: "url-encoded", value: `"%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"`, want: true},
		{name: "deny all", value: `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`},
		{name: "scoped", value: `{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`},
		{name: "not a policy", value: `"nonsense"`},
	}, "")
}

func TestPublicOrForeignPrincipal(t *testing.T) {
	runPredicate(t, "public-or-foreign-principal", []predicateCase{
		{name: "everyone", value: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, want: true},
		{name: "aws star", value: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"}}]}`, want: true},
		{name: "foreign root", value: `"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999988887777:root\"}}]}"`, want: true},
		{name: "foreign bare id", value: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["999988887777"]}}]}`, want: true},
		{name: "own account", value: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"}}]}`},
		{name: "service", value: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"}}]}`},
		{name: "organisation only", value: `{"Statement":[{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`},
		{name: "source vpce only", value: `{"Statement":[{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`},
		{name: "one open statement of two", value: `{"Statement":[{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},{"Effect":"Allow","Principal":"*"}]}`, want: true},
		{name: "deny everyone", value: `{"Statement":[{"Effect":"Deny","Principal":"*"}]}`},
	}, "")
}

func TestForeignOrPublicAccounts(t *testing.T) {
	runPredicate(t, "foreign-or-public-accounts", []predicateCase{
		{name: "ec2 user id object", value: `[{"userId":"999988887777"}]`, want: true},
		{name: "ec2 group all", value: `[{"group":"all"}]`, want: true},
		{name: "ec2 group none", value: `[{"group":"none"}]`},
		{name: "ec2 own account", value: `[{"userId":"111122223333"}]`},
		{name: "rds values", value: `["999988887777"]`, want: true},
		{name: "rds all", value: `["all"]`, want: true},
		{name: "lambda star", value: `"*"`, want: true},
		{name: "lambda service", value: `"events.amazonaws.com"`},
		{name: "empty", value: `[]`},
	}, "")
}

func TestWorldCIDR(t *testing.T) {
	runPredicate(t, "world-cidr", []predicateCase{
		{name: "ipv4", value: `"0.0.0.0/0"`, want: true},
		{name: "ipv6", value: `"::/0"`, want: true},
		{name: "slash 16", value: `"0.0.0.0/16"`},
		{name: "host", value: `"203.0.113.7/32"`},
	}, "")
}

func TestAnotherUser(t *testing.T) {
	role := `{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333"}`
	runPredicate(t, "another-user", []predicateCase{
		{name: "other user", value: `"bob"`, want: true},
		{name: "self", value: `"alice"`},
		{name: "self other case", value: `"Alice"`},
		{name: "no target", value: `""`},
		{name: "role session acting on a user", identity: role, value: `"alice"`, want: true},
	}, "")
}

func TestLargeOrGPUInstance(t *testing.T) {
	runPredicate(t, "large-or-gpu-instance", []predicateCase{
		{name: "gpu", value: `"p2.xlarge"`, want: true},
		{name: "g5", value: `"g5.2xlarge"`, want: true},
		{name: "very large", value: `"m5.24xlarge"`, want: true},
		{name: "metal", value: `"c5.metal"`, want: true},
		{name: "ordinary", value: `"t3.micro"`},
		{name: "ordinary large", value: `"m5.4xlarge"`},
	}, "")
}

func TestTrailhoundResource(t *testing.T) {
	runPredicate(t, "trailhound-resource", []predicateCase{
		{name: "function", value: `"Trailhound-Detector"`, want: true},
		{name: "nested", value: `{"rule":"trailhound-incidents"}`, want: true},
		{name: "other", value: `"billing-report"`},
	}, "")
}

func TestExpiresEverything(t *testing.T) {
	runPredicate(t, "expires-everything", []predicateCase{
		{name: "one day, whole bucket", value: `{"Rule":{"Status":"Enabled","Expiration":{"Days":1}}}`, want: true},
		{name: "star prefix", value: `{"Rule":{"Status":"Enabled","Filter":{"Prefix":"*"},"Expiration":{"Days":1}}}`, want: true},
		{name: "noncurrent versions", value: `{"Rule":[{"Status":"Enabled","NoncurrentVersionExpiration":{"NoncurrentDays":1}}]}`, want: true},
		{name: "disabled", value: `{"Rule":{"Status":"Disabled","Expiration":{"Days":1}}}`},
		{name: "two years", value: `{"Rule":{"Status":"Enabled","Expiration":{"Days":730}}}`},
		{name: "one prefix only", value: `{"Rule":{"Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":1}}}`},
	}, "")
}

func TestHumanIdentity(t *testing.T) {
	sso := `{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1/bob","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"}}}`
	ci := `{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/deploy"}}}`
	runPredicate(t, "human-identity", []predicateCase{
		{name: "iam user", value: `"IAMUser"`, want: true},
		{name: "root", identity: `{"type":"Root","arn":"arn:aws:iam::111122223333:root"}`, want: true},
		{name: "federated", identity: `{"type":"FederatedUser","arn":"arn:aws:sts::111122223333:federated-user/x"}`, want: true},
		{name: "sso session", identity: sso, want: true},
		{name: "workload role", identity: ci},
		{name: "role assumed by a user", identity: ci, origin: "IAMUser", want: true},
		{name: "service", identity: `{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}`},
	}, "")
}

func TestArnOfAnotherAccount(t *testing.T) {
	runPredicate(t, "arn-of-another-account", []predicateCase{
		{name: "foreign key", value: `"arn:aws:kms:us-east-1:999999999999:key/k"`, want: true},
		{name: "own key", value: `"arn:aws:kms:us-east-1:111122223333:key/k"`},
		{name: "key id", value: `"1234abcd-12ab-34cd-56ef-1234567890ab"`},
		{name: "bucket arn has no account", value: `"arn:aws:s3:::bucket"`},
	}, "")
}

func TestResourceOfAnotherAccount(t *testing.T) {
	foreign := `,"resources":[{"accountId":"999999999999","ARN":"arn:aws:s3:::theirs","type":"AWS::S3::Bucket"},{"ARN":"arn:aws:s3:::theirs/k","type":"AWS::S3::Object"}]`
	own := `,"resources":[{"accountId":"111122223333","ARN":"arn:aws:s3:::mine","type":"AWS::S3::Bucket"}]`
	runPredicate(t, "resource-of-another-account", []predicateCase{{name: "foreign bucket", value: `"x"`, want: true}}, foreign)
	runPredicate(t, "resource-of-another-account", []predicateCase{{name: "own bucket", value: `"x"`}}, own)
	runPredicate(t, "resource-of-another-account", []predicateCase{{name: "no resources", value: `"x"`}}, "")
}
