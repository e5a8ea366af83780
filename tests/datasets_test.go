// Package tests holds Trailhound's end-to-end tests: real CloudTrail datasets
// replayed through the whole pipeline, checked against their ground truth.
package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/replay"
)

// datasets returns the shared datasets folder: $TRAILHOUND_DATASETS (set by
// the Makefile, and then required), else ../../shared/datasets beside a
// development checkout (skipped when absent).
func datasets(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TRAILHOUND_DATASETS"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
			t.Fatalf("TRAILHOUND_DATASETS=%s holds no INDEX.md: %v", dir, err)
		}
		return dir
	}
	dir := filepath.Join("..", "..", "shared", "datasets")
	if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
		t.Skip("no shared datasets beside the checkout; set TRAILHOUND_DATASETS")
	}
	return dir
}

// observed is one event with what the pipeline made of it.
type observed struct {
	ev  *cloudtrail.Event
	obs pipeline.Observation
}

// replayAll runs paths through replay and the whole pipeline, as the CLI
// does, and returns each event with what the pipeline made of it.
func replayAll(t *testing.T, paths ...string) ([]observed, replay.Report) {
	t.Helper()
	r := replayPipeline(t, paths...)
	return r.events, r.report
}

// stratusPrincipals is INDEX.md's table 1: the malicious principals of each
// Stratus Red Team detonation. The first is the origin every event must be
// attributed to when the chain can be followed (the role session's issuing
// AssumeRole is in the file); the others are sessions the chain passes.
var stratusPrincipals = map[string][]string{
	"aws.credential-access.ec2-get-password-data":                 {"arn:aws:iam::457448411975:user/christophe", "arn:aws:sts::457448411975:assumed-role/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1722375070115152000"},
	"aws.credential-access.ec2-steal-instance-credentials":        {"arn:aws:iam::017622104382:user/christophe", "arn:aws:sts::017622104382:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-786a3A8B5C0d92eF4"},
	"aws.credential-access.secretsmanager-batch-retrieve-secrets": {"arn:aws:iam::165109126369:user/christophe"},
	"aws.credential-access.secretsmanager-retrieve-secrets":       {"arn:aws:iam::903144391865:user/christophe"},
	"aws.credential-access.ssm-retrieve-securestring-parameters":  {"arn:aws:iam::933175858973:user/christophe"},
	"aws.defense-evasion.cloudtrail-delete":                       {"arn:aws:iam::847129010505:user/christophe"},
	"aws.defense-evasion.cloudtrail-event-selectors":              {"arn:aws:iam::958312252124:user/christophe"},
	"aws.defense-evasion.cloudtrail-stop":                         {"arn:aws:iam::143434273843:user/christophe"},
	"aws.defense-evasion.dns-delete-logs":                         {"arn:aws:iam::206821776919:user/christophe"},
	"aws.defense-evasion.organizations-leave":                     {"arn:aws:iam::307578594326:user/christophe", "arn:aws:sts::307578594326:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1722587398902687000"},
	"aws.defense-evasion.vpc-remove-flow-logs":                    {"arn:aws:iam::498376118699:user/christophe"},
	"aws.discovery.ec2-download-user-data":                        {"arn:aws:iam::321848314756:user/christophe", "arn:aws:sts::321848314756:assumed-role/stratus-red-team-get-usr-data-role/aws-go-sdk-1722455550269043000"},
	"aws.execution.ec2-launch-unusual-instances":                  {"arn:aws:iam::900138736586:user/christophe", "arn:aws:sts::900138736586:assumed-role/stratus-red-team-ec2lui-role-idtzskbvtd/aws-go-sdk-1722511821294449000"},
	"aws.execution.ec2-user-data":                                 {"arn:aws:iam::309303190113:user/christophe"},
	"aws.execution.ssm-send-command":                              {"arn:aws:iam::056392974792:user/christophe"},
	"aws.execution.ssm-start-session":                             {"arn:aws:iam::294599468799:user/christophe"},
	"aws.exfiltration.ec2-security-group-open-port-22-ingress":    {"arn:aws:iam::032092706103:user/christophe"},
	"aws.exfiltration.ec2-share-ami":                              {"arn:aws:iam::118238665043:user/christophe"},
	"aws.exfiltration.ec2-share-ebs-snapshot":                     {"arn:aws:iam::756680937392:user/christophe"},
	"aws.exfiltration.rds-share-snapshot":                         {"arn:aws:iam::171471557522:user/christophe"},
	"aws.impact.bedrock-invoke-model":                             {"arn:aws:sts::494659789341:assumed-role/test-role/cli"},
	"aws.initial-access.console-login-without-mfa":                {"arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl"},
	"aws.lateral-movement.ec2-instance-connect":                   {"arn:aws:iam::572910899909:user/christophe"},
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key": {"arn:aws:sts::844015365555:assumed-role/AWSReservedSSOrandoml3I7nL6f7BmB@gmail.com"},
	"aws.persistence.iam-backdoor-role":                           {"arn:aws:iam::751203476945:user/christophe"},
	"aws.persistence.iam-backdoor-user":                           {"arn:aws:iam::946986569305:user/christophe"},
	"aws.persistence.iam-create-admin-user":                       {"arn:aws:iam::229654561268:user/christophe"},
	"aws.persistence.iam-create-backdoor-role":                    {"arn:aws:iam::609418236337:user/christophe"},
	"aws.persistence.iam-create-user-login-profile":               {"arn:aws:iam::070411556318:user/christophe"},
	"aws.persistence.lambda-backdoor-function":                    {"arn:aws:iam::880896431042:user/christophe"},
	"aws.persistence.lambda-layer-extension":                      {"arn:aws:iam::712967571683:user/christophe"},
	"aws.persistence.lambda-overwrite-code":                       {"arn:aws:iam::266106314375:user/christophe"},
	"aws.persistence.rolesanywhere-create-trust-anchor":           {"arn:aws:iam::791182566784:user/christophe"},
	"aws.persistence.sts-federation-token":                        {"arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user", "arn:aws:sts::742491224508:federated-user/stratus_red_team"},
	"aws.privilege-escalation.iam-update-user-login-profile":      {"arn:aws:iam::763751499319:user/christophe"},
}

