package baseline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
)

// mapStore is a baseline.Store in memory that counts writes.
type mapStore struct {
	profiles map[string]*baseline.Profile
	writes   int
}

func newMapStore() *mapStore { return &mapStore{profiles: map[string]*baseline.Profile{}} }

func (m *mapStore) LoadProfile(_ context.Context, key string) (*baseline.Profile, error) {
	return m.profiles[key].Clone(), nil
}

func (m *mapStore) profile(key string) *baseline.Profile {
	p := m.profiles[key]
	if p == nil {
		p = &baseline.Profile{Key: key}
		m.profiles[key] = p
	}
	return p
}

func (m *mapStore) AddFact(_ context.Context, key string, f baseline.Fact, at time.Time, eventID string) (bool, error) {
	m.writes++
	return m.profile(key).Record(f, at, eventID), nil
}

func (m *mapStore) AddEvents(_ context.Context, key string, n int64, at time.Time) error {
	m.writes++
	p := m.profile(key)
	if p.Created.IsZero() {
		p.Created = at
	}
	p.Events += n
	return nil
}

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func alice() identity.Attribution {
	arn := "arn:aws:iam::111122223333:user/alice"
	return identity.Attribution{Session: arn, Origin: identity.Origin{ARN: arn, Type: "IAMUser", Chain: []string{arn}, Resolved: true}}
}

func ev(id string, at time.Time, region, ip, ua string) *cloudtrail.Event {
	return &cloudtrail.Event{EventID: id, EventTime: at, EventSource: "ec2.amazonaws.com", EventName: "DescribeInstances",
		AWSRegion: region, SourceIPAddress: ip, UserAgent: ua, RecipientAccountID: "111122223333"}
}

func TestFirstSeenAfterLearning(t *testing.T) {
	ctx := context.Background()
	opts := baseline.DefaultOptions()
	opts.LearningEvents = 10
	opts.LearningPeriod = 48 * time.Hour
	st := newMapStore()
	b, err := baseline.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Three days of habit: eu-west-1, one office network, the CLI, 9-10 UTC.
	for i := 0; i < 30; i++ {
		at := t0.Add(time.Duration(i%3)*24*time.Hour + time.Duration(i)*time.Minute)
		sigs, err := b.Observe(ctx, ev(fmt.Sprint("h", i), at, "eu-west-1", "203.0.113.7", "aws-cli/2.15.0 Python/3.11 Linux/6.1"), alice())
		if err != nil {
			t.Fatal(err)
		}
		if len(sigs) != 0 {
			t.Fatalf("event %d: signals during learning: %v", i, sigs)
		}
	}
	writesBefore := st.writes
	// Habitual events cost no writes beyond the batched event count.
	for i := 0; i < 20; i++ {
		at := t0.Add(2*24*time.Hour + time.Hour + time.Duration(i)*time.Second)
		if _, err := b.Observe(ctx, ev(fmt.Sprint("k", i), at.Add(-time.Hour), "eu-west-1", "203.0.113.9", "aws-cli/2.16.1 Python/3.12 Linux/6.2"), alice()); err != nil {
			t.Fatal(err)
		}
	}
	if w := st.writes - writesBefore; w > 1 {
		t.Errorf("%d store writes for 20 habitual events, want at most 1 (batched count)", w)
	}

	// Then: a new region, network, tool and hour, all at once.
	at := t0.Add(3*24*time.Hour + 5*time.Hour) // 14:00 UTC
	sigs, err := b.Observe(ctx, ev("attack", at, "ap-south-1", "198.51.100.66", "aws-cli/1.18.69 Python/3.8 Linux/5.10-kali-amd64 botocore/1.17"), alice())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sigs {
		got = append(got, s.Kind+"="+s.Facts[factKey(s.Kind)])
		if s.EventID != "attack" || s.Identity.ARN != alice().Origin.ARN || s.ID == "" || s.Rationale == "" {
			t.Errorf("incomplete signal %+v", s)
		}
	}
	want := []string{
		"first-seen-region=ap-south-1",
		"first-seen-network=198.51.100.0/24",
		"first-seen-user-agent=aws-cli/1 kali",
		"first-seen-hour=14",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}

	// The same facts again are no longer new.
	sigs, err = b.Observe(ctx, ev("attack2", at.Add(time.Minute), "ap-south-1", "198.51.100.66", "aws-cli/1.18.69 Python/3.8 Linux/5.10-kali-amd64"), alice())
	if err != nil || len(sigs) != 0 {
		t.Errorf("repeat: signals %v, err %v; want none", sigs, err)
	}
}

