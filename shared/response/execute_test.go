package response_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

func newExecutor(t *testing.T, w *world, cfg response.Config, audit store.AuditLog) *response.Executor {
	t.Helper()
	e, err := response.NewExecutor(cfg, response.NewAccounts(w.base, nil, cfg.RoleName, cfg.ExternalID), audit, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// statuses maps each decision's action to its status (and mode).
func statuses(ds []response.Decision) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		out[d.Record.Action] = d.Record.Status + " " + d.Record.Mode
	}
	return out
}

func TestEnforceRedeliverUndo(t *testing.T) {
	w := newWorld(t)
	audit := memstore.New()
	e := newExecutor(t, w, w.config(response.ModeEnforce), audit)
	inc, plan := w.incident()
	before := w.state()
	if before.KeyStatus != "Active" || before.Rule == nil || len(before.Rule.Targets) != 1 || before.Concurrency != nil ||
		len(before.Statements) != 2 || len(before.VictimPolicies) != 0 || before.RevokePolicy != "" {
		t.Fatalf("the world is not set up: %+v", before)
	}

	ds, err := e.Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, a := range plan {
		want[a.Action] = "done enforce"
	}
	if diff := cmp.Diff(want, statuses(ds)); diff != "" {
		for _, d := range ds {
			t.Logf("%s: %s %s %s", d.Record.Action, d.Record.Status, d.Record.Reason, d.Record.Error)
		}
		t.Fatalf("decisions (-want +got):\n%s", diff)
	}

	// Each resource, read back.
	after := w.state()
	if after.KeyStatus != "Inactive" {
		t.Errorf("key %s is %s, want Inactive", w.key, after.KeyStatus)
	}
	wantPolicy := `{"Statement":[{"Action":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-11-28T23:40:00Z"}},"Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}`
	if after.RevokePolicy != wantPolicy {
		t.Errorf("role policy %s = %s, want %s", response.RevokePolicyName, after.RevokePolicy, wantPolicy)
	}
	if after.Rule != nil {
		t.Errorf("rule %s still exists: %+v", w.rule, after.Rule)
	}
	if after.Concurrency == nil || *after.Concurrency != 0 {
		t.Errorf("function concurrency = %v, want 0", after.Concurrency)
	}
	if diff := cmp.Diff([]string{w.keepSid}, after.Statements); diff != "" {
		t.Errorf("function policy statements (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{response.DenyAllPolicy}, after.VictimPolicies); diff != "" {
		t.Errorf("victim's managed policies (-want +got):\n%s", diff)
	}

	// The audit record of the rule holds its definition and targets.
	for _, d := range ds {
		if d.Record.Action == "delete-eventbridge-rule" {
			for _, s := range []string{`"event_pattern":"{\"source\":[\"aws.health\"]}"`, w.functionARN, `"bus":"apps"`} {
				if !strings.Contains(string(d.Record.Before), s) {
					t.Errorf("rule audit record %s lacks %s", d.Record.Before, s)
				}
			}
		}
		if !d.New || d.Record.Version != 2 || d.Record.Account != w.account {
			t.Errorf("decision %+v: want new, version 2, account %s", d.Record, w.account)
		}
	}

	// A second delivery does nothing: the key reactivated by hand stays
	// active, and no record is added.
	if _, err := w.iam.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: aws.String(w.key), Status: "Active"}); err != nil {
		t.Fatal(err)
	}
	records, _ := audit.AuditRecords(t.Context(), store.AuditQuery{Incident: inc.ID})
	again, err := e.Respond(t.Context(), inc, plan, fixedNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range again {
		if d.New {
			t.Errorf("redelivery took a new decision: %+v", d.Record)
		}
	}
	if got := w.state(); got.KeyStatus != "Active" {
		t.Errorf("redelivery deactivated the key again")
	}
	records2, _ := audit.AuditRecords(t.Context(), store.AuditQuery{Incident: inc.ID})
	if diff := cmp.Diff(records, records2); diff != "" {
		t.Errorf("redelivery changed the audit log (-before +after):\n%s", diff)
	}
	if _, err := w.iam.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: aws.String(w.key), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}

	// Undo restores what was read before.
	for _, d := range ds {
		rec, err := e.Undo(t.Context(), d.Record.ID, fixedNow.Add(time.Hour))
		if err != nil {
			t.Errorf("undo %s: %v", d.Record.Action, err)
			continue
		}
		if !rec.Undone.Equal(fixedNow.Add(time.Hour)) {
			t.Errorf("undo of %s not recorded: %+v", d.Record.Action, rec)
		}
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Errorf("state after undo differs from before (-before +after undo):\n%s", diff)
	}
	if _, err := e.Undo(t.Context(), ds[0].Record.ID, fixedNow.Add(2*time.Hour)); err == nil {
		t.Error("a second undo of the same record succeeded")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	audit := memstore.New()
	e := newExecutor(t, w, w.config(response.ModeDryRun), audit)
	inc, plan := w.incident()
	before := w.state()
	ds, err := e.Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		r := d.Record
		if r.Status != incident.StatusPlanned || r.Mode != response.ModeDryRun || !strings.HasPrefix(r.Reason, "dry-run: would ") || len(r.Before) == 0 {
			t.Errorf("%s: %s %s %q before=%s; want planned in dry-run with the state read", r.Action, r.Status, r.Mode, r.Reason, r.Before)
		}
	}
	if len(ds) != len(plan) {
		t.Errorf("%d decisions for %d actions", len(ds), len(plan))
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Errorf("dry-run changed the world (-before +after):\n%s", diff)
	}
	records, err := audit.AuditRecords(t.Context(), store.AuditQuery{Incident: inc.ID})
	if err != nil || len(records) != len(plan) {
		t.Errorf("audit log holds %d records (%v), want %d", len(records), err, len(plan))
	}

	// The kill switch turns enforce into dry-run too.
	cfg := w.config(response.ModeEnforce)
	cfg.KillSwitch = true
	ds, err = newExecutor(t, w, cfg, memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Record.Status != incident.StatusPlanned || !strings.Contains(d.Record.Reason, "kill switch") {
			t.Errorf("kill switch: %s %s %q", d.Record.Action, d.Record.Status, d.Record.Reason)
		}
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Errorf("the kill switch let the world change (-before +after):\n%s", diff)
	}
}

