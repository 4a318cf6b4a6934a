package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Verdicts used by the invalid-traffic tests.
var (
	crawler = IVT(admeter.IVTCrawler)
	dc      = IVT(admeter.IVTDataCentre)
	badID   = IVT(admeter.IVTBadID)
	twoWays = IVT(admeter.IVTCrawler | admeter.IVTDataCentre)
)

// inv returns c with the invalid measures set.
func inv(c store.Counts, imps, clicks, uv, clickUV int64) store.Counts {
	c.InvalidImpressions, c.InvalidClicks, c.InvalidUV, c.InvalidClickUV = imps, clicks, uv, clickUV
	return c
}

// crow returns a report row of counts c.
func crow(c store.Counts, dims ...string) store.ReportRow {
	return store.ReportRow{Dims: dims, Counts: c}
}

// reasonNames returns the ByReason values of an event with verdict v, as
// package store documents them: "valid", or the code of each named reason
// in bit order and "unknown" once for any unnamed ones.
func reasonNames(v admeter.IVT) []string {
	if v.Valid() {
		return []string{"valid"}
	}
	var names []string
	var known admeter.IVT
	for _, r := range admeter.IVTReasons() {
		known |= r
		if v&r != 0 {
			names = append(names, r.String())
		}
	}
	if v&^known != 0 {
		names = append(names, "unknown")
	}
	return names
}

// ivtEvents are valid and invalid events at at on three placements:
//
//	p1: user 1: a valid and a crawler impression, a valid click
//	    user 2: a data-centre and a crawler+data-centre impression, a crawler click
//	    anonymous: a valid and a data-centre impression
//	p2: user 3: a valid impression, a data-centre click
//	    user 4: a bad-id impression
//	p3: user 5: a crawler impression (the placement has no valid traffic)
//
// and, not counted, a served event with a verdict and another tenant's
// invalid impression.
func ivtEvents(at time.Time) []admeter.Event {
	p2, p3 := Placement("p2"), Placement("p3")
	return []admeter.Event{
		Imp(at, User(1)), Imp(at, User(1), crawler),
		Imp(at, User(2), dc), Imp(at, User(2), twoWays),
		Click(at, User(1)), Click(at, User(2), crawler),
		Imp(at), Imp(at, dc),
		Imp(at, User(3), p2), Click(at, User(3), dc, p2),
		Imp(at, User(4), badID, p2),
		Imp(at, User(5), crawler, p3),
		Served(at, User(6), crawler),
		Imp(at, User(1), crawler, Tenant("t2")),
	}
}

// testIVTReport: the main measures follow the filter (valid by default),
// the invalid ones are of all traffic in every case; a user with valid
// and invalid impressions is in UV and InvalidUV; a placement with only
// invalid traffic is a row under the valid filter too; net + invalid =
// gross for impressions and clicks.
func testIVTReport(t *testing.T, s store.Store) {
	Insert(t, s, 1, ivtEvents(utc("2026-03-02T10:00:00Z"))...)
	valid := store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(2, 1, 1, 1), 4, 1, 2, 1), "p1"),
			crow(inv(counts(1, 0, 1, 0), 1, 1, 1, 1), "p2"),
			crow(inv(counts(0, 0, 0, 0), 1, 0, 1, 0), "p3"),
		},
		Total:                inv(counts(3, 1, 2, 1), 6, 2, 4, 2),
		AnonymousImpressions: 1,
	}
	all := store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(6, 2, 2, 2), 4, 1, 2, 1), "p1"),
			crow(inv(counts(2, 1, 2, 1), 1, 1, 1, 1), "p2"),
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "p3"),
		},
		Total:                inv(counts(9, 3, 5, 3), 6, 2, 4, 2),
		AnonymousImpressions: 2,
	}
	q := wideQuery(store.ByPlacement)
	checkReport(t, s, q, valid) // the zero filter is valid
	q.Filter = store.FilterValid
	checkReport(t, s, q, valid)
	q.Filter = store.FilterAll
	checkReport(t, s, q, all)
	q.By = nil
	checkReport(t, s, q, store.ReportResult{Total: all.Total, AnonymousImpressions: 2})
	q.Filter = store.FilterValid
	checkReport(t, s, q, store.ReportResult{Total: valid.Total, AnonymousImpressions: 1})

	// Net plus invalid is gross, row by row.
	for i, r := range valid.Rows {
		if g := all.Rows[i].Counts; r.Impressions+r.InvalidImpressions != g.Impressions || r.Clicks+r.InvalidClicks != g.Clicks {
			t.Errorf("test data: row %q does not reconcile", r.Dims)
		}
	}

	// Another tenant sees its own invalid impression only.
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{Total: inv(counts(0, 0, 0, 0), 1, 0, 1, 0)})
	q.Filter = store.FilterAll
	checkReport(t, s, q, store.ReportResult{Total: inv(counts(1, 0, 1, 0), 1, 0, 1, 0)})
}

