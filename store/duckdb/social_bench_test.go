package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// BenchmarkInsertPosts measures InsertPosts of batches of 10 000 new
// social records into a database file: validation, the staging appender,
// the keyed INSERT … ON CONFLICT and the commit. Each iteration inserts
// records of another tenant, so that every one is new.
func BenchmarkInsertPosts(b *testing.B) {
	const batch = 10_000
	pool := storetest.GenPosts(1, "", batch, benchStart, time.Second)
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		tenant := admeter.TenantID(fmt.Sprintf("b%d", i))
		for j := range pool {
			pool[j].Tenant = tenant
		}
		if n, err := db.InsertPosts(ctx, pool); err != nil || n != batch {
			b.Fatalf("InsertPosts = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInsertPostsRepeat measures InsertPosts of a batch of 10 000
// records that are all stored already (a redelivered batch).
func BenchmarkInsertPostsRepeat(b *testing.B) {
	const batch = 10_000
	pool := storetest.GenPosts(1, "", batch, benchStart, time.Second)
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.InsertPosts(ctx, pool); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if n, err := db.InsertPosts(ctx, pool); err != nil || n != 0 {
			b.Fatalf("InsertPosts = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScanPosts measures ScanPosts of 100 000 records of one tenant
// (of 200 000 stored, the other half another tenant's), all of them and
// one day's worth.
func BenchmarkScanPosts(b *testing.B) {
	const n = 100_000
	db, err := Open(filepath.Join(b.TempDir(), "store.duckdb"), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	step := 30 * 24 * time.Hour / n // a month of records
	for _, tenant := range []admeter.TenantID{storetest.DefaultTenant, "t2"} {
		posts := storetest.GenPosts(2, tenant, n, benchStart, step)
		for i := 0; i < n; i += 10_000 {
			if _, err := db.InsertPosts(ctx, posts[i:i+10_000]); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		span time.Duration
		want int
	}{{"all", 30 * 24 * time.Hour, n}, {"day", 24 * time.Hour, n / 30}} {
		b.Run(tc.name, func(b *testing.B) {
			q := store.PostQuery{Tenant: storetest.DefaultTenant, From: benchStart, To: benchStart.Add(tc.span)}
			var got int
			for b.Loop() {
				got = 0
				var chars int
				if err := db.ScanPosts(ctx, q, func(p *admeter.SocialPost) error {
					got++
					chars += len(p.Text)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			if got < tc.want-1 || got > tc.want+1 {
				b.Fatalf("scanned %d records, want %d", got, tc.want)
			}
			b.ReportMetric(float64(got*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
