package duckdb

import (
	"path/filepath"
	"testing"

	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// mustOpen opens a store at path ("" in memory) with small test settings
// and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path, Options{MemoryLimit: "512MB", Threads: 2, MaxReaders: 4}, nil)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, "") })
}

func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb")) })
}

func TestConformanceReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T, path string) store.Store {
		db, err := Open(path+".duckdb", Options{MemoryLimit: "512MB", Threads: 2}, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db
	})
}
