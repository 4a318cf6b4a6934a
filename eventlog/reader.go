package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// readBufSize is the size of a Reader's read-ahead buffer.
const readBufSize = 256 << 10

// errShort reports that a segment ends inside a record a Reader expected.
var errShort = errors.New("segment ends inside a record")

// Reader reads records in offset order. It has its own file descriptors, reads
// only records that are visible (durable in FsyncAlways mode, written in
// FsyncInterval mode), and follows the writer into the active segment and
// across rollovers. A Reader is not safe for concurrent use; Close it when done.
type Reader struct {
	l   *Log
	off uint64 // offset of the next record to return

	f        *os.File // segment holding off; nil before the first read
	path     string
	segFirst uint64
	segEnd   uint64 // first offset of the next segment; math.MaxUint64 while f is active
	pos      int64  // file position of the record at off
	limit    int64  // bytes of f that may be read; -1 until stat'ed for a sealed segment
	avail    uint64 // records below avail are visible
	// toEOF is set when f's segment was removed, perhaps with the segments
	// after it, before the Reader learnt where it ends: it is sealed, and
	// ends where the file ends.
	toEOF bool

	buf    []byte // bytes of f starting at bufOff
	bufOff int64
}

// NewReader returns a Reader that starts at offset from, which must lie in
// [FirstOffset, NextOffset]; reading from NextOffset waits for the next
// Append. It returns an error wrapping ErrRemoved for an offset below
// FirstOffset and ErrOutOfRange for one above NextOffset.
func (l *Log) NewReader(from uint64) (*Reader, error) {
	l.mu.Lock()
	first, next := l.segs[0], l.visibleOff
	l.mu.Unlock()
	if from < first {
		return nil, fmt.Errorf("new reader at %d: the log now starts at %d, earlier records were removed (resume at FirstOffset): %w", from, first, ErrRemoved)
	}
	if from > next {
		return nil, fmt.Errorf("new reader at %d (log holds [%d, %d)): %w", from, first, next, ErrOutOfRange)
	}
	return &Reader{l: l, off: from}, nil
}

// Offset returns the offset of the record the next call to Next will return.
func (r *Reader) Offset() uint64 { return r.off }

// Next returns the next record and its offset, waiting until one is visible
// or ctx is done. The returned slice is valid only until the next call on r;
// copy it to keep it.
//
// Next returns ctx.Err() if ctx is done first, ErrClosed once the Log is
// closed and every visible record was returned, a *CorruptionError if the
// record is damaged on disk, and an error wrapping ErrRemoved if the record
// was removed by RemoveBefore before the Reader opened its segment. A Reader
// that has a segment open reads it to its end even if it is removed
// meanwhile.
func (r *Reader) Next(ctx context.Context) (rec []byte, offset uint64, err error) {
	for {
		if r.off < r.avail {
			return r.read()
		}
		wait, err := r.refresh()
		if err != nil {
			return nil, 0, err
		}
		if r.off < r.avail {
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// TryNext is Next without waiting: it returns ErrNoRecord when no record is
// visible yet (ErrClosed once the Log is closed and drained). The returned
// slice is valid only until the next call on r.
func (r *Reader) TryNext() (rec []byte, offset uint64, err error) {
	if r.off >= r.avail {
		if _, err := r.refresh(); err != nil {
			return nil, 0, err
		}
		if r.off >= r.avail {
			return nil, 0, ErrNoRecord
		}
	}
	return r.read()
}

// Close releases the Reader's file descriptor.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.buf = nil, nil
	if err != nil {
		return fmt.Errorf("close segment: %w", err)
	}
	return nil
}

// refresh updates what the Reader may read from the Log's published state.
// If nothing new is visible it returns a channel that is closed when more
// becomes visible, or ErrClosed if the Log is closed and has flushed
// everything.
func (r *Reader) refresh() (<-chan struct{}, error) {
	l := r.l
	l.mu.Lock()
	r.avail = l.visibleOff
	if r.f != nil && r.segEnd == math.MaxUint64 && !r.toEOF {
		r.updateSegmentLocked()
	}
	if r.off < r.avail {
		l.mu.Unlock()
		return nil, nil
	}
	if l.drained {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	if l.notify == nil {
		l.notify = make(chan struct{})
	}
	wait := l.notify
	l.mu.Unlock()
	return wait, nil
}

// updateSegmentLocked sets segEnd and limit for the open segment from the
// Log's segment list. l.mu must be held.
func (r *Reader) updateSegmentLocked() {
	segs := r.l.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i] > r.segFirst })
	switch {
	case i == 0:
		// RemoveBefore removed the segment, and perhaps its successor:
		// segs[0] need not be where it ends. Only sealed segments are
		// removed, so it ends at the end of the file.
		r.segEnd, r.limit, r.toEOF = math.MaxUint64, -1, true
	case i < len(segs):
		// Sealed: its successor exists, so the file will not change again.
		r.segEnd, r.limit = segs[i], -1
	default:
		r.segEnd, r.limit = math.MaxUint64, r.l.visiblePos
	}
}

