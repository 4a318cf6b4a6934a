package duckdb

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
	duck "github.com/duckdb/duckdb-go/v2"
)

// v1Schema is the schema of version 1 (before verdicts were stored), as
// that program created it: frozen here, whatever the current one says.
const v1Schema = `
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value UBIGINT NOT NULL);
INSERT INTO meta VALUES ('schema_version', 1), ('offset', 7), ('retained_before', 0);
CREATE TABLE strs (id UINTEGER PRIMARY KEY, s VARCHAR NOT NULL);
INSERT INTO strs VALUES (0, ''), (1, 't1'), (2, '10000001'), (3, 'p1');
CREATE TABLE partitions (day DATE PRIMARY KEY, name VARCHAR NOT NULL);
CREATE TABLE daily (
	tenant           UINTEGER NOT NULL,
	campaign         UINTEGER NOT NULL,
	placement        UINTEGER NOT NULL,
	day              DATE NOT NULL,
	impressions      BIGINT NOT NULL,
	clicks           BIGINT NOT NULL,
	uv               BIGINT NOT NULL,
	click_uv         BIGINT NOT NULL,
	anon_impressions BIGINT NOT NULL,
	anon_clicks      BIGINT NOT NULL
);
`

// v1EventColumns are the columns of a version-1 day partition.
const v1EventColumns = `
	tenant        UINTEGER NOT NULL,
	campaign      UINTEGER NOT NULL,
	placement     UINTEGER NOT NULL,
	kind          UTINYINT NOT NULL,
	ts            BIGINT NOT NULL,
	received      BIGINT NOT NULL,
	flags         USMALLINT NOT NULL,
	user_key      UUID,
	user_type     UTINYINT NOT NULL,
	key_version   UINTEGER NOT NULL,
	impression    UUID,
	os            UTINYINT NOT NULL,
	os_version    UINTEGER NOT NULL,
	device        UTINYINT NOT NULL,
	browser       UINTEGER NOT NULL,
	model         UINTEGER NOT NULL,
	network       UTINYINT NOT NULL,
	app           UINTEGER NOT NULL,
	app_package   UINTEGER NOT NULL,
	net           BIGINT,
	country       UINTEGER NOT NULL,
	province      UINTEGER NOT NULL,
	city          UINTEGER NOT NULL,
	lat           INTEGER,
	lon           INTEGER,
	risk          UTINYINT NOT NULL`

// writeV1File creates a version-1 store file at path holding, on UTC days
// 2026-03-01 and 2026-03-02 of the default campaign and placement, an
// impression of user 1 and an anonymous one, and a click of user 2 on
// the first day; and a daily rollup row of 2026-03-01.
func writeV1File(t *testing.T, path string) (day1 time.Time) {
	t.Helper()
	connector, err := duck.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	day1 = utc("2026-03-01T00:00:00Z")
	ev := func(kind admeter.Kind, at time.Time, user int) string {
		u, ut := "NULL", admeter.IDNone
		if user > 0 {
			u, ut = uuidLiteral(storetest.UserID(user)), admeter.IDOAID
		}
		return fmt.Sprintf("(1, 2, 3, %d, %d, %d, 0, %s, %d, 1, NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, 0)",
			kind, at.UnixMilli(), at.UnixMilli(), u, ut)
	}
	stmts := []string{v1Schema}
	for i, name := range []string{"events_20260301", "events_20260302"} {
		at := day1.Add(time.Duration(i)*24*time.Hour + 10*time.Hour)
		stmts = append(stmts,
			fmt.Sprintf("CREATE TABLE %s (%s)", name, v1EventColumns),
			fmt.Sprintf("INSERT INTO partitions VALUES (DATE '2026-03-0%d', '%s')", i+1, name),
			fmt.Sprintf("INSERT INTO %s VALUES %s, %s", name, ev(admeter.KindImpression, at, 1), ev(admeter.KindImpression, at, 0)))
	}
	stmts = append(stmts,
		fmt.Sprintf("INSERT INTO events_20260301 VALUES %s", ev(admeter.KindClick, day1.Add(11*time.Hour), 2)),
		"INSERT INTO daily VALUES (1, 2, 3, DATE '2026-03-01', 2, 1, 1, 1, 1, 0)",
		"CHECKPOINT")
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("write version-1 file: %v\n%s", err, s)
		}
	}
	return day1
}