// testIVTByReason: one row per reason and "valid", an event with two
// reasons in both rows and once in the total; the filter is ignored.
func testIVTByReason(t *testing.T, s store.Store) {
	Insert(t, s, 1, ivtEvents(utc("2026-03-02T10:00:00Z"))...)
	total := inv(counts(9, 3, 5, 3), 6, 2, 4, 2)
	for _, f := range []store.TrafficFilter{store.FilterValid, store.FilterAll} {
		q := wideQuery(store.ByReason)
		q.Filter = f
		checkReport(t, s, q, store.ReportResult{
			Rows: []store.ReportRow{
				crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "bad_id"),
				crow(inv(counts(3, 1, 3, 1), 3, 1, 3, 1), "crawler_ua"),
				crow(inv(counts(3, 1, 1, 1), 3, 1, 1, 1), "datacentre_ip"),
				crow(counts(3, 1, 2, 1), "valid"),
			},
			Total:                total,
			AnonymousImpressions: 2,
		})
		// Dims in the query's order, rows sorted by placement first.
		q.By = []store.Dimension{store.ByReason, store.ByPlacement}
		checkReport(t, s, q, store.ReportResult{
			Rows: []store.ReportRow{
				crow(inv(counts(2, 1, 2, 1), 2, 1, 2, 1), "crawler_ua", "p1"),
				crow(inv(counts(3, 0, 1, 0), 3, 0, 1, 0), "datacentre_ip", "p1"),
				crow(counts(2, 1, 1, 1), "valid", "p1"),
				crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "bad_id", "p2"),
				crow(inv(counts(0, 1, 0, 1), 0, 1, 0, 1), "datacentre_ip", "p2"),
				crow(counts(1, 0, 1, 0), "valid", "p2"),
				crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "crawler_ua", "p3"),
			},
			Total:                total,
			AnonymousImpressions: 2,
		})
	}

	// With the media join.
	q := wideQuery(store.ByMedia, store.ByReason)
	q.Media = map[admeter.PlacementID]string{"p1": "A", "p2": "A", "p3": "B"}
	checkReport(t, s, q, store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "A", "bad_id"),
			crow(inv(counts(2, 1, 2, 1), 2, 1, 2, 1), "A", "crawler_ua"),
			crow(inv(counts(3, 1, 1, 1), 3, 1, 1, 1), "A", "datacentre_ip"),
			crow(counts(3, 1, 2, 1), "A", "valid"),
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "B", "crawler_ua"),
		},
		Total:                total,
		AnonymousImpressions: 2,
	})

	// Only valid traffic: one row.
	q = wideQuery(store.ByReason)
	q.Tenant = "t3"
	checkReport(t, s, q, store.ReportResult{})
	Insert(t, s, 2, Imp(utc("2026-03-02T10:00:00Z"), User(1), Tenant("t3")))
	checkReport(t, s, q, store.ReportResult{Rows: []store.ReportRow{crow(counts(1, 0, 1, 0), "valid")}, Total: counts(1, 0, 1, 0)})
}

