package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Mapped appends. In FsyncInterval mode an Append needs its records only to
// have reached the operating system, and a write(2) per Append was the
// largest cost of a pixel request: the system call, and the Appends that
// queued behind it and had to be woken. So on Linux the active segment is
// also mapped, shared and writable, a window of mapWindow bytes at a time,
// and an Append that finds the commit token free copies its framed records
// into the window while it holds l.mu, and publishes them: no system call,
// no hand-off. Bytes written through a shared mapping are in the page cache
// as soon as they are copied, exactly as write(2) would leave them: they
// survive a crash of the process, and the FsyncInterval syncer's fdatasync
// writes them back with the rest of the file.
//
// The window's bytes are allocated (fallocate) before they are mapped, so a
// full disk is an error from mapRegion, after which the Append takes the
// write(2) path and gets the error there, instead of a SIGBUS on the first
// touch of an unbacked page. Allocating grows the file past the last record:
// the rest of the window is zeros. Rollover and Close cut the file back to
// its records; after a crash, Open recognises a tail of zeros for what it is
// and cuts it without the torn-tail warning.
//
// Everything else (Sync, Roll, rollover, an Append that finds the token held,
// an Append that does not fit the window's segment) takes the token path of
// eventlog.go, whose write(2) goes to the same page cache as the mapping.
// The window belongs to whoever may write: an Append holding l.mu while the
// token is free, or the token holder, which drops the window before it cuts
// or replaces the file.

// mapWindow is the size of the mapped window of the active segment. Only the
// window's pages written so far count in the process's resident memory.
const mapWindow = 4 << 20

// pageSize is the granularity of mapping offsets.
var pageSize = int64(os.Getpagesize())

// errMapUnsupported reports a platform or file system without mapped appends.
var errMapUnsupported = errors.New("mapped appends not supported here")

// appendMappedLocked copies recs, framed (size bytes), into the active
// segment's window and publishes them, if they fit in the segment without a
// rollover. l.mu must be held and the commit token free. It reports false if
// the records must take the token path instead.
func (l *Log) appendMappedLocked(recs [][]byte, size int) (uint64, bool) {
	start := l.size
	end := start + int64(size)
	if end > l.opts.SegmentSize {
		return 0, false
	}
	if end > l.winOff+int64(len(l.win)) && !l.remap(end) {
		return 0, false
	}
	b := l.win[start-l.winOff : start-l.winOff : end-l.winOff]
	for i, r := range recs {
		b = appendRecord(b, r, i < len(recs)-1)
	}
	first := l.next
	l.size = end
	l.next += uint64(len(recs))
	l.writes.Add(1)
	l.countCommitted(len(recs), int64(size))
	l.publishLocked()
	return first, true
}

// remap replaces the window by one that starts at the page holding l.size
// and reaches at least end. It runs under l.mu, once per window (about
// 20 000 pixel events): an fallocate and an mmap of 4 MiB. On failure the window is left unset: a file
// system without fallocate turns mapped appends off for good; any other
// error (a full disk) sends this Append to the token path, whose write(2)
// reports it.
func (l *Log) remap(end int64) bool {
	l.dropWindow()
	off := l.size &^ (pageSize - 1)
	length := roundPage(max(end, off+mapWindow)) - off
	if segEnd := roundPage(l.opts.SegmentSize); off+length > segEnd && segEnd >= end {
		length = segEnd - off
	}
	// Even a failed fallocate may have grown the file: cut it back at the
	// next rollover or Close.
	l.fileEnd = max(l.fileEnd, off+length)
	b, err := mapRegion(l.f, off, length)
	if err != nil {
		if errors.Is(err, errMapUnsupported) {
			l.mapped = false
			l.logger.Info("event log appends use write(2): the file system cannot allocate ahead",
				slog.String("dir", l.dir), slog.Any("error", err))
		}
		return false
	}
	l.win, l.winOff = b, off
	return true
}

// dropWindow unmaps the window, if any. Failing to unmap leaks address
// space, not data: the bytes written are in the page cache either way.
func (l *Log) dropWindow() {
	if l.win == nil {
		return
	}
	if err := unmapRegion(l.win); err != nil {
		l.logger.Warn("unmap event log window", slog.String("dir", l.dir), slog.Any("error", err))
	}
	l.win, l.winOff = nil, 0
}

// trimFile drops the window and cuts the active segment back to its records
// if allocating ahead grew it. The caller holds the commit token.
func (l *Log) trimFile() error {
	l.dropWindow()
	if l.fileEnd <= l.size {
		return nil
	}
	if err := l.f.Truncate(l.size); err != nil {
		return fmt.Errorf("cut segment to its records: %w", err)
	}
	l.fileEnd = l.size
	return nil
}

// roundPage rounds n up to a multiple of the page size.
func roundPage(n int64) int64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// zeroTail reports whether the bytes [from, to) of f are all zero: what a
// crash leaves after the last record when mapped appends had allocated
// ahead.
func zeroTail(f *os.File, from, to int64) (bool, error) {
	buf := make([]byte, 64<<10)
	r := io.NewSectionReader(f, from, to-from)
	for {
		n, err := r.Read(buf)
		if !allZero(buf[:n]) {
			return false, nil
		}
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("read segment tail: %w", err)
		}
	}
}

var zeros = make([]byte, 4096)

func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
