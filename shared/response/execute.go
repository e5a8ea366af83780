package response

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
)

// Status of a decision that is claimed but not taken yet (the responder
// stopped between the two writes). The others are incident's.
const StatusPending = "pending"

// SignalReader is the part of the store the blast radius of a role is
// computed from.
type SignalReader interface {
	Signals(ctx context.Context, q store.SignalQuery) ([]detection.Signal, error)
}

// BlastWindow is how far back the principals using a role are counted.
const BlastWindow = 24 * time.Hour

// Executor takes the decisions of a response plan: for each planned
// action, whether it is done, planned (dry-run), skipped (with why) or
// failed (with the AWS error), each written to the audit log first as a
// claim (so that a redelivered incident, or a concurrent responder, does
// nothing twice) and then as the decision.
type Executor struct {
	cfg     Config
	clients Clients
	audit   store.AuditLog
	signals SignalReader
	log     *slog.Logger
	actions map[string]Action
}

// NewExecutor returns an executor over validated configuration; signals
// may be nil (the blast radius then counts the incident's own principals
// only).
func NewExecutor(cfg Config, clients Clients, audit store.AuditLog, signals SignalReader, log *slog.Logger) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Executor{cfg: cfg, clients: clients, audit: audit, signals: signals, log: log, actions: map[string]Action{}}
	for _, a := range Actions() {
		e.actions[a.Name] = a
	}
	return e, nil
}

// Decision is one action's outcome: its audit record, the severity of the
// "Trailhound Response" event that reports it, and whether it is new (a
// redelivered incident gives the earlier decisions, not new).
type Decision struct {
	Record   store.AuditRecord
	Severity detection.Severity
	New      bool
}

// AuditID is the audit record id of an action on a target for an
// incident. Enforcing and not enforcing (dry-run, off) decisions have
// different ids, so that an incident planned in dry-run is enforced once
// enforce is switched on. scope is what else of the incident the decision
// depends on ("" for most actions; for disable-lambda, the rules the
// incident names in the function's account and region, since the statements removed
// are those granting them): a later version of the incident naming a new
// trigger decides again, a redelivery of the same version does not.
func AuditID(incidentID, action, target, scope string, enforcing bool) string {
	kind := "plan"
	if enforcing {
		kind = "enforce"
	}
	h := sha256.Sum256([]byte(incidentID + "\x00" + action + "\x00" + target + "\x00" + kind + "\x00" + scope))
	return "aud-" + hex.EncodeToString(h[:10])
}

// Respond takes a decision for every action of the plan, at now. One
// action's failure does not stop the others; the error returned is the
// audit log's (a decision that could not be recorded), and says which.
func (e *Executor) Respond(ctx context.Context, inc *incident.Incident, plan []incident.Action, now time.Time) ([]Decision, error) {
	var out []Decision
	var errs []error
	for _, a := range plan {
		d, err := e.decide(ctx, inc, a, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", a.Action, a.Target, err))
			continue
		}
		out = append(out, d)
		r := d.Record
		if d.New {
			e.log.LogAttrs(ctx, slog.LevelInfo, "response decision", slog.String("incident", inc.ID), slog.String("audit_id", r.ID),
				slog.String("action", r.Action), slog.String("target", r.Target), slog.String("account", r.Account),
				slog.String("mode", r.Mode), slog.String("status", r.Status), slog.String("reason", r.Reason), slog.String("error", r.Error))
		}
	}
	return out, errors.Join(errs...)
}

