package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// readBufSize is the size of the Reader's input buffer.
const readBufSize = 64 << 10

// Reader states: where the splitter is in the stream.
const (
	stTop     = iota // between top-level values
	stArray          // inside a top-level array
	stRecords        // inside the "Records" array of a top-level object
	stWrapper        // inside a top-level object, after a "Records" array
)

// errBadStart reports a byte that cannot start a JSON value. Callers check
// the byte first, so it is never returned in practice.
var errBadStart = errors.New("byte cannot start a JSON value")

// Reader reads CloudTrail events from a stream of CloudTrail log data. It
// detects the layout by itself: gzip compression (by its magic bytes), the S3
// export object {"Records":[...]}, a JSON array of records or EventBridge
// envelopes, JSON lines or any other sequence of concatenated records and
// envelopes, or a single record. The elements of a "Records" array or a
// top-level array are read one at a time, so memory use does not grow with
// the size of the input.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// MaxRecordBytes is the largest element the Reader buffers; a larger one
	// is skipped, without being held in memory, with a *RecordError whose
	// reason is "too large". NewReader sets it to the package's
	// MaxRecordBytes; values below 1 mean that default.
	MaxRecordBytes int

	be        backend
	src       io.Reader
	br        *bufio.Reader
	zbr       *bufio.Reader // the compressed input under a gzip stream
	gzipped   bool
	started   bool
	done      bool  // Next returns io.EOF from now on
	err       error // the error that ended reading, if any
	state     int
	needComma bool
	buf       []byte  // the current element, reused
	key       []byte  // a key of an oversized top-level object, reused
	raw       *[]byte // NextInto's memory for the raw fields, during the call
	records   int
	off       int64 // bytes consumed from the decompressed stream
	// heldErr is a read error met by refill, returned by fill once the
	// input before it is consumed.
	heldErr error
}

// NewReader returns a Reader that reads events from r. It reads r through
// its own buffer.
func NewReader(r io.Reader) *Reader {
	return &Reader{MaxRecordBytes: MaxRecordBytes, src: r, be: decoder}
}

// Records returns how many elements (records, envelopes or values of the
// wrong shape) the Reader has read so far, including the ones it rejected.
func (r *Reader) Records() int { return r.records }

// Err returns the error that ended reading (one matching ErrFileCorrupt), or
// nil if the stream was read to its end or is still being read.
func (r *Reader) Err() error { return r.err }

// Next returns the next event. At the end of the stream it returns io.EOF.
//
// An element that cannot be decoded yields a *RecordError (matching
// ErrMalformed); the following call continues with the next element. A
// problem that makes the rest of the stream unreadable yields an error
// matching ErrFileCorrupt; every later call returns io.EOF.
func (r *Reader) Next() (Event, error) {
	var ev Event
	err := r.NextInto(&ev, nil)
	return ev, err
}

// NextInto is Next decoding into ev, which it overwrites whole: a caller
// that reuses its events saves copying each one out. On an error ev is
// zeroed.
//
// raw, when not nil, is memory of the caller's for the event's raw JSON
// fields (RequestParameters, ResponseElements, AdditionalEventData and
// ServiceEventDetails): they are copied into *raw when it has room, and
// otherwise into new memory, which is stored in *raw for the next call. The
// raw fields of an event decoded with raw are overwritten by the next
// event decoded with the same raw: a caller that reuses an event's memory
// this way must not keep them (the rest of the event is its own).
func (r *Reader) NextInto(ev *Event, raw *[]byte) error {
	r.raw = raw
	err := r.next(ev)
	r.raw = nil
	if err != nil {
		*ev = Event{}
	}
	return err
}

