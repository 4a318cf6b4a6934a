package clickhouse

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-faster/city"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/testserver"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// testShards is the number of servers of the test cluster.
const testShards = 2

var (
	clusterOnce sync.Once
	cluster     *testserver.Cluster
	clusterErr  error
)

// testCluster returns the test cluster, started at the first call (so
// that tests of one server alone do not pay for it).
func testCluster(t testing.TB) *testserver.Cluster {
	t.Helper()
	clusterOnce.Do(func() { cluster, clusterErr = testserver.ClickHouseCluster(testShards) })
	if clusterErr != nil {
		t.Fatalf("start a ClickHouse cluster of %d servers: %v", testShards, clusterErr)
	}
	return cluster
}

// stopCluster stops the test cluster if it was started.
func stopCluster() error {
	if cluster == nil {
		return nil
	}
	return cluster.Stop()
}

// createShardedDatabase creates a database of its own for t on every
// server of c, dropped at the end of the test, and returns the
// coordinator's (the first server's) DSN naming it.
func createShardedDatabase(t testing.TB, c *testserver.Cluster) string {
	t.Helper()
	name := fmt.Sprintf("admeter_shard_%d_%d", os.Getpid(), databases.Add(1))
	for _, dsn := range c.DSNs {
		if err := testserver.ClickHouseExec(dsn, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
			t.Fatalf("create database on %s: %v", dsn, err)
		}
	}
	t.Cleanup(func() {
		for _, dsn := range c.DSNs {
			if err := testserver.ClickHouseExec(dsn, "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("drop database %s on %s: %v", name, dsn, err)
			}
		}
	})
	return testserver.WithDatabase(c.DSNs[0], name)
}

// env is where a test's databases live: one server, or the test cluster.
type env struct {
	// create returns the DSN of a new database.
	create  func(t testing.TB) string
	cluster string
}

// open opens a store on dsn with opts, sharded over the env's cluster if
// any, closed at the end of the test.
func (e env) open(t testing.TB, dsn string, opts Options) *DB {
	t.Helper()
	opts.Cluster = e.cluster
	return openDBWith(t, dsn, opts)
}

// single is one server.
var single = env{create: func(t testing.TB) string { return createDatabase(t, "") }}

// sharded is the test cluster.
func sharded(t testing.TB) env {
	c := testCluster(t)
	return env{create: func(t testing.TB) string { return createShardedDatabase(t, c) }, cluster: c.Name}
}

func TestConformanceSharded(t *testing.T) {
	e := sharded(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if why, ok := notYet[name]; ok {
			t.Skip("not yet on ClickHouse: " + why)
		}
		return e.open(t, e.create(t), Options{})
	})
}

// shardCounts returns the number of rows of each shard's local events
// table in the database of db, in shard order.
func shardCounts(t *testing.T, db *DB, where string) []uint64 {
	t.Helper()
	out := make([]uint64, len(db.shards))
	for i, c := range db.shards {
		if err := c.QueryRow(context.Background(), "SELECT count() FROM events WHERE "+where).Scan(&out[i]); err != nil {
			t.Fatalf("count rows of shard %d: %v", i+1, err)
		}
	}
	return out
}

