package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_PlacementPrice opens a database whose placements predate the
// price columns: they read with no price, and can then be given one.
func TestMigrate_PlacementPrice(t *testing.T) {
	path, c := rolledBack(t, 2,
		`ALTER TABLE placements DROP COLUMN price_amount`,
		`ALTER TABLE placements DROP COLUMN price_model`,
		`DELETE FROM migrations WHERE name = 'migration/0012_placement_price.sql'`)
	metatest.CheckMigratedPrices(t, MustOpenDBAt(t, path), c)
}

// TestPlacementPrice_Schema: the columns refuse an unknown model, an amount
// out of range or not an integer, and one of the two without the other,
// whoever writes them.
func TestPlacementPrice_Schema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := MustOpenDBAt(t, path)
	c := newCampaign(MustCreateTenant(t, db, "Acme").ID, "Spring", 1)
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	id := string(c.Placements[0].ID)
	if err := rawExec(t, path, `UPDATE placements SET price_model = 'cpm', price_amount = 35000000 WHERE id = ?`, id); err != nil {
		t.Fatalf("a valid price was refused: %v", err)
	}
	for _, tt := range []struct {
		model, amount any
	}{
		{"cpa", 1}, {"CPM", 1}, {"cpm", -1}, {"cpm", 1_000_000_000_000_001}, {"cpm", 1.5}, {"cpm", "35 yuan"},
		{"cpm", nil}, {nil, 1},
	} {
		if err := rawExec(t, path, `UPDATE placements SET price_model = ?, price_amount = ? WHERE id = ?`, tt.model, tt.amount, id); err == nil {
			t.Errorf("price %v %v was stored", tt.model, tt.amount)
		}
	}
}
