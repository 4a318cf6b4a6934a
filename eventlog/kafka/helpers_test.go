package kafka

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/admeter/admeter"
)

const testTopic = "admeter-events-test"

// newCluster starts an in-process Kafka-protocol cluster with testTopic of
// the given partitions, on port (0 for any), and closes it at the end of the
// test. It returns the cluster and its broker address.
func newCluster(t testing.TB, partitions int32, port int, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic)}, opts...)
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	var (
		c   *kfake.Cluster
		err error
	)
	// The port of a closed cluster may linger briefly in the kernel.
	for range 50 {
		if c, err = kfake.NewCluster(opts...); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// deadAddr returns a local address on which nothing listens (now).
func deadAddr(t testing.TB) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	_, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	return addr, port
}

// testConfig returns a fast-failing configuration for broker addr.
func testConfig(t testing.TB, addr string) Config {
	cfg := DefaultConfig()
	cfg.Brokers = []string{addr}
	cfg.Topic = testTopic
	cfg.SpillDir = t.TempDir()
	cfg.ProduceTimeout = 500 * time.Millisecond
	cfg.RetryBackoff = 200 * time.Millisecond
	cfg.Group = "test-loader"
	// Notice a cluster that came back quickly (the defaults take 5s).
	cfg.ClientOptions = []kgo.Opt{
		kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	}
	return cfg
}

// newProducer opens a Producer and closes it at the end of the test unless
// the test did.
func newProducer(t testing.TB, cfg Config, reg prometheus.Registerer) *Producer {
	t.Helper()
	p, err := NewProducer(cfg, nil, reg)
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// testEvent returns event seq of a stream: users take turns; every fifth
// event has only an impression id and every seventh neither. The sequence
// number is in App, so that order can be checked after decoding.
func testEvent(seq, users int) admeter.Event {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Millisecond)
	ev := admeter.Event{
		Kind: admeter.KindImpression, Tenant: "t1", Campaign: "c1", Placement: "p1",
		At: at, Received: at, KeyVersion: 3, OS: admeter.OSAndroid, DeviceType: admeter.DevicePhone,
		App: strconv.Itoa(seq),
	}
	switch {
	case seq%7 == 6:
	case seq%5 == 4:
		ev.ImpressionID = admeter.Pseudonym{0xee, byte(seq >> 8), byte(seq)}
	default:
		ev.User = admeter.Pseudonym{0xaa, byte(seq % users)}
		ev.UserType = admeter.IDOAID
	}
	return ev
}

// appendStream appends events [from, to) in calls of varying size.
func appendStream(t testing.TB, p *Producer, from, to, users int) {
	t.Helper()
	for seq := from; seq < to; {
		n := min(1+seq%4, to-seq) // 1 to 4 events per Append
		evs := make([]admeter.Event, n)
		for i := range evs {
			evs[i] = testEvent(seq+i, users)
		}
		if err := p.Append(context.Background(), evs); err != nil {
			t.Fatalf("Append(%d..%d): %v", seq, seq+n, err)
		}
		seq += n
	}
}

// consumeAll reads testTopic with a fresh group until want distinct events
// arrived (or the deadline), and returns the records in arrival order.
func consumeAll(t testing.TB, cfg Config, want int) []Record {
	t.Helper()
	cfg.Group = fmt.Sprintf("check-%s-%d", t.Name(), time.Now().UnixNano())
	c, err := NewConsumer(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var all []Record
	seen := map[string]bool{}
	for len(seen) < want {
		recs, err := c.Poll(ctx, 0)
		if err != nil {
			t.Fatalf("Poll after %d of %d events: %v", len(seen), want, err)
		}
		for _, r := range recs {
			seen[string(r.Value)] = true
		}
		all = append(all, recs...)
	}
	return all
}

// checkStream checks that recs hold events [0, n) of the stream intact, each
// with the key Append gives it, every key in one partition, and in order per
// key (duplicates allowed when dups is set: only first deliveries count).
func checkStream(t testing.TB, recs []Record, n, users int, dups bool) {
	t.Helper()
	checkRange(t, recs, 0, n, users, dups)
}

// checkStreamFrom is checkStream for events [from, to), duplicates allowed.
func checkStreamFrom(t testing.TB, recs []Record, from, to, users int) {
	t.Helper()
	checkRange(t, recs, from, to, users, true)
}

func checkRange(t testing.TB, recs []Record, from, n, users int, dups bool) {
	t.Helper()
	seen := make(map[int]bool)
	last := map[string]int{}     // key -> last sequence number
	partOf := map[string]int32{} // key -> partition
	for _, r := range recs {
		ev, err := r.Event()
		if err != nil {
			t.Fatal(err)
		}
		seq, err := strconv.Atoi(ev.App)
		if err != nil || seq < from || seq >= n {
			t.Fatalf("unexpected event %q", ev.App)
		}
		want := testEvent(seq, users)
		wb, _ := want.MarshalBinary()
		if !bytes.Equal(r.Value, wb) {
			t.Errorf("event %d changed on the way", seq)
		}
		wantKey := appendKey(nil, &want)
		if !bytes.Equal(r.Key, wantKey) {
			t.Errorf("event %d has key %x, want %x", seq, r.Key, wantKey)
		}
		if seen[seq] {
			if !dups {
				t.Errorf("event %d delivered twice", seq)
			}
			continue
		}
		seen[seq] = true
		if r.Key == nil {
			continue
		}
		k := string(r.Key)
		if p, ok := partOf[k]; ok && p != r.Partition {
			t.Errorf("key of event %d in partitions %d and %d", seq, p, r.Partition)
		}
		partOf[k] = r.Partition
		if l, ok := last[k]; ok && l > seq {
			t.Errorf("event %d delivered after event %d of the same key", seq, l)
		}
		last[k] = seq
	}
	if len(seen) != n-from {
		t.Errorf("got %d distinct events, want %d", len(seen), n-from)
	}
}

// gather returns every metric in reg by name; histograms as name_count.
func gather(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[mf.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// splitPort returns the host and port of addr.
func splitPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
