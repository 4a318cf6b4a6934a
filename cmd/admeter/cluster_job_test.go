package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

// TestClusterJob: the job clusters a day's partition and builds its reach
// index once the day has been over for clusterGrace, once, and counts
// them.
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
		now               time.Time
		partitions, reach float64
	}{
		{now, 0, 0},                      // the day ended less than clusterGrace ago
		{now.Add(2 * time.Minute), 1, 1}, // now it is clustered and indexed
		{now.Add(24 * time.Hour), 1, 1},  // and not again
	} {
		now = c.now
		if err := j.run(ctx, db); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(j.partitions); got != c.partitions {
			t.Errorf("at %s: %v partitions clustered, want %v", c.now.Format(time.DateTime), got, c.partitions)
		}
		if got := testutil.ToFloat64(j.reachFiles); got != c.reach {
			t.Errorf("at %s: %v reach index files built, want %v", c.now.Format(time.DateTime), got, c.reach)
		}
	}
	if got := testutil.ToFloat64(j.rows); got != 50 {
		t.Errorf("%v rows clustered, want 50", got)
	}
	if got := testutil.ToFloat64(j.runs); got != 3 {
		t.Errorf("%v runs counted, want 3", got)
	}
}

// TestStoreClusteringEndToEnd: a running server's job rewrites an ended
// day whose events of two campaigns arrived interleaved and builds its
// reach index, counts both in /metrics, and the reports and reach reports
// of both campaigns for that day still give every event and user.
func TestStoreClusteringEndToEnd(t *testing.T) {
	cfg := DefaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	cfg.StoreCluster = 100 * time.Millisecond
	cfg.IVTInterval = 0
	m := NewMain(cfg, nil)
	m.StoreClusterMinRows = 1
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.Addr()
	tokA, a := setupCampaign(t, base, cfg.DataDir, 1)
	tokB, b := setupCampaign(t, base, cfg.DataDir, 1)

	// Two days ago at noon (Shanghai): a UTC day that ended long ago, with
	// event times the collector keeps.
	at := time.Now().In(shanghai()).AddDate(0, 0, -2)
	at = time.Date(at.Year(), at.Month(), at.Day(), 12, 0, 0, 0, at.Location())
	day := at.Format(time.DateOnly)
	for i := range 40 {
		c := []testCampaign{a, b}[i%2]
		url := fmt.Sprintf("%s/x/k=%s&p=%s&m11=%016x&mt=%d&vf=v%d", base, c.ID, c.Placements[0].ID, i%7+1, at.Unix()+int64(i), i)
		if resp, _ := get(t, url, nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", url, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(metricsOf(t, base), "admeter_store_cluster_partitions_total 1\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no partition clustered after 10 s:\n%s", grepLines(metricsOf(t, base), "admeter_store_cluster"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The same run builds the day's reach index, which the reach report
	// then reads.
	for !strings.Contains(metricsOf(t, base), "admeter_store_cluster_reach_index_files_total 1\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no reach index file built after 10 s:\n%s", grepLines(metricsOf(t, base), "admeter_store_cluster"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	rix := filepath.Join(cfg.DataDir, "store.duckdb.reach", at.UTC().Format("20060102")+".rix")
	if _, err := os.Stat(rix); err != nil {
		t.Errorf("the day's reach index file: %v", err)
	}
	for _, c := range []struct {
		tok string
		c   testCampaign
	}{{tokA, a}, {tokB, b}} {
		var rep struct {
			Total struct{ Impressions, UV int64 }
		}
		u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, c.c.ID, day, day)
		if st := apiCall(t, "GET", u, c.tok, nil, &rep); st != 200 || rep.Total.Impressions != 20 || rep.Total.UV != 7 {
			t.Errorf("campaign %s after clustering: %d %+v; want 20 impressions from 7 users", c.c.ID, st, rep.Total)
		}
		var r struct {
			Totals struct{ Reach *int64 }
		}
		u = fmt.Sprintf("%s/api/v1/campaigns/%s/reach?from=%s&to=%s", base, c.c.ID, day, day)
		if st := apiCall(t, "GET", u, c.tok, nil, &r); st != 200 || r.Totals.Reach == nil || *r.Totals.Reach != 7 {
			t.Errorf("campaign %s's reach from the index: %d %v; want 7 users", c.c.ID, st, r.Totals.Reach)
		}
	}
}
