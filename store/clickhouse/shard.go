package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"

	"github.com/admeter/admeter"
)

// Table names of the events and social records: events and posts are
// every server's local tables, distributedEvents and distributedPosts the
// coordinator's Distributed tables over the shards' local tables
// (sharded mode only).
const (
	localEvents       = "events"
	distributedEvents = "events_all"
	localPosts        = "posts"
	distributedPosts  = "posts_all"
)

// shardKeySQL is the sharding key of the Distributed table, computed by
// shardOf in Go identically: the user's pseudonym, or the impression id
// for events without a user (so that anonymous traffic spreads too).
const shardKeySQL = "cityHash64(if(user_key = " + noKey + ", impression, user_key))"

// shardOf returns the index of the shard that holds e, of n: the
// Distributed table's sharding key (cityHash64, ClickHouse's CityHash64
// v1.0.2, which github.com/go-faster/city implements) modulo n, which is
// the shard the Distributed engine would pick when every shard weighs 1.
func shardOf(e *admeter.Event, n int) int {
	if n <= 1 {
		return 0
	}
	key := e.User[:]
	if e.User.IsZero() {
		key = e.ImpressionID[:]
	}
	return int(city.CH64(key) % uint64(n))
}

// shardAddrs reads the addresses (host:port) of the replicas of each
// shard of cluster from the coordinator's system.clusters, in shard and
// replica order. Every shard must weigh 1, as shardOf assumes.
func shardAddrs(ctx context.Context, conn driver.Conn, cluster string) ([][]string, error) {
	rows, err := conn.Query(ctx, `SELECT shard_num, shard_weight, replica_num, host_name, port FROM system.clusters WHERE cluster = `+quote(cluster)+` ORDER BY shard_num, replica_num`)
	if err != nil {
		return nil, fmt.Errorf("read the shards of cluster %s from system.clusters: %w", cluster, err)
	}
	defer rows.Close()
	var addrs [][]string
	last := uint32(0)
	for rows.Next() {
		var num, weight, replica uint32
		var host string
		var port uint16
		if err := rows.Scan(&num, &weight, &replica, &host, &port); err != nil {
			return nil, fmt.Errorf("read the shards of cluster %s: %w", cluster, err)
		}
		if weight != 1 {
			return nil, fmt.Errorf("shard %d of cluster %s weighs %d: the store writes rows to shards itself and needs every shard's <weight> to be 1", num, cluster, weight)
		}
		if num != last {
			addrs = append(addrs, nil)
			last = num
		}
		addrs[len(addrs)-1] = append(addrs[len(addrs)-1], net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the shards of cluster %s: %w", cluster, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("cluster %s is not in the server's system.clusters: name a cluster of its <remote_servers> config", cluster)
	}
	return addrs, nil
}

// openShards connects to every replica of every shard of opts.Cluster
// with co's credentials and database, and creates their local events
// tables (ReplicatedMergeTree if a shard has several replicas) and the
// coordinator's Distributed table over them.
func (db *DB) openShards(ctx context.Context, co *clickhouse.Options) error {
	addrs, err := shardAddrs(ctx, db.conn, db.opts.Cluster)
	if err != nil {
		return err
	}
	var database string
	if err := db.conn.QueryRow(ctx, `SELECT currentDatabase()`).Scan(&database); err != nil {
		return fmt.Errorf("read the database name: %w", err)
	}
	for _, rs := range addrs {
		if len(rs) > 1 {
			db.replicated = true
		}
	}
	creates := []string{schema[0], postsSchema}
	if db.replicated {
		if err := checkZooKeeper(ctx, db.conn, db.opts.Cluster); err != nil {
			return err
		}
		creates = []string{replicatedEvents(database), replicatedTable(postsSchema, localPosts, database)}
	}
	for s, rs := range addrs {
		var conns []driver.Conn
		live := 0
		for r, addr := range rs {
			o := *co
			o.Addr = []string{addr}
			o.Auth.Database = database
			c, err := clickhouse.Open(&o)
			if err != nil {
				return fmt.Errorf("connect to shard %d replica %d (%s): %w", s+1, r+1, addr, err)
			}
			conns = append(conns, c)
			db.replicas = append(db.replicas[:s], conns)
			if err := c.Ping(ctx); err != nil {
				if !db.replicated {
					return fmt.Errorf("reach shard %s (is it running, and database %s created on it?): %w", addr, database, err)
				}
				// A replica down does not stop the store: its shard is
				// served by the others (see Replication).
				db.logger.Warn("replica unreachable at open", "shard", s+1, "replica", r+1, "err", err)
				continue
			}
			live++
			if db.replicated {
				if err := checkZooKeeper(ctx, c, db.opts.Cluster); err != nil {
					return fmt.Errorf("shard %d replica %d (%s): %w", s+1, r+1, addr, err)
				}
			}
			for _, create := range creates {
				if err := c.Exec(ctx, create); err != nil {
					return fmt.Errorf("create tables on shard %d replica %d (%s): %w", s+1, r+1, addr, err)
				}
			}
			if db.replicated {
				if err := checkReplicated(ctx, c); err != nil {
					return fmt.Errorf("shard %d replica %d (%s): %w", s+1, r+1, addr, err)
				}
			}
		}
		if live == 0 {
			return fmt.Errorf("no replica of shard %d (%s) answers: start one (and create database %s on it)", s+1, strings.Join(rs, ", "), database)
		}
		db.shards = append(db.shards, conns[0])
	}
	// The Distributed tables are made AS the coordinator's local tables,
	// which the coordinator lacks if it is not one of the servers.
	for _, d := range []struct{ local, create, distributed, key string }{
		{localEvents, schema[0], distributedEvents, shardKeySQL},
		{localPosts, postsSchema, distributedPosts, postsShardKeySQL},
	} {
		if err := db.conn.Exec(ctx, d.create); err != nil {
			return fmt.Errorf("create table %s on the coordinator: %w", d.local, err)
		}
		if err := db.conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s, %s)`,
			d.distributed, d.local, quote(db.opts.Cluster), quote(database), quote(d.local), d.key)); err != nil {
			return fmt.Errorf("create table %s: %w", d.distributed, err)
		}
		// A table made for another cluster or database would read other
		// tables.
		var def string
		if err := db.conn.QueryRow(ctx, `SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = `+quote(d.distributed)).Scan(&def); err != nil {
			return fmt.Errorf("read the definition of table %s: %w", d.distributed, err)
		}
		if !strings.Contains(def, fmt.Sprintf("Distributed(%s, %s, %s,", quote(db.opts.Cluster), quote(database), quote(d.local))) {
			return fmt.Errorf("table %s is not over table %s of database %s of cluster %s (%s): drop it on the coordinator (DROP TABLE %[1]s; it holds no data) for Open to create it again",
				d.distributed, d.local, database, db.opts.Cluster, def)
		}
	}
	db.events = distributedEvents
	db.posts = distributedPosts
	return nil
}

// onShards runs fn on every shard's connection at once and returns
// their errors joined.
//
// With replicas, c is the first replica of the shard that answers a
// ping (see liveReplica): what runs on one replica of a replicated table
// (mutations, DROP PARTITION) reaches the others through ZooKeeper.
func (db *DB) onShards(fn func(i int, c driver.Conn) error) error {
	if len(db.shards) == 1 && !db.replicated {
		return fn(0, db.shards[0])
	}
	return db.eachShard(func(i int) error {
		c := db.shards[i]
		if db.replicated {
			var err error
			if c, err = db.liveReplica(i); err != nil {
				return err
			}
		}
		return fn(i, c)
	})
}

// eachShard runs fn for every shard at once and returns their errors
// joined.
func (db *DB) eachShard(fn func(i int) error) error {
	if len(db.shards) == 1 {
		return fn(0)
	}
	errs := make([]error, len(db.shards))
	var wg sync.WaitGroup
	for i := range db.shards {
		wg.Go(func() {
			if err := fn(i); err != nil {
				errs[i] = fmt.Errorf("shard %d: %w", i+1, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// mutateEvents runs ALTER TABLE events cmd (a DELETE or UPDATE mutation)
// on every shard's local table and waits until each has applied every
// mutation of it (see mutateLocal).
func (db *DB) mutateEvents(ctx context.Context, cmd string) error {
	return db.mutateLocal(ctx, localEvents, cmd)
}

// mutateLocal runs ALTER TABLE table cmd (a DELETE or UPDATE mutation)
// on every shard's local table (events or posts) and waits until each has
// applied every mutation of it.
//
// With replicas, it runs on one replica of each shard and waits on every
// replica that answers.
func (db *DB) mutateLocal(ctx context.Context, table, cmd string) error {
	return db.onShards(func(i int, c driver.Conn) error {
		if !db.replicated {
			return db.mutateOn(ctx, c, table, cmd)
		}
		if err := c.Exec(ctx, "ALTER TABLE "+table+" "+cmd); err != nil {
			return fmt.Errorf("alter %s: %w", table, err)
		}
		return db.waitReplicas(ctx, i, c, table)
	})
}

// dropPartition drops partition part of every shard's local table
// (events or posts; with replicas, on one replica of each, then waits
// until every replica that answers has dropped it).
func (db *DB) dropPartition(ctx context.Context, table string, part int64) error {
	return db.onShards(func(i int, c driver.Conn) error {
		if err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, part)); err != nil {
			return fmt.Errorf("alter %s: %w", table, err)
		}
		if db.replicated {
			return db.waitDropped(ctx, i, c, table, part)
		}
		return nil
	})
}

// alterEvents starts ALTER TABLE events cmd on every shard's local table
// without waiting for the mutation.
func (db *DB) alterEvents(ctx context.Context, cmd string) error {
	return db.onShards(func(_ int, c driver.Conn) error {
		if err := c.Exec(ctx, "ALTER TABLE "+localEvents+" "+cmd); err != nil {
			return fmt.Errorf("alter %s: %w", localEvents, err)
		}
		return nil
	})
}

// waitEvents waits until every shard has applied every mutation of its
// local events table.
func (db *DB) waitEvents(ctx context.Context) error {
	return db.onShards(func(i int, c driver.Conn) error {
		if db.replicated {
			return db.waitReplicas(ctx, i, c, localEvents)
		}
		return db.waitMutations(ctx, c, localEvents)
	})
}
