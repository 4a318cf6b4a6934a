package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const lockName = "LOCK"

// FsyncMode says when appended records are made durable.
type FsyncMode int

const (
	// FsyncAlways makes Append return only after its records have been
	// written and fdatasync'ed (group commit: one fdatasync covers every
	// Append waiting at the time). Readers see only fdatasync'ed records.
	FsyncAlways FsyncMode = iota
	// FsyncInterval makes Append return once its records have been written
	// with write(2), or on Linux copied into a shared mapping of the segment
	// (the same page cache); a background goroutine fdatasyncs every
	// Options.FsyncInterval. Records survive a crash of the process but the
	// last interval may be lost on power failure. Readers see written
	// records.
	FsyncInterval
)

// String returns the mode's name.
func (m FsyncMode) String() string {
	switch m {
	case FsyncAlways:
		return "always"
	case FsyncInterval:
		return "interval"
	default:
		return fmt.Sprintf("FsyncMode(%d)", int(m))
	}
}

// Options configure a Log. A zero field takes its value from DefaultOptions.
type Options struct {
	// SegmentSize is the size in bytes at which the active segment is closed
	// and a new one started. A segment exceeds it only if one Append alone is
	// larger. Default 128 MiB.
	SegmentSize int64
	// Fsync says when records are made durable. Default FsyncAlways.
	Fsync FsyncMode
	// FsyncInterval is the period of the background fdatasync in
	// FsyncInterval mode. Default 5ms.
	FsyncInterval time.Duration
	// MaxBatchBytes caps the bytes (record headers included) of one group
	// commit write; it is also the largest single Append. It is lowered to
	// fit in a segment (and below 2 GiB) if needed. Default 4 MiB.
	MaxBatchBytes int

	// noMap turns mapped appends off (tests of the write(2) path).
	noMap bool
}

// DefaultOptions returns the default Options: 128 MiB segments, FsyncAlways,
// a 5ms interval for FsyncInterval mode and 4 MiB group-commit batches.
func DefaultOptions() Options {
	return Options{
		SegmentSize:   128 << 20,
		Fsync:         FsyncAlways,
		FsyncInterval: 5 * time.Millisecond,
		MaxBatchBytes: 4 << 20,
	}
}

// minSegmentSize is the smallest SegmentSize accepted.
const minSegmentSize = 512

// withDefaults fills zero fields from DefaultOptions and validates the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.SegmentSize == 0 {
		o.SegmentSize = d.SegmentSize
	}
	if o.FsyncInterval == 0 {
		o.FsyncInterval = d.FsyncInterval
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = d.MaxBatchBytes
	}
	switch {
	case o.SegmentSize < minSegmentSize:
		return o, fmt.Errorf("validate options: SegmentSize %d below minimum %d", o.SegmentSize, minSegmentSize)
	case o.Fsync != FsyncAlways && o.Fsync != FsyncInterval:
		return o, fmt.Errorf("validate options: unknown fsync mode %v", o.Fsync)
	case o.FsyncInterval < 0:
		return o, fmt.Errorf("validate options: negative FsyncInterval %v", o.FsyncInterval)
	case o.MaxBatchBytes < 0:
		return o, fmt.Errorf("validate options: negative MaxBatchBytes %d", o.MaxBatchBytes)
	}
	if limit := min(o.SegmentSize-segmentHeaderSize, maxRecordLen); int64(o.MaxBatchBytes) > limit {
		o.MaxBatchBytes = int(limit)
	}
	return o, nil
}

// batch is a group of Appends that found the commit token taken: they are
// written together by one write(2) and made durable by one fdatasync.
type batch struct {
	buf     []byte // framed records
	records int
	sync    bool // fdatasync even in FsyncInterval mode (Sync was called)
	roll    bool // start a new segment before writing, if the active one holds records (Roll was called)

	// Set by the token holder before done is closed.
	first uint64
	err   error
	done  chan struct{}
}

