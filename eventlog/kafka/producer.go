package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/eventlog"
)

// ErrClosed is returned by the methods of a closed Producer or Consumer.
var ErrClosed = errors.New("kafka: closed")

// Limits of one forwarding attempt (a variable for tests).
var maxForwardRecords = 1000

const (
	maxForwardBytes = 1 << 20
	minRetryBackoff = 100 * time.Millisecond
)

// eventSize is the buffer reserved per event when encoding (a typical event
// encodes to about 200 bytes, plus its 16-byte key).
const eventSize = 256

// Producer appends events to Kafka, falling back to a local spill log when
// the brokers do not acknowledge them in time; a background forwarder
// delivers the spill log to Kafka, in order, once they are back. It
// satisfies collect.Appender. Its methods are safe for concurrent use.
type Producer struct {
	cfg    Config
	logger *slog.Logger
	m      *metrics
	client *kgo.Client
	spill  *eventlog.Log
	fwdPos atomic.Uint64 // offset of the first spilled record not yet delivered

	mu sync.Mutex
	// spilling is set while the spill log may hold records not yet
	// delivered: Appends then go to the spill log too, so that no event
	// overtakes an older spilled one. Only the forwarder clears it, once
	// it has delivered everything and no Append is writing to the log.
	spilling bool
	spillers int            // Appends writing to the spill log now
	closed   bool           // set by Close: Append refuses new events
	calls    sync.WaitGroup // Appends in progress; Add under mu while !closed

	wake    chan struct{} // capacity 1: the spill log has new records
	quit    chan struct{} // closed by Close to stop the forwarder
	fwdDone chan struct{}
}

var _ interface {
	Append(context.Context, []admeter.Event) error
} = (*Producer)(nil)