func TestAllowListedUntouched(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(response.ModeEnforce)
	cfg.Allow = []string{"arn:aws:iam::*:role/lambdaManager-*", "arn:aws:iam::" + w.account + ":user/svc-*", "arn:aws:iam::*:user/mallory"}
	inc, plan := w.incident()
	before := w.state()
	ds, err := newExecutor(t, w, cfg, memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	got := statuses(ds)
	for _, a := range []string{"deactivate-access-key", "revoke-role-sessions", "quarantine-user"} {
		if got[a] != "skipped enforce" {
			t.Errorf("%s on an allow-listed principal: %s", a, got[a])
		}
	}
	for _, d := range ds {
		if d.Record.Status == incident.StatusSkipped && !strings.Contains(d.Record.Reason, "allow-list") {
			t.Errorf("%s skipped for %q, want the allow-list", d.Record.Action, d.Record.Reason)
		}
	}
	after := w.state()
	if after.KeyStatus != before.KeyStatus || after.RevokePolicy != "" || len(after.VictimPolicies) != 0 {
		t.Errorf("allow-listed principals changed: %+v", after)
	}
	if after.Rule != nil {
		t.Error("the rule, not allow-listed, was not deleted")
	}
}

func TestMissingIsSkipped(t *testing.T) {
	w := newWorld(t)
	inc, _ := w.incident()
	a := w.account
	plan := []incident.Action{
		{Action: "deactivate-access-key", Target: "AKIAAAAAAAAAAAAAAAAA"},
		{Action: "revoke-role-sessions", Target: "arn:aws:iam::" + a + ":role/gone", Account: a},
		{Action: "delete-eventbridge-rule", Target: "arn:aws:events:" + w.region + ":" + a + ":rule/apps/gone", Account: a, Region: w.region},
		{Action: "disable-lambda", Target: "arn:aws:lambda:" + w.region + ":" + a + ":function:gone", Account: a, Region: w.region},
		{Action: "quarantine-user", Target: "arn:aws:iam::" + a + ":user/gone", Account: a},
	}
	ds, err := newExecutor(t, w, w.config(response.ModeEnforce), memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Record.Status != incident.StatusSkipped || !strings.Contains(d.Record.Reason, "not found") {
			t.Errorf("%s on a missing target: %s %q %s", d.Record.Action, d.Record.Status, d.Record.Reason, d.Record.Error)
		}
	}
	if len(ds) != len(plan) {
		t.Errorf("%d decisions for %d actions", len(ds), len(plan))
	}
}

func TestOneFailureLeavesOthersDone(t *testing.T) {
	w := newWorld(t)
	inc, plan := w.incident()
	// A rule in a region the emulator does not serve (as an opt-in region
	// not enabled in the account): its calls fail.
	bad := incident.Action{Action: "delete-eventbridge-rule", Target: "arn:aws:events:xx-nowhere-1:" + w.account + ":rule/elsewhere",
		Account: w.account, Region: "xx-nowhere-1", Reason: "a rule in another region"}
	plan = append([]incident.Action{bad}, plan...)
	ds, err := newExecutor(t, w, w.config(response.ModeEnforce), memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(plan) {
		t.Fatalf("%d decisions for %d actions", len(ds), len(plan))
	}
	if r := ds[0].Record; r.Status != incident.StatusFailed || r.Error == "" || ds[0].Severity.String() != "high" {
		t.Errorf("the rule in an unserved region: %s %q error %q severity %s; want failed with the error, high", r.Status, r.Reason, r.Error, ds[0].Severity)
	}
	for _, d := range ds[1:] {
		if d.Record.Status != incident.StatusDone {
			t.Errorf("%s after a failure: %s %q %s", d.Record.Action, d.Record.Status, d.Record.Reason, d.Record.Error)
		}
	}
	if s := w.state(); s.KeyStatus != "Inactive" || s.Rule != nil {
		t.Errorf("the other actions did not happen: %+v", s)
	}
}

func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(response.ModeEnforce)
	cfg.MaxActionsPerHour = 2
	audit := memstore.New()
	inc, plan := w.incident()
	ds, err := newExecutor(t, w, cfg, audit).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	done, limited := 0, 0
	for _, d := range ds {
		switch {
		case d.Record.Status == incident.StatusDone:
			done++
		case d.Record.Status == incident.StatusSkipped && strings.HasPrefix(d.Record.Reason, "rate limit reached") && d.Severity.String() == "high":
			limited++
		default:
			t.Errorf("%s: %s %q", d.Record.Action, d.Record.Status, d.Record.Reason)
		}
	}
	if done != 2 || limited != len(plan)-2 {
		t.Errorf("%d done and %d rate-limited, want 2 and %d", done, limited, len(plan)-2)
	}
}

func TestSharedRoleNeedsExplicitEnforce(t *testing.T) {
	w := newWorld(t)
	inc, plan := w.incident()
	plan = plan[1:2] // revoke-role-sessions
	cfg := w.config(response.ModeEnforce)
	cfg.SharedRolePrincipals = 1 // the attacker alone makes it shared
	ds, err := newExecutor(t, w, cfg, memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if r := ds[0].Record; r.Status != incident.StatusPlanned || r.BlastRadius != 1 || !strings.Contains(r.Reason, "explicitly") {
		t.Errorf("shared role under a default enforce: %s %s radius %d %q", r.Status, r.Mode, r.BlastRadius, r.Reason)
	}
	if w.state().RevokePolicy != "" {
		t.Error("the shared role was revoked without an explicit enforce")
	}
	cfg.Accounts[w.account] = response.AccountModes{Default: response.ModeDryRun, Actions: map[string]string{"revoke-role-sessions": response.ModeEnforce}}
	ds, err = newExecutor(t, w, cfg, memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if r := ds[0].Record; r.Status != incident.StatusDone || w.state().RevokePolicy == "" {
		t.Errorf("shared role with an explicit enforce: %s %q", r.Status, r.Reason)
	}
}

func TestNeverActedOn(t *testing.T) {
	w := newWorld(t)
	inc, _ := w.incident()
	a := w.account
	plan := []incident.Action{
		{Action: "revoke-role-sessions", Target: "arn:aws:iam::" + a + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123", Account: a},
		{Action: "revoke-role-sessions", Target: "arn:aws:iam::" + a + ":role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport", Account: a},
		{Action: "revoke-role-sessions", Target: "arn:aws:iam::" + a + ":role/trailhound-responder", Account: a},
		{Action: "delete-eventbridge-rule", Target: "arn:aws:events:" + w.region + ":" + a + ":rule/Trailhound-forward", Account: a, Region: w.region},
		{Action: "disable-lambda", Target: "arn:aws:lambda:" + w.region + ":" + a + ":function:trailhound-detector", Account: a, Region: w.region},
		{Action: "quarantine-user", Target: "arn:aws:iam::" + a + ":root", Account: a},
		{Action: "none", Target: "arn:aws:iam::" + a + ":root", Account: a, Reason: "root: by hand"},
	}
	ds, err := newExecutor(t, w, w.config(response.ModeEnforce), memstore.New()).Respond(t.Context(), inc, plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	wantWords := []string{"Identity Center", "service-linked", "Trailhound", "Trailhound", "Trailhound", "root", "by hand"}
	for i, d := range ds {
		if d.Record.Status != incident.StatusSkipped || !strings.Contains(d.Record.Reason, wantWords[i]) {
			t.Errorf("%s %s: %s %q, want skipped saying %q", d.Record.Action, d.Record.Target, d.Record.Status, d.Record.Reason, wantWords[i])
		}
	}
}

func TestSessionName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"inc-04f6e3b43ee21dc5dd71", "trailhound-inc-04f6e3b43ee21dc5dd71"},
		{"a b/c", "trailhound-a_b_c"},
		{strings.Repeat("x", 80), "trailhound-" + strings.Repeat("x", 53)},
	} {
		if got := response.SessionName(tt.in); got != tt.want {
			t.Errorf("SessionName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeactivateAllKeysOfUser(t *testing.T) {
	w := newWorld(t)
	second, err := w.iam.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String(w.user)})
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := w.incident()
	plan := []incident.Action{{Action: "deactivate-access-key", Target: w.userARN(w.user), Reason: "every key of the user"}}
	e := newExecutor(t, w, w.config(response.ModeEnforce), memstore.New())
	ds, err := e.Respond(t.Context(), inc, plan, fixedNow)
	if err != nil || len(ds) != 1 || ds[0].Record.Status != incident.StatusDone {
		t.Fatalf("decisions %+v, %v", ds, err)
	}
	status := func() map[string]string {
		out, err := w.iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String(w.user)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, k := range out.AccessKeyMetadata {
			m[aws.ToString(k.AccessKeyId)] = string(k.Status)
		}
		return m
	}
	want := map[string]string{w.key: "Inactive", aws.ToString(second.AccessKey.AccessKeyId): "Inactive"}
	if diff := cmp.Diff(want, status()); diff != "" {
		t.Errorf("keys after enforce (-want +got):\n%s", diff)
	}
	if _, err := e.Undo(t.Context(), ds[0].Record.ID, fixedNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{w.key: "Active", aws.ToString(second.AccessKey.AccessKeyId): "Active"}
	if diff := cmp.Diff(want, status()); diff != "" {
		t.Errorf("keys after undo (-want +got):\n%s", diff)
	}
}

// recordingSTS passes every call to the emulator's STS and keeps the
// AssumeRole requests.
type recordingSTS struct {
	*sts.Client
	mu    sync.Mutex
	calls []sts.AssumeRoleInput
}

func (r *recordingSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	r.mu.Lock()
	r.calls = append(r.calls, *in)
	r.mu.Unlock()
	return r.Client.AssumeRole(ctx, in, opts...)
}

func TestAssumesTheResponseRoleOncePerAccount(t *testing.T) {
	w := newWorld(t)
	rec := &recordingSTS{Client: sts.NewFromConfig(w.base)}
	cfg := w.config(response.ModeEnforce)
	e, err := response.NewExecutor(cfg, response.NewAccounts(w.base, rec, cfg.RoleName, cfg.ExternalID), memstore.New(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inc, plan := w.incident()
	if _, err := e.Respond(t.Context(), inc, plan, fixedNow); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("%d AssumeRole calls for %d actions in one account, want 1 (credentials cached)", len(rec.calls), len(plan))
	}
	c := rec.calls[0]
	got := []string{aws.ToString(c.RoleArn), aws.ToString(c.ExternalId), aws.ToString(c.RoleSessionName), fmt.Sprint(aws.ToInt32(c.DurationSeconds))}
	want := []string{"arn:aws:iam::" + w.account + ":role/" + w.responseRole, w.externalID, "trailhound-" + inc.ID, "900"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AssumeRole (-want +got):\n%s", diff)
	}
}

// TestBlastRadiusCountsStoredSignals: two other identities' signals of the
// last day went through the role, so with the attacker three principals
// used it; under the account's default enforce it stays dry-run.
func TestBlastRadiusCountsStoredSignals(t *testing.T) {
	w := newWorld(t)
	st := memstore.New()
	session := "arn:aws:sts::" + w.account + ":assumed-role/" + w.role + "/"
	for i, who := range []string{"alice", "bob", "bob"} {
		origin := w.userARN(who)
		sig := detection.Signal{ID: fmt.Sprintf("sig-%d", i), Kind: "first-seen-region", Time: fixedNow.Add(-time.Duration(i+1) * time.Hour),
			Identity: identity.Origin{ARN: origin, Type: identity.TypeIAMUser, Name: who, Chain: []string{origin, session + who}, Resolved: true}}
		if _, err := st.PutSignal(t.Context(), sig, fixedNow.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// A signal of two days ago is outside the window.
	old := detection.Signal{ID: "sig-old", Time: fixedNow.Add(-48 * time.Hour),
		Identity: identity.Origin{ARN: w.userARN("carol"), Type: identity.TypeIAMUser, Chain: []string{w.userARN("carol"), session + "carol"}}}
	if _, err := st.PutSignal(t.Context(), old, fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cfg := w.config(response.ModeEnforce)
	e, err := response.NewExecutor(cfg, response.NewAccounts(w.base, nil, cfg.RoleName, cfg.ExternalID), st, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	inc, plan := w.incident()
	ds, err := e.Respond(t.Context(), inc, plan[1:2], fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if r := ds[0].Record; r.BlastRadius != 3 || r.Status != incident.StatusPlanned || !strings.Contains(r.Reason, "3 principal(s)") {
		t.Errorf("revoke on a role three principals used: radius %d, %s, %q", r.BlastRadius, r.Status, r.Reason)
	}
}

// TestLaterVersionNamingTheTrigger: the first version of the incident
// names the function but not yet the rule; the function is stopped and its
// statements kept (none is known to be the attacker's). The next version
// names the rule: the statement granting it is removed, once.
func TestLaterVersionNamingTheTrigger(t *testing.T) {
	w := newWorld(t)
	e := newExecutor(t, w, w.config(response.ModeEnforce), memstore.New())
	inc, plan := w.incident()
	plan = plan[3:4] // disable-lambda
	v2 := *inc
	inc.Resources = inc.Resources[1:2] // the function only
	ds, err := e.Respond(t.Context(), inc, plan, fixedNow)
	if err != nil || ds[0].Record.Status != incident.StatusDone {
		t.Fatalf("first version: %+v %v", ds, err)
	}
	if s := w.state(); len(s.Statements) != 2 || s.Concurrency == nil || *s.Concurrency != 0 {
		t.Errorf("after the first version: %+v, want concurrency 0 and both statements", s)
	}
	for range 2 {
		ds, err = e.Respond(t.Context(), &v2, plan, fixedNow.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
	}
	if ds[0].New {
		t.Error("the second delivery of the later version decided again")
	}
	if diff := cmp.Diff([]string{w.keepSid}, w.state().Statements); diff != "" {
		t.Errorf("statements after the version naming the rule (-want +got):\n%s", diff)
	}
}