// decide takes and records the decision on one planned action.
func (e *Executor) decide(ctx context.Context, inc *incident.Incident, a incident.Action, now time.Time) (Decision, error) {
	c := &call{clients: e.clients, session: inc.ID, inc: inc, target: a.Target, account: a.Account, region: a.Region}
	rec := store.AuditRecord{Incident: inc.ID, Policy: inc.Policy, Origin: inc.Identity.Origin, Action: a.Action, Target: a.Target,
		Time: now.UTC(), Reason: a.Reason, Version: 1}
	act, known := e.actions[a.Action]

	// Where it is: the plan says so, or the target's ARN, except for
	// access keys.
	if c.account == "" {
		c.account = identity.AccountOf(a.Target)
	}
	if c.region == "" {
		c.region = regionOf(a.Target)
	}
	var locateErr error
	if known && act.locate != nil && c.account == "" {
		locateErr = act.locate(ctx, c, e.candidates(inc, a))
	}
	rec.Account, rec.Region = c.account, c.region

	mode, explicit := e.cfg.ModeFor(c.account, a.Action)
	var notes []string
	if e.cfg.KillSwitch && mode == ModeEnforce {
		mode = ModeDryRun
		notes = append(notes, "kill switch on: nothing is changed")
	}
	var radius int
	if known && a.Action == "revoke-role-sessions" && mode != ModeOff {
		var err error
		if radius, err = e.blastRadius(ctx, inc, a.Target, now); err != nil {
			return Decision{}, err
		}
		notes = append(notes, fmt.Sprintf("blast radius: %d principal(s) seen using the role in the last %s (the incident's and those of stored signals: a lower bound)", radius, BlastWindow))
		if limit := e.sharedLimit(); mode == ModeEnforce && radius >= limit && !explicit {
			mode = ModeDryRun
			notes = append(notes, fmt.Sprintf("the role is shared (%d or more principals): revoke-role-sessions must be set to enforce for account %s explicitly", limit, c.account))
		}
	}
	rec.Mode = mode
	scope := ""
	if known && act.scope != nil {
		scope = act.scope(c)
	}
	rec.ID = AuditID(inc.ID, a.Action, a.Target, scope, mode == ModeEnforce)
	if radius > 0 {
		rec.BlastRadius = radius
	}

	// Claim the decision: a second delivery finds it taken.
	rec.Status = StatusPending
	switch err := e.audit.PutAudit(ctx, rec); {
	case errors.Is(err, store.ErrConflict):
		old, err := e.audit.Audit(ctx, rec.ID)
		if err != nil {
			return Decision{}, fmt.Errorf("reading the earlier decision %s: %w", rec.ID, err)
		}
		return Decision{Record: old, Severity: severity(old), New: false}, nil
	case err != nil:
		return Decision{}, fmt.Errorf("claiming decision %s: %w", rec.ID, err)
	}

	rec.Version = 2
	finish := func(status, reason string, actErr error) (Decision, error) {
		rec.Status = status
		rec.Reason = joinReason(append([]string{reason}, notes...)...)
		if actErr != nil {
			rec.Error = actErr.Error()
		}
		d := Decision{Record: rec, Severity: severity(rec), New: true}
		if err := e.audit.PutAudit(ctx, rec); err != nil {
			return d, fmt.Errorf("recording decision %s: %w", rec.ID, err)
		}
		return d, nil
	}

	switch {
	case !known:
		return finish(incident.StatusSkipped, a.Reason, nil)
	case mode == ModeOff:
		return finish(incident.StatusSkipped, "response is off for "+a.Action+" in account "+orUnknown(c.account), nil)
	}
	if reason := e.refused(c, act); reason != "" {
		return finish(incident.StatusSkipped, reason, nil)
	}
	if locateErr != nil {
		if errors.Is(locateErr, errMissing) {
			return finish(incident.StatusSkipped, locateErr.Error(), nil)
		}
		return finish(incident.StatusFailed, "could not find the target", locateErr)
	}
	before, err := act.read(ctx, c)
	var ref *refusal
	switch {
	case errors.Is(err, errMissing):
		return finish(incident.StatusSkipped, err.Error(), nil)
	case errors.As(err, &ref):
		return finish(incident.StatusSkipped, ref.reason, nil)
	case err != nil:
		return finish(incident.StatusFailed, "could not read the target's state", err)
	}
	rec.Before = before
	if c.principal != "" && e.cfg.Allowed(c.principal) {
		return finish(incident.StatusSkipped, c.principal+" is on the allow-list: never acted on", nil)
	}
	if mode == ModeDryRun {
		return finish(incident.StatusPlanned, "dry-run: would "+act.effect(c, before)+"; "+a.Reason, nil)
	}
	limit := e.cfg.MaxActionsPerHour
	if limit == 0 {
		limit = DefaultMaxActionsPerHour
	}
	ok, err := e.audit.ReserveAction(ctx, orUnknown(c.account), now, limit)
	switch {
	case err != nil:
		return finish(incident.StatusFailed, "could not take a slot of the account's hourly budget", err)
	case !ok:
		return finish(incident.StatusSkipped, fmt.Sprintf("%s: %d enforcing actions already taken in account %s this hour (max_actions_per_hour)", reasonRateLimited, limit, orUnknown(c.account)), nil)
	}
	if err := act.act(ctx, c, before, now); err != nil {
		if errors.Is(err, errMissing) {
			return finish(incident.StatusSkipped, err.Error(), nil)
		}
		return finish(incident.StatusFailed, act.effect(c, before)+" failed", err)
	}
	return finish(incident.StatusDone, act.effect(c, before)+"; "+a.Reason, nil)
}

