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

// viewability runs Viewability and fails t on error.
func viewability(t *testing.T, s store.Store, q store.ReportQuery) *store.ViewReport {
	t.Helper()
	r, err := s.Viewability(context.Background(), q)
	if err != nil {
		t.Fatalf("Viewability(%s): %v", describe(q), err)
	}
	return r
}

// checkView runs Viewability and compares the result with want.
func checkView(t *testing.T, s store.Store, q store.ReportQuery, want store.ViewReport) {
	t.Helper()
	got := viewability(t, s, q)
	if len(got.Rows) == 0 && len(want.Rows) == 0 {
		got.Rows, want.Rows = nil, nil
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Viewability(%s):\ngot:\n%s\nwant:\n%s", describe(q), formatView(got), formatView(&want))
	}
}

func formatView(r *store.ViewReport) string {
	var b strings.Builder
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  %q %+v\n", row.Dims, row.ViewCounts)
	}
	fmt.Fprintf(&b, "  total %+v", r.Total)
	return b.String()
}

// vc returns the viewability measures of a row.
func vc(measurable, viewable, uv int64) store.ViewCounts {
	return store.ViewCounts{Measurable: measurable, Viewable: viewable, ViewableUV: uv}
}

// plays returns the video measures of a row: starts and the plays that
// reached 25, 50, 75 and 100 %.
func plays(starts, q25, q50, q75, q100 int64) store.ViewCounts {
	return store.ViewCounts{VideoStarts: starts, Quartiles: [4]int64{q25, q50, q75, q100}}
}

// vrow returns a viewability report row.
func vrow(c store.ViewCounts, dims ...string) store.ViewRow {
	return store.ViewRow{Dims: dims, ViewCounts: c}
}

// viewQuery returns a UTC query of the default campaign over the two UTC
// days 2026-03-02 and 2026-03-03.
func viewQuery(by ...store.Dimension) store.ReportQuery {
	return store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign,
		From: utc("2026-03-02T00:00:00Z"), To: utc("2026-03-04T00:00:00Z"), Location: time.UTC, By: by}
}