// testIVTUnknownReason: verdict bits no reason names are one "unknown"
// reason, however many there are, and are invalid traffic.
func testIVTUnknownReason(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1), IVT(1<<20|1<<21)),
		Imp(at, User(2), IVT(1<<31|admeter.IVTCrawler)),
		Imp(at, User(3)),
	)
	checkReport(t, s, wideQuery(store.ByReason), store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "crawler_ua"),
			crow(inv(counts(2, 0, 2, 0), 2, 0, 2, 0), "unknown"),
			crow(counts(1, 0, 1, 0), "valid"),
		},
		Total: inv(counts(3, 0, 3, 0), 2, 0, 2, 0),
	})
	checkReport(t, s, wideQuery(), store.ReportResult{Total: inv(counts(1, 0, 1, 0), 2, 0, 2, 0)})
}

// testIVTDedup: retries count once per placement whatever their verdicts,
// and the first event (by event time, then receive time) counts with its
// own verdict, in reports, frequency and rollups.
func testIVTDedup(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 2)
	at := d[0].Add(10 * time.Hour)
	Insert(t, s, 1,
		Imp(at, User(1), VF(1), crawler), Imp(at.Add(time.Minute), User(1), VF(1)), // invalid first: invalid
		Imp(at, User(2), VF(2)), // valid first: valid
		Imp(at.Add(time.Hour), User(3), VF(3)),
		Imp(at, User(4), VF(4), dc), Imp(at, User(4), VF(4), Received(at.Add(time.Second))), // same time: received first wins
	)
	Insert(t, s, 2,
		Imp(at.Add(time.Minute), User(2), VF(2), crawler), // a later batch's invalid retry
		Imp(at, User(3), VF(3), dc),                       // arrives later but happened first: invalid
		Imp(at, User(2), VF(2), Placement("p2"), dc),      // the same id on another placement: another impression
	)
	rq := store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc, By: []store.Dimension{store.ByPlacement}}
	checkReport(t, s, rq, store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(1, 0, 1, 0), 3, 0, 3, 0), "p1"),
			crow(inv(counts(0, 0, 0, 0), 1, 0, 1, 0), "p2"),
		},
		Total: inv(counts(1, 0, 1, 0), 4, 0, 4, 0),
	})
	rq.Filter = store.FilterAll
	checkReport(t, s, rq, store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(4, 0, 4, 0), 3, 0, 3, 0), "p1"),
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "p2"),
		},
		Total: inv(counts(5, 0, 4, 0), 4, 0, 4, 0),
	})
	rq.By = []store.Dimension{store.ByReason}
	checkReport(t, s, rq, store.ReportResult{
		Rows: []store.ReportRow{
			crow(inv(counts(1, 0, 1, 0), 1, 0, 1, 0), "crawler_ua"),
			crow(inv(counts(3, 0, 3, 0), 3, 0, 3, 0), "datacentre_ip"),
			crow(counts(1, 0, 1, 0), "valid"),
		},
		Total: inv(counts(5, 0, 4, 0), 4, 0, 4, 0),
	})

	fq := store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc}
	day := store.DateOf(d[0])
	checkFrequency(t, s, fq, store.FrequencyResult{Reach: 1, Impressions: 1, Distribution: [store.MaxFrequencyBucket]int64{1},
		CumulativeReach: []store.DayReach{{Day: day, Reach: 1}}})
	fq.Filter = store.FilterAll
	checkFrequency(t, s, fq, store.FrequencyResult{Reach: 4, Impressions: 5, Distribution: [store.MaxFrequencyBucket]int64{3, 1},
		CumulativeReach: []store.DayReach{{Day: day, Reach: 4}}})

	refresh(t, s, loc, day)
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: day}
	checkDaily(t, daily(t, s, dq), []store.DailyRow{
		{Day: day, Placement: "p1", Counts: inv(counts(1, 0, 1, 0), 3, 0, 3, 0)},
		{Day: day, Placement: "p2", Counts: inv(counts(0, 0, 0, 0), 1, 0, 1, 0)},
	})
	dq.Filter = store.FilterAll
	checkDaily(t, daily(t, s, dq), []store.DailyRow{
		{Day: day, Placement: "p1", Counts: inv(counts(4, 0, 4, 0), 3, 0, 3, 0)},
		{Day: day, Placement: "p2", Counts: inv(counts(1, 0, 1, 0), 1, 0, 1, 0)},
	})
}