// read returns the record at r.off, which must be visible.
func (r *Reader) read() ([]byte, uint64, error) {
	for {
		if r.f == nil || r.off >= r.segEnd {
			if err := r.openSegment(); err != nil {
				return nil, 0, err
			}
			continue
		}
		if r.limit < 0 {
			fi, err := r.f.Stat()
			if err != nil {
				return nil, 0, fmt.Errorf("stat segment: %w", err)
			}
			r.limit = fi.Size()
		}
		if r.toEOF && r.pos >= r.limit {
			r.segEnd = r.off // the removed segment ends here
			continue
		}
		break
	}
	rec, err := r.record(true)
	if err != nil {
		return nil, 0, err
	}
	off := r.off
	r.off++
	return rec, off, nil
}

// openSegment opens the segment holding r.off and positions the Reader at
// r.off's record. On error no segment is left open, so the next call starts
// over.
func (r *Reader) openSegment() error {
	err := r.openSegmentAt()
	if err != nil && r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
	return err
}

func (r *Reader) openSegmentAt() error {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
	r.buf, r.bufOff = r.buf[:0], 0
	r.toEOF = false

	l := r.l
	l.mu.Lock()
	segs := l.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i] > r.off }) - 1
	if i < 0 {
		first := segs[0]
		l.mu.Unlock()
		return fmt.Errorf("read offset %d: the log now starts at %d, earlier records were removed (resume at FirstOffset): %w", r.off, first, ErrRemoved)
	}
	r.segFirst = segs[i]
	r.path = filepath.Join(l.dir, segmentName(r.segFirst))
	// Open under l.mu so that RemoveBefore cannot remove the file between
	// the lookup and the open.
	f, err := os.Open(r.path)
	if err != nil {
		l.mu.Unlock()
		return fmt.Errorf("open segment: %w", err)
	}
	r.f = f
	r.updateSegmentLocked()
	r.avail = l.visibleOff
	l.mu.Unlock()

	if r.limit < 0 {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat segment: %w", err)
		}
		r.limit = fi.Size()
	}
	r.pos = 0
	h, err := r.bytes(segmentHeaderSize)
	if err == nil {
		err = checkSegmentHeader(h, r.segFirst)
	}
	if err != nil {
		return r.corrupt(r.segFirst, err)
	}
	r.pos = segmentHeaderSize
	// Skip to r.off. Offsets are dense, so it is the (r.off-segFirst)th record.
	for o := r.segFirst; o < r.off; o++ {
		if _, err := r.record(false); err != nil {
			var ce *CorruptionError
			if errors.As(err, &ce) {
				ce.Offset = o
			}
			return err
		}
	}
	return nil
}

// record reads the record at r.pos and advances past it, verifying its
// checksum if verify is set. The returned payload aliases r.buf.
func (r *Reader) record(verify bool) ([]byte, error) {
	h, err := r.bytes(recordHeaderSize)
	if err != nil {
		return nil, r.corrupt(r.off, err)
	}
	rh := parseRecordHeader(h)
	if int64(rh.length) > r.limit-r.pos-recordHeaderSize {
		return nil, r.corrupt(r.off, fmt.Errorf("record length %d exceeds segment", rh.length))
	}
	b, err := r.bytes(recordHeaderSize + int(rh.length))
	if err != nil {
		return nil, r.corrupt(r.off, err)
	}
	payload := b[recordHeaderSize:]
	if verify && !rh.valid(payload) {
		return nil, r.corrupt(r.off, errors.New("checksum mismatch"))
	}
	r.pos += int64(len(b))
	return payload, nil
}

// bytes returns the n bytes of the segment at r.pos, reading ahead into
// r.buf. It never reads at or past r.limit.
func (r *Reader) bytes(n int) ([]byte, error) {
	if start := r.pos - r.bufOff; start >= 0 && start+int64(n) <= int64(len(r.buf)) {
		return r.buf[start : start+int64(n)], nil
	}
	if int64(n) > r.limit-r.pos {
		return nil, errShort
	}
	want := min(int64(max(n, readBufSize)), r.limit-r.pos)
	if int64(cap(r.buf)) < want {
		r.buf = make([]byte, max(want, readBufSize))
	}
	r.buf = r.buf[:want]
	m, err := r.f.ReadAt(r.buf, r.pos)
	r.buf, r.bufOff = r.buf[:m], r.pos
	if m < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, errShort
		}
		return nil, &ioError{fmt.Errorf("read segment: %w", err)}
	}
	return r.buf[:n], nil
}

// ioError marks an I/O failure, as opposed to damaged data.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// corrupt wraps a read failure at offset: I/O errors are returned as they are,
// damaged data as a *CorruptionError.
func (r *Reader) corrupt(offset uint64, err error) error {
	var ioe *ioError
	if errors.As(err, &ioe) {
		return ioe.err
	}
	return &CorruptionError{Segment: r.path, Offset: offset, Err: err}
}
