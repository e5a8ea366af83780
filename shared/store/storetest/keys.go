package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/store"
)

// keyCases cover the issued-key ledger: PutKey and LookupKey.
func keyCases() []testCase {
	return []testCase{
		{"put then lookup before expiry", func(t *testing.T, f *fixture) {
			k := f.issuedKey("ASIAPUT", f.at(time.Hour))
			mustPutKey(t, f, k)
			for _, now := range []time.Time{f.at(0), f.at(time.Hour - time.Millisecond)} {
				got, err := f.s.LookupKey(f.ctx, k.AccessKeyID, now)
				if err != nil {
					t.Fatalf("LookupKey at %v: %v", now, err)
				}
				if d := diff(k, got); d != "" {
					t.Errorf("LookupKey at %v mismatch (-want +got):\n%s", now, d)
				}
			}
		}},
		{"lookup at or after expiry is not found", func(t *testing.T, f *fixture) {
			k := f.issuedKey("ASIAEXP", f.at(time.Hour))
			mustPutKey(t, f, k)
			for _, now := range []time.Time{f.at(time.Hour), f.at(time.Hour + time.Millisecond), f.at(48 * time.Hour)} {
				_, err := f.s.LookupKey(f.ctx, k.AccessKeyID, now)
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("LookupKey at %v: err = %v, want ErrNotFound", now, err)
				}
			}
		}},
		{"unknown key is not found", func(t *testing.T, f *fixture) {
			_, err := f.s.LookupKey(f.ctx, f.key("ASIAUNKNOWN"), f.at(0))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey: err = %v, want ErrNotFound", err)
			}
		}},
		{"re-put replaces origin and expiry", func(t *testing.T, f *fixture) {
			first := f.issuedKey("ASIAREPUT", f.at(2*time.Hour))
			mustPutKey(t, f, first)
			second := first
			second.Origin = identity.Origin{
				ARN:      f.userARN("bob"),
				Type:     identity.TypeIAMUser,
				Name:     "bob",
				Account:  "111122223333",
				Chain:    []string{f.userARN("bob")},
				Resolved: true,
			}
			second.Expires = f.at(time.Hour)
			second.IssuedBy = "event-2"
			mustPutKey(t, f, second)

			got, err := f.s.LookupKey(f.ctx, first.AccessKeyID, f.at(0))
			if err != nil {
				t.Fatalf("LookupKey: %v", err)
			}
			if d := diff(second, got); d != "" {
				t.Errorf("LookupKey after re-put mismatch (-want +got):\n%s", d)
			}
			// The earlier expiry replaced the later one.
			_, err = f.s.LookupKey(f.ctx, first.AccessKeyID, f.at(90*time.Minute))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey past the new expiry: err = %v, want ErrNotFound", err)
			}
		}},
		{"an unresolved record never replaces a resolved one", func(t *testing.T, f *fixture) {
			resolved := f.issuedKey("ASIACROSS", f.at(time.Hour))
			unresolved := resolved
			unresolved.Origin = identity.Origin{ARN: "arn:aws:iam::444455556666:root", Type: identity.TypeAWSAccount,
				Name: "AIDAEXAMPLE", Account: "444455556666", Chain: []string{"arn:aws:iam::444455556666:root"}}
			unresolved.IssuedBy = "event-target-copy"
			check := func(want identity.IssuedKey) {
				t.Helper()
				got, err := f.s.LookupKey(f.ctx, resolved.AccessKeyID, f.at(0))
				if err != nil {
					t.Fatalf("LookupKey: %v", err)
				}
				if d := diff(want, got); d != "" {
					t.Errorf("LookupKey mismatch (-want +got):\n%s", d)
				}
			}
			// The target account's copy first, then the caller's: replaced.
			mustPutKey(t, f, unresolved)
			check(unresolved)
			mustPutKey(t, f, resolved)
			check(resolved)
			// The other way round: kept.
			mustPutKey(t, f, unresolved)
			check(resolved)
		}},
		{"times in other locations keep their instant", func(t *testing.T, f *fixture) {
			zone := time.FixedZone("UTC+5:30", 5*3600+1800)
			k := f.issuedKey("ASIAZONE", f.at(time.Hour).In(zone))
			mustPutKey(t, f, k)
			got, err := f.s.LookupKey(f.ctx, k.AccessKeyID, f.at(time.Hour-time.Millisecond))
			if err != nil {
				t.Fatalf("LookupKey: %v", err)
			}
			if !got.Expires.Equal(k.Expires) {
				t.Errorf("Expires = %v, want %v", got.Expires, k.Expires)
			}
			_, err = f.s.LookupKey(f.ctx, k.AccessKeyID, f.at(time.Hour))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupKey at expiry: err = %v, want ErrNotFound", err)
			}
		}},
		{"stored key is a copy", func(t *testing.T, f *fixture) {
			k := f.issuedKey("ASIACOPY", f.at(time.Hour))
			want := f.issuedKey("ASIACOPY", f.at(time.Hour))
			mustPutKey(t, f, k)
			k.Origin.Chain[0] = "changed after PutKey"

			got, err := f.s.LookupKey(f.ctx, k.AccessKeyID, f.at(0))
			if err != nil {
				t.Fatalf("LookupKey: %v", err)
			}
			got.Origin.Chain[0] = "changed after LookupKey"
			got, err = f.s.LookupKey(f.ctx, k.AccessKeyID, f.at(0))
			if err != nil {
				t.Fatalf("LookupKey: %v", err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("LookupKey mismatch (-want +got):\n%s", d)
			}
		}},
	}
}

// issuedKey returns a key for a role session chained from an IAM user, with
// an access key id unique to the subtest.
func (f *fixture) issuedKey(name string, expires time.Time) identity.IssuedKey {
	user := f.userARN("alice")
	return identity.IssuedKey{
		AccessKeyID: f.key(name),
		Origin: identity.Origin{
			ARN:            user,
			Type:           identity.TypeIAMUser,
			Name:           "alice",
			Account:        "111122223333",
			Chain:          []string{user, "arn:aws:sts::111122223333:assumed-role/" + f.id + "/alice"},
			Resolved:       true,
			SourceIdentity: "alice@example.com",
		},
		Expires:  expires,
		IssuedBy: "event-1",
	}
}

// mustPutKey puts k, failing the test on error.
func mustPutKey(t *testing.T, f *fixture, k identity.IssuedKey) {
	t.Helper()
	if err := f.s.PutKey(f.ctx, k); err != nil {
		t.Fatalf("PutKey(%s): %v", k.AccessKeyID, err)
	}
}
