package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// BenchmarkVisibility runs the statements of a report (its total, and its
// rows by day and placement) over the same loaded events with each
// condition on column batch a query may carry, in one process so that
// they compare: none; the single comparison of schema version 2 (batch <=
// latest); the view of an idle store (batch < bound); and that of a busy
// one, with the commits of the last TTL listed (200 batches) and 20
// batches hidden. Then the cost of reading the view itself (with the
// loads of 100 batches in the window), against that of reading the
// latest batch as schema version 2 did.
func BenchmarkVisibility(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	db := openDB(b, createDatabase(b, ""))
	g := storetest.NewGenerator(2, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: n / 10,
		Start: benchStart, Step: 5 * 24 * time.Hour / time.Duration(n)})
	batch := make([]admeter.Event, 10_000)
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		g.Fill(evs)
		if err := db.InsertFrom(ctx, evs, map[int32]int64{0: int64(off + len(evs))}); err != nil {
			b.Fatal(err)
		}
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0),
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai), To: time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai), Location: shanghai,
		By: []store.Dimension{store.ByDay, store.ByPlacement}}
	sc, err := db.newScope(ctx, q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	if err != nil {
		b.Fatal(err)
	}
	if len(sc.view.recent) > 0 || len(sc.view.hidden) > 0 {
		// The loads above are recent: move the bound past them, as in a
		// store whose last load is a TTL old.
		sc.view = view{bound: ^uint64(0)}
	}
	idle := sc.view.and()
	busy := view{bound: sc.view.bound - 1<<40}
	for i := range 200 {
		busy.recent = append(busy.recent, busy.bound+uint64(i)*7919)
	}
	for i := range 20 {
		busy.hidden = append(busy.hidden, busy.bound-uint64(i+1)*104729)
	}
	rowsSQL, totalSQL := reportSQL(q, sc)
	for _, c := range []struct{ name, cond string }{
		{"none", ""},
		{"v2-latest", " AND batch <= 18446744073709551614"},
		{"v3-idle", idle},
		{"v3-busy", busy.and()},
	} {
		for stmt, sql := range map[string]string{"total": totalSQL, "day-placement": rowsSQL} {
			sql := strings.ReplaceAll(sql, idle, c.cond)
			b.Run(stmt+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					rows, err := db.conn.Query(ctx, sql)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					rows.Close()
				}
			})
		}
	}
	b.Run("read-v2-latest", func(b *testing.B) {
		for b.Loop() {
			var v uint64
			if err := db.conn.QueryRow(ctx, `SELECT greatest((SELECT max(value) FROM meta WHERE key = 'offset'), (SELECT max(batch) FROM batches))`).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-view", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.view(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
