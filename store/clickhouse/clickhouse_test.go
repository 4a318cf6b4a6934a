package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// dsnEnv names a ClickHouse server to test against instead of a private
// one: a native-protocol DSN whose user may create and drop databases.
const dsnEnv = "ADMETER_TEST_CLICKHOUSE_DSN"

// serverDSN is the DSN of the test server, without a database.
var serverDSN string

// TestMain starts a private, throwaway clickhouse-server (unless dsnEnv
// names one) and stops it after the tests.
func TestMain(m *testing.M) {
	if dsn := os.Getenv(dsnEnv); dsn != "" {
		serverDSN = dsn
		os.Exit(m.Run())
	}
	stop, dsn, err := startServer()
	if err != nil {
		fmt.Fprintf(os.Stderr, "store/clickhouse tests: %v\n", err)
		os.Exit(1)
	}
	serverDSN = dsn
	code := m.Run()
	stop()
	os.Exit(code)
}

// serverBinary returns the command that runs a ClickHouse server: Debian's
// clickhouse-server (in /usr/sbin, which may not be on PATH), or the
// single clickhouse binary of upstream packages with "server".
func serverBinary() ([]string, error) {
	for _, name := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, fmt.Errorf("no clickhouse-server binary: install Debian's package (apt-get install clickhouse-server, as .ci/run does) or set %s to a server's DSN", dsnEnv)
}

// freePort returns a TCP port free on loopback just now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const serverConfig = `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>{{dir}}/server.log</log>
    <errorlog>{{dir}}/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{{tcp}}</tcp_port>
  <http_port>{{http}}</http_port>
  <path>{{dir}}/data/</path>
  <tmp_path>{{dir}}/tmp/</tmp_path>
  <user_files_path>{{dir}}/user_files/</user_files_path>
  <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users_config>{{dir}}/users.xml</users_config>
