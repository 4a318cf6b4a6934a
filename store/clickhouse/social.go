package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// postsSchema creates table posts, the social records (schema version
// 5): one row per record, PARTITION BY month (the record time's UTC year
// and month as yyyymm, an Int32 column InsertPosts computes), ORDER BY
// (tenant, ts, source, id), the order of ScanPosts. ts and received are
// Unix milliseconds; id, author and exact_key are FixedString(16)
// (author sixteen zero bytes for a search aggregate); record_count is
// SocialPost.Count; stored is the Unix nanoseconds of the InsertPosts
// call that wrote the row (one value per call, increasing within a DB),
// which the replicas' wait counts. With a cluster it is every shard's
// local table (ReplicatedMergeTree when replicated), read through
// posts_all.
var postsSchema = `CREATE TABLE IF NOT EXISTS ` + localPosts + ` (
	tenant       String,
	source       String,
	kind         String,
	id           FixedString(16),
	ts           Int64,
	received     Int64,
	month        Int32,
	text         String,
	likes        Int64,
	comments     Int64,
	shares       Int64,
	views        Int64,
	record_count Int64,
	author       FixedString(16),
	key_version  UInt32,
	sentiment    Float32,
	exact_key    FixedString(16),
	fingerprint  UInt64,
	stored       UInt64
) ENGINE = MergeTree() PARTITION BY month ORDER BY (tenant, ts, source, id)`

// postsShardKeySQL is the sharding key of posts_all, computed by
// postShard in Go identically: a tenant's social records are on one
// shard.
const postsShardKeySQL = "cityHash64(tenant)"

// postShard returns the index of the shard, of n, that holds the social
// records of tenant: the Distributed table's key modulo n (see shardOf).
func postShard(tenant admeter.TenantID, n int) int {
	if n <= 1 {
		return 0
	}
	return int(city.CH64([]byte(tenant)) % uint64(n))
}

// postInsertColumns are the columns of posts InsertPosts names, in the
// order of its values.
const postInsertColumns = `tenant, source, kind, id, ts, received, month, text, likes, comments, shares, views,
	record_count, author, key_version, sentiment, exact_key, fingerprint, stored`

// postCols are the columns ScanPosts and UserPosts read, in the order of
// storedPost.dest.
const postCols = `source, kind, id, ts, received, text, likes, comments, shares, views,
	record_count, author, key_version, sentiment, exact_key, fingerprint`

// postOrder is the order of ScanPosts and UserPosts: time, then ID (the
// source breaks a tie of both, which only records of two sources with
// the same pseudonymous id could have).
const postOrder = "ts, id, source"

// monthOf returns the month partition (yyyymm, UTC) of a time in Unix
// milliseconds.
func monthOf(ms int64) int32 {
	t := time.UnixMilli(ms).UTC()
	return int32(t.Year()*100 + int(t.Month()))
}

// postKey identifies a social record: the store keeps one per key.
type postKey struct {
	tenant admeter.TenantID
	source string
	id     admeter.Pseudonym
}

// InsertPosts stores the social records that are new, under the writer
// lock, and returns how many there were.
//
// ClickHouse has no unique constraint, so idempotency is done here: the
// records repeated within posts are dropped (the first stays), then one
// query per tenant and 1000 ids reads which (source, id) are already
// stored, and only the others are sent. The writer lock serialises every
// insert and deletion of the DB, and an insert is visible to the next
// statement once acknowledged (with replicas, InsertPosts waits until
// every live replica of the shard holds the rows, as for events), so
// every call sees all earlier ones: the first record stored of a key
// wins and no key is stored twice. This is exact for one process loading
// social records; two processes inserting the same new record at the
// same moment could both store it (see the package documentation). It is
// not ReplacingMergeTree plus deduplication at read time because that
// would make every read sort or hash by key, and the count of new
// records (the return value) would still need this check.
//
// A failure part way (a shard or partition written, another not) leaves
// the records written stored; calling again stores the rest.
func (db *DB) InsertPosts(ctx context.Context, posts []admeter.SocialPost) (int, error) {
	for i := range posts {
		if err := posts[i].Validate(); err != nil {
			return 0, admeter.Errorf(admeter.EINVALID, "social record %d: %s", i, admeter.ErrorMessage(err))
		}
	}
	if len(posts) == 0 {
		return 0, nil
	}
	if err := db.lock("insert social records"); err != nil {
		return 0, err
	}
	defer db.wmu.Unlock()
	seen := make(map[postKey]bool, len(posts))
	var fresh []admeter.SocialPost
	for i := range posts {
		k := postKey{posts[i].Tenant, posts[i].Source, posts[i].ID}
		if !seen[k] {
			seen[k] = true
			fresh = append(fresh, posts[i])
		}
	}
	stored, err := db.storedPosts(ctx, fresh)
	if err != nil {
		return 0, fmt.Errorf("insert social records: %w", err)
	}
	news := fresh[:0]
	for _, p := range fresh {
		if !stored[postKey{p.Tenant, p.Source, p.ID}] {
			news = append(news, p)
		}
	}
	if len(news) == 0 {
		return 0, nil
	}
	db.postSeq = max(uint64(time.Now().UnixNano()), db.postSeq+1)
	if err := db.sendPosts(ctx, news, db.postSeq); err != nil {
		return 0, fmt.Errorf("insert social records: %w", err)
	}
	return len(news), nil
}