// testIVTFrequency: with the valid filter (the default) only valid
// impressions reach users and add to their frequency; with all, every
// impression does. User 4 is reached on day 1 by an invalid impression and
// on day 2 by a valid one.
func testIVTFrequency(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 3)
	Insert(t, s, 1,
		Imp(d[0].Add(time.Hour), User(1)), Imp(d[0].Add(2*time.Hour), User(1)), Imp(d[0].Add(3*time.Hour), User(1), crawler),
		Imp(d[0].Add(time.Hour), User(2), dc), Imp(d[1].Add(time.Hour), User(2), dc), Imp(d[1].Add(2*time.Hour), User(2), twoWays),
		Imp(d[1].Add(time.Hour), User(3)),
		Imp(d[1].Add(3*time.Hour), User(4)), Imp(d[0].Add(5*time.Hour), User(4), crawler),
		Imp(d[0], crawler), Click(d[0], User(5), crawler), // anonymous; not an impression
	)
	fq := store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[2], Location: loc}
	day1, day2 := store.DateOf(d[0]), store.DateOf(d[1])
	valid := store.FrequencyResult{
		Reach: 3, Impressions: 4,
		Distribution:    [store.MaxFrequencyBucket]int64{2, 1},
		CumulativeReach: []store.DayReach{{Day: day1, Reach: 1}, {Day: day2, Reach: 3}},
	}
	checkFrequency(t, s, fq, valid)
	fq.Filter = store.FilterValid
	checkFrequency(t, s, fq, valid)
	fq.Filter = store.FilterAll
	checkFrequency(t, s, fq, store.FrequencyResult{
		Reach: 4, Impressions: 9,
		Distribution:    [store.MaxFrequencyBucket]int64{1, 1, 2},
		CumulativeReach: []store.DayReach{{Day: day1, Reach: 3}, {Day: day2, Reach: 4}},
	})
}