func (r *Reader) next(ev *Event) error {
	if r.done {
		return io.EOF
	}
	if !r.started {
		if err := r.start(); err != nil {
			return r.fail(err)
		}
	}
	for {
		switch r.state {
		case stTop:
			c, err := r.skipSpace()
			if err != nil {
				if err == io.EOF {
					r.done = true
					r.release()
					return io.EOF
				}
				return r.fail(r.readErr(err, false))
			}
			switch c {
			case '[':
				r.discard(1)
				r.state, r.needComma = stArray, false
			case '{':
				if ok, err := r.quickObject(ev); ok {
					return err
				}
				if streaming, err := r.topObject(ev); !streaming {
					return err
				}
			default:
				return r.topScalar(c)
			}

		case stArray, stRecords:
			c, err := r.skipSpace()
			if err != nil {
				return r.fail(r.readErr(err, true))
			}
			if c == ']' {
				r.discard(1)
				if r.state == stArray {
					r.state = stTop
				} else {
					r.state, r.needComma = stWrapper, true
				}
				continue
			}
			if r.needComma {
				if c != ',' {
					return r.fail(r.syntaxErr("expected ',' or ']' after an array element", c))
				}
				r.discard(1)
				r.needComma = false
				continue
			}
			r.needComma = true
			return r.element(c, ev)

		case stWrapper:
			if err := r.wrapperMember(); err != nil {
				return r.fail(err)
			}
		}
	}
}

// start detects gzip and sets up the buffered reader.
func (r *Reader) start() error {
	r.started = true
	if r.be.unmarshal == nil {
		r.be = decoder
	}
	if r.src == nil {
		r.src = bytes.NewReader(nil)
	}
	r.br = newBuffered(r.src)
	magic, _ := r.br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		r.gzipped = true
		zr, err := gzip.NewReader(r.br)
		if err != nil {
			return r.readErr(err, true)
		}
		r.zbr = r.br
		r.br = newBuffered(zr)
	}
	if bom, _ := r.br.Peek(3); len(bom) == 3 && bom[0] == 0xef && bom[1] == 0xbb && bom[2] == 0xbf {
		r.discard(3)
	}
	return nil
}

// fail ends reading with err and returns it.
func (r *Reader) fail(err error) error {
	r.done = true
	r.err = err
	r.release()
	return err
}

// buffers holds input buffers between Readers. A replay opens every file
// twice (once for its first event, to order the files, then to read it),
// and a buffer allocated per opening was 6 % of the bytes a replay
// allocated. Events never point into the buffer (see fast.go), so handing
// it to the next Reader changes nothing for the events already returned.
var buffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// newBuffered returns a pooled buffered reader over src.
func newBuffered(src io.Reader) *bufio.Reader {
	br := buffers.Get().(*bufio.Reader)
	br.Reset(src)
	return br
}

// Release ends reading and hands the Reader's buffers to later Readers;
// Next returns io.EOF from then on. A Reader releases them by itself once
// Next has returned io.EOF or an error matching ErrFileCorrupt: Release is
// for a caller that stops before the end. It does not close the
// underlying reader. Events already returned are unaffected.
func (r *Reader) Release() {
	r.done = true
	r.release()
}

// release returns the buffers to the pool, once.
func (r *Reader) release() {
	for _, br := range []*bufio.Reader{r.br, r.zbr} {
		if br != nil {
			br.Reset(nil) // drop the source
			buffers.Put(br)
		}
	}
	r.br, r.zbr = nil, nil
}

// limit returns the element size limit in force.
func (r *Reader) limit() int {
	if r.MaxRecordBytes < 1 {
		return MaxRecordBytes
	}
	return r.MaxRecordBytes
}

// element reads one array element that starts with c and decodes it.
func (r *Reader) element(c byte, ev *Event) error {
	start := r.off
	if c != '{' && c != '[' && c != '"' && !scalarByte[c] {
		return r.fail(r.syntaxErr("expected an array element", c))
	}
	if c == '{' {
		// Fast path: an ordinary record, already buffered whole, decoded in
		// one pass as it is found (fast.go).
		ok, data, n, done := r.fastBuffered(ev)
		if ok {
			return nil
		}
		// The whole element is already buffered: decode it from the input
		// buffer without copying it into r.buf first.
		if done && n <= r.limit() {
			r.records++
			var err error
			*ev, err = decode(r.be, data[:n])
			r.discard(n)
			if err != nil {
				return r.annotate(err, start)
			}
			return nil
		}
	}
	r.buf = r.buf[:0]
	over, err := r.scanValue(&r.buf, c, r.limit())
	if err != nil {
		return r.fail(r.readErr(err, true))
	}
	r.records++
	if over {
		return r.tooLarge(start)
	}
	*ev, err = decode(r.be, r.buf)
	if err != nil {
		return r.annotate(err, start)
	}
	return nil
}

