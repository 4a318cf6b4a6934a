package optout

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
)

// Feed is the record of opt-outs that every node of a cluster shares
// (meta/postgres's DB implements it). It is the truth: a node's [Registry]
// is a copy of it that answers Contains at memory speed.
type Feed interface {
	// AppendOptOuts records ps. When it returns nil they are durable and
	// every later OptOutsSince from position 0 returns them. Pseudonyms
	// already recorded, and zero pseudonyms, are ignored. After an error
	// they may or may not be recorded; appending again is safe.
	AppendOptOuts(ctx context.Context, ps []admeter.Pseudonym) error
	// OptOutsSince returns, in position order, at most limit pseudonyms
	// recorded after position after (0 for the start), and the position of
	// the last one returned (after if none). Positions are positive. A
	// pseudonym recorded later must never get a position at or before one
	// already returned, so a follower that passes last back never misses
	// one; and a pseudonym keeps its position, which Shared checks to
	// notice a feed that lost records (a database restored from a backup).
	OptOutsSince(ctx context.Context, after int64, limit int) (ps []admeter.Pseudonym, last int64, err error)
}

const (
	// syncBatch is how many pseudonyms Sync asks the feed for at a time.
	syncBatch = 10000
	// publishBatch is how many pseudonyms one append of the local
	// registry to the feed carries.
	publishBatch = 10000
	// DefaultFollowInterval is the interval Follow polls at when given
	// none.
	DefaultFollowInterval = time.Second
	// failureLogEvery is how often Follow logs a failure that goes on.
	failureLogEvery = time.Minute
	// feedCallTimeout bounds each call Sync makes to the feed, so that a
	// connection that hangs (a network that drops packets silently) fails
	// the poll instead of stopping Follow.
	feedCallTimeout = 30 * time.Second
)

// Shared is a node's opt-out registry kept in step with the cluster's
// [Feed]: an opt-out added through any node's Shared reaches every node's
// registry within one Follow interval. Add records to the feed first, then
// to the local registry; Contains and Len answer from the local registry.
// Safe for concurrent use. See "Cluster replication" in the package
// documentation.
type Shared struct {
	reg        *Registry
	feed       Feed
	cursorPath string
	logger     *slog.Logger
	m          *sharedMetrics

	// syncMu serialises polls and guards joined and cursor writes.
	syncMu sync.Mutex
	// joined is set once the cursor file exists: the local registry's
	// entries have been published to the feed.
	joined bool
	cursor atomic.Int64 // feed position applied to the local registry
	// atCursor is the pseudonym at position cursor (zero at 0): Sync
	// checks that the feed still has it there.
	atCursor admeter.Pseudonym
}

