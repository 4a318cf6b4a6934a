package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// The other tenant, its campaign and placements of the audience tests.
const (
	otherTenant    admeter.TenantID    = "t2"
	otherCampaign  admeter.CampaignID  = "20000001"
	otherPlacement admeter.PlacementID = "q1"
)

// elsewhere makes the event one of the other tenant's campaign, on
// placement p ("" for otherPlacement).
func elsewhere(p admeter.PlacementID) Opt {
	if p == "" {
		p = otherPlacement
	}
	return func(e *admeter.Event) { e.Tenant, e.Campaign, e.Placement = otherTenant, otherCampaign, p }
}

// geo sets the event's region, operating system and device type.
func geo(country, province string, o admeter.OS, d admeter.DeviceType) Opt {
	return func(e *admeter.Event) {
		e.Region.Country, e.Region.Province = country, province
		e.OS, e.DeviceType = o, d
	}
}

// march returns 2026-03-day 00:00 UTC plus d.
func march(day int, d time.Duration) time.Time {
	return time.Date(2026, 3, day, 0, 0, 0, 0, time.UTC).Add(d)
}

// audienceQuery returns the audience query of the default campaign over
// [March 10, March 12) UTC with no categories, InterestDays 1, no
// lookback and MaxInterests 5.
func audienceQuery() store.AudienceQuery {
	return store.AudienceQuery{
		Tenant: DefaultTenant, Campaign: DefaultCampaign,
		From: march(10, 0), To: march(12, 0),
		InterestDays: 1, MaxInterests: 5,
	}
}

// cell returns an audience cell.
func cell(dim, value string, users, baseline int64) store.AudienceCell {
	return store.AudienceCell{Dimension: dim, Value: value, Users: users, BaselineUsers: baseline}
}

// unknownCells are the region, OS and device cells of users events left
// without them, of whom baseline in the baseline.
func unknownCells(users, baseline int64) []store.AudienceCell {
	return []store.AudienceCell{
		cell(store.AudienceDevice, "unknown", users, baseline),
		cell(store.AudienceOS, "unknown", users, baseline),
		cell(store.AudienceRegion, "", users, baseline),
	}
}

// withInterests returns the cells of unknownCells(users, baseline) with
// interest cells in their place (after device, before os).
func withInterests(users, baseline int64, interests ...store.AudienceCell) []store.AudienceCell {
	u := unknownCells(users, baseline)
	return append(append(u[:1:1], interests...), u[1:]...)
}

// checkAudience runs q and compares the result with want (nil and empty
// Cells alike).
func checkAudience(t *testing.T, s store.Store, name string, q store.AudienceQuery, want store.AudienceResult) {
	t.Helper()
	got, err := s.Audience(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: Audience: %v", name, err)
	}
	if len(got.Cells) == 0 && len(want.Cells) == 0 {
		got.Cells, want.Cells = nil, nil
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("%s: Audience(%s/%s [%s, %s) of placements %q, %d days in %s, max %d):\ngot:\n%s\nwant:\n%s", name,
			q.Tenant, q.Campaign, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), q.Placements,
			q.InterestDays, q.InterestLookback, q.MaxInterests, formatAudience(got), formatAudience(&want))
	}
}

func formatAudience(r *store.AudienceResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  reach %d baseline %d\n", r.Reach, r.Baseline)
	for _, c := range r.Cells {
		fmt.Fprintf(&b, "  %s %q: %d of %d\n", c.Dimension, c.Value, c.Users, c.BaselineUsers)
	}
	return b.String()
}

