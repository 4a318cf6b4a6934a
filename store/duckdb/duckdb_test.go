package duckdb

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter"
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

// TestCancelledWriteKeepsWriter: a write whose context is cancelled while
// it runs fails, and the store still writes and closes cleanly
// (database/sql would otherwise discard the writer connection with the
// transaction).
func TestCancelledWriteKeepsWriter(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
	at := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	g := storetest.NewGenerator(7, storetest.GenConfig{Users: 20_000, Start: at, Step: 200 * time.Millisecond})
	evs := make([]admeter.Event, 300_000)
	g.Fill(evs)
	storetest.Insert(t, db, 1, evs...)
	rules := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: time.Hour, Max: 3}}, MinClickDelay: time.Second, HopWindow: time.Minute, MaxNets: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := db.JudgeBehaviour(ctx, store.DateOf(at), rules); err == nil {
		t.Skip("judging finished before the cancellation; nothing to test on this machine")
	}
	storetest.Insert(t, db, 2, storetest.Imp(at, storetest.User(2)))
	if _, err := db.JudgeBehaviour(context.Background(), store.DateOf(at), rules); err != nil {
		t.Fatalf("judging after a cancelled write: %v", err)
	}
}
