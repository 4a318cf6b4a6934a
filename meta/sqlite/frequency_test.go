package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

// TestMigrate_FrequencyThreshold opens a database whose campaigns predate
// the frequency_threshold column: they read with threshold 0 (the
// default), and can then be given one.
func TestMigrate_FrequencyThreshold(t *testing.T) {
	path, c := rolledBack(t, 1,
		`ALTER TABLE campaigns DROP COLUMN frequency_threshold`,
		`DELETE FROM migrations WHERE name = 'migration/0013_campaign_frequency_threshold.sql'`)
	metatest.CheckMigratedFrequencyThreshold(t, MustOpenDBAt(t, path), c)
}

// TestFrequencyThreshold_Schema: the column refuses a threshold out of
// range, not an integer or NULL, whoever writes it.
func TestFrequencyThreshold_Schema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := MustOpenDBAt(t, path)
	c := newCampaign(MustCreateTenant(t, db, "Acme").ID, "Spring", 1)
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{0, 1, 1000} {
		if err := rawExec(t, path, `UPDATE campaigns SET frequency_threshold = ? WHERE id = ?`, v, string(c.ID)); err != nil {
			t.Errorf("threshold %v was refused: %v", v, err)
		}
	}
	for _, v := range []any{-1, 1001, 2.5, "ten", nil} {
		if err := rawExec(t, path, `UPDATE campaigns SET frequency_threshold = ? WHERE id = ?`, v, string(c.ID)); err == nil {
			t.Errorf("threshold %v was stored", v)
		}
	}
}