// NewProducer opens the spill log in cfg.SpillDir (creating it if needed),
// creates the Kafka client and starts the forwarder, which resumes
// delivering whatever an earlier Producer left in the spill log. It does not
// wait for the brokers: a collector can start, and acknowledge events, while
// Kafka is down. logger may be nil; the metrics are registered on reg if it
// is not nil and unregistered by Close. The spill log's own eventlog metrics
// are not registered (their names would clash with the main event log's).
func NewProducer(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (_ *Producer, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SpillDir == "" {
		return nil, errors.New("new kafka producer: no spill directory given: set Config.SpillDir to a local directory of its own")
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Producer{
		cfg:     cfg,
		logger:  logger,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		fwdDone: make(chan struct{}),
	}
	p.spill, err = eventlog.Open(cfg.SpillDir, cfg.SpillOptions, logger.With(slog.String("component", "kafka-spill")), nil)
	if err != nil {
		return nil, fmt.Errorf("open kafka spill log: %w", err)
	}
	defer func() {
		if err != nil {
			_ = p.spill.Close()
		}
	}()
	pos, err := p.loadPosition()
	if err != nil {
		return nil, err
	}
	p.fwdPos.Store(pos)
	p.spilling = pos < p.spill.NextOffset()

	p.m, err = newMetrics(reg, p.backlog)
	if err != nil {
		return nil, err
	}
	opts := append(cfg.clientOptions(logger),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Every Append waits for its acknowledgement, so lingering only
		// adds latency: records that arrive while a request is in flight
		// are batched anyway.
		kgo.ProducerLinger(0),
	)
	p.client, err = kgo.NewClient(append(opts, cfg.ClientOptions...)...)
	if err != nil {
		p.m.unregister()
		return nil, fmt.Errorf("create kafka producer client: %w", err)
	}
	if p.spilling {
		logger.Info("resuming delivery of spilled events to kafka", slog.Uint64("backlog", p.spill.NextOffset()-pos))
	}
	go p.forward()
	return p, nil
}

// loadPosition reads the forwarder's saved position and fits it into the
// spill log's range.
func (p *Producer) loadPosition() (uint64, error) {
	first, next := p.spill.FirstOffset(), p.spill.NextOffset()
	pos, err := readPosition(p.cfg.SpillDir)
	switch {
	case errors.Is(err, errNoPosition):
		return first, nil
	case err != nil:
		// Delivering again what was delivered is safe; skipping is not.
		p.logger.Warn("forwarder position unreadable; forwarding the whole spill log again (duplicates possible)",
			slog.Any("error", err))
		return first, nil
	case pos < first:
		p.logger.Warn("forwarder position below the spill log's first record; resuming at the first",
			slog.Uint64("position", pos), slog.Uint64("first_offset", first))
		return first, nil
	case pos > next:
		// Only possible if records that had been delivered were lost
		// from the spill log (FsyncInterval and a power failure): the
		// log will reuse their offsets for new records, which must be
		// delivered too.
		p.logger.Warn("forwarder position beyond the spill log's end; resuming at the end",
			slog.Uint64("position", pos), slog.Uint64("next_offset", next))
		if err := writePosition(p.cfg.SpillDir, next); err != nil {
			return 0, err
		}
		return next, nil
	}
	return pos, nil
}

// backlog returns the number of spilled records not yet delivered.
func (p *Producer) backlog() float64 {
	next, pos := p.spill.NextOffset(), p.fwdPos.Load()
	if next < pos {
		return 0
	}
	return float64(next - pos)
}

// Backlog returns the number of spilled events not yet delivered to Kafka.
func (p *Producer) Backlog() uint64 { return uint64(p.backlog()) }

// Append makes events durable and returns nil only once they are: either
// every event was acknowledged by the brokers (acks=all, idempotent
// producer), or, if the brokers did not acknowledge all of them within
// Config.ProduceTimeout, all of them were appended to the spill log (and
// fsynced, with the default spill options). While the spill log holds events
// not yet delivered, Append writes to it directly, so that an event never
// overtakes one appended before it.
//
// Each event is a record keyed by its user pseudonym, or by its impression
// id if it has no user, or unkeyed if it has neither; the value is the
// event's binary encoding. A spilled Append may also reach Kafka directly
// after all (its produce was in flight when the timeout struck), so an event
// can be delivered twice; see the package documentation.
//
// If ctx is done before the events are durable, Append returns an error
// wrapping ctx.Err() and the events may or may not be delivered, as with a
// timeout. Append returns ErrClosed after Close, and an error if the spill
// log fails (a full disk, say): the events must then not be acknowledged.
func (p *Producer) Append(ctx context.Context, events []admeter.Event) error {
	if len(events) == 0 {
		return nil
	}
	recs, values, err := encode(events, p.cfg.Topic)
	if err != nil {
		return err
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.calls.Add(1)
	defer p.calls.Done()
	spill := p.spilling
	if spill {
		p.spillers++
	}
	p.mu.Unlock()
	if spill {
		return p.appendSpill(ctx, values)
	}

	start := time.Now()
	err = p.produce(ctx, recs)
	p.m.latency.Observe(time.Since(start).Seconds())
	if err == nil {
		p.m.produced.Add(float64(len(recs)))
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("append events to kafka: %w", cerr)
	}
	p.m.produceErrors.Inc()

	p.mu.Lock()
	was := p.spilling
	p.spilling = true
	p.spillers++
	p.mu.Unlock()
	if !was {
		p.logger.Warn("kafka did not acknowledge events; spilling to the local log until it is back",
			slog.String("dir", p.cfg.SpillDir), slog.Any("error", err))
	}
	return p.appendSpill(ctx, values)
}

// appendSpill appends values to the spill log and wakes the forwarder. The
// caller has counted itself in p.spillers.
func (p *Producer) appendSpill(ctx context.Context, values [][]byte) error {
	_, err := p.spill.Append(ctx, values...)
	p.mu.Lock()
	p.spillers--
	p.mu.Unlock()
	// Wake the forwarder even after a failure: it may have found this
	// Append writing and be waiting to clear p.spilling.
	select {
	case p.wake <- struct{}{}:
	default:
	}
	if err != nil {
		return fmt.Errorf("spill events to local log %s (Kafka unavailable): %w", p.cfg.SpillDir, err)
	}
	p.m.spilled.Add(float64(len(values)))
	return nil
}

// encode returns one record per event, and the encoded events. Keys and
// values share one buffer that nothing else references: the client may hold
// the records after Append returned.
func encode(events []admeter.Event, topic string) ([]*kgo.Record, [][]byte, error) {
	buf := make([]byte, 0, eventSize*len(events))
	recs := make([]kgo.Record, len(events))
	ptrs := make([]*kgo.Record, len(events))
	values := make([][]byte, len(events))
	for i := range events {
		ev := &events[i]
		start := len(buf)
		buf = appendKey(buf, ev)
		key := buf[start:len(buf):len(buf)]
		if len(key) == 0 {
			key = nil
		}
		start = len(buf)
		var err error
		if buf, err = ev.AppendBinary(buf); err != nil {
			return nil, nil, fmt.Errorf("encode event: %w", err)
		}
		values[i] = buf[start:len(buf):len(buf)]
		recs[i] = kgo.Record{Topic: topic, Key: key, Value: values[i]}
		ptrs[i] = &recs[i]
	}
	return ptrs, values, nil
}

// appendKey appends the record key of ev to b: its user pseudonym, or its
// impression id if it has no user, or nothing (an unkeyed record, placed by
// the sticky partitioner).
func appendKey(b []byte, ev *admeter.Event) []byte {
	switch {
	case !ev.User.IsZero():
		return append(b, ev.User[:]...)
	case !ev.ImpressionID.IsZero():
		return append(b, ev.ImpressionID[:]...)
	}
	return b
}

// produce produces recs and waits until the brokers acknowledged all of
// them, one failed, or Config.ProduceTimeout passed. Unlike
// kgo.Client.ProduceSync it does not wait for records the client cannot
// fail any more (an idempotent producer keeps a request it sent to a broker
// that then died, retrying it until the broker answers): those are left to
// the client, and may still be delivered.
func (p *Producer) produce(ctx context.Context, recs []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ProduceTimeout)
	defer cancel()
	w := &waiter{done: make(chan struct{})}
	w.left.Store(int64(len(recs)))
	for _, r := range recs {
		p.client.Produce(ctx, r, w.promise)
	}
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			return fmt.Errorf("produce to kafka: %w", w.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("produce to kafka: not acknowledged within %v: %w", p.cfg.ProduceTimeout, ctx.Err())
	}
}

// waiter collects the results of the records of one produce call.
type waiter struct {
	left atomic.Int64
	done chan struct{} // closed when every record has its result

	mu  sync.Mutex
	err error // the first failure
}

// promise is the kgo promise of each record.
func (w *waiter) promise(_ *kgo.Record, err error) {
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	if w.left.Add(-1) == 0 {
		close(w.done)
	}
}

// forward is the forwarder goroutine: it delivers the spill log to Kafka in
// offset order, saves its position durably after each acknowledged batch,
// removes delivered segments, and clears p.spilling once it has caught up.
func (p *Producer) forward() {
	defer close(p.fwdDone)
	var (
		r       *eventlog.Reader
		batch   []*kgo.Record // read, not yet delivered; never produced itself
		backoff = minRetryBackoff
		failing bool // the last attempt failed; log only the first failure of a streak
	)
	defer func() {
		if r != nil {
			_ = r.Close()
		}
	}()
	pause := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, max(p.cfg.RetryBackoff, minRetryBackoff))
		select {
		case <-t.C:
			return true
		case <-p.quit:
			return false
		}
	}
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		if r == nil {
			var err error
			if r, err = p.spill.NewReader(p.fwdPos.Load()); err != nil {
				p.logger.Error("cannot read the kafka spill log; retrying", slog.Any("error", err))
				if !pause() {
					return
				}
				continue
			}
		}
		if len(batch) == 0 {
			var err error
			batch, err = p.readBatch(r, batch)
			if err != nil {
				// Damage on disk: the backlog grows and the
				// metric says so; an operator must look.
				p.logger.Error("cannot read the kafka spill log; retrying", slog.Any("error", err))
				_ = r.Close()
				r, batch = nil, batch[:0]
				if !pause() {
					return
				}
				continue
			}
		}
		if len(batch) == 0 {
			p.caughtUp(r.Offset())
			select {
			case <-p.wake:
			case <-p.quit:
				return
			}
			continue
		}

		// Fresh records for each attempt: the client may still hold those
		// of an abandoned one.
		recs := make([]*kgo.Record, len(batch))
		for i, b := range batch {
			recs[i] = &kgo.Record{Topic: b.Topic, Key: b.Key, Value: b.Value}
		}
		if err := p.produce(context.Background(), recs); err != nil {
			p.m.produceErrors.Inc()
			if errors.Is(err, kerr.UnknownTopicID) {
				// The topic was deleted and created again (or the
				// cluster replaced): franz-go keeps failing until
				// it forgets the old topic id.
				p.logger.Warn("kafka topic has a new id; re-learning it", slog.String("topic", p.cfg.Topic))
				p.client.PurgeTopicsFromProducing(p.cfg.Topic)
			}
			if !failing {
				p.logger.Warn("cannot deliver spilled events to kafka yet; retrying",
					slog.Uint64("backlog", p.Backlog()), slog.Any("error", err))
				failing = true
			}
			if !pause() {
				return
			}
			continue
		}
		if failing {
			p.logger.Info("kafka acknowledges spilled events again", slog.Uint64("backlog", p.Backlog()))
			failing = false
		}
		backoff = minRetryBackoff
		pos := r.Offset()
		if err := writePosition(p.cfg.SpillDir, pos); err != nil {
			// Not fatal: after a restart these records are delivered
			// again, which is allowed.
			p.logger.Error("cannot save the kafka forwarder position", slog.Any("error", err))
		}
		p.fwdPos.Store(pos)
		p.m.forwarded.Add(float64(len(batch)))
		clear(batch)
		batch = batch[:0]
		if _, err := p.spill.RemoveBefore(pos); err != nil {
			p.logger.Error("cannot remove delivered spill log segments", slog.Any("error", err))
		}
	}
}

