package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

// TestClusterJob: the job clusters a day's partition once the day has
// been over for clusterGrace, once, and counts it.
func TestClusterJob(t *testing.T) {
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "store.duckdb"), duckdb.Options{MemoryLimit: "256MB", ClusterMinRows: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []admeter.Event
	for i := range 50 {
		evs = append(evs, storetest.Imp(day.Add(time.Duration(i)*time.Minute), storetest.User(i%7),
			storetest.Campaign(admeter.CampaignID([]string{"a", "b"}[i%2]))))
	}
	storetest.Insert(t, db, 1, evs...)

	now := day.Add(24*time.Hour + clusterGrace - time.Minute)
	j := newClusterJob(func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	ctx := context.Background()
	for _, c := range []struct {
		now        time.Time
		partitions float64
	}{
		{now, 0},                      // the day ended less than clusterGrace ago
		{now.Add(2 * time.Minute), 1}, // now it is clustered
		{now.Add(24 * time.Hour), 1},  // and not again
	} {
		now = c.now
		if err := j.run(ctx, db); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(j.partitions); got != c.partitions {
			t.Errorf("at %s: %v partitions clustered, want %v", c.now.Format(time.DateTime), got, c.partitions)
		}
	}
	if got := testutil.ToFloat64(j.rows); got != 50 {
		t.Errorf("%v rows clustered, want 50", got)
	}
	if got := testutil.ToFloat64(j.runs); got != 3 {
		t.Errorf("%v runs counted, want 3", got)
	}
}
