package duckdb

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DeleteBefore deletes every raw event before t: it drops the partitions of
// whole UTC days before t and deletes rows only in the partition of t's own
// day. Rollups are kept, and t is recorded (in the same transaction) as the
// cut before which RefreshRollups leaves days alone, unless an earlier call
// recorded a later one. It returns the number of events deleted.
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
	retained := max(db.retainedBefore, cut)
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
			if rows > 0 {
				// Rows before the cut cannot be a later day's previous
				// copies in any range (ReachSets' dedup starts at the cut),
				// so later days' reach index stays valid.
				if err := db.touch(ctx, tx, []int32{cutDay}, nil); err != nil {
					return err
				}
			}
		}
		if retained > db.retainedBefore {
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'retained_before'`, uint64(retained)); err != nil {
				return fmt.Errorf("record retention cut: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete old events: %w", err)
	}
	for _, d := range drop {
		delete(db.parts, d)
	}
	db.retainedBefore = retained
	if len(drop) > 0 || n > 0 {
		if err := db.removeReachFiles(append(drop, cutDay)); err != nil {
			return n, fmt.Errorf("delete old events: %w", err)
		}
	}
	if len(drop) > 0 || n > 0 {
		db.logger.Info("events deleted for retention", "before", t.UTC().Format(time.RFC3339), "events", n, "partitions_dropped", len(drop))
	}
	return n, nil
}

// deleteUsersChunk is the number of users one statement looks for.
const deleteUsersChunk = 1000

// userKeys returns the SQL literals of the non-zero users, without repeats,
// in chunks of at most deleteUsersChunk.
func userKeys(users []admeter.Pseudonym) [][]string {
	seen := map[admeter.Pseudonym]bool{}
	var keys []string
	for _, u := range users {
		if !u.IsZero() && !seen[u] {
			seen[u] = true
			keys = append(keys, uuidLiteral(u))
		}
	}
	return slices.Collect(slices.Chunk(keys, deleteUsersChunk))
}

// userWhere is the filter of one tenant's events of some users.
func userWhere(tenant uint32, keys []string) string {
	return fmt.Sprintf("tenant = %d AND user_key IN (%s)", tenant, strings.Join(keys, ", "))
}

// DeleteUsers deletes every raw event of tenant whose user is one of users,
// and every social record of tenant whose author is one of them, in one
// transaction. For each chunk of users one query over every
// partition finds the partitions and campaigns that hold their events, and
// the span of those events' times; rows are then deleted only in those
// partitions. It returns the numbers deleted and the spans.
func (db *DB) DeleteUsers(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym) (store.Deleted, error) {
	if tenant == "" {
		return store.Deleted{}, invalid("a deletion needs a tenant")
	}
	chunks := userKeys(users)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return store.Deleted{}, fmt.Errorf("delete user events: %w", errClosed)
	}
	t, ok := db.dict.lookup(string(tenant))
	if !ok || len(chunks) == 0 {
		return store.Deleted{}, nil
	}
	days := sortedDays(db.parts)
	type span struct{ from, to int64 }
	var spans map[uint32]span
	var n, posts int64
	var touched map[int32]bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		n, spans, touched = 0, map[uint32]span{}, map[int32]bool{}
		var err error
		if posts, err = deleteAuthorPosts(ctx, tx, t, chunks); err != nil {
			return err
		}
		for _, keys := range chunks {
			if len(days) == 0 {
				break
			}
			where := userWhere(t, keys)
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT part, campaign, min(ts), max(ts) FROM (%s) GROUP BY part, campaign`,
				unionAll(days, "campaign, ts", where, true)))
			if err != nil {
				return fmt.Errorf("find user events: %w", err)
			}
			hit := map[int32]bool{}
			for rows.Next() {
				var part int32
				var c uint32
				var from, to int64
				if err := rows.Scan(&part, &c, &from, &to); err != nil {
					rows.Close()
					return fmt.Errorf("find user events: %w", err)
				}
				hit[part] = true
				if c == 0 {
					continue // conversions: no campaign, no rollup
				}
				if s, ok := spans[c]; ok {
					from, to = min(from, s.from), max(to, s.to)
				}
				spans[c] = span{from, to}
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return fmt.Errorf("find user events: %w", err)
			}
			for _, d := range sortedDays(hit) {
				res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, partitionName(d), where))
				if err != nil {
					return fmt.Errorf("delete from %s: %w", partitionName(d), err)
				}
				rows, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n += rows
				touched[d] = true
			}
		}
		return db.touch(ctx, tx, nil, sortedDays(touched))
	})
	if err != nil {
		return store.Deleted{}, fmt.Errorf("delete user events: %w", err)
	}
	// The reach index of those days holds the users' keys: it goes now,
	// not when next rebuilt.
	if err := db.removeReachFiles(sortedDays(touched)); err != nil {
		return store.Deleted{}, fmt.Errorf("delete user events: %w", err)
	}
	out := store.Deleted{Events: n, Posts: posts}
	if len(spans) > 0 {
		ids := make([]uint32, 0, len(spans))
		for c := range spans {
			ids = append(ids, c)
		}
		out.Campaigns = make(map[admeter.CampaignID]store.TimeSpan, len(spans))
		for i, name := range db.dict.labels(ids) {
			s := spans[ids[i]]
			out.Campaigns[admeter.CampaignID(name)] = store.TimeSpan{From: time.UnixMilli(s.from).UTC(), To: time.UnixMilli(s.to).UTC()}
		}
	}
	db.logger.Info("user events deleted", "tenant", tenant, "users", countKeys(chunks), "events", n, "social_records", posts, "campaigns", len(spans))
	return out, nil
}

// countKeys returns the number of keys in chunks.
func countKeys(chunks [][]string) int {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	return n
}

// uuidLiteral returns p as a SQL UUID literal.
func uuidLiteral(p admeter.Pseudonym) string {
	return "'" + uuidString(p) + "'::UUID"
}

// uuidString returns p in the UUID text form DuckDB casts from. (Lists of
// UUIDs go to DuckDB as such strings: duckdb-go v2.10506.0 binds a
// []duckdb.UUID list parameter with the top bit of each value flipped.)
func uuidString(p admeter.Pseudonym) string {
	h := hex.EncodeToString(p[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// DeleteTenant deletes every raw event, rollup row and social record of
// tenant, in one transaction, and returns the number of raw events and
// social records deleted.
func (db *DB) DeleteTenant(ctx context.Context, tenant admeter.TenantID) (int64, error) {
	if tenant == "" {
		return 0, invalid("deleting a tenant's data needs the tenant")
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("delete tenant: %w", errClosed)
	}
	t, ok := db.dict.lookup(string(tenant))
	if !ok {
		return 0, nil
	}
	days := sortedDays(db.parts)
	var n, posts int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, d := range days {
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE tenant = %d`, partitionName(d), t))
			if err != nil {
				return fmt.Errorf("delete from %s: %w", partitionName(d), err)
			}
			rows, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += rows
		}
		if err := db.touch(ctx, tx, nil, days); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM daily WHERE tenant = %d`, t)); err != nil {
			return fmt.Errorf("delete rollups: %w", err)
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM social_posts WHERE tenant = %d`, t))
		if err != nil {
			return fmt.Errorf("delete social records: %w", err)
		}
		posts, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete tenant: %w", err)
	}
	if err := db.removeReachFiles(nil); err != nil {
		return 0, fmt.Errorf("delete tenant: %w", err)
	}
	db.logger.Info("tenant data deleted", "tenant", tenant, "events", n, "social_records", posts)
	n += posts
	return n, nil
}
