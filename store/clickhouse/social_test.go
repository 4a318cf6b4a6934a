package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// postTables returns the connections to every server's local posts
// table of db, [shard][replica] (one server: [[conn]]).
func postTables(db *DB) [][]driver.Conn {
	if len(db.replicas) == 0 {
		return [][]driver.Conn{{db.conn}}
	}
	return db.replicas
}

// postCounts returns, per shard and replica, the number of rows of its
// local posts table of each tenant.
func postCounts(t *testing.T, db *DB) [][]map[admeter.TenantID]uint64 {
	t.Helper()
	var out [][]map[admeter.TenantID]uint64
	for s, rs := range postTables(db) {
		out = append(out, nil)
		for r, c := range rs {
			rows, err := c.Query(context.Background(), "SELECT tenant, count() FROM "+localPosts+" GROUP BY tenant")
			if err != nil {
				t.Fatalf("count posts of shard %d replica %d: %v", s+1, r+1, err)
			}
			m := map[admeter.TenantID]uint64{}
			for rows.Next() {
				var tenant string
				var n uint64
				if err := rows.Scan(&tenant, &n); err != nil {
					t.Fatal(err)
				}
				m[admeter.TenantID(tenant)] = n
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			out[s] = append(out[s], m)
		}
	}
	return out
}

// TestPostsOnTheirTenantsShard: a tenant's social records are on its
// shard alone (postShard, the sharding key of posts_all), on every
// replica of it once InsertPosts returns, and queries and deletions find
// them there; with one server, in its posts table.
func TestPostsOnTheirTenantsShard(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(t testing.TB) env
	}{
		{"single", func(testing.TB) env { return single }},
		{"sharded", sharded},
		{"replicated", replicated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := tc.env(t)
			db := e.open(t, e.create(t), Options{})
			const tenants, per = 6, 5
			at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			var posts []admeter.SocialPost
			used := map[int]bool{}
			for i := range tenants {
				tenant := admeter.TenantID(fmt.Sprintf("tenant-%d", i))
				used[postShard(tenant, len(db.shards))] = true
				for j := range per {
					// Two months, so that retention drops one partition and
					// mutates the other.
					posts = append(posts, storetest.Post(i*per+j+1, at.AddDate(0, 0, 20*j), j+1, storetest.PostTenant(tenant)))
				}
			}
			if len(db.shards) > 1 && len(used) < 2 {
				t.Fatalf("the test's tenants all hash to one shard of %d: pick others", len(db.shards))
			}
			storetest.InsertPosts(t, db, len(posts), posts...)
			storetest.InsertPosts(t, db, 0, posts...)
			// No waiting: every replica has them when InsertPosts returns.
			for s, rs := range postCounts(t, db) {
				for r, m := range rs {
					for i := range tenants {
						tenant := admeter.TenantID(fmt.Sprintf("tenant-%d", i))
						want := uint64(0)
						if postShard(tenant, len(db.shards)) == s {
							want = per
						}
						if m[tenant] != want {
							t.Errorf("shard %d replica %d holds %d records of %s, want %d", s+1, r+1, m[tenant], tenant, want)
						}
					}
				}
			}
			for i := range tenants {
				tenant := admeter.TenantID(fmt.Sprintf("tenant-%d", i))
				n := 0
				err := db.ScanPosts(ctx, store.PostQuery{Tenant: tenant, From: at, To: at.AddDate(1, 0, 0)}, func(p *admeter.SocialPost) error {
					if p.Tenant != tenant {
						t.Errorf("ScanPosts of %s passed a record of %s", tenant, p.Tenant)
					}
					n++
					return nil
				})
				if err != nil || n != per {
					t.Errorf("ScanPosts of %s: %d records, %v; want %d", tenant, n, err, per)
				}
			}
			// Records of March 2 and 22 (one partition dropped whole from
			// every shard), and of April 11 before the cut (a mutation).
			cut := at.AddDate(0, 0, 40).Add(time.Hour)
			if n, err := db.DeletePostsBefore(ctx, cut); err != nil || n != 3*tenants {
				t.Fatalf("DeletePostsBefore = %d, %v; want %d", n, err, 3*tenants)
			}
			if n, err := db.DeleteTenant(ctx, "tenant-0"); err != nil || n != per-3 {
				t.Fatalf("DeleteTenant = %d, %v; want %d", n, err, per-3)
			}
			for s, rs := range postCounts(t, db) {
				for r, m := range rs {
					for i := range tenants {
						tenant := admeter.TenantID(fmt.Sprintf("tenant-%d", i))
						want := uint64(0)
						if i > 0 && postShard(tenant, len(db.shards)) == s {
							want = per - 3
						}
						if m[tenant] != want {
							t.Errorf("after the deletions, shard %d replica %d holds %d records of %s, want %d", s+1, r+1, m[tenant], tenant, want)
						}
					}
				}
			}
		})
	}
}

// TestMigrateSocial: a database of schema version 4 (no posts table)
// opens at version 5 with table posts on every server (and posts_all
// when sharded), its events still counted, and social records stored
// from then on.
func TestMigrateSocial(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(t testing.TB) env
	}{
		{"single", func(testing.TB) env { return single }},
		{"sharded", sharded},
		{"replicated", replicated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := tc.env(t)
			dsn := e.create(t)
			old := e.open(t, dsn, Options{})
			storetest.Insert(t, old, 1, imps(0, 20)...)
			// Make it version 4: no posts tables, version 4 recorded.
			if old.posts != localPosts {
				if err := old.conn.Exec(ctx, "DROP TABLE "+old.posts); err != nil {
					t.Fatal(err)
				}
			}
			for _, rs := range postTables(old) {
				for _, c := range rs {
					if err := c.Exec(ctx, "DROP TABLE IF EXISTS "+localPosts); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := old.conn.Exec(ctx, "DROP TABLE IF EXISTS "+localPosts); err != nil {
				t.Fatal(err)
			}
			if err := old.mutate(ctx, "meta", "DELETE WHERE key = "+quote(metaVersion)); err != nil {
				t.Fatal(err)
			}
			if err := old.setMeta(ctx, metaVersion, viewVersion); err != nil {
				t.Fatal(err)
			}

			db := e.open(t, dsn, Options{})
			if v, err := db.meta(ctx, metaVersion); err != nil || v != socialVersion {
				t.Fatalf("schema version = %d, %v; want %d", v, err, socialVersion)
			}
			wantImpressions(t, db, 20)
			at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			storetest.InsertPosts(t, db, 2, storetest.Post(1, at, 1), storetest.Post(2, at, 2, storetest.PostTenant("t2")))
			got, _, err := db.UserPosts(ctx, storetest.DefaultTenant, []admeter.Pseudonym{storetest.UserID(1)}, 10)
			if err != nil || len(got) != 1 || got[0].ID != storetest.PostID(1) {
				t.Fatalf("UserPosts after the migration = %+v, %v", got, err)
			}
		})
	}
}