// instanceSessions are detonations whose stolen credentials were issued to
// an instance by EC2, outside the file: there the instance's session is the
// origin, unresolved, and never the user who stole them.
var instanceSessions = map[string]bool{
	"arn:aws:sts::017622104382:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-786a3A8B5C0d92eF4": true,
}

func TestStratusAttribution(t *testing.T) {
	dir := filepath.Join(datasets(t), "stratus-red-team-detonation-logs")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(stratusPrincipals) {
		t.Fatalf("%d detonation files, %d in the ground truth", len(files), len(stratusPrincipals))
	}
	total := 0
	for _, f := range files {
		technique := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(technique, func(t *testing.T) {
			want, ok := stratusPrincipals[technique]
			if !ok {
				t.Fatalf("no ground truth for %s", technique)
			}
			events, rep := replayAll(t, f)
			if rep.SkippedRecords() != 0 {
				t.Errorf("skipped %v", rep.Skipped)
			}
			total += len(events)
			for _, e := range events {
				o := e.obs.Attribution.Origin
				signer := e.obs.Attribution.Session
				switch {
				case instanceSessions[signer]:
					if o.ARN != signer {
						t.Errorf("%s %s: origin %s, want the instance session %s", e.ev.EventID, e.ev.EventName, o.ARN, signer)
					}
				case o.ARN != want[0]:
					t.Errorf("%s %s signed by %s: origin %s, want %s", e.ev.EventID, e.ev.EventName, signer, o.ARN, want[0])
				}
				// Every hop of the chain is one of the principals the
				// ground truth names.
				for _, hop := range o.Chain {
					if !contains(want, hop) {
						t.Errorf("%s: chain hop %s is not in the ground truth %v", e.ev.EventID, hop, want)
					}
				}
				if last := o.Chain[len(o.Chain)-1]; last != signer {
					t.Errorf("%s: chain %v does not end with the signer %s", e.ev.EventID, o.Chain, signer)
				}
			}
		})
	}
	if total != 310 {
		t.Errorf("replayed %d Stratus events, want 310", total)
	}
}

// TestStratusRoleChains checks the role-chain cases precisely: the assumed
// role's calls belong to the user who assumed it, through a two-hop chain.
func TestStratusRoleChains(t *testing.T) {
	dir := filepath.Join(datasets(t), "stratus-red-team-detonation-logs")
	for _, technique := range []string{
		"aws.credential-access.ec2-get-password-data",
		"aws.defense-evasion.organizations-leave",
		"aws.discovery.ec2-download-user-data",
		"aws.execution.ec2-launch-unusual-instances",
		"aws.persistence.sts-federation-token",
	} {
		t.Run(technique, func(t *testing.T) {
			want := stratusPrincipals[technique]
			events, _ := replayAll(t, filepath.Join(dir, technique+".json"))
			chained := 0
			for _, e := range events {
				o := e.obs.Attribution.Origin
				if len(o.Chain) == 2 {
					chained++
					if !o.Resolved || o.Chain[0] != want[0] || o.Chain[1] != want[1] {
						t.Errorf("%s: origin %s chain %v resolved=%v, want %v resolved", e.ev.EventName, o.ARN, o.Chain, o.Resolved, want)
					}
				}
			}
			if chained == 0 {
				t.Errorf("no event went through the role chain %v", want)
			}
		})
	}
}

// label is one line of the Invictus labels.jsonl.
type label struct {
	EventID   string  `json:"eventID"`
	Principal string  `json:"principal_arn"`
	Label     string  `json:"label"`
	Technique *string `json:"stratus_technique"`
}