// regionOf returns the region field of an ARN, or "".
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// reasonRateLimited starts the reason of a decision skipped by the rate
// limit.
const reasonRateLimited = "rate limit reached"

// severity is the severity of the event reporting a decision: high for a
// failure or the rate limit (someone must look), medium for a change,
// info for the rest.
func severity(r store.AuditRecord) detection.Severity {
	switch {
	case r.Status == incident.StatusFailed, r.Status == incident.StatusSkipped && strings.HasPrefix(r.Reason, reasonRateLimited):
		return detection.High
	case r.Status == incident.StatusDone:
		return detection.Medium
	}
	return detection.Info
}

func joinReason(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

func orUnknown(account string) string {
	if account == "" {
		return "(own)"
	}
	return account
}

func (e *Executor) sharedLimit() int {
	if e.cfg.SharedRolePrincipals > 0 {
		return e.cfg.SharedRolePrincipals
	}
	return DefaultSharedRolePrincipals
}

// candidates lists the accounts an access key of the incident may be in:
// the plan's, then the identity's and the resources' accounts, skipping
// those where the action is off.
func (e *Executor) candidates(inc *incident.Incident, a incident.Action) []string {
	var out []string
	add := func(acct string) {
		if acct != "" && !slices.Contains(out, acct) {
			if m, _ := e.cfg.ModeFor(acct, a.Action); m != ModeOff {
				out = append(out, acct)
			}
		}
	}
	for _, r := range inc.Resources {
		if r.Type == "iam:user" {
			add(identity.AccountOf(r.ARN))
		}
	}
	add(identity.AccountOf(inc.Identity.Origin))
	for _, acct := range inc.Identity.Accounts {
		add(acct)
	}
	for _, r := range inc.Resources {
		add(identity.AccountOf(r.ARN))
	}
	if len(out) == 0 {
		out = append(out, "") // the caller's own account
	}
	return out
}

// blastRadius counts the distinct principals seen using the role in the
// BlastWindow before now: the incident's own origin when its chains pass
// through the role, and the origins of the stored signals whose chains
// do. Sessions that raised no signal are not seen, so it is a lower bound.
func (e *Executor) blastRadius(ctx context.Context, inc *incident.Incident, role string, now time.Time) (int, error) {
	seen := map[string]bool{}
	through := func(chain []string) bool {
		for _, hop := range chain {
			if sameRole(identity.RoleARNFromSession(hop), role) {
				return true
			}
		}
		return false
	}
	for _, chain := range inc.Identity.Chains {
		if through(chain) {
			seen[inc.Identity.Key] = true
		}
	}
	if through(inc.Identity.Chain) {
		seen[inc.Identity.Key] = true
	}
	if e.signals != nil {
		sigs, err := e.signals.Signals(ctx, store.SignalQuery{Since: now.Add(-BlastWindow), Until: now.Add(time.Second)})
		if err != nil {
			return 0, fmt.Errorf("reading recent signals for the blast radius of %s: %w", role, err)
		}
		for _, s := range sigs {
			if through(s.Identity.Chain) {
				seen[s.Identity.Key()] = true
			}
		}
	}
	return len(seen), nil
}

// sameRole compares role ARNs by account and name (session ARNs carry no
// path).
func sameRole(a, b string) bool {
	return a != "" && identity.AccountOf(a) == identity.AccountOf(b) && identity.RoleName(a) == identity.RoleName(b)
}

// refused returns why a target is never acted on, from its name alone.
func (e *Executor) refused(c *call, a Action) string {
	if e.cfg.Allowed(c.target) {
		return c.target + " is on the allow-list: never acted on"
	}
	if a.refuse != nil {
		return a.refuse(c)
	}
	return ""
}

// Undo reverses the enforced action of an audit record, restoring the
// state saved in it, and records that it was undone.
func (e *Executor) Undo(ctx context.Context, id string, now time.Time) (store.AuditRecord, error) {
	rec, err := e.audit.Audit(ctx, id)
	if err != nil {
		return rec, fmt.Errorf("audit record %s: %w", id, err)
	}
	switch {
	case rec.Mode != ModeEnforce || rec.Status != incident.StatusDone:
		return rec, fmt.Errorf("audit record %s is %s in %s: only done, enforced actions can be undone", id, rec.Status, rec.Mode)
	case !rec.Undone.IsZero():
		return rec, fmt.Errorf("audit record %s was undone at %s", id, rec.Undone.Format(time.RFC3339))
	}
	act, ok := e.actions[rec.Action]
	if !ok {
		return rec, fmt.Errorf("audit record %s: unknown action %q", id, rec.Action)
	}
	c := &call{clients: e.clients, session: "undo-" + rec.Incident, target: rec.Target, account: rec.Account, region: rec.Region}
	undoErr := act.undo(ctx, c, rec.Before)
	rec.Version++
	if undoErr != nil {
		rec.UndoError = undoErr.Error()
	} else {
		rec.Undone, rec.UndoError = now.UTC(), ""
	}
	if err := e.audit.PutAudit(ctx, rec); err != nil {
		return rec, errors.Join(undoErr, fmt.Errorf("recording the undo of %s: %w", id, err))
	}
	if undoErr != nil {
		return rec, fmt.Errorf("undo %s %s: %w", rec.Action, rec.Target, undoErr)
	}
	return rec, nil
}

// call is one action on one target as the executor runs it: where it is,
// and the clients to get there.
type call struct {
	clients Clients
	session string
	inc     *incident.Incident
	target  string
	account string
	region  string
	// principal is the IAM principal acted on, when the read finds it (an
	// access key's user): checked against the allow-list before acting.
	principal string
}

func (c *call) iam(ctx context.Context) (IAM, error) { return c.clients.IAM(ctx, c.account, c.session) }
func (c *call) events(ctx context.Context) (EventBridge, error) {
	return c.clients.EventBridge(ctx, c.account, c.region, c.session)
}
func (c *call) lambda(ctx context.Context) (Lambda, error) {
	return c.clients.Lambda(ctx, c.account, c.region, c.session)
}

// errMissing marks a target that does not exist: skipped, not failed.
var errMissing = errors.New("not found")

// missing returns errMissing naming the target.
func missing(format string, args ...any) error {
	return fmt.Errorf("%s: %w (nothing to do)", fmt.Sprintf(format, args...), errMissing)
}

// refusal is a target found, on reading it, to be one never acted on.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return &refusal{reason: fmt.Sprintf(format, args...)} }

// encode marshals an action's state for the audit record.
func encode(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return b, nil
}

// decodeState unmarshals an audit record's state.
func decodeState(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("audit record state: %w", err)
	}
	return nil
}