// testIVTRollups: rollups keep valid and invalid traffic apart, and Daily
// gives, with either filter, the counts of a report of the day by
// placement with that filter; users of all traffic are not the sum of
// valid and invalid users.
func testIVTRollups(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 3)
	evs := ivtEvents(d[0].Add(10 * time.Hour))
	at := d[1].Add(20 * time.Hour)
	evs = append(evs, Imp(at, User(1), crawler), Imp(at, User(1)), Click(at, dc))
	Insert(t, s, 1, evs...)
	day1, day2 := store.DateOf(d[0]), store.DateOf(d[1])
	refresh(t, s, loc, day1, day2)

	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day1, To: day2}
	valid := []store.DailyRow{
		{Day: day1, Placement: "p1", Counts: inv(counts(2, 1, 1, 1), 4, 1, 2, 1), AnonymousImpressions: 1},
		{Day: day1, Placement: "p2", Counts: inv(counts(1, 0, 1, 0), 1, 1, 1, 1)},
		{Day: day1, Placement: "p3", Counts: inv(counts(0, 0, 0, 0), 1, 0, 1, 0)},
		{Day: day2, Placement: "p1", Counts: inv(counts(1, 0, 1, 0), 1, 1, 1, 0)},
	}
	all := []store.DailyRow{
		{Day: day1, Placement: "p1", Counts: inv(counts(6, 2, 2, 2), 4, 1, 2, 1), AnonymousImpressions: 2},
		{Day: day1, Placement: "p2", Counts: inv(counts(2, 1, 2, 1), 1, 1, 1, 1)},
		{Day: day1, Placement: "p3", Counts: inv(counts(1, 0, 1, 0), 1, 0, 1, 0)},
		{Day: day2, Placement: "p1", Counts: inv(counts(2, 1, 1, 0), 1, 1, 1, 0), AnonymousClicks: 1},
	}
	checkDaily(t, daily(t, s, dq), valid)
	dq.Filter = store.FilterAll
	checkDaily(t, daily(t, s, dq), all)
	dq.Placements = []admeter.PlacementID{"p3"}
	checkDaily(t, daily(t, s, dq), all[2:3])
	dq.Filter, dq.Placements = store.FilterValid, nil

	// The same numbers as a report of each day by placement.
	for _, f := range []store.TrafficFilter{store.FilterValid, store.FilterAll} {
		dq.Filter = f
		got := daily(t, s, dq)
		var fromReports []store.DailyRow
		for i, day := range d[:2] {
			r := report(t, s, store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: d[i+1], Location: loc,
				By: []store.Dimension{store.ByPlacement}, Filter: f})
			for _, row := range r.Rows {
				fromReports = append(fromReports, store.DailyRow{Day: store.DateOf(day), Placement: admeter.PlacementID(row.Dims[0]), Counts: row.Counts})
			}
		}
		for i := range got {
			got[i].AnonymousImpressions, got[i].AnonymousClicks = 0, 0
		}
		checkDaily(t, got, fromReports)
	}

	// A refresh after more invalid traffic of a day counts it.
	Insert(t, s, 2, Imp(at, User(9), badID), Imp(at, User(1), badID))
	refresh(t, s, loc, day2)
	dq.Filter, dq.From = store.FilterValid, day2
	checkDaily(t, daily(t, s, dq), []store.DailyRow{{Day: day2, Placement: "p1", Counts: inv(counts(1, 0, 1, 0), 3, 1, 2, 0)}})
	dq.Filter = store.FilterAll
	checkDaily(t, daily(t, s, dq), []store.DailyRow{{Day: day2, Placement: "p1", Counts: inv(counts(4, 1, 2, 0), 3, 1, 2, 0), AnonymousClicks: 1}})
}

// testIVTBadFilter: an unknown filter is EINVALID.
func testIVTBadFilter(t *testing.T, s store.Store) {
	ctx := context.Background()
	q := wideQuery()
	q.Filter = 7
	if _, err := s.Report(ctx, q); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Report with filter 7: %v, want EINVALID", err)
	}
	fq := store.FrequencyQuery{Tenant: q.Tenant, Campaign: q.Campaign, From: q.From, To: q.To, Location: q.Location, Filter: 7}
	if _, err := s.Frequency(ctx, fq); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Frequency with filter 7: %v, want EINVALID", err)
	}
	day := store.Date{Year: 2026, Month: 3, Day: 2}
	dq := store.DailyQuery{Tenant: q.Tenant, Campaign: q.Campaign, From: day, To: day, Filter: 7}
	if _, err := s.Daily(ctx, dq); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Daily with filter 7: %v, want EINVALID", err)
	}
}

