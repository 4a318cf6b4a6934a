package duckdb

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// BenchmarkCluster stores ADMETER_BENCH_EVENTS events (2 000 000 by
// default) of 20 equal campaigns over two UTC days, copies the file, and
// clusters the copy (the time of Cluster is reported once, as
// cluster-ms). Each iteration then runs the same Report (totals) and
// Frequency of one campaign over the two days on each file in turn, and
// reports the milliseconds of each and their ratio.
func BenchmarkCluster(b *testing.B) {
	ctx := context.Background()
	n := benchEvents()
	dir := b.TempDir()
	plain := filepath.Join(dir, "plain.duckdb")
	db, err := Open(plain, Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := benchStart
	g := storetest.NewGenerator(3, storetest.GenConfig{Campaigns: 20, Placements: 5, Users: n / 10,
		Start: start, Step: 2 * 24 * time.Hour / time.Duration(n)})
	insertGenerated(b, db, g, n)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	clustered := filepath.Join(dir, "clustered.duckdb")
	copyFile(b, plain, clustered)
	open := func(path string) *DB {
		db, err := Open(path, Options{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	a, c := open(plain), open(clustered)
	t0 := time.Now()
	res, err := c.Cluster(ctx, start.Add(3*24*time.Hour))
	if err != nil || res.Partitions != 2 {
		b.Fatalf("Cluster = %+v, %v", res, err)
	}
	clusterTime := time.Since(t0)

	q := store.ReportQuery{Tenant: storetest.DefaultTenant, Campaign: storetest.GenCampaign(0), From: start, To: start.Add(2 * 24 * time.Hour), Location: time.UTC}
	fq := store.FrequencyQuery{Tenant: q.Tenant, Campaign: q.Campaign, From: q.From, To: q.To, Location: time.UTC}
	run := func(db *DB) (*store.ReportResult, time.Duration) {
		t0 := time.Now()
		r, err := db.Report(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Frequency(ctx, fq); err != nil {
			b.Fatal(err)
		}
		return r, time.Since(t0)
	}
	var tPlain, tClustered time.Duration
	for b.Loop() {
		ra, da := run(a)
		rc, dc := run(c)
		if ra.Total != rc.Total {
			b.Fatalf("clustered total %+v, plain %+v", rc.Total, ra.Total)
		}
		tPlain += da
		tClustered += dc
	}
	nn := float64(b.N)
	b.ReportMetric(float64(clusterTime.Milliseconds()), "cluster-ms")
	b.ReportMetric(tPlain.Seconds()*1000/nn, "plain-ms")
	b.ReportMetric(tClustered.Seconds()*1000/nn, "clustered-ms")
	b.ReportMetric(tClustered.Seconds()/tPlain.Seconds(), "clustered/plain")
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