func factKey(kind string) string {
	return map[string]string{
		"first-seen-region": "region", "first-seen-network": "network", "first-seen-user-agent": "user-agent",
		"first-seen-hour": "hour", "first-seen-service": "service", "first-seen-api": "api", "first-seen-account": "account",
	}[kind]
}

func TestServicesAreNotBaselined(t *testing.T) {
	st := newMapStore()
	opts := baseline.DefaultOptions()
	opts.LearningEvents, opts.LearningPeriod = 0, 0
	b, _ := baseline.New(st, opts)
	at := identity.Attribution{ByService: true, Origin: identity.Origin{ARN: "ec2.amazonaws.com", Type: "AWSService"}}
	sigs, err := b.Observe(context.Background(), ev("s", t0, "eu-west-1", "ec2.amazonaws.com", "ec2.amazonaws.com"), at)
	if err != nil || len(sigs) != 0 || st.writes != 0 {
		t.Errorf("service event: signals %v, writes %d, err %v; want none", sigs, st.writes, err)
	}
}

func TestInvokedByServiceRecordsButDoesNotSignal(t *testing.T) {
	st := newMapStore()
	opts := baseline.DefaultOptions()
	opts.LearningEvents, opts.LearningPeriod = 0, 0
	b, _ := baseline.New(st, opts)
	at := alice()
	at.InvokedBy = "cloudformation.amazonaws.com"
	sigs, err := b.Observe(context.Background(), ev("cfn", t0, "eu-west-1", "cloudformation.amazonaws.com", "cloudformation.amazonaws.com"), at)
	if err != nil || len(sigs) != 0 {
		t.Errorf("signals %v, err %v; want none", sigs, err)
	}
	if !st.profiles[at.Origin.Key()].Has(baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}) {
		t.Error("the region was not recorded")
	}
}

func TestUserAgentFamily(t *testing.T) {
	tests := []struct{ in, want string }{
		{"aws-cli/2.13.5 Python/3.11.4 Darwin/22.5.0 exe/x86_64 prompt/off command/s3.ls", "aws-cli/2 macos"},
		{"[Boto3/1.26.165 Python/3.10.6 Linux/5.19.0-46-generic Botocore/1.29.165]", "Boto3/1 linux"},
		{"APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1 aws-sdk-go/1.44.157 (go1.19.3; linux; amd64)", "Terraform/1 linux"},
		{"stratus-red-team_f3f19dcd-8552-47ca-a01e-0e1f5578d15e", "stratus-red-team"},
		{"console.ec2.amazonaws.com", "console"},
		{"signin.amazonaws.com", "console"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", "browser"},
		{"AWS Internal", "aws internal"},
		{"cloudformation.amazonaws.com", "cloudformation.amazonaws.com"},
		{"aws-cli/1.18.69 Python/3.8.5 Linux/5.10.0-kali7-amd64 botocore/1.17.42", "aws-cli/1 kali"},
		{"curl/8.1", "curl/8"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := baseline.UserAgentFamily(tt.in); got != tt.want {
			t.Errorf("UserAgentFamily(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNetwork(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"211.9.016.253", "211.9.16.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
		{"::ffff:198.51.100.1", "198.51.100.0/24"},
		{"cloudformation.amazonaws.com", ""},
		{"AWS Internal", ""},
		{"1.2.3", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := baseline.Network(tt.in); got != tt.want {
			t.Errorf("Network(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := baseline.Options{LearningEvents: -1, LearningPeriod: -time.Hour}
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted negative learning and zero batch sizes")
	}
	if err := baseline.DefaultOptions().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}