// NewShared returns a Shared that keeps reg in step with feed, remembering
// the feed position reg has caught up with in the file at cursorPath
// (created 0600, in a directory created 0700, when first needed). It does not
// read the feed: call [Shared.Sync] before serving, then run
// [Shared.Follow].
//
// A missing cursor file means the node has not joined the feed yet: the
// first Sync publishes every entry of reg to the feed (so that a
// single-node deployment's opt-outs reach the cluster) and then reads the
// whole feed. An unreadable cursor (damaged, or edited by hand) is logged
// and treated the same way, and a cursor past 0 with an empty registry (the
// registry file was deleted) makes the node read the feed from the start:
// both are always safe, as adding is idempotent.
//
// A nil logger discards log output. prom, if not nil, receives the
// admeter_optout_feed_* metrics.
//
// reg stays the caller's: close it after Follow has returned.
func NewShared(reg *Registry, feed Feed, cursorPath string, logger *slog.Logger, prom prometheus.Registerer) (*Shared, error) {
	if reg == nil || feed == nil || cursorPath == "" {
		return nil, errors.New("optout: shared registry: a registry, a feed and a cursor path are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Shared{reg: reg, feed: feed, cursorPath: cursorPath, logger: logger, m: newSharedMetrics()}
	cursor, at, err := readCursor(cursorPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logger.Info("opt-out registry joins the shared feed: its entries will be published, then the feed read from the start",
			slog.String("cursor", cursorPath), slog.Int("entries", reg.Len()))
	case errors.Is(err, errBadCursor):
		logger.Warn("unreadable opt-out feed cursor: the registry will be published and the feed read again from the start (safe, only slower)",
			slog.String("cursor", cursorPath), slog.Any("error", err))
	case err != nil:
		return nil, err
	case cursor > 0 && reg.Len() == 0:
		logger.Warn("opt-out registry is empty but its feed cursor is not: reading the feed again from the start",
			slog.String("cursor", cursorPath), slog.Int64("position", cursor))
		s.joined = true
	default:
		s.joined = true
		s.cursor.Store(cursor)
		s.atCursor = at
	}
	s.m.position.Set(float64(s.cursor.Load()))
	if prom != nil {
		if err := s.m.register(prom); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add records that the end users behind ps opted out: first in the shared
// feed (the truth, which every node follows), then in the local registry.
// It returns how many were new to the local registry. When it returns nil
// the opt-out is durable in the feed and Contains reports it on this node at
// once; other nodes report it after their next poll.
//
// If the feed fails, Add returns the error and the local registry is
// unchanged: the opt-out is not acknowledged, and the caller must say so
// (adding again is safe). If the feed accepted it but the local registry
// failed, Add returns an error too; the next Sync brings it in. Zero
// pseudonyms are ignored.
func (s *Shared) Add(ctx context.Context, ps ...admeter.Pseudonym) (added int, err error) {
	if !anyNonZero(ps) {
		return 0, nil
	}
	if err := s.feed.AppendOptOuts(ctx, ps); err != nil {
		return 0, fmt.Errorf("optout: record in the shared opt-out feed: %w (the opt-out is not acknowledged: retry)", err)
	}
	added, err = s.reg.Add(ctx, ps...)
	if err != nil {
		return added, fmt.Errorf("optout: recorded in the shared opt-out feed, but not yet in this node's registry (the next poll adds it): %w", err)
	}
	return added, nil
}

// Contains reports whether p opted out, from the local registry: see
// [Registry.Contains]. Lock-free, allocation-free.
func (s *Shared) Contains(p admeter.Pseudonym) bool { return s.reg.Contains(p) }

// Len returns the number of opted-out pseudonyms in the local registry.
func (s *Shared) Len() int { return s.reg.Len() }

// Cursor returns the feed position the local registry has caught up with.
func (s *Shared) Cursor() int64 { return s.cursor.Load() }

// Sync polls the feed once: it adds every pseudonym recorded since the
// cursor to the local registry, then durably moves the cursor, in batches,
// until it has caught up. On a node that has not joined the feed yet it
// first publishes the local registry's entries. A collector calls it before
// it serves, so that it starts with every opt-out the cluster knows.
//
// Each poll reads the record at the cursor again. If the feed no longer has
// it there, the feed lost records (its database was restored from a
// backup, say), and later records may have been given positions this node
// has passed: Sync logs an error, publishes the local registry to the feed
// (giving back what it lost) and reads the feed again from the start.
//
// Each call to the feed is given at most 30 seconds. A failure leaves the
// cursor where the last completed batch put it; the next Sync resumes from
// there. Polls do not overlap: a Sync waits for one in progress.
func (s *Shared) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if err := s.sync(ctx); err != nil {
		s.m.failures.Inc()
		return err
	}
	s.m.lastSync.SetToCurrentTime()
	return nil
}

// sync is Sync with syncMu held.
func (s *Shared) sync(ctx context.Context) error {
	if !s.joined {
		n, err := s.publish(ctx)
		if err != nil {
			return err
		}
		if err := s.writeCursor(s.cursor.Load(), s.atCursor); err != nil {
			return err
		}
		s.joined = true
		if n > 0 {
			s.logger.Info("published the opt-out registry to the shared feed", slog.Int("entries", n))
		}
	}
	for {
		cur := s.cursor.Load()
		after, limit := cur, syncBatch
		if cur > 0 {
			// Read the record at the cursor too, to check it is still there.
			after, limit = cur-1, syncBatch+1
		}
		callCtx, cancel := context.WithTimeout(ctx, feedCallTimeout)
		ps, last, err := s.feed.OptOutsSince(callCtx, after, limit)
		cancel()
		if err != nil {
			return fmt.Errorf("optout: poll the shared opt-out feed: %w", err)
		}
		if cur > 0 {
			if len(ps) == 0 || ps[0] != s.atCursor || (len(ps) == 1 && last != cur) {
				return s.rejoin(ctx, cur)
			}
			ps = ps[1:]
		}
		if len(ps) == 0 {
			return nil
		}
		n, err := s.reg.Add(ctx, ps...)
		if err != nil {
			return fmt.Errorf("optout: add opt-outs from the shared feed: %w", err)
		}
		s.m.added.Add(float64(n))
		// Only after the registry holds them durably.
		if err := s.writeCursor(last, ps[len(ps)-1]); err != nil {
			return err
		}
		s.cursor.Store(last)
		s.atCursor = ps[len(ps)-1]
		s.m.position.Set(float64(last))
		if len(ps) < syncBatch {
			return nil
		}
	}
}

// rejoin handles a feed that no longer has the record at the cursor, cur:
// it publishes the local registry to the feed and reads the feed from the
// start.
func (s *Shared) rejoin(ctx context.Context, cur int64) error {
	s.logger.Error("the shared opt-out feed no longer holds the record at this node's position: it lost records (was its database restored from a backup?). "+
		"Publishing this node's registry to it and reading it again from the start",
		slog.Int64("position", cur))
	s.m.rejoins.Inc()
	s.joined = false
	s.cursor.Store(0)
	s.atCursor = admeter.Pseudonym{}
	s.m.position.Set(0)
	return s.sync(ctx) // joined is false and the cursor 0: no second rejoin
}

// publish appends every entry of the local registry to the feed and
// returns how many it sent.
func (s *Shared) publish(ctx context.Context) (int, error) {
	n := 0
	err := s.reg.eachBatch(publishBatch, func(ps []admeter.Pseudonym) error {
		callCtx, cancel := context.WithTimeout(ctx, feedCallTimeout)
		defer cancel()
		if err := s.feed.AppendOptOuts(callCtx, ps); err != nil {
			return fmt.Errorf("optout: publish the registry to the shared opt-out feed: %w", err)
		}
		n += len(ps)
		return nil
	})
	return n, err
}

// Follow polls the feed every interval (DefaultFollowInterval if not
// positive) until ctx is done, then returns nil. A failed poll is logged
// (once, then at most once a minute while failures go on, and once more on
// recovery) and retried at the next interval; the local registry keeps
// answering meanwhile.
func (s *Shared) Follow(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultFollowInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var (
		failing int
		logged  time.Time
	)
	for {
		err := s.Sync(ctx)
		switch {
		case err == nil:
			if failing > 0 {
				s.logger.Info("shared opt-out feed polled again", slog.Int("failed_polls", failing), slog.Int64("position", s.Cursor()))
				failing = 0
			}
		case ctx.Err() != nil:
			return nil
		default:
			failing++
			if failing == 1 || time.Since(logged) >= failureLogEvery {
				s.logger.Error("poll the shared opt-out feed (retrying; this node misses opt-outs made elsewhere until it succeeds)",
					slog.Int("failed_polls", failing), slog.Int64("position", s.Cursor()), slog.Any("error", err))
				logged = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// anyNonZero reports whether ps holds a pseudonym that is not zero.
func anyNonZero(ps []admeter.Pseudonym) bool {
	for i := range ps {
		if !ps[i].IsZero() {
			return true
		}
	}
	return false
}

// errBadCursor marks a cursor file that cannot be parsed.
var errBadCursor = errors.New("optout: bad cursor file")

// The cursor file is one line: the position in decimal, a space, and the
// pseudonym at that position in 32 hex digits (zeros at position 0). It is
// replaced whole (written to a temporary file, synced, renamed), so it is
// never torn.

// readCursor reads the cursor file at path. A missing file gives an error
// wrapping fs.ErrNotExist, an unparsable one errBadCursor.
func readCursor(path string) (int64, admeter.Pseudonym, error) {
	var at admeter.Pseudonym
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, at, err
		}
		return 0, at, fmt.Errorf("optout: read the feed cursor: %w", err)
	}
	bad := fmt.Errorf("%w %s (%d bytes): want a position, a space, 32 hex digits and a newline", errBadCursor, path, len(b))
	line, ok := strings.CutSuffix(string(b), "\n")
	pos, hexAt, ok2 := strings.Cut(line, " ")
	if !ok || !ok2 {
		return 0, at, bad
	}
	v, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || v < 0 {
		return 0, at, bad
	}
	if n, err := hex.Decode(at[:], []byte(hexAt)); err != nil || n != len(at) || len(hexAt) != 2*len(at) || (v == 0) != at.IsZero() {
		return 0, admeter.Pseudonym{}, bad
	}
	return v, at, nil
}

// writeCursor durably replaces the cursor file with position v, where the
// feed holds at.
func (s *Shared) writeCursor(v int64, at admeter.Pseudonym) error {
	dir := filepath.Dir(s.cursorPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("optout: create the feed cursor's directory: %w", err)
	}
	tmp := s.cursorPath + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("optout: write the feed cursor: %w", err)
	}
	_, err = f.WriteString(strconv.FormatInt(v, 10) + " " + at.Hex() + "\n")
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.cursorPath)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("optout: write the feed cursor %s: %w", s.cursorPath, err)
	}
	return nil
}

// eachBatch calls fn with the registry file's pseudonyms, at most n at a
// time, in file order, and stops at fn's first error. It reads what was
// durable when it started; Adds may run meanwhile.
func (r *Registry) eachBatch(n int, fn func([]admeter.Pseudonym) error) error {
	r.writeMu.Lock()
	f, size := r.f, r.size
	r.writeMu.Unlock()
	if f == nil {
		return ErrClosed
	}
	rd := io.NewSectionReader(f, headerSize, size-headerSize)
	buf := make([]byte, scanChunk*recordSize)
	batch := make([]admeter.Pseudonym, 0, n)
	for {
		m, err := io.ReadFull(rd, buf)
		for chunk := buf[:m-m%recordSize]; len(chunk) > 0; chunk = chunk[recordSize:] {
			p := admeter.Pseudonym(chunk[:16])
			if p.IsZero() || crc32.Checksum(p[:], castagnoli) != binary.LittleEndian.Uint32(chunk[16:recordSize]) {
				continue
			}
			if batch = append(batch, p); len(batch) == n {
				if err := fn(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("optout: read %s: %w", r.path, err)
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// sharedMetrics are the admeter_optout_feed_* metrics.
type sharedMetrics struct {
	position prometheus.Gauge
	lastSync prometheus.Gauge
	failures prometheus.Counter
	added    prometheus.Counter
	rejoins  prometheus.Counter
}

func newSharedMetrics() *sharedMetrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "admeter", Subsystem: "optout", Name: name, Help: help}
	}
	return &sharedMetrics{
		position: prometheus.NewGauge(prometheus.GaugeOpts(opts("feed_position",
			"Position in the shared opt-out feed that this node's registry has caught up with."))),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts(opts("feed_last_sync_timestamp_seconds",
			"When this node last polled the shared opt-out feed successfully (Unix time; 0 if never). Alert when it falls behind: opt-outs made on other nodes are not honoured here meanwhile."))),
		failures: prometheus.NewCounter(prometheus.CounterOpts(opts("feed_sync_failures_total",
			"Polls of the shared opt-out feed that failed."))),
		added: prometheus.NewCounter(prometheus.CounterOpts(opts("feed_added_total",
			"Opt-outs that polls of the shared feed added to this node's registry (new to it)."))),
		rejoins: prometheus.NewCounter(prometheus.CounterOpts(opts("feed_rejoins_total",
			"Times this node found that the shared opt-out feed had lost records (a database restored from a backup), published its registry to it and read it again from the start."))),
	}
}

func (m *sharedMetrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.position, m.lastSync, m.failures, m.added, m.rejoins} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("optout: register the shared feed metrics: %w", err)
		}
	}
	return nil
}
