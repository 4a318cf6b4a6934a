package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// rowGroupRows is the number of rows of a DuckDB row group, the unit a
// scan skips when its statistics rule out a filter.
const rowGroupRows = 122_880

// Default thresholds of Cluster (DB fields, which tests lower).
const (
	// clusterMinRows: a partition smaller than two row groups has nothing
	// a scan could skip.
	clusterMinRows = 2 * rowGroupRows
	// clusterTailShare: a clustered partition is rewritten again once the
	// rows appended since (late events) reach this share of it, and at
	// least a row group.
	clusterTailShare = 0.1
)

// ClusterResult says what one Cluster call did.
type ClusterResult struct {
	// Partitions is the number of day partitions rewritten; Rows the rows
	// they hold.
	Partitions int
	Rows       int64
}

// Cluster rewrites, one at a time, the day partitions whose UTC day ended
// at or before before and whose rows are not yet in (tenant, campaign, ts)
// order: those never clustered that hold at least two row groups, and
// those clustered before whose rows appended since (late events) reach a
// tenth of them and at least a row group. Events arrive in time order from
// every tenant at once, so an unclustered partition mixes all campaigns in
// every row group and a query of one campaign must read them all; once
// clustered, DuckDB's per-row-group statistics of tenant and campaign let
// it skip the row groups of other campaigns (see docs/benchmarks.md). The
// events, and so every answer, are unchanged.
//
// Each partition is rewritten in one transaction that holds the writer
// (Insert waits, about 3 s for 3 M events here; queries go on, each on
// its snapshot) and is released between partitions. Rows get new row ids,
// which JudgeBehaviour detects and handles. Cluster stops between
// partitions when ctx is done and returns ctx's error.
func (db *DB) Cluster(ctx context.Context, before time.Time) (ClusterResult, error) {
	var res ClusterResult
	last := int32(floorDiv(before.UnixMilli(), msPerDay)) - 1 // the last day ended by before
	days, err := db.clusterCandidates(ctx, last)
	if err != nil {
		return res, fmt.Errorf("cluster partitions: %w", err)
	}
	for _, d := range days {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		start := time.Now()
		n, ok, err := db.clusterPartition(ctx, d)
		if err != nil {
			return res, fmt.Errorf("cluster partitions: %w", err)
		}
		if ok {
			res.Partitions++
			res.Rows += n
			db.logger.Info("partition clustered", "day", dateOfDay(int64(d)).String(), "rows", n, "elapsed", time.Since(start).Round(time.Millisecond))
		}
	}
	return res, nil
}

// clusterCandidates returns the days up to last, in order, whose
// partitions Cluster should rewrite, from their row counts and the rows
// recorded in clustered.
func (db *DB) clusterCandidates(ctx context.Context, last int32) ([]int32, error) {
	var out []int32
	err := db.read(ctx, func(tx *sql.Tx) error {
		all, err := partitionDays(ctx, tx)
		if err != nil {
			return err
		}
		var days []int32
		for _, d := range all {
			if d <= last {
				days = append(days, d)
			}
		}
		if len(days) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT p.part, p.n, coalesce(c.rows, 0)
FROM (%s GROUP BY ALL) p LEFT JOIN clustered c ON c.day = DATE '1970-01-01' + p.part::INTEGER
ORDER BY p.part`, unionAll(days, "count(*) AS n", "true", true)))
		if err != nil {
			return fmt.Errorf("count partition rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var day int32
			var n, done int64
			if err := rows.Scan(&day, &n, &done); err != nil {
				return fmt.Errorf("count partition rows: %w", err)
			}
			if db.needsClustering(n, done) {
				out = append(out, day)
			}
		}
		return rows.Err()
	})
	return out, err
}

// needsClustering says whether a partition of n rows, of which clustered
// were in order when last clustered (0 for never), should be rewritten.
func (db *DB) needsClustering(n, clustered int64) bool {
	if clustered == 0 {
		return n >= db.clusterMinRows
	}
	tail := n - clustered
	return tail >= db.clusterMinTail && float64(tail) >= clusterTailShare*float64(clustered)
}

// clusterPartition rewrites day's partition in (tenant, campaign, ts)
// order and records its rows in clustered. ok is false when the partition
// is gone (retention dropped it meanwhile).
func (db *DB) clusterPartition(ctx context.Context, day int32) (n int64, ok bool, err error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, false, errClosed
	}
	if !db.parts[day] {
		return 0, false, nil
	}
	name := partitionName(day)
	tmp := name + "_clustering"
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s (%s)`, tmp, eventColumns)); err != nil {
			return fmt.Errorf("create %s: %w", tmp, err)
		}
		// BY NAME: a partition of a migrated file has its later columns
		// in the same order, but this does not depend on it.
		r, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s BY NAME SELECT * FROM %s ORDER BY tenant, campaign, ts, received`, tmp, name))
		if err != nil {
			return fmt.Errorf("copy %s in order: %w", name, err)
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+name); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s RENAME TO %s`, tmp, name)); err != nil {
			return fmt.Errorf("rename %s: %w", tmp, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO clustered VALUES (DATE '1970-01-01' + ?::INTEGER, ?) ON CONFLICT (day) DO UPDATE SET rows = excluded.rows`, day, n); err != nil {
			return fmt.Errorf("record the clustering of %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return n, true, nil
}
