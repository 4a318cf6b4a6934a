package duckdb

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	duck "github.com/duckdb/duckdb-go/v2"
)

// socialSchema creates the table of social records (admeter.SocialPost),
// one row per record, and the writer's staging table (created on the
// writer's connection only, see initSocial).
//
// Unlike raw events, social records are one table, not a table per UTC
// day: a tenant's feeds bring thousands to a few million records a day
// against events' hundreds of millions, so retention deletes rows
// (DeletePostsBefore) instead of dropping partitions, and the key (tenant,
// source, id) that makes a redelivered record a no-op must hold across
// days anyway (a record's time does not identify it). The key is not a
// PRIMARY KEY: DuckDB keeps such an index in memory (700 MB at 2.5 M
// records here), so InsertPosts checks it with an anti-join under the
// writer lock instead, in memory bounded by the batch. Range scans
// (ScanPosts, by tenant and ts) rely on DuckDB's per-row-group min/max of
// ts, which prune well because records arrive roughly in time order; a
// second ART index on (tenant, ts) would cost every insert and DuckDB
// does not use one for range scans.
//
// tenant and source are dictionary ids (table strs), as in the event
// partitions; kind is socialKindCode; ts and received are Unix
// milliseconds; author and exact_key are NULL when zero.
const socialSchema = `
CREATE TABLE IF NOT EXISTS social_posts (
	tenant      UINTEGER NOT NULL,
	source      UINTEGER NOT NULL,
	id          UUID NOT NULL,
	kind        UTINYINT NOT NULL,
	ts          BIGINT NOT NULL,
	received    BIGINT NOT NULL,
	text        VARCHAR NOT NULL,
	likes       BIGINT NOT NULL,
	comments    BIGINT NOT NULL,
	shares      BIGINT NOT NULL,
	views       BIGINT NOT NULL,
	count       BIGINT NOT NULL,
	author      UUID,
	key_version UINTEGER NOT NULL,
	sentiment   FLOAT NOT NULL,
	exact_key   UUID,
	fingerprint UBIGINT NOT NULL
);
`

// socialCols are the columns of social_posts that storedPost reads, in
// order: every column but tenant.
const socialCols = `source, id, kind, ts, received, text, likes, comments, shares, views, count,
	author, key_version, sentiment, exact_key, fingerprint`

// numSocialColumns is the number of columns of social_posts.
const numSocialColumns = 17

// socialKinds are the kinds, by their code in column kind (index + 1).
var socialKinds = []admeter.SocialKind{admeter.SocialPostKind, admeter.SocialComment, admeter.SocialRepost, admeter.SocialSearch}

// socialKindCode returns the code of kind k in column kind (0 for none).
func socialKindCode(k admeter.SocialKind) uint8 {
	return uint8(slices.Index(socialKinds, k) + 1)
}

// initSocial creates the staging table InsertPosts appends a batch to
// before it inserts the batch's new records into social_posts: a
// temporary table of the writer's connection, so that one statement can
// skip the stored ones (the appender cannot).
func (db *DB) initSocial(ctx context.Context) error {
	if _, err := db.wconn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS social_in AS SELECT * FROM social_posts LIMIT 0`); err != nil {
		return fmt.Errorf("create social staging table: %w", err)
	}
	return nil
}

// postKey identifies a social record within a store.
type postKey struct {
	tenant admeter.TenantID
	source string
	id     admeter.Pseudonym
}

// InsertPosts validates posts and stores those not stored yet, in one
// transaction: the batch, without its repeats (the first copy wins), is
// appended to the staging table, then inserted into social_posts but for
// the keys already there (an anti-join). It returns the number of records inserted.
func (db *DB) InsertPosts(ctx context.Context, posts []admeter.SocialPost) (int, error) {
	for i := range posts {
		p := &posts[i]
		if err := p.Validate(); err != nil {
			return 0, admeter.Errorf(admeter.EINVALID, "social record %d: %s", i, admeter.ErrorMessage(err))
		}
		if p.At.Before(minEventTime) || p.Received.Before(minEventTime) {
			return 0, admeter.Errorf(admeter.EINVALID, "social record %d: time before 2000", i)
		}
	}
	if len(posts) == 0 {
		return 0, nil
	}
	seen := make(map[postKey]bool, len(posts))
	batch := make([]*admeter.SocialPost, 0, len(posts))
	for i := range posts {
		p := &posts[i]
		k := postKey{p.Tenant, p.Source, p.ID}
		if !seen[k] {
			seen[k] = true
			batch = append(batch, p)
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("insert social records: %w", errClosed)
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := db.wconn.Raw(func(dc any) error {
			conn, ok := dc.(driver.Conn)
			if !ok {
				return errors.New("writer connection is not a driver.Conn")
			}
			if err := appendPosts(ctx, conn, batch, db.dict); err != nil {
				return err
			}
			return appendStrings(ctx, conn, db.dict)
		}); err != nil {
			return err
		}
		// Inserts are serialised by the writer lock, so no other batch
		// can store one of these keys between the check and the insert.
		res, err := tx.ExecContext(ctx, `INSERT INTO social_posts SELECT s.* FROM social_in s
			WHERE NOT EXISTS (SELECT 1 FROM social_posts p WHERE p.tenant = s.tenant AND p.source = s.source AND p.id = s.id)`)
		if err != nil {
			return fmt.Errorf("insert new records: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM social_in`); err != nil {
			return fmt.Errorf("empty staging table: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("insert social records: %w", err)
	}
	db.dict.committed()
	return int(n), nil
}