// testViewability: an impression is measurable when a result of the same
// campaign, placement and impression id says viewable or not viewable,
// within ViewResultGrace of the range; viewable when one says viewable.
func testViewability(t *testing.T, s store.Store) {
	ctx := context.Background()
	d1, d2 := utc("2026-03-02T00:00:00Z"), utc("2026-03-03T00:00:00Z")
	to := utc("2026-03-04T00:00:00Z")
	sec := time.Second
	p2 := Placement("p2")
	viewable, notViewable := admeter.ViewViewable, admeter.ViewNotViewable
	at := func(d time.Time, h int) time.Time { return d.Add(time.Duration(h) * time.Hour) }
	Insert(t, s, 1,
		// Day 1, p1.
		Imp(at(d1, 10), User(1), VF(1), View(admeter.ViewStarted)), Viewed(at(d1, 10).Add(5*sec), viewable, VF(1)),
		Imp(at(d1, 11), User(2), VF(2)), Viewed(at(d1, 11).Add(5*sec), notViewable, VF(2)),
		// A result for the same id on another placement does not count.
		Viewed(at(d1, 11).Add(6*sec), viewable, VF(2), p2),
		// Not viewable, then viewable: viewable; and the other way round.
		Imp(at(d1, 12), User(2), VF(3)), Viewed(at(d1, 12).Add(3*sec), notViewable, VF(3)), Viewed(at(d1, 12).Add(8*sec), viewable, VF(3)),
		Imp(at(d1, 12), User(3), VF(4)), Viewed(at(d1, 12).Add(3*sec), viewable, VF(4)), Viewed(at(d1, 12).Add(8*sec), notViewable, VF(4)),
		// Unmeasurable: not measurable.
		Imp(at(d1, 13), User(4), VF(5)), Viewed(at(d1, 13).Add(3*sec), admeter.ViewUnmeasurable, VF(5)),
		// A retried impression counts once.
		Imp(at(d1, 14), User(5), VF(6)), Imp(at(d1, 14).Add(sec), User(5), VF(6)), Viewed(at(d1, 14).Add(3*sec), viewable, VF(6)),
		// Without an impression id nothing links.
		Imp(at(d1, 14), User(6)), Viewed(at(d1, 14).Add(3*sec), viewable),
		// Invalid: counted under FilterAll only.
		Imp(at(d1, 15), User(9), VF(12), crawler), Viewed(at(d1, 15).Add(3*sec), viewable, VF(12)),
		// Results of another campaign or tenant do not link.
		Imp(at(d1, 16), User(10), VF(14)), Viewed(at(d1, 16).Add(3*sec), viewable, VF(14), Campaign("10000002")),
		Imp(at(d1, 17), User(11), VF(16)), Viewed(at(d1, 17).Add(3*sec), viewable, VF(16), Tenant("t2")),
		// An impression before the range is not counted, whatever its result.
		Imp(d1.Add(-10*time.Minute), User(12), VF(11)), Viewed(d1.Add(5*sec), viewable, VF(11)),
	)
	Insert(t, s, 2,
		// Day 2: p2, in Guangdong.
		Imp(at(d2, 2), User(7), VF(8), p2, Region("CN", "广东")), Viewed(at(d2, 2).Add(sec), viewable, VF(8), p2),
		// p1: a result more than ViewResultGrace after the range does not
		// link; one within it does.
		Imp(at(d2, 23), User(8), VF(9)), Viewed(to.Add(2*time.Hour), viewable, VF(9)),
		Imp(at(d2, 23).Add(30*time.Minute), User(2), VF(10)), Viewed(to.Add(30*time.Minute), viewable, VF(10)),
		// Another tenant's impression under the same ids.
		Imp(at(d2, 2), User(7), VF(8), p2, Tenant("t2")), Viewed(at(d2, 2).Add(sec), viewable, VF(8), p2, Tenant("t2")),
	)
	// Valid traffic: day 1 p1 measurable vf 1, 2, 3, 4, 6, viewable 1, 3,
	// 4, 6 of users 1, 2, 3, 5; day 2 p1 vf 10 (user 2), p2 vf 8 (user 7).
	checkView(t, s, viewQuery(), store.ViewReport{Total: vc(7, 6, 5)})
	checkView(t, s, viewQuery(store.ByDay), store.ViewReport{
		Rows:  []store.ViewRow{vrow(vc(5, 4, 4), "2026-03-02"), vrow(vc(2, 2, 2), "2026-03-03")},
		Total: vc(7, 6, 5),
	})
	checkView(t, s, viewQuery(store.ByPlacement), store.ViewReport{
		Rows:  []store.ViewRow{vrow(vc(6, 5, 4), "p1"), vrow(vc(1, 1, 1), "p2")},
		Total: vc(7, 6, 5),
	})
	checkView(t, s, viewQuery(store.ByPlacement, store.ByDay), store.ViewReport{
		Rows: []store.ViewRow{
			vrow(vc(5, 4, 4), "p1", "2026-03-02"), vrow(vc(1, 1, 1), "p1", "2026-03-03"), vrow(vc(1, 1, 1), "p2", "2026-03-03"),
		},
		Total: vc(7, 6, 5),
	})
	q := viewQuery(store.ByMedia)
	q.Media = map[admeter.PlacementID]string{"p1": "m1", "p2": "m2"}
	checkView(t, s, q, store.ViewReport{Rows: []store.ViewRow{vrow(vc(6, 5, 4), "m1"), vrow(vc(1, 1, 1), "m2")}, Total: vc(7, 6, 5)})
	checkView(t, s, viewQuery(store.ByRegion), store.ViewReport{Rows: []store.ViewRow{vrow(vc(6, 5, 4), ""), vrow(vc(1, 1, 1), "广东")}, Total: vc(7, 6, 5)})

	// All traffic adds the crawler's impression (vf 12, user 9).
	q = viewQuery(store.ByDay)
	q.Filter = store.FilterAll
	checkView(t, s, q, store.ViewReport{
		Rows:  []store.ViewRow{vrow(vc(6, 5, 5), "2026-03-02"), vrow(vc(2, 2, 2), "2026-03-03")},
		Total: vc(8, 7, 6),
	})

	// Placements restrict everything.
	q = viewQuery(store.ByDay)
	q.Placements = []admeter.PlacementID{"p2", "nope"}
	checkView(t, s, q, store.ViewReport{Rows: []store.ViewRow{vrow(vc(1, 1, 1), "2026-03-03")}, Total: vc(1, 1, 1)})
	q.Placements = []admeter.PlacementID{"nope"}
	checkView(t, s, q, store.ViewReport{})

	// The other tenant sees its own impression only.
	q = viewQuery()
	q.Tenant = "t2"
	checkView(t, s, q, store.ViewReport{Total: vc(1, 1, 1)})

	// A range without events, and an unknown campaign.
	q = viewQuery(store.ByDay)
	q.From, q.To = utc("2026-05-01T00:00:00Z"), utc("2026-05-02T00:00:00Z")
	checkView(t, s, q, store.ViewReport{})
	q = viewQuery(store.ByDay)
	q.Campaign = "nope"
	checkView(t, s, q, store.ViewReport{})

	for _, bad := range []store.ReportQuery{
		viewQuery(store.ByReason),
		viewQuery(store.ByDay, store.ByReason),
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: to, To: d1, Location: time.UTC},
		{Campaign: DefaultCampaign, From: d1, To: to, Location: time.UTC},
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d1, To: to},
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d1, To: to, Location: time.UTC, Filter: 7},
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d1, To: to, Location: time.UTC, By: []store.Dimension{"week"}},
	} {
		if _, err := s.Viewability(ctx, bad); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("Viewability(%s): %v, want EINVALID", describe(bad), err)
		}
	}
}

