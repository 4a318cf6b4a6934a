package metatest

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// BenchmarkStore holds tenants' industries and published industry
// benchmark snapshots. RunBenchmarks needs the store open returns to have
// these methods as well as Store's.
type BenchmarkStore interface {
	SetTenantIndustry(ctx context.Context, id admeter.TenantID, industry admeter.Industry) (*admeter.Tenant, error)
	SaveBenchmarks(ctx context.Context, s *admeter.BenchmarkSnapshot) error
	Benchmarks(ctx context.Context, from, to time.Time) (*admeter.BenchmarkSnapshot, error)
	BenchmarkSnapshots(ctx context.Context) ([]*admeter.BenchmarkSnapshot, error)
}

// RunBenchmarks tests tenants' industries and benchmark snapshots.
func RunBenchmarks(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"TenantIndustry", testTenantIndustry},
		{"BenchmarkSnapshots", testBenchmarkSnapshots},
	})
}

// benchmarkDB opens a store and returns it with its benchmark methods.
func benchmarkDB(t *testing.T, open Opener) (*testDB, BenchmarkStore) {
	t.Helper()
	db := openDB(t, open)
	bs, ok := db.Store.(BenchmarkStore)
	if !ok {
		t.Fatalf("%T lacks the benchmark methods (metatest.BenchmarkStore)", db.Store)
	}
	return db, bs
}

