package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_PlacementPrice opens a database whose placements predate the
// price columns: they read with no price, and can then be given one.
func TestMigrate_PlacementPrice(t *testing.T) {
	schema := newSchema(t)
	c := mustCreateCampaign(t, openSchema(t, schema), "banner", "feed")

	// Take the schema back to before migration 0010.
	rawExec(t, schema, `ALTER TABLE placements DROP COLUMN price_model, DROP COLUMN price_amount`)
	rawExec(t, schema, `DELETE FROM schema_migrations WHERE version = '0010_placement_price'`)

	metatest.CheckMigratedPrices(t, openSchema(t, schema), c)
}
