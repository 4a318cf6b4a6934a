package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Reader reads the event log from an offset. Next blocks until a record is
// available or ctx is done; TryNext returns at once, with an error when no
// record is available yet.
type Reader interface {
	Next(ctx context.Context) (rec []byte, offset uint64, err error)
	TryNext() (rec []byte, offset uint64, err error)
	Close() error
}

// Store is what the loader needs of the analytical store.
type Store interface {
	Insert(ctx context.Context, events []admeter.Event, next uint64) error
	Offset(ctx context.Context) (uint64, error)
	RefreshRollups(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, tz *time.Location, days []store.Date) error
}

// Config holds the loader's settings. Use DefaultConfig.
type Config struct {
	// MaxBatch is the most events in one store transaction; MaxDelay is the
	// longest an event waits for its batch to fill. Together they bound
	// freshness: an acknowledged event is queryable about MaxDelay plus one
	// insert after it was logged.
	MaxBatch int
	MaxDelay time.Duration
	// RollupInterval is how often changed days' rollups are recomputed.
	RollupInterval time.Duration
	// RetryDelay is the pause after a failed insert before trying again.
	RetryDelay time.Duration
	// Now is the clock.
	Now func() time.Time
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MaxBatch: 50_000, MaxDelay: 200 * time.Millisecond, RollupInterval: 5 * time.Second, RetryDelay: time.Second, Now: time.Now}
}

// Loader moves events from the log into the store.
type Loader struct {
	cfg    Config
	open   func(from uint64) (Reader, error)
	head   func() uint64
	store  Store
	tz     func(admeter.CampaignID) *time.Location
	logger *slog.Logger
	m      metrics

	mu    sync.Mutex
	dirty map[campaignKey]map[store.Date]struct{}
}

type campaignKey struct {
	tenant   admeter.TenantID
	campaign admeter.CampaignID
}

// New returns a Loader. open opens a log reader at an offset; head returns the
// log's next offset (for the lag metric); tz returns a campaign's time zone
// (nil for unknown campaigns, which then use Asia/Shanghai). logger and reg
// may be nil.
func New(cfg Config, open func(from uint64) (Reader, error), head func() uint64, st Store,
	tz func(admeter.CampaignID) *time.Location, logger *slog.Logger, reg prometheus.Registerer) (*Loader, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Loader{cfg: cfg, open: open, head: head, store: st, tz: tz, logger: logger, m: newMetrics(), dirty: map[campaignKey]map[store.Date]struct{}{}}
	if reg != nil {
		if err := l.m.register(reg); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Run loads until ctx is cancelled, then returns nil after committing nothing
// half-done. Errors from the store are logged and retried; only an error
// opening the log ends Run.
func (l *Loader) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { l.rollupLoop(ctx) })
	defer wg.Wait()

	off, err := l.offset(ctx)
	if err != nil {
		return err
	}
	r, err := l.open(off)
	if err != nil {
		return fmt.Errorf("open event log at offset %d: %w", off, err)
	}
	defer r.Close()
	l.logger.Info("loader started", "offset", off)

	var (
		batch []admeter.Event
		next  = off
	)
	for ctx.Err() == nil {
		batch, next, err = l.fill(ctx, r, batch[:0], next)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if next == off {
			continue
		}
		for {
			err := l.insert(ctx, batch, next)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			l.m.errors.Inc()
			l.logger.Error("insert batch into store; retrying", "err", err, "events", len(batch), "next_offset", next)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(l.cfg.RetryDelay):
			}
		}
		off = next
	}
	return nil
}

// offset asks the store where to resume, retrying while the store is busy.
func (l *Loader) offset(ctx context.Context) (uint64, error) {
	for {
		off, err := l.store.Offset(ctx)
		if err == nil {
			return off, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		l.logger.Error("read loaded offset from store; retrying", "err", err)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(l.cfg.RetryDelay):
		}
	}
}