// Log is an append-only, durable log of records in segment files. Its methods
// are safe for concurrent use.
type Log struct {
	dir     string
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	lock    *os.File

	kick       chan struct{} // hands the commit token to the writer goroutine; capacity 1
	quit       chan struct{} // closed by Close to stop the writer goroutine
	writerDone chan struct{}
	syncerQuit chan struct{}
	syncerDone chan struct{}

	// Owned by the holder of the commit token (see busy), and by Open and
	// Close. fileMu guards f against the FsyncInterval syncer: the token
	// holder takes it to replace f, the syncer to fdatasync f.
	fileMu sync.Mutex
	f      *os.File
	size   int64         // bytes in the active segment
	next   uint64        // offset of the next record to write
	frame  []byte        // framing buffer of the Appends that commit themselves
	writes atomic.Uint64 // successful writes, for the FsyncInterval syncer

	// Mapped appends (mapped.go). win maps the active segment's bytes
	// [winOff, winOff+len(win)); the file reaches at least fileEnd, zeros
	// after l.size. Owned like f, and also by an Append that holds mu while
	// the commit token is free.
	mapped  bool
	win     []byte
	winOff  int64
	fileEnd int64

	// removing serialises RemoveBefore calls; it is taken before mu.
	removing sync.Mutex

	mu sync.Mutex
	// busy is the commit token: only its holder writes to the active
	// segment. An Append that finds it free takes it and commits its own
	// records; one that finds it taken adds them to the pending batch and
	// waits. Before releasing the token its holder commits every pending
	// batch, or hands the token to the writer goroutine, so busy is set
	// whenever a batch is pending.
	busy       bool
	idle       *sync.Cond    // on mu; broadcast when the token of a closed Log is released
	closed     bool          // set by Close: Append and Sync refuse new records
	err        error         // sticky: set when the log can no longer write safely
	cur        *batch        // batch accepting records; nil if none
	queue      []*batch      // full batches waiting for the token, oldest first
	spare      []byte        // a committed batch buffer to reuse
	segs       []uint64      // first offsets of the segments, ascending; the last is active
	visibleOff uint64        // records below visibleOff are visible to readers
	visiblePos int64         // bytes of the active segment visible to readers
	notify     chan struct{} // closed when more becomes visible; nil if no reader waits
	drained    bool          // Close has flushed everything: nothing more will become visible
}

// Open opens the log in dir, creating dir and the first segment if needed,
// and recovers from a crash: the last segment is scanned and truncated after
// its last complete Append. logger may be nil; metrics are registered on reg
// if reg is not nil and unregistered by Close.
//
// Open returns ErrLocked if another Log has dir open, and a *CorruptionError
// if the last segment's header is damaged.
func Open(dir string, opts Options, logger *slog.Logger, reg prometheus.Registerer) (_ *Log, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	l := &Log{
		dir:        dir,
		opts:       opts,
		logger:     logger,
		metrics:    m,
		lock:       lock,
		kick:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	l.idle = sync.NewCond(&l.mu)
	defer func() {
		if err != nil {
			if l.f != nil {
				_ = l.f.Close()
			}
			m.unregister()
			_ = lock.Close()
		}
	}()
	if err := l.recover(); err != nil {
		return nil, err
	}
	l.visibleOff, l.visiblePos = l.next, l.size
	l.fileEnd = l.size
	l.mapped = opts.Fsync == FsyncInterval && canMap && !opts.noMap
	m.segments.Set(float64(len(l.segs)))
	m.nextOffset.Set(float64(l.next))
	logger.Info("opened event log", slog.String("dir", dir), slog.Int("segments", len(l.segs)),
		slog.Uint64("first_offset", l.segs[0]), slog.Uint64("next_offset", l.next),
		slog.String("fsync", opts.Fsync.String()))

	go l.run()
	if opts.Fsync == FsyncInterval {
		l.syncerQuit, l.syncerDone = make(chan struct{}), make(chan struct{})
		go l.syncLoop()
	}
	return l, nil
}

// recover lists the segments, removes leftovers of interrupted segment
// creation, and opens the last segment for appending after its last complete
// Append, truncating anything after it.
func (l *Log) recover() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("read log directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, segmentSuffix+tmpSuffix) {
			if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
				return fmt.Errorf("remove temporary segment: %w", err)
			}
			continue
		}
		if first, ok := parseSegmentName(name); ok && e.Type().IsRegular() {
			l.segs = append(l.segs, first)
		}
	}
	slices.Sort(l.segs)

	if len(l.segs) == 0 {
		f, err := createSegment(l.dir, 0)
		if err != nil {
			return err
		}
		l.f, l.segs, l.size = f, []uint64{0}, segmentHeaderSize
		return nil
	}

	first := l.segs[len(l.segs)-1]
	path := filepath.Join(l.dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	l.f = f
	res, err := scanSegment(f, first)
	if err != nil {
		return &CorruptionError{Segment: path, Offset: first, Err: err}
	}
	zeros := false
	if res.good < res.size {
		if zeros, err = zeroTail(f, res.good, res.size); err != nil {
			return err
		}
		if err := f.Truncate(res.good); err != nil {
			return fmt.Errorf("truncate segment: %w", err)
		}
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("sync segment: %w", err)
		}
	}
	switch {
	case zeros:
		// Allocated ahead by mapped appends: not a torn write.
		l.logger.Info("cut the zeros allocated ahead after the last event log record",
			slog.String("segment", path), slog.Int64("kept_bytes", res.good), slog.Int64("cut_bytes", res.size-res.good))
	case res.good < res.size:
		l.metrics.truncations.Inc()
		l.logger.Warn("truncated torn tail of event log segment",
			slog.String("segment", path), slog.String("reason", res.reason),
			slog.Int64("kept_bytes", res.good), slog.Int64("truncated_bytes", res.size-res.good),
			slog.Uint64("kept_records", res.records))
	}
	l.size = res.good
	l.next = first + res.records
	return nil
}

