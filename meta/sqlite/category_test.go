package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_PlacementCategories opens a database whose placements predate
// the categories column: they read with no categories, and can then be
// given some.
func TestMigrate_PlacementCategories(t *testing.T) {
	path, c := rolledBack(t, 2,
		`ALTER TABLE placements DROP COLUMN categories`,
		`DELETE FROM migrations WHERE name = 'migration/0008_placement_categories.sql'`)
	metatest.CheckMigratedPlacements(t, MustOpenDBAt(t, path), c)
}

// TestPlacementCategories_Schema: the column refuses what is not a JSON
// array, whoever writes it.
func TestPlacementCategories_Schema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := MustOpenDBAt(t, path)
	c := newCampaign(MustCreateTenant(t, db, "Acme").ID, "Spring", 1)
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`{}`, `"483"`, `[`} {
		if err := rawExec(t, path, `UPDATE placements SET categories = ? WHERE id = ?`, v, string(c.Placements[0].ID)); err == nil {
			t.Errorf("categories %s was stored", v)
		}
	}
}
