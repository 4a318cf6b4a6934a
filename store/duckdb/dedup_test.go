package duckdb

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	duck "github.com/duckdb/duckdb-go/v2"
)

// TestDedupHashedMatchesDedup runs dedup and dedupHashed over the same
// events, where many impression ids repeat (with other times, verdicts and
// users, on the same and on other placements and campaigns, and ids
// without a copy), and requires the same rows from both, with and without
// extra keys.
func TestDedupHashedMatchesDedup(t *testing.T) {
	connector, err := duck.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE src (kind UTINYINT, impression UUID, placement UINTEGER, ts BIGINT, received BIGINT,
		campaign UINTEGER, user_key UUID, ivt UTINYINT)`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	uuid := func(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012x", n) }
	var values []string
	for i := range 20_000 {
		imp, user := "NULL", "NULL"
		if r.IntN(10) > 0 {
			imp = "'" + uuid(r.IntN(6000)) + "'" // about three copies an id
		}
		if r.IntN(8) > 0 {
			user = "'" + uuid(r.IntN(3000)) + "'"
		}
		ts := r.IntN(1000)
		values = append(values, fmt.Sprintf("(%d, %s, %d, %d, %d, %d, %s, %d)", r.IntN(2), imp, r.IntN(3), ts, ts+i%7, r.IntN(2), user, r.IntN(3)))
	}
	if _, err := db.Exec("INSERT INTO src VALUES " + strings.Join(values, ", ")); err != nil {
		t.Fatal(err)
	}
	rows := func(query string) []string {
		t.Helper()
		res, err := db.Query(query)
		if err != nil {
			t.Fatalf("%v\n%s", err, query)
		}
		defer res.Close()
		var out []string
		for res.Next() {
			var kind, placement, ivt int
			var ts, received int64
			var user sql.NullString
			if err := res.Scan(&kind, &placement, &ts, &user, &ivt, &received); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(kind, placement, ts, user, ivt, received))
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	const cols = ", user_key, ivt, received"
	for _, keys := range []string{"", ", campaign"} {
		want := rows(dedup("src", cols, keys))
		got := rows("WITH " + dupKeysSQL("src", keys) + "\n" + dedupHashed("src", cols, keys))
		if len(want) < 10_000 || len(want) == 20_000 {
			t.Fatalf("keys %q: dedup keeps %d of 20 000 events: the data does not exercise it", keys, len(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("keys %q: dedupHashed gives %d rows, dedup %d, or other rows", keys, len(got), len(want))
		}
	}
}
