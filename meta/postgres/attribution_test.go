package postgres_test

import (
	"crypto/sha256"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_CampaignAttribution opens a database whose campaigns predate
// the attribution column: they read as the zero Attribution (the default
// windows), and their settings can then be changed.
func TestMigrate_CampaignAttribution(t *testing.T) {
	schema := newSchema(t)
	db := openSchema(t, schema)
	tenant := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(t.Context(), tenant, sha256.Sum256([]byte("token"))); err != nil {
		t.Fatal(err)
	}
	c := &admeter.Campaign{Tenant: tenant.ID, Name: "Spring", LandingURL: "https://shop.example.com/",
		Placements: []admeter.Placement{{Name: "banner", Media: "news.example.com"}}}
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}

	// Take the schema back to before migration 0005.
	rawExec(t, schema, `ALTER TABLE campaigns DROP COLUMN attribution`)
	rawExec(t, schema, `DELETE FROM schema_migrations WHERE version = '0005_campaign_attribution'`)

	metatest.CheckMigratedCampaign(t, openSchema(t, schema), c)
}
