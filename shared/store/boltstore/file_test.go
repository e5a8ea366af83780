package boltstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolt "go.etcd.io/bbolt"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/identity"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/boltstore"
)

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Date(2025, time.March, 4, 10, 0, 0, 0, time.UTC)
	origin := identity.Origin{
		ARN:      "arn:aws:iam::111122223333:user/alice",
		Type:     identity.TypeIAMUser,
		Name:     "alice",
		Account:  "111122223333",
		Chain:    []string{"arn:aws:iam::111122223333:user/alice"},
		Resolved: true,
	}
	key := identity.IssuedKey{AccessKeyID: "ASIAREOPEN", Origin: origin, Expires: now.Add(time.Hour), IssuedBy: "event-1"}
	fact := baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}
	sig := detection.Signal{
		ID:        "sig-1",
		Kind:      "new-region",
		Severity:  detection.High,
		Attack:    []string{"T1535"},
		Identity:  origin,
		EventID:   "event-2",
		Time:      now,
		Rationale: "first use of eu-west-1",
		Facts:     map[string]string{"region": "eu-west-1"},
		Resources: []detection.Resource{{Type: "AWS::EC2::Instance", ID: "i-1"}},
	}

	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.PutKey(ctx, key); err != nil {
		t.Fatalf("PutKey: %v", err)
	}
	if _, err := s.AddFact(ctx, origin.Key(), fact, now, ""); err != nil {
		t.Fatalf("AddFact: %v", err)
	}
	if err := s.AddEvents(ctx, origin.Key(), 42, now); err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
	if _, err := s.PutSignal(ctx, sig, now.Add(24*time.Hour)); err != nil {
		t.Fatalf("PutSignal: %v", err)
	}
	if _, err := s.AdvanceWatermark(ctx, "cloudtrail", now); err != nil {
		t.Fatalf("AdvanceWatermark: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = boltstore.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	opts := cmpopts.EquateEmpty()

	gotKey, err := s.LookupKey(ctx, key.AccessKeyID, now)
	if err != nil {
		t.Fatalf("LookupKey: %v", err)
	}
	if d := cmp.Diff(key, gotKey, opts); d != "" {
		t.Errorf("LookupKey mismatch (-want +got):\n%s", d)
	}

	gotProfile, err := s.Profile(ctx, origin.Key())
	if err != nil {
		t.Fatalf("Profile: %v", err)
	}
	wantProfile := &baseline.Profile{
		Key:     origin.Key(),
		Created: now,
		Events:  42,
		Facts:   map[baseline.Dimension]map[string]baseline.Seen{fact.Dim: {fact.Value: {First: now, Last: now}}},
	}
	if d := cmp.Diff(wantProfile, gotProfile, opts); d != "" {
		t.Errorf("Profile mismatch (-want +got):\n%s", d)
	}
	if added, err := s.AddFact(ctx, origin.Key(), fact, now, ""); err != nil || added {
		t.Errorf("AddFact of a known fact = %t, %v; want false, nil", added, err)
	}

	gotSignals, err := s.Signals(ctx, store.SignalQuery{Identity: origin.Key(), Now: now})
	if err != nil {
		t.Fatalf("Signals: %v", err)
	}
	if d := cmp.Diff([]detection.Signal{sig}, gotSignals, opts); d != "" {
		t.Errorf("Signals mismatch (-want +got):\n%s", d)
	}
	if created, err := s.PutSignal(ctx, sig, now.Add(24*time.Hour)); err != nil || created {
		t.Errorf("PutSignal of a known id = %t, %v; want false, nil", created, err)
	}

	mark, err := s.Watermark(ctx, "cloudtrail")
	if err != nil {
		t.Fatalf("Watermark: %v", err)
	}
	if !mark.Equal(now) {
		t.Errorf("Watermark = %v, want %v", mark, now)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	// bbolt locks the file with flock, which conflicts between two opens
	// in one process as it does between two processes.
	_, err = boltstore.Open(path, boltstore.WithLockTimeout(100*time.Millisecond))
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "locked by another trailhound process") {
		t.Errorf("second Open: err = %q, want it to say the file is locked", err)
	}
}

func TestOpenRejectsOtherFiles(t *testing.T) {
	tests := []struct {
		name    string
		write   func(t *testing.T, path string)
		wantErr string
		// keepsLock is set when bbolt panics while opening the file: it
		// then keeps the file mapped and locked until the process exits.
		keepsLock bool
	}{
		{
			name:    "text file",
			write:   writeBytes([]byte("region,api\neu-west-1,GetObject\n")),
			wantErr: "not a trailhound state file",
		},
		{
			name:    "random bytes",
			write:   writeBytes(pseudoRandom(64 << 10)),
			wantErr: "not a trailhound state file",
		},
		{
			name:    "zeroed pages",
			write:   writeBytes(make([]byte, 16<<10)),
			wantErr: "not a trailhound state file",
		},
		{
			name:    "corrupt meta pages",
			write:   corruptMeta,
			wantErr: "not a trailhound state file",
		},
		{
			name:      "corrupt data pages",
			write:     corruptData,
			wantErr:   "corrupt state file",
			keepsLock: true,
		},
		{
			name: "bbolt database of another program",
			write: withBolt(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("widgets"))
				return err
			}),
			wantErr: "without a schema version",
		},
		{
			name: "newer schema version",
			write: withBolt(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("meta"))
				if err != nil {
					return err
				}
				return b.Put([]byte("schema_version"), []byte("99"))
			}),
			wantErr: "schema version 99, newer than the version 1",
		},
		{
			name: "unreadable schema version",
			write: withBolt(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("meta"))
				if err != nil {
					return err
				}
				return b.Put([]byte("schema_version"), []byte("one"))
			}),
			wantErr: "schema version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			tt.write(t, path)
			s, err := boltstore.Open(path, boltstore.WithLockTimeout(100*time.Millisecond))
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			t.Logf("Open: %v", err)
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: err = %q, want it to name the file and say %q", err, tt.wantErr)
			}
			if tt.keepsLock {
				return
			}
			// The file is not left locked.
			s, err = boltstore.Open(path, boltstore.WithLockTimeout(100*time.Millisecond))
			if errors.Is(err, boltstore.ErrLocked) {
				t.Errorf("second Open: %v", err)
			}
			if err == nil {
				_ = s.Close()
			}
		})
	}
}

