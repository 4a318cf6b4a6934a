package postgres_test

import (
	"crypto/sha256"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/postgres"
)

// TestMigrate_PlacementCategories opens a database whose placements predate
// the categories column: they read with no categories, and can then be
// given some.
func TestMigrate_PlacementCategories(t *testing.T) {
	schema := newSchema(t)
	c := mustCreateCampaign(t, openSchema(t, schema), "banner", "feed")

	// Take the schema back to before migration 0006.
	rawExec(t, schema, `ALTER TABLE placements DROP COLUMN categories`)
	rawExec(t, schema, `DELETE FROM schema_migrations WHERE version = '0006_placement_categories'`)

	metatest.CheckMigratedPlacements(t, openSchema(t, schema), c)
}

// mustCreateCampaign creates an advertiser, Acme, and its campaign Spring
// with one placement on news.example.com per name.
func mustCreateCampaign(t *testing.T, db *postgres.DB, placements ...string) *admeter.Campaign {
	t.Helper()
	tenant := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(t.Context(), tenant, sha256.Sum256([]byte("token"))); err != nil {
		t.Fatal(err)
	}
	c := &admeter.Campaign{Tenant: tenant.ID, Name: "Spring", LandingURL: "https://shop.example.com/"}
	for _, name := range placements {
		c.Placements = append(c.Placements, admeter.Placement{Name: name, Media: "news.example.com"})
	}
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}