// testIVTGenerated: reports (by reason too), frequency and rollups of
// generated events with a fifth of them invalid, with each filter and
// with and without a placement restriction, give exactly the numbers
// computed here from the events.
func testIVTGenerated(t *testing.T, s store.Store) {
	loc := mustLoad(t, "Asia/Shanghai")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	evs := make([]admeter.Event, 5000)
	NewGenerator(21, GenConfig{Placements: 3, Users: 200, Start: start.Add(-2 * time.Hour), Step: 41 * time.Second, IVTPercent: 20}).Fill(evs)
	Insert(t, s, 1, evs...)
	tenant, camp := DefaultTenant, GenCampaign(0)
	pl := []admeter.PlacementID{GenPlacement(0, 0), GenPlacement(0, 1), GenPlacement(0, 2)}
	from, to := start.Add(time.Hour), start.Add(50*time.Hour)

	// The events must hold the cases under test: users with valid and
	// invalid impressions, events with two reasons, and retries whose
	// verdict differs from the first's.
	type key struct {
		p  admeter.PlacementID
		k  admeter.Kind
		vf admeter.Pseudonym
	}
	verdicts := map[key]admeter.IVT{}
	goodUsers, badUsers := map[admeter.Pseudonym]bool{}, map[admeter.Pseudonym]bool{}
	var mixed, twoReasons, retries int
	for _, e := range counted(evs, tenant, camp, nil, from, to) {
		if e.Kind == admeter.KindImpression && !e.User.IsZero() {
			if e.IVT.Valid() {
				goodUsers[e.User] = true
			} else {
				badUsers[e.User] = true
			}
		}
		if len(reasonNames(e.IVT)) > 1 {
			twoReasons++
		}
	}
	for u := range goodUsers {
		if badUsers[u] {
			mixed++
		}
	}
	for _, e := range evs {
		if e.ImpressionID.IsZero() || e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		k := key{e.Placement, e.Kind, e.ImpressionID}
		if v, ok := verdicts[k]; ok && v != e.IVT {
			retries++
		}
		verdicts[k] = e.IVT
	}
	if mixed == 0 || twoReasons == 0 || retries == 0 {
		t.Fatalf("generated events lack the cases: %d users with valid and invalid impressions, %d events with two reasons, %d retries with another verdict",
			mixed, twoReasons, retries)
	}

	var days []store.Date
	for d := store.DateOf(start.Add(-2 * time.Hour)); !store.DateOf(evs[len(evs)-1].At.In(loc)).Before(d); d = d.AddDays(1) {
		days = append(days, d)
	}
	if err := s.RefreshRollups(t.Context(), tenant, camp, loc, days); err != nil {
		t.Fatalf("RefreshRollups: %v", err)
	}
	for _, ps := range [][]admeter.PlacementID{nil, {pl[0], pl[2]}} {
		ev := counted(evs, tenant, camp, ps, from, to)
		var totals [2]store.Counts
		for _, f := range []store.TrafficFilter{store.FilterValid, store.FilterAll} {
			for _, by := range [][]store.Dimension{nil, {store.ByPlacement}, {store.ByDay, store.ByPlacement}, {store.ByReason}, {store.ByDay, store.ByReason}, {store.ByPlacement, store.ByReason}} {
				q := store.ReportQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, By: by, Placements: ps, Filter: f}
				want := modelReport(ev, loc, by, f)
				checkReport(t, s, q, want)
				if by == nil {
					totals[f] = want.Total
				}
			}
			fq := store.FrequencyQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, Placements: ps, Filter: f}
			checkFrequency(t, s, fq, modelFrequency(ev, loc, from, to, f))
			dq := store.DailyQuery{Tenant: tenant, Campaign: camp, From: days[0], To: days[len(days)-1], Placements: ps, Filter: f}
			checkDaily(t, daily(t, s, dq), modelDaily(evs, tenant, camp, loc, days, ps, f))
		}
		// Net plus invalid is gross.
		net, gross := totals[store.FilterValid], totals[store.FilterAll]
		if net.Impressions+net.InvalidImpressions != gross.Impressions || net.Clicks+net.InvalidClicks != gross.Clicks ||
			net.InvalidImpressions == 0 || net.UV+net.InvalidUV <= gross.UV {
			t.Errorf("placements %q: net %+v and gross %+v do not reconcile", ps, net, gross)
		}
	}
	if !slices.Equal(reasonNames(admeter.IVTCrawler|admeter.IVTBadID|1<<30), []string{"crawler_ua", "bad_id", "unknown"}) {
		t.Errorf("reasonNames = %q", reasonNames(admeter.IVTCrawler|admeter.IVTBadID|1<<30))
	}
}