// testAudienceBaseline: the audience is the users with a valid impression
// of the campaign in the range; the baseline, those with a valid
// impression of any tenant's campaign. Invalid impressions, served
// events, clicks, anonymous impressions and events outside the range do
// not count; a campaign of another tenant with the same id is another
// campaign.
func testAudienceBaseline(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		Imp(march(10, 10*time.Hour), User(1), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(11, 9*time.Hour), User(2), geo("US", "", admeter.OSIOS, admeter.DevicePhone)),
		Imp(march(10, 12*time.Hour), User(3), elsewhere(""), geo("CN", "北京", admeter.OSAndroid, admeter.DeviceTablet)),
		Imp(march(11, 12*time.Hour), User(4), Campaign("10000002"), geo("JP", "", admeter.OSIOS, admeter.DeviceTablet)),
		// User 5: invalid on the campaign, valid elsewhere.
		Imp(march(10, 13*time.Hour), User(5), IVT(admeter.IVTCrawler), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(10, 14*time.Hour), User(5), elsewhere(""), geo("US", "", admeter.OSWindows, admeter.DeviceDesktop)),
		// User 6: served and clicked, never an impression.
		Served(march(10, 10*time.Hour), User(6), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Click(march(10, 11*time.Hour), User(6), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		// User 7: just outside the range on both sides.
		Imp(march(12, 0), User(7)), Imp(march(10, -time.Millisecond), User(7), elsewhere("")),
		// Anonymous.
		Imp(march(10, 10*time.Hour), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(10, 10*time.Hour), elsewhere(""), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		// User 8: the other tenant's campaign with the same id.
		Imp(march(10, 15*time.Hour), User(8), Tenant(otherTenant), Placement("q2"), geo("CN", "广东", admeter.OSHarmonyOS, admeter.DevicePhone)),
	)
	q := audienceQuery()
	checkAudience(t, s, "default campaign", q, store.AudienceResult{
		Reach: 2, Baseline: 6,
		Cells: []store.AudienceCell{
			cell(store.AudienceDevice, "desktop", 0, 1),
			cell(store.AudienceDevice, "phone", 2, 3),
			cell(store.AudienceDevice, "tablet", 0, 2),
			cell(store.AudienceOS, "android", 1, 2),
			cell(store.AudienceOS, "harmonyos", 0, 1),
			cell(store.AudienceOS, "ios", 1, 2),
			cell(store.AudienceOS, "windows", 0, 1),
			cell(store.AudienceRegion, "JP", 0, 1),
			cell(store.AudienceRegion, "US", 1, 2),
			cell(store.AudienceRegion, "北京", 0, 1),
			cell(store.AudienceRegion, "广东", 1, 2),
		},
	})
	q.Tenant = otherTenant
	checkAudience(t, s, "other tenant's campaign of the same id", q, store.AudienceResult{
		Reach: 1, Baseline: 6,
		Cells: []store.AudienceCell{
			cell(store.AudienceDevice, "desktop", 0, 1),
			cell(store.AudienceDevice, "phone", 1, 3),
			cell(store.AudienceDevice, "tablet", 0, 2),
			cell(store.AudienceOS, "android", 0, 2),
			cell(store.AudienceOS, "harmonyos", 1, 1),
			cell(store.AudienceOS, "ios", 0, 2),
			cell(store.AudienceOS, "windows", 0, 1),
			cell(store.AudienceRegion, "JP", 0, 1),
			cell(store.AudienceRegion, "US", 0, 2),
			cell(store.AudienceRegion, "北京", 0, 1),
			cell(store.AudienceRegion, "广东", 1, 2),
		},
	})
}

// testAudienceLatest: a user's region, OS and device are those of its
// latest valid impression in the range by event time (ties by receive
// time): of the campaign for the audience, of any campaign for the
// baseline. China without a province is the unknown region.
func testAudienceLatest(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		Imp(march(10, 10*time.Hour), User(1), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(10, 12*time.Hour), User(1), geo("CN", "上海", admeter.OSIOS, admeter.DeviceTablet)),
		Imp(march(10, 13*time.Hour), User(1), elsewhere(""), geo("US", "", admeter.OSWindows, admeter.DeviceDesktop)),
		Imp(march(10, 14*time.Hour), User(1), IVT(admeter.IVTDataCentre), geo("JP", "", admeter.OSLinux, admeter.DeviceDesktop)),
		Served(march(10, 15*time.Hour), User(1), geo("KR", "", admeter.OSMacOS, admeter.DeviceDesktop)),
		Click(march(10, 16*time.Hour), User(1), geo("KR", "", admeter.OSMacOS, admeter.DeviceDesktop)),
		Imp(march(12, 0), User(1), elsewhere(""), geo("DE", "", admeter.OSMacOS, admeter.DeviceDesktop)),
		// User 2: two impressions at the same time, the later received
		// inserted first; an earlier impression received later still.
		Imp(march(11, 10*time.Hour), User(2), Received(march(11, 10*time.Hour+5*time.Second)), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(11, 10*time.Hour), User(2), Received(march(11, 10*time.Hour+time.Second)), geo("CN", "北京", admeter.OSIOS, admeter.DeviceTablet)),
		Imp(march(10, 9*time.Hour), User(2), Received(march(11, 11*time.Hour)), geo("FR", "", admeter.OSWindows, admeter.DeviceDesktop)),
		// User 3: China without a province, unknown OS and device.
		Imp(march(11, 0), User(3), geo("CN", "", admeter.OSUnknown, admeter.DeviceUnknown)),
	)
	checkAudience(t, s, "latest", audienceQuery(), store.AudienceResult{
		Reach: 3, Baseline: 3,
		Cells: []store.AudienceCell{
			cell(store.AudienceDevice, "desktop", 0, 1),
			cell(store.AudienceDevice, "phone", 1, 1),
			cell(store.AudienceDevice, "tablet", 1, 0),
			cell(store.AudienceDevice, "unknown", 1, 1),
			cell(store.AudienceOS, "android", 1, 1),
			cell(store.AudienceOS, "ios", 1, 0),
			cell(store.AudienceOS, "unknown", 1, 1),
			cell(store.AudienceOS, "windows", 0, 1),
			cell(store.AudienceRegion, "", 1, 1),
			cell(store.AudienceRegion, "US", 0, 1),
			cell(store.AudienceRegion, "上海", 1, 0),
			cell(store.AudienceRegion, "广东", 1, 1),
		},
	})
}

// testAudienceInterests: a user holds an interest in a category with
// valid impressions on placements of it, of any tenant, on at least
// InterestDays distinct UTC days in [From-InterestLookback, To); only the
// users of the audience and the baseline count.
func testAudienceInterests(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		// User 1, of the campaign: "1" on March 3 (the lookback's first
		// instant), 5 and 10; "483" on 2 days in the window (and before
		// it, and at To); "596" once valid, else invalid, served or
		// clicked.
		Imp(march(10, 10*time.Hour), User(1), Placement("pa")),
		Imp(march(3, 0), User(1), elsewhere("pa")),
		Imp(march(5, 8*time.Hour), User(1), elsewhere("pa")),
		Imp(march(2, 24*time.Hour-time.Millisecond), User(1), elsewhere("ps")),
		Imp(march(4, 10*time.Hour), User(1), elsewhere("ps")),
		Imp(march(4, 20*time.Hour), User(1), elsewhere("ps")),
		Imp(march(6, 0), User(1), elsewhere("ps")),
		Imp(march(12, 0), User(1), Placement("ps")),
		Imp(march(4, 0), User(1), elsewhere("pt"), IVT(admeter.IVTCrawler)),
		Imp(march(5, 0), User(1), elsewhere("pt"), IVT(admeter.IVTCrawler)),
		Imp(march(6, 0), User(1), elsewhere("pt"), IVT(admeter.IVTCrawler)),
		Served(march(7, 0), User(1), elsewhere("pt")),
		Served(march(8, 0), User(1), elsewhere("pt")),
		Imp(march(9, 0), User(1), elsewhere("pt")),
		Click(march(10, 0), User(1), elsewhere("pt")),
		// User 2, of the baseline only: "1" and "600" on March 8, 9, 11.
		Imp(march(8, time.Hour), User(2), elsewhere("pm")),
		Imp(march(9, time.Hour), User(2), elsewhere("pm")),
		Imp(march(11, time.Hour), User(2), elsewhere("pm")),
		// User 3: interested, but no impression in the range.
		Imp(march(3, time.Hour), User(3), elsewhere("pa")),
		Imp(march(4, time.Hour), User(3), elsewhere("pa")),
		Imp(march(5, time.Hour), User(3), elsewhere("pa")),
		// User 4, of the campaign: "1" and "600" on UTC days March 5, 6
		// (an hour apart, one day in Shanghai) and 11.
		Imp(march(10, 0), User(4)),
		Imp(march(5, 23*time.Hour+30*time.Minute), User(4), elsewhere("pm")),
		Imp(march(6, 30*time.Minute), User(4), elsewhere("pm")),
		Imp(march(11, 0), User(4), elsewhere("pm")),
		// User 5, of the campaign: "1" on 2 days in the window (and one
		// before it).
		Imp(march(10, time.Hour), User(5), Placement("pa")),
		Imp(march(11, time.Hour), User(5), Placement("pa")),
		Imp(march(2, time.Hour), User(5), Placement("pa")),
	)
	cats := map[admeter.PlacementID][]string{
		"pa": {"1"}, "ps": {"483"}, "pm": {"1", "600"}, "pt": {"596"}, "never-seen": {"1"},
	}
	week := 7 * 24 * time.Hour
	tests := []struct {
		name      string
		days      int
		lookback  time.Duration
		interests []store.AudienceCell
	}{
		{"3 days in a week", 3, week, []store.AudienceCell{
			cell(store.AudienceInterest, "1", 2, 3), cell(store.AudienceInterest, "600", 1, 2),
		}},
		{"3 days in a week but a millisecond", 3, week - time.Millisecond, []store.AudienceCell{
			cell(store.AudienceInterest, "1", 1, 2), cell(store.AudienceInterest, "600", 1, 2),
		}},
		{"2 days in a week", 2, week, []store.AudienceCell{
			cell(store.AudienceInterest, "1", 3, 4), cell(store.AudienceInterest, "483", 1, 1), cell(store.AudienceInterest, "600", 1, 2),
		}},
		{"1 day in the range", 1, 0, []store.AudienceCell{
			cell(store.AudienceInterest, "1", 3, 4), cell(store.AudienceInterest, "600", 1, 2),
		}},
		{"4 days in a week", 4, week, nil},
	}
	for _, tt := range tests {
		q := audienceQuery()
		q.Categories, q.InterestDays, q.InterestLookback = cats, tt.days, tt.lookback
		checkAudience(t, s, tt.name, q, store.AudienceResult{Reach: 3, Baseline: 4, Cells: withInterests(3, 4, tt.interests...)})
	}
	// Without categories, no interests.
	checkAudience(t, s, "no categories", audienceQuery(), store.AudienceResult{Reach: 3, Baseline: 4, Cells: unknownCells(3, 4)})
}

