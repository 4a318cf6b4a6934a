package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
	duck "github.com/duckdb/duckdb-go/v2"
)

var (
	imp   = storetest.Imp
	click = storetest.Click
	user  = storetest.User
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// tables returns the event partition tables that exist, and those the
// partitions catalog lists.
func tables(t *testing.T, db *DB) (exist, listed []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.sqldb.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'events_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		exist = append(exist, s)
	}
	rows2, err := db.sqldb.QueryContext(ctx, `SELECT name FROM partitions ORDER BY day`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows2.Close()
	for rows2.Next() {
		var s string
		if err := rows2.Scan(&s); err != nil {
			t.Fatal(err)
		}
		listed = append(listed, s)
	}
	return exist, listed
}

func count(t *testing.T, db *DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.sqldb.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func checkTables(t *testing.T, db *DB, want ...string) {
	t.Helper()
	exist, listed := tables(t, db)
	if !reflect.DeepEqual(exist, want) || !reflect.DeepEqual(listed, want) {
		t.Fatalf("partition tables %v, catalog %v; want %v", exist, listed, want)
	}
}

// TestPartitions: one table per UTC day, created on demand and recorded in
// the catalog; retention drops whole days and deletes rows only in the
// boundary day.
func TestPartitions(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	storetest.Insert(t, db, 1,
		imp(utc("2026-03-01T00:00:00Z"), user(1)), imp(utc("2026-03-01T23:59:59.999Z"), user(1)),
		imp(utc("2026-03-02T01:00:00Z"), user(2)), imp(utc("2026-03-02T20:00:00Z"), user(2)),
	)
	storetest.Insert(t, db, 2, imp(utc("2026-03-04T08:00:00Z"), user(3)), imp(utc("2026-03-02T21:00:00Z"), user(3)))
	checkTables(t, db, "events_20260301", "events_20260302", "events_20260304")
	for table, want := range map[string]int64{"events_20260301": 2, "events_20260302": 3, "events_20260304": 1} {
		if n := count(t, db, table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}

	n, err := db.DeleteBefore(ctx, utc("2026-03-02T12:00:00Z"))
	if err != nil || n != 3 {
		t.Fatalf("DeleteBefore = %d, %v; want 3", n, err)
	}
	checkTables(t, db, "events_20260302", "events_20260304")
	if n := count(t, db, "events_20260302"); n != 2 {
		t.Errorf("boundary day has %d rows, want 2", n)
	}
	// At a day boundary nothing is deleted row by row.
	if n, err := db.DeleteBefore(ctx, utc("2026-03-04T00:00:00Z")); err != nil || n != 2 {
		t.Fatalf("DeleteBefore = %d, %v; want 2", n, err)
	}
	checkTables(t, db, "events_20260304")
	// A late event brings its day back.
	storetest.Insert(t, db, 3, imp(utc("2026-03-01T10:00:00Z"), user(4)))
	checkTables(t, db, "events_20260301", "events_20260304")
}

// TestQueryReadsOverlappingPartitions: a query reads only the partitions
// of the UTC days its range overlaps, with no time filter on days it
// covers whole.
func TestQueryReadsOverlappingPartitions(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	for i, day := range []string{"2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"} {
		storetest.Insert(t, db, uint64(i+1), imp(utc(day+"T12:00:00Z"), user(1)))
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		from, to time.Time
		want     []string
	}{
		// 2026-03-02 local in Shanghai is [03-01T16:00Z, 03-02T16:00Z).
		{time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai), time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai),
			[]string{"events_20260301 WHERE tenant = 1 AND campaign = 2 AND kind IN (1, 2) AND ts >= 1772380800000", "events_20260302 WHERE tenant = 1 AND campaign = 2 AND kind IN (1, 2) AND ts < 1772467200000"}},
		{utc("2026-03-01T00:00:00Z"), utc("2026-03-03T00:00:00Z"),
			[]string{"events_20260301 WHERE tenant = 1 AND campaign = 2 AND kind IN (1, 2) UNION", "events_20260302 WHERE tenant = 1 AND campaign = 2 AND kind IN (1, 2))"}},
	} {
		q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: tc.from, To: tc.to, Location: shanghai}
		sc, _ := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
		var query string
		err := db.read(ctx, func(tx *sql.Tx) error {
			var err error
			query, _, err = db.reportSQL(ctx, tx, q, sc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(query), " ")
		for _, w := range tc.want {
			if !strings.Contains(flat, w) {
				t.Errorf("query for [%s, %s) lacks %q:\n%s", tc.from, tc.to, w, flat)
			}
		}
		for _, other := range []string{"events_20260228", "events_20260303", "events_20260304"} {
			if strings.Contains(query, other) {
				t.Errorf("query for [%s, %s) reads %s", tc.from, tc.to, other)
			}
		}
	}
}

// TestAppenderJoinsTransaction: rows appended inside a transaction are
// invisible to other connections until it commits, and gone if it rolls
// back. Insert's exactly-once guarantee rests on this.
func TestAppenderJoinsTransaction(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	if _, err := db.sqldb.ExecContext(ctx, `CREATE TABLE t (x BIGINT)`); err != nil {
		t.Fatal(err)
	}
	appendRows := func(tx *sql.Tx, n int) {
		t.Helper()
		err := db.wconn.Raw(func(dc any) error {
			a, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", "t")
			if err != nil {
				return err
			}
			for i := range n {
				if err := a.AppendRow(int64(i)); err != nil {
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, commit := range []bool{false, true} {
		tx, err := db.wconn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		appendRows(tx, 150_000) // more than a row group: written to the file before commit
		if n := count(t, db, "t"); n != 0 {
			t.Fatalf("another connection sees %d appended rows before commit", n)
		}
		var inTx int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&inTx); err != nil || inTx != 150_000 {
			t.Fatalf("the transaction sees %d rows, %v", inTx, err)
		}
		want := int64(0)
		if commit {
			err, want = tx.Commit(), 150_000
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "t"); n != want {
			t.Fatalf("after commit=%v: %d rows, want %d", commit, n, want)
		}
	}
}

// TestInsertFailureStoresNothing: a failure after the rows are appended
// rolls back the rows, the new partitions and the offset; strings first
// seen by the failed batch are still saved by the next one.
func TestInsertFailureStoresNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.duckdb")
	db, err := Open(path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	storetest.Insert(t, db, 1, imp(utc("2026-03-01T10:00:00Z"), user(1)))
	boom := errors.New("boom")
	db.afterAppend = func() error { return boom }
	err = db.Insert(ctx, []admeter.Event{
		imp(utc("2026-03-01T11:00:00Z"), user(2), storetest.Placement("pNew")),
		imp(utc("2026-03-05T11:00:00Z"), user(2), storetest.Placement("pNew")),
	}, 2)
	if !errors.Is(err, boom) {
		t.Fatalf("Insert with a failure: %v, want boom", err)
	}
	db.afterAppend = nil
	if off, _ := db.Offset(ctx); off != 1 {
		t.Fatalf("offset %d after a failed insert, want 1", off)
	}
	checkTables(t, db, "events_20260301")
	if n := count(t, db, "events_20260301"); n != 1 {
		t.Fatalf("%d rows after a failed insert, want 1", n)
	}
	// The retried batch.
	storetest.Insert(t, db, 2, imp(utc("2026-03-05T11:00:00Z"), user(2), storetest.Placement("pNew")))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, path)
	r, err := db.Report(ctx, store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: utc("2026-03-01T00:00:00Z"), To: utc("2026-03-06T00:00:00Z"), Location: time.UTC, By: []store.Dimension{store.ByPlacement}})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ReportRow{
		{Dims: []string{"p1"}, Counts: store.Counts{Impressions: 1, UV: 1}},
		{Dims: []string{"pNew"}, Counts: store.Counts{Impressions: 1, UV: 1}},
	}
	if !reflect.DeepEqual(r.Rows, want) {
		t.Fatalf("rows after reopen %+v, want %+v", r.Rows, want)
	}
}

// crashEnv names the database file a child test process crashes on;
// crashFromEnv, when set, makes it load with InsertFrom instead of Insert.
const (
	crashEnv     = "ADMETER_DUCKDB_CRASH_PATH"
	crashFromEnv = "ADMETER_DUCKDB_CRASH_FROM"
)

// TestCrashBeforeCommit kills a process between appending a large batch
// (large enough to be written to the file before commit) and committing
// it, then checks that the reopened store has neither the batch nor its
// offset (Insert) or partition positions (InsertFrom).
func TestCrashBeforeCommit(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(t, path, os.Getenv(crashFromEnv) != "")
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, from := range []bool{false, true} {
		name := map[bool]string{false: "Insert", true: "InsertFrom"}[from]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.duckdb")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBeforeCommit$")
			cmd.Env = append(os.Environ(), crashEnv+"="+path)
			if from {
				cmd.Env = append(cmd.Env, crashFromEnv+"=1")
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Fatalf("child: %v, want exit status 3\n%s", err, out)
			}
			db := mustOpen(t, path)
			wantOff, wantPos := uint64(1), map[int32]int64{}
			if from {
				wantOff, wantPos = 0, map[int32]int64{0: 10, 1: 3}
			}
			if off, _ := db.Offset(context.Background()); off != wantOff {
				t.Errorf("offset after crash %d, want %d", off, wantOff)
			}
			if pos, _ := db.Positions(context.Background()); !reflect.DeepEqual(pos, wantPos) {
				t.Errorf("positions after crash %v, want %v", pos, wantPos)
			}
			if n := count(t, db, "events_20260301"); n != 10 {
				t.Errorf("%d events after crash, want the first batch's 10", n)
			}
			checkTables(t, db, "events_20260301")
		})
	}
}

func crashChild(t *testing.T, path string, from bool) {
	db, err := Open(path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := utc("2026-03-01T10:00:00Z")
	first := make([]admeter.Event, 10)
	for i := range first {
		first[i] = imp(at, user(i+1))
	}
	if from {
		storetest.InsertFrom(t, db, map[int32]int64{0: 10, 1: 3}, first...)
	} else {
		storetest.Insert(t, db, 1, first...)
	}
	g := storetest.NewGenerator(1, storetest.GenConfig{Start: at, Step: time.Microsecond})
	big := make([]admeter.Event, 200_000)
	g.Fill(big)
	big = append(big, imp(utc("2026-03-02T10:00:00Z"), user(1))) // and a new partition
	db.afterAppend = func() error { os.Exit(3); return nil }
	if from {
		_ = db.InsertFrom(context.Background(), big, map[int32]int64{0: 20, 2: 5})
	} else {
		_ = db.Insert(context.Background(), big, 2)
	}
	t.Fatal("Insert returned")
}

// TestInsertFromFailureStoresNothing: a failure after InsertFrom's rows
// are appended rolls back the rows and every position, in memory and in
// the file; the retried batch is then not a conflict.
func TestInsertFromFailureStoresNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.duckdb")
	db, err := Open(path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	positions := func(want map[int32]int64) {
		t.Helper()
		if got, err := db.Positions(ctx); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Positions = %v, %v; want %v", got, err, want)
		}
	}
	storetest.InsertFrom(t, db, map[int32]int64{0: 4}, imp(utc("2026-03-01T10:00:00Z"), user(1)))
	boom := errors.New("boom")
	db.afterAppend = func() error { return boom }
	retry := []admeter.Event{imp(utc("2026-03-01T11:00:00Z"), user(2)), imp(utc("2026-03-05T11:00:00Z"), user(3))}
	if err := db.InsertFrom(ctx, retry, map[int32]int64{0: 6, 1: 2}); !errors.Is(err, boom) {
		t.Fatalf("InsertFrom with a failure: %v, want boom", err)
	}
	db.afterAppend = nil
	positions(map[int32]int64{0: 4})
	if n := count(t, db, "events_20260301"); n != 1 {
		t.Fatalf("%d rows after a failed insert, want 1", n)
	}
	checkTables(t, db, "events_20260301")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, path)
	positions(map[int32]int64{0: 4})
	storetest.InsertFrom(t, db, map[int32]int64{0: 6, 1: 2}, retry...)
	positions(map[int32]int64{0: 6, 1: 2})
	if n := count(t, db, "events_20260301") + count(t, db, "events_20260305"); n != 3 {
		t.Fatalf("%d rows after the retry, want 3", n)
	}
}

