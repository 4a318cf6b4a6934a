package clickhouse

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// The benchmarks use the exported API only, so that the same file runs
// against an earlier version of the package (before/after comparisons).

var benchStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkInsertFrom measures loading batches of several sizes with
// InsertFrom into one partition (one writer): the fixed cost of a batch
// (round trips of the commit protocol) shows in the small ones, the cost
// per event in the large ones.
//
// The layouts: one server, 2 shards, 2 shards × 2 replicas (the loader
// waits for every replica before it commits).
func BenchmarkInsertFrom(b *testing.B) {
	pool := make([]admeter.Event, 100_000)
	storetest.NewGenerator(1, storetest.GenConfig{Campaigns: 2, Placements: 20, Start: benchStart, Step: time.Hour / time.Duration(len(pool))}).Fill(pool)
	for _, layout := range []struct {
		name string
		env  func(testing.TB) env
	}{{"single", func(testing.TB) env { return single }}, {"sharded", sharded}, {"replicated", replicated}} {
		for _, size := range []int{1, 1_000, 100_000} {
			b.Run(fmt.Sprintf("%s/batch=%d", layout.name, size), func(b *testing.B) {
				benchInsertFrom(b, layout.env(b), pool[:size])
			})
		}
	}
}

// benchInsertFrom loads pool as one batch per iteration into a new
// database of e.
func benchInsertFrom(b *testing.B, e env, pool []admeter.Event) {
	db := e.open(b, e.create(b), Options{})
	ctx := context.Background()
	next := int64(0)
	for b.Loop() {
		next++
		if err := db.InsertFrom(ctx, pool, map[int32]int64{0: next}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pool)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// benchEvents is the number of events BenchmarkReport loads:
// $ADMETER_BENCH_EVENTS, else 1 000 000.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("ADMETER_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkReport runs reports and a frequency of one of two campaigns
// over five days of generated events loaded with InsertFrom in batches of
// 10 000: the visibility condition on column batch runs in every one.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	db := openDB(b, createDatabase(b, ""))
	start := time.Now()
	g := storetest.NewGenerator(2, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: n / 10,
		Start: benchStart, Step: 5 * 24 * time.Hour / time.Duration(n)})
	batch := make([]admeter.Event, 10_000)
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		g.Fill(evs)
		if err := db.InsertFrom(ctx, evs, map[int32]int64{int32(off / len(batch) % 4): int64(off + len(evs))}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %v", n, time.Since(start))
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0),
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai), To: time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai), Location: shanghai}
	for _, tc := range []struct {
		name string
		by   []store.Dimension
	}{
		{"total", nil},
		{"day-placement", []store.Dimension{store.ByDay, store.ByPlacement}},
		{"hour-region-os", []store.Dimension{store.ByHour, store.ByRegion, store.ByOS}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := q
			q.By = tc.by
			for b.Loop() {
				if _, err := db.Report(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("frequency", func(b *testing.B) {
		fq := store.FrequencyQuery{Tenant: q.Tenant, Campaign: q.Campaign, From: q.From, To: q.To, Location: q.Location}
		for b.Loop() {
			if _, err := db.Frequency(ctx, fq); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("positions", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Positions(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