// readBatch reads the next spilled records available now, up to the
// forwarding limits, as Kafka records keyed as Append keys them.
func (p *Producer) readBatch(r *eventlog.Reader, batch []*kgo.Record) ([]*kgo.Record, error) {
	size := 0
	for len(batch) < maxForwardRecords && size < maxForwardBytes {
		v, _, err := r.TryNext()
		if errors.Is(err, eventlog.ErrNoRecord) {
			break
		}
		if err != nil {
			return batch[:0], err
		}
		size += len(v)
		var ev admeter.Event
		var key []byte
		if err := ev.UnmarshalBinary(v); err != nil {
			// Not written by Append: deliver it unkeyed, for the
			// loader to reject and count.
			p.logger.Error("spilled record is not an encoded event; delivering it unkeyed", slog.Any("error", err))
		} else {
			key = appendKey(nil, &ev)
		}
		batch = append(batch, &kgo.Record{Topic: p.cfg.Topic, Key: key, Value: append([]byte(nil), v...)})
	}
	return batch, nil
}

// caughtUp is called by the forwarder when it has delivered every record
// below off and found no more: if no Append is writing to the spill log and
// off is its end, Appends may produce directly again, and the delivered
// records are removed from disk.
func (p *Producer) caughtUp(off uint64) {
	p.mu.Lock()
	done := p.spilling && p.spillers == 0 && off == p.spill.NextOffset()
	if done {
		p.spilling = false
	}
	p.mu.Unlock()
	if !done {
		return
	}
	p.logger.Info("spilled events delivered to kafka; producing directly again")
	// Close the active segment so that the delivered events leave the
	// disk; later spills start a new one.
	if err := p.spill.Roll(); err != nil {
		p.logger.Error("cannot roll the kafka spill log", slog.Any("error", err))
		return
	}
	if _, err := p.spill.RemoveBefore(off); err != nil {
		p.logger.Error("cannot remove delivered spill log segments", slog.Any("error", err))
	}
}

// Close stops the Producer: it refuses new Appends, waits for those in
// progress, stops the forwarder after its current attempt (what it has not
// delivered stays in the spill log for the next Producer), gives records
// still buffered in the client up to Config.ProduceTimeout to be delivered,
// and closes the client and the spill log. Close returns ErrClosed if the
// Producer is already closed.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	p.mu.Unlock()
	p.calls.Wait()
	close(p.quit)
	<-p.fwdDone

	// Every event is durable by now (acknowledged or spilled); what the
	// client still holds belongs to Appends that spilled after a timeout.
	// Delivering it spares a duplicate.
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ProduceTimeout)
	_ = p.client.Flush(ctx)
	cancel()
	p.client.Close()
	if b := p.Backlog(); b > 0 {
		p.logger.Info("kafka producer closed with spilled events left to deliver", slog.Uint64("backlog", b))
	}
	err := p.spill.Close()
	p.m.unregister()
	if err != nil {
		return fmt.Errorf("close kafka spill log: %w", err)
	}
	return nil
}
