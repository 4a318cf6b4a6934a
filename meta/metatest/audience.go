package metatest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// AudienceLedger is the privacy ledger of audience insight (what package
// insight consumes as its Ledger).
type AudienceLedger interface {
	AudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string) ([]byte, error)
	AudienceReleases(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) ([][]byte, error)
	RecordAudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string,
		from, to time.Time, epsilonMilli, budgetMilli int64, record []byte) ([]byte, error)
	AudienceBudgetSpent(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID) (int64, error)
}

// RunAudienceLedger tests the privacy ledger of audience insight. The store
// open returns must also be an AudienceLedger.
func RunAudienceLedger(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"RecordAndRead", testAudienceLedger},
		{"Budget", testAudienceBudget},
		{"ConcurrentCharges", testAudienceConcurrentCharges},
	})
}

// ledgerOf returns db's ledger, or fails the test.
func ledgerOf(tb testing.TB, db *testDB) AudienceLedger {
	tb.Helper()
	l, ok := db.Store.(AudienceLedger)
	if !ok {
		tb.Fatalf("%T has no audience ledger methods", db.Store)
	}
	return l
}

// march returns midnight UTC of 2026-03-d.
func march(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }

// testAudienceLedger proves that a release is filed and read back byte for
// byte, that a second release under the same key returns the first one
// and charges nothing, that releases are found by overlapping range only,
// and that another tenant sees none of them.
func testAudienceLedger(t *testing.T, open Opener) {
	db := openDB(t, open)
	l := ledgerOf(t, db)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	other := mustCreateTenant(t, db, "Other")
	c := mustCreateCampaign(t, db, adv.ID, "Spring", 1)
	before := mustVersion(t, db)

	if _, err := l.AudienceRelease(ctx, adv.ID, c.ID, "k1"); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("AudienceRelease before any: %v, want ENOTFOUND", err)
	}
	first := []byte(`{"v":1,"answer":{"reach":120}}`)
	got, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k1", march(1), march(8), 500, 5000, first)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(first) {
		t.Errorf("RecordAudienceRelease = %s, want %s", got, first)
	}
	// The same key again: the first record back, no second charge.
	got, err = l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k1", march(1), march(8), 500, 5000, []byte(`{"v":1,"answer":{"reach":999}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(first) {
		t.Errorf("second release under the same key = %s, want the first %s", got, first)
	}
	if spent, err := l.AudienceBudgetSpent(ctx, adv.ID, c.ID); err != nil || spent != 500 {
		t.Errorf("AudienceBudgetSpent = %d, %v; want 500 (charged once)", spent, err)
	}
	if got, err := l.AudienceRelease(ctx, adv.ID, c.ID, "k1"); err != nil || string(got) != string(first) {
		t.Errorf("AudienceRelease = %s, %v; want %s", got, err, first)
	}
	if _, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k2", march(10), march(12), 0, 5000, []byte(`{"v":1,"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if v := mustVersion(t, db); v != before {
		t.Errorf("change counter moved from %d to %d: releases are not catalog changes", before, v)
	}

	ranges := []struct {
		from, to time.Time
		want     int
	}{
		{march(1), march(8), 1},
		{march(7), march(9), 1},  // overlaps the first
		{march(8), march(10), 0}, // touches both, overlaps neither
		{march(5), march(11), 2},
		{march(20), march(21), 0},
	}
	for _, r := range ranges {
		got, err := l.AudienceReleases(ctx, adv.ID, c.ID, r.from, r.to)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != r.want {
			t.Errorf("AudienceReleases [%s, %s) = %d releases, want %d", r.from.Format(time.DateOnly), r.to.Format(time.DateOnly), len(got), r.want)
		}
	}

	// Another tenant: nothing found, nothing filed, nothing charged.
	if _, err := l.AudienceRelease(ctx, other.ID, c.ID, "k1"); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("another tenant's AudienceRelease: %v, want ENOTFOUND", err)
	}
	if got, err := l.AudienceReleases(ctx, other.ID, c.ID, march(1), march(30)); err != nil || len(got) != 0 {
		t.Errorf("another tenant's AudienceReleases = %d, %v; want none", len(got), err)
	}
	if _, err := l.RecordAudienceRelease(ctx, other.ID, c.ID, "k3", march(1), march(2), 0, 5000, []byte(`{}`)); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("filing on another tenant's campaign: %v, want ENOTFOUND", err)
	}
	if spent, err := l.AudienceBudgetSpent(ctx, other.ID, c.ID); err != nil || spent != 0 {
		t.Errorf("another tenant's AudienceBudgetSpent = %d, %v; want 0", spent, err)
	}
	if _, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k4", march(2), march(1), 0, 5000, []byte(`{}`)); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("an empty range: %v, want EINVALID", err)
	}
}

// testAudienceBudget proves that a charge past the budget is refused and
// files nothing, that the budget is per campaign, and that a charge that
// exactly fills it is accepted.
func testAudienceBudget(t *testing.T, open Opener) {
	db := openDB(t, open)
	l := ledgerOf(t, db)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	c := mustCreateCampaign(t, db, adv.ID, "Spring", 1)
	d := mustCreateCampaign(t, db, adv.ID, "Summer", 1)
	for i, eps := range []int64{2000, 2500} {
		if _, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, fmt.Sprint("k", i), march(1), march(2), eps, 5000, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k-over", march(1), march(3), 600, 5000, []byte(`{}`))
	if admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("charge past the budget: %v, want ECONFLICT", err)
	}
	if _, err := l.AudienceRelease(ctx, adv.ID, c.ID, "k-over"); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("a refused release was filed: %v", err)
	}
	if _, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k-fill", march(1), march(3), 500, 5000, []byte(`{}`)); err != nil {
		t.Errorf("a charge that fills the budget exactly: %v", err)
	}
	// Releases without noise cost nothing and are filed when it is spent.
	if _, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, "k-free", march(1), march(3), 0, 5000, []byte(`{}`)); err != nil {
		t.Errorf("a release without charge on a spent budget: %v", err)
	}
	if spent, err := l.AudienceBudgetSpent(ctx, adv.ID, c.ID); err != nil || spent != 5000 {
		t.Errorf("spent = %d, %v; want 5000", spent, err)
	}
	if _, err := l.RecordAudienceRelease(ctx, adv.ID, d.ID, "k0", march(1), march(2), 4000, 5000, []byte(`{}`)); err != nil {
		t.Errorf("another campaign's budget is its own: %v", err)
	}
}

// testAudienceConcurrentCharges proves that concurrent charges (as from
// several admeter processes) never spend more than the budget.
func testAudienceConcurrentCharges(t *testing.T, open Opener) {
	db := openDB(t, open)
	l := ledgerOf(t, db)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	c := mustCreateCampaign(t, db, adv.ID, "Spring", 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 12 {
		wg.Go(func() {
			_, err := l.RecordAudienceRelease(ctx, adv.ID, c.ID, fmt.Sprint("k", i), march(1), march(2), 1000, 5000, []byte(`{}`))
			switch admeter.ErrorCode(err) {
			case "":
				mu.Lock()
				ok++
				mu.Unlock()
			case admeter.ECONFLICT:
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 5 {
		t.Errorf("%d charges of 1 against a budget of 5 were accepted, want 5", ok)
	}
	if spent, err := l.AudienceBudgetSpent(ctx, adv.ID, c.ID); err != nil || spent != 5000 {
		t.Errorf("spent = %d, %v; want 5000", spent, err)
	}
}
