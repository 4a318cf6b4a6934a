package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
)

// MustOpenDB opens a new database in a temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return MustOpenDBAt(tb, filepath.Join(tb.TempDir(), "meta.db"))
}

// MustOpenDBAt opens the database at path and closes it when the test ends.
func MustOpenDBAt(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
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

// MustCreateTenant creates a tenant named name whose token is "token-"+name.
func MustCreateTenant(tb testing.TB, db *sqlite.DB, name string) *admeter.Tenant {
	tb.Helper()
	t := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(context.Background(), t, sha256.Sum256([]byte("token-"+name))); err != nil {
		tb.Fatal(err)
	}
	return t
}

// MustVersion returns the change counter.
func MustVersion(tb testing.TB, db *sqlite.DB) int64 {
	tb.Helper()
	v, err := db.Version(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// rawQueryInt runs a query returning one integer on its own connection to
// the file at path.
func rawQueryInt(tb testing.TB, path, query string) int {
	tb.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(query).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestOpen_MigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "meta.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	tenant := MustCreateTenant(t, db, "Acme")
	version := MustVersion(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	migrations := rawQueryInt(t, path, `SELECT COUNT(*) FROM migrations`)
	if migrations == 0 {
		t.Fatal("no migration recorded")
	}

	for range 2 {
		db := sqlite.NewDB(path)
		if err := db.Open(); err != nil {
			t.Fatalf("reopen: %v", err)
		}
		got, err := db.Tenant(t.Context(), tenant.ID)
		if err != nil {
			t.Fatal(err)
		} else if got.Name != "Acme" {
			t.Fatalf("tenant name = %q after reopen", got.Name)
		}
		if v := MustVersion(t, db); v != version {
			t.Fatalf("version = %d after reopen, want %d", v, version)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, path, `SELECT COUNT(*) FROM migrations`); n != migrations {
			t.Fatalf("%d migrations recorded after reopen, want %d", n, migrations)
		}
	}

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("database mode = %04o, want 0600", fi.Mode().Perm())
		}
	}
	if mode := rawQueryString(t, path, `PRAGMA journal_mode`); mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func rawQueryString(tb testing.TB, path, query string) string {
	tb.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	var s string
	if err := raw.QueryRow(query).Scan(&s); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rawExec(t, path, `INSERT INTO migrations (name, applied) VALUES ('migration/9999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}

	err := sqlite.NewDB(path).Open()
	if err == nil || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Fatalf("err = %v, want a refusal naming the unknown migration", err)
	}
}

func TestOpen_BadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "x.db?mode=ro")} {
		if err := sqlite.NewDB(path).Open(); err == nil {
			t.Errorf("Open(%q) succeeded", path)
		}
	}
	// A directory where the file should be.
	if err := sqlite.NewDB(t.TempDir()).Open(); err == nil {
		t.Error("opened a directory")
	}
}

// newCampaign returns a valid campaign of tenant with n placements.
func newCampaign(tenant admeter.TenantID, name string, n int) *admeter.Campaign {
	c := &admeter.Campaign{
		Tenant:     tenant,
		Name:       name,
		LandingURL: "https://shop.example.com/spring?utm_source=admeter",
	}
	for i := range n {
		c.Placements = append(c.Placements, admeter.Placement{
			Name:  fmt.Sprintf("banner %d", i),
			Media: fmt.Sprintf("media-%d.example.com", i%3),
		})
	}
	return c
}
