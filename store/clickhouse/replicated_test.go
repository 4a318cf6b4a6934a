package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/testserver"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// The replicated test cluster: testReplShards shards of testReplicas
// replicas each, sharing one ZooKeeper.
const (
	testReplShards = 2
	testReplicas   = 2
)

var (
	replOnce    sync.Once
	replCluster *testserver.ReplicatedCluster
	replErr     error
)

// testReplicated returns the replicated test cluster, started at the
// first call; it skips t if ZooKeeper is not installed.
func testReplicated(t testing.TB) *testserver.ReplicatedCluster {
	t.Helper()
	replOnce.Do(func() { replCluster, replErr = testserver.ClickHouseReplicated(testReplShards, testReplicas) })
	return replicatedOrSkip(t, replCluster, replErr)
}

// replicatedOrSkip fails t on err, or skips it if err is that ZooKeeper
// is not installed.
func replicatedOrSkip(t testing.TB, c *testserver.ReplicatedCluster, err error) *testserver.ReplicatedCluster {
	t.Helper()
	if errors.Is(err, testserver.ErrNoZooKeeper) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatalf("start a replicated ClickHouse cluster: %v", err)
	}
	return c
}

// stopReplicated stops the replicated test cluster if it was started.
func stopReplicated() error {
	if replCluster == nil {
		return nil
	}
	return replCluster.Stop()
}

// createReplicatedDatabase creates a database of its own for t on every
// server of c, dropped at the end of the test, and returns the
// coordinator's (shard 1 replica 1) DSN naming it.
func createReplicatedDatabase(t testing.TB, c *testserver.ReplicatedCluster) string {
	t.Helper()
	name := fmt.Sprintf("admeter_repl_%d_%d", os.Getpid(), databases.Add(1))
	for _, dsn := range c.All() {
		if err := testserver.ClickHouseExec(dsn, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
			t.Fatalf("create database on %s: %v", dsn, err)
		}
	}
	t.Cleanup(func() {
		for _, dsn := range c.All() {
			if err := testserver.ClickHouseExec(dsn, "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("drop database %s on %s: %v", name, dsn, err)
			}
		}
	})
	return testserver.WithDatabase(c.DSNs[0][0], name)
}

// replicated is the replicated test cluster.
func replicated(t testing.TB) env {
	c := testReplicated(t)
	return env{create: func(t testing.TB) string { return createReplicatedDatabase(t, c) }, cluster: c.Name}
}

func TestConformanceReplicated(t *testing.T) {
	e := replicated(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if why, ok := notYet[name]; ok {
			t.Skip("not yet on ClickHouse: " + why)
		}
		db := e.open(t, e.create(t), Options{})
		if !db.replicated {
			t.Fatal("the store does not run replicated on a cluster with replicas")
		}
		return db
	})
}

// replicaCounts returns the number of rows of every replica's local
// events table in the database of db matching where, [shard][replica].
func replicaCounts(t *testing.T, db *DB, where string) [][]uint64 {
	t.Helper()
	out := make([][]uint64, len(db.replicas))
	for s, rs := range db.replicas {
		for r, c := range rs {
			var n uint64
			if err := c.QueryRow(context.Background(), "SELECT count() FROM events WHERE "+where).Scan(&n); err != nil {
				t.Fatalf("count rows of shard %d replica %d: %v", s+1, r+1, err)
			}
			out[s] = append(out[s], n)
		}
	}
	return out
}

// TestReplicatedRowsOnEveryReplica: once an insert returns, every
// replica of each shard holds the shard's rows (the loader waits for
// them), and the
// replicated table is a ReplicatedMergeTree.
func TestReplicatedRowsOnEveryReplica(t *testing.T) {
	e := replicated(t)
	db := e.open(t, e.create(t), Options{})
	if len(db.replicas) != testReplShards || len(db.replicas[0]) != testReplicas {
		t.Fatalf("replicas = %d shards, want %d × %d", len(db.replicas), testReplShards, testReplicas)
	}
	const n = 200
	evs := imps(0, n)
	want := make([]uint64, testReplShards)
	for i := range evs {
		want[shardOf(&evs[i], testReplShards)]++
	}
	for round := range 3 {
		storetest.InsertFrom(t, db, map[int32]int64{0: int64(n * (round + 1))}, evs...)
		// No waiting: the insert returned, so every replica has it.
		counts := replicaCounts(t, db, "1")
		for s, rs := range counts {
			for r, c := range rs {
				if c != want[s]*uint64(round+1) || c == 0 {
					t.Errorf("round %d: shard %d replica %d holds %d rows, want %d", round, s+1, r+1, c, want[s]*uint64(round+1))
				}
			}
		}
	}
	wantImpressions(t, db, 3*n)
	for s, rs := range db.replicas {
		for r, c := range rs {
			if err := checkReplicated(context.Background(), c); err != nil {
				t.Errorf("shard %d replica %d: %v", s+1, r+1, err)
			}
		}
	}
	// A deletion is applied on every replica when it returns.
	if _, err := db.DeleteUsers(context.Background(), storetest.DefaultTenant, []admeter.Pseudonym{evs[0].User, evs[1].User}); err != nil {
		t.Fatal(err)
	}
	for s, rs := range replicaCounts(t, db, "1") {
		for r, c := range rs {
			if c != rs[0] {
				t.Errorf("after DeleteUsers: shard %d replica %d holds %d rows, replica 1 %d", s+1, r+1, c, rs[0])
			}
		}
	}
	wantImpressions(t, db, 3*n-6)
}

