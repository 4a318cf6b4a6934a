package duckdb

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// DeleteBefore deletes every raw event before t: it drops the partitions of
// whole UTC days before t and deletes rows only in the partition of t's own
// day. Rollups are kept. It returns the number of events deleted.
func (db *DB) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := ceilMillis(t)
	cutDay := int32(floorDiv(cut, msPerDay))
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("delete old events: %w", errClosed)
	}
	var drop []int32
	for d := range db.parts {
		if d < cutDay {
			drop = append(drop, d)
		}
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, d := range drop {
			var rows int64
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+partitionName(d)).Scan(&rows); err != nil {
				return fmt.Errorf("count %s: %w", partitionName(d), err)
			}
			if err := dropPartition(ctx, tx, d); err != nil {
				return err
			}
			n += rows
		}
		if db.parts[cutDay] && cut > int64(cutDay)*msPerDay {
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE ts < %d`, partitionName(cutDay), cut))
			if err != nil {
				return fmt.Errorf("delete from %s: %w", partitionName(cutDay), err)
			}
			rows, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += rows
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete old events: %w", err)
	}
	for _, d := range drop {
		delete(db.parts, d)
	}
	if len(drop) > 0 || n > 0 {
		db.logger.Info("events deleted for retention", "before", t.UTC().Format(time.RFC3339), "events", n, "partitions_dropped", len(drop))
	}
	return n, nil
}

// deleteUsersChunk is the number of users deleted by one statement.
const deleteUsersChunk = 1000

// DeleteUsers deletes every raw event of tenant whose user is one of users,
// in every partition, in one transaction. It returns the number deleted.
func (db *DB) DeleteUsers(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym) (int64, error) {
	if tenant == "" {
		return 0, invalid("a deletion needs a tenant")
	}
	var keys []string
	for _, u := range users {
		if !u.IsZero() {
			keys = append(keys, uuidLiteral(u))
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("delete user events: %w", errClosed)
	}
	t, ok := db.dict.lookup(string(tenant))
	if !ok || len(keys) == 0 {
		return 0, nil
	}
	days := sortedDays(db.parts)
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for start := 0; start < len(keys); start += deleteUsersChunk {
			list := strings.Join(keys[start:min(start+deleteUsersChunk, len(keys))], ", ")
			for _, d := range days {
				res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE tenant = %d AND user_key IN (%s)`, partitionName(d), t, list))
				if err != nil {
					return fmt.Errorf("delete from %s: %w", partitionName(d), err)
				}
				rows, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n += rows
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete user events: %w", err)
	}
	db.logger.Info("user events deleted", "tenant", tenant, "users", len(keys), "events", n)
	return n, nil
}

// uuidLiteral returns p as a SQL UUID literal.
func uuidLiteral(p admeter.Pseudonym) string {
	h := hex.EncodeToString(p[:])
	return "'" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + "'::UUID"
}