// testAudienceMaxInterests: a user holding more than MaxInterests
// interests keeps those with the most days, ties by category id
// ascending (as strings: "10" before "2").
func testAudienceMaxInterests(t *testing.T, s store.Store) {
	var evs []admeter.Event
	imps := func(user int, p admeter.PlacementID, days ...int) {
		for _, d := range days {
			evs = append(evs, Imp(march(d, time.Hour), User(user), elsewhere(p)))
		}
	}
	// User 1, of the campaign: "7" 3 days, "10" and "2" 2 days, "3" 1.
	evs = append(evs, Imp(march(10, 0), User(1)))
	imps(1, "pa", 5, 6, 7)
	imps(1, "pb", 5, 6)
	imps(1, "pc", 8, 9)
	imps(1, "pd", 9)
	// User 2, of the campaign: "2" and "3" a day each.
	evs = append(evs, Imp(march(11, 0), User(2)))
	imps(2, "pc", 5)
	imps(2, "pd", 5)
	// User 3, of the baseline only: "2", "3" and "7" 3 days each.
	evs = append(evs, Imp(march(10, 0), User(3), elsewhere("")))
	imps(3, "pd", 4, 5, 6)
	imps(3, "pc", 4, 5, 6)
	imps(3, "pa", 4, 5, 6)
	Insert(t, s, 1, evs...)

	cats := map[admeter.PlacementID][]string{"pa": {"7"}, "pb": {"10"}, "pc": {"2", "2"}, "pd": {"3"}}
	tests := []struct {
		max       int
		interests []store.AudienceCell
	}{
		{1, []store.AudienceCell{cell(store.AudienceInterest, "2", 1, 2), cell(store.AudienceInterest, "7", 1, 1)}},
		{2, []store.AudienceCell{
			cell(store.AudienceInterest, "10", 1, 1), cell(store.AudienceInterest, "2", 1, 2),
			cell(store.AudienceInterest, "3", 1, 2), cell(store.AudienceInterest, "7", 1, 1),
		}},
		{10, []store.AudienceCell{
			cell(store.AudienceInterest, "10", 1, 1), cell(store.AudienceInterest, "2", 2, 3),
			cell(store.AudienceInterest, "3", 2, 3), cell(store.AudienceInterest, "7", 1, 2),
		}},
	}
	for _, tt := range tests {
		q := audienceQuery()
		q.Categories, q.InterestLookback, q.MaxInterests = cats, 10*24*time.Hour, tt.max
		checkAudience(t, s, fmt.Sprintf("at most %d", tt.max), q, store.AudienceResult{Reach: 2, Baseline: 3, Cells: withInterests(2, 3, tt.interests...)})
	}
}

