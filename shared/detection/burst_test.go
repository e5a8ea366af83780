package detection_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
)

func burstDetector(t *testing.T) *detection.BurstDetector {
	t.Helper()
	d, err := detection.NewBurstDetector(detection.Bursts(), detection.Predicates(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	t0  = time.Date(2025, 5, 5, 2, 0, 0, 0, time.UTC)
	yes = true
	bob = identity.Attribution{Origin: identity.Origin{ARN: "arn:aws:iam::111122223333:user/bob", Type: "IAMUser", Chain: []string{"arn:aws:iam::111122223333:user/bob"}, Resolved: true}}
)

func read(i int, source, ua, code string) *cloudtrail.Event {
	return &cloudtrail.Event{EventID: fmt.Sprint("e", i), EventTime: t0.Add(time.Duration(i) * 5 * time.Second), EventSource: source,
		EventName: "DescribeThings", AWSRegion: "eu-west-1", UserAgent: ua, ReadOnly: &yes, ErrorCode: code}
}

var services = []string{"ec2.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com", "kms.amazonaws.com", "rds.amazonaws.com", "lambda.amazonaws.com"}

func kinds(sigs []detection.Signal) map[string]int {
	m := map[string]int{}
	for _, s := range sigs {
		m[s.Kind]++
	}
	return m
}

func TestReconBurst(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want int
	}{
		{"a CLI enumerating six services", "aws-cli/1.29 Python/3.11 Linux/6.5-kali", 1},
		{"a person browsing the console", "AWS Internal", 0},
		{"Terraform refreshing its state", "APN/1.0 HashiCorp/1.0 Terraform/1.5.0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := burstDetector(t)
			var all []detection.Signal
			for i := 0; i < 60; i++ {
				all = append(all, d.Observe(read(i, services[i%len(services)], tt.ua, ""), bob)...)
			}
			if got := kinds(all)["recon-burst"]; got != tt.want {
				t.Errorf("%d recon-burst signals, want %d (once per window)", got, tt.want)
			}
		})
	}
}

func TestAccessDeniedBurst(t *testing.T) {
	d := burstDetector(t)
	var all []detection.Signal
	for i := 0; i < 9; i++ {
		all = append(all, d.Observe(read(i, "ec2.amazonaws.com", "boto3", "Client.UnauthorizedOperation"), bob)...)
	}
	if len(all) != 0 {
		t.Fatalf("signals before the threshold: %v", kinds(all))
	}
	sigs := d.Observe(read(9, "ec2.amazonaws.com", "boto3", "AccessDenied"), bob)
	if k := kinds(sigs); k["access-denied-burst"] != 1 {
		t.Fatalf("10th denial raised %v, want one access-denied-burst", k)
	}
	if s := sigs[0]; s.Facts["events"] != "10" || len(s.Tags) == 0 || s.Severity != detection.Medium {
		t.Errorf("signal %+v", s)
	}
}

func TestServiceInvokedCallsAreNotBursts(t *testing.T) {
	d := burstDetector(t)
	at := bob
	at.InvokedBy = "secretsmanager.amazonaws.com"
	for i := 0; i < 60; i++ {
		if sigs := d.Observe(read(i, services[i%len(services)], "boto3", "AccessDenied"), at); len(sigs) > 0 {
			t.Fatalf("service-invoked calls raised %v", kinds(sigs))
		}
	}
}

// Events delivered out of order, some twice, as concurrent Lambda
// deliveries bring them: each counts once, in its place in the window.
func TestBurstLateAndRedeliveredEvents(t *testing.T) {
	d := burstDetector(t)
	order := []int{1, 2, 4, 3, 5, 6, 8, 7, 3, 5, 9}
	var all []detection.Signal
	for _, i := range order {
		all = append(all, d.Observe(read(i, "ec2.amazonaws.com", "boto3", "AccessDenied"), bob)...)
	}
	if len(all) != 0 {
		t.Fatalf("9 distinct denials and redeliveries raised %v", kinds(all))
	}
	// A late denial, older than all but the first: the tenth in the window.
	sigs := d.Observe(read(0, "ec2.amazonaws.com", "boto3", "AccessDenied"), bob)
	if k := kinds(sigs); k["access-denied-burst"] != 1 || sigs[0].Facts["events"] != "10" {
		t.Fatalf("the late tenth denial raised %v (%v), want one access-denied-burst of 10 events", k, sigs)
	}
}

// A burst's facts tell a responder what its window holds: every API
// called, how many calls failed and since when, not only the event that
// crossed the threshold.
func TestBurstFactsDescribeTheWindow(t *testing.T) {
	d := burstDetector(t)
	names := []string{"DescribeInstances", "ListRoles", "ListBuckets", "ListKeys", "DescribeDBInstances", "ListFunctions"}
	var recon *detection.Signal
	failed := 0
	for i := 0; i < 60 && recon == nil; i++ {
		code := ""
		if i%3 == 0 {
			code = "AccessDenied"
		}
		ev := read(i, services[i%len(services)], "aws-cli/1.29 Python/3.11 Linux/6.5-kali", code)
		ev.EventName = names[i%len(names)]
		for _, s := range d.Observe(ev, bob) {
			if s.Kind == "recon-burst" {
				recon = &s
			}
		}
		if code != "" {
			failed++
		}
	}
	if recon == nil {
		t.Fatal("no recon-burst")
	}
	f := recon.Facts
	wantAPIs := "ec2:DescribeInstances,iam:ListRoles,kms:ListKeys,lambda:ListFunctions,rds:DescribeDBInstances,s3:ListBuckets"
	if f["apis"] != wantAPIs {
		t.Errorf("apis %q, want %q", f["apis"], wantAPIs)
	}
	if f["first"] != t0.Format(time.RFC3339) {
		t.Errorf("first %q, want the window's first event at %s", f["first"], t0.Format(time.RFC3339))
	}
	if f["errors"] != fmt.Sprint(failed) || f["events"] == f["errors"] {
		t.Errorf("events %s, errors %s, want %d of them failed", f["events"], f["errors"], failed)
	}
}
