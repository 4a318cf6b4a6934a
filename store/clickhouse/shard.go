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

// Table names of the events: events is every server's local table,
// distributedEvents the coordinator's Distributed table over the shards'
// local tables (sharded mode only).
const (
	localEvents       = "events"
	distributedEvents = "events_all"
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

// shardAddrs reads the address (host:port) of the first replica of each
// shard of cluster from the coordinator's system.clusters, in shard
// order. Every shard must weigh 1, as shardOf assumes.
func shardAddrs(ctx context.Context, conn driver.Conn, cluster string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT shard_num, shard_weight, host_name, port FROM system.clusters WHERE cluster = `+quote(cluster)+` AND replica_num = 1 ORDER BY shard_num`)
	if err != nil {
		return nil, fmt.Errorf("read the shards of cluster %s from system.clusters: %w", cluster, err)
	}
	defer rows.Close()
	var addrs []string
	for rows.Next() {
		var num, weight uint32
		var host string
		var port uint16
		if err := rows.Scan(&num, &weight, &host, &port); err != nil {
			return nil, fmt.Errorf("read the shards of cluster %s: %w", cluster, err)
		}
		if weight != 1 {
			return nil, fmt.Errorf("shard %d of cluster %s weighs %d: the store writes rows to shards itself and needs every shard's <weight> to be 1", num, cluster, weight)
		}
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the shards of cluster %s: %w", cluster, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("cluster %s is not in the server's system.clusters: name a cluster of its <remote_servers> config", cluster)
	}
	return addrs, nil
}

// openShards connects to every shard of opts.Cluster with co's
// credentials and database, and creates their local events tables and
// the coordinator's Distributed table over them.
func (db *DB) openShards(ctx context.Context, co *clickhouse.Options) error {
	addrs, err := shardAddrs(ctx, db.conn, db.opts.Cluster)
	if err != nil {
		return err
	}
	var database string
	if err := db.conn.QueryRow(ctx, `SELECT currentDatabase()`).Scan(&database); err != nil {
		return fmt.Errorf("read the database name: %w", err)
	}
	for _, addr := range addrs {
		o := *co
		o.Addr = []string{addr}
		o.Auth.Database = database
		c, err := clickhouse.Open(&o)
		if err != nil {
			return fmt.Errorf("connect to shard %s: %w", addr, err)
		}
		db.shards = append(db.shards, c)
		if err := c.Ping(ctx); err != nil {
			return fmt.Errorf("reach shard %s (is it running, and database %s created on it?): %w", addr, database, err)
		}
		if err := c.Exec(ctx, schema[0]); err != nil {
			return fmt.Errorf("create table events on shard %s: %w", addr, err)
		}
	}
	if err := db.conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s, %s)`,
		distributedEvents, localEvents, quote(db.opts.Cluster), quote(database), quote(localEvents), shardKeySQL)); err != nil {
		return fmt.Errorf("create table %s: %w", distributedEvents, err)
	}
	// A table made for another cluster or database would read other
	// tables.
	var create string
	if err := db.conn.QueryRow(ctx, `SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = `+quote(distributedEvents)).Scan(&create); err != nil {
		return fmt.Errorf("read the definition of table %s: %w", distributedEvents, err)
	}
	if !strings.Contains(create, fmt.Sprintf("Distributed(%s, %s, %s,", quote(db.opts.Cluster), quote(database), quote(localEvents))) {
		return fmt.Errorf("table %s is not over table events of database %s of cluster %s (%s): drop it on the coordinator (DROP TABLE %[1]s; it holds no data) for Open to create it again",
			distributedEvents, database, db.opts.Cluster, create)
	}
	db.events = distributedEvents
	return nil
}

// onShards runs fn on every shard's connection at once and returns
// their errors joined.
func (db *DB) onShards(fn func(i int, c driver.Conn) error) error {
	if len(db.shards) == 1 {
		return fn(0, db.shards[0])
	}
	errs := make([]error, len(db.shards))
	var wg sync.WaitGroup
	for i, c := range db.shards {
		wg.Go(func() {
			if err := fn(i, c); err != nil {
				errs[i] = fmt.Errorf("shard %d: %w", i+1, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// mutateEvents runs ALTER TABLE events cmd (a DELETE or UPDATE mutation)
// on every shard's local table and waits until each has applied every
// mutation of it.
func (db *DB) mutateEvents(ctx context.Context, cmd string) error {
	return db.onShards(func(_ int, c driver.Conn) error { return db.mutateOn(ctx, c, localEvents, cmd) })
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
	return db.onShards(func(_ int, c driver.Conn) error { return db.waitMutations(ctx, c, localEvents) })
}
