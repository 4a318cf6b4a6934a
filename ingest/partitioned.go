package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/admeter/admeter"
)

// SourceRecord is one record of a partitioned source (Kafka): its partition,
// offset and encoded event.
type SourceRecord struct {
	Partition int32
	Offset    int64
	Value     []byte
}

// PartitionedSource is an event log read in partitions by a consumer group.
// Poll blocks until records are available (at most max) or ctx is done.
// Commit tells the source how far the loader got; it is advisory, since the
// store records its own positions with the events and the source is asked
// to resume from those.
type PartitionedSource interface {
	Poll(ctx context.Context, max int) ([]SourceRecord, error)
	Commit(ctx context.Context, next map[int32]int64) error
}

// PartitionedStore is what loading from a partitioned source needs of the
// analytical store: rows and positions stored together (see
// store.Store.InsertFrom).
type PartitionedStore interface {
	InsertFrom(ctx context.Context, events []admeter.Event, next map[int32]int64) error
	Positions(ctx context.Context) (map[int32]int64, error)
}

// RangeStore is a PartitionedStore that can also check where each batch
// starts (store/clickhouse): InsertRange stores events read from offsets
// from[p] (inclusive) to next[p] (exclusive) of each partition p, and
// refuses with ECONFLICT a batch whose start another loader has already
// passed. RunPartitioned uses it when the store has it, so that a loader
// that stalled while its partitions moved to another cannot store records
// twice.
type RangeStore interface {
	InsertRange(ctx context.Context, events []admeter.Event, from, next map[int32]int64) error
}

// RunPartitioned loads from src into st until ctx is done, exactly once:
// each batch is stored with the next offset of every partition it covers, in
// one step, and records below a partition's stored position (replayed after
// a rebalance or a crash before the commit) are skipped. Rollups of the days
// loaded are refreshed as in Run. Store errors are logged and retried.
func (l *Loader) RunPartitioned(ctx context.Context, src PartitionedSource, st PartitionedStore) error {
	done := make(chan struct{})
	go func() { defer close(done); l.rollupLoop(ctx) }()
	defer func() { <-done }()

	pos, err := l.positions(ctx, st)
	if err != nil {
		return nil // ctx is done
	}
	l.logger.Info("loader started", "source", "partitioned", "partitions", len(pos))
	for ctx.Err() == nil {
		recs, err := src.Poll(ctx, l.cfg.MaxBatch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.m.errors.Inc()
			l.logger.Error("poll the event source; retrying", "err", err)
			if !l.pause(ctx) {
				return nil
			}
			continue
		}
		for {
			batch, from, next := l.decode(recs, pos)
			if len(next) == 0 {
				break // all of it was loaded before
			}
			err := l.insertFrom(ctx, st, batch, from, next)
			if err == nil {
				for p, o := range next {
					pos[p] = o
				}
				if cerr := src.Commit(ctx, next); cerr != nil && ctx.Err() == nil {
					l.logger.Warn("commit offsets to the source (the store keeps its own)", "err", cerr)
				}
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if admeter.ErrorCode(err) == admeter.ECONFLICT {
				// Part of it was loaded meanwhile (another loader before
				// a rebalance): learn how far, and load the rest. If no
				// partition of the batch moved, another loader is still
				// storing it: wait before trying again.
				l.logger.Warn("another loader stored part of this batch; loading the rest", "err", err)
				old := pos
				if pos, err = l.positions(ctx, st); err != nil {
					return nil
				}
				moved := false
				for p := range next {
					if pos[p] != old[p] {
						moved = true
					}
				}
				if !moved && !l.pause(ctx) {
					return nil
				}
				continue
			}
			l.m.errors.Inc()
			l.logger.Error("insert batch into store; retrying", "err", err, "events", len(batch))
			if !l.pause(ctx) {
				return nil
			}
		}
	}
	return nil
}

// decode returns the events of recs at or beyond their partition's stored
// position, and the first and the next offset of each partition they cover
// (undecodable records included, which are counted and skipped).
func (l *Loader) decode(recs []SourceRecord, pos map[int32]int64) (batch []admeter.Event, from, next map[int32]int64) {
	batch = make([]admeter.Event, 0, len(recs))
	from, next = map[int32]int64{}, map[int32]int64{}
	for i := range recs {
		r := &recs[i]
		if r.Offset < pos[r.Partition] {
			continue
		}
		if o := r.Offset + 1; o > next[r.Partition] {
			next[r.Partition] = o
		}
		if f, ok := from[r.Partition]; !ok || r.Offset < f {
			from[r.Partition] = r.Offset
		}
		var ev admeter.Event
		if err := ev.UnmarshalBinary(r.Value); err != nil {
			l.m.undecodable.Inc()
			l.logger.Error("skip undecodable record", "partition", r.Partition, "offset", r.Offset, "err", err)
			continue
		}
		batch = append(batch, ev)
	}
	return batch, from, next
}

// insertFrom stores a batch with its positions (and, for a RangeStore, its
// starts) and notes the days it touched.
func (l *Loader) insertFrom(ctx context.Context, st PartitionedStore, batch []admeter.Event, from, next map[int32]int64) error {
	start := l.cfg.Now()
	// As in insert: a batch is committed even when shutdown begins.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var err error
	if rs, ok := st.(RangeStore); ok {
		err = rs.InsertRange(ictx, batch, from, next)
	} else {
		err = st.InsertFrom(ictx, batch, next)
	}
	if err != nil {
		return fmt.Errorf("insert %d events: %w", len(batch), err)
	}
	l.m.insertSeconds.Observe(l.cfg.Now().Sub(start).Seconds())
	l.m.loaded.Add(float64(len(batch)))
	l.m.batches.Inc()
	if n := len(batch); n > 0 {
		l.m.lagSeconds.Set(l.cfg.Now().Sub(batch[n-1].Received).Seconds())
	}
	l.markDirty(batch)
	return nil
}

// positions asks the store where each partition resumes, retrying while the
// store is busy; it fails only when ctx is done.
func (l *Loader) positions(ctx context.Context, st PartitionedStore) (map[int32]int64, error) {
	for {
		pos, err := st.Positions(ctx)
		if err == nil {
			if pos == nil {
				pos = map[int32]int64{}
			}
			return pos, nil
		}
		l.logger.Error("read loaded positions from store; retrying", "err", err)
		if !l.pause(ctx) {
			return nil, ctx.Err()
		}
	}
}

// pause waits RetryDelay; false if ctx ended first.
func (l *Loader) pause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(l.cfg.RetryDelay):
		return true
	}
}
