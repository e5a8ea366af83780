package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// committed is the demo as checked in, relative to this package.
const committed = "../../../events/demo"

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", root, err)
	}
	return files
}

// TestCommittedMatchesGenerator regenerates the demo and requires the
// committed copy to be byte for byte the same.
func TestCommittedMatchesGenerator(t *testing.T) {
	if _, err := os.Stat(committed); err != nil {
		t.Fatalf("no committed demo (%v): run go run ./tests/scenario/gendemo -out events/demo", err)
	}
	dir := t.TempDir()
	if _, err := generate(dir); err != nil {
		t.Fatal(err)
	}
	got, want := readTree(t, dir), readTree(t, committed)
	var diffs []string
	for name, b := range got {
		w, ok := want[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing from events/demo: "+name)
		case !bytes.Equal(b, w):
			diffs = append(diffs, "differs: "+name)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			diffs = append(diffs, "not generated: "+name)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], "…")
		}
		t.Fatalf("events/demo is not what the generator writes (%d files); run go run ./tests/scenario/gendemo -out events/demo:\n%s",
			len(diffs), strings.Join(diffs, "\n"))
	}
}

type record struct {
	EventVersion    string         `json:"eventVersion"`
	EventID         string         `json:"eventID"`
	EventTime       string         `json:"eventTime"`
	EventSource     string         `json:"eventSource"`
	EventName       string         `json:"eventName"`
	EventType       string         `json:"eventType"`
	EventCategory   string         `json:"eventCategory"`
	AWSRegion       string         `json:"awsRegion"`
	SourceIP        string         `json:"sourceIPAddress"`
	UserAgent       string         `json:"userAgent"`
	RequestID       *string        `json:"requestID"`
	ReadOnly        *bool          `json:"readOnly"`
	ManagementEvent *bool          `json:"managementEvent"`
	Recipient       string         `json:"recipientAccountId"`
	ErrorCode       string         `json:"errorCode"`
	ErrorMessage    string         `json:"errorMessage"`
	TLS             map[string]any `json:"tlsDetails"`
	Console         string         `json:"sessionCredentialFromConsole"`
	UserIdentity    struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			SessionIssuer struct {
				ARN      string `json:"arn"`
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`

	time time.Time
	file string
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	pathRE = regexp.MustCompile(`^AWSLogs/o-7h3d5x9k2q/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
)

// loadDemo decodes every committed log file with encoding/json and checks
// the file's name, account, region, period and order.
func loadDemo(t *testing.T) []*record {
	t.Helper()
	var recs []*record
	for name, data := range readTree(t, committed) {
		if !strings.HasPrefix(name, "AWSLogs/") {
			continue
		}
		m := pathRE.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: not a CloudTrail S3 key", name)
			continue
		}
		acct, region, delivered := m[1], m[2], m[8]
		end, err := time.Parse("20060102T1504Z", delivered)
		if err != nil || m[6] != acct || m[7] != region || end.Format("2006/01/02") != m[3]+"/"+m[4]+"/"+m[5] || end.Minute()%5 != 0 {
			t.Errorf("%s: inconsistent name", name)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var doc struct {
			Records []*record `json:"Records"`
		}
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc.Records) == 0 {
			t.Errorf("%s: no records", name)
		}
		var prev time.Time
		for _, r := range doc.Records {
			r.file = name
			r.time, err = time.Parse(time.RFC3339, r.EventTime)
			if err != nil {
				t.Fatalf("%s: eventTime %q", name, r.EventTime)
			}
			if r.time.Before(end.Add(-5*time.Minute)) || !r.time.Before(end) {
				t.Errorf("%s: event %s at %s outside the file's period", name, r.EventID, r.EventTime)
			}
			if r.time.Before(prev) {
				t.Errorf("%s: records not in time order at %s", name, r.EventID)
			}
			prev = r.time
			if r.Recipient != acct || r.AWSRegion != region {
				t.Errorf("%s: event %s of %s/%s", name, r.EventID, r.Recipient, r.AWSRegion)
			}
			recs = append(recs, r)
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].time.Before(recs[j].time) })
	return recs
}