// TestBatchVisibleWhole: a reader never sees part of a batch, even when
// the batch creates a partition.
func TestBatchVisibleWhole(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	const batches, half = 20, 50
	base := utc("2026-03-01T10:00:00Z")
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: base.Add(-24 * time.Hour), To: base.Add(60 * 24 * time.Hour), Location: time.UTC}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				r, err := db.Report(ctx, q)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Total.Impressions%(2*half) != 0 {
					t.Errorf("a reader saw %d impressions: part of a batch", r.Total.Impressions)
					return
				}
			}
		}()
	}
	for b := range batches {
		var evs []admeter.Event
		for i := range half {
			evs = append(evs, imp(base, user(i+1)), imp(base.Add(time.Duration(b+1)*24*time.Hour), user(i+1)))
		}
		storetest.Insert(t, db, uint64(b+1), evs...)
	}
	close(done)
	wg.Wait()
}

// TestDropWhileReading: retention may drop a partition that a running
// query's snapshot still reads.
func TestDropWhileReading(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	storetest.Insert(t, db, 1, imp(at, user(1)), imp(at, user(2)))
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil {
			return err
		}
		if n, err := db.DeleteBefore(ctx, at.Add(48*time.Hour)); err != nil || n != 2 {
			t.Fatalf("DeleteBefore = %d, %v; want 2", n, err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+partitionName(days[0])).Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("the old snapshot sees %d rows, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTables(t, db)
}

// TestStoredColumns: what a row holds for every field.
func TestStoredColumns(t *testing.T) {
	db := mustOpen(t, "")
	at := utc("2026-03-02T10:00:00.123Z")
	e := imp(at, user(7), storetest.VF(9), storetest.Details(), storetest.Received(at.Add(time.Second)), storetest.IVT(admeter.IVTCrawler|admeter.IVTBadID),
		storetest.View(admeter.ViewStarted), storetest.ViewThresholds(60, 2), storetest.Video(15500*time.Millisecond, admeter.PlayManual),
		storetest.Quartiles(admeter.Quartile25|admeter.Quartile50), storetest.ClickID(3))
	v6 := imp(at, func(e *admeter.Event) { e.Net = admeter.BlockOf(netip.MustParseAddr("2001:db8:1234:5678::1")) })
	v6.OS, v6.DeviceType = 200, 200 // out of range: stored as unknown
	conv := storetest.Conversion(at, 4, "trial-7d", user(8), storetest.Value(12_340_000, "USD"), storetest.ClickID(5))
	storetest.Insert(t, db, 1, e, v6, conv)
	rows, err := db.sqldb.Query(`SELECT t.s, c.s, p.s, kind, ts, received, flags, user_key::VARCHAR, user_type, key_version, impression::VARCHAR,
		os, ov.s, device, b.s, m.s, network, a.s, ap.s, net, co.s, pr.s, ci.s, lat, lon, risk, ivt,
		view, view_area, view_seconds, video_duration, video_play, video_progress, video_quartiles,
		conversion::VARCHAR, ct.s, value, cu.s, click_id::VARCHAR
	FROM events_20260302 e
	JOIN strs ct ON ct.id = conversion_type JOIN strs cu ON cu.id = currency
	JOIN strs t ON t.id = e.tenant JOIN strs c ON c.id = e.campaign JOIN strs p ON p.id = e.placement
	JOIN strs ov ON ov.id = os_version JOIN strs b ON b.id = browser JOIN strs m ON m.id = model
	JOIN strs a ON a.id = app JOIN strs ap ON ap.id = app_package
	JOIN strs co ON co.id = country JOIN strs pr ON pr.id = province JOIN strs ci ON ci.id = city
	ORDER BY user_key NULLS LAST`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][]any
	for rows.Next() {
		vals := make([]any, numEventColumns)
		ptrs := make([]any, numEventColumns)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got = append(got, vals)
	}
	u, vf := storetest.UserID(7), storetest.ImpressionID(9)
	want := [][]any{
		{"t1", "10000001", "p1", uint8(1), at.UnixMilli(), at.UnixMilli() + 1000, uint16(admeter.FlagSigned | admeter.FlagBatch),
			uuidString(u), uint8(admeter.IDOAID), uint32(1), uuidString(vf),
			uint8(admeter.OSAndroid), "14", uint8(admeter.DevicePhone), "Chrome", "Pixel 8", uint8(admeter.NetworkWiFi),
			"新闻", "com.example.news", int64(1<<48 | 203<<24 | 0<<16 | 113<<8), "CN", "广东", "深圳", int32(2254), int32(11406), uint8(admeter.RiskRoot), uint32(admeter.IVTCrawler | admeter.IVTBadID),
			uint8(admeter.ViewStarted), uint8(60), uint8(2), uint32(15500), uint8(admeter.PlayManual), uint8(0), uint8(3),
			nil, "", int64(0), "", uuidString(storetest.ClickIDOf(3))},
		{"t1", "", "", uint8(admeter.KindConversion), at.UnixMilli(), at.UnixMilli(), uint16(0),
			uuidString(storetest.UserID(8)), uint8(admeter.IDOAID), uint32(1), nil,
			uint8(0), "", uint8(0), "", "", uint8(0),
			"", "", nil, "", "", "", nil, nil, uint8(0), uint32(0),
			uint8(0), uint8(0), uint8(0), uint32(0), uint8(0), uint8(0), uint8(0),
			uuidString(storetest.ConversionIDOf(4)), "trial-7d", int64(12_340_000), "USD", uuidString(storetest.ClickIDOf(5))},
		{"t1", "10000001", "p1", uint8(1), at.UnixMilli(), at.UnixMilli(), uint16(0),
			nil, uint8(0), uint32(1), nil,
			uint8(0), "", uint8(0), "", "", uint8(0),
			"", "", int64(0x20010db81234), "", "", "", nil, nil, uint8(0), uint32(0),
			uint8(0), uint8(0), uint8(0), uint32(0), uint8(0), uint8(0), uint8(0),
			nil, "", int64(0), "", nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored rows:\ngot  %v\nwant %v", got, want)
	}
}

// TestReopenRefusesNewerSchema: a file written by a later version is left
// alone.
func TestReopenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.duckdb")
	db, err := Open(path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sqldb.Exec(`UPDATE meta SET value = 99 WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(path, Options{}, nil); err == nil {
		db.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if _, err := Open(path+"?x=1", Options{}, nil); err == nil {
		t.Fatal("Open of a path with ? succeeded")
	}
}

// TestMaterializedSource: queries over many partitions, which read their
// events through a materialized CTE, give the same results as scanning the
// partitions in place.
func TestMaterializedSource(t *testing.T) {
	db := mustOpen(t, "")
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai)
	var evs []admeter.Event
	for d := range 40 {
		day := start.Add(time.Duration(d) * 24 * time.Hour)
		for i := range 30 {
			at := day.Add(time.Duration(i*47) * time.Minute) // some after 16:00 UTC: the next UTC day
			// Some invalid, some with two reasons.
			verdict := storetest.IVT(admeter.IVT(i%7) & (admeter.IVTCrawler | admeter.IVTDataCentre))
			evs = append(evs, imp(at, user(1+(i*d)%13), storetest.VF(d*100+i), storetest.Placement(admeter.PlacementID(fmt.Sprint("p", i%3))), verdict))
			if i%5 == 0 {
				evs = append(evs, imp(at.Add(time.Minute), user(1+(i*d)%13), storetest.VF(d*100+i), storetest.Placement(admeter.PlacementID(fmt.Sprint("p", i%3)))), click(at, user(i%4)))
			}
		}
	}
	// Another campaign, larger, in the same partitions: the campaign
	// above is the small one in a larger store.
	var other []admeter.Event
	for i := range 3000 {
		at := start.Add(time.Duration(i%40)*24*time.Hour + time.Duration(i)*time.Second)
		other = append(other, imp(at, user(i%50), storetest.Campaign("other")))
	}
	storetest.Insert(t, db, 1, append(evs, other...)...)
	rq := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: start, To: start.Add(40 * 24 * time.Hour),
		Location: shanghai, By: []store.Dimension{store.ByDay, store.ByPlacement}}
	fq := store.FrequencyQuery{Tenant: rq.Tenant, Campaign: rq.Campaign, From: rq.From, To: rq.To, Location: shanghai}
	var days []store.Date
	for d := range 40 {
		days = append(days, store.DateOf(start.Add(time.Duration(d)*24*time.Hour)))
	}
	dq := store.DailyQuery{Tenant: rq.Tenant, Campaign: rq.Campaign, From: days[0], To: days[39]}
	byReason := rq
	byReason.By = []store.Dimension{store.ByReason, store.ByDay}
	run := func(above int, stream int64) (*store.ReportResult, *store.FrequencyResult, []store.DailyRow) {
		db.materializeAbove, db.streamAbove = above, stream
		r, err := db.Report(ctx, rq)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := db.Report(ctx, byReason)
		if err != nil {
			t.Fatal(err)
		}
		// By reason the total is of all traffic, each event once.
		if rr.Total.Impressions != r.Total.Impressions+r.Total.InvalidImpressions || len(rr.Rows) == 0 {
			t.Errorf("materialize above %d: by reason total %+v, %d rows; report total %+v", above, rr.Total, len(rr.Rows), r.Total)
		}
		r.Rows = append(r.Rows, rr.Rows...) // compared with the other run's below
		f, err := db.Frequency(ctx, fq)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RefreshRollups(ctx, rq.Tenant, rq.Campaign, shanghai, days); err != nil {
			t.Fatal(err)
		}
		d, err := db.Daily(ctx, dq)
		if err != nil {
			t.Fatal(err)
		}
		return r, f, d
	}
	if err := db.RefreshRollups(ctx, rq.Tenant, rq.Campaign, shanghai, days); err != nil {
		t.Fatal(err)
	}
	r1, f1, d1 := run(1000, 0)
	r2, f2, d2 := run(0, 0)
	if len(r1.Rows) < 120+40 || f1.Reach == 0 || len(d1) != 120 || r1.Total.InvalidImpressions == 0 {
		t.Fatalf("unexpected results: %d rows, reach %d, %d daily rows", len(r1.Rows), f1.Reach, len(d1))
	}
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(d1, d2) {
		t.Errorf("materialized results differ:\n%+v\n%+v\n%+v\n%+v", r1.Total, r2.Total, f1, f2)
	}
	// Streamed: more events in the campaign's rollups than streamAbove.
	r3, f3, d3 := run(1000, 1)
	if !reflect.DeepEqual(r1, r3) || !reflect.DeepEqual(f1, f3) || !reflect.DeepEqual(d1, d3) {
		t.Errorf("streamed results differ:\n%+v\n%+v\n%+v\n%+v", r1.Total, r3.Total, f1, f3)
	}
	campaignEvents := r1.Total.Impressions + r1.Total.Clicks + r1.Total.InvalidImpressions + r1.Total.InvalidClicks
	// Each query took the path it was set up for.
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil {
			return err
		}
		if rows, err := partitionRows(ctx, tx, days); err != nil || rows != int64(len(evs)+len(other)) {
			t.Errorf("partitionRows = %d, %v; want %d", rows, err, len(evs)+len(other))
		}
		sc, _ := db.newScope(fq.Tenant, fq.Campaign, nil, fq.From, fq.To, shanghai)
		for _, c := range []struct {
			above  int
			stream int64
			want   string
		}{
			{1000, 0, "QUALIFY"},
			{0, 0, "AS MATERIALIZED"},
			{1000, 1, "AS NOT MATERIALIZED"},
			{1000, -1, "AS NOT MATERIALIZED"},
			// More rows in the partitions, fewer events of the campaign:
			// a small campaign in a larger store is not streamed.
			{0, campaignEvents + 10, "AS MATERIALIZED"},
			{1000, campaignEvents + 10, "QUALIFY"},
		} {
			sc.materializeAbove, sc.streamAbove = c.above, c.stream
			q, err := db.frequencySQL(ctx, tx, sc, store.FilterValid)
			if err != nil {
				return err
			}
			hashed := strings.Contains(q, "dupkeys")
			if !strings.Contains(q, c.want) || hashed != (c.want != "QUALIFY") {
				t.Errorf("materialize above %d, stream above %d: frequency SQL without %q, or hashed dedup %v:\n%s", c.above, c.stream, c.want, hashed, q)
			}
			// A streamed source's deduplicated events are materialized.
			if streamed, deduped := c.want == "AS NOT MATERIALIZED", strings.Contains(q, "deduped AS MATERIALIZED"); streamed != deduped {
				t.Errorf("materialize above %d, stream above %d: deduplicated events materialized %v, want %v:\n%s", c.above, c.stream, deduped, streamed, q)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetentionCutOlderFile: a file written before the retention cut was
// recorded gets it (as 0, no cut) at its next opening; DeleteBefore then
// records it, and it is read back at the next opening.
func TestRetentionCutOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.duckdb")
	db, err := Open(path, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Insert(t, db, 1, imp(utc("2026-03-01T10:00:00Z"), user(1)), imp(utc("2026-03-03T10:00:00Z"), user(2)))
	if _, err := db.sqldb.Exec(`DELETE FROM meta WHERE key = 'retained_before'`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	cut := func(db *DB) (mem int64, stored uint64) {
		t.Helper()
		if err := db.sqldb.QueryRow(`SELECT value FROM meta WHERE key = 'retained_before'`).Scan(&stored); err != nil {
			t.Fatalf("read retained_before: %v", err)
		}
		return db.retainedBefore, stored
	}
	db = mustOpen(t, path)
	if mem, stored := cut(db); mem != 0 || stored != 0 {
		t.Fatalf("cut after opening an older file: %d in memory, %d stored; want 0", mem, stored)
	}
	at := utc("2026-03-02T12:00:00.0005Z")
	if n, err := db.DeleteBefore(context.Background(), at); err != nil || n != 1 {
		t.Fatalf("DeleteBefore = %d, %v; want 1", n, err)
	}
	want := at.UnixMilli() + 1 // rounded up, as the deletion
	if mem, stored := cut(db); mem != want || stored != uint64(want) {
		t.Fatalf("cut after DeleteBefore: %d in memory, %d stored; want %d", mem, stored, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, path)
	if mem, _ := cut(db); mem != want {
		t.Fatalf("cut after reopening: %d, want %d", mem, want)
	}
}

// TestNetBlockRoundTrip: every kind of network block survives the net
// column and comes back from UserEvents as it went in.
func TestNetBlockRoundTrip(t *testing.T) {
	for _, s := range []string{"203.0.113.77", "0.0.0.0", "255.255.255.255", "::ffff:10.1.2.3", "2001:db8:1234:5678::1", "::1", "ffff:ffff:ffff::"} {
		b := admeter.BlockOf(netip.MustParseAddr(s))
		v, ok := netValue(b).(int64)
		if !ok {
			t.Fatalf("%s: netValue = %v", s, netValue(b))
		}
		if got := blockOf(v); got != b {
			t.Errorf("%s: %s → %d → %s", s, b, v, got)
		}
	}
}

// TestInsertManyChunks: a batch of many vectors over two days, which
// DuckDB's threads fill in parallel through batchFunction, is stored whole:
// every row once, with its fields.
func TestInsertManyChunks(t *testing.T) {
	db := mustOpen(t, "")
	start := utc("2026-03-01T20:00:00Z")
	g := storetest.NewGenerator(7, storetest.GenConfig{Campaigns: 3, Placements: 4, Start: start, Step: 8 * time.Hour / 50_000, IVTPercent: 5})
	evs := make([]admeter.Event, 50_000)
	g.Fill(evs)
	storetest.Insert(t, db, 1, evs...)
	var want struct{ n, ts, received, users, imps, kinds, ivt int64 }
	for _, e := range evs {
		want.n++
		want.ts += e.At.UnixMilli()
		want.received += e.Received.UnixMilli()
		if !e.User.IsZero() {
			want.users++
		}
		if !e.ImpressionID.IsZero() {
			want.imps++
		}
		want.kinds += int64(e.Kind)
		want.ivt += int64(e.IVT)
	}
	got := want
	days := sortedDays(db.parts)
	if len(days) != 2 {
		t.Fatalf("partitions %v, want two days", days)
	}
	err := db.sqldb.QueryRow(`SELECT count(*), sum(ts)::BIGINT, sum(received)::BIGINT, count(user_key), count(impression), sum(kind)::BIGINT, sum(ivt)::BIGINT FROM (`+
		unionAll(days, "*", "true", false)+`)`).Scan(&got.n, &got.ts, &got.received, &got.users, &got.imps, &got.kinds, &got.ivt)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("stored %+v, want %+v", got, want)
	}
}

// TestBatchFunctionOutsideInsert: the table function has no rows but an
// Insert's, and says so.
func TestBatchFunctionOutsideInsert(t *testing.T) {
	db := mustOpen(t, "")
	_, err := db.wconn.ExecContext(context.Background(), "SELECT * FROM "+batchFunction+"()")
	if err == nil || !strings.Contains(err.Error(), "outside an Insert") {
		t.Errorf("SELECT from %s outside an Insert: %v", batchFunction, err)
	}
}
