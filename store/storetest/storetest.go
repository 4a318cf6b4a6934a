package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Run runs the conformance suite: one subtest per rule, each on a fresh,
// empty store from open. open must register the store's Close with
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"OffsetEmpty", testOffsetEmpty},
		{"OffsetExactlyOnce", testOffsetExactlyOnce},
		{"InsertInvalid", testInsertInvalid},
		{"InsertKeepsFields", testInsertKeepsFields},
		{"PositionsEmpty", testPositionsEmpty},
		{"PositionsRoundTrip", testPositionsRoundTrip},
		{"PositionsConflict", testPositionsConflict},
		{"PositionsInterleaved", testPositionsInterleaved},
		{"PositionsEmptyEvents", testPositionsEmptyEvents},
		{"InsertFromReported", testInsertFromReported},
		{"InsertFromInvalid", testInsertFromInvalid},
		{"ServedNotCounted", testServedNotCounted},
		{"DedupImpressionID", testDedupImpressionID},
		{"DedupFirstByEventTime", testDedupFirstByEventTime},
		{"DedupWithinRange", testDedupWithinRange},
		{"UsersAndAnonymous", testUsersAndAnonymous},
		{"ByDayShanghai", testByDayShanghai},
		{"ByHourShanghai", testByHourShanghai},
		{"ByDayNewYorkDST", testByDayNewYorkDST},
		{"ByHourNewYorkDST", testByHourNewYorkDST},
		{"ByPlacement", testByPlacement},
		{"ByMedia", testByMedia},
		{"ByRegion", testByRegion},
		{"ByOSDevice", testByOSDevice},
		{"ManyDimsSorted", testManyDimsSorted},
		{"TotalUVDistinct", testTotalUVDistinct},
		{"HalfOpenRange", testHalfOpenRange},
		{"TenantIsolation", testTenantIsolation},
		{"EmptyReport", testEmptyReport},
		{"InvalidQueries", testInvalidQueries},
		{"Frequency", testFrequency},
		{"FrequencyEmpty", testFrequencyEmpty},
		{"FrequencyDedup", testFrequencyDedup},
		{"Placements", testPlacements},
		{"PlacementsGenerated", testPlacementsGenerated},
		{"Rollups", testRollups},
		{"RollupsRefresh", testRollupsRefresh},
		{"DeleteBefore", testDeleteBefore},
		{"DeleteUsers", testDeleteUsers},
		{"DeleteTenant", testDeleteTenant},
		{"RecentEvents", testRecentEvents},
		{"DeleteUsersRollups", testDeleteUsersRollups},
		{"UserEvents", testUserEvents},
		{"RawDays", testRawDays},
		{"KeyVersions", testKeyVersions},
		{"RollupsOutliveRetention", testRollupsOutliveRetention},
		{"IVTReport", testIVTReport},
		{"IVTByReason", testIVTByReason},
		{"IVTUnknownReason", testIVTUnknownReason},
		{"IVTDedup", testIVTDedup},
		{"IVTFrequency", testIVTFrequency},
		{"IVTRollups", testIVTRollups},
		{"IVTBadFilter", testIVTBadFilter},
		{"IVTGenerated", testIVTGenerated},
		{"JudgeBehaviour", testJudgeBehaviour},
		{"InvalidSamples", testInvalidSamples},
		{"Concurrent", testConcurrent},
		{"Viewability", testViewability},
		{"ViewabilityShanghai", testViewabilityShanghai},
		{"VideoPlays", testVideoPlays},
		{"Attribution", testAttribution},
		{"NewFields", testNewFields},
		{"AudienceBaseline", testAudienceBaseline},
		{"AudienceLatest", testAudienceLatest},
		{"AudienceInterests", testAudienceInterests},
		{"AudienceMaxInterests", testAudienceMaxInterests},
		{"AudiencePlacements", testAudiencePlacements},
		{"AudienceEmpty", testAudienceEmpty},
		{"AudienceInvalid", testAudienceInvalid},
		{"ReachSets", testReachSets},
		{"ReachSetsWaste", testReachSetsWaste},
		{"ReachSetsFrequency", testReachSetsFrequency},
		{"ReachSetsTenants", testReachSetsTenants},
		{"ReachSetsEmpty", testReachSetsEmpty},
		{"ReachSetsInvalid", testReachSetsInvalid},
		{"SocialRoundTrip", testSocialRoundTrip},
		{"SocialIdempotent", testSocialIdempotent},
		{"SocialInvalid", testSocialInvalid},
		{"SocialScan", testSocialScan},
		{"SocialScanStop", testSocialScanStop},
		{"SocialUserPosts", testSocialUserPosts},
		{"SocialDeleteBefore", testSocialDeleteBefore},
		{"SocialDeleteUsers", testSocialDeleteUsers},
		{"SocialDeleteTenant", testSocialDeleteTenant},
		{"SocialKeyVersions", testSocialKeyVersions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// RunReopen checks that the offset, the events and the rollups survive
// closing a store and opening it again at the same path, and (in subtest
// Positions, on another path) that the positions InsertFrom recorded do
// too. open opens the store at path (in a directory of the test's own);
// the suite closes every store it opens itself.
func RunReopen(t *testing.T, open func(t *testing.T, path string) store.Store) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "store")
	t.Run("Positions", func(t *testing.T) { reopenPositions(t, open, filepath.Join(dir, "positions")) })
	base := utc("2026-03-02T01:00:00Z")
	shanghai := mustLoad(t, "Asia/Shanghai")
	q := store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: base.Add(-time.Hour), To: base.Add(48 * time.Hour), Location: shanghai}
	day := store.DateOf(base.In(shanghai))

	s := open(t, path)
	Insert(t, s, 5, Imp(base, User(1), VF(1)), Imp(base.Add(time.Minute), User(2)), Click(base.Add(2*time.Minute), User(1)))
	Insert(t, s, 9, Imp(base.Add(25*time.Hour), User(3), Details()))
	if err := s.RefreshRollups(ctx, DefaultTenant, DefaultCampaign, shanghai, []store.Date{day}); err != nil {
		t.Fatalf("RefreshRollups: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if got, err := s.Offset(ctx); err != nil || got != 9 {
		t.Fatalf("Offset after reopen = %d, %v; want 9", got, err)
	}
	checkReport(t, s, q, store.ReportResult{Total: store.Counts{Impressions: 3, Clicks: 1, UV: 3, ClickUV: 1}})
	daily, err := s.Daily(ctx, store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: day})
	if err != nil {
		t.Fatalf("Daily: %v", err)
	}
	wantDaily := []store.DailyRow{{Day: day, Placement: DefaultPlacement, Counts: store.Counts{Impressions: 2, Clicks: 1, UV: 2, ClickUV: 1}}}
	if !reflect.DeepEqual(daily, wantDaily) {
		t.Errorf("Daily after reopen = %+v, want %+v", daily, wantDaily)
	}
	if err := s.Insert(ctx, []admeter.Event{Imp(base, User(9))}, 9); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("Insert at the recorded offset after reopen: %v, want ECONFLICT", err)
	}
	Insert(t, s, 10, Imp(base, User(9)))
	checkReport(t, s, q, store.ReportResult{Total: store.Counts{Impressions: 4, Clicks: 1, UV: 4, ClickUV: 1}})

	// The retention cut survives reopening too: a refresh of a day before
	// it after reopening keeps the day's rollup.
	deleteBefore(t, s, base.Add(time.Hour), 4)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = open(t, path)
	if err := s.RefreshRollups(ctx, DefaultTenant, DefaultCampaign, shanghai, []store.Date{day}); err != nil {
		t.Fatalf("RefreshRollups: %v", err)
	}
	daily, err = s.Daily(ctx, store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: day})
	if err != nil {
		t.Fatalf("Daily: %v", err)
	}
	if !reflect.DeepEqual(daily, wantDaily) {
		t.Errorf("Daily after the cut and reopening = %+v, want %+v", daily, wantDaily)
	}
}