// TestShardedRowsLandOnEveryShard: a batch's rows go to the local tables
// of the shards their users hash to (as the Distributed table's sharding
// key says), all with the batch's number, and queries count them all.
func TestShardedRowsLandOnEveryShard(t *testing.T) {
	ctx := context.Background()
	e := sharded(t)
	db := e.open(t, e.create(t), Options{})
	if len(db.shards) != testShards {
		t.Fatalf("shards = %d, want %d", len(db.shards), testShards)
	}
	const n = 200
	evs := imps(0, n)
	// Anonymous events spread by impression id.
	for i := range 20 {
		evs[i].User, evs[i].UserType = admeter.Pseudonym{}, admeter.IDNone
		evs[i].ImpressionID = storetest.ImpressionID(i)
	}
	storetest.InsertFrom(t, db, map[int32]int64{0: n}, evs...)
	counts := shardCounts(t, db, "1")
	want := make([]uint64, testShards)
	for i := range evs {
		want[shardOf(&evs[i], testShards)]++
	}
	var sum uint64
	for i, c := range counts {
		if c == 0 || c != want[i] {
			t.Errorf("shard %d holds %d rows, want %d (and more than none)", i+1, c, want[i])
		}
		sum += c
	}
	if sum != n {
		t.Errorf("rows on the shards = %d, want %d", sum, n)
	}
	// Every row is on the shard the server's sharding key names, and
	// carries the one batch number.
	for i, c := range db.shards {
		var wrong, batches uint64
		if err := c.QueryRow(ctx, fmt.Sprintf("SELECT countIf(%s %% %d != %d), uniqExact(batch) FROM events", shardKeySQL, testShards, i)).Scan(&wrong, &batches); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 || batches != 1 {
			t.Errorf("shard %d: %d rows of another shard, %d batch numbers (want 0 and 1)", i+1, wrong, batches)
		}
	}
	wantImpressions(t, db, n)
	r, err := db.Report(ctx, store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.DefaultCampaign,
		From: testAt.Add(-time.Hour), To: testAt.Add(time.Hour), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.UV != n-20 {
		t.Errorf("UV = %d, want %d (exact across shards)", r.Total.UV, n-20)
	}
}

// TestShardKeyMatchesServer: shardOf's hash is the server's cityHash64.
func TestShardKeyMatchesServer(t *testing.T) {
	conn, err := connect(serverDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 50 {
		u := storetest.UserID(i)
		var got uint64
		if err := conn.QueryRow(context.Background(), "SELECT cityHash64("+keyLiteral(u)+")").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := city.CH64(u[:]); got != want {
			t.Fatalf("cityHash64 of user %d: server %d, Go %d", i, got, want)
		}
	}
}

// TestShardedDeletion: deletions run on every shard's local table: a
// user's events go wherever they are, others stay, retention drops the
// days on every shard, and a tenant's events go from all.
func TestShardedDeletion(t *testing.T) {
	ctx := context.Background()
	e := sharded(t)
	db := e.open(t, e.create(t), Options{})
	const n = 40
	day1 := testAt.Add(-48 * time.Hour)
	var evs []admeter.Event
	for i := range n {
		evs = append(evs, storetest.Imp(day1.Add(time.Duration(i)*time.Second), storetest.User(i)),
			storetest.Imp(testAt.Add(time.Duration(i)*time.Second), storetest.User(i)),
			storetest.Imp(testAt.Add(time.Duration(i)*time.Second), storetest.User(i), storetest.Tenant("other")))
	}
	storetest.Insert(t, db, 1, evs...)
	// Users 0-9 land on both shards.
	var users []admeter.Pseudonym
	var where []string
	on := make([]int, testShards)
	for i := range 10 {
		u := storetest.UserID(i)
		users = append(users, u)
		where = append(where, keyLiteral(u))
		ev := storetest.Imp(testAt, storetest.User(i))
		on[shardOf(&ev, testShards)]++
	}
	for s, k := range on {
		if k == 0 {
			t.Fatalf("no deleted user on shard %d: choose others", s+1)
		}
	}
	mine := fmt.Sprintf("tenant = %s AND user_key IN (%s)", quote(string(storetest.DefaultTenant)), strings.Join(where, ", "))
	d, err := db.DeleteUsers(ctx, storetest.DefaultTenant, users)
	if err != nil {
		t.Fatal(err)
	}
	if d.Events != 20 {
		t.Errorf("DeleteUsers deleted %d events, want 20", d.Events)
	}
	for s, c := range shardCounts(t, db, mine) {
		if c != 0 {
			t.Errorf("shard %d still holds %d rows of the deleted users", s+1, c)
		}
	}
	if got := sum(shardCounts(t, db, "1")); got != 3*n-20 {
		t.Errorf("rows left = %d, want %d", got, 3*n-20)
	}
	if got, _, err := db.UserEvents(ctx, "other", users, 100); err != nil || len(got) != 10 {
		t.Errorf("other tenant's events of the users = %d, %v; want 10", len(got), err)
	}

	// Retention drops day1's partition on both shards.
	cut := testAt.Add(-24 * time.Hour)
	if got, err := db.DeleteBefore(ctx, cut); err != nil || got != n-10 {
		t.Fatalf("DeleteBefore = %d, %v; want %d", got, err, n-10)
	}
	for s, c := range shardCounts(t, db, fmt.Sprintf("ts < %d", cut.UnixMilli())) {
		if c != 0 {
			t.Errorf("shard %d still holds %d rows before the cut", s+1, c)
		}
	}

	if got, err := db.DeleteTenant(ctx, "other"); err != nil || got != n {
		t.Fatalf("DeleteTenant = %d, %v; want %d", got, err, n)
	}
	counts := shardCounts(t, db, "1")
	if got := sum(counts); got != n-10 {
		t.Errorf("rows left = %d, want %d", got, n-10)
	}
	for s, c := range shardCounts(t, db, "tenant = 'other'") {
		if c != 0 {
			t.Errorf("shard %d still holds %d rows of the deleted tenant", s+1, c)
		}
	}
	wantImpressions(t, db, n-10)
}

func sum(xs []uint64) uint64 {
	var s uint64
	for _, x := range xs {
		s += x
	}
	return s
}

func TestConcurrentWritersSharded(t *testing.T)  { testConcurrentWriters(t, sharded(t)) }
func TestRacingLoadersSharded(t *testing.T)      { testRacingLoaders(t, sharded(t)) }
func TestCrashBeforeCommitSharded(t *testing.T)  { testCrashBeforeCommit(t, sharded(t)) }
func TestOverlappingBatchesSharded(t *testing.T) { testOverlappingBatches(t, sharded(t)) }

// TestOpenOtherCluster: a Distributed table made for another cluster or
// database is refused, not read.
func TestOpenOtherCluster(t *testing.T) {
	e := sharded(t)
	dsn := e.create(t)
	e.open(t, dsn, Options{})
	if err := testserver.ClickHouseExec(dsn, "DROP TABLE events_all"); err != nil {
		t.Fatal(err)
	}
	if err := testserver.ClickHouseExec(dsn, "CREATE TABLE events_all AS events ENGINE = Distributed("+quote(e.cluster)+", 'elsewhere', 'events', rand())"); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), dsn, Options{Cluster: e.cluster}, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open over a Distributed table of another cluster succeeded")
	}
	if !strings.Contains(err.Error(), "DROP TABLE events_all") {
		t.Errorf("Open over another cluster's table: %v, want what to do", err)
	}
}

// TestOpenUnknownCluster: a cluster the coordinator does not know is
// refused with a message naming the config to fix.
func TestOpenUnknownCluster(t *testing.T) {
	db, err := Open(context.Background(), createDatabase(t, ""), Options{Cluster: "nosuch"}, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open with an unknown cluster succeeded")
	}
	if !strings.Contains(err.Error(), "remote_servers") {
		t.Errorf("Open with an unknown cluster: %v, want a word on remote_servers", err)
	}
}
