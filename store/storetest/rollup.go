package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

func daily(t *testing.T, s store.Store, q store.DailyQuery) []store.DailyRow {
	t.Helper()
	rows, err := s.Daily(context.Background(), q)
	if err != nil {
		t.Fatalf("Daily: %v", err)
	}
	return rows
}

func refresh(t *testing.T, s store.Store, tz *time.Location, days ...store.Date) {
	t.Helper()
	if err := s.RefreshRollups(context.Background(), DefaultTenant, DefaultCampaign, tz, days); err != nil {
		t.Fatalf("RefreshRollups(%v): %v", days, err)
	}
}

func checkDaily(t *testing.T, got, want []store.DailyRow) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Daily:\ngot  %+v\nwant %+v", got, want)
	}
}

// rollupEvents are events of two local days (Asia/Shanghai) on two
// placements, with other tenants' and campaigns' events mixed in.
func rollupEvents(d []time.Time) []admeter.Event {
	p2 := Placement("p2")
	return []admeter.Event{
		Imp(d[0].Add(time.Hour), User(1)), Imp(d[0].Add(2*time.Hour), User(1)), Imp(d[0].Add(3*time.Hour), User(2)),
		Click(d[0].Add(time.Hour), User(1)), Imp(d[0].Add(time.Hour)), Click(d[0].Add(time.Hour)),
		Imp(d[0].Add(time.Hour), User(1), p2),
		Imp(d[1].Add(time.Hour), User(3)), Imp(d[1].Add(time.Hour), User(3), VF(5)), Imp(d[1].Add(2*time.Hour), User(3), VF(5)),
		Imp(d[1].Add(30*time.Minute), User(5)), // 00:30 local: still the previous UTC day
		Imp(d[1].Add(time.Hour), User(1), p2), Click(d[1].Add(time.Hour), User(2), p2), Served(d[1], User(4), p2),
		Imp(d[0].Add(time.Hour), User(7), Tenant("t2")), Imp(d[0].Add(time.Hour), User(7), Campaign("10000002")),
		Imp(d[2].Add(time.Hour), User(8)),
		// A retry on the next day: each day's rollup counts it as a report
		// of that day alone would.
		Imp(d[0].Add(23*time.Hour+50*time.Minute), User(9), VF(6), p2), Imp(d[1].Add(10*time.Minute), User(9), VF(6), p2),
	}
}

// testRollups: RefreshRollups then Daily gives, for each local day, the
// counts of a report of that day by placement, with the anonymous counts;
// only the campaign's own rows; only the days asked for.
func testRollups(t *testing.T, s store.Store) {
	ctx := context.Background()
	d, loc := shanghaiDays(t, 3)
	Insert(t, s, 1, rollupEvents(d)...)
	day1, day2, day3 := store.DateOf(d[0]), store.DateOf(d[1]), store.DateOf(d[2])
	refresh(t, s, loc, day1, day2)

	want := []store.DailyRow{
		{Day: day1, Placement: "p1", Counts: counts(4, 2, 2, 1), AnonymousImpressions: 1, AnonymousClicks: 1},
		{Day: day1, Placement: "p2", Counts: counts(2, 0, 2, 0)},
		{Day: day2, Placement: "p1", Counts: counts(3, 0, 2, 0)},
		{Day: day2, Placement: "p2", Counts: counts(2, 1, 2, 1)},
	}
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day1, To: day3}
	got := daily(t, s, dq)
	checkDaily(t, got, want)

	// The same numbers as a report of each day by placement.
	for i, day := range d[:2] {
		r := report(t, s, store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: d[i+1], Location: loc,
			By: []store.Dimension{store.ByDay, store.ByPlacement}})
		var rows []store.DailyRow
		for _, g := range got {
			if g.Day == store.DateOf(day) {
				rows = append(rows, g)
			}
		}
		if len(r.Rows) != len(rows) {
			t.Fatalf("report of %s has %d rows, rollup %d", store.DateOf(day), len(r.Rows), len(rows))
		}
		for j, rr := range r.Rows {
			g := rows[j]
			if rr.Dims[0] != g.Day.String() || rr.Dims[1] != string(g.Placement) || rr.Counts != g.Counts {
				t.Errorf("report row %q %+v, rollup row %s %s %+v", rr.Dims, rr.Counts, g.Day, g.Placement, g.Counts)
			}
		}
	}

	dq.From, dq.To = day2, day2
	checkDaily(t, daily(t, s, dq), want[2:])
	dq.Tenant, dq.From, dq.To = "t2", day1, day3
	checkDaily(t, daily(t, s, dq), nil)
	dq.Tenant, dq.Campaign = DefaultTenant, "10000002"
	checkDaily(t, daily(t, s, dq), nil)

	// Rollups outlive the raw events.
	if _, err := s.DeleteBefore(ctx, d[2]); err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	dq.Campaign = DefaultCampaign
	checkDaily(t, daily(t, s, dq), want)
	checkReport(t, s, store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[2], Location: loc}, store.ReportResult{})
}

// testRollupsRefresh: a refresh recomputes the days it is given and leaves
// the others alone; refreshing twice changes nothing.
func testRollupsRefresh(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 3)
	day1, day2 := store.DateOf(d[0]), store.DateOf(d[1])
	Insert(t, s, 1, Imp(d[0].Add(time.Hour), User(1)), Imp(d[1].Add(time.Hour), User(1)))
	refresh(t, s, loc, day1, day2)
	refresh(t, s, loc, day1, day2)
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day1, To: day2}
	want := []store.DailyRow{
		{Day: day1, Placement: "p1", Counts: counts(1, 0, 1, 0)},
		{Day: day2, Placement: "p1", Counts: counts(1, 0, 1, 0)},
	}
	checkDaily(t, daily(t, s, dq), want)

	Insert(t, s, 2, Imp(d[0].Add(2*time.Hour), User(2)), Imp(d[1].Add(2*time.Hour), User(2)))
	checkDaily(t, daily(t, s, dq), want) // not refreshed yet
	refresh(t, s, loc, day2)
	want[1].Counts = counts(2, 0, 2, 0)
	checkDaily(t, daily(t, s, dq), want)
	refresh(t, s, loc) // no days: nothing to do
	checkDaily(t, daily(t, s, dq), want)
}