// testViewabilityShanghai: the day of a measured impression is its own,
// in the query's zone, even when its result falls on the next day.
func testViewabilityShanghai(t *testing.T, s store.Store) {
	shanghai := mustLoad(t, "Asia/Shanghai")
	// 23:59:58 on 2026-03-02 in Shanghai; the result 5 s later, on the 3rd.
	at := utc("2026-03-02T15:59:58Z")
	Insert(t, s, 1,
		Imp(at, User(1), VF(1)), Viewed(at.Add(5*time.Second), admeter.ViewViewable, VF(1)),
		Imp(at.Add(time.Hour), User(2), VF(2)), Viewed(at.Add(time.Hour+time.Second), admeter.ViewNotViewable, VF(2)),
	)
	q := store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, Location: shanghai,
		From: time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai), To: time.Date(2026, 3, 4, 0, 0, 0, 0, shanghai),
		By: []store.Dimension{store.ByDay}}
	checkView(t, s, q, store.ViewReport{
		Rows:  []store.ViewRow{vrow(vc(1, 1, 1), "2026-03-02"), vrow(vc(1, 0, 0), "2026-03-03")},
		Total: vc(2, 1, 1),
	})
	// A range that ends at the impression's midnight counts it, and its
	// result (within the grace) too.
	q.To = time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai)
	checkView(t, s, q, store.ViewReport{Rows: []store.ViewRow{vrow(vc(1, 1, 1), "2026-03-02")}, Total: vc(1, 1, 1)})
}

