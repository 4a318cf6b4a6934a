package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/admeter/admeter/store"
)

// RawDays returns each UTC day whose partition holds events, with their
// number, in order: one count per partition, in one statement. Partitions
// emptied by deletions are left out.
func (db *DB) RawDays(ctx context.Context) ([]store.DayCount, error) {
	var out []store.DayCount
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil || len(days) == 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT * FROM (%s) WHERE n > 0 ORDER BY part",
			unionAll(days, "count(*) AS n", "true", true)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var day, n int64
			if err := rows.Scan(&day, &n); err != nil {
				return err
			}
			out = append(out, store.DayCount{Day: dateOfDay(day), Events: n})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count raw events by day: %w", err)
	}
	return out, nil
}

// KeyVersions returns, per key version that raw events or social records
// name, their number, the number with a pseudonym (every social record:
// its id is one) and the latest time, in ascending order of version, from
// one aggregation over every partition and social_posts.
func (db *DB) KeyVersions(ctx context.Context) ([]store.KeyVersionUse, error) {
	var out []store.KeyVersionUse
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil {
			return err
		}
		from := "SELECT key_version, true AS pseudonymous, ts FROM social_posts"
		if len(days) > 0 {
			from = unionAll(days, "key_version, user_key IS NOT NULL OR impression IS NOT NULL OR conversion IS NOT NULL OR click_id IS NOT NULL AS pseudonymous, ts", "true", false) +
				"\n\tUNION ALL " + from
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT key_version, count(*), count(*) FILTER (WHERE pseudonymous), max(ts)
FROM (%s)
GROUP BY key_version ORDER BY key_version`, from))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u store.KeyVersionUse
			var latest int64
			if err := rows.Scan(&u.Version, &u.Events, &u.Pseudonymous, &latest); err != nil {
				return err
			}
			u.Latest = time.UnixMilli(latest).UTC()
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count raw events by key version: %w", err)
	}
	return out, nil
}
