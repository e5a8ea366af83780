package storetest

import (
	"testing"
	"time"
)

// watermarkCases cover Watermark and AdvanceWatermark.
func watermarkCases() []testCase {
	return []testCase{
		{"unset watermark is the zero time", func(t *testing.T, f *fixture) {
			checkWatermark(t, f, f.key("w"), time.Time{})
		}},
		{"advance moves forward only", func(t *testing.T, f *fixture) {
			name := f.key("w")
			steps := []struct {
				to   time.Time
				want bool
				then time.Time
			}{
				{f.at(time.Hour), true, f.at(time.Hour)},
				{f.at(2 * time.Hour), true, f.at(2 * time.Hour)},
				{f.at(2 * time.Hour), false, f.at(2 * time.Hour)},
				{f.at(2 * time.Hour).In(time.FixedZone("UTC+2", 7200)), false, f.at(2 * time.Hour)},
				{f.at(time.Hour), false, f.at(2 * time.Hour)},
				{time.Time{}, false, f.at(2 * time.Hour)},
				{f.at(2*time.Hour + time.Millisecond), true, f.at(2*time.Hour + time.Millisecond)},
			}
			for _, s := range steps {
				ok, err := f.s.AdvanceWatermark(f.ctx, name, s.to)
				if err != nil {
					t.Fatalf("AdvanceWatermark(%v): %v", s.to, err)
				}
				if ok != s.want {
					t.Errorf("AdvanceWatermark(%v) = %t, want %t", s.to, ok, s.want)
				}
				checkWatermark(t, f, name, s.then)
			}
		}},
		{"watermarks are separate", func(t *testing.T, f *fixture) {
			mustAdvance(t, f, f.key("a"), f.at(time.Hour))
			mustAdvance(t, f, f.key("b"), f.at(2*time.Hour))
			checkWatermark(t, f, f.key("a"), f.at(time.Hour))
			checkWatermark(t, f, f.key("b"), f.at(2*time.Hour))
		}},
		{"concurrent advances end at the latest", func(t *testing.T, f *fixture) {
			name := f.key("w")
			concurrently(goroutines, func(i int) {
				// Odd goroutines go backwards, so that some advances lose.
				d := time.Duration(i) * time.Minute
				if i%2 == 1 {
					d = time.Duration(goroutines-i) * time.Minute
				}
				if _, err := f.s.AdvanceWatermark(f.ctx, name, f.at(d)); err != nil {
					t.Errorf("AdvanceWatermark: %v", err)
				}
			})
			checkWatermark(t, f, name, f.at((goroutines-1)*time.Minute))
		}},
	}
}

// mustAdvance advances the watermark, failing the test on error.
func mustAdvance(t *testing.T, f *fixture, name string, to time.Time) {
	t.Helper()
	if _, err := f.s.AdvanceWatermark(f.ctx, name, to); err != nil {
		t.Fatalf("AdvanceWatermark(%s, %v): %v", name, to, err)
	}
}

// checkWatermark fails the test when the watermark is not at want.
func checkWatermark(t *testing.T, f *fixture, name string, want time.Time) {
	t.Helper()
	got, err := f.s.Watermark(f.ctx, name)
	if err != nil {
		t.Fatalf("Watermark(%s): %v", name, err)
	}
	if !got.Equal(want) {
		t.Errorf("Watermark(%s) = %v, want %v", name, got, want)
	}
}
