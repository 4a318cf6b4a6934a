package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store/storetest"
)

// eventTables returns the connections and names of every events table of
// db: each server's local table (every replica's), the coordinator's,
// and the Distributed table when sharded.
func eventTables(db *DB) (conns []driver.Conn, tables []string) {
	for _, rs := range db.replicas {
		for _, c := range rs {
			conns, tables = append(conns, c), append(tables, localEvents)
		}
	}
	if len(db.replicas) == 0 {
		conns, tables = append(conns, db.shards...), append(tables, localEvents)
	}
	conns, tables = append(conns, db.conn), append(tables, localEvents)
	if db.events != localEvents {
		conns, tables = append(conns, db.conn), append(tables, db.events)
	}
	return conns, tables
}

// toVersion3 makes db's database one of schema version 3: it drops the
// columns version 4 added from every events table (waiting until every
// replica has dropped them) and records version 3.
func toVersion3(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	drops := make([]string, len(viewColumns))
	for i, c := range viewColumns {
		drops[i] = "DROP COLUMN " + c.name
	}
	err := db.onShards(func(_ int, c driver.Conn) error {
		return c.Exec(ctx, "ALTER TABLE "+localEvents+" "+strings.Join(drops, ", "))
	})
	if err != nil {
		t.Fatalf("drop the columns of version 4: %v", err)
	}
	if db.events != localEvents {
		if err := db.conn.Exec(ctx, "ALTER TABLE "+db.events+" "+strings.Join(drops, ", ")); err != nil {
			t.Fatalf("drop the columns of version 4 from %s: %v", db.events, err)
		}
	}
	// The tests' coordinator is a shard's (first) replica: the drop
	// reaches every table.
	conns, tables := eventTables(db)
	for i, c := range conns {
		deadline := time.Now().Add(30 * time.Second)
		for {
			missing, err := missingColumns(ctx, c, tables[i], viewColumns)
			if err != nil {
				t.Fatal(err)
			}
			if len(missing) == len(viewColumns) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("table %d (%s) still has %d columns of version 4", i, tables[i], len(viewColumns)-len(missing))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := db.mutate(ctx, "meta", "DELETE WHERE key = "+quote(metaVersion)); err != nil {
		t.Fatal(err)
	}
	if err := db.setMeta(ctx, metaVersion, multiWriterVersion); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateViewColumns: a database of schema version 3 opens at version
// 4 with the viewability, video and conversion columns on every events
// table (every shard and replica, the coordinator's and the Distributed
// table), its events still counted, and the new fields stored from then
// on; opening it again changes nothing.
func TestMigrateViewColumns(t *testing.T) {
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
			toVersion3(t, old)
			if v, err := old.meta(ctx, metaVersion); err != nil || v != multiWriterVersion {
				t.Fatalf("schema version before = %d, %v; want %d", v, err, multiWriterVersion)
			}

			db := e.open(t, dsn, Options{})
			if v, err := db.meta(ctx, metaVersion); err != nil || v != schemaVersion {
				t.Fatalf("schema version = %d, %v; want %d", v, err, schemaVersion)
			}
			conns, tables := eventTables(db)
			for i, c := range conns {
				if missing, err := missingColumns(ctx, c, tables[i], viewColumns); err != nil || len(missing) > 0 {
					t.Fatalf("table %d (%s) lacks %v, %v", i, tables[i], missing, err)
				}
			}
			wantImpressions(t, db, 20)
			at := testAt.Add(time.Minute)
			imp := storetest.Imp(at, storetest.User(1), storetest.VF(1), storetest.View(admeter.ViewStarted),
				storetest.Video(1500*time.Millisecond, admeter.PlayAuto), storetest.Quartiles(admeter.Quartile25))
			conv := storetest.Conversion(at.Add(time.Second), 1, admeter.ConversionOrder, storetest.User(1), storetest.ClickID(3), storetest.Value(5_000_000, "CNY"))
			storetest.Insert(t, db, 2, imp, conv)
			got, _, err := db.UserEvents(ctx, storetest.DefaultTenant, []admeter.Pseudonym{storetest.UserID(1)}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[1].VideoDuration != imp.VideoDuration || got[1].View != imp.View || got[1].VideoQuartiles != imp.VideoQuartiles ||
				got[2].ConversionID != conv.ConversionID || got[2].ClickID != conv.ClickID || got[2].Value != conv.Value || got[2].Currency != "CNY" {
				t.Fatalf("UserEvents after the migration = %+v", got)
			}
			// Open again: nothing to migrate, nothing lost.
			again := e.open(t, dsn, Options{})
			wantImpressions(t, again, 21)
		})
	}
}