// testAudiencePlacements: a query naming placements reaches the users of
// those placements, with the region, OS and device of their latest
// impression there; the baseline and the interests do not depend on it.
func testAudiencePlacements(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		Imp(march(10, 10*time.Hour), User(1), geo("CN", "广东", admeter.OSAndroid, admeter.DevicePhone)),
		Imp(march(10, 11*time.Hour), User(2), Placement("p2"), geo("CN", "北京", admeter.OSIOS, admeter.DevicePhone)),
		Imp(march(10, 9*time.Hour), User(3), Placement("p2"), geo("US", "", admeter.OSAndroid, admeter.DeviceTablet)),
		Imp(march(10, 12*time.Hour), User(3), geo("JP", "", admeter.OSIOS, admeter.DeviceTablet)),
	)
	all := store.AudienceResult{Reach: 3, Baseline: 3, Cells: []store.AudienceCell{
		cell(store.AudienceDevice, "phone", 2, 2),
		cell(store.AudienceDevice, "tablet", 1, 1),
		cell(store.AudienceInterest, "1", 2, 2),
		cell(store.AudienceOS, "android", 1, 1),
		cell(store.AudienceOS, "ios", 2, 2),
		cell(store.AudienceRegion, "JP", 1, 1),
		cell(store.AudienceRegion, "北京", 1, 1),
		cell(store.AudienceRegion, "广东", 1, 1),
	}}
	none := store.AudienceResult{Reach: 0, Baseline: 3, Cells: []store.AudienceCell{
		cell(store.AudienceDevice, "phone", 0, 2),
		cell(store.AudienceDevice, "tablet", 0, 1),
		cell(store.AudienceInterest, "1", 0, 2),
		cell(store.AudienceOS, "android", 0, 1),
		cell(store.AudienceOS, "ios", 0, 2),
		cell(store.AudienceRegion, "JP", 0, 1),
		cell(store.AudienceRegion, "北京", 0, 1),
		cell(store.AudienceRegion, "广东", 0, 1),
	}}
	tests := []struct {
		placements []admeter.PlacementID
		want       store.AudienceResult
	}{
		{nil, all},
		{[]admeter.PlacementID{"p2", DefaultPlacement, "p2"}, all},
		{[]admeter.PlacementID{"p2"}, store.AudienceResult{Reach: 2, Baseline: 3, Cells: []store.AudienceCell{
			cell(store.AudienceDevice, "phone", 1, 2),
			cell(store.AudienceDevice, "tablet", 1, 1),
			cell(store.AudienceInterest, "1", 1, 2),
			cell(store.AudienceOS, "android", 1, 1),
			cell(store.AudienceOS, "ios", 1, 2),
			cell(store.AudienceRegion, "JP", 0, 1),
			cell(store.AudienceRegion, "US", 1, 0),
			cell(store.AudienceRegion, "北京", 1, 1),
			cell(store.AudienceRegion, "广东", 0, 1),
		}}},
		{[]admeter.PlacementID{"never-seen"}, none},
	}
	for _, tt := range tests {
		q := audienceQuery()
		q.Placements = tt.placements
		q.Categories = map[admeter.PlacementID][]string{DefaultPlacement: {"1"}}
		checkAudience(t, s, fmt.Sprintf("placements %q", tt.placements), q, tt.want)
	}
}

