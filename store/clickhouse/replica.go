package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
)

// replicaWait is how long a load waits for every live replica of a shard
// to hold its rows before failing (the batch then never commits).
const replicaWait = 30 * time.Second

// replicatedEvents returns the CREATE of the local events table of a
// replicated cluster: schema[0] as a ReplicatedMergeTree whose ZooKeeper
// path names the shard (macro shard) and database, replica by macro
// replica.
func replicatedEvents(database string) string {
	return replicatedTable(schema[0], localEvents, database)
}

// replicatedTable returns create, the CREATE of the local table named
// table, as a ReplicatedMergeTree whose ZooKeeper path names the shard
// (macro shard), database and table, replica by macro replica.
func replicatedTable(create, table, database string) string {
	return strings.Replace(create, "ENGINE = MergeTree()",
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/"+strings.ReplaceAll(database, "'", "")+"/"+table+"', '{replica}')", 1)
}

// checkZooKeeper refuses a server without ZooKeeper (system.zookeeper
// fails) or without the shard and replica macros: cluster has replicas,
// which need both.
func checkZooKeeper(ctx context.Context, c driver.Conn, cluster string) error {
	var n uint64
	if err := c.QueryRow(ctx, `SELECT count() FROM system.zookeeper WHERE path = '/'`).Scan(&n); err != nil {
		return fmt.Errorf("cluster %s has shards with several replicas, which need ZooKeeper, but the server cannot read it (configure <zookeeper> in its config): %w", cluster, err)
	}
	if err := c.QueryRow(ctx, `SELECT count() FROM system.macros WHERE macro IN ('shard', 'replica')`).Scan(&n); err != nil {
		return fmt.Errorf("read the server's macros: %w", err)
	}
	if n != 2 {
		return fmt.Errorf("cluster %s has replicas, and the server lacks the <macros> shard and replica that name its replica of the events table: configure both", cluster)
	}
	return nil
}

// checkReplicated refuses local events and posts tables that are not
// replicated (made by a store of an unreplicated cluster or server).
func checkReplicated(ctx context.Context, c driver.Conn) error {
	for _, table := range []string{localEvents, localPosts} {
		var engine string
		if err := c.QueryRow(ctx, `SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = `+quote(table)).Scan(&engine); err != nil {
			return fmt.Errorf("read the engine of table %s: %w", table, err)
		}
		if engine != "ReplicatedMergeTree" {
			return fmt.Errorf("table %s is a %s, not a ReplicatedMergeTree, on a cluster with replicas: copy its rows into a replicated table (or drop it if empty) before opening the store over this cluster", table, engine)
		}
	}
	return nil
}

// liveReplica returns the connection to the first replica of shard i
// that answers a ping.
func (db *DB) liveReplica(i int) (driver.Conn, error) {
	var errs []error
	for r, c := range db.replicas[i] {
		ctx, cancel := context.WithTimeout(context.Background(), db.opts.DialTimeout)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("replica %d: %w", r+1, err))
	}
	return nil, fmt.Errorf("no replica of shard %d answers: %w", i+1, errors.Join(errs...))
}

// otherLive returns the replicas of shard i other than c that answer a
// ping.
func (db *DB) otherLive(ctx context.Context, i int, c driver.Conn) []driver.Conn {
	var out []driver.Conn
	for _, o := range db.replicas[i] {
		if o != c && o.Ping(ctx) == nil {
			out = append(out, o)
		}
	}
	return out
}

// sendReplicated sends a shard's events to the first replica of shard
// i that takes them (an unreachable one is skipped), then waits until
// every other replica that answers a ping holds them too, so that the
// rows of a committed batch are on every live replica before its commit
// (see Replication for why not insert_quorum).
func (db *DB) sendReplicated(ctx context.Context, i int, events []admeter.Event, batch uint64) error {
	return db.writeReplicated(i,
		func(c driver.Conn) error { return sendTo(ctx, c, events, batch) },
		func(c driver.Conn) error { return db.waitRows(ctx, i, c, events, batch) })
}

// writeReplicated runs send on the first replica of shard i that takes
// its rows (an unreachable one is skipped), then wait with that
// replica's connection.
func (db *DB) writeReplicated(i int, send, wait func(c driver.Conn) error) error {
	var errs []error
	for r, c := range db.replicas[i] {
		err := send(c)
		if err == nil {
			return wait(c)
		}
		var ex *clickhouse.Exception
		if errors.As(err, &ex) {
			// The server refused the rows: another replica would too.
			return fmt.Errorf("replica %d: %w", r+1, err)
		}
		errs = append(errs, fmt.Errorf("replica %d: %w", r+1, err))
	}
	return fmt.Errorf("no replica takes the rows: %w", errors.Join(errs...))
}

// waitRows waits until every replica of shard i other than c that
// answers a ping holds as many rows of batch, in the days of events, as
// c (len(events), unless ReplicatedMergeTree dropped the block as a
// duplicate of an earlier insert of the same rows, the batch's own).
func (db *DB) waitRows(ctx context.Context, i int, c driver.Conn, events []admeter.Event, batch uint64) error {
	days := map[int64]bool{}
	for j := range events {
		days[floorDiv(events[j].At.UnixMilli(), msPerDay)] = true
	}
	in := make([]string, 0, len(days))
	for d := range days {
		in = append(in, strconv.FormatInt(d, 10))
	}
	q := fmt.Sprintf("SELECT count() FROM %s WHERE day IN (%s) AND batch = %d", localEvents, strings.Join(in, ", "), batch)
	return db.waitCount(ctx, i, c, q)
}

