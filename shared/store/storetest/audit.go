package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/store"
)

// auditCases cover store.AuditLog: PutAudit's optimistic concurrency (the
// responder's idempotency claim), Audit, AuditRecords and ReserveAction
// (the per-account hourly budget). Every store must implement it.
func auditCases() []testCase {
	return []testCase{
		{"record read back equals the one written", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			r := f.auditRecord("r", "inc", f.at(time.Minute).In(time.FixedZone("UTC+2", 7200)))
			mustPutAudit(t, f, log, r)
			checkAudit(t, f, log, r)
		}},
		{"unknown id is not found", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			if _, err := log.Audit(f.ctx, f.key("nothing")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Audit of an unknown id: err = %v, want store.ErrNotFound", err)
			}
		}},
		{"version 1 twice conflicts and changes nothing", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			r := f.auditRecord("r", "inc", f.at(time.Minute))
			mustPutAudit(t, f, log, r)
			again := r
			again.Status = "done"
			if err := log.PutAudit(f.ctx, again); !errors.Is(err, store.ErrConflict) {
				t.Errorf("second version 1: err = %v, want store.ErrConflict", err)
			}
			checkAudit(t, f, log, r)
		}},
		{"updates go one version at a time", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			r := f.auditRecord("r", "inc", f.at(time.Minute))
			mustPutAudit(t, f, log, r)
			skip := r
			skip.Version = 3
			if err := log.PutAudit(f.ctx, skip); !errors.Is(err, store.ErrConflict) {
				t.Errorf("version 3 over 1: err = %v, want store.ErrConflict", err)
			}
			absent := f.auditRecord("absent", "inc", f.at(time.Minute))
			absent.Version = 2
			if err := log.PutAudit(f.ctx, absent); !errors.Is(err, store.ErrConflict) {
				t.Errorf("version 2 of an absent record: err = %v, want store.ErrConflict", err)
			}
			v2 := r
			v2.Version, v2.Status, v2.Time = 2, "done", f.at(2*time.Minute)
			mustPutAudit(t, f, log, v2)
			v3 := v2
			v3.Version, v3.Undone = 3, f.at(time.Hour)
			mustPutAudit(t, f, log, v3)
			checkAudit(t, f, log, v3)
			checkAudits(t, f, log, store.AuditQuery{Incident: f.key("inc")}, []store.AuditRecord{v3})
		}},
		{"concurrent claims: exactly one wins", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			var won, lost atomic.Int64
			concurrently(goroutines, func(int) {
				err := log.PutAudit(f.ctx, f.auditRecord("claim", "inc", f.at(time.Minute)))
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, store.ErrConflict):
					lost.Add(1)
				default:
					t.Errorf("PutAudit: %v", err)
				}
			})
			if won.Load() != 1 || lost.Load() != goroutines-1 {
				t.Errorf("%d won, %d conflicted; want 1 and %d", won.Load(), lost.Load(), goroutines-1)
			}
		}},
		{"queries by incident and time, ordered by time then id", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			a := f.auditRecord("a", "inc1", f.at(3*time.Minute))
			b := f.auditRecord("b", "inc1", f.at(time.Minute))
			c := f.auditRecord("c", "inc2", f.at(2*time.Minute))
			d := f.auditRecord("d", "inc1", f.at(time.Minute))
			for _, r := range []store.AuditRecord{a, b, c, d} {
				mustPutAudit(t, f, log, r)
			}
			// b and d share a time: id order.
			first, second := b, d
			if d.ID < b.ID {
				first, second = d, b
			}
			checkAudits(t, f, log, store.AuditQuery{Incident: f.key("inc1")}, []store.AuditRecord{first, second, a})
			checkAudits(t, f, log, store.AuditQuery{Incident: f.key("inc2")}, []store.AuditRecord{c})
			checkAudits(t, f, log, store.AuditQuery{Since: f.at(2 * time.Minute), Until: f.at(3 * time.Minute)}, []store.AuditRecord{c})
			checkAudits(t, f, log, store.AuditQuery{Since: f.at(0), Until: f.at(time.Hour), Limit: 2}, []store.AuditRecord{first, second})
			checkAudits(t, f, log, store.AuditQuery{Incident: f.key("inc1"), Since: f.at(2 * time.Minute)}, []store.AuditRecord{a})
		}},
		{"values are copied in and out", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			r := f.auditRecord("r", "inc", f.at(time.Minute))
			want := r
			want.Before = append(json.RawMessage(nil), r.Before...)
			mustPutAudit(t, f, log, r)
			r.Before[2] = 'X'
			got, err := log.Audit(f.ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			got.Before[2] = 'Y'
			checkAudit(t, f, log, want)
		}},
		{"action budget per account and hour", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			acct, other := f.key("acct"), f.key("other")
			hour := f.at(0)
			for i := range 4 {
				got := mustReserve(t, f, log, acct, hour.Add(time.Duration(i)*10*time.Minute), 3)
				if want := i < 3; got != want {
					t.Errorf("reservation %d of 3: got %v, want %v", i+1, got, want)
				}
			}
			if !mustReserve(t, f, log, acct, hour.Add(time.Hour), 3) {
				t.Error("the next hour's budget is taken by the previous hour")
			}
			if !mustReserve(t, f, log, other, hour, 3) {
				t.Error("another account's budget is taken by the first account")
			}
			if mustReserve(t, f, log, f.key("zero"), hour, 0) {
				t.Error("a budget of 0 gave a slot")
			}
		}},
		{"concurrent reservations take exactly the budget", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			var took atomic.Int64
			concurrently(goroutines, func(int) {
				ok, err := log.ReserveAction(f.ctx, f.key("acct"), f.at(time.Minute), 5)
				if err != nil {
					t.Errorf("ReserveAction: %v", err)
				}
				if ok {
					took.Add(1)
				}
			})
			if took.Load() != 5 {
				t.Errorf("%d of %d concurrent reservations got a slot of 5", took.Load(), goroutines)
			}
		}},
		{"invalid input and cancelled context", func(t *testing.T, f *fixture) {
			log := auditLog(t, f)
			empty := f.auditRecord("r", "inc", f.at(0))
			empty.ID = ""
			if err := log.PutAudit(f.ctx, empty); err == nil {
				t.Error("PutAudit with an empty id succeeded")
			}
			v0 := f.auditRecord("v0", "inc", f.at(0))
			v0.Version = 0
			if err := log.PutAudit(f.ctx, v0); err == nil {
				t.Error("PutAudit of version 0 succeeded")
			}
			if _, err := log.ReserveAction(f.ctx, "", f.at(0), 3); err == nil {
				t.Error("ReserveAction with an empty account succeeded")
			}
			ctx, cancel := context.WithCancel(f.ctx)
			cancel()
			r := f.auditRecord("cancelled", "inc", f.at(0))
			if err := log.PutAudit(ctx, r); !errors.Is(err, context.Canceled) {
				t.Errorf("PutAudit: err = %v, want context.Canceled", err)
			}
			if _, err := log.Audit(ctx, r.ID); !errors.Is(err, context.Canceled) {
				t.Errorf("Audit: err = %v, want context.Canceled", err)
			}
			if _, err := log.AuditRecords(ctx, store.AuditQuery{Incident: r.Incident}); !errors.Is(err, context.Canceled) {
				t.Errorf("AuditRecords: err = %v, want context.Canceled", err)
			}
			if _, err := log.ReserveAction(ctx, f.key("acct"), f.at(0), 3); !errors.Is(err, context.Canceled) {
				t.Errorf("ReserveAction: err = %v, want context.Canceled", err)
			}
			if _, err := log.Audit(f.ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a cancelled PutAudit wrote the record: %v", err)
			}
			if !mustReserve(t, f, log, f.key("acct"), f.at(0), 1) {
				t.Error("a cancelled ReserveAction took the slot")
			}
		}},
	}
}