// storedPosts returns the keys of posts that are already stored.
func (db *DB) storedPosts(ctx context.Context, posts []admeter.SocialPost) (map[postKey]bool, error) {
	ids := map[admeter.TenantID][]admeter.Pseudonym{}
	for i := range posts {
		ids[posts[i].Tenant] = append(ids[posts[i].Tenant], posts[i].ID)
	}
	out := map[postKey]bool{}
	for _, tenant := range slices.Sorted(maps.Keys(ids)) {
		for _, keys := range userKeys(ids[tenant]) {
			rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT source, id FROM %s WHERE tenant = %s AND id IN (%s)`,
				db.posts, quote(string(tenant)), strings.Join(keys, ", ")))
			if err != nil {
				return nil, fmt.Errorf("look for records already stored: %w", err)
			}
			for rows.Next() {
				k := postKey{tenant: tenant}
				if err := rows.Scan(&k.source, (*[16]byte)(&k.id)); err != nil {
					rows.Close()
					return nil, fmt.Errorf("look for records already stored: %w", err)
				}
				out[k] = true
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("look for records already stored: %w", err)
			}
		}
	}
	return out, nil
}

// sendPosts appends posts, each row marked with stored, to the local
// posts table of their tenant's shard: one native batch insert per shard
// with records, the shards at once; with replicas, to the first replica
// that takes them, then waits until every other live one holds them.
func (db *DB) sendPosts(ctx context.Context, posts []admeter.SocialPost, stored uint64) error {
	parts := make([][]admeter.SocialPost, len(db.shards))
	for i := range posts {
		s := postShard(posts[i].Tenant, len(db.shards))
		parts[s] = append(parts[s], posts[i])
	}
	if db.replicated {
		return db.eachShard(func(i int) error {
			if len(parts[i]) == 0 {
				return nil
			}
			return db.writeReplicated(i,
				func(c driver.Conn) error { return sendPostsTo(ctx, c, parts[i], stored) },
				func(c driver.Conn) error { return db.waitCount(ctx, i, c, postsWritten(parts[i], stored)) })
		})
	}
	return db.onShards(func(i int, c driver.Conn) error {
		if len(parts[i]) == 0 {
			return nil
		}
		return sendPostsTo(ctx, c, parts[i], stored)
	})
}

// postsWritten returns the count of the rows of posts written with
// stored, in their partitions.
func postsWritten(posts []admeter.SocialPost, stored uint64) string {
	months := map[int32]bool{}
	for i := range posts {
		months[monthOf(posts[i].At.UnixMilli())] = true
	}
	in := make([]string, 0, len(months))
	for _, m := range slices.Sorted(maps.Keys(months)) {
		in = append(in, itoa(m))
	}
	return fmt.Sprintf("SELECT count() FROM %s WHERE month IN (%s) AND stored = %d", localPosts, strings.Join(in, ", "), stored)
}

// sendPostsTo appends posts to the local posts table of conn's server as
// one native batch insert, each row marked with stored.
func sendPostsTo(ctx context.Context, conn driver.Conn, posts []admeter.SocialPost, stored uint64) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+localPosts+" ("+postInsertColumns+")")
	if err != nil {
		return fmt.Errorf("prepare batch: %w", err)
	}
	for i := range posts {
		p := &posts[i]
		ts := p.At.UnixMilli()
		if err := b.Append(string(p.Tenant), p.Source, string(p.Kind), string(p.ID[:]), ts, p.Received.UnixMilli(), monthOf(ts),
			p.Text, p.Likes, p.Comments, p.Shares, p.Views, p.Count, string(p.Author[:]), p.KeyVersion, p.Sentiment,
			string(p.ExactKey[:]), p.Fingerprint, stored); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append social record %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send batch: %w", err)
	}
	return nil
}

// storedPost is one row of postCols.
type storedPost struct {
	p            admeter.SocialPost
	kind         string
	ts, received int64
}

func (r *storedPost) dest() []any {
	p := &r.p
	return []any{&p.Source, &r.kind, (*[16]byte)(&p.ID), &r.ts, &r.received, &p.Text, &p.Likes, &p.Comments, &p.Shares, &p.Views,
		&p.Count, (*[16]byte)(&p.Author), &p.KeyVersion, &p.Sentiment, &p.ExactKey, &p.Fingerprint}
}

// post returns the stored record of tenant.
func (r *storedPost) post(tenant admeter.TenantID) admeter.SocialPost {
	p := r.p
	p.Tenant, p.Kind = tenant, admeter.SocialKind(r.kind)
	p.At, p.Received = time.UnixMilli(r.ts).UTC(), time.UnixMilli(r.received).UTC()
	return p
}

// ScanPosts streams the records of one query over posts (posts_all when
// sharded, which reads the tenant's shard and merges nothing else):
// tenant, the time range and the months it spans (partition pruning),
// and the sources and kinds as IN lists, ORDER BY ts, id, source. fn's
// error cancels the query.
func (db *DB) ScanPosts(ctx context.Context, q store.PostQuery, fn func(*admeter.SocialPost) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	from, to := ceilMillis(q.From), ceilMillis(q.To)
	if from >= to {
		return nil
	}
	where := fmt.Sprintf("tenant = %s AND month >= %d AND month <= %d AND ts >= %d AND ts < %d",
		quote(string(q.Tenant)), monthOf(from), monthOf(to-1), from, to)
	if len(q.Sources) > 0 {
		where += " AND source IN (" + stringList(q.Sources) + ")"
	}
	if len(q.Kinds) > 0 {
		where += " AND kind IN (" + stringList(q.Kinds) + ")"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := db.conn.Query(ctx, "SELECT "+postCols+" FROM "+db.posts+" WHERE "+where+" ORDER BY "+postOrder)
	if err != nil {
		return fmt.Errorf("read social records: %w", err)
	}
	defer rows.Close()
	var r storedPost
	for rows.Next() {
		if err := rows.Scan(r.dest()...); err != nil {
			return fmt.Errorf("read social records: %w", err)
		}
		p := r.post(q.Tenant)
		if err := fn(&p); err != nil {
			cancel() // stop the server's stream before Close drains it
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read social records: %w", err)
	}
	return nil
}

// UserPosts returns the records of tenant whose author is one of
// authors: one query per chunk of 1000 authors keeping the first
// limit+1 rows, merged in Go.
func (db *DB) UserPosts(ctx context.Context, tenant admeter.TenantID, authors []admeter.Pseudonym, limit int) ([]admeter.SocialPost, bool, error) {
	switch {
	case tenant == "":
		return nil, false, invalid("an access request needs a tenant")
	case limit < 1:
		return nil, false, invalid("the limit of social records must be at least 1, not %d", limit)
	}
	chunks := userKeys(authors)
	if len(chunks) == 0 {
		return nil, false, nil
	}
	keep := int64(limit)
	if keep < math.MaxInt64 {
		keep++ // one more tells whether there are more
	}
	var found []storedPost
	for _, keys := range chunks {
		rows, err := db.conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE tenant = %s AND author IN (%s) ORDER BY %s LIMIT %d",
			postCols, db.posts, quote(string(tenant)), strings.Join(keys, ", "), postOrder, keep))
		if err != nil {
			return nil, false, fmt.Errorf("read user social records: %w", err)
		}
		for rows.Next() {
			var r storedPost
			if err := rows.Scan(r.dest()...); err != nil {
				rows.Close()
				return nil, false, fmt.Errorf("read user social records: %w", err)
			}
			found = append(found, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, false, fmt.Errorf("read user social records: %w", err)
		}
	}
	if len(chunks) > 1 {
		slices.SortStableFunc(found, func(a, b storedPost) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), slices.Compare(a.p.ID[:], b.p.ID[:]), cmp.Compare(a.p.Source, b.p.Source))
		})
	}
	truncated := int64(len(found)) > int64(limit)
	if truncated {
		found = found[:limit]
	}
	out := make([]admeter.SocialPost, len(found))
	for i := range found {
		out[i] = found[i].post(tenant)
	}
	return out, truncated, nil
}

// DeletePostsBefore deletes every social record before t, as
// DeleteBefore does events: it drops the partitions of whole UTC months
// before t (immediate) and deletes the rows of t's own month before it
// with a mutation, waited for, on every shard.
func (db *DB) DeletePostsBefore(ctx context.Context, t time.Time) (int64, error) {
	if err := db.lock("delete old social records"); err != nil {
		return 0, err
	}
	defer db.wmu.Unlock()
	cut := ceilMillis(t)
	cutMonth := monthOf(cut)
	type part struct{ month, rows int64 }
	var parts []part
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT toInt64(month), toInt64(count()) FROM %s WHERE month < %d GROUP BY month ORDER BY month`, db.posts, cutMonth))
	if err != nil {
		return 0, fmt.Errorf("delete old social records: count those of whole months: %w", err)
	}
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.month, &p.rows); err != nil {
			rows.Close()
			return 0, fmt.Errorf("delete old social records: count those of whole months: %w", err)
		}
		parts = append(parts, p)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("delete old social records: count those of whole months: %w", err)
	}
	var n int64
	for _, p := range parts {
		if err := db.dropPartition(ctx, localPosts, p.month); err != nil {
			return n, fmt.Errorf("delete old social records: drop partition %d: %w", p.month, err)
		}
		n += p.rows
	}
	cond := fmt.Sprintf("month = %d AND ts < %d", cutMonth, cut)
	var k uint64
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM `+db.posts+` WHERE `+cond).Scan(&k); err != nil {
		return n, fmt.Errorf("delete old social records: count those of month %d: %w", cutMonth, err)
	}
	if k > 0 {
		if err := db.mutateLocal(ctx, localPosts, "DELETE WHERE "+cond); err != nil {
			return n, fmt.Errorf("delete old social records: %w", err)
		}
		n += int64(k)
	}
	if n > 0 {
		db.logger.Info("social records deleted for retention", "before", t.UTC().Format(time.RFC3339), "records", n, "partitions_dropped", len(parts))
	}
	return n, nil
}

// deletePosts deletes the social records matching where (a condition on
// posts) on every shard, with a mutation it waits for, and returns how
// many there were. The caller holds the writer lock.
func (db *DB) deletePosts(ctx context.Context, where string) (int64, error) {
	var n uint64
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM `+db.posts+` WHERE `+where).Scan(&n); err != nil {
		return 0, fmt.Errorf("count social records: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := db.mutateLocal(ctx, localPosts, "DELETE WHERE "+where); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// postKeyVersions adds the social records to use, per key version: each
// counts as an event with a pseudonym (its id), and its time may be the
// version's latest.
func (db *DB) postKeyVersions(ctx context.Context, use []store.KeyVersionUse) ([]store.KeyVersionUse, error) {
	rows, err := db.conn.Query(ctx, `SELECT key_version, toInt64(count()), max(ts) FROM `+db.posts+` GROUP BY key_version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		var n, latest int64
		if err := rows.Scan(&v, &n, &latest); err != nil {
			return nil, err
		}
		at := time.UnixMilli(latest).UTC()
		i, ok := slices.BinarySearchFunc(use, v, func(u store.KeyVersionUse, v uint32) int { return cmp.Compare(u.Version, v) })
		if !ok {
			use = slices.Insert(use, i, store.KeyVersionUse{Version: v, Latest: at})
		}
		u := &use[i]
		u.Events += n
		u.Pseudonymous += n
		if at.After(u.Latest) {
			u.Latest = at
		}
	}
	return use, rows.Err()
}
