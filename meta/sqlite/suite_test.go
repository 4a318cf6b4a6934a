package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/sqlite"
)

// Compile-time check that *sqlite.DB has the method set the suite tests.
var _ metatest.Store = (*sqlite.DB)(nil)

// openStore opens a new database in a temporary directory, with the suite's
// clock and random source, and closes it when the test ends.
func openStore(tb testing.TB, h metatest.Hooks) metatest.Store {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "meta.db"))
	db.Now = h.Now
	db.SetIntn(h.Intn)
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

// TestMetadataStore runs the shared metadata store suite against SQLite.
func TestMetadataStore(t *testing.T) {
	metatest.Run(t, openStore)
}