</yandex>
`

const usersConfig = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

// startServer runs clickhouse-server on free loopback ports with its data
// and logs in a temporary directory, waits until it answers, and returns
// a function that stops it and removes the directory.
func startServer() (stop func(), dsn string, err error) {
	bin, err := serverBinary()
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "admeter-clickhouse-")
	if err != nil {
		return nil, "", err
	}
	tcp, err1 := freePort()
	http, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("choose ports: %w", err)
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{tcp}}", fmt.Sprint(tcp), "{{http}}", fmt.Sprint(http)).Replace(serverConfig)
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "config.xml"), []byte(conf), 0o600),
		os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersConfig), 0o600)); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	cmd := exec.Command(bin[0], append(bin[1:], "--config-file="+filepath.Join(dir, "config.xml"))...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start %s: %w", bin[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
		os.RemoveAll(dir)
	}
	dsn = fmt.Sprintf("clickhouse://127.0.0.1:%d", tcp)
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := connect(dsn)
		if err == nil {
			err = conn.Ping(context.Background())
			conn.Close()
		}
		if err == nil {
			return stop, dsn, nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			logs, _ := os.ReadFile(filepath.Join(dir, "server.err.log"))
			stdout, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			stop()
			return nil, "", fmt.Errorf("clickhouse-server exited (%v):\n%s\n%s", werr, stdout, logs)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, "", fmt.Errorf("clickhouse-server does not answer on port %d after 60s: %w", tcp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connect opens a connection to the server of dsn.
func connect(dsn string) (driver.Conn, error) {
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	o.DialTimeout = 5 * time.Second
	return clickhouse.Open(o)
}

// withDatabase returns serverDSN naming database db.
func withDatabase(db string) string {
	base, query, _ := strings.Cut(serverDSN, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.Index(base[i+3:], "/"); j >= 0 {
			base = base[:i+3+j]
		}
	}
	dsn := base + "/" + db
	if query != "" {
		dsn += "?" + query
	}
	return dsn
}

var databases atomic.Int64

// createDatabase creates a database of its own for t, dropped at the end
// of the test, and returns its DSN. With a name, the same name gives the
// same database (for reopening).
func createDatabase(t testing.TB, name string) string {
	t.Helper()
	if name == "" {
		name = fmt.Sprintf("admeter_test_%d_%d", os.Getpid(), databases.Add(1))
	}
	conn, err := connect(serverDSN)
	if err != nil {
		t.Fatalf("connect to ClickHouse: %v", err)
	}
	defer conn.Close()
	if err := conn.Exec(context.Background(), "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := connect(serverDSN)
		if err != nil {
			t.Errorf("connect to ClickHouse: %v", err)
			return
		}
		defer conn.Close()
		if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(name)
}

// openDB opens a store on dsn, closed at the end of the test.
func openDB(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, Options{}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// notYet lists the conformance subtests the ClickHouse store does not pass
// yet, with the reason: the one place the gap is written down.
var notYet = map[string]string{}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if why, ok := notYet[name]; ok {
			t.Skip("not yet on ClickHouse: " + why)
		}
		return openDB(t, createDatabase(t, ""))
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T, path string) store.Store {
		h := fnv.New64a()
		h.Write([]byte(path))
		name := fmt.Sprintf("admeter_reopen_%x", h.Sum64())
		db, err := Open(context.Background(), createDatabase(t, name), Options{}, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db
	})
}

// TestUnrecordedBatch: rows of a batch whose offset was never recorded (a
// crash between sending the rows and recording the offset) are invisible,
// and Open deletes them, so that the retried batch counts once.
func TestUnrecordedBatch(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	total := func(db *DB) int64 { t.Helper(); return impressionsAround(t, db, at) }

	db := openDB(t, dsn)
	storetest.Insert(t, db, 1, storetest.Imp(at, storetest.User(1)))
	batch := []admeter.Event{storetest.Imp(at, storetest.User(2)), storetest.Imp(at.Add(25*time.Hour), storetest.User(3))}
	// The crash: the rows are sent, the offset is not recorded.
	if err := db.send(ctx, batch, 2); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := total(db); got != 1 {
		t.Fatalf("impressions with an unrecorded batch = %d, want 1", got)
	}
	if n, err := db.RawDays(ctx); err != nil || len(n) != 1 || n[0].Events != 1 {
		t.Fatalf("RawDays with an unrecorded batch = %v, %v; want one day of 1 event", n, err)
	}

	db2 := openDB(t, dsn)
	var left uint64
	if err := db2.conn.QueryRow(ctx, "SELECT count() FROM events WHERE batch > 1").Scan(&left); err != nil || left != 0 {
		t.Fatalf("rows of the unrecorded batch after Open: %d, %v", left, err)
	}
	if off, err := db2.Offset(ctx); err != nil || off != 1 {
		t.Fatalf("Offset = %d, %v; want 1", off, err)
	}
	storetest.Insert(t, db2, 2, batch...)
	if got := total(db2); got != 2 {
		t.Fatalf("impressions after the retry = %d, want 2", got)
	}

	// A failed send marks the store dirty; the next Insert cleans up.
	if err := db2.send(ctx, batch, 3); err != nil {
		t.Fatalf("send: %v", err)
	}
	db2.dirty = true
	storetest.Insert(t, db2, 3, batch[:1]...)
	if got := total(db2); got != 3 {
		t.Fatalf("impressions after a cleaned-up retry = %d, want 3", got)
	}
}

// TestUnrecordedPartitionedBatch: rows InsertFrom sent without recording
// their batch (a crash, or a failure, between the rows and the row of
// batches) are invisible and leave the positions as they were; Open, or
// the next InsertFrom after a failure, deletes them, so that the batch
// loaded again (by the partitions' next owner) counts once.
func TestUnrecordedPartitionedBatch(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	total := func(db *DB) int64 { t.Helper(); return impressionsAround(t, db, at) }
	positions := func(db *DB, want map[int32]int64) {
		t.Helper()
		if got, err := db.Positions(ctx); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Positions = %v, %v; want %v", got, err, want)
		}
	}

	db := openDB(t, dsn)
	storetest.InsertFrom(t, db, map[int32]int64{0: 5}, storetest.Imp(at, storetest.User(1)))
	batch := []admeter.Event{storetest.Imp(at, storetest.User(2)), storetest.Imp(at.Add(25*time.Hour), storetest.User(3))}
	// The crash: the rows of the next batch are sent, the batch is not
	// recorded.
	if err := db.send(ctx, batch, db.batch+1); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := total(db); got != 1 {
		t.Fatalf("impressions with an unrecorded batch = %d, want 1", got)
	}
	if n, err := db.RawDays(ctx); err != nil || len(n) != 1 || n[0].Events != 1 {
		t.Fatalf("RawDays with an unrecorded batch = %v, %v; want one day of 1 event", n, err)
	}
	positions(db, map[int32]int64{0: 5})

	db2 := openDB(t, dsn)
	var left uint64
	if err := db2.conn.QueryRow(ctx, "SELECT count() FROM events WHERE batch > 1").Scan(&left); err != nil || left != 0 {
		t.Fatalf("rows of the unrecorded batch after Open: %d, %v", left, err)
	}
	positions(db2, map[int32]int64{0: 5})
	storetest.InsertFrom(t, db2, map[int32]int64{0: 7, 1: 2}, batch...)
	if got := total(db2); got != 2 {
		t.Fatalf("impressions after the retry = %d, want 2", got)
	}

	// A failed send marks the store dirty; the next InsertFrom cleans up.
	if err := db2.send(ctx, batch, db2.batch+1); err != nil {
		t.Fatalf("send: %v", err)
	}
	db2.dirty = true
	storetest.InsertFrom(t, db2, map[int32]int64{1: 3}, batch[:1]...)
	if got := total(db2); got != 3 {
		t.Fatalf("impressions after a cleaned-up retry = %d, want 3", got)
	}
	positions(db2, map[int32]int64{0: 7, 1: 3})
}

// TestPartitionedVersion: a database loaded with Insert only stays at
// schema version 1, which older programs open; the first InsertFrom
// records version 2 so that they refuse it (they would delete its rows
// as rows of unrecorded batches).
func TestPartitionedVersion(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, createDatabase(t, ""))
	version := func(want uint64) {
		t.Helper()
		if v, err := db.meta(ctx, metaVersion); err != nil || v != want {
			t.Fatalf("schema version %d, %v; want %d", v, err, want)
		}
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	version(1)
	storetest.Insert(t, db, 3, storetest.Imp(at, storetest.User(1)))
	version(1)
	if err := db.InsertFrom(ctx, nil, map[int32]int64{0: 1, 1: 0, 2: 2}); err != nil {
		t.Fatal(err)
	}
	version(2)
}

// TestSwitchToPartitioned: a store loaded with Insert can go on with
// InsertFrom (its batches numbered after the last offset); the rows of
// both stay visible across reopening, and an Insert that would number its
// batch at or below InsertFrom's is refused.
func TestSwitchToPartitioned(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: time.UTC}
	check := func(db *DB, imps int64, off uint64, pos map[int32]int64) {
		t.Helper()
		r, err := db.Report(ctx, q)
		if err != nil || r.Total.Impressions != imps {
			t.Fatalf("Report = %+v, %v; want %d impressions", r, err, imps)
		}
		if got, err := db.Offset(ctx); err != nil || got != off {
			t.Fatalf("Offset = %d, %v; want %d", got, err, off)
		}
		if got, err := db.Positions(ctx); err != nil || !reflect.DeepEqual(got, pos) {
			t.Fatalf("Positions = %v, %v; want %v", got, err, pos)
		}
	}
	db := openDB(t, dsn)
	storetest.Insert(t, db, 5, storetest.Imp(at, storetest.User(1)))
	storetest.InsertFrom(t, db, map[int32]int64{0: 3}, storetest.Imp(at, storetest.User(2)))
	storetest.InsertFrom(t, db, map[int32]int64{0: 4}, storetest.Imp(at, storetest.User(3)))
	check(db, 3, 5, map[int32]int64{0: 4})
	if err := db.Insert(ctx, []admeter.Event{storetest.Imp(at, storetest.User(4))}, 7); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("Insert at offset 7 after batch 7: %v, want ECONFLICT", err)
	}

	db2 := openDB(t, dsn)
	check(db2, 3, 5, map[int32]int64{0: 4})
	storetest.InsertFrom(t, db2, map[int32]int64{0: 5}, storetest.Imp(at, storetest.User(4)))
	check(db2, 4, 5, map[int32]int64{0: 5})
}

// TestOpenRefusesNewerSchema: a database written by a later schema is
// refused with a message saying what to do.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	db := openDB(t, dsn)
	if err := db.setMeta(ctx, metaVersion, schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(ctx, dsn, Options{}, nil); err == nil || !strings.Contains(err.Error(), "newer") {
		if db2 != nil {
			db2.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want a refusal", err)
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", `'abc'`},
		{"a'b", `'a\'b'`},
		{`a\b`, `'a\\b'`},
		{"a\nb\x00", `'a\x0Ab\x00'`},
		{"广东", `'广东'`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// impressionsAround returns the default campaign's impressions within an
// hour of at.
func impressionsAround(t *testing.T, db *DB, at time.Time) int64 {
	t.Helper()
	r, err := db.Report(context.Background(), store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: time.UTC})
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	return r.Total.Impressions
}