// TestReplicaKilled: with one replica of a shard killed (SIGKILL),
// loading goes on through the other and reports stay exact; the killed
// replica, restarted, catches up with every row. It runs on a cluster of
// its own (2 shards × 2 replicas), so that killing a server does not
// disturb the other tests, and kills the first replica of shard 2 (the
// one its rows are sent to; the coordinator is shard 1's first), so the
// loader fails over to the second.
func TestReplicaKilled(t *testing.T) {
	c, err := testserver.ClickHouseReplicated(2, 2)
	c = replicatedOrSkip(t, c, err)
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	ctx := context.Background()
	db := openDBWith(t, createReplicatedDatabase(t, c), Options{Cluster: c.Name})
	const n = 100
	load := func(round int) {
		t.Helper()
		evs := imps(round*n, n)
		// While ZooKeeper still counts the killed replica as active
		// (its session lasts 10s), a quorum insert times out and the
		// load fails: the loader retries, as admeter's does.
		deadline := time.Now().Add(60 * time.Second)
		for {
			err := db.InsertFrom(ctx, evs, map[int32]int64{0: int64(n * (round + 1))})
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: load still failing after 60s: %v", round, err)
			}
			t.Logf("round %d: load failed, retrying: %v", round, err)
			time.Sleep(time.Second)
		}
	}
	load(0)
	wantImpressions(t, db, n)

	c.Kill(1, 0)
	start := time.Now()
	load(1)
	t.Logf("first load after the kill took %s", time.Since(start).Round(time.Millisecond))
	wantImpressions(t, db, 2*n)
	load(2)
	wantImpressions(t, db, 3*n)
	positions, err := db.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if positions[0] != 3*n {
		t.Errorf("position = %d, want %d", positions[0], 3*n)
	}

	if err := c.Restart(1, 0); err != nil {
		t.Fatal(err)
	}
	// Reports stay exact while the restarted replica catches up (a
	// stale replica is not read).
	deadline := time.Now().Add(60 * time.Second)
	restarted := time.Now()
	for first := true; ; first = false {
		wantImpressions(t, db, 3*n)
		counts := replicaCounts(t, db, "1")
		if first {
			t.Logf("restarted replica holds %d rows, the other %d", counts[1][0], counts[1][1])
		}
		if counts[1][0] == counts[1][1] {
			t.Logf("caught up in %s", time.Since(restarted).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted replica holds %d rows after 60s, the other %d", counts[1][0], counts[1][1])
		}
		time.Sleep(100 * time.Millisecond)
	}
	load(3)
	wantImpressions(t, db, 4*n)
	counts := replicaCounts(t, db, "1")
	for s, rs := range counts {
		if rs[0] != rs[1] || rs[0] == 0 {
			t.Errorf("after the restart, the replicas of shard %d hold %v rows, want the same (and some)", s+1, rs)
		}
	}
}

// TestOpenReplicatedWithoutZooKeeper: a cluster whose shards have
// replicas is refused on servers without ZooKeeper.
func TestOpenReplicatedWithoutZooKeeper(t *testing.T) {
	c, err := testserver.ClickHouseClusterNoZooKeeper(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	dsn := c.DSNs[0]
	for _, d := range c.DSNs {
		if err := testserver.ClickHouseExec(d, "CREATE DATABASE IF NOT EXISTS nozk"); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Open(context.Background(), testserver.WithDatabase(dsn, "nozk"), Options{Cluster: c.Name}, nil)
	if err == nil || !strings.Contains(err.Error(), "ZooKeeper") {
		t.Fatalf("Open = %v, want a refusal naming ZooKeeper", err)
	}
}

// The multi-writer tests on the replicated cluster.
func TestConcurrentWritersReplicated(t *testing.T)  { testConcurrentWriters(t, replicated(t)) }
func TestRacingLoadersReplicated(t *testing.T)      { testRacingLoaders(t, replicated(t)) }
func TestCrashBeforeCommitReplicated(t *testing.T)  { testCrashBeforeCommit(t, replicated(t)) }
func TestOverlappingBatchesReplicated(t *testing.T) { testOverlappingBatches(t, replicated(t)) }