func testTenantIndustry(t *testing.T, open Opener) {
	db, bs := benchmarkDB(t, open)
	ctx := t.Context()

	// An industry given at creation is stored; an undefined one is refused.
	a := &admeter.Tenant{Name: "Auto Maker", Kind: admeter.TenantAdvertiser, Industry: admeter.IndustryAutomotive}
	if err := db.CreateTenant(ctx, a, sha256.Sum256([]byte("industry-a"))); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Tenant(ctx, a.ID); err != nil {
		t.Fatal(err)
	} else if got.Industry != admeter.IndustryAutomotive {
		t.Fatalf("industry after create = %q, want automotive", got.Industry)
	}
	bad := &admeter.Tenant{Name: "Bad", Kind: admeter.TenantAdvertiser, Industry: "cars"}
	wantCode(t, db.CreateTenant(ctx, bad, sha256.Sum256([]byte("industry-bad"))), admeter.EINVALID)

	// Set, read back by every path, clear.
	b := mustCreateTenant(t, db, "industry-b")
	if b.Industry != "" {
		t.Fatalf("new tenant industry = %q, want none", b.Industry)
	}
	got, err := bs.SetTenantIndustry(ctx, b.ID, admeter.IndustryGaming)
	if err != nil {
		t.Fatal(err)
	} else if got.Industry != admeter.IndustryGaming || got.ID != b.ID {
		t.Fatalf("SetTenantIndustry = %+v", got)
	}
	if got, err := db.Tenant(ctx, b.ID); err != nil || got.Industry != admeter.IndustryGaming {
		t.Fatalf("Tenant after set = %+v, %v", got, err)
	}
	if got, err := db.TenantByTokenHash(ctx, sha256.Sum256([]byte("token-industry-b"))); err != nil || got.Industry != admeter.IndustryGaming {
		t.Fatalf("TenantByTokenHash after set = %+v, %v", got, err)
	}
	all, err := db.Tenants(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	inds := map[admeter.TenantID]admeter.Industry{}
	for _, x := range all {
		inds[x.ID] = x.Industry
	}
	if want := map[admeter.TenantID]admeter.Industry{a.ID: admeter.IndustryAutomotive, b.ID: admeter.IndustryGaming}; !reflect.DeepEqual(inds, want) {
		t.Fatalf("Tenants industries = %v, want %v", inds, want)
	}
	if got, err := bs.SetTenantIndustry(ctx, b.ID, ""); err != nil || got.Industry != "" {
		t.Fatalf("clear industry = %+v, %v", got, err)
	}
	_, err = bs.SetTenantIndustry(ctx, b.ID, "cars")
	wantCode(t, err, admeter.EINVALID)
	_, err = bs.SetTenantIndustry(ctx, "t_nosuchtenant", admeter.IndustryOther)
	wantCode(t, err, admeter.ENOTFOUND)
	if _, err := db.SetTenantStatus(ctx, a.ID, admeter.TenantClosed, "closed by test"); err != nil {
		t.Fatal(err)
	}
	_, err = bs.SetTenantIndustry(ctx, a.ID, admeter.IndustryOther)
	wantCode(t, err, admeter.ECONFLICT)
}

// day returns a period day as midnight UTC.
func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

func testBenchmarkSnapshots(t *testing.T, open Opener) {
	db, bs := benchmarkDB(t, open)
	ctx := t.Context()
	now := time.Date(2026, 4, 2, 9, 0, 0, 123456789, time.UTC)
	db.SetNow(func() time.Time { return now })

	_, err := bs.Benchmarks(ctx, time.Time{}, time.Time{})
	wantCode(t, err, admeter.ENOTFOUND)
	if list, err := bs.BenchmarkSnapshots(ctx); err != nil || len(list) != 0 {
		t.Fatalf("BenchmarkSnapshots of an empty store = %v, %v", list, err)
	}

	v := func(n int, pooled, p25, p50, p75 float64) admeter.BenchmarkValue {
		return admeter.BenchmarkValue{Tenants: n, Pooled: pooled, P25: p25, P50: p50, P75: p75}
	}
	march := &admeter.BenchmarkSnapshot{From: day(3, 1), To: day(3, 31), MinTenants: 5, MinUsers: 50, MaxShare: 0.3, Withheld: 4,
		Cells: []admeter.BenchmarkCell{
			// Out of order on purpose: the store returns them sorted.
			{Industry: admeter.IndustryGaming, Media: "douyin", Tenants: 6, CTR: v(6, 0.0123456789012345, 0.01, 0.012, 1.0/3),
				ViewableRate: v(5, 0.7, 0.6, 0.65, 0.8), IVTRate: v(6, 0.05, 0.01, 0.02, 0.03), Frequency: v(6, 2.5, 1.5, 2, 3)},
			{Industry: admeter.IndustryAutomotive, Media: "", Tenants: 5, CTR: v(5, 0.02, 0.01, 0.02, 0.03),
				IVTRate: v(5, 0.1, 0.05, 0.1, 0.15), Frequency: v(5, 3, 2, 3, 4)}, // viewable rate withheld
			{Industry: admeter.IndustryGaming, Media: "", Tenants: 7, CTR: v(7, 0.015, 0.011, 0.013, 0.02),
				ViewableRate: v(7, 0.71, 0.61, 0.66, 0.81), IVTRate: v(7, 0.04, 0.02, 0.03, 0.05), Frequency: v(7, 2.4, 1.4, 2.1, 3.1)},
		}}
	if err := bs.SaveBenchmarks(ctx, march); err != nil {
		t.Fatal(err)
	}
	if march.ID == 0 || !march.Published.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("saved snapshot id %d published %v, want an id and %v", march.ID, march.Published, now)
	}
	want := *march
	want.Cells = []admeter.BenchmarkCell{march.Cells[1], march.Cells[2], march.Cells[0]}
	got, err := bs.Benchmarks(ctx, day(3, 1), day(3, 31))
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, &want) {
		t.Fatalf("Benchmarks(March) =\n%+v\nwant\n%+v", got, &want)
	}

	// A republication of March and a snapshot of April: the latest of each
	// period wins; the latest overall is April.
	later := now.Add(time.Hour)
	db.SetNow(func() time.Time { return later })
	march2 := &admeter.BenchmarkSnapshot{From: day(3, 1), To: day(3, 31), MinTenants: 6, MinUsers: 100, MaxShare: 0.25}
	april := &admeter.BenchmarkSnapshot{From: day(4, 1), To: day(4, 30), MinTenants: 5, MinUsers: 50, MaxShare: 0.3,
		Cells: []admeter.BenchmarkCell{{Industry: admeter.IndustryOther, Media: "腾讯视频", Tenants: 5, Frequency: v(5, 1.5, 1.2, 1.4, 1.6)}}}
	for _, s := range []*admeter.BenchmarkSnapshot{march2, april} {
		if err := bs.SaveBenchmarks(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if !(march.ID < march2.ID && march2.ID < april.ID) {
		t.Fatalf("ids %d, %d, %d are not increasing", march.ID, march2.ID, april.ID)
	}
	if got, err := bs.Benchmarks(ctx, day(3, 1), day(3, 31)); err != nil || got.ID != march2.ID || len(got.Cells) != 0 || got.MinUsers != 100 {
		t.Fatalf("Benchmarks(March) after republishing = %+v, %v; want the second, empty snapshot", got, err)
	}
	if got, err := bs.Benchmarks(ctx, time.Time{}, time.Time{}); err != nil || !reflect.DeepEqual(got, april) {
		t.Fatalf("latest = %+v, %v; want April %+v", got, err, april)
	}
	_, err = bs.Benchmarks(ctx, day(3, 1), day(3, 30))
	wantCode(t, err, admeter.ENOTFOUND)

	list, err := bs.BenchmarkSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range list {
		if s.Cells != nil {
			t.Errorf("listed snapshot %d carries cells", s.ID)
		}
		ids = append(ids, s.ID)
	}
	if want := []int64{april.ID, march2.ID, march.ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("BenchmarkSnapshots ids = %v, want %v (newest first)", ids, want)
	}

	wantCode(t, bs.SaveBenchmarks(ctx, &admeter.BenchmarkSnapshot{}), admeter.EINVALID)
	wantCode(t, bs.SaveBenchmarks(ctx, &admeter.BenchmarkSnapshot{From: day(5, 1), To: day(5, 2),
		Cells: []admeter.BenchmarkCell{{Industry: "cars"}}}), admeter.EINVALID)
}
