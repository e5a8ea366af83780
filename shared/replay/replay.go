// Package replay turns CloudTrail log files and folders into one stream of
// events in event-time order, the way the local CLI feeds the pipeline.
//
// CloudTrail writes a file per account and region every few minutes, and
// files overlap in time. Replay finds every log file under the given paths
// (skipping digest and Insights files), reads the first event of each to
// order them, and merges them: a file is opened only when the merge reaches
// its first event, so only files that overlap in time are open together.
// Within and across files, a reordering window (15 minutes by default)
// absorbs disorder: an event is released once an event Window later has been
// read. An event that still comes after later events were released is
// processed anyway and counted as late. Records with an event id seen within
// the window are duplicates (overlapping trails deliver the same event twice)
// and are dropped once. Memory grows with the number of overlapping files and
// the events inside one window, never with the size of the input.
package replay

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
)

// DefaultWindow is the default reordering window.
const DefaultWindow = 15 * time.Minute

// Options configure a Stream.
type Options struct {
	// Window is the reordering window; 0 means DefaultWindow.
	Window time.Duration
	// OnSkip, when set, is called for every skipped file or record.
	OnSkip func(Skip)
	// MaxSkipsKept bounds Report.Skips; 0 means 100.
	MaxSkipsKept int
}

// Skip is a file or record that could not be processed.
type Skip struct {
	// File is the path of the file.
	File string `json:"file"`
	// Record is the 1-based index of the record in the file, 0 for the
	// whole file.
	Record int `json:"record,omitempty"`
	// Reason says why, in a few stable words ("not JSON", "truncated gzip").
	Reason string `json:"reason"`
	// Detail is the underlying error.
	Detail string `json:"detail,omitempty"`
}

// String formats the skip for people: "file.json record 3: missing eventTime".
func (s Skip) String() string {
	where := s.File
	if s.Record > 0 {
		where = fmt.Sprintf("%s record %d", s.File, s.Record)
	}
	if s.Detail != "" && s.Detail != s.Reason {
		return where + ": " + s.Reason + " (" + s.Detail + ")"
	}
	return where + ": " + s.Reason
}

// Report counts what a Stream read.
type Report struct {
	Files        int            `json:"files"`
	FilesSkipped int            `json:"files_skipped"`
	Ignored      int            `json:"ignored_files"`
	Records      int            `json:"records_read"`
	Events       int            `json:"events"`
	Duplicates   int            `json:"duplicates"`
	Late         int            `json:"late"`
	Skipped      map[string]int `json:"skipped"`
	Skips        []Skip         `json:"skips,omitempty"`
}

// SkippedRecords is the number of records skipped, whatever the reason.
func (r *Report) SkippedRecords() int {
	n := 0
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// Stream is an event-time-ordered stream of events read from files.
type Stream struct {
	opts    Options
	pending []*source // files not yet opened, by first event time
	active  sourceHeap
	// The reordering window: events that arrive in order wait in a FIFO,
	// the others in a heap; the next event is the earlier of their heads.
	inorder fifo[pendingEvent]
	reorder eventHeap
	maxSeen time.Time
	last    time.Time
	// seen holds the event ids released in the last two windows or so,
	// to drop duplicates. The time of each is kept apart, for prune: in
	// release order for the events released in order (their times never
	// decrease), in a heap for the late ones.
	seen     map[string]struct{}
	seenIDs  fifo[seenID]
	seenLate seenHeap
	pruned   time.Time
	seq      uint64
	report   Report
	slab     []slot  // see newEvent
	free     []*slot // see Recycle
	rawFree  int     // the raw memory of the free events, in bytes
	// lent are the events Next returned, oldest first, for Recycle to
	// find their memory (at most maxLent).
	lent fifo[*slot]
}

// slot is the memory of one event: the event, and the memory its raw JSON
// fields share (see cloudtrail.Reader.NextInto), reused with it.
type slot struct {
	cloudtrail.Event
	raw []byte
}

// source is one log file being read.
type source struct {
	path   string
	first  time.Time
	file   *os.File
	reader *cloudtrail.Reader
	index  int
	head   *slot
}

// Open finds the log files under paths and prepares the stream. Problems
// with single files are reported as skips; Open fails only when a path
// cannot be read at all.
func Open(paths []string, opts Options) (*Stream, error) {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxSkipsKept <= 0 {
		opts.MaxSkipsKept = 100
	}
	s := &Stream{opts: opts, seen: make(map[string]struct{}), report: Report{Skipped: make(map[string]int)}}
	var files []string
	for _, p := range paths {
		found, err := s.discover(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	for _, f := range files {
		src := s.prescan(f)
		if src != nil {
			s.pending = append(s.pending, src)
		}
	}
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].first.Before(s.pending[j].first) })
	return s, nil
}