// fastBuffered decodes the record that starts the buffered input on the
// fast path, consuming it. When it cannot (ok false, nothing consumed), it
// returns the buffered input and the scan of the value that starts it: its
// length n if done.
//
// A record that runs past the buffered input (one in every few dozen of an
// S3 export straddles the end of the buffer) is tried again with the buffer
// filled: it then takes the fast path after all, instead of being copied
// out and decoded by the library, which costs several times as much.
func (r *Reader) fastBuffered(ev *Event) (ok bool, data []byte, n int, done bool) {
	for refilled := false; ; refilled = true {
		data, _ = r.br.Peek(r.br.Buffered())
		if n, ok := r.fast(data, ev); ok {
			r.records++
			r.discard(n)
			return true, nil, 0, false
		}
		st := scanState{}
		n, done = st.scan(data)
		if done || refilled || !r.refill() {
			return false, data, n, done
		}
	}
}

// fast decodes a buffered record on the fast path, which stands in for the
// default JSON library (a Reader given another one, as the benchmarks do,
// uses that one alone).
func (r *Reader) fast(data []byte, ev *Event) (int, bool) {
	if r.be.name != decoder.name {
		return 0, false
	}
	return fastDecode(data, r.limit(), ev, r.raw)
}

// topScalar handles a top-level value that is not an object or an array.
func (r *Reader) topScalar(c byte) error {
	start := r.off
	if c != '"' && !scalarByte[c] {
		return r.fail(r.syntaxErr("expected a JSON value", c))
	}
	r.buf = r.buf[:0]
	over, err := r.scanValue(&r.buf, c, r.limit())
	if err != nil {
		return r.fail(r.readErr(err, true))
	}
	if !over && c != '"' && !validScalar(r.buf) {
		return r.fail(&FileError{Reason: ReasonNotJSON, Offset: start, Err: fmt.Errorf("invalid token %q", truncate(r.buf, 32))})
	}
	r.records++
	if over {
		return r.tooLarge(start)
	}
	return r.annotate(recordErr(ReasonWrongShape, fmt.Errorf("a JSON %s, not an object", jsonKind(c))), start)
}

// recordsKey is the key of the S3 export's array of records.
var recordsKey = []byte(`"Records"`)

// quickObject decodes a top-level object that is already buffered whole and
// cannot have a "Records" key, skipping the key-by-key walk of topObject.
// When the object does not qualify, or is not valid JSON (where the walk
// is the reference for where it ends), ok is false and nothing is consumed.
func (r *Reader) quickObject(ev *Event) (ok bool, err error) {
	// The fast path refuses a top-level "Records" key, and decodes only
	// what decode would (a record with "Records" deeper inside, which the
	// walk of topObject would buffer and decode whole, included).
	ok, data, n, done := r.fastBuffered(ev)
	if ok {
		return true, nil
	}
	if !done || n > r.limit() || bytes.Contains(data[:n], recordsKey) {
		return false, nil
	}
	*ev, err = decode(r.be, data[:n])
	if err != nil {
		var re *RecordError
		if errors.As(err, &re) && (re.Reason == ReasonNotJSON || re.Reason == ReasonTooDeep) {
			return false, nil
		}
	}
	start := r.off
	r.records++
	r.discard(n)
	if err != nil {
		return true, r.annotate(err, start)
	}
	return true, nil
}

