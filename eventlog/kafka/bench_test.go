package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/admeter/admeter"
)

// BenchmarkAppend measures Append throughput against an in-process kfake
// cluster that acknowledges without storing (BlackholeProduce), with
// concurrent callers as the collector has them; batch is the events per
// Append (1 for the pixel path); linger overrides the Producer's 0.
// It reports events/s.
//
//	go test -run '^$' -bench Append -benchtime 3s ./eventlog/kafka
func BenchmarkAppend(b *testing.B) {
	for _, bench := range []struct {
		name   string
		batch  int
		spill  bool // brokers down: every Append goes to the spill log
		linger time.Duration
	}{
		{"pixel", 1, false, -1},
		{"pixel/linger1ms", 1, false, time.Millisecond},
		{"pixel/linger10ms", 1, false, 10 * time.Millisecond},
		{"batch100", 100, false, -1},
		{"spill/pixel", 1, true, -1},
	} {
		b.Run(bench.name, func(b *testing.B) {
			addr, _ := deadAddr(b)
			if !bench.spill {
				_, addr = newCluster(b, 8, 0, kfake.BlackholeProduce())
			}
			cfg := testConfig(b, addr)
			if bench.linger >= 0 {
				cfg.ClientOptions = append(cfg.ClientOptions, kgo.ProducerLinger(bench.linger))
			}
			p := newProducer(b, cfg, nil)
			if bench.spill {
				// Pay the first timeout before the clock starts.
				if err := p.Append(context.Background(), []admeter.Event{testEvent(0, 1)}); err != nil {
					b.Fatal(err)
				}
			}
			evs := make([]admeter.Event, bench.batch)
			for i := range evs {
				evs[i] = testEvent(i, 1000)
			}
			b.SetParallelism(32)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Append(context.Background(), evs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*bench.batch)/time.Since(start).Seconds(), "events/s")
			if !bench.spill && p.Backlog() != 0 {
				b.Errorf("%d events spilled against a healthy cluster", p.Backlog())
			}
		})
	}
}

// BenchmarkEncode is the cost of turning events into records.
func BenchmarkEncode(b *testing.B) {
	evs := make([]admeter.Event, 100)
	for i := range evs {
		evs[i] = testEvent(i, 10)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := encode(evs, testTopic); err != nil {
			b.Fatal(fmt.Errorf("encode: %w", err))
		}
	}
}
