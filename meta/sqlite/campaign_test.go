package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
)

// mustSeed creates n campaigns of 5 placements for one tenant and returns
// the tenant and the last campaign.
func mustSeed(tb testing.TB, db *sqlite.DB, n int) (*admeter.Tenant, *admeter.Campaign) {
	tb.Helper()
	tenant := MustCreateTenant(tb, db, "Acme")
	var c *admeter.Campaign
	for i := range n {
		c = newCampaign(tenant.ID, fmt.Sprintf("campaign %d", i), 5)
		if err := db.CreateCampaign(context.Background(), c); err != nil {
			tb.Fatal(err)
		}
	}
	return tenant, c
}

func BenchmarkCreateCampaign(b *testing.B) {
	db := MustOpenDB(b)
	tenant := MustCreateTenant(b, db, "Acme")
	b.ReportAllocs()
	for b.Loop() {
		if err := db.CreateCampaign(b.Context(), newCampaign(tenant.ID, "Spring", 5)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCampaign(b *testing.B) {
	db := MustOpenDB(b)
	tenant, c := mustSeed(b, db, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Campaign(b.Context(), tenant.ID, c.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCampaign_Parallel(b *testing.B) {
	db := MustOpenDB(b)
	tenant, c := mustSeed(b, db, 200)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Campaign(context.Background(), tenant.ID, c.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAllCampaigns(b *testing.B) {
	db := MustOpenDB(b)
	mustSeed(b, db, 1000)
	b.ReportAllocs()
	for b.Loop() {
		cs, err := db.AllCampaigns(b.Context())
		if err != nil {
			b.Fatal(err)
		} else if len(cs) != 1000 {
			b.Fatalf("%d campaigns", len(cs))
		}
	}
}

func BenchmarkVersion(b *testing.B) {
	db := MustOpenDB(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Version(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