// topObject walks a top-level object key by key. If it has a "Records" key
// whose value is an array, the Reader switches to streaming that array and
// streaming is true. Otherwise the object is buffered and decoded as one
// record.
func (r *Reader) topObject(ev *Event) (streaming bool, err error) {
	start := r.off
	limit := r.limit()
	r.discard(1)
	r.buf = append(r.buf[:0], '{')
	over := false
	members := 0
	for {
		c, err := r.skipSpace()
		if err != nil {
			return false, r.fail(r.readErr(err, true))
		}
		if c == '}' {
			r.discard(1)
			over = r.add('}', over, limit)
			break
		}
		if members > 0 {
			if c != ',' {
				return r.badObject(start, over, fmt.Errorf("expected ',' or '}' after object member, found %q", c))
			}
			r.discard(1)
			over = r.add(',', over, limit)
			if c, err = r.skipSpace(); err != nil {
				return false, r.fail(r.readErr(err, true))
			}
		}
		if c != '"' {
			return r.badObject(start, over, fmt.Errorf("expected an object key, found %q", c))
		}
		isRecords := false
		if !over {
			k := len(r.buf)
			if over, err = r.scanValue(&r.buf, '"', limit); err != nil {
				return false, r.fail(r.readErr(err, true))
			}
			isRecords = !over && bytes.Equal(r.buf[k:], recordsKey)
		} else {
			r.key = r.key[:0]
			o, err := r.scanValue(&r.key, '"', 16)
			if err != nil {
				return false, r.fail(r.readErr(err, true))
			}
			isRecords = !o && bytes.Equal(r.key, recordsKey)
		}
		if c, err = r.skipSpace(); err != nil {
			return false, r.fail(r.readErr(err, true))
		}
		if c != ':' {
			return r.badObject(start, over, fmt.Errorf("expected ':' after object key, found %q", c))
		}
		r.discard(1)
		over = r.add(':', over, limit)
		if c, err = r.skipSpace(); err != nil {
			return false, r.fail(r.readErr(err, true))
		}
		if isRecords && c == '[' {
			r.discard(1)
			r.state, r.needComma = stRecords, false
			r.buf = r.buf[:0]
			return true, nil
		}
		if c != '{' && c != '[' && c != '"' && !scalarByte[c] {
			return r.badObject(start, over, fmt.Errorf("expected a value, found %q", c))
		}
		if over {
			_, err = r.scanValue(nil, c, -1)
		} else {
			over, err = r.scanValue(&r.buf, c, limit)
		}
		if err != nil {
			return false, r.fail(r.readErr(err, true))
		}
		members++
	}
	r.records++
	if over {
		return false, r.tooLarge(start)
	}
	*ev, err = decode(r.be, r.buf)
	if err != nil {
		return false, r.annotate(err, start)
	}
	return false, nil
}

// badObject skips the rest of a top-level object that is not valid JSON,
// up to its closing brace, and rejects it as one bad record.
func (r *Reader) badObject(start int64, over bool, detail error) (bool, error) {
	if _, err := r.skipNested(1); err != nil {
		return false, r.fail(r.readErr(err, true))
	}
	r.records++
	if over {
		return false, r.tooLarge(start)
	}
	return false, r.annotate(recordErr(ReasonNotJSON, detail), start)
}

// wrapperMember reads what follows a "Records" array in a top-level object:
// a comma, another member (skipped, or streamed if it is another "Records"
// array) or the closing brace.
func (r *Reader) wrapperMember() error {
	c, err := r.skipSpace()
	if err != nil {
		return r.readErr(err, true)
	}
	if c == '}' {
		r.discard(1)
		r.state = stTop
		return nil
	}
	if r.needComma {
		if c != ',' {
			return r.syntaxErr("expected ',' or '}' after the Records array", c)
		}
		r.discard(1)
		r.needComma = false
		return nil
	}
	if c != '"' {
		return r.syntaxErr("expected an object key", c)
	}
	r.key = r.key[:0]
	o, err := r.scanValue(&r.key, '"', 16)
	if err != nil {
		return r.readErr(err, true)
	}
	isRecords := !o && bytes.Equal(r.key, recordsKey)
	if c, err = r.skipSpace(); err != nil {
		return r.readErr(err, true)
	}
	if c != ':' {
		return r.syntaxErr("expected ':' after object key", c)
	}
	r.discard(1)
	if c, err = r.skipSpace(); err != nil {
		return r.readErr(err, true)
	}
	if isRecords && c == '[' {
		r.discard(1)
		r.state, r.needComma = stRecords, false
		return nil
	}
	if c != '{' && c != '[' && c != '"' && !scalarByte[c] {
		return r.syntaxErr("expected a value", c)
	}
	if _, err := r.scanValue(nil, c, -1); err != nil {
		return r.readErr(err, true)
	}
	r.needComma = true
	return nil
}