// Append appends recs as one batch and returns the offset of the first; the
// others follow consecutively. In FsyncAlways mode it returns once the
// records are on stable storage, in FsyncInterval mode once they are written.
// After a crash either all of recs are in the log or none is. The log copies
// recs before Append returns; the caller may reuse them afterwards, whatever
// the result.
//
// If ctx is done before the records are enqueued, nothing is appended. If it
// is done while Append waits for another Append to write its records, Append
// returns ctx.Err() but the records may still be written: the caller cannot
// tell, as with a timeout. An Append that finds no write in progress writes
// its records itself and does not look at ctx while it does.
//
// Append returns ErrClosed after Close, ErrTooLarge if the framed records
// exceed Options.MaxBatchBytes, and the I/O error if the write failed; after
// a failed fdatasync every Append fails until the log is reopened.
func (l *Log) Append(ctx context.Context, recs ...[]byte) (first uint64, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	size := 0
	for _, r := range recs {
		size += recordHeaderSize + len(r)
	}
	if size > l.opts.MaxBatchBytes {
		return 0, fmt.Errorf("append %d bytes: %w", size, ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return 0, err
	}
	if !l.busy {
		// No write in progress and, therefore, nothing pending: copy recs
		// into the mapped window, or commit them here, without waking the
		// writer goroutine.
		if l.mapped {
			if first, ok := l.appendMappedLocked(recs, size); ok {
				l.mu.Unlock()
				return first, nil
			}
		}
		l.busy = true
		l.mu.Unlock()
		return l.appendInline(recs)
	}
	b := l.cur
	if b == nil || b.records > 0 && len(b.buf)+size > l.opts.MaxBatchBytes {
		if b != nil {
			l.queue = append(l.queue, b)
		}
		b = l.newBatchLocked()
		l.cur = b
	}
	index := b.records
	for i, r := range recs {
		b.buf = appendRecord(b.buf, r, i < len(recs)-1)
	}
	b.records += len(recs)
	l.mu.Unlock()

	if done := ctx.Done(); done != nil {
		select {
		case <-b.done:
		case <-done:
			return 0, ctx.Err()
		}
	} else {
		<-b.done
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.first + uint64(index), nil
}

// maxInlineBatches is how many pending batches an Append that committed its
// own records commits for others before it returns, in FsyncInterval mode (a
// write is cheap there; in FsyncAlways mode the writer goroutine takes over
// at once, so that the Append does not wait for a second fdatasync). Bounded
// so that one Append does not write for others forever under load.
const maxInlineBatches = 4

// maxFrameBuf is the largest framing buffer kept for the next inline Append.
const maxFrameBuf = 64 << 10

// appendInline commits recs as the holder of the commit token, then commits
// or hands on what other Appends left pending meanwhile and gives up the
// token.
func (l *Log) appendInline(recs [][]byte) (uint64, error) {
	buf := l.frame[:0]
	for i, r := range recs {
		buf = appendRecord(buf, r, i < len(recs)-1)
	}
	first, err := l.commit(buf, len(recs), false, false)
	if cap(buf) <= maxFrameBuf {
		l.frame = buf[:0]
	} else {
		l.frame = nil
	}
	limit := 0
	if l.opts.Fsync == FsyncInterval {
		limit = maxInlineBatches
	}
	l.mu.Lock()
	if err == nil {
		l.publishLocked()
	}
	l.commitPending(limit)
	if err != nil {
		return 0, err
	}
	return first, nil
}

// newBatchLocked returns an empty batch, reusing a spare buffer. l.mu must be
// held.
func (l *Log) newBatchLocked() *batch {
	b := &batch{buf: l.spare[:0], done: make(chan struct{})}
	l.spare = nil
	return b
}

// Sync waits until every record appended before the call is written and
// fdatasync'ed. In FsyncAlways mode that is already true of every record whose
// Append returned.
func (l *Log) Sync() error {
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
	b := l.cur
	if b == nil {
		b = l.newBatchLocked()
		l.cur = b
	}
	b.sync = true
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

// run is the writer goroutine. It holds the commit token only when it was
// handed over (by an Append that left batches pending, or by Sync), and then
// commits batches until none is pending.
func (l *Log) run() {
	defer close(l.writerDone)
	for {
		select {
		case <-l.kick:
		case <-l.quit:
			return
		}
		l.mu.Lock()
		l.commitPending(-1)
	}
}

// commitPending is called by the holder of the commit token with l.mu held,
// and returns with l.mu released and the token given up. It commits pending
// batches, oldest first, at most limit of them (all if limit is negative),
// publishes each to readers and wakes its Appends; then it releases the
// token, or hands it to the writer goroutine if batches are still pending.
func (l *Log) commitPending(limit int) {
	var prev *batch
	for limit != 0 {
		b := l.takeBatchLocked()
		if b == nil {
			break
		}
		limit--
		sticky := l.err
		l.mu.Unlock()
		if prev != nil {
			close(prev.done)
			prev = nil
		}
		if sticky != nil {
			b.err = sticky
		} else {
			b.first, b.err = l.commit(b.buf, b.records, b.sync, b.roll)
		}
		l.mu.Lock()
		if b.err == nil {
			l.publishLocked()
		}
		if cap(b.buf) <= l.opts.MaxBatchBytes {
			l.spare = b.buf[:0]
		}
		b.buf = nil
		prev = b
	}
	handOff := len(l.queue) > 0 || l.cur != nil
	if !handOff {
		l.busy = false
		if l.closed {
			l.idle.Broadcast()
		}
	}
	l.mu.Unlock()
	if prev != nil {
		close(prev.done)
	}
	if handOff {
		// Cannot block: the writer goroutine took the last kick before it
		// gave up the token we hold.
		l.kick <- struct{}{}
	}
}

// takeBatchLocked returns the oldest pending batch, or nil. l.mu must be held.
func (l *Log) takeBatchLocked() *batch {
	if len(l.queue) > 0 {
		b := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		return b
	}
	b := l.cur
	l.cur = nil
	return b
}

// publishLocked makes everything committed visible to readers and wakes the
// readers waiting for it. l.mu must be held.
func (l *Log) publishLocked() {
	l.visibleOff, l.visiblePos = l.next, l.size
	if l.notify != nil {
		close(l.notify)
		l.notify = nil
	}
}

// commit writes buf, holding records framed records, to the active segment
// (rolling over first if it would not fit, or if roll is set) and fdatasyncs
// it if the mode or sync requires. It returns the offset of the first
// record. A failed write is truncated away and fails only this commit; a
// failed fdatasync or rollover makes the log fail. The caller must hold the
// commit token and publish the records to readers.
func (l *Log) commit(buf []byte, records int, sync, roll bool) (first uint64, err error) {
	n := int64(len(buf))
	if l.size > segmentHeaderSize && (roll || n > 0 && l.size+n > l.opts.SegmentSize) {
		if err := l.rollover(); err != nil {
			return 0, l.fail(err)
		}
	}
	if n > 0 {
		if _, err := l.f.WriteAt(buf, l.size); err != nil {
			err = fmt.Errorf("write segment: %w", err)
			// Remove a partial write so that the next batch follows the
			// last good record; if that fails the file can't be trusted.
			l.dropWindow()
			if terr := l.f.Truncate(l.size); terr != nil {
				return 0, l.fail(errors.Join(err, fmt.Errorf("truncate segment: %w", terr)))
			}
			l.fileEnd = l.size
			return 0, err
		}
		l.writes.Add(1)
	}
	if l.opts.Fsync == FsyncAlways && n > 0 || sync {
		if err := l.sync(l.f); err != nil {
			// The kernel may have dropped the dirty pages; nothing written
			// from now on could be trusted to be durable.
			return 0, l.fail(err)
		}
	}
	first = l.next
	l.size += n
	l.fileEnd = max(l.fileEnd, l.size)
	l.next += uint64(records)
	l.countCommitted(records, n)
	return first, nil
}

// countCommitted updates the metrics for n bytes of records just committed.
func (l *Log) countCommitted(records int, n int64) {
	if records > 0 {
		l.metrics.records.Add(float64(records))
		l.metrics.bytes.Add(float64(n))
		l.metrics.batch.Observe(float64(records))
		l.metrics.nextOffset.Set(float64(l.next))
	}
}

// rollover makes the active segment durable and starts a new one at l.next.
// Any error leaves the log failed: a segment file may have been created whose
// name claims records that were then written to its predecessor.
func (l *Log) rollover() error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	if err := l.trimFile(); err != nil {
		return err
	}
	if err := l.sync(l.f); err != nil {
		return err
	}
	f, err := createSegment(l.dir, l.next)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		_ = f.Close()
		return fmt.Errorf("close segment: %w", err)
	}
	l.f, l.size, l.fileEnd = f, segmentHeaderSize, segmentHeaderSize

	l.mu.Lock()
	l.segs = append(l.segs, l.next)
	l.visiblePos = l.size
	l.metrics.segments.Set(float64(len(l.segs)))
	l.mu.Unlock()
	return nil
}

// sync fdatasyncs f and records the duration.
func (l *Log) sync(f *os.File) error {
	start := time.Now()
	err := fdatasync(f)
	l.metrics.fsync.Observe(time.Since(start).Seconds())
	if err != nil {
		return fmt.Errorf("sync segment %s: %w", f.Name(), err)
	}
	return nil
}

// fail makes err sticky: every later Append and Sync returns it. It returns
// the sticky error.
func (l *Log) fail(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = fmt.Errorf("eventlog failed, reopen to recover: %w", err)
		l.logger.Error("event log failed", slog.String("dir", l.dir), slog.Any("error", err))
	}
	return l.err
}