// testAudienceEmpty: an empty store, an empty range, and a tenant and
// campaign the store has never seen.
func testAudienceEmpty(t *testing.T, s store.Store) {
	q := audienceQuery()
	q.Categories = map[admeter.PlacementID][]string{DefaultPlacement: {"1"}}
	q.InterestLookback = 30 * 24 * time.Hour
	checkAudience(t, s, "empty store", q, store.AudienceResult{})
	Insert(t, s, 1, Imp(march(10, time.Hour), User(1), elsewhere("")))
	checkAudience(t, s, "unknown tenant", q, store.AudienceResult{Baseline: 1, Cells: unknownCells(0, 1)})
	q.From, q.To = march(1, 0), march(10, 0)
	checkAudience(t, s, "range without events", q, store.AudienceResult{})
}

// testAudienceInvalid: malformed queries are EINVALID.
func testAudienceInvalid(t *testing.T, s store.Store) {
	Insert(t, s, 1, Imp(march(10, time.Hour), User(1)))
	tests := map[string]func(q *store.AudienceQuery){
		"no tenant":            func(q *store.AudienceQuery) { q.Tenant = "" },
		"no campaign":          func(q *store.AudienceQuery) { q.Campaign = "" },
		"no start":             func(q *store.AudienceQuery) { q.From = time.Time{} },
		"no end":               func(q *store.AudienceQuery) { q.To = time.Time{} },
		"empty range":          func(q *store.AudienceQuery) { q.To = q.From },
		"reversed range":       func(q *store.AudienceQuery) { q.From, q.To = q.To, q.From },
		"no interest days":     func(q *store.AudienceQuery) { q.InterestDays = 0 },
		"negative days":        func(q *store.AudienceQuery) { q.InterestDays = -1 },
		"no max interests":     func(q *store.AudienceQuery) { q.MaxInterests = 0 },
		"negative lookback":    func(q *store.AudienceQuery) { q.InterestLookback = -time.Millisecond },
		"lookback over 90days": func(q *store.AudienceQuery) { q.InterestLookback = admeter.MaxAttributionWindow + time.Millisecond },
	}
	ctx := context.Background()
	for name, change := range tests {
		q := audienceQuery()
		change(&q)
		if _, err := s.Audience(ctx, q); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("Audience with %s: %v, want EINVALID", name, err)
		}
	}
	q := audienceQuery()
	q.InterestLookback = admeter.MaxAttributionWindow
	if _, err := s.Audience(ctx, q); err != nil {
		t.Errorf("Audience with a 90-day lookback: %v", err)
	}
}