func TestOpenEmptyFile(t *testing.T) {
	// An empty file, as made by touch or os.CreateTemp, becomes a new state
	// file.
	path := filepath.Join(t.TempDir(), "state.db")
	writeBytes(nil)(t, path)
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// writeBytes returns a function writing data to a file.
func writeBytes(data []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// pseudoRandom returns n deterministic bytes that look like noise.
func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// withBolt returns a function creating a bbolt file and running fn in a
// write transaction on it.
func withBolt(fn func(*bolt.Tx) error) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// writeState writes a state file with a profile in it.
func writeState(t *testing.T, path string) {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFact(t.Context(), "k", baseline.Fact{Dim: baseline.DimAPI, Value: "v"}, time.Unix(0, 0), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// corruptMeta writes a state file with data in it, then overwrites both of
// its meta pages with noise.
func corruptMeta(t *testing.T, path string) {
	t.Helper()
	writeState(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copy(data, pseudoRandom(2*os.Getpagesize()))
	writeBytes(data)(t, path)
}

// corruptData writes a state file with data in it, then overwrites every
// page but the meta pages with noise.
func corruptData(t *testing.T, path string) {
	t.Helper()
	writeState(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copy(data[2*os.Getpagesize():], pseudoRandom(len(data)))
	writeBytes(data)(t, path)
}

func TestOpenAddsIncidentBucketsToOlderFile(t *testing.T) {
	// A file written before incidents existed: schema version 1 and the
	// buckets of that layout only.
	path := filepath.Join(t.TempDir(), "state.db")
	withBolt(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		if err := meta.Put([]byte("schema_version"), []byte("1")); err != nil {
			return err
		}
		for _, name := range []string{
			"keys", "keys_by_expiry", "profiles", "signals", "signals_by_time",
			"signals_by_identity", "signals_by_expiry", "watermarks",
		} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})(t, path)

	ctx := t.Context()
	now := time.Date(2025, time.March, 4, 10, 0, 0, 0, time.UTC)
	inc := incident.Incident{
		ID:        incident.ID("arn:aws:iam::111122223333:user/alice", "compromised-credentials", now),
		Policy:    "compromised-credentials",
		Severity:  detection.High,
		Identity:  incident.Identity{Key: "arn:aws:iam::111122223333:user/alice", Chain: []string{"arn:aws:iam::111122223333:user/alice"}},
		FirstSeen: now,
		LastSeen:  now.Add(time.Minute),
		Signals:   []incident.SignalRef{{ID: "sig-1", Severity: detection.High, Time: now}},
		Version:   1,
	}

	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.PutIncident(ctx, inc); err != nil {
		t.Fatalf("PutIncident: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = boltstore.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	got, err := s.Incidents(ctx, store.IncidentQuery{Identity: inc.Identity.Key, Policy: inc.Policy})
	if err != nil {
		t.Fatalf("Incidents: %v", err)
	}
	if d := cmp.Diff([]incident.Incident{inc}, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("Incidents after reopen mismatch (-want +got):\n%s", d)
	}
	// The version check survives the reopen.
	if err := s.PutIncident(ctx, inc); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutIncident of version 1 again: err = %v, want ErrConflict", err)
	}
}
