package eventlog

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by operations on a closed Log, and by Reader.Next
	// once the Log is closed and the Reader has returned every record.
	ErrClosed = errors.New("eventlog: closed")

	// ErrTooLarge is returned by Append when the framed records exceed
	// Options.MaxBatchBytes.
	ErrTooLarge = errors.New("eventlog: records too large")

	// ErrOutOfRange is returned by NewReader for an offset above
	// NextOffset.
	ErrOutOfRange = errors.New("eventlog: offset out of range")

	// ErrRemoved is returned, wrapped, by NewReader, and by a Reader, for an
	// offset below FirstOffset: the segment that held it was removed by
	// RemoveBefore. A consumer that meets it resumes at FirstOffset.
	ErrRemoved = errors.New("eventlog: records removed")

	// ErrNoRecord is returned by Reader.TryNext when no record is available
	// yet.
	ErrNoRecord = errors.New("eventlog: no record available")

	// ErrLocked is returned by Open when another Log holds the directory.
	ErrLocked = errors.New("eventlog: directory locked by another log")
)

// CorruptionError reports a record that cannot be read back from a segment
// file: a checksum mismatch, an impossible length, a bad segment header, or a
// sealed segment that ends before the records its successor's name promises.
// Crash damage in the last segment is repaired by Open and never reported;
// a CorruptionError means the stored data itself is damaged.
type CorruptionError struct {
	// Segment is the path of the damaged segment file.
	Segment string
	// Offset is the offset of the first record that cannot be read.
	Offset uint64
	// Err describes the damage.
	Err error
}

// Error implements the error interface.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("eventlog: corruption in segment %s at offset %d: %v", e.Segment, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *CorruptionError) Unwrap() error { return e.Err }
