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

// loadGenerated loads n generated events (seed) over five days into db
// with InsertFrom in batches of 10 000, the batches spread over parts
// partitions; derive, when not nil, turns each generated batch (of offset
// off) into the events loaded.
func loadGenerated(b *testing.B, db *DB, seed uint64, n, parts int, derive func(off int, evs []admeter.Event) []admeter.Event) {
	ctx := context.Background()
	start := time.Now()
	g := storetest.NewGenerator(seed, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: n / 10,
		Start: benchStart, Step: 5 * 24 * time.Hour / time.Duration(n)})
	batch := make([]admeter.Event, 10_000)
	loaded := 0
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		g.Fill(evs)
		next := int64(off + len(evs))
		if derive != nil {
			evs = derive(off, evs)
		}
		loaded += len(evs)
		if err := db.InsertFrom(ctx, evs, map[int32]int64{int32(off / len(batch) % parts): next}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %v", loaded, time.Since(start))
}

// benchQuery returns the query of the report benchmarks: the first
// generated campaign over the five days, in Shanghai.
func benchQuery() store.ReportQuery {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	return store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0),
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai), To: time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai), Location: shanghai}
}

// benchBreakdowns runs run over q as sub-benchmarks named prefix plus
// the breakdown: the total, by day and placement, by hour, region and OS.
func benchBreakdowns(b *testing.B, prefix string, q store.ReportQuery, run func(store.ReportQuery) error) {
	for _, tc := range []struct {
		name string
		by   []store.Dimension
	}{
		{"total", nil},
		{"day-placement", []store.Dimension{store.ByDay, store.ByPlacement}},
		{"hour-region-os", []store.Dimension{store.ByHour, store.ByRegion, store.ByOS}},
	} {
		b.Run(prefix+tc.name, func(b *testing.B) {
			q := q
			q.By = tc.by
			for b.Loop() {
				if err := run(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReport runs reports and a frequency of one of two campaigns
// over five days of generated events loaded with InsertFrom in batches of
// 10 000: the visibility condition on column batch runs in every one.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	db := openDB(b, createDatabase(b, ""))
	loadGenerated(b, db, 2, n, 4, nil)
	q := benchQuery()
	benchBreakdowns(b, "", q, func(q store.ReportQuery) error {
		_, err := db.Report(ctx, q)
		return err
	})
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

// BenchmarkViewAttribution runs Viewability and Attribution over five
// days of generated events (benchEvents of them) loaded with InsertFrom
// in batches of 10 000, to which it adds: a viewability result 2 s after
// every impression with an impression id (two in three viewable), video
// fields and progress pings on a quarter of those, and a conversion an
// hour after one click with a user in five (every second one reporting
// the click's user, the others a click id the click carries).
func BenchmarkViewAttribution(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	db := openDB(b, createDatabase(b, ""))
	convs := 0
	loadGenerated(b, db, 3, n, 1, func(off int, evs []admeter.Event) []admeter.Event {
		var out []admeter.Event
		for i := range evs {
			e := evs[i]
			k := off + i
			switch {
			case e.Kind == admeter.KindImpression && !e.ImpressionID.IsZero():
				res := e
				res.Kind, res.At, res.Received, res.View = admeter.KindViewability, e.At.Add(2*time.Second), e.Received.Add(2*time.Second), admeter.ViewViewable
				if k%3 == 0 {
					res.View = admeter.ViewNotViewable
				}
				if k%4 == 0 {
					e.VideoDuration, e.VideoPlay = 15*time.Second, admeter.PlayAuto
					for p := admeter.ProgressStart; p <= admeter.ProgressStart+admeter.VideoProgress(k%5); p++ {
						ping := res
						ping.Kind, ping.View, ping.VideoProgress = admeter.KindVideo, admeter.ViewNone, p
						ping.At = e.At.Add(time.Duration(p) * 3 * time.Second)
						out = append(out, ping)
					}
				}
				out = append(out, e, res)
			case e.Kind == admeter.KindClick && !e.User.IsZero() && k%5 == 0:
				convs++
				var id admeter.Pseudonym
				copy(id[:], fmt.Sprintf("conv%012d", convs))
				c := admeter.Event{Kind: admeter.KindConversion, Tenant: e.Tenant, At: e.At.Add(time.Hour), Received: e.Received.Add(time.Hour),
					KeyVersion: 1, ConversionID: id, ConversionType: admeter.ConversionOrder, Value: 10_000_000, Currency: "CNY"}
				if convs%2 == 0 {
					c.User, c.UserType = e.User, e.UserType
				} else {
					copy(e.ClickID[:], fmt.Sprintf("click%011d", convs))
					c.ClickID = e.ClickID
				}
				out = append(out, e, c)
			default:
				out = append(out, e)
			}
		}
		return out
	})
	b.Logf("%d conversions", convs)
	q := benchQuery()
	benchBreakdowns(b, "viewability/", q, func(q store.ReportQuery) error {
		_, err := db.Viewability(ctx, q)
		return err
	})
	b.Run("attribution", func(b *testing.B) {
		aq := store.AttributionQuery{Tenant: q.Tenant, From: benchStart.Add(48 * time.Hour), To: benchStart.Add(5 * 24 * time.Hour), Lookback: 7 * 24 * time.Hour}
		var d *store.AttributionData
		for b.Loop() {
			var err error
			if d, err = db.Attribution(ctx, aq); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(d.Conversions)), "conversions")
		b.ReportMetric(float64(len(d.Touches)), "touches")
	})
}
