package kafka

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/admeter/admeter"
)

func TestRoundTrip(t *testing.T) {
	_, addr := newCluster(t, 4, 0)
	cfg := testConfig(t, addr)
	reg := prometheus.NewRegistry()
	p := newProducer(t, cfg, reg)

	const n, users = 300, 9
	appendStream(t, p, 0, n, users)
	checkStream(t, consumeAll(t, cfg, n), n, users, false)

	m := gather(t, reg)
	if m["admeter_kafka_produced_total"] != n || m["admeter_kafka_spilled_total"] != 0 {
		t.Errorf("produced %v, spilled %v; want %d, 0", m["admeter_kafka_produced_total"], m["admeter_kafka_spilled_total"], n)
	}
	if m["admeter_kafka_produce_duration_seconds_count"] == 0 {
		t.Error("no produce latency observed")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := p.Append(context.Background(), []admeter.Event{testEvent(0, 1)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if len(gather(t, reg)) != 0 {
		t.Error("metrics still registered after Close")
	}
}

// TestSpillWhileBrokersDown starts the producer against a port nothing
// listens on: Appends succeed by spilling; once a cluster comes up on that
// port the forwarder delivers everything in order, later Appends queue
// behind the backlog, and the producer then produces directly again.
func TestSpillWhileBrokersDown(t *testing.T) {
	addr, port := deadAddr(t)
	cfg := testConfig(t, addr)
	reg := prometheus.NewRegistry()
	p := newProducer(t, cfg, reg)

	const n, users = 120, 5
	start := time.Now()
	appendStream(t, p, 0, n, users)
	if d := time.Since(start); d > 5*cfg.ProduceTimeout {
		t.Errorf("appending while the brokers are down took %v: only the first Append should wait for the timeout", d)
	}
	m := gather(t, reg)
	if m["admeter_kafka_spilled_total"] != n || m["admeter_kafka_spill_backlog_records"] != n {
		t.Fatalf("spilled %v, backlog %v; want %d each", m["admeter_kafka_spilled_total"], m["admeter_kafka_spill_backlog_records"], n)
	}
	if m["admeter_kafka_produce_errors_total"] < 1 {
		t.Error("no produce error counted")
	}

	newCluster(t, 3, port)
	waitFor(t, 20*time.Second, "the backlog to drain", func() bool {
		return gather(t, reg)["admeter_kafka_spill_backlog_records"] == 0
	})
	if f := gather(t, reg)["admeter_kafka_forwarded_total"]; f != n {
		t.Errorf("forwarded %v, want %d", f, n)
	}
	// Back to direct produce once caught up.
	waitFor(t, 5*time.Second, "direct produce", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return !p.spilling
	})
	appendStream(t, p, n, n+30, users)
	if got := gather(t, reg)["admeter_kafka_produced_total"]; got != 30 {
		t.Errorf("produced %v directly after recovery, want 30", got)
	}
	checkStream(t, consumeAll(t, cfg, n+30), n+30, users, true)
	// Delivered events leave the disk.
	segs, _ := filepath.Glob(filepath.Join(cfg.SpillDir, "*.seg"))
	if len(segs) != 1 {
		t.Errorf("spill dir holds %d segments after draining, want 1 (empty, active)", len(segs))
	}
}

// TestBrokersGoAway stops a cluster the producer was using and appends while
// it is down; then the cluster restarts on the same port, either with its
// data (a broker restart) or empty (a cluster replaced, which does not know
// the idempotent producer's id).
func TestBrokersGoAway(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(map[bool]string{true: "restart", false: "replaced"}[keep], func(t *testing.T) {
			var opts []kfake.Opt
			if keep {
				opts = append(opts, kfake.DataDir(t.TempDir()))
			}
			c, addr := newCluster(t, 3, 0, opts...)
			_, port := splitPort(t, addr)
			cfg := testConfig(t, addr)
			reg := prometheus.NewRegistry()
			p := newProducer(t, cfg, reg)

			const users = 4
			appendStream(t, p, 0, 40, users)
			c.Close()
			appendStream(t, p, 40, 100, users)
			if s := gather(t, reg)["admeter_kafka_spilled_total"]; s == 0 {
				t.Fatal("nothing spilled while the cluster was down")
			}
			newCluster(t, 3, port, opts...)
			waitFor(t, 30*time.Second, "the backlog to drain", func() bool {
				return gather(t, reg)["admeter_kafka_spill_backlog_records"] == 0
			})
			appendStream(t, p, 100, 120, users)
			from := 0
			if !keep {
				from = 40 // the first 40 went with the old cluster
			}
			recs := consumeAll(t, cfg, 120-from)
			for i := range recs {
				// Renumber so that checkStream sees a stream from 0.
				ev, err := recs[i].Event()
				if err != nil {
					t.Fatal(err)
				}
				if seq, _ := strconv.Atoi(ev.App); seq < from {
					t.Fatalf("event %d from the old cluster in the new one", seq)
				}
			}
			checkStreamFrom(t, recs, from, 120, users)
		})
	}
}

// TestResumeAfterReopen closes a producer with a backlog, reopens one on the
// same spill directory, and checks that it delivers the old backlog before
// its own events.
func TestResumeAfterReopen(t *testing.T) {
	addr, port := deadAddr(t)
	cfg := testConfig(t, addr)
	const users = 3

	p1, err := NewProducer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendStream(t, p1, 0, 50, users)
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	p2 := newProducer(t, cfg, reg)
	if b := p2.Backlog(); b != 50 {
		t.Fatalf("reopened producer has backlog %d, want 50", b)
	}
	appendStream(t, p2, 50, 70, users) // still down: queued behind the backlog
	newCluster(t, 2, port)
	waitFor(t, 20*time.Second, "the backlog to drain", func() bool {
		return gather(t, reg)["admeter_kafka_spill_backlog_records"] == 0
	})
	checkStream(t, consumeAll(t, cfg, 70), 70, users, true)
	if err := p2.Close(); err != nil {
		t.Fatal(err)
	}

	// A third producer finds nothing left to deliver.
	pos, err := readPosition(cfg.SpillDir)
	if err != nil || pos != 70 {
		t.Errorf("saved position %d, %v; want 70", pos, err)
	}
	p3 := newProducer(t, cfg, nil)
	if b := p3.Backlog(); b != 0 {
		t.Errorf("backlog after full delivery and reopen = %d, want 0", b)
	}
}

// TestAppendBehindBacklog reopens a spill directory with a backlog while
// the brokers are up: new Appends must queue behind the backlog instead of
// overtaking it.
func TestAppendBehindBacklog(t *testing.T) {
	addr, port := deadAddr(t)
	cfg := testConfig(t, addr)
	const users = 3
	// Small forwarding batches, so that the backlog takes many round
	// trips and a direct produce would overtake it.
	// Restored after the producers' Close (cleanups run last first).
	old := maxForwardRecords
	t.Cleanup(func() { maxForwardRecords = old })
	maxForwardRecords = 5
	p1, err := NewProducer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendStream(t, p1, 0, 300, users)
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	newCluster(t, 2, port)
	p2 := newProducer(t, cfg, nil)
	appendStream(t, p2, 300, 340, users)
	checkStream(t, consumeAll(t, cfg, 340), 340, users, true)
}

// TestSpillFailure makes the spill log unusable: an Append that can reach
// neither Kafka nor the disk must fail, so that the event is not
// acknowledged.
func TestSpillFailure(t *testing.T) {
	addr, _ := deadAddr(t)
	cfg := testConfig(t, addr)
	cfg.SpillOptions.MaxBatchBytes = 1024 // an Append of more is refused by the spill log
	p := newProducer(t, cfg, nil)
	evs := make([]admeter.Event, 20)
	for i := range evs {
		evs[i] = testEvent(i, 2)
	}
	if err := p.Append(context.Background(), evs); err == nil {
		t.Fatal("Append succeeded though neither Kafka nor the spill log took the events")
	}
	if b := p.Backlog(); b != 0 {
		t.Errorf("backlog %d after a failed spill", b)
	}
}

// TestAppendContext: a caller that gives up gets an error, not a spill.
func TestAppendContext(t *testing.T) {
	addr, _ := deadAddr(t)
	cfg := testConfig(t, addr)
	cfg.ProduceTimeout = 5 * time.Second
	p := newProducer(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Append(ctx, []admeter.Event{testEvent(0, 1)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append with an expiring context = %v, want DeadlineExceeded", err)
	}
	if b := p.Backlog(); b != 0 {
		t.Errorf("backlog %d after the caller gave up, want 0", b)
	}
}

func TestPosition(t *testing.T) {
	dir := t.TempDir()
	if _, err := readPosition(dir); !errors.Is(err, errNoPosition) {
		t.Fatalf("readPosition of an empty dir = %v, want errNoPosition", err)
	}
	for _, off := range []uint64{0, 1, 1 << 40} {
		if err := writePosition(dir, off); err != nil {
			t.Fatal(err)
		}
		got, err := readPosition(dir)
		if err != nil || got != off {
			t.Fatalf("readPosition = %d, %v; want %d", got, err, off)
		}
	}
	path := filepath.Join(dir, positionName)
	b, _ := os.ReadFile(path)
	b[7] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readPosition(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("readPosition of a damaged file = %v, want a damage error", err)
	}
}

// TestDamagedPosition: a damaged position file makes the forwarder deliver
// the whole spill log again rather than skip anything.
func TestDamagedPosition(t *testing.T) {
	addr, _ := deadAddr(t)
	cfg := testConfig(t, addr)
	p1, err := NewProducer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendStream(t, p1, 0, 10, 2)
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.SpillDir, positionName), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	p2 := newProducer(t, cfg, nil)
	if b := p2.Backlog(); b != 10 {
		t.Errorf("backlog with a damaged position = %d, want 10", b)
	}
}

func TestAppendKey(t *testing.T) {
	user := admeter.Pseudonym{1, 2, 3}
	imp := admeter.Pseudonym{9, 8, 7}
	tests := []struct {
		name string
		ev   admeter.Event
		want []byte
	}{
		{"user", admeter.Event{User: user, UserType: admeter.IDOAID, ImpressionID: imp}, user[:]},
		{"impression only", admeter.Event{ImpressionID: imp}, imp[:]},
		{"neither", admeter.Event{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _, err := encode([]admeter.Event{tt.ev}, testTopic)
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[0].Key; string(got) != string(tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("key = %x, want %x", got, tt.want)
			}
		})
	}
}
