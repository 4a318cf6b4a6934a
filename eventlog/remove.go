package eventlog

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
)

// FirstOffset returns the offset of the oldest record still on disk: the
// first offset of the oldest segment. It equals NextOffset when the log holds
// no records, for instance after Roll and RemoveBefore(NextOffset()).
func (l *Log) FirstOffset() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0]
}

// RemoveBefore removes, oldest first, every closed segment all of whose
// records have offsets below offset, and fsyncs the directory; it returns how
// many it removed. A segment that holds offset itself, or any later record,
// is kept, and so is the active segment, whatever offset is: to remove the
// records of the active segment, call Roll first. Removing is how raw events
// leave the log once they are in the analytical store and their retention has
// passed, or after a deletion request.
//
// RemoveBefore is safe with concurrent Appends and Readers. A Reader that has
// a removed segment open reads it to its end; a Reader, or NewReader, that
// needs a removed segment later returns an error wrapping ErrRemoved.
// Because segments go oldest first, a crash part-way leaves the log starting
// at a later segment, never with a gap. If a file cannot be removed,
// RemoveBefore returns the error and that segment and the later ones stay in
// the log. It returns ErrClosed after Close.
func (l *Log) RemoveBefore(offset uint64) (removed int, err error) {
	l.removing.Lock()
	defer l.removing.Unlock()

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	// Segment i holds [segs[i], segs[i+1]); the last segment is active.
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1] <= offset {
		n++
	}
	// Readers no longer find these segments once they leave l.segs, and a
	// Reader opens a segment under l.mu, so no file is removed between a
	// Reader's lookup and its open.
	drop := slices.Clone(l.segs[:n])
	l.segs = l.segs[n:]
	l.mu.Unlock()
	if n == 0 {
		return 0, nil
	}

	for i, first := range drop {
		path := filepath.Join(l.dir, segmentName(first))
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("remove event log segment %s: %w", path, rerr)
			l.mu.Lock()
			l.segs = append(slices.Clone(drop[i:]), l.segs...)
			l.mu.Unlock()
			break
		}
		removed++
	}
	l.mu.Lock()
	l.metrics.segments.Set(float64(len(l.segs)))
	first := l.segs[0]
	l.mu.Unlock()
	if removed == 0 {
		return 0, err
	}
	l.metrics.removed.Add(float64(removed))
	if serr := syncDir(l.dir); serr != nil && err == nil {
		err = fmt.Errorf("remove event log segments: %w", serr)
	}
	l.logger.Info("removed event log segments", slog.String("dir", l.dir),
		slog.Int("segments", removed), slog.Uint64("first_offset", first))
	return removed, err
}

// Roll closes the active segment, making it durable, and starts a new one at
// the next offset, if the active segment holds any record; on an empty active
// segment it does nothing. After Roll returns, every record whose Append
// returned before Roll was called is in a closed segment, so that
// RemoveBefore(NextOffset()) can remove it: after a deletion request, once
// the log has been loaded into the analytical store up to NextOffset, Roll
// and RemoveBefore leave no raw event on disk. Records of Appends that run
// concurrently with Roll may land on either side.
//
// Roll returns ErrClosed after Close, and the sticky error if the log failed;
// a failure to start the new segment makes the log fail, as a rollover does.
func (l *Log) Roll() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return err
	}
	// The current batch holds only records of Appends still waiting, which
	// may go to the new segment; the token holder rolls over before writing
	// it.
	b := l.cur
	if b == nil {
		b = l.newBatchLocked()
		l.cur = b
	}
	b.roll = true
	wake := !l.busy
	l.busy = true
	l.mu.Unlock()
	if wake {
		// The token was free: hand it to the writer goroutine.
		l.kick <- struct{}{}
	}
	<-b.done
	return b.err
}