// auditLog returns the fixture's store as a store.AuditLog, failing the
// test when the store does not implement it.
func auditLog(t *testing.T, f *fixture) store.AuditLog {
	t.Helper()
	log, ok := f.s.(store.AuditLog)
	if !ok {
		t.Fatalf("%T does not implement store.AuditLog", f.s)
	}
	return log
}

// auditRecord returns a version 1 record unique to the subtest.
func (f *fixture) auditRecord(name, inc string, at time.Time) store.AuditRecord {
	return store.AuditRecord{
		ID: f.key(name), Incident: f.key(inc), Policy: "lambda-backdoor", Origin: f.userARN("alice"),
		Action: "delete-eventbridge-rule", Target: "arn:aws:events:eu-west-1:111122223333:rule/" + f.id,
		Account: "111122223333", Region: "eu-west-1", Mode: "enforce", Status: "pending", Reason: "the rule triggers the planted function",
		Time: at, Before: json.RawMessage(`{"name":"` + f.id + `"}`), Version: 1,
	}
}

func mustPutAudit(t *testing.T, f *fixture, log store.AuditLog, r store.AuditRecord) {
	t.Helper()
	if err := log.PutAudit(f.ctx, r); err != nil {
		t.Fatalf("PutAudit %s version %d: %v", r.ID, r.Version, err)
	}
}

func mustReserve(t *testing.T, f *fixture, log store.AuditLog, account string, at time.Time, max int) bool {
	t.Helper()
	ok, err := log.ReserveAction(f.ctx, account, at, max)
	if err != nil {
		t.Fatalf("ReserveAction(%s, %v, %d): %v", account, at, max, err)
	}
	return ok
}

// normAudit makes records comparable: times by instant.
func normAudit(r store.AuditRecord) store.AuditRecord {
	r = store.CloneAudit(r)
	return r
}

func checkAudit(t *testing.T, f *fixture, log store.AuditLog, want store.AuditRecord) {
	t.Helper()
	got, err := log.Audit(f.ctx, want.ID)
	if err != nil {
		t.Fatalf("Audit %s: %v", want.ID, err)
	}
	if d := diff(normAudit(want), normAudit(got)); d != "" {
		t.Errorf("Audit %s (-want +got):\n%s", want.ID, d)
	}
}

func checkAudits(t *testing.T, f *fixture, log store.AuditLog, q store.AuditQuery, want []store.AuditRecord) {
	t.Helper()
	got, err := log.AuditRecords(f.ctx, q)
	if err != nil {
		t.Fatalf("AuditRecords(%+v): %v", q, err)
	}
	for i := range got {
		got[i] = normAudit(got[i])
	}
	for i := range want {
		want[i] = normAudit(want[i])
	}
	if d := diff(want, got); d != "" {
		t.Errorf("AuditRecords(%+v) (-want +got):\n%s", q, d)
	}
}