// report runs q and fails t on error.
func report(t *testing.T, s store.Store, q store.ReportQuery) *store.ReportResult {
	t.Helper()
	r, err := s.Report(context.Background(), q)
	if err != nil {
		t.Fatalf("Report(%s): %v", describe(q), err)
	}
	return r
}

// checkReport runs q and compares the result with want.
func checkReport(t *testing.T, s store.Store, q store.ReportQuery, want store.ReportResult) {
	t.Helper()
	got := report(t, s, q)
	if len(got.Rows) == 0 && len(want.Rows) == 0 {
		got.Rows, want.Rows = nil, nil
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Report(%s):\ngot:\n%s\nwant:\n%s", describe(q), formatReport(got), formatReport(&want))
	}
}

func describe(q store.ReportQuery) string {
	loc := "<nil>"
	if q.Location != nil {
		loc = q.Location.String()
	}
	d := fmt.Sprintf("%s/%s [%s, %s) %s by %v", q.Tenant, q.Campaign, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), loc, q.By)
	if len(q.Placements) > 0 {
		d += fmt.Sprintf(" of placements %q", q.Placements)
	}
	return d + " filter " + q.Filter.String()
}

func formatReport(r *store.ReportResult) string {
	var b strings.Builder
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  %q %+v\n", row.Dims, row.Counts)
	}
	fmt.Fprintf(&b, "  total %+v anonymous %d/%d", r.Total, r.AnonymousImpressions, r.AnonymousClicks)
	return b.String()
}

// row returns a report row.
func row(imps, clicks, uv, clickUV int64, dims ...string) store.ReportRow {
	return store.ReportRow{Dims: dims, Counts: store.Counts{Impressions: imps, Clicks: clicks, UV: uv, ClickUV: clickUV}}
}

// counts returns Counts.
func counts(imps, clicks, uv, clickUV int64) store.Counts {
	return store.Counts{Impressions: imps, Clicks: clicks, UV: uv, ClickUV: clickUV}
}

// wideQuery returns a UTC query of the default campaign covering 2026.
func wideQuery(by ...store.Dimension) store.ReportQuery {
	return store.ReportQuery{
		Tenant: DefaultTenant, Campaign: DefaultCampaign,
		From: utc("2026-01-01T00:00:00Z"), To: utc("2027-01-01T00:00:00Z"),
		Location: time.UTC, By: by,
	}
}