// appendPosts appends posts to the staging table.
func appendPosts(ctx context.Context, conn driver.Conn, posts []*admeter.SocialPost, d *dict) error {
	a, err := duck.NewAppender(conn, "temp", "main", "social_in")
	if err != nil {
		return fmt.Errorf("open social appender: %w", err)
	}
	row := make([]driver.Value, numSocialColumns)
	var tenant, source memo
	for _, p := range posts {
		row[0] = tenant.get(d, string(p.Tenant))
		row[1] = source.get(d, p.Source)
		row[2] = uuidValue(&p.ID)
		row[3] = socialKindCode(p.Kind)
		row[4] = p.At.UnixMilli()
		row[5] = p.Received.UnixMilli()
		row[6] = p.Text
		row[7], row[8], row[9], row[10], row[11] = p.Likes, p.Comments, p.Shares, p.Views, p.Count
		row[12] = uuidValue(&p.Author)
		row[13] = p.KeyVersion
		row[14] = p.Sentiment
		row[15] = uuidValue((*admeter.Pseudonym)(&p.ExactKey))
		row[16] = p.Fingerprint
		if err := a.AppendRow(row...); err != nil {
			_ = a.Close()
			return fmt.Errorf("append social record: %w", err)
		}
	}
	if err := a.CloseWithCancel(ctx); err != nil {
		return fmt.Errorf("flush social records: %w", err)
	}
	return nil
}

// storedPost is one row of socialCols.
type storedPost struct {
	source             uint32
	id, author, exact  []byte
	kind               uint8
	ts, received       int64
	text               string
	likes, comments    int64
	shares, views, cnt int64
	keyVersion         uint32
	sentiment          float32
	fingerprint        uint64
}

func (r *storedPost) dest() []any {
	return []any{&r.source, &r.id, &r.kind, &r.ts, &r.received, &r.text, &r.likes, &r.comments, &r.shares, &r.views, &r.cnt,
		&r.author, &r.keyVersion, &r.sentiment, &r.exact, &r.fingerprint}
}

// post fills p from r, a record of tenant; source is r's source.
func (r *storedPost) post(p *admeter.SocialPost, tenant admeter.TenantID, source string) {
	*p = admeter.SocialPost{
		Tenant:      tenant,
		Source:      source,
		At:          time.UnixMilli(r.ts).UTC(),
		Received:    time.UnixMilli(r.received).UTC(),
		Text:        r.text,
		Likes:       r.likes,
		Comments:    r.comments,
		Shares:      r.shares,
		Views:       r.views,
		Count:       r.cnt,
		KeyVersion:  r.keyVersion,
		Sentiment:   r.sentiment,
		Fingerprint: r.fingerprint,
	}
	if int(r.kind) >= 1 && int(r.kind) <= len(socialKinds) {
		p.Kind = socialKinds[r.kind-1]
	}
	copy(p.ID[:], r.id)
	copy(p.Author[:], r.author)
	copy(p.ExactKey[:], r.exact)
}

// scanChunkMillis is the span of time one query of ScanPosts reads.
const scanChunkMillis = 24 * 60 * 60 * 1000