// fill waits for the first record, then gathers more until the batch is full
// or MaxDelay has passed. It returns the batch and the offset after its last
// record. Records that do not decode are counted, logged and skipped.
func (l *Loader) fill(ctx context.Context, r Reader, batch []admeter.Event, next uint64) ([]admeter.Event, uint64, error) {
	rec, o, err := r.Next(ctx)
	if err != nil {
		return batch, next, fmt.Errorf("read event log: %w", err)
	}
	batch, next = l.add(batch, rec, o)
	wctx, cancel := context.WithTimeout(ctx, l.cfg.MaxDelay)
	defer cancel()
	for len(batch) < l.cfg.MaxBatch {
		// Take what is already there without waiting, so that a busy log
		// does not wake the loader once per record.
		rec, o, err := r.TryNext()
		if err == nil {
			batch, next = l.add(batch, rec, o)
			continue
		}
		rec, o, err = r.Next(wctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				break
			}
			return batch, next, fmt.Errorf("read event log: %w", err)
		}
		batch, next = l.add(batch, rec, o)
	}
	return batch, next, nil
}

func (l *Loader) add(batch []admeter.Event, rec []byte, o uint64) ([]admeter.Event, uint64) {
	var ev admeter.Event
	if err := ev.UnmarshalBinary(rec); err != nil {
		l.m.undecodable.Inc()
		l.logger.Error("skip undecodable log record", "offset", o, "err", err)
		return batch, o + 1
	}
	return append(batch, ev), o + 1
}

// insert stores a batch and notes the campaign days it touched.
func (l *Loader) insert(ctx context.Context, batch []admeter.Event, next uint64) error {
	start := l.cfg.Now()
	// A batch read from the log is committed even when shutdown begins
	// meanwhile: cancelling a commit half-way helps nobody.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := l.store.Insert(ictx, batch, next); err != nil {
		if admeter.ErrorCode(err) == admeter.ECONFLICT {
			// Already loaded (another loader, or a retry whose commit
			// succeeded): nothing to do.
			l.logger.Warn("batch already loaded; skipping", "next_offset", next)
			return nil
		}
		return err
	}
	l.m.insertSeconds.Observe(l.cfg.Now().Sub(start).Seconds())
	l.m.loaded.Add(float64(len(batch)))
	l.m.batches.Inc()
	l.m.offset.Set(float64(next))
	if l.head != nil {
		l.m.lagRecords.Set(float64(l.head() - min(next, l.head())))
	}
	if n := len(batch); n > 0 {
		l.m.lagSeconds.Set(l.cfg.Now().Sub(batch[n-1].Received).Seconds())
	}
	l.markDirty(batch)
	return nil
}

func (l *Loader) markDirty(batch []admeter.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var (
		lastKey campaignKey
		lastTZ  *time.Location
		days    map[store.Date]struct{}
	)
	for i := range batch {
		ev := &batch[i]
		k := campaignKey{ev.Tenant, ev.Campaign}
		if k != lastKey || days == nil {
			lastKey, lastTZ = k, l.location(ev.Campaign)
			days = l.dirty[k]
			if days == nil {
				days = map[store.Date]struct{}{}
				l.dirty[k] = days
			}
		}
		days[store.DateOf(ev.At.In(lastTZ))] = struct{}{}
	}
}

func (l *Loader) location(c admeter.CampaignID) *time.Location {
	if l.tz != nil {
		if loc := l.tz(c); loc != nil {
			return loc
		}
	}
	return shanghai
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation(admeter.DefaultTimezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// rollupLoop refreshes the rollups of changed days every RollupInterval, and
// once more when ctx is done.
func (l *Loader) rollupLoop(ctx context.Context) {
	t := time.NewTicker(l.cfg.RollupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// A last refresh so a clean shutdown leaves rollups current.
			fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			l.RefreshRollups(fctx)
			cancel()
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			l.RefreshRollups(rctx)
			cancel()
		}
	}
}

// RefreshRollups recomputes the rollups of every campaign day loaded since
// the last refresh. Failures are logged and the days stay dirty.
func (l *Loader) RefreshRollups(ctx context.Context) {
	l.mu.Lock()
	dirty := l.dirty
	l.dirty = map[campaignKey]map[store.Date]struct{}{}
	l.mu.Unlock()
	for k, set := range dirty {
		days := make([]store.Date, 0, len(set))
		for d := range set {
			days = append(days, d)
		}
		if err := l.store.RefreshRollups(ctx, k.tenant, k.campaign, l.location(k.campaign), days); err != nil {
			l.m.errors.Inc()
			l.logger.Error("refresh rollups", "err", err, "campaign", k.campaign, "days", len(days))
			l.mu.Lock()
			if l.dirty[k] == nil {
				l.dirty[k] = map[store.Date]struct{}{}
			}
			for _, d := range days {
				l.dirty[k][d] = struct{}{}
			}
			l.mu.Unlock()
		}
	}
}
