package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_FrequencyThreshold opens a database whose campaigns predate
// the frequency_threshold column: they read with threshold 0 (the
// default), and can then be given one.
func TestMigrate_FrequencyThreshold(t *testing.T) {
	schema := newSchema(t)
	c := mustCreateCampaign(t, openSchema(t, schema), "banner")

	// Take the schema back to before migration 0011.
	rawExec(t, schema, `ALTER TABLE campaigns DROP COLUMN frequency_threshold`)
	rawExec(t, schema, `DELETE FROM schema_migrations WHERE version = '0011_campaign_frequency_threshold'`)

	metatest.CheckMigratedFrequencyThreshold(t, openSchema(t, schema), c)
}