func TestDemoRecords(t *testing.T) {
	recs := loadDemo(t)
	if len(recs) < 8000 || len(recs) > 20000 {
		t.Errorf("%d events, want 8,000–20,000", len(recs))
	}
	start, end := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	ids := map[string]bool{}
	for _, r := range recs {
		where := r.file + " " + r.EventID
		if r.EventVersion == "" || r.EventSource == "" || r.EventName == "" || r.EventType == "" || r.UserIdentity.Type == "" && r.UserIdentity.InvokedBy == "" {
			t.Errorf("%s: missing eventVersion, eventSource, eventName, eventType or userIdentity", where)
		}
		if !uuidRE.MatchString(r.EventID) {
			t.Errorf("%s: eventID is not a UUID", where)
		}
		if ids[r.EventID] {
			t.Errorf("%s: duplicate eventID", where)
		}
		ids[r.EventID] = true
		// Real ConsoleLogin and service events carry no requestID.
		if r.RequestID == nil && r.EventType != "AwsConsoleSignIn" && r.EventType != "AwsServiceEvent" {
			t.Errorf("%s: no requestID", where)
		}
		if r.ReadOnly == nil || r.ManagementEvent == nil || !*r.ManagementEvent || r.EventCategory != "Management" {
			t.Errorf("%s: readOnly, managementEvent or eventCategory", where)
		}
		if r.SourceIP == "" || r.UserAgent == "" {
			t.Errorf("%s: no sourceIPAddress or userAgent", where)
		}
		if r.time.Before(start) || !r.time.Before(end) {
			t.Errorf("%s: at %s, outside the week", where, r.EventTime)
		}
		if r.ErrorCode != "" && (r.ErrorMessage == "" || string(r.ResponseElements) != "null") {
			t.Errorf("%s: failed call without errorMessage or with a response", where)
		}
		if r.EventSource == "s3.amazonaws.com" && !strings.HasSuffix(r.UserAgent, ".amazonaws.com") && !strings.HasPrefix(r.UserAgent, "[") {
			t.Errorf("%s: S3 user agent not bracketed", where)
		}
		if r.UserIdentity.InvokedBy != "" && r.TLS != nil {
			t.Errorf("%s: service call with client TLS details", where)
		}
		if r.Console == "true" && r.UserIdentity.AccessKeyID == "" {
			t.Errorf("%s: console call without a session key", where)
		}
	}
}

// issued is what an STS event gave out.
type issued struct {
	session string // the session ARN the key signs as
	at, exp time.Time
}

