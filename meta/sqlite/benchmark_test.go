package sqlite_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/sqlite"
)

// Compile-time check that *sqlite.DB has the benchmark methods.
var _ metatest.BenchmarkStore = (*sqlite.DB)(nil)

// TestBenchmarks runs the suite's benchmark tests against SQLite.
func TestBenchmarks(t *testing.T) { metatest.RunBenchmarks(t, openStore) }