// add appends one byte of the element being buffered, unless the element is
// already over the limit. It reports whether the element is over the limit.
func (r *Reader) add(c byte, over bool, limit int) bool {
	if over {
		return true
	}
	if len(r.buf)+1 > limit {
		return true
	}
	r.buf = append(r.buf, c)
	return false
}

func (r *Reader) tooLarge(start int64) error {
	return recordErr(ReasonTooLarge, fmt.Errorf("element %d at byte %d is over %d bytes", r.records, start, r.limit()))
}

// annotate adds the element's position to a record error.
func (r *Reader) annotate(err error, start int64) error {
	var re *RecordError
	if !errors.As(err, &re) {
		return err
	}
	if re.Err == nil {
		re.Err = fmt.Errorf("element %d at byte %d", r.records, start)
	} else {
		re.Err = fmt.Errorf("element %d at byte %d: %w", r.records, start, re.Err)
	}
	return re
}

func (r *Reader) syntaxErr(what string, c byte) error {
	return &FileError{Reason: ReasonNotJSON, Offset: r.off, Err: fmt.Errorf("%s, found %q", what, c)}
}

// readErr classifies an error from the input. inValue reports that the
// stream ended inside a value, where io.EOF means the value is unterminated.
func (r *Reader) readErr(err error, inValue bool) error {
	switch {
	case err == io.EOF:
		if !inValue {
			return io.EOF
		}
		return &FileError{Reason: ReasonUnterminated, Offset: r.off}
	case r.gzipped && errors.Is(err, io.ErrUnexpectedEOF):
		return &FileError{Reason: ReasonTruncatedGzip, Offset: r.off, Err: err}
	case r.gzipped && isGzipErr(err):
		return &FileError{Reason: ReasonBadGzip, Offset: r.off, Err: err}
	}
	return &FileError{Reason: ReasonReadError, Offset: r.off, Err: err}
}

func isGzipErr(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &ce)
}

