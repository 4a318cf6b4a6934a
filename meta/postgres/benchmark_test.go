package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/postgres"
)

// Compile-time check that *postgres.DB has the benchmark methods.
var _ metatest.BenchmarkStore = (*postgres.DB)(nil)

// TestBenchmarks runs the suite's benchmark tests against PostgreSQL.
func TestBenchmarks(t *testing.T) { metatest.RunBenchmarks(t, openStore) }