// testVideoPlays: plays are the events of one placement sharing an
// impression id (or one event without an id); a play starts with a video
// impression or a start ping, and reaches a quartile by a ping at or past
// it or by a quartile mask; each event counts under its own verdict; a
// play over two days counts on each day for what it did that day and
// once in the total.
func testVideoPlays(t *testing.T, s store.Store) {
	d1, d2 := utc("2026-03-02T00:00:00Z"), utc("2026-03-03T00:00:00Z")
	sec := time.Second
	p2 := Placement("p2")
	video := Video(15*time.Second, admeter.PlayAuto)
	at := d1.Add(10 * time.Hour)
	ping := admeter.ProgressStart
	Insert(t, s, 1,
		// A: a video impression, start, 25, 50, a retried 50 and a retried
		// impression: started, 25, 50.
		Imp(at, User(1), VF(21), video), VideoPing(at.Add(sec), ping, VF(21)), VideoPing(at.Add(5*sec), admeter.Progress25, VF(21)),
		VideoPing(at.Add(9*sec), admeter.Progress50, VF(21)), VideoPing(at.Add(10*sec), admeter.Progress50, VF(21)),
		Imp(at.Add(sec), User(1), VF(21), video),
		// B: a plain impression and a start ping: started; 100 implies
		// every quartile.
		Imp(at, User(2), VF(22)), VideoPing(at.Add(sec), ping, VF(22)), VideoPing(at.Add(20*sec), admeter.Progress100, VF(22)),
		// C: 75 without a start: 25, 50, 75, not started.
		VideoPing(at.Add(20*sec), admeter.Progress75, VF(23)),
		// D: a manual video impression, and a viewability result whose
		// mask says 25 and 50 (and which makes the impression measurable
		// and viewable).
		Imp(at, VF(24), Video(30*time.Second, admeter.PlayManual)),
		Viewed(at.Add(3*sec), admeter.ViewViewable, VF(24), Quartiles(admeter.Quartile25|admeter.Quartile50)),
		// E: a mask with 100 only: every quartile, not started.
		Viewed(at.Add(3*sec), admeter.ViewNotViewable, VF(25), Quartiles(admeter.Quartile100)),
		// F: pings without an id are plays of their own.
		VideoPing(at.Add(2*time.Hour), ping), VideoPing(at.Add(2*time.Hour+sec), ping),
		VideoPing(at.Add(2*time.Hour+2*sec), admeter.Progress50),
		// H: an invalid video impression and start, a valid 25.
		Imp(at, User(3), VF(27), video, crawler), VideoPing(at.Add(sec), ping, VF(27), crawler),
		VideoPing(at.Add(5*sec), admeter.Progress25, VF(27)),
		// The same id on p2 is another play: started.
		VideoPing(at.Add(sec), ping, VF(21), p2),
		// Another campaign's and another tenant's pings.
		VideoPing(at.Add(sec), admeter.Progress100, VF(21), Campaign("10000002")),
		VideoPing(at.Add(sec), admeter.Progress100, VF(21), Tenant("t2")),
		// A click and a served ad with video fields start nothing.
		Click(at, VF(28), video), Served(at, VF(29), video),
		// I: a quartile mask counts on any event of a play, a served
		// ping's too: 25, not started.
		Served(at, VF(30), Quartiles(admeter.Quartile25)),
	)
	// G: over midnight: started and 25 on day 1, 50 and 100 on day 2.
	g := d2.Add(-10 * sec)
	Insert(t, s, 2,
		Imp(g, User(4), VF(26), video), VideoPing(g.Add(sec), ping, VF(26)), VideoPing(g.Add(4*sec), admeter.Progress25, VF(26)),
		VideoPing(d2.Add(2*sec), admeter.Progress50, VF(26)), VideoPing(d2.Add(12*sec), admeter.Progress100, VF(26)),
	)

	// Day 1, p1: started A, B, D, F1, F2, G; 25 A, B, C, D, E, F3, G, H, I;
	// 50 A, B, C, D, E, F3; 75 B, C, E; 100 B, E. Day 2: G's 50 and 100.
	day1p1, day1p2, day2p1 := plays(6, 9, 6, 3, 2), plays(1, 0, 0, 0, 0), plays(0, 1, 1, 1, 1)
	day1p1.Measurable, day1p1.Viewable = 1, 1 // D, anonymous
	total := plays(7, 9, 7, 4, 3)
	total.Measurable, total.Viewable = 1, 1
	sum := func(a, b store.ViewCounts) store.ViewCounts {
		a.Measurable += b.Measurable
		a.Viewable += b.Viewable
		a.VideoStarts += b.VideoStarts
		for i := range a.Quartiles {
			a.Quartiles[i] += b.Quartiles[i]
		}
		return a
	}
	checkView(t, s, viewQuery(), store.ViewReport{Total: total})
	checkView(t, s, viewQuery(store.ByDay, store.ByPlacement), store.ViewReport{
		Rows:  []store.ViewRow{vrow(day1p1, "2026-03-02", "p1"), vrow(day1p2, "2026-03-02", "p2"), vrow(day2p1, "2026-03-03", "p1")},
		Total: total,
	})
	checkView(t, s, viewQuery(store.ByDay), store.ViewReport{
		Rows:  []store.ViewRow{vrow(sum(day1p1, day1p2), "2026-03-02"), vrow(day2p1, "2026-03-03")},
		Total: total,
	})
	p1 := plays(6, 9, 7, 4, 3)
	p1.Measurable, p1.Viewable = 1, 1
	checkView(t, s, viewQuery(store.ByPlacement), store.ViewReport{
		Rows:  []store.ViewRow{vrow(p1, "p1"), vrow(day1p2, "p2")},
		Total: total,
	})

	// All traffic: H started too.
	q := viewQuery(store.ByDay)
	q.Filter = store.FilterAll
	day1All := sum(day1p1, day1p2)
	day1All.VideoStarts++
	totalAll := total
	totalAll.VideoStarts++
	checkView(t, s, q, store.ViewReport{Rows: []store.ViewRow{vrow(day1All, "2026-03-02"), vrow(day2p1, "2026-03-03")}, Total: totalAll})

	// Day 2 alone: G's part of the play.
	q = viewQuery(store.ByDay)
	q.From = d2
	checkView(t, s, q, store.ViewReport{Rows: []store.ViewRow{vrow(day2p1, "2026-03-03")}, Total: day2p1})

	// Placement p2 alone.
	q = viewQuery()
	q.Placements = []admeter.PlacementID{"p2"}
	checkView(t, s, q, store.ViewReport{Total: day1p2})
}