// stickyErr returns the error set by fail, if any.
func (l *Log) stickyErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// syncLoop fdatasyncs the active segment every FsyncInterval while there are
// unsynced writes (FsyncInterval mode).
func (l *Log) syncLoop() {
	defer close(l.syncerDone)
	t := time.NewTicker(l.opts.FsyncInterval)
	defer t.Stop()
	var synced uint64
	for {
		select {
		case <-l.syncerQuit:
			return
		case <-t.C:
		}
		w := l.writes.Load()
		if w == synced {
			continue
		}
		l.fileMu.Lock()
		err := l.sync(l.f)
		l.fileMu.Unlock()
		if err != nil {
			l.fail(err)
			return
		}
		synced = w
	}
}

// NextOffset returns the offset one past the last record visible to readers:
// the last durable record in FsyncAlways mode, the last written one in
// FsyncInterval mode.
func (l *Log) NextOffset() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.visibleOff
}

// Verify reads every retained record and checks its checksum, and returns a
// *CorruptionError for the first damaged record. It reads the whole log, so it
// is meant for an operator's check, not for the hot path.
func (l *Log) Verify(ctx context.Context) error {
	r, err := l.NewReader(l.FirstOffset())
	if err != nil {
		return err
	}
	defer r.Close()
	end := l.NextOffset()
	for r.Offset() < end {
		if r.Offset()%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, _, err := r.TryNext(); err != nil {
			return fmt.Errorf("verify log: %w", err)
		}
	}
	return nil
}

// Close writes and fdatasyncs every pending record, stops the background
// goroutines, closes the files and unregisters the metrics. Appends after
// Close return ErrClosed; blocked Readers return ErrClosed once they have read
// everything. Close returns ErrClosed if the log is already closed, and the
// sticky error if the log failed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	// Wait for the token holder to commit what is pending, then keep the
	// token: nothing is written any more.
	for l.busy {
		l.idle.Wait()
	}
	l.busy = true
	l.mu.Unlock()
	close(l.quit)
	<-l.writerDone
	if l.syncerQuit != nil {
		close(l.syncerQuit)
		<-l.syncerDone
	}

	err := l.stickyErr()
	if terr := l.trimFile(); terr != nil && err == nil {
		err = terr
	}
	if err == nil {
		err = l.sync(l.f)
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close segment: %w", cerr)
	}
	if cerr := l.lock.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close lock file: %w", cerr)
	}
	l.metrics.unregister()

	l.mu.Lock()
	l.drained = true
	if l.notify != nil {
		close(l.notify)
		l.notify = nil
	}
	l.mu.Unlock()
	return err
}