// logSuffixes are the file names read when walking a folder.
var logSuffixes = []string{".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"}

// discover lists the log files of one path. A file named on its own is read
// whatever its name; in folders, files with a log suffix are read and
// CloudTrail digest and Insights files are ignored.
func (s *Stream) discover(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			s.skip(Skip{File: path, Reason: "unreadable", Detail: err.Error()})
			s.report.FilesSkipped++
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if n := d.Name(); n == "CloudTrail-Digest" || n == "CloudTrail-Insight" || n == "CloudTrail-Insights" {
				s.report.Ignored++
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		name := strings.ToLower(d.Name())
		for _, suf := range logSuffixes {
			if strings.HasSuffix(name, suf) {
				if strings.Contains(name, "_cloudtrail-digest_") {
					s.report.Ignored++
					return nil
				}
				files = append(files, path)
				return nil
			}
		}
		s.report.Ignored++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	sort.Strings(files)
	return files, nil
}

// prescan reads a file's first event to place it in the merge order. A file
// with no readable event is read now, to report its skips, and dropped.
func (s *Stream) prescan(path string) *source {
	src := &source{path: path}
	if !s.open(src, false) {
		s.report.Files++
		return nil
	}
	src.close()
	if src.head == nil {
		// Nothing readable: read it again, counting, to report why.
		s.report.Files++
		if s.open(src, true) {
			for src.reader != nil {
				s.advance(src, true)
			}
		}
		return nil
	}
	return &source{path: path, first: src.head.EventTime}
}

// open opens the file and reads its first event into head. It reports
// whether the file could be opened.
func (s *Stream) open(src *source, count bool) bool {
	f, err := os.Open(src.path)
	if err != nil {
		s.skip(Skip{File: src.path, Reason: "unreadable", Detail: err.Error()})
		s.report.FilesSkipped++
		return false
	}
	src.file = f
	src.reader = cloudtrail.NewReader(f)
	src.index = 0
	s.advance(src, count)
	return true
}

// advance reads the next good event of src into head (nil at the end),
// reporting bad records when count is set.
func (s *Stream) advance(src *source, count bool) {
	src.head = nil
	if src.reader == nil {
		return
	}
	// Bad records are decoded into the same event; at the end it goes back.
	ev := s.newEvent()
	for {
		err := src.reader.NextInto(&ev.Event, &ev.raw)
		if err == nil {
			src.index++
			if count {
				s.report.Records++
			}
			src.head = ev
			return
		}
		if errors.Is(err, io.EOF) {
			break
		}
		var rerr *cloudtrail.RecordError
		if errors.As(err, &rerr) && !errors.Is(err, cloudtrail.ErrFileCorrupt) {
			src.index++
			if count {
				s.report.Records++
				s.report.Skipped[rerr.Reason]++
				s.skip(Skip{File: src.path, Record: src.index, Reason: rerr.Reason, Detail: err.Error()})
			}
			continue
		}
		if count {
			reason := "unreadable"
			if errors.As(err, &rerr) {
				reason = rerr.Reason
			}
			s.report.FilesSkipped++
			s.report.Skipped[reason]++
			s.skip(Skip{File: src.path, Reason: reason, Detail: err.Error()})
		}
		break
	}
	src.close()
	s.reuse(ev)
}

// eventSlab is how many events newEvent allocates at once.
const eventSlab = 32

// newEvent returns room for one event. Events are allocated a few dozen at
// a time: one allocation instead of one per event. Nothing keeps an event
// once it has been processed, so a slab lives about as long as the
// reordering window holds its events.
func (s *Stream) newEvent() *slot {
	if n := len(s.free); n > 0 {
		ev := s.free[n-1]
		s.free = s.free[:n-1]
		s.rawFree -= cap(ev.raw)
		return ev
	}
	if len(s.slab) == 0 {
		s.slab = make([]slot, eventSlab)
	}
	ev := &s.slab[0]
	s.slab = s.slab[1:]
	return ev
}

// The events kept for reuse: at most maxFree, since the reordering window
// drains and fills again with the density of the input (thousands of
// events in a busy quarter of an hour). Beyond the first keepDirty they are
// cleared, so that a long free list keeps no strings of old events alive.
// The memory of their raw fields is kept with them, up to maxRawKept bytes
// an event and maxRawFree bytes in all. Recycle looks for an event among
// the last maxLent that Next returned.
const (
	maxFree    = 1 << 14
	keepDirty  = 64
	maxRawKept = 16 << 10
	maxRawFree = 8 << 20
	maxLent    = 256
)

// Recycle hands back an event that Next returned, once the caller no longer
// uses it, and at most once: the stream may decode a later event into the
// same memory. The caller may keep the event's strings, its resources and
// its pointer fields (allocated for that record, never overwritten), but
// not the *Event itself, a pointer into it (such as &ev.UserIdentity), or
// its raw JSON fields (RequestParameters, ResponseElements,
// AdditionalEventData, ServiceEventDetails), whose memory a later event
// reuses. Recycling is optional: an event not handed back is garbage
// collected as usual, and so is one handed back out of the order Next
// returned them in. A replay that recycles each event once processed
// allocates neither events nor memory for their raw fields in steady state
// (the events were more than a quarter of the bytes a replay allocated,
// the raw fields another quarter).
func (s *Stream) Recycle(ev *cloudtrail.Event) {
	if ev == nil || s.lent.len() == 0 || &(*s.lent.first()).Event != ev {
		return
	}
	s.reuse(s.lent.pop())
}

// lend records an event Next returns, for Recycle.
func (s *Stream) lend(ev *slot) {
	if s.lent.len() == maxLent {
		s.lent.pop() // never handed back: the collector's
	}
	s.lent.push(ev)
}

// reuse keeps an event's memory for a later one.
func (s *Stream) reuse(ev *slot) {
	if len(s.free) >= maxFree {
		return
	}
	if len(s.free) >= keepDirty {
		ev.Event = cloudtrail.Event{}
	}
	if c := cap(ev.raw); c > maxRawKept || s.rawFree+c > maxRawFree {
		ev.raw = nil
	} else {
		s.rawFree += c
	}
	s.free = append(s.free, ev)
}

func (src *source) close() {
	if src.reader != nil {
		src.reader.Release()
	}
	if src.file != nil {
		src.file.Close()
		src.file = nil
	}
	src.reader = nil
}

func (s *Stream) skip(k Skip) {
	if s.opts.OnSkip != nil {
		s.opts.OnSkip(k)
	}
	if len(s.report.Skips) < s.opts.MaxSkipsKept {
		s.report.Skips = append(s.report.Skips, k)
	}
}

// pull returns the next event of the merge of all files, or nil at the end.
func (s *Stream) pull() *slot {
	for len(s.pending) > 0 && (s.active.Len() == 0 || !s.pending[0].first.After(s.active[0].head.EventTime)) {
		src := s.pending[0]
		s.pending = s.pending[1:]
		s.report.Files++
		s.open(src, true)
		if src.head != nil {
			heap.Push(&s.active, src)
		}
	}
	if s.active.Len() == 0 {
		return nil
	}
	src := s.active[0]
	ev := src.head
	s.advance(src, true)
	if src.head != nil {
		heap.Fix(&s.active, 0)
	} else {
		heap.Pop(&s.active)
	}
	return ev
}

// Next returns the next event in event-time order, or io.EOF at the end.
func (s *Stream) Next() (*cloudtrail.Event, error) {
	for {
		for {
			head, ok := s.head()
			if ok && head.EventTime.Add(s.opts.Window).Before(s.maxSeen) {
				break
			}
			ev := s.pull()
			if ev == nil {
				break
			}
			s.seq++
			s.push(pendingEvent{slot: ev, seq: s.seq, issues: issuesCredentials(&ev.Event)})
			if ev.EventTime.After(s.maxSeen) {
				s.maxSeen = ev.EventTime
			}
		}
		if _, ok := s.head(); !ok {
			return nil, io.EOF
		}
		ev := s.pop()
		// One map operation, not a look-up and then an insertion: adding
		// an id already there leaves the map's size as it was.
		n := len(s.seen)
		s.seen[ev.EventID] = struct{}{}
		if len(s.seen) == n {
			s.report.Duplicates++
			s.reuse(ev)
			continue
		}
		if ev.EventTime.Before(s.last) {
			s.report.Late++
			heap.Push(&s.seenLate, seenID{ev.EventID, ev.EventTime})
		} else {
			s.last = ev.EventTime
			s.seenIDs.push(seenID{ev.EventID, ev.EventTime})
		}
		s.prune()
		s.report.Events++
		s.lend(ev)
		return &ev.Event, nil
	}
}

// push adds an event to the window: to the FIFO when it keeps it in order
// (an issuing event tied with the FIFO's tail goes to the heap, which puts
// it first within its second), otherwise to the heap.
func (s *Stream) push(e pendingEvent) {
	if n := s.inorder.len(); n == 0 || e.EventTime.After(s.inorder.last().EventTime) ||
		e.EventTime.Equal(s.inorder.last().EventTime) && !e.issues {
		s.inorder.push(e)
		return
	}
	heap.Push(&s.reorder, e)
}

// head returns the earliest event of the window.
func (s *Stream) head() (pendingEvent, bool) {
	switch {
	case s.inorder.len() == 0 && len(s.reorder) == 0:
		return pendingEvent{}, false
	case len(s.reorder) == 0:
		return *s.inorder.first(), true
	case s.inorder.len() == 0 || earlier(s.reorder[0], *s.inorder.first()):
		return s.reorder[0], true
	}
	return *s.inorder.first(), true
}

// pop removes and returns the earliest event of the window.
func (s *Stream) pop() *slot {
	if s.inorder.len() > 0 && (len(s.reorder) == 0 || !earlier(s.reorder[0], *s.inorder.first())) {
		return s.inorder.pop().slot
	}
	return heap.Pop(&s.reorder).(pendingEvent).slot
}

// fifo is a queue in one array: popping moves its start, and
// pushing onto a full array first moves the waiting events back to the
// front when they fill at most half of it. (A slice popped from the front
// and appended to at the back, as the window's was, needs a new array every
// time it fills up: 4 % of the bytes a replay allocated.)
type fifo[T any] struct {
	buf   []T
	start int // buf[start:] are waiting
}

func (q *fifo[T]) len() int  { return len(q.buf) - q.start }
func (q *fifo[T]) first() *T { return &q.buf[q.start] }
func (q *fifo[T]) last() *T  { return &q.buf[len(q.buf)-1] }

func (q *fifo[T]) push(e T) {
	if len(q.buf) == cap(q.buf) && q.start > 0 && 2*q.len() <= cap(q.buf) {
		n := copy(q.buf, q.buf[q.start:])
		clear(q.buf[n:])
		q.buf, q.start = q.buf[:n], 0
	}
	q.buf = append(q.buf, e)
}

func (q *fifo[T]) pop() T {
	e := q.buf[q.start]
	var zero T
	q.buf[q.start] = zero
	q.start++
	if q.start == len(q.buf) {
		q.buf, q.start = q.buf[:0], 0
	}
	return e
}

// issuesCredentials reports whether ev is a successful STS call that
// returned credentials.
func issuesCredentials(ev *cloudtrail.Event) bool {
	if ev.EventSource != "sts.amazonaws.com" || ev.ErrorCode != "" || len(ev.ResponseElements) <= 4 {
		return false
	}
	return strings.HasPrefix(ev.EventName, "AssumeRole") || ev.EventName == "GetSessionToken" || ev.EventName == "GetFederationToken"
}

// prune forgets event ids older than two windows behind the stream, once
// the stream has moved a window on since the last time. The ids to forget
// are the oldest of seenIDs and of seenLate: taking them from there, not
// from a walk of the whole map, cost a tenth as much.
func (s *Stream) prune() {
	horizon := s.last.Add(-2 * s.opts.Window)
	if horizon.Sub(s.pruned) < s.opts.Window {
		return
	}
	for s.seenIDs.len() > 0 && s.seenIDs.first().t.Before(horizon) {
		delete(s.seen, s.seenIDs.pop().id)
	}
	for len(s.seenLate) > 0 && s.seenLate[0].t.Before(horizon) {
		delete(s.seen, heap.Pop(&s.seenLate).(seenID).id)
	}
	s.pruned = horizon
}

// seenID is an event id in seen and the time of its event.
type seenID struct {
	id string
	t  time.Time
}

// seenHeap orders ids by the time of their event.
type seenHeap []seenID

func (h seenHeap) Len() int           { return len(h) }
func (h seenHeap) Less(i, j int) bool { return h[i].t.Before(h[j].t) }
func (h seenHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seenHeap) Push(x any)        { *h = append(*h, x.(seenID)) }
func (h *seenHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = seenID{}
	*h = old[:len(old)-1]
	return x
}

// Report returns the counts so far.
func (s *Stream) Report() Report {
	r := s.report
	r.Skipped = make(map[string]int, len(s.report.Skipped))
	for k, v := range s.report.Skipped {
		r.Skipped[k] = v
	}
	r.Skips = append([]Skip(nil), s.report.Skips...)
	return r
}

// Close closes the files still open.
func (s *Stream) Close() error {
	for _, src := range s.active {
		src.close()
	}
	s.active = nil
	s.pending = nil
	return nil
}

type sourceHeap []*source

func (h sourceHeap) Len() int           { return len(h) }
func (h sourceHeap) Less(i, j int) bool { return h[i].head.EventTime.Before(h[j].head.EventTime) }
func (h sourceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)        { *h = append(*h, x.(*source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// pendingEvent is an event in the reordering window.
type pendingEvent struct {
	*slot
	seq    uint64 // arrival order
	issues bool   // it issued temporary credentials
}

// eventHeap orders events by time. CloudTrail times have one-second
// resolution, so within a second an event that issued credentials comes
// before the rest (credentials are issued before they are used, and the
// issuing call and the first use often share a second across two files),
// then events keep their arrival order.
type eventHeap []pendingEvent

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return earlier(h[i], h[j]) }

// earlier orders the window: time, then credential-issuing calls first
// within a second, then arrival.
func earlier(a, b pendingEvent) bool {
	if !a.EventTime.Equal(b.EventTime) {
		return a.EventTime.Before(b.EventTime)
	}
	if a.issues != b.issues {
		return a.issues
	}
	return a.seq < b.seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(pendingEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
