package cloudtrail

import (
	"errors"
	"strconv"
)

// ErrMalformed is matched (with errors.Is) by every error that rejects one
// record: the input is not JSON, has the wrong shape, lacks a field the
// pipeline needs, or is too large or too deeply nested. A Reader that returns such an error can
// still be read: the next call to Next moves on to the next element.
var ErrMalformed = errors.New("cloudtrail: malformed record")

// ErrFileCorrupt is matched (with errors.Is) by errors that make the rest of
// a stream unreadable: a truncated or corrupt gzip stream, bytes that are not
// JSON between top-level values, a value that never ends, or an I/O error.
// After such an error the Reader returns io.EOF; events already returned
// remain valid.
var ErrFileCorrupt = errors.New("cloudtrail: file corrupt")

// Reasons of a RecordError: why one record or element was rejected. They
// are short and stable, so that callers can count rejections by reason.
const (
	ReasonNotJSON            = "not JSON"                  // not valid JSON (also a FileError reason)
	ReasonWrongShape         = "wrong shape"               // valid JSON, but not a record or envelope object
	ReasonNotEnvelope        = "not a CloudTrail envelope" // an EventBridge event of another detail-type
	ReasonMissingTime        = "missing eventTime"         // no usable eventTime or @timestamp
	ReasonMissingIdentity    = "missing userIdentity"      // userIdentity absent, null or not an object
	ReasonMissingSource      = "missing eventSource"       // eventSource absent or empty
	ReasonMissingName        = "missing eventName"         // eventName absent or empty
	ReasonUnsupportedVersion = "unsupported eventVersion"  // an eventVersion whose major version is not 1
	ReasonTooLarge           = "too large"                 // larger than the record size limit
	ReasonTooDeep            = "too deep"                  // arrays and objects nested over 10,000 levels
	ReasonDecoderPanic       = "decoder panic"             // the JSON library panicked (a bug; never seen)
)

// Reasons of a FileError: why the rest of a stream cannot be read.
// ReasonNotJSON is used too, for bytes that cannot start a JSON value.
const (
	ReasonTruncatedGzip = "truncated gzip"     // the gzip stream ends early
	ReasonBadGzip       = "bad gzip"           // a corrupt gzip header, block or checksum
	ReasonUnterminated  = "unterminated value" // the input ends inside a string, array or object
	ReasonReadError     = "read error"         // the underlying reader failed
)

// RecordError reports one record that could not be decoded. Reason is one of
// the short, stable Reason constants; Err carries the detail. Every
// RecordError matches ErrMalformed.
type RecordError struct {
	Reason string
	Err    error
}

// Error returns the reason followed by the detail, if any.
func (e *RecordError) Error() string {
	if e.Err == nil {
		return "cloudtrail: " + e.Reason
	}
	return "cloudtrail: " + e.Reason + ": " + e.Err.Error()
}

// Unwrap returns ErrMalformed and the detail error, so that both
// errors.Is(err, ErrMalformed) and checks against the detail work.
func (e *RecordError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}

// FileError reports a problem that ends the reading of a stream. Offset is
// the position in the (decompressed) stream where the problem was found.
// Every FileError matches ErrFileCorrupt.
type FileError struct {
	Reason string
	Offset int64
	Err    error
}

// Error returns the reason, the offset and the detail, if any.
func (e *FileError) Error() string {
	s := "cloudtrail: " + e.Reason + " at byte " + strconv.FormatInt(e.Offset, 10)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrFileCorrupt and the underlying error, if any.
func (e *FileError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrFileCorrupt}
	}
	return []error{ErrFileCorrupt, e.Err}
}

func recordErr(reason string, err error) error {
	return &RecordError{Reason: reason, Err: err}
}