// waitCount waits until every replica of shard i other than c that
// answers a ping counts at least as many rows with q (a SELECT count()
// of the rows just written) as c does.
func (db *DB) waitCount(ctx context.Context, i int, c driver.Conn, q string) error {
	var want uint64
	if err := c.QueryRow(ctx, q).Scan(&want); err != nil {
		return fmt.Errorf("count the rows on the replica written to: %w", err)
	}
	deadline := time.Now().Add(replicaWait)
	for _, o := range db.otherLive(ctx, i, c) {
		wait := 2 * time.Millisecond
		for {
			var n uint64
			if err := o.QueryRow(ctx, q).Scan(&n); err != nil {
				return fmt.Errorf("count the rows on another replica: %w", err)
			}
			if n >= want {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("a replica holds %d of the %d rows written after %s: see system.replication_queue there", n, want, replicaWait)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for the rows to reach every replica: %w", ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, 100*time.Millisecond)
		}
	}
	return nil
}

// waitReplicas waits until every replica of shard i that answers (c,
// the one mutations ran on, and the others) has applied every mutation
// of the local table (events or posts) made so far: the latest in ZooKeeper (a replica lists a
// mutation only once it has read it from there, so its own
// system.mutations may not show one just made), after which its
// system.mutations must list it and have none pending.
func (db *DB) waitReplicas(ctx context.Context, i int, c driver.Conn, table string) error {
	var path string
	if err := c.QueryRow(ctx, `SELECT zookeeper_path FROM system.replicas WHERE database = currentDatabase() AND table = `+quote(table)).Scan(&path); err != nil {
		return fmt.Errorf("read the ZooKeeper path of %s: %w", table, err)
	}
	var last string
	if err := c.QueryRow(ctx, `SELECT max(name) FROM system.zookeeper WHERE path = `+quote(path+"/mutations")).Scan(&last); err != nil {
		return fmt.Errorf("read the latest mutation of %s from ZooKeeper: %w", table, err)
	}
	if last == "" {
		return nil
	}
	deadline := time.Now().Add(db.opts.MutationTimeout)
	for _, o := range append([]driver.Conn{c}, db.otherLive(ctx, i, c)...) {
		wait := 5 * time.Millisecond
		for {
			var seen, pending uint64
			if err := o.QueryRow(ctx, `SELECT countIf(mutation_id >= `+quote(last)+`), countIf(is_done = 0) FROM system.mutations WHERE database = currentDatabase() AND table = `+quote(table)).Scan(&seen, &pending); err != nil {
				return fmt.Errorf("wait for the mutations of %s on a replica of shard %d: %w", table, i+1, err)
			}
			if seen > 0 && pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("mutation %s of %s not done on a replica of shard %d after %s: see system.mutations and system.replication_queue there", last, table, i+1, db.opts.MutationTimeout)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for mutation of %s: %w", table, ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, 200*time.Millisecond)
		}
	}
	return nil
}

// waitDropped waits until the replicas of shard i other than c (those
// that answer) have no active part of partition part of the local table
// (events or posts) left.
func (db *DB) waitDropped(ctx context.Context, i int, c driver.Conn, table string, part int64) error {
	deadline := time.Now().Add(db.opts.MutationTimeout)
	for _, o := range db.otherLive(ctx, i, c) {
		wait := 5 * time.Millisecond
		for {
			var n uint64
			if err := o.QueryRow(ctx, fmt.Sprintf(`SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = %s AND active AND partition = '%d'`, quote(table), part)).Scan(&n); err != nil {
				return fmt.Errorf("wait for the partition to be dropped on another replica of shard %d: %w", i+1, err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("partition %d of %s not dropped on a replica of shard %d after %s: see system.replication_queue there", part, table, i+1, db.opts.MutationTimeout)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for the partition to be dropped: %w", ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, 200*time.Millisecond)
		}
	}
	return nil
}

// readSettings are the coordinator's settings with replicas: the
// Distributed table prefers, for each shard, a replica at most a second
// behind in fetching inserts (ZooKeeper's replication log), and else the
// least behind, so that a replica catching up after a restart does not
// answer for its shard while another is current (see Replication).
var readSettings = clickhouse.Settings{
	"max_replica_delay_for_distributed_queries":          1,
	"fallback_to_stale_replicas_for_distributed_queries": 1,
}

// reopenForReplicas replaces the coordinator's connection with one whose
// sessions carry readSettings.
func (db *DB) reopenForReplicas(co *clickhouse.Options) error {
	o := *co
	o.Settings = clickhouse.Settings{}
	for k, v := range co.Settings {
		o.Settings[k] = v
	}
	for k, v := range readSettings {
		o.Settings[k] = v
	}
	c, err := clickhouse.Open(&o)
	if err != nil {
		return fmt.Errorf("connect to the coordinator: %w", err)
	}
	old := db.conn
	db.conn = c
	return old.Close()
}
