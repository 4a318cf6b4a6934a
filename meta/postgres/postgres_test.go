package postgres_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/postgres"
)

// rawExec runs query in schema on a connection of its own.
func rawExec(tb testing.TB, schema, query string, dest ...any) {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	if len(dest) > 0 {
		err = c.QueryRow(ctx, query).Scan(dest...)
	} else {
		_, err = c.Exec(ctx, query)
	}
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func TestOpen_Migrations(t *testing.T) {
	schema := newSchema(t)
	open := func() *postgres.DB {
		t.Helper()
		db := postgres.NewDB(testDSN)
		db.Schema = schema
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	tenant := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(t.Context(), tenant, sha256.Sum256([]byte("token"))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var applied int
	rawExec(t, schema, `SELECT COUNT(*) FROM schema_migrations`, &applied)
	if applied == 0 {
		t.Fatal("no migration recorded")
	}

	for range 2 {
		db := open()
		got, err := db.Tenant(t.Context(), tenant.ID)
		if err != nil || got.Name != "Acme" {
			t.Fatalf("tenant after reopen: %+v, %v", got, err)
		}
		if v, err := db.Version(t.Context()); err != nil || v != 1 {
			t.Fatalf("version after reopen = %d, %v; want 1", v, err)
		}
		db.Close()
		var n int
		rawExec(t, schema, `SELECT COUNT(*) FROM schema_migrations`, &n)
		if n != applied {
			t.Fatalf("%d migrations recorded after reopen, want %d", n, applied)
		}
	}

	rawExec(t, schema, `INSERT INTO schema_migrations (version, applied) VALUES ('9999_future', now())`)
	db = postgres.NewDB(testDSN)
	db.Schema = schema
	if err := db.Open(); err == nil || !strings.Contains(err.Error(), "9999_future") {
		t.Fatalf("err = %v, want a refusal naming the unknown migration", err)
	}
}

func TestOpen_BadDSN(t *testing.T) {
	for _, dsn := range []string{"", "postgres://user:secret@[::1"} {
		err := postgres.NewDB(dsn).Open()
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		} else if strings.Contains(err.Error(), "secret") {
			t.Fatalf("the error quotes the password: %v", err)
		}
	}
}