// TestDemoKeys requires every temporary key to be issued by an earlier STS
// event in the data, used before it expires and by the session it was
// issued for. The exception: IAM users' console sessions (alice), whose ASIA
// keys the console sign-in issues without an STS event, as in real logs.
func TestDemoKeys(t *testing.T) {
	recs := loadDemo(t)
	keys := map[string]issued{}
	for _, r := range recs {
		if r.EventSource == "sts.amazonaws.com" && strings.HasPrefix(r.EventName, "AssumeRole") && r.ErrorCode == "" {
			var resp struct {
				Credentials struct {
					AccessKeyID string `json:"accessKeyId"`
					Expiration  string `json:"expiration"`
				} `json:"credentials"`
				AssumedRoleUser *struct {
					ARN string `json:"arn"`
				} `json:"assumedRoleUser"`
			}
			var req struct {
				RoleARN         string `json:"roleArn"`
				RoleSessionName string `json:"roleSessionName"`
			}
			if json.Unmarshal(r.ResponseElements, &resp) != nil || json.Unmarshal(r.RequestParameters, &req) != nil || resp.Credentials.AccessKeyID == "" {
				t.Errorf("%s: unreadable STS event", r.EventID)
				continue
			}
			exp, err := time.Parse("Jan 2, 2006, 3:04:05 PM", resp.Credentials.Expiration)
			if err != nil || !exp.After(r.time) {
				t.Errorf("%s: expiration %q", r.EventID, resp.Credentials.Expiration)
			}
			// Sessions of services (Lambda, EC2, Config, Auto Scaling) get no
			// assumedRoleUser: the session is the role and session name.
			parts := strings.SplitN(req.RoleARN, ":", 6)
			roleName := req.RoleARN[strings.LastIndexByte(req.RoleARN, '/')+1:]
			session := "arn:aws:sts::" + parts[4] + ":assumed-role/" + roleName + "/" + req.RoleSessionName
			if resp.AssumedRoleUser != nil && resp.AssumedRoleUser.ARN != session {
				t.Errorf("%s: assumedRoleUser %s for %s", r.EventID, resp.AssumedRoleUser.ARN, session)
			}
			if r.UserIdentity.Type == "AWSService" && resp.AssumedRoleUser != nil {
				t.Errorf("%s: service AssumeRole with an assumedRoleUser", r.EventID)
			}
			if prev, ok := keys[resp.Credentials.AccessKeyID]; ok && (prev.session != session || !prev.at.Equal(r.time)) {
				t.Errorf("%s: key %s issued twice", r.EventID, resp.Credentials.AccessKeyID)
			}
			keys[resp.Credentials.AccessKeyID] = issued{session: session, at: r.time, exp: exp}
			continue
		}
		k := r.UserIdentity.AccessKeyID
		if !strings.HasPrefix(k, "ASIA") || r.UserIdentity.Type == "IAMUser" {
			continue
		}
		is, ok := keys[k]
		switch {
		case !ok:
			t.Errorf("%s %s: key %s used before any event issued it", r.EventID, r.EventName, k)
		case r.time.After(is.exp):
			t.Errorf("%s %s: key %s used after it expired", r.EventID, r.EventName, k)
		case r.UserIdentity.ARN != is.session:
			t.Errorf("%s %s: key %s of %s used as %s", r.EventID, r.EventName, k, is.session, r.UserIdentity.ARN)
		case r.UserIdentity.SessionContext == nil || !strings.HasSuffix(r.UserIdentity.SessionContext.SessionIssuer.ARN, "/"+r.UserIdentity.SessionContext.SessionIssuer.UserName) ||
			!strings.Contains(is.session, ":assumed-role/"+r.UserIdentity.SessionContext.SessionIssuer.UserName+"/"):
			t.Errorf("%s %s: sessionIssuer does not name the role of %s", r.EventID, r.EventName, is.session)
		}
	}
}

// TestDemoTruth checks ground-truth.txt against the records: every line is an
// event of the data, and every call from the attacker's address is a line.
func TestDemoTruth(t *testing.T) {
	recs := loadDemo(t)
	byID := map[string]*record{}
	for _, r := range recs {
		byID[r.EventID] = r
	}
	f, err := os.Open(filepath.Join(committed, "ground-truth.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	steps := map[string]int{}
	inTruth := map[string]bool{}
	var last time.Time
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			EventID, EventTime, Account, Region, EventName, Step string
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("ground-truth.txt: %v", err)
		}
		r := byID[line.EventID]
		if r == nil {
			t.Errorf("truth event %s is not in the data", line.EventID)
			continue
		}
		if r.EventTime != line.EventTime || r.Recipient != line.Account || r.AWSRegion != line.Region || r.EventName != line.EventName {
			t.Errorf("truth event %s does not match its record", line.EventID)
		}
		switch line.Step {
		case "recon", "modify-user", "assume-lambdaManager", "backdoor", "lateral":
		default:
			t.Errorf("truth event %s: step %q", line.EventID, line.Step)
		}
		if r.time.Before(last) {
			t.Errorf("ground-truth.txt not in time order at %s", line.EventID)
		}
		last = r.time
		steps[line.Step]++
		inTruth[line.EventID] = true
	}
	for _, s := range []string{"recon", "modify-user", "assume-lambdaManager", "backdoor", "lateral"} {
		if steps[s] == 0 {
			t.Errorf("no %s event in ground-truth.txt", s)
		}
	}
	for _, r := range recs {
		if r.SourceIP == "185.220.101.47" && !inTruth[r.EventID] {
			t.Errorf("attacker event %s %s missing from ground-truth.txt", r.EventID, r.EventName)
		}
	}
}
