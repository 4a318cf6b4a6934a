package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_CampaignAttribution opens a database whose campaigns predate
// the attribution column: they read as the zero Attribution (the default
// windows), and their settings can then be changed.
func TestMigrate_CampaignAttribution(t *testing.T) {
	schema := newSchema(t)
	c := mustCreateCampaign(t, openSchema(t, schema), "banner")

	// Take the schema back to before migration 0005.
	rawExec(t, schema, `ALTER TABLE campaigns DROP COLUMN attribution`)
	rawExec(t, schema, `DELETE FROM schema_migrations WHERE version = '0005_campaign_attribution'`)

	metatest.CheckMigratedCampaign(t, openSchema(t, schema), c)
}