// ScanPosts streams the tenant's records that q selects, ordered by ts,
// then id (a UUID, which DuckDB orders as its bytes), from one query per
// day of the range in one read transaction, passing fn one reused record.
func (db *DB) ScanPosts(ctx context.Context, q store.PostQuery, fn func(*admeter.SocialPost) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	t, ok := db.dict.lookup(string(q.Tenant))
	if !ok {
		return nil
	}
	where := fmt.Sprintf("tenant = %d", t)
	if len(q.Sources) > 0 {
		ids := db.dict.lookupAll(q.Sources)
		if len(ids) == 0 {
			return nil
		}
		where += " AND source IN (" + joinInts(ids) + ")"
	}
	if len(q.Kinds) > 0 {
		var codes []uint32
		for _, k := range q.Kinds {
			if c := socialKindCode(k); c > 0 {
				codes = append(codes, uint32(c))
			}
		}
		if len(codes) == 0 {
			return nil
		}
		where += " AND kind IN (" + joinInts(codes) + ")"
	}
	var stop error // fn's error, returned as it is
	err := db.read(ctx, func(tx *sql.Tx) error {
		var r storedPost
		var p admeter.SocialPost
		var lastSource uint32
		source := ""
		// One query per day of the range, in order: sorting a day's
		// records takes little memory, sorting a year's in one query would
		// take gigabytes (or spill), and together they are in order.
		from, to := ceilMillis(q.From), ceilMillis(q.To)
		for lo := from; lo < to; lo += scanChunkMillis {
			hi := min(lo+scanChunkMillis, to)
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM social_posts WHERE %s AND ts >= %d AND ts < %d ORDER BY ts, id`,
				socialCols, where, lo, hi))
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := rows.Scan(r.dest()...); err != nil {
					rows.Close()
					return err
				}
				if r.source != lastSource || source == "" {
					lastSource, source = r.source, db.dict.labels([]uint32{r.source})[0]
				}
				r.post(&p, q.Tenant, source)
				if err := fn(&p); err != nil {
					rows.Close()
					stop = err
					return err
				}
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return fmt.Errorf("scan social records: %w", err)
	}
	return nil
}

// joinInts returns ids as a SQL list.
func joinInts(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// UserPosts returns the tenant's records whose author is one of authors,
// ordered by ts then id, at most limit, and whether there are more. Each
// chunk of authors is one query keeping the first limit+1 rows; the
// chunks' rows are merged in Go.
func (db *DB) UserPosts(ctx context.Context, tenant admeter.TenantID, authors []admeter.Pseudonym, limit int) ([]admeter.SocialPost, bool, error) {
	switch {
	case tenant == "":
		return nil, false, invalid("an access request needs a tenant")
	case limit < 1:
		return nil, false, invalid("the limit of social records must be at least 1, not %d", limit)
	}
	chunks := userKeys(authors)
	t, ok := db.dict.lookup(string(tenant))
	if !ok || len(chunks) == 0 {
		return nil, false, nil
	}
	keep := int64(limit)
	if keep < math.MaxInt64 {
		keep++ // one more tells whether there are more
	}
	var found []storedPost
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		found, err = scanChunks(ctx, tx, len(chunks), func(i int) string {
			return fmt.Sprintf(`SELECT %s FROM social_posts WHERE %s ORDER BY ts, id LIMIT %d`, socialCols, authorWhere(t, chunks[i]), keep)
		}, (*storedPost).dest)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read user social records: %w", err)
	}
	if len(chunks) > 1 {
		slices.SortStableFunc(found, func(a, b storedPost) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), bytes.Compare(a.id, b.id))
		})
	}
	truncated := int64(len(found)) > int64(limit)
	if truncated {
		found = found[:limit]
	}
	ids := make([]uint32, len(found))
	for i := range found {
		ids[i] = found[i].source
	}
	sources := db.dict.labels(ids)
	out := make([]admeter.SocialPost, len(found))
	for i := range found {
		found[i].post(&out[i], tenant, sources[i])
	}
	return out, truncated, nil
}

// authorWhere is the filter of one tenant's records of some authors.
func authorWhere(tenant uint32, keys []string) string {
	return fmt.Sprintf("tenant = %d AND author IN (%s)", tenant, strings.Join(keys, ", "))
}

// DeletePostsBefore deletes every tenant's records with a time before t,
// in one statement, and returns how many.
func (db *DB) DeletePostsBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := ceilMillis(t)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("delete old social records: %w", errClosed)
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM social_posts WHERE ts < ?`, cut)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete old social records: %w", err)
	}
	if n > 0 {
		db.logger.Info("social records deleted for retention", "before", t.UTC().Format(time.RFC3339), "records", n)
	}
	return n, nil
}

// deleteAuthorPosts deletes, in tx, the tenant's records of the authors
// of each chunk of keys, and returns how many.
func deleteAuthorPosts(ctx context.Context, tx *sql.Tx, tenant uint32, chunks [][]string) (int64, error) {
	var n int64
	for _, keys := range chunks {
		res, err := tx.ExecContext(ctx, `DELETE FROM social_posts WHERE `+authorWhere(tenant, keys))
		if err != nil {
			return 0, fmt.Errorf("delete social records: %w", err)
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += rows
	}
	return n, nil
}

// scanChunks runs the n queries query(0)…query(n−1) in tx and returns
// their rows, in order, each scanned into the fields dest gives.
func scanChunks[T any](ctx context.Context, tx *sql.Tx, n int, query func(i int) string, dest func(*T) []any) ([]T, error) {
	var out []T
	for i := range n {
		rows, err := tx.QueryContext(ctx, query(i))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r T
			if err := rows.Scan(dest(&r)...); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
