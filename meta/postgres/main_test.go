package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter/internal/testserver"
	"github.com/admeter/admeter/meta/postgres"
)

// testDSN is the database the tests use: ADMETER_TEST_POSTGRES_DSN, or the
// private server TestMain starts.
var testDSN string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests runs the tests against ADMETER_TEST_POSTGRES_DSN if it is set,
// and otherwise against a throwaway server it starts and stops.
func runTests(m *testing.M) int {
	srv, err := testserver.Postgres()
	if err != nil {
		fmt.Fprintf(os.Stderr, "meta/postgres tests: %v\n", err)
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "meta/postgres tests: %v\n", err)
		}
	}()
	testDSN = srv.DSN
	return m.Run()
}

// newSchema returns a fresh schema name and drops the schema when tb ends.
func newSchema(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "admeter_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, testDSN)
		if err != nil {
			tb.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Error(err)
		}
	})
	return schema
}

// openSchema opens a DB of its own, with its own connections, on schema
// (as one node of a cluster would), and closes it when tb ends.
func openSchema(tb testing.TB, schema string) *postgres.DB {
	tb.Helper()
	db := postgres.NewDB(testDSN)
	db.Schema = schema
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}
