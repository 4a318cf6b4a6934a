package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
	duck "github.com/duckdb/duckdb-go/v2"
)

var benchStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// benchPool returns n generated events over one hour.
func benchPool(n int) []admeter.Event {
	g := storetest.NewGenerator(1, storetest.GenConfig{Campaigns: 4, Placements: 20, Start: benchStart.Add(10 * time.Hour), Step: time.Hour / time.Duration(n)})
	evs := make([]admeter.Event, n)
	g.Fill(evs)
	return evs
}

var benchBatches = []int{10_000, 100_000, 250_000}

// BenchmarkInsert measures Insert into a database file: validation,
// dictionary encoding, the appender, the offset and the commit. Compare
// events/s with BenchmarkRawAppender/dict at the same batch size.
func BenchmarkInsert(b *testing.B) {
	pool := benchPool(500_000)
	for _, batch := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			next, i := uint64(0), 0
			b.ReportAllocs()
			for b.Loop() {
				if i+batch > len(pool) {
					i = 0
				}
				next++
				if err := db.Insert(ctx, pool[i:i+batch], next); err != nil {
					b.Fatal(err)
				}
				i += batch
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRawAppender appends the same events, converted to rows before
// the clock starts, with a bare appender (committing on close) into one
// table: "dict" has the store's columns, "varchar" the same with the
// strings stored as VARCHAR instead of dictionary ids.
func BenchmarkRawAppender(b *testing.B) {
	pool := benchPool(500_000)
	dictRows, strRows := rawRows(pool)
	for _, schema := range []struct {
		name    string
		varchar bool
		rows    [][]driver.Value
	}{{"dict", false, dictRows}, {"varchar", true, strRows}} {
		for _, batch := range benchBatches {
			b.Run(fmt.Sprintf("%s/batch=%d", schema.name, batch), func(b *testing.B) {
				raw := openRaw(b, schema.varchar)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					if i+batch > len(schema.rows) {
						i = 0
					}
					raw.append(b, schema.rows[i:i+batch])
					i += batch
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkInsertVsRaw alternates, for the same batch, an Insert, a raw
// append (as in BenchmarkRawAppender/dict) and DuckDB's own INSERT INTO
// events SELECT * FROM a table already holding the batch's rows (no Go
// work at all: the most any client-side bulk path, Arrow included, could
// reach), each into its own file, so that a busy machine slows all alike.
// It reports each one's events/s and the ratios.
func BenchmarkInsertVsRaw(b *testing.B) {
	pool := benchPool(500_000)
	rows, _ := rawRows(pool)
	for _, batch := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			raw := openRaw(b, false)
			ceil := openRaw(b, false)
			ceil.stage(b, rows, batch)
			ctx := context.Background()
			var tInsert, tRaw, tCeil time.Duration
			next, i := uint64(0), 0
			for b.Loop() {
				if i+batch > len(pool) {
					i = 0
				}
				next++
				start := time.Now()
				if err := db.Insert(ctx, pool[i:i+batch], next); err != nil {
					b.Fatal(err)
				}
				tInsert += time.Since(start)
				start = time.Now()
				raw.append(b, rows[i:i+batch])
				tRaw += time.Since(start)
				start = time.Now()
				ceil.insertStaged(b, i/batch)
				tCeil += time.Since(start)
				i += batch
			}
			events := float64(batch * b.N)
			b.ReportMetric(events/tInsert.Seconds(), "insert-events/s")
			b.ReportMetric(events/tRaw.Seconds(), "raw-events/s")
			b.ReportMetric(events/tCeil.Seconds(), "sql-events/s")
			b.ReportMetric(tRaw.Seconds()/tInsert.Seconds(), "insert/raw")
			b.ReportMetric(tCeil.Seconds()/tInsert.Seconds(), "insert/sql")
		})
	}
}

// rawRows converts events to appender rows: with dictionary ids (the
// store's columns), and with the strings themselves.
func rawRows(pool []admeter.Event) (dictRows, strRows [][]driver.Value) {
	d := newDict()
	var m memos
	dictRows = make([][]driver.Value, len(pool))
	strRows = make([][]driver.Value, len(pool))
	for i := range pool {
		dictRows[i] = make([]driver.Value, numEventColumns)
		m.fill(dictRows[i], &pool[i], d)
		e := &pool[i]
		r := append([]driver.Value(nil), dictRows[i]...)
		r[0], r[1], r[2] = string(e.Tenant), string(e.Campaign), string(e.Placement)
		r[12], r[14], r[15], r[17], r[18] = e.OSVersion, e.Browser, e.Model, e.App, e.AppPackage
		r[20], r[21], r[22] = e.Region.Country, e.Region.Province, e.Region.City
		strRows[i] = r
	}
	return dictRows, strRows
}

// rawTable is a bare DuckDB file with one table of event columns.
type rawTable struct {
	conn driver.Conn
}

// openRaw creates it in a temporary directory, with the store's settings;
// varchar makes the string columns VARCHAR.
func openRaw(b *testing.B, varchar bool) *rawTable {
	ctx := context.Background()
	connector, err := duck.NewConnector(filepath.Join(b.TempDir(), "raw.duckdb"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { connector.Close() })
	conn, err := connector.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	columns := eventColumns
	if varchar {
		for _, c := range []string{"tenant", "campaign", "placement", "os_version", "browser", "model", "app", "app_package", "country", "province", "city"} {
			columns = strings.Replace(columns, fmt.Sprintf("\t%-13s UINTEGER", c), fmt.Sprintf("\t%-13s VARCHAR", c), 1)
		}
	}
	ex := conn.(driver.ExecerContext)
	for _, s := range []string{
		"SET GLOBAL checkpoint_threshold = '256MB'",
		"SET GLOBAL preserve_insertion_order = false",
		"CREATE TABLE events (" + columns + ")",
	} {
		if _, err := ex.ExecContext(ctx, s, nil); err != nil {
			b.Fatal(err)
		}
	}
	return &rawTable{conn: conn}
}

// append appends rows with one appender, committing on close.
func (r *rawTable) append(b *testing.B, rows [][]driver.Value) {
	a, err := duck.NewAppenderFromConn(r.conn, "", "events")
	if err != nil {
		b.Fatal(err)
	}
	for _, row := range rows {
		if err := a.AppendRow(row...); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
}

// stage copies rows, in windows of batch rows, into temporary tables
// staged_0, staged_1, … (the window starting at row k*batch in staged_k),
// for insertStaged.
func (r *rawTable) stage(b *testing.B, rows [][]driver.Value, batch int) {
	ex := r.conn.(driver.ExecerContext)
	for k := 0; (k+1)*batch <= len(rows); k++ {
		if _, err := ex.ExecContext(context.Background(), fmt.Sprintf("CREATE TEMP TABLE staged_%d AS SELECT * FROM events LIMIT 0", k), nil); err != nil {
			b.Fatal(err)
		}
		a, err := duck.NewAppender(r.conn, "temp", "main", fmt.Sprintf("staged_%d", k))
		if err != nil {
			b.Fatal(err)
		}
		for _, row := range rows[k*batch : (k+1)*batch] {
			if err := a.AppendRow(row...); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// insertStaged inserts staged_k into events in one statement (one
// transaction): DuckDB's bulk insert with no Go work per row.
func (r *rawTable) insertStaged(b *testing.B, k int) {
	ex := r.conn.(driver.ExecerContext)
	if _, err := ex.ExecContext(context.Background(), fmt.Sprintf("INSERT INTO events SELECT * FROM staged_%d", k), nil); err != nil {
		b.Fatal(err)
	}
}

// benchEvents is the number of events BenchmarkReport loads:
// $ADMETER_BENCH_EVENTS, else 2 000 000.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("ADMETER_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 2_000_000
}

// insertGenerated inserts n events of g into db in batches of 100 000.
func insertGenerated(b *testing.B, db *DB, g *storetest.Generator, n int) {
	batch := make([]admeter.Event, 100_000)
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		g.Fill(evs)
		if err := db.Insert(context.Background(), evs, uint64(off+len(evs))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReport runs reports and frequencies of one of two campaigns
// over five days of generated events, three ways (see compare): "store"
// through Report or Frequency; "sql" the exact SQL they generate, run
// directly (the store's overhead is the difference); "flat" the same
// question written by hand against one table holding every event, with AT
// TIME ZONE (what the partitioning and the offset arithmetic are measured
// against).
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	g := storetest.NewGenerator(2, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: n / 10,
		Start: benchStart, Step: 5 * 24 * time.Hour / time.Duration(n)})
	insertGenerated(b, db, g, n)
	var union []string
	for _, d := range sortedDays(db.parts) {
		union = append(union, "SELECT * FROM "+partitionName(d))
	}
	if _, err := db.sqldb.ExecContext(ctx, "CREATE TABLE flat AS "+strings.Join(union, " UNION ALL ")+" ORDER BY ts; CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d events in %v", n, time.Since(start))

	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	camp := storetest.GenCampaign(0)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai), time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai)
	media := map[admeter.PlacementID]string{}
	for p := range 20 {
		media[storetest.GenPlacement(0, p)] = fmt.Sprintf("media%d", p%4)
	}
	t, _ := db.dict.lookup(string(storetest.DefaultTenant))
	c, _ := db.dict.lookup(string(camp))
	cn, _ := db.dict.lookup("CN")

	for _, tc := range []struct {
		name string
		by   []store.Dimension
		flat string // hand-written: dims, GROUP BY
	}{
		{"total", nil, ""},
		{"day-placement", []store.Dimension{store.ByDay, store.ByPlacement}, "strftime(to_timestamp(ts / 1000) AT TIME ZONE 'Asia/Shanghai', '%Y-%m-%d') AS day, placement"},
		{"hour-region-os", []store.Dimension{store.ByHour, store.ByRegion, store.ByOS}, fmt.Sprintf("strftime(to_timestamp(ts / 1000) AT TIME ZONE 'Asia/Shanghai', '%%Y-%%m-%%dT%%H') AS hour, CASE WHEN country = %d THEN province ELSE country END AS region, os", cn)},
		{"media", []store.Dimension{store.ByMedia}, ""},
	} {
		q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: camp, From: from, To: to, Location: shanghai, By: tc.by, Media: media}
		sc, _ := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
		var query string
		if err := db.read(ctx, func(tx *sql.Tx) error { query, _, err = db.reportSQL(ctx, tx, q, sc); return err }); err != nil {
			b.Fatal(err)
		}
		flat := ""
		if tc.by == nil || tc.flat != "" {
			group, dims := "", ""
			if tc.flat != "" {
				dims = tc.flat + ", "
				var names []string
				for _, d := range strings.Split(tc.flat, ", ") {
					f := strings.Fields(d)
					names = append(names, f[len(f)-1])
				}
				group = "GROUP BY GROUPING SETS ((" + strings.Join(names, ", ") + "), ())"
			}
			flat = fmt.Sprintf(`SELECT %[1]s count(*) FILTER (WHERE kind = 1), count(*) FILTER (WHERE kind = 2),
	count(DISTINCT user_key) FILTER (WHERE kind = 1), count(DISTINCT user_key) FILTER (WHERE kind = 2),
	count(*) FILTER (WHERE kind = 1 AND user_key IS NULL), count(*) FILTER (WHERE kind = 2 AND user_key IS NULL)
FROM (
	SELECT * FROM flat
	WHERE tenant = %[2]d AND campaign = %[3]d AND kind IN (1, 2) AND ts >= %[4]d AND ts < %[5]d
	QUALIFY impression IS NULL OR row_number() OVER (PARTITION BY placement, kind, impression ORDER BY ts, received) = 1
) %[6]s`, dims, t, c, from.UnixMilli(), to.UnixMilli(), group)
		}
		b.Run("report/"+tc.name, func(b *testing.B) {
			compare(b, func() error { _, err := db.Report(ctx, q); return err }, db.sqldb, query, flat)
		})
	}

	fq := store.FrequencyQuery{Tenant: storetest.DefaultTenant, Campaign: camp, From: from, To: to, Location: shanghai}
	sc, _ := db.newScope(fq.Tenant, fq.Campaign, fq.Placements, fq.From, fq.To, fq.Location)
	var query string
	if err := db.read(ctx, func(tx *sql.Tx) error { query, err = db.frequencySQL(ctx, tx, sc, fq.Filter); return err }); err != nil {
		b.Fatal(err)
	}
	flat := fmt.Sprintf(`WITH u AS (
	SELECT user_key, count(*) AS n, min(CAST(to_timestamp(ts / 1000) AT TIME ZONE 'Asia/Shanghai' AS DATE)) AS first_day
	FROM (
		SELECT * FROM flat
		WHERE tenant = %d AND campaign = %d AND kind = 1 AND ts >= %d AND ts < %d
		QUALIFY impression IS NULL OR row_number() OVER (PARTITION BY placement, impression ORDER BY ts, received) = 1
	)
	WHERE user_key IS NOT NULL
	GROUP BY user_key
)
SELECT least(n, 10) AS bucket, NULL AS first_day, count(*), sum(n) FROM u GROUP BY 1
UNION ALL SELECT NULL, first_day, count(*), NULL FROM u GROUP BY 2`, t, c, from.UnixMilli(), to.UnixMilli())
	b.Run("frequency", func(b *testing.B) {
		compare(b, func() error { _, err := db.Frequency(ctx, fq); return err }, db.sqldb, query, flat)
	})
}

// compare runs, in turn in each iteration, the store's method, its SQL
// run directly and (unless "") the hand-written flat-table SQL, and
// reports the milliseconds of each and the ratios: interleaving keeps a
// busy machine from favouring one of them.
func compare(b *testing.B, method func() error, db *sql.DB, query, flat string) {
	var tStore, tSQL, tFlat time.Duration
	for b.Loop() {
		start := time.Now()
		if err := method(); err != nil {
			b.Fatal(err)
		}
		tStore += time.Since(start)
		start = time.Now()
		drain(b, db, query)
		tSQL += time.Since(start)
		if flat != "" {
			start = time.Now()
			drain(b, db, flat)
			tFlat += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(tStore.Seconds()*1000/n, "store-ms")
	b.ReportMetric(tSQL.Seconds()*1000/n, "sql-ms")
	b.ReportMetric(tStore.Seconds()/tSQL.Seconds(), "store/sql")
	if flat != "" {
		b.ReportMetric(tFlat.Seconds()*1000/n, "flat-ms")
		b.ReportMetric(tStore.Seconds()/tFlat.Seconds(), "store/flat")
	}
}

// drain runs query and reads every row.
func drain(b *testing.B, db *sql.DB, query string) {
	rows, err := db.Query(query)
	if err != nil {
		b.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDaily reads a month of one campaign's rollups from a table of a
// million rows of 5000 campaigns, the campaign's rows spread over all of it
// (no zone map can skip any).
func BenchmarkDaily(b *testing.B) {
	ctx := context.Background()
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.Insert(b, db, 1, storetest.Imp(benchStart, storetest.Placement("p1")))
	t, _ := db.dict.lookup(string(storetest.DefaultTenant))
	p, _ := db.dict.lookup("p1")
	if _, err := db.sqldb.ExecContext(ctx, fmt.Sprintf(`INSERT INTO daily
		SELECT %[1]d, i %% 5000, %[2]d, DATE '2026-01-01' + (i // 100000)::INTEGER, i %% 1000, i %% 10, i %% 900, i %% 9, 1, 0,
			i %% 100, i %% 3, i %% 90, i %% 2, 0, 0, i %% 5, 0 FROM range(1000000) r(i);
		INSERT INTO daily SELECT %[1]d, c.id, %[2]d, DATE '2026-03-01' + d::INTEGER, 100, 10, 90, 9, 1, 0, 10, 1, 9, 1, 0, 0, 2, 0
			FROM range(31) r(d), (SELECT id FROM strs WHERE s = %[3]s) c;
		CHECKPOINT`, t, p, quote(string(storetest.DefaultCampaign)))); err != nil {
		b.Fatal(err)
	}
	q := store.DailyQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: store.Date{Year: 2026, Month: 3, Day: 1}, To: store.Date{Year: 2026, Month: 3, Day: 31}}
	b.ReportAllocs()
	for b.Loop() {
		rows, err := db.Daily(ctx, q)
		if err != nil || len(rows) != 31 {
			b.Fatalf("Daily: %d rows, %v", len(rows), err)
		}
	}
}

// BenchmarkUserRights loads 30 UTC days of 100 000 generated events each
// (3M events, 100 000 users, a few of them very active) and measures the
// end-user and retention functions over every partition: UserEvents for
// one ordinary user, ten users, the most active user (all of its events,
// and its first 100), RawDays, KeyVersions, and last DeleteUsers of one
// ordinary user (a different one each iteration).
func BenchmarkUserRights(b *testing.B) {
	const days, perDay = 30, 100_000
	ctx := context.Background()
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	const users = 100_000
	g := storetest.NewGenerator(3, storetest.GenConfig{Campaigns: 4, Placements: 20, Users: users,
		Start: benchStart, Step: 24 * time.Hour / perDay})
	batch := make([]admeter.Event, perDay)
	for d := range days {
		g.Fill(batch)
		if err := db.Insert(ctx, batch, uint64(d+1)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.sqldb.ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d events in %d partitions in %v", days*perDay, len(db.parts), time.Since(start))

	// The generator's user n is RandomID(0x55, n); n = 1 is the most active.
	user := func(n int) admeter.Pseudonym { return storetest.RandomID(0x55, n) }
	ordinary := []admeter.Pseudonym{user(users / 2)}
	var ten []admeter.Pseudonym
	for i := range 10 {
		ten = append(ten, user(users/3+i*997))
	}
	heavy := []admeter.Pseudonym{user(1)}
	for _, tc := range []struct {
		name  string
		users []admeter.Pseudonym
		limit int
	}{
		{"events/users=1", ordinary, 100_000},
		{"events/users=10", ten, 100_000},
		{"events/heavy", heavy, 100_000},
		{"events/heavy-limit=100", heavy, 100},
	} {
		evs, _, err := db.UserEvents(ctx, storetest.DefaultTenant, tc.users, tc.limit)
		if err != nil || len(evs) == 0 {
			b.Fatalf("%s: %d events, %v", tc.name, len(evs), err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := db.UserEvents(ctx, storetest.DefaultTenant, tc.users, tc.limit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(evs)), "events")
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
		})
	}
	b.Run("rawdays", func(b *testing.B) {
		for b.Loop() {
			if d, err := db.RawDays(ctx); err != nil || len(d) != days {
				b.Fatalf("RawDays: %d days, %v", len(d), err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
	b.Run("keyversions", func(b *testing.B) {
		for b.Loop() {
			if v, err := db.KeyVersions(ctx); err != nil || len(v) != 1 {
				b.Fatalf("KeyVersions: %v, %v", v, err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
	b.Run("delete/users=1", func(b *testing.B) {
		n, deleted := users/4, int64(0)
		for b.Loop() {
			n++
			d, err := db.DeleteUsers(ctx, storetest.DefaultTenant, []admeter.Pseudonym{user(n)})
			if err != nil {
				b.Fatal(err)
			}
			deleted += d.Events
		}
		b.ReportMetric(float64(deleted)/float64(b.N), "events")
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
}

// BenchmarkJudgeBehaviour judges one UTC day of ADMETER_BENCH_EVENTS / 2
// generated events (with the day before and after, a quarter as many each,
// as context) under the default thresholds of package behaviour; every
// iteration recomputes every rule over the whole day. Reported: events
// judged per second.
func BenchmarkJudgeBehaviour(b *testing.B) {
	ctx := context.Background()
	n := benchEvents() / 2
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	load := func(seed uint64, start time.Time, count int, next uint64) {
		g := storetest.NewGenerator(seed, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: max(count/5, 1), Start: start, Step: 24 * time.Hour / time.Duration(count)})
		batch := make([]admeter.Event, 100_000)
		for off := 0; off < count; off += len(batch) {
			k := min(len(batch), count-off)
			g.Fill(batch[:k])
			next++
			if err := db.Insert(ctx, batch[:k], next); err != nil {
				b.Fatal(err)
			}
		}
	}
	load(4, benchStart, n/4, 0)
	load(5, benchStart.AddDate(0, 0, 1), n, 1000)
	load(6, benchStart.AddDate(0, 0, 2), n/4, 2000)
	all := store.BehaviourRules{
		UserFrequency:  []store.WindowLimit{{Window: time.Minute, Max: 10}, {Window: time.Hour, Max: 30}, {Window: 24 * time.Hour, Max: 300}},
		NetFrequency:   []store.WindowLimit{{Window: time.Minute, Max: 600}, {Window: time.Hour, Max: 20000}},
		OrphanLookback: 24 * time.Hour, OrphanSkew: 5 * time.Minute, MinClickDelay: time.Second,
		UserCTR: store.CTRLimit{MinClicks: 5, MaxCTR: 0.5}, NetCTR: store.CTRLimit{MinClicks: 30, MaxCTR: 0.1},
		HopWindow: 10 * time.Minute, MaxNets: 4, MaxRegions: 2, ConcentrationMin: 10000, ConcentrationShare: 0.02, NetConcentrationShare: 0.25,
	}
	day := store.DateOf(benchStart.AddDate(0, 0, 1))
	// Each rule alone, then all of them (the default configuration).
	for _, c := range []struct {
		name  string
		rules store.BehaviourRules
	}{
		{"none", store.BehaviourRules{}},
		{"user-frequency", store.BehaviourRules{UserFrequency: all.UserFrequency}},
		{"net-frequency", store.BehaviourRules{NetFrequency: all.NetFrequency}},
		{"clicks", store.BehaviourRules{OrphanLookback: all.OrphanLookback, OrphanSkew: all.OrphanSkew, MinClickDelay: all.MinClickDelay}},
		{"ctr", store.BehaviourRules{UserCTR: all.UserCTR, NetCTR: all.NetCTR}},
		{"hopping", store.BehaviourRules{HopWindow: all.HopWindow, MaxNets: all.MaxNets, MaxRegions: all.MaxRegions}},
		{"concentration", store.BehaviourRules{ConcentrationMin: all.ConcentrationMin, ConcentrationShare: all.ConcentrationShare, NetConcentrationShare: all.NetConcentrationShare}},
		{"all", all},
	} {
		b.Run(c.name, func(b *testing.B) {
			var judged store.Judged
			var err error
			for b.Loop() {
				if judged, err = db.JudgeBehaviour(ctx, day, c.rules); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(judged.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.Logf("day of %d events: %d flagged by some rule (%v)", judged.Events, sumFlagged(judged), judged.Flagged)
		})
	}
}

func sumFlagged(j store.Judged) int64 {
	var n int64
	for _, v := range j.Flagged {
		n += v
	}
	return n
}

// BenchmarkViewAttribution loads five days of generated events (1M by
// default, $ADMETER_BENCH_EVENTS / 2 if set) with what viewability, video
// and conversions add to them: a result for 70 % of the impressions with
// an id, video pings for a fifth of them, a click id on half the clicks,
// a conversion for a tenth of the clicks and for 0.2 % of the impressions;
// then measures Viewability of one of two campaigns over the five days
// (total, and by day and placement) and Attribution of the tenant's
// conversions of two days with a 7-day lookback.
func BenchmarkViewAttribution(b *testing.B) {
	ctx := context.Background()
	n := benchEvents() / 2
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	g := storetest.NewGenerator(3, storetest.GenConfig{Campaigns: 2, Placements: 20, Users: n / 10,
		Start: benchStart, Step: 5 * 24 * time.Hour / time.Duration(n)})
	r := rand.New(rand.NewPCG(3, 4))
	base := make([]admeter.Event, 50_000)
	var total, convs int
	for off := 0; off < n; off += len(base) {
		evs := base[:min(len(base), n-off)]
		g.Fill(evs)
		batch := slices.Clone(evs)
		for i := range evs {
			e := &batch[i]
			derived := func(k admeter.Kind, d time.Duration) admeter.Event {
				x := admeter.Event{Kind: k, Tenant: e.Tenant, Campaign: e.Campaign, Placement: e.Placement, At: e.At.Add(d), Received: e.Received.Add(d),
					User: e.User, UserType: e.UserType, KeyVersion: 1, ImpressionID: e.ImpressionID, OS: e.OS, DeviceType: e.DeviceType, Region: e.Region}
				return x
			}
			switch {
			case e.Kind == admeter.KindClick:
				if r.IntN(2) == 0 {
					e.ClickID = storetest.RandomID(0x63, off+i)
				}
				if r.IntN(10) == 0 && !(e.User.IsZero() && e.ClickID.IsZero()) {
					c := derived(admeter.KindConversion, time.Hour)
					c.Campaign, c.Placement, c.ImpressionID = "", "", admeter.Pseudonym{}
					c.ConversionID, c.ConversionType, c.ClickID = storetest.RandomID(0x43, off+i), admeter.ConversionOrder, e.ClickID
					c.Value, c.Currency = int64(r.IntN(1000))*1_000_000, "CNY"
					batch = append(batch, c)
					convs++
				}
			case e.Kind == admeter.KindImpression && !e.ImpressionID.IsZero():
				if k := r.IntN(100); k < 70 {
					v := derived(admeter.KindViewability, 2*time.Second)
					v.View = admeter.ViewViewable // 40 %, then 25 % not viewable, 5 % unmeasurable
					if k >= 65 {
						v.View = admeter.ViewUnmeasurable
					} else if k >= 40 {
						v.View = admeter.ViewNotViewable
					}
					batch = append(batch, v)
				}
				if r.IntN(5) == 0 {
					e.VideoDuration, e.VideoPlay = 15*time.Second, admeter.PlayAuto
					for p := admeter.ProgressStart; p <= admeter.Progress100 && r.IntN(5) != 0; p++ {
						v := derived(admeter.KindVideo, time.Duration(p)*3*time.Second)
						v.VideoProgress = p
						batch = append(batch, v)
					}
				}
				if r.IntN(500) == 0 && !e.User.IsZero() {
					c := derived(admeter.KindConversion, 2*time.Hour)
					c.Campaign, c.Placement, c.ImpressionID = "", "", admeter.Pseudonym{}
					c.ConversionID, c.ConversionType = storetest.RandomID(0x43, off+i), admeter.ConversionActivation
					batch = append(batch, c)
					convs++
				}
			}
		}
		if err := db.Insert(ctx, batch, uint64(off+1)); err != nil {
			b.Fatal(err)
		}
		total += len(batch)
	}
	b.Logf("loaded %d events (%d generated, %d conversions) in %v", total, n, convs, time.Since(start))

	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai), time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai)
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0), From: from, To: to, Location: shanghai}
	for _, by := range [][]store.Dimension{nil, {store.ByDay, store.ByPlacement}} {
		q.By = by
		b.Run(fmt.Sprintf("viewability/by=%v", by), func(b *testing.B) {
			var res *store.ViewReport
			for b.Loop() {
				if res, err = db.Viewability(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Total.Measurable), "measurable")
		})
	}
	aq := store.AttributionQuery{Tenant: storetest.DefaultTenant, From: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), Lookback: 7 * 24 * time.Hour}
	b.Run("attribution/2days-lookback7d", func(b *testing.B) {
		var res *store.AttributionData
		for b.Loop() {
			if res, err = db.Attribution(ctx, aq); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(res.Conversions)), "conversions")
		b.ReportMetric(float64(len(res.Touches)), "touches")
	})
}

// BenchmarkAudience loads ten days of generated events of two tenants
// (400 000 by default, $ADMETER_BENCH_EVENTS / 5 if set; the tenants'
// users overlap, 5 % of the events are invalid), gives each of their
// placements one to three of 30 categories, and measures Audience of one
// campaign over the last three days: without categories, and with
// interests of 2 days in a 7-day lookback, at most 5 a user.
func BenchmarkAudience(b *testing.B) {
	ctx := context.Background()
	n := benchEvents() / 5
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	cfg := storetest.GenConfig{Campaigns: 3, Placements: 20, Users: n / 10, Start: benchStart, Step: 2 * 10 * 24 * time.Hour / time.Duration(n), IVTPercent: 5}
	gens := []*storetest.Generator{storetest.NewGenerator(4, cfg), nil}
	cfg.Tenant = "t2"
	gens[1] = storetest.NewGenerator(5, cfg)
	batch := make([]admeter.Event, 50_000)
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		gens[off/len(batch)%2].Fill(evs)
		if err := db.Insert(ctx, evs, uint64(off+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %v", n, time.Since(start))

	r := rand.New(rand.NewPCG(4, 5))
	cats := map[admeter.PlacementID][]string{}
	for c := range cfg.Campaigns {
		for p := range cfg.Placements {
			for range 1 + r.IntN(3) {
				id := storetest.GenPlacement(c, p)
				cats[id] = append(cats[id], strconv.Itoa(1+r.IntN(30)))
			}
		}
	}
	q := store.AudienceQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0),
		From: benchStart.Add(7 * 24 * time.Hour), To: benchStart.Add(10 * 24 * time.Hour), InterestDays: 1, MaxInterests: 5}
	for _, tc := range []struct {
		name string
		cats map[admeter.PlacementID][]string
	}{{"no-interests", nil}, {"interests-2days-in-7", cats}} {
		q.Categories = tc.cats
		if tc.cats != nil {
			q.InterestDays, q.InterestLookback = 2, 7*24*time.Hour
		}
		b.Run(tc.name, func(b *testing.B) {
			var res *store.AudienceResult
			for b.Loop() {
				if res, err = db.Audience(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Reach), "reach")
			b.ReportMetric(float64(res.Baseline), "baseline")
			b.ReportMetric(float64(len(res.Cells)), "cells")
		})
	}
}

// BenchmarkReachSets runs ReachSets over three campaigns' benchEvents()/5
// generated events in ten days (400 000 by default), with the campaigns'
// 60 placements in 10 groups (media), with and without the waste above 3,
// and in 60 groups (one per placement).
func BenchmarkReachSets(b *testing.B) {
	ctx := context.Background()
	n := benchEvents() / 5
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	cfg := storetest.GenConfig{Campaigns: 3, Placements: 20, Users: n / 10, Start: benchStart, Step: 10 * 24 * time.Hour / time.Duration(n), IVTPercent: 5}
	g := storetest.NewGenerator(6, cfg)
	batch := make([]admeter.Event, 50_000)
	for off := 0; off < n; off += len(batch) {
		evs := batch[:min(len(batch), n-off)]
		g.Fill(evs)
		if err := db.Insert(ctx, evs, uint64(off+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %v", n, time.Since(start))

	media, placements := map[admeter.PlacementID]int{}, map[admeter.PlacementID]int{}
	var campaigns []admeter.CampaignID
	for c := range cfg.Campaigns {
		campaigns = append(campaigns, storetest.GenCampaign(c))
		for p := range cfg.Placements {
			id := storetest.GenPlacement(c, p)
			media[id], placements[id] = (c*cfg.Placements+p)%10, c*cfg.Placements+p
		}
	}
	for _, tc := range []struct {
		name   string
		groups map[admeter.PlacementID]int
		waste  int
	}{{"10-groups", media, 0}, {"10-groups-waste-3", media, 3}, {"60-groups", placements, 0}} {
		q := store.ReachSetQuery{Tenants: []admeter.TenantID{storetest.DefaultTenant}, Campaigns: campaigns,
			From: benchStart, To: benchStart.Add(10 * 24 * time.Hour), Groups: tc.groups, WasteAbove: tc.waste}
		b.Run(tc.name, func(b *testing.B) {
			var res *store.ReachSetResult
			for b.Loop() {
				if res, err = db.ReachSets(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			var users int64
			for _, s := range res.Sets {
				users += s.Users
			}
			b.ReportMetric(float64(users), "users")
			b.ReportMetric(float64(len(res.Sets)), "sets")
		})
	}
}
