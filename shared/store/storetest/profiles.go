package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/baseline"
	"github.com/trailhound/trailhound/shared/store"
)

// profileCases cover Profile, AddFact and AddEvents from a single caller.
//
// A fact's Seen follows baseline.Profile.Add: First is the earliest time the
// fact was added at and Last the latest, so a later add never moves First
// and an earlier add never moves Last back. A profile's Created is the
// earliest time anything was added at.
func profileCases() []testCase {
	region := baseline.Fact{Dim: baseline.DimRegion, Value: "eu-west-1"}
	api := baseline.Fact{Dim: baseline.DimAPI, Value: "s3:GetObject"}
	return []testCase{
		{"unknown profile is not found", func(t *testing.T, f *fixture) {
			_, err := f.s.Profile(f.ctx, f.key("nobody"))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Profile: err = %v, want ErrNotFound", err)
			}
		}},
		{"first fact creates the profile", func(t *testing.T, f *fixture) {
			key := f.key("p")
			at := f.at(time.Hour)
			mustAddFact(t, f, key, region, at, true)
			want := &baseline.Profile{
				Key:     key,
				Created: at,
				Facts:   map[baseline.Dimension]map[string]baseline.Seen{region.Dim: {region.Value: {First: at, Last: at}}},
			}
			checkProfile(t, f, key, want)
		}},
		{"fact again advances last seen only", func(t *testing.T, f *fixture) {
			key := f.key("p")
			mustAddFact(t, f, key, region, f.at(time.Hour), true)
			mustAddFact(t, f, key, region, f.at(3*time.Hour), false)
			mustAddFact(t, f, key, region, f.at(2*time.Hour), false)
			mustAddFact(t, f, key, region, f.at(3*time.Hour), false)
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					region.Dim: {region.Value: {First: f.at(time.Hour), Last: f.at(3 * time.Hour)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"earlier fact moves first seen and created back", func(t *testing.T, f *fixture) {
			key := f.key("p")
			mustAddFact(t, f, key, region, f.at(2*time.Hour), true)
			// Earlier: the first now (AddFact), as when concurrent
			// detectors record an identity's events out of order.
			mustAddFact(t, f, key, region, f.at(time.Hour), true)
			mustAddFact(t, f, key, region, f.at(90*time.Minute), false)
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					region.Dim: {region.Value: {First: f.at(time.Hour), Last: f.at(2 * time.Hour)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"facts of several dimensions", func(t *testing.T, f *fixture) {
			key := f.key("p")
			other := baseline.Fact{Dim: baseline.DimRegion, Value: "us-east-1"}
			mustAddFact(t, f, key, region, f.at(time.Hour), true)
			mustAddFact(t, f, key, api, f.at(2*time.Hour), true)
			mustAddFact(t, f, key, other, f.at(3*time.Hour), true)
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					region.Dim: {
						region.Value: {First: f.at(time.Hour), Last: f.at(time.Hour)},
						other.Value:  {First: f.at(3 * time.Hour), Last: f.at(3 * time.Hour)},
					},
					api.Dim: {api.Value: {First: f.at(2 * time.Hour), Last: f.at(2 * time.Hour)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"profiles are separate", func(t *testing.T, f *fixture) {
			mustAddFact(t, f, f.key("a"), region, f.at(time.Hour), true)
			mustAddFact(t, f, f.key("b"), region, f.at(2*time.Hour), true)
			got, err := f.s.Profile(f.ctx, f.key("a"))
			if err != nil {
				t.Fatalf("Profile: %v", err)
			}
			if s, _ := got.Get(region); !s.Last.Equal(f.at(time.Hour)) {
				t.Errorf("profile a: Last = %v, want %v", s.Last, f.at(time.Hour))
			}
		}},
		{"AddEvents creates and accumulates", func(t *testing.T, f *fixture) {
			key := f.key("p")
			mustAddEvents(t, f, key, 3, f.at(2*time.Hour))
			checkProfile(t, f, key, &baseline.Profile{Key: key, Created: f.at(2 * time.Hour), Events: 3})
			mustAddEvents(t, f, key, 4, f.at(3*time.Hour))
			mustAddEvents(t, f, key, 0, f.at(4*time.Hour))
			checkProfile(t, f, key, &baseline.Profile{Key: key, Created: f.at(2 * time.Hour), Events: 7})
			mustAddEvents(t, f, key, 1, f.at(time.Hour))
			checkProfile(t, f, key, &baseline.Profile{Key: key, Created: f.at(time.Hour), Events: 8})
		}},
		{"AddEvents and AddFact share the profile", func(t *testing.T, f *fixture) {
			key := f.key("p")
			mustAddFact(t, f, key, region, f.at(time.Hour), true)
			mustAddEvents(t, f, key, 5, f.at(2*time.Hour))
			mustAddFact(t, f, key, api, f.at(3*time.Hour), true)
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Events:  5,
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					region.Dim: {region.Value: {First: f.at(time.Hour), Last: f.at(time.Hour)}},
					api.Dim:    {api.Value: {First: f.at(3 * time.Hour), Last: f.at(3 * time.Hour)}},
				},
			}
			checkProfile(t, f, key, want)
		}},
		{"Profile returns a copy", func(t *testing.T, f *fixture) {
			key := f.key("p")
			mustAddFact(t, f, key, region, f.at(time.Hour), true)
			mustAddEvents(t, f, key, 2, f.at(time.Hour))
			want := &baseline.Profile{
				Key:     key,
				Created: f.at(time.Hour),
				Events:  2,
				Facts: map[baseline.Dimension]map[string]baseline.Seen{
					region.Dim: {region.Value: {First: f.at(time.Hour), Last: f.at(time.Hour)}},
				},
			}
			got, err := f.s.Profile(f.ctx, key)
			if err != nil {
				t.Fatalf("Profile: %v", err)
			}
			got.Events = 100
			got.Created = f.at(0)
			got.Facts[region.Dim][region.Value] = baseline.Seen{}
			got.Facts[region.Dim]["added-by-caller"] = baseline.Seen{}
			got.Facts[api.Dim] = map[string]baseline.Seen{api.Value: {}}
			checkProfile(t, f, key, want)
		}},
	}
}

// mustAddFact adds the fact, failing the test on error or when AddFact does
// not report wantAdded.
func mustAddFact(t *testing.T, f *fixture, key string, fact baseline.Fact, at time.Time, wantAdded bool) {
	t.Helper()
	added, err := f.s.AddFact(f.ctx, key, fact, at, "")
	if err != nil {
		t.Fatalf("AddFact(%s, %v, %v): %v", key, fact, at, err)
	}
	if added != wantAdded {
		t.Errorf("AddFact(%s, %v, %v) = %t, want %t", key, fact, at, added, wantAdded)
	}
}

// mustAddEvents adds n events, failing the test on error.
func mustAddEvents(t *testing.T, f *fixture, key string, n int64, at time.Time) {
	t.Helper()
	if err := f.s.AddEvents(f.ctx, key, n, at); err != nil {
		t.Fatalf("AddEvents(%s, %d, %v): %v", key, n, at, err)
	}
}

// checkProfile fails the test when the stored profile differs from want.
func checkProfile(t *testing.T, f *fixture, key string, want *baseline.Profile) {
	t.Helper()
	got, err := f.s.Profile(f.ctx, key)
	if err != nil {
		t.Fatalf("Profile(%s): %v", key, err)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("Profile(%s) mismatch (-want +got):\n%s", key, d)
	}
}
