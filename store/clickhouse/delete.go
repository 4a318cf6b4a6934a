package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DeleteBefore deletes every raw event before t: it drops the partitions of
// whole UTC days before t (ALTER TABLE … DROP PARTITION, immediate) and
// deletes rows only in t's own day (an ALTER … DELETE mutation, waited
// for). Rollups are kept, and t is recorded as the cut before which
// RefreshRollups leaves days alone, unless an earlier call recorded a later
// one. It returns the number of events deleted.
func (db *DB) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	if err := db.lock("delete old events"); err != nil {
		return 0, err
	}
	defer db.wmu.Unlock()
	n, err := db.deleteBefore(ctx, t)
	if err != nil {
		return n, fmt.Errorf("delete old events: %w", err)
	}
	return n, nil
}

func (db *DB) deleteBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := ceilMillis(t)
	cutDay := floorDiv(cut, msPerDay)
	type part struct{ day, rows int64 }
	var parts []part
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT toInt64(day), toInt64(count()) FROM %s WHERE day < %d GROUP BY day ORDER BY day`, db.events, cutDay))
	if err != nil {
		return 0, fmt.Errorf("count events of whole days: %w", err)
	}
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.day, &p.rows); err != nil {
			rows.Close()
			return 0, fmt.Errorf("count events of whole days: %w", err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count events of whole days: %w", err)
	}
	rows.Close()
	var n int64
	for _, p := range parts {
		if err := db.dropPartition(ctx, localEvents, p.day); err != nil {
			return n, fmt.Errorf("drop partition of %s: %w", dateOfDay(p.day), err)
		}
		n += p.rows
	}
	if cut > cutDay*msPerDay {
		cond := fmt.Sprintf("day = %d AND ts < %d", cutDay, cut)
		var rows uint64
		if err := db.conn.QueryRow(ctx, `SELECT count() FROM `+db.events+` WHERE `+cond).Scan(&rows); err != nil {
			return n, fmt.Errorf("count events of %s: %w", dateOfDay(cutDay), err)
		}
		if rows > 0 {
			if err := db.mutateEvents(ctx, "DELETE WHERE "+cond); err != nil {
				return n, err
			}
			n += int64(rows)
		}
	}
	retained, err := db.meta(ctx, metaRetained)
	if err != nil {
		return n, err
	}
	if uint64(cut) > retained {
		if err := db.setMeta(ctx, metaRetained, uint64(cut)); err != nil {
			return n, err
		}
	}
	if len(parts) > 0 || n > 0 {
		db.logger.Info("events deleted for retention", "before", t.UTC().Format(time.RFC3339), "events", n, "partitions_dropped", len(parts))
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
			keys = append(keys, keyLiteral(u))
		}
	}
	return slices.Collect(slices.Chunk(keys, deleteUsersChunk))
}

// userWhere is the filter of one tenant's events of some users.
func userWhere(tenant admeter.TenantID, keys []string) string {
	return fmt.Sprintf("tenant = %s AND user_key IN (%s)", quote(string(tenant)), strings.Join(keys, ", "))
}

// DeleteUsers deletes every raw event of tenant whose user is one of users,
// and every social record of tenant whose author is one of them. For each
// chunk of users one query finds the campaigns holding their events, how
// many, and the span of their times, and one counts their social records;
// an ALTER … DELETE mutation of each table then removes them, and
// DeleteUsers waits until they are done.
// Unlike the DuckDB store it is not one transaction: a reader may see a
// partition already rewritten and another not yet, and a failure part
// way leaves the earlier chunks deleted (calling it again finishes).
func (db *DB) DeleteUsers(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym) (store.Deleted, error) {
	if tenant == "" {
		return store.Deleted{}, invalid("a deletion needs a tenant")
	}
	chunks := userKeys(users)
	if err := db.lock("delete user events"); err != nil {
		return store.Deleted{}, err
	}
	defer db.wmu.Unlock()
	type span struct{ from, to int64 }
	spans := map[string]span{}
	var n, posts int64
	for _, keys := range chunks {
		where := userWhere(tenant, keys)
		rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT campaign, min(ts), max(ts), toInt64(count()) FROM %s WHERE %s GROUP BY campaign`, db.events, where))
		if err != nil {
			return store.Deleted{}, fmt.Errorf("delete user events: find them: %w", err)
		}
		var found int64
		for rows.Next() {
			var c string
			var from, to, k int64
			if err := rows.Scan(&c, &from, &to, &k); err != nil {
				rows.Close()
				return store.Deleted{}, fmt.Errorf("delete user events: find them: %w", err)
			}
			found += k
			if c == "" {
				// Conversions belong to no campaign and have no rollups.
				continue
			}
			if s, ok := spans[c]; ok {
				from, to = min(from, s.from), max(to, s.to)
			}
			spans[c] = span{from, to}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return store.Deleted{}, fmt.Errorf("delete user events: find them: %w", err)
		}
		if found > 0 {
			if err := db.mutateEvents(ctx, "DELETE WHERE "+where); err != nil {
				return store.Deleted{}, fmt.Errorf("delete user events: %w", err)
			}
			n += found
		}
		k, err := db.deletePosts(ctx, fmt.Sprintf("tenant = %s AND author IN (%s)", quote(string(tenant)), strings.Join(keys, ", ")))
		if err != nil {
			return store.Deleted{}, fmt.Errorf("delete user social records: %w", err)
		}
		posts += k
	}
	out := store.Deleted{Events: n, Posts: posts}
	if len(spans) > 0 {
		out.Campaigns = make(map[admeter.CampaignID]store.TimeSpan, len(spans))
		for c, s := range spans {
			out.Campaigns[admeter.CampaignID(c)] = store.TimeSpan{From: time.UnixMilli(s.from).UTC(), To: time.UnixMilli(s.to).UTC()}
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

// DeleteTenant deletes every raw event, rollup row and social record of
// tenant, with three ALTER … DELETE mutations it waits for, and returns
// the number of raw events and social records deleted.
func (db *DB) DeleteTenant(ctx context.Context, tenant admeter.TenantID) (int64, error) {
	if tenant == "" {
		return 0, invalid("deleting a tenant's data needs the tenant")
	}
	if err := db.lock("delete tenant"); err != nil {
		return 0, err
	}
	defer db.wmu.Unlock()
	where := "tenant = " + quote(string(tenant))
	var n, rollups uint64
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM `+db.events+` WHERE `+where).Scan(&n); err != nil {
		return 0, fmt.Errorf("delete tenant: count events: %w", err)
	}
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM daily WHERE `+where).Scan(&rollups); err != nil {
		return 0, fmt.Errorf("delete tenant: count rollups: %w", err)
	}
	if n > 0 {
		if err := db.mutateEvents(ctx, "DELETE WHERE "+where); err != nil {
			return 0, fmt.Errorf("delete tenant: %w", err)
		}
	}
	if rollups > 0 {
		if err := db.mutate(ctx, "daily", "DELETE WHERE "+where); err != nil {
			return 0, fmt.Errorf("delete tenant: %w", err)
		}
	}
	posts, err := db.deletePosts(ctx, where)
	if err != nil {
		return int64(n), fmt.Errorf("delete tenant: social records: %w", err)
	}
	db.logger.Info("tenant data deleted", "tenant", tenant, "events", n, "social_records", posts)
	return int64(n) + posts, nil
}
