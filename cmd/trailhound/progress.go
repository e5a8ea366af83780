package main

import (
	"fmt"
	"io"
	"time"

	"github.com/trailhound/trailhound/shared/replay"
)

// progress draws one self-overwriting line on a terminal, at most four times
// a second. It reads the wall clock: it is presentation, not detection.
type progress struct {
	w       io.Writer
	on      bool
	start   time.Time
	last    time.Time
	counter int
	drawn   bool
}

func newProgress(w io.Writer, on bool) *progress {
	now := time.Now()
	return &progress{w: w, on: on, start: now, last: now}
}

func (p *progress) tick(s *replay.Stream) {
	if !p.on {
		return
	}
	p.counter++
	if p.counter%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	r := s.Report()
	rate := float64(r.Events) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%d files, %d events, %d skipped, %.0f events/s ", r.Files, r.Events, r.SkippedRecords(), rate)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
