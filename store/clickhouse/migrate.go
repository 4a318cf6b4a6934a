package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// addViewColumns adds viewColumns to every events table that lacks them
// (schema version 4): the local table of every shard (with replicas, on
// one replica of each, which ZooKeeper replicates, then waits until every
// replica that answers has them), the coordinator's own, and the
// Distributed table. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so
// each table's columns are read first; a column another process added
// meanwhile is taken as added.
func (db *DB) addViewColumns(ctx context.Context) error {
	err := db.onShards(func(i int, c driver.Conn) error {
		if err := addColumns(ctx, c, localEvents, viewColumns); err != nil {
			return err
		}
		if db.replicated {
			return db.waitColumns(ctx, i, c, viewColumns)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add the viewability and conversion columns: %w", err)
	}
	tables := []string{localEvents}
	if db.events != localEvents {
		tables = append(tables, db.events)
	}
	for _, t := range tables {
		if err := addColumns(ctx, db.conn, t, viewColumns); err != nil {
			return fmt.Errorf("add the viewability and conversion columns on the coordinator: %w", err)
		}
	}
	return nil
}

// missingColumns returns those of cols that table lacks on the server of
// conn.
func missingColumns(ctx context.Context, conn driver.Conn, table string, cols []column) ([]column, error) {
	rows, err := conn.Query(ctx, `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = `+quote(table))
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read the columns of %s: %w", table, err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	var out []column
	for _, c := range cols {
		if !have[c.name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// addColumns adds those of cols that table lacks on the server of conn,
// at its end. An ALTER that fails because another process added a
// column first is tried again for the columns still missing.
func addColumns(ctx context.Context, conn driver.Conn, table string, cols []column) error {
	var last error
	for range 3 {
		missing, err := missingColumns(ctx, conn, table, cols)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return nil
		}
		adds := make([]string, len(missing))
		for i, c := range missing {
			adds[i] = "ADD COLUMN " + c.name + " " + c.typ
		}
		if last = conn.Exec(ctx, "ALTER TABLE "+table+" "+strings.Join(adds, ", ")); last == nil {
			return nil
		}
	}
	return fmt.Errorf("add columns to %s: %w", table, last)
}

// waitColumns waits until every replica of shard i other than c that
// answers has cols in its events table (an ALTER of a replicated table
// reaches the others through ZooKeeper).
func (db *DB) waitColumns(ctx context.Context, i int, c driver.Conn, cols []column) error {
	deadline := time.Now().Add(db.opts.MutationTimeout)
	for _, o := range db.otherLive(ctx, i, c) {
		wait := 5 * time.Millisecond
		for {
			missing, err := missingColumns(ctx, o, localEvents, cols)
			if err != nil {
				return fmt.Errorf("another replica of shard %d: %w", i+1, err)
			}
			if len(missing) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("a replica of shard %d still lacks column %s of events after %s: see system.replication_queue there", i+1, missing[0].name, db.opts.MutationTimeout)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for the new columns on every replica: %w", ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, 200*time.Millisecond)
		}
	}
	return nil
}