// Byte classes for the splitter, computed once when the package loads.
var (
	// structural marks the bytes that change the splitter's state outside
	// strings.
	structural = byteClass(`"{}[]`)
	// scalarByte marks the bytes that may make up a number or a literal.
	scalarByte = byteClass("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-.")
	// stringStop marks the bytes that end a run of plain string content.
	stringStop = byteClass(`"\`)
)

// byteClass returns a table marking the bytes of set.
func byteClass(set string) (t [256]bool) {
	for i := 0; i < len(set); i++ {
		t[set[i]] = true
	}
	return t
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// refill moves the buffered input to the front of the buffer and reads
// until the buffer is full or the input ends. It reports whether it added
// anything. A read error is kept for fill to return once the input read
// before it has been consumed, as it would have been without the refill.
func (r *Reader) refill() bool {
	n := r.br.Buffered()
	if n >= r.br.Size() || r.heldErr != nil {
		return false
	}
	_, err := r.br.Peek(r.br.Size())
	if err != nil && err != bufio.ErrBufferFull {
		r.heldErr = err
	}
	return r.br.Buffered() > n
}

// fill returns the buffered input, reading more if none is buffered.
func (r *Reader) fill() ([]byte, error) {
	if n := r.br.Buffered(); n > 0 {
		b, _ := r.br.Peek(n)
		return b, nil
	}
	if err := r.heldErr; err != nil {
		r.heldErr = nil
		return nil, err
	}
	b, err := r.br.Peek(1)
	if len(b) == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
	b, _ = r.br.Peek(r.br.Buffered())
	return b, nil
}

// discard consumes n buffered bytes.
func (r *Reader) discard(n int) {
	d, _ := r.br.Discard(n)
	r.off += int64(d)
}

// skipSpace consumes whitespace and returns the next byte without consuming
// it.
func (r *Reader) skipSpace() (byte, error) {
	for {
		data, err := r.fill()
		if err != nil {
			return 0, err
		}
		i := 0
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		r.discard(i)
		if i < len(data) {
			return data[i], nil
		}
	}
}

// scanValue consumes the JSON value that starts with c, appending its bytes
// to *dst while the total stays within limit (a negative limit appends
// nothing). over reports that the value did not fit. A string, object or
// array that the input ends inside returns the read error (io.EOF if the
// input simply ended).
func (r *Reader) scanValue(dst *[]byte, c byte, limit int) (over bool, err error) {
	if c == '{' || c == '[' || c == '"' {
		return r.scanNested(dst, limit, 0)
	}
	if !scalarByte[c] {
		return false, errBadStart
	}
	for {
		data, err := r.fill()
		if err != nil {
			if err == io.EOF {
				return over, nil
			}
			return over, err
		}
		i := 0
		for i < len(data) && scalarByte[data[i]] {
			i++
		}
		over = r.keep(dst, data[:i], over, limit)
		r.discard(i)
		if i < len(data) {
			return over, nil
		}
	}
}

// skipNested consumes input until depth unmatched closing brackets have
// been seen, outside strings.
func (r *Reader) skipNested(depth int) (bool, error) {
	return r.scanNested(nil, -1, depth)
}

// scanNested consumes a string, object or array (or, with depth > 0, the
// rest of one), tracking strings, escapes and nesting.
func (r *Reader) scanNested(dst *[]byte, limit int, depth int) (over bool, err error) {
	st := scanState{depth: depth}
	for {
		data, err := r.fill()
		if err != nil {
			return over, err
		}
		i, done := st.scan(data)
		over = r.keep(dst, data[:i], over, limit)
		r.discard(i)
		if done {
			return over, nil
		}
	}
}

// scanState is the splitter's position inside a value: the nesting depth
// and whether it is inside a string, just after a backslash.
type scanState struct {
	depth int
	inStr bool
	esc   bool
}

// shortString is how far the splitter looks for the end of a string byte by
// byte before it switches to bytes.IndexByte, which is faster on long
// strings but has a call overhead that dominates on short ones.
const shortString = 32

// scan advances over data. It returns how many bytes belong to the value
// and whether the value ended within them.
func (st *scanState) scan(data []byte) (int, bool) {
	n := len(data)
	i := 0
	for i < n {
		if st.esc {
			st.esc = false
			i++
			continue
		}
		if st.inStr {
			j := i
			for lim := min(n, i+shortString); j < lim && !stringStop[data[j]]; j++ {
			}
			if j == n {
				return n, false
			}
			if j-i == shortString {
				rest := data[j:]
				q := bytes.IndexByte(rest, '"')
				seg := rest
				if q >= 0 {
					seg = rest[:q]
				}
				if k := bytes.IndexByte(seg, '\\'); k >= 0 {
					j += k
				} else if q < 0 {
					return n, false
				} else {
					j += q
				}
			}
			i = j + 1
			if data[j] == '\\' {
				st.esc = true
				continue
			}
			st.inStr = false
			if st.depth <= 0 {
				return i, true
			}
			continue
		}
		for i < n && !structural[data[i]] {
			i++
		}
		if i == n {
			return n, false
		}
		switch data[i] {
		case '"':
			st.inStr = true
		case '{', '[':
			st.depth++
		default: // '}' or ']'
			st.depth--
			if st.depth <= 0 {
				return i + 1, true
			}
		}
		i++
	}
	return n, false
}

// keep appends b to *dst unless that would pass limit. It reports whether
// the value is over the limit.
func (r *Reader) keep(dst *[]byte, b []byte, over bool, limit int) bool {
	if limit < 0 || over {
		return over
	}
	if len(*dst)+len(b) > limit {
		return true
	}
	*dst = append(*dst, b...)
	return false
}

// validScalar reports whether b is a JSON number or literal.
func validScalar(b []byte) bool {
	switch string(b) {
	case "true", "false", "null":
		return true
	}
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && json.Valid(b)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
