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

// TestConformance runs the suite in memory, with every report and
// frequency streaming its partitions (as over a large range; the other
// queries are unaffected).
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db := mustOpen(t, "")
		db.streamAbove = -1
		return db
	})
}

// TestConformanceFile runs the suite on a file, with every query reading
// its events through the materialized CTE (which TestConformance, in
// memory, reads only over more than materializeAbove partitions).
func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
		db.materializeAbove = 0
		return db
	})
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

// TestJudgeRowsMoved: when events of the judged day are deleted between
// judging and writing, the judgement notices and judges again with the
// writer held, so no verdict lands on the wrong row.
func TestJudgeRowsMoved(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	var evs []admeter.Event
	for u := 1; u <= 3; u++ {
		for i := range 4 {
			evs = append(evs, storetest.Imp(at.Add(time.Duration(i)*time.Second), storetest.User(u), storetest.Received(at.Add(time.Duration(u*10+i)*time.Millisecond))))
		}
	}
	evs = append(evs, storetest.Imp(at, storetest.User(4)))
	storetest.Insert(t, db, 1, evs...)
	db.beforeJudgeWrite = func() {
		db.beforeJudgeWrite = nil
		if _, err := db.DeleteUsers(context.Background(), storetest.DefaultTenant, []admeter.Pseudonym{storetest.UserID(2)}); err != nil {
			t.Error(err)
		}
		if _, err := db.sqldb.Exec("CHECKPOINT"); err != nil {
			t.Error(err)
		}
	}
	rules := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: time.Minute, Max: 3}}}
	got, err := db.JudgeBehaviour(context.Background(), store.DateOf(at), rules)
	if err != nil {
		t.Fatal(err)
	}
	if got.Changed != 8 || got.Flagged[admeter.IVTFrequency] != 8 || got.Events != 9 {
		t.Errorf("judged %+v; want users 1 and 3 flagged (8 events of 9)", got)
	}
	checkFrequencyVerdicts(t, db, 1, 3, 4)
}

// checkFrequencyVerdicts checks that the events of users (storetest.User
// numbers) are flagged admeter.IVTFrequency, except user 4's, valid.
func checkFrequencyVerdicts(t *testing.T, db *DB, users ...int) {
	t.Helper()
	var ps []admeter.Pseudonym
	for _, u := range users {
		ps = append(ps, storetest.UserID(u))
	}
	left, _, err := db.UserEvents(context.Background(), storetest.DefaultTenant, ps, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Fatal("no events left to check")
	}
	for _, e := range left {
		want := admeter.IVTFrequency
		if e.User == storetest.UserID(4) {
			want = 0
		}
		if e.IVT != want {
			t.Errorf("user %x event at %s: %s, want %s", e.User[15], e.At.Format(time.TimeOnly), e.IVT, want)
		}
	}
}