func TestInvictusAttribution(t *testing.T) {
	root := filepath.Join(datasets(t), "invictus-aws-stratus-simulation")
	labels := map[string]label{}
	f, err := os.Open(filepath.Join(root, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		labels[l.EventID] = l
	}
	events, rep := replayAll(t, filepath.Join(root, "raw"))
	if len(events) != 2900 || rep.Files != 55 || rep.SkippedRecords() != 0 {
		t.Fatalf("replayed %d events from %d files (skipped %v), want 2900 from 55", len(events), rep.Files, rep.Skipped)
	}
	const bertJan = "arn:aws:iam::123837392027:user/bert-jan"
	const stolen = "arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-0dbc91f429e48eeed"
	var prev *cloudtrail.Event
	attacks := 0
	for _, e := range events {
		if prev != nil && e.ev.EventTime.Before(prev.EventTime) {
			t.Errorf("event %s at %v comes after %v: not in event-time order", e.ev.EventID, e.ev.EventTime, prev.EventTime)
		}
		prev = e.ev
		l, ok := labels[e.ev.EventID]
		if !ok {
			t.Errorf("event %s has no label", e.ev.EventID)
			continue
		}
		at := e.obs.Attribution
		if l.Principal != "" && !contains(at.Origin.Chain, l.Principal) && at.Origin.ARN != l.Principal {
			t.Errorf("%s %s: labelled principal %s not in origin %s chain %v", e.ev.EventID, e.ev.EventName, l.Principal, at.Origin.ARN, at.Origin.Chain)
		}
		if l.Label != "attack-detonation" {
			continue
		}
		attacks++
		switch {
		case at.Session == stolen:
			// Credentials EC2 issued to the instance, used from the
			// attacker's laptop: the instance's identity, known from
			// EC2's own AssumeRole.
			if at.Origin.ARN != stolen || !at.Origin.Resolved {
				t.Errorf("%s: stolen instance credentials attributed to %+v", e.ev.EventID, at.Origin)
			}
		case strings.Contains(at.Session, ":assumed-role/stratus-red-team-"):
			if at.Origin.ARN != bertJan || len(at.Origin.Chain) != 2 || !at.Origin.Resolved {
				t.Errorf("%s %s as %s: origin %s chain %v, want bert-jan through the role", e.ev.EventID, e.ev.EventName, at.Session, at.Origin.ARN, at.Origin.Chain)
			}
		case strings.HasPrefix(l.Principal, "arn:aws:iam::123837392027:user/"):
			if at.Origin.ARN != l.Principal {
				t.Errorf("%s: origin %s, want %s", e.ev.EventID, at.Origin.ARN, l.Principal)
			}
		}
	}
	if attacks != 158 {
		t.Errorf("%d attack-detonation events, want 158", attacks)
	}
}

func TestCloudGoatAttribution(t *testing.T) {
	path := filepath.Join(datasets(t), "otrf-cloudgoat-cloud-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	events, rep := replayAll(t, path)
	if len(events) != 103 || rep.SkippedRecords() != 0 {
		t.Fatalf("replayed %d events (skipped %v), want 103", len(events), rep.Skipped)
	}
	const session = "arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/i-0317f6c6b66ae9c40"
	count := map[string]int{}
	for _, e := range events {
		o := e.obs.Attribution.Origin
		count[o.ARN]++
		if e.obs.Attribution.Session == session && o.ARN != session {
			t.Errorf("%s: stolen instance session attributed to %s", e.ev.EventID, o.ARN)
		}
	}
	want := map[string]int{session: 11, "arn:aws:iam::123456789123:user/pedro": 87, "ec2.amazonaws.com": 5}
	for arn, n := range want {
		if count[arn] != n {
			t.Errorf("%d events attributed to %s, want %d (all: %v)", count[arn], arn, n, count)
		}
	}
}

// TestPantherRecords attributes every hand-written Panther test record:
// each either decodes and gets a complete origin, or is reported with a
// reason; nothing panics.
func TestPantherRecords(t *testing.T) {
	f, err := os.Open(filepath.Join(datasets(t), "panther-analysis-rule-tests", "cloudtrail_rule_tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	decoded, skipped := 0, map[string]int{}
	for sc.Scan() {
		var tc struct {
			Log json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(sc.Bytes(), &tc); err != nil {
			t.Fatal(err)
		}
		ev, err := cloudtrail.Decode(tc.Log)
		if err != nil {
			var re *cloudtrail.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("decode error without a reason: %v", err)
			}
			skipped[re.Reason]++
			continue
		}
		decoded++
		at, err := identity.NewAttributor(identity.MapLedger{}).Attribute(context.Background(), &ev)
		if err != nil {
			t.Fatal(err)
		}
		if at.Origin.ARN == "" || at.Origin.Type == "" || len(at.Origin.Chain) == 0 {
			t.Errorf("incomplete origin %+v for %s", at.Origin, tc.Log)
		}
	}
	if decoded < 400 {
		t.Errorf("decoded %d Panther records (skipped %v), want at least 400 of 475", decoded, skipped)
	}
	t.Logf("Panther records: %d decoded, skipped %v", decoded, skipped)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
