package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/admeter/admeter"
)

// Record is one consumed event record.
type Record struct {
	// Partition and Offset locate the record; Offset+1 is the partition's
	// next offset once the record is stored.
	Partition int32
	Offset    int64
	// Key is the partition key: the user pseudonym, the impression id, or
	// nil (see Producer.Append).
	Key []byte
	// Value is the binary encoding of the event.
	Value []byte
	// Timestamp is when the record was produced.
	Timestamp time.Time
}

// Event decodes the record's event.
func (r *Record) Event() (admeter.Event, error) {
	var ev admeter.Event
	if err := ev.UnmarshalBinary(r.Value); err != nil {
		return admeter.Event{}, fmt.Errorf("decode event at partition %d offset %d: %w", r.Partition, r.Offset, err)
	}
	return ev, nil
}

// NextOffsets returns, for each partition in recs, the offset after its last
// record: what to store with the events and to Commit.
func NextOffsets(recs []Record) map[int32]int64 {
	next := make(map[int32]int64)
	for i := range recs {
		if o := recs[i].Offset + 1; o > next[recs[i].Partition] {
			next[recs[i].Partition] = o
		}
	}
	return next
}

// StartOffsets returns the next offset to read of each of partitions, newly
// assigned to the consumer; a partition it leaves out starts at the group's
// committed offset (or at the start of the partition if none). A loader
// that stores its offsets with the events, in one transaction, returns them
// here, so that it resumes exactly after what it stored, whatever was
// committed to Kafka.
type StartOffsets func(ctx context.Context, partitions []int32) (map[int32]int64, error)

// Consumer reads the event topic as a member of a consumer group. Offsets
// are committed only by Commit, never automatically. Rebalances are held
// back from the return of Poll until the next Poll (or Close): records
// returned by Poll belong to this member until then, so a commit made in
// between cannot overwrite another member's. Process and commit a batch
// within the group's rebalance timeout (60s by default).
//
// Poll must not be called concurrently with itself; Commit may be called
// from another goroutine.
type Consumer struct {
	cfg    Config
	logger *slog.Logger
	client *kgo.Client

	mu     sync.Mutex
	epochs map[int32]int32 // leader epoch of the last record seen per partition
	closed bool
}

// NewConsumer joins cfg.Group and consumes cfg.Topic. start, if not nil, is
// called on every assignment to choose where each newly assigned partition
// starts; otherwise partitions start at the group's committed offsets, and
// partitions without one at their first retained record. logger may be nil.
//
// start is called through kgo.AdjustFetchOffsetsFn, after the committed
// offsets are fetched and before fetching begins, rather than in an
// OnPartitionsAssigned hook that would then seek: no record is fetched from
// the committed offset only to be discarded, and the new offsets replace the
// committed ones atomically for the assignment. Explicit partitions
// (kgo.ConsumePartitions) would pin partitions to one loader and give up the
// group's failover.
func NewConsumer(cfg Config, start StartOffsets, logger *slog.Logger) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{cfg: cfg, logger: logger, epochs: make(map[int32]int32)}
	opts := append(cfg.clientOptions(logger),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if start != nil {
		opts = append(opts, kgo.AdjustFetchOffsetsFn(c.adjust(start)))
	}
	cl, err := kgo.NewClient(append(opts, cfg.ClientOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("create kafka consumer client: %w", err)
	}
	c.client = cl
	return c, nil
}

// adjust wraps start as a kgo.AdjustFetchOffsetsFn.
func (c *Consumer) adjust(start StartOffsets) func(context.Context, map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	return func(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
		parts := offsets[c.cfg.Topic]
		if len(parts) == 0 {
			return offsets, nil
		}
		ps := make([]int32, 0, len(parts))
		for p := range parts {
			ps = append(ps, p)
		}
		want, err := start(ctx, ps)
		if err != nil {
			c.logger.Error("cannot choose start offsets for assigned partitions", slog.Any("error", err))
			return nil, fmt.Errorf("start offsets: %w", err)
		}
		for p, o := range want {
			if _, ok := parts[p]; ok && o >= 0 {
				parts[p] = kgo.NewOffset().At(o).WithEpoch(-1)
			}
		}
		return offsets, nil
	}
}

// Poll returns the next records, at most max (all buffered ones if max <= 0),
// waiting until at least one is available, ctx is done, or the consumer is
// closed. It first allows the rebalance held back since the previous Poll.
// Records of one partition come in offset order. Poll returns the records
// and, joined, the errors of partitions that could not be fetched; ctx.Err()
// if ctx is done before any record arrives; ErrClosed after Close.
func (c *Consumer) Poll(ctx context.Context, max int) ([]Record, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	for {
		recs, err := c.poll(ctx, max)
		if len(recs) > 0 || err != nil {
			return recs, err
		}
		// franz-go may return an empty poll (after a rebalance, say).
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// poll is one PollRecords.
func (c *Consumer) poll(ctx context.Context, max int) ([]Record, error) {
	c.client.AllowRebalance()
	fs := c.client.PollRecords(ctx, max)
	if fs.IsClientClosed() {
		return nil, ErrClosed
	}
	var errs []error
	fs.EachError(func(_ string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			if cerr := ctx.Err(); cerr != nil {
				errs = append(errs, cerr)
				return
			}
		}
		errs = append(errs, fmt.Errorf("fetch partition %d of %s: %w", p, c.cfg.Topic, err))
	})
	recs := make([]Record, 0, fs.NumRecords())
	c.mu.Lock()
	fs.EachRecord(func(r *kgo.Record) {
		recs = append(recs, Record{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp})
		c.epochs[r.Partition] = r.LeaderEpoch
	})
	c.mu.Unlock()
	return recs, errors.Join(errs...)
}

// Commit commits next (partition -> the next offset to read, as returned by
// NextOffsets) to the group, synchronously. Call it once the records below
// those offsets are stored. Committing a partition this member no longer
// owns fails or is ignored by the group coordinator, depending on the
// protocol; since Poll holds rebalances back, that happens only if the
// member was expelled for exceeding the rebalance timeout.
func (c *Consumer) Commit(ctx context.Context, next map[int32]int64) error {
	if len(next) == 0 {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	offs := make(map[int32]kgo.EpochOffset, len(next))
	for p, o := range next {
		e, ok := c.epochs[p]
		if !ok {
			e = -1
		}
		offs[p] = kgo.EpochOffset{Epoch: e, Offset: o}
	}
	c.mu.Unlock()
	var cerr error
	c.client.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: offs},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
						cerr = fmt.Errorf("partition %d: %w", p.Partition, err)
					}
				}
			}
		})
	if cerr != nil {
		return fmt.Errorf("commit offsets of %s to group %s: %w", c.cfg.Topic, c.cfg.Group, cerr)
	}
	return nil
}

// Close allows the held-back rebalance, leaves the group (without
// committing anything) and closes the client. It returns ErrClosed if the
// Consumer is already closed.
func (c *Consumer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	c.mu.Unlock()
	c.client.CloseAllowingRebalance()
	return nil
}