// columns returns the column names of table, in order.
func columns(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.sqldb.Query(`SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return cols
}

// eventColumnNames returns the names of eventColumns, in order.
func eventColumnNames() []string {
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(eventColumns), "\n") {
		names = append(names, strings.Fields(line)[0])
	}
	return names
}

// checkEventColumns checks that the partitions have the columns of a new
// partition, in its order.
func checkEventColumns(t *testing.T, db *DB, partitions ...string) {
	t.Helper()
	want := eventColumnNames()
	if len(want) != numEventColumns {
		t.Fatalf("eventColumns names %d columns, numEventColumns says %d", len(want), numEventColumns)
	}
	for _, p := range partitions {
		if cols := columns(t, db, p); !reflect.DeepEqual(cols, want) {
			t.Errorf("%s has columns\n%v\nwant\n%v", p, cols, want)
		}
	}
}

// openLogged opens the store file at path, logging to logs.
func openLogged(t *testing.T, path string, logs *bytes.Buffer) *DB {
	t.Helper()
	db, err := Open(path, Options{MemoryLimit: "512MB", Threads: 2}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

// TestMigrateV1: a store file written before verdicts were stored gets,
// at its first opening only, column ivt in every partition and the
// invalid columns in daily, and schema version 2; its events are valid
// traffic, its rollups valid counts; new events, with verdicts, go into
// its old partitions and rollups as into new ones.
func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.duckdb")
	day1 := writeV1File(t, path)
	var logs bytes.Buffer
	open := func() *DB { return openLogged(t, path, &logs) }
	db := open()
	defer func() { db.Close() }()

	if n := strings.Count(logs.String(), "store migrated"); n != 1 {
		t.Fatalf("%d migration log lines at the first opening, want 1:\n%s", n, logs.String())
	}
	var version uint64
	if err := db.sqldb.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("schema version after migration %d, %v; want %d", version, err, schemaVersion)
	}
	if off, _ := db.Offset(ctx); off != 7 {
		t.Errorf("offset after migration %d, want 7", off)
	}
	checkEventColumns(t, db, "events_20260301", "events_20260302")
	if got, want := columns(t, db, "daily")[10:], dailyV2Columns; !reflect.DeepEqual(got, want) {
		t.Errorf("daily's added columns %v, want %v", got, want)
	}

	// The old events are valid traffic.
	rq := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: day1, To: day1.Add(48 * time.Hour), Location: time.UTC, By: []store.Dimension{store.ByDay}}
	check := func(q store.ReportQuery, want store.ReportResult) {
		t.Helper()
		got, err := db.Report(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("Report(%v, filter %s):\ngot  %+v\nwant %+v", q.By, q.Filter, *got, want)
		}
	}
	c := func(imps, clicks, uv, clickUV, iImps, iClicks, iUV, iClickUV int64) store.Counts {
		return store.Counts{Impressions: imps, Clicks: clicks, UV: uv, ClickUV: clickUV,
			InvalidImpressions: iImps, InvalidClicks: iClicks, InvalidUV: iUV, InvalidClickUV: iClickUV}
	}
	check(rq, store.ReportResult{
		Rows: []store.ReportRow{
			{Dims: []string{"2026-03-01"}, Counts: c(2, 1, 1, 1, 0, 0, 0, 0)},
			{Dims: []string{"2026-03-02"}, Counts: c(2, 0, 1, 0, 0, 0, 0, 0)},
		},
		Total: c(4, 1, 1, 1, 0, 0, 0, 0), AnonymousImpressions: 2,
	})
	evs, _, err := db.UserEvents(ctx, storetest.DefaultTenant, []admeter.Pseudonym{storetest.UserID(1)}, 10)
	if err != nil || len(evs) != 2 || evs[0].IVT != 0 || evs[1].IVT != 0 {
		t.Fatalf("UserEvents of user 1 = %+v, %v; want two valid events", evs, err)
	}

	// The old rollup row: valid counts, nothing invalid, with either filter.
	dq := store.DailyQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign, From: store.DateOf(day1), To: store.DateOf(day1)}
	oldRow := []store.DailyRow{{Day: store.DateOf(day1), Placement: storetest.DefaultPlacement, Counts: c(2, 1, 1, 1, 0, 0, 0, 0), AnonymousImpressions: 1}}
	for _, f := range []store.TrafficFilter{store.FilterValid, store.FilterAll} {
		dq.Filter = f
		if got, err := db.Daily(ctx, dq); err != nil || !reflect.DeepEqual(got, oldRow) {
			t.Errorf("Daily of the old row, filter %s = %+v, %v; want %+v", f, got, err, oldRow)
		}
	}

	// The file has the positions table, empty: Open created it.
	if pos, err := db.Positions(ctx); err != nil || len(pos) != 0 {
		t.Fatalf("Positions of a migrated file = %v, %v; want none", pos, err)
	}

	// New events with verdicts go into the old partitions.
	at := day1.Add(12 * time.Hour)
	storetest.Insert(t, db, 8,
		storetest.Imp(at, storetest.User(1), storetest.IVT(admeter.IVTCrawler)),
		storetest.Imp(at, storetest.User(3), storetest.IVT(admeter.IVTDataCentre)),
		storetest.Imp(at, storetest.User(4)))
	rq.By = nil
	check(rq, store.ReportResult{Total: c(5, 1, 2, 1, 2, 0, 2, 0), AnonymousImpressions: 2})
	rq.Filter = store.FilterAll
	check(rq, store.ReportResult{Total: c(7, 1, 3, 1, 2, 0, 2, 0), AnonymousImpressions: 2})
	if err := db.RefreshRollups(ctx, storetest.DefaultTenant, storetest.DefaultCampaign, time.UTC, []store.Date{store.DateOf(day1)}); err != nil {
		t.Fatal(err)
	}
	dq.Filter = store.FilterAll
	want := []store.DailyRow{{Day: store.DateOf(day1), Placement: storetest.DefaultPlacement, Counts: c(5, 1, 3, 1, 2, 0, 2, 0), AnonymousImpressions: 1}}
	if got, err := db.Daily(ctx, dq); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Daily after refresh = %+v, %v; want %+v", got, err, want)
	}

	// The store can switch to a partitioned source: positions are
	// recorded beside the offset, which stays.
	storetest.InsertFrom(t, db, map[int32]int64{0: 3})
	if off, _ := db.Offset(ctx); off != 8 {
		t.Errorf("offset after InsertFrom = %d, want 8", off)
	}

	// The migration runs once.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	if n := strings.Count(logs.String(), "store migrated"); n != 1 {
		t.Fatalf("%d migration log lines after reopening, want still 1:\n%s", n, logs.String())
	}
	check(rq, store.ReportResult{Total: c(7, 1, 3, 1, 2, 0, 2, 0), AnonymousImpressions: 2})
	if got, err := db.Daily(ctx, dq); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Daily after reopening = %+v, %v; want %+v", got, err, want)
	}
	if pos, err := db.Positions(ctx); err != nil || !reflect.DeepEqual(pos, map[int32]int64{0: 3}) {
		t.Errorf("Positions after reopening = %v, %v; want {0: 3}", pos, err)
	}
}

// writeV2File creates a version-2 store file at path: the version-1 file
// of writeV1File as the version-2 migration left it, with user 1's
// impression on 2026-03-01 flagged as a crawler's.
func writeV2File(t *testing.T, path string) (day1 time.Time) {
	t.Helper()
	day1 = writeV1File(t, path)
	connector, err := duck.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	stmts := []string{
		"ALTER TABLE events_20260301 ADD COLUMN ivt UINTEGER DEFAULT 0",
		"ALTER TABLE events_20260302 ADD COLUMN ivt UINTEGER DEFAULT 0",
		fmt.Sprintf("UPDATE events_20260301 SET ivt = %d WHERE user_key IS NOT NULL AND kind = %d", admeter.IVTCrawler, admeter.KindImpression),
	}
	for _, c := range dailyV2Columns {
		stmts = append(stmts, "ALTER TABLE daily ADD COLUMN "+c+" BIGINT DEFAULT 0")
	}
	stmts = append(stmts, "UPDATE meta SET value = 2 WHERE key = 'schema_version'", "CHECKPOINT")
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("write version-2 file: %v\n%s", err, s)
		}
	}
	return day1
}

// TestMigrateV2: a version-2 file gets, at its first opening only, the
// viewability, video, conversion and click-id columns in every partition
// (zero or NULL for its events, whose verdicts stay), and schema version
// 3; new events with those fields go into its old partitions.
func TestMigrateV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.duckdb")
	day1 := writeV2File(t, path)
	var logs bytes.Buffer
	open := func() *DB { return openLogged(t, path, &logs) }
	db := open()
	defer func() { db.Close() }()
	if n := strings.Count(logs.String(), "store migrated"); n != 1 || !strings.Contains(logs.String(), "from=2") {
		t.Fatalf("%d migration log lines at the first opening, want 1 from version 2:\n%s", n, logs.String())
	}
	var version uint64
	if err := db.sqldb.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("schema version after migration %d, %v; want %d", version, err, schemaVersion)
	}
	checkEventColumns(t, db, "events_20260301", "events_20260302")

	// The old events keep their fields and verdicts, and have none of the
	// new ones.
	at := day1.Add(10 * time.Hour)
	old := []admeter.Event{
		storetest.Imp(at, storetest.User(1), storetest.IVT(admeter.IVTCrawler)),
		storetest.Imp(at.Add(24*time.Hour), storetest.User(1)),
	}
	for i := range old {
		old[i].UserType = admeter.IDOAID
	}
	evs, _, err := db.UserEvents(ctx, storetest.DefaultTenant, []admeter.Pseudonym{storetest.UserID(1)}, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("UserEvents of user 1 = %d events, %v; want 2", len(evs), err)
	}
	for i := range old {
		if !reflect.DeepEqual(evs[i], old[i]) {
			t.Errorf("old event %d:\ngot  %+v\nwant %+v", i, evs[i], old[i])
		}
	}

	// New events with the new fields go into the old partitions, and the
	// new queries read them.
	vf := storetest.VF(1)
	storetest.Insert(t, db, 8,
		storetest.Imp(at.Add(time.Hour), storetest.User(3), vf, storetest.Video(10*time.Second, admeter.PlayAuto)),
		storetest.Viewed(at.Add(time.Hour+time.Second), admeter.ViewViewable, vf),
		storetest.VideoPing(at.Add(time.Hour+2*time.Second), admeter.Progress100, vf),
		storetest.Click(at.Add(time.Hour+3*time.Second), storetest.User(3), storetest.ClickID(1)),
		storetest.Conversion(at.Add(2*time.Hour), 1, admeter.ConversionOrder, storetest.ClickID(1), storetest.Value(5_000_000, "CNY")),
	)
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: day1, To: day1.Add(48 * time.Hour), Location: time.UTC}
	want := store.ViewCounts{Measurable: 1, Viewable: 1, ViewableUV: 1, VideoStarts: 1, Quartiles: [4]int64{1, 1, 1, 1}}
	for range 2 {
		got, err := db.Viewability(ctx, q)
		if err != nil || got.Total != want || len(got.Rows) != 0 {
			t.Fatalf("Viewability = %+v, %v; want total %+v", got, err, want)
		}
		a, err := db.Attribution(ctx, store.AttributionQuery{Tenant: storetest.DefaultTenant, From: day1, To: day1.Add(48 * time.Hour)})
		if err != nil || len(a.Conversions) != 1 || len(a.Touches) != 1 || a.Conversions[0].Value != 5_000_000 || a.Touches[0].ClickID != storetest.ClickIDOf(1) {
			t.Fatalf("Attribution = %+v, %v; want the conversion and its click", a, err)
		}
		// The migration runs once.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = open()
		if n := strings.Count(logs.String(), "store migrated"); n != 1 {
			t.Fatalf("%d migration log lines after reopening, want still 1", n)
		}
	}
}
