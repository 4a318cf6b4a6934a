package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/sqlite"
)

// rawExec runs query on its own connection to the file at path.
func rawExec(tb testing.TB, path, query string, args ...any) error {
	tb.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	_, err = raw.Exec(query, args...)
	return err
}

// rolledBack creates a database at a fresh path holding one campaign with
// the given number of placements, closes it, runs undo on the file (the
// statements that take the schema back before a migration), and returns
// the path and the campaign: reopening the path runs that migration on
// existing rows.
func rolledBack(t *testing.T, placements int, undo ...string) (string, *admeter.Campaign) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	c := newCampaign(MustCreateTenant(t, db, "Acme").ID, "Spring", placements)
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range undo {
		if err := rawExec(t, path, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path, c
}

// TestMigrate_CampaignAttribution opens a database whose campaigns predate
// the attribution column: they read as the zero Attribution (the default
// windows), and their settings can then be changed.
func TestMigrate_CampaignAttribution(t *testing.T) {
	path, c := rolledBack(t, 1,
		`ALTER TABLE campaigns DROP COLUMN attribution`,
		`DELETE FROM migrations WHERE name = 'migration/0007_campaign_attribution.sql'`)
	metatest.CheckMigratedCampaign(t, MustOpenDBAt(t, path), c)
}

// TestCampaignAttribution_Schema: the column refuses what is not a JSON
// object, whoever writes it.
func TestCampaignAttribution_Schema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := MustOpenDBAt(t, path)
	c := newCampaign(MustCreateTenant(t, db, "Acme").ID, "Spring", 1)
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`[]`, `7`, `{`} {
		if err := rawExec(t, path, `UPDATE campaigns SET attribution = ? WHERE id = ?`, v, string(c.ID)); err == nil {
			t.Errorf("attribution %s was stored", v)
		}
	}
}
