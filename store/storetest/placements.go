package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// testPlacements: a query restricted to placements counts their events
// alone. User 1, seen on a selected and an unselected placement, is one
// user with the selected placement's impressions only; an impression id
// retried on a selected placement counts once, and the same id on an
// unselected placement not at all.
func testPlacements(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 2)
	pA, pB, pC := Placement("pA"), Placement("pB"), Placement("pC")
	at := d[0].Add(10 * time.Hour)
	Insert(t, s, 1,
		Imp(at, User(1), pA), Imp(at.Add(time.Minute), User(1), pA),
		Imp(at, User(1), pB), Imp(at.Add(time.Minute), User(1), pB), Imp(at.Add(2*time.Minute), User(1), pB), Click(at, User(1), pB),
		Imp(at, User(2), pB), Click(at, User(2), pA),
		Imp(at, User(3), pC),
		Imp(at, pA), Click(at, pB), // anonymous
		Imp(at, User(4), VF(1), pA), Imp(at.Add(time.Second), User(4), VF(1), pA), // a retry
		Imp(at, User(4), VF(1), pB),
		Imp(at, User(5), Placement("pX"), Campaign("10000002")), // another campaign's placement
		Imp(at, User(6), pA, Tenant("t2")),                      // another tenant's
	)
	rq := store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc}
	fq := store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc}
	day := store.DateOf(d[0])
	refresh(t, s, loc, day)
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day, To: day}
	reach := func(n int64) []store.DayReach { return []store.DayReach{{Day: day, Reach: n}} }
	noReach := reach(0)
	none := store.ReportResult{}

	for _, tc := range []struct {
		name       string
		placements []admeter.PlacementID
		report     store.ReportResult // by placement
		freq       store.FrequencyResult
		daily      []store.DailyRow
	}{
		{
			name: "A and C", placements: []admeter.PlacementID{"pA", "pC"},
			report: store.ReportResult{
				Rows: []store.ReportRow{
					row(4, 1, 2, 1, "pA"), // user 1 ×2, user 4 once, anonymous; user 2's click
					row(1, 0, 1, 0, "pC"),
				},
				Total:                counts(5, 1, 3, 1),
				AnonymousImpressions: 1,
			},
			freq: store.FrequencyResult{Reach: 3, Impressions: 4, Distribution: [store.MaxFrequencyBucket]int64{2, 1}, CumulativeReach: reach(3)},
			daily: []store.DailyRow{
				{Day: day, Placement: "pA", Counts: counts(4, 1, 2, 1), AnonymousImpressions: 1},
				{Day: day, Placement: "pC", Counts: counts(1, 0, 1, 0)},
			},
		},
		{
			name: "B", placements: []admeter.PlacementID{"pB"},
			report: store.ReportResult{
				Rows:            []store.ReportRow{row(5, 2, 3, 1, "pB")},
				Total:           counts(5, 2, 3, 1),
				AnonymousClicks: 1,
			},
			freq:  store.FrequencyResult{Reach: 3, Impressions: 5, Distribution: [store.MaxFrequencyBucket]int64{2, 0, 1}, CumulativeReach: reach(3)},
			daily: []store.DailyRow{{Day: day, Placement: "pB", Counts: counts(5, 2, 3, 1), AnonymousClicks: 1}},
		},
		{
			name: "every placement", placements: nil,
			report: store.ReportResult{
				Rows: []store.ReportRow{
					row(4, 1, 2, 1, "pA"),
					row(5, 2, 3, 1, "pB"),
					row(1, 0, 1, 0, "pC"),
				},
				Total:                counts(10, 3, 4, 2),
				AnonymousImpressions: 1,
				AnonymousClicks:      1,
			},
			freq: store.FrequencyResult{Reach: 4, Impressions: 9, Distribution: [store.MaxFrequencyBucket]int64{2, 1, 0, 0, 1}, CumulativeReach: reach(4)},
			daily: []store.DailyRow{
				{Day: day, Placement: "pA", Counts: counts(4, 1, 2, 1), AnonymousImpressions: 1},
				{Day: day, Placement: "pB", Counts: counts(5, 2, 3, 1), AnonymousClicks: 1},
				{Day: day, Placement: "pC", Counts: counts(1, 0, 1, 0)},
			},
		},
		{name: "unknown", placements: []admeter.PlacementID{"nope"}, report: none, freq: store.FrequencyResult{CumulativeReach: noReach}},
		// Strings the store knows, but not as placements of this campaign.
		{name: "other campaign's", placements: []admeter.PlacementID{"pX"}, report: none, freq: store.FrequencyResult{CumulativeReach: noReach}},
		{name: "tenant id", placements: []admeter.PlacementID{admeter.PlacementID(DefaultTenant), admeter.PlacementID(DefaultCampaign)}, report: none, freq: store.FrequencyResult{CumulativeReach: noReach}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := rq
			q.By, q.Placements = []store.Dimension{store.ByPlacement}, tc.placements
			checkReport(t, s, q, tc.report)
			q.By = nil
			tc.report.Rows = nil
			checkReport(t, s, q, tc.report)
			f := fq
			f.Placements = tc.placements
			checkFrequency(t, s, f, tc.freq)
			dq2 := dq
			dq2.Placements = tc.placements
			checkDaily(t, daily(t, s, dq2), tc.daily)
		})
	}

	// Another tenant's query of the same placement sees only its own event.
	q := rq
	q.Tenant, q.Placements = "t2", []admeter.PlacementID{"pA"}
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
}

// testPlacementsGenerated: reports, frequency and rollups restricted to a
// set of placements give exactly the numbers of the generated events of
// those placements alone, computed here from the events; unknown ids match
// nothing, and no placements means every placement.
func testPlacementsGenerated(t *testing.T, s store.Store) {
	loc := mustLoad(t, "Asia/Shanghai")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	evs := make([]admeter.Event, 6000)
	NewGenerator(11, GenConfig{Campaigns: 2, Placements: 3, Users: 300, Start: start.Add(-5 * time.Hour), Step: 37 * time.Second}).Fill(evs)
	// Another tenant with the same campaign and placement ids, users and
	// impression ids.
	other := make([]admeter.Event, 500)
	NewGenerator(12, GenConfig{Tenant: "t2", Placements: 3, Users: 300, Start: start, Step: time.Minute}).Fill(other)
	Insert(t, s, 1, append(evs, other...)...)

	tenant, camp := DefaultTenant, GenCampaign(0)
	pl := []admeter.PlacementID{GenPlacement(0, 0), GenPlacement(0, 1), GenPlacement(0, 2)}
	from, to := start.Add(3*time.Hour), start.Add(50*time.Hour) // events on both sides
	sel := []admeter.PlacementID{pl[0], pl[2]}

	// The events must hold the cases under test: users on both selected
	// placements (UV is not a sum), and users on a selected and the
	// unselected placement (their other impressions do not count).
	users := func(ps ...admeter.PlacementID) map[admeter.Pseudonym]bool {
		m := map[admeter.Pseudonym]bool{}
		for _, e := range counted(evs, tenant, camp, ps, from, to) {
			if e.Kind == admeter.KindImpression && !e.User.IsZero() {
				m[e.User] = true
			}
		}
		return m
	}
	u0, u1, u2 := users(pl[0]), users(pl[1]), users(pl[2])
	both, mixed := 0, 0
	for u := range u0 {
		if u2[u] {
			both++
		}
		if u1[u] {
			mixed++
		}
	}
	if both == 0 || mixed == 0 || len(u1) <= mixed {
		t.Fatalf("generated events lack the cases: %d users on both selected placements, %d on a selected and the unselected one, %d on the unselected", both, mixed, len(u1))
	}

	var days []store.Date
	for _, e := range evs {
		if e.Tenant == tenant && e.Campaign == camp {
			if d := store.DateOf(e.At.In(loc)); !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
	}
	if err := s.RefreshRollups(t.Context(), tenant, camp, loc, days); err != nil {
		t.Fatalf("RefreshRollups: %v", err)
	}
	first, last := slices.MinFunc(days, cmpDate), slices.MaxFunc(days, cmpDate)

	for _, ps := range [][]admeter.PlacementID{
		nil, {}, pl, sel, {pl[1]}, {pl[2], "nope", pl[2]},
	} {
		ev := counted(evs, tenant, camp, ps, from, to)
		for _, by := range [][]store.Dimension{nil, {store.ByPlacement}, {store.ByDay, store.ByPlacement}} {
			q := store.ReportQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, By: by, Placements: ps}
			checkReport(t, s, q, modelReport(ev, loc, by, store.FilterValid))
		}
		fq := store.FrequencyQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, Placements: ps}
		checkFrequency(t, s, fq, modelFrequency(ev, loc, from, to, store.FilterValid))
		dq := store.DailyQuery{Tenant: tenant, Campaign: camp, From: first, To: last, Placements: ps}
		checkDaily(t, daily(t, s, dq), modelDaily(evs, tenant, camp, loc, days, ps, store.FilterValid))
	}

	// UV over two placements is distinct users, not the sum of theirs.
	q := store.ReportQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, Placements: sel}
	if got, sum := report(t, s, q).Total.UV, int64(len(u0)+len(u2)); got >= sum {
		t.Errorf("UV over %v = %d, want fewer than the %d of the two placements added", sel, got, sum)
	}

	// Ids that name no placement of the campaign match nothing.
	for _, ps := range [][]admeter.PlacementID{
		{"nope"},
		{GenPlacement(1, 0)},                   // the other campaign's
		{admeter.PlacementID(tenant), "CN"},    // strings the store holds as other fields
		{admeter.PlacementID(camp), "g00000 "}, // and a near miss
	} {
		q := store.ReportQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, By: []store.Dimension{store.ByPlacement}, Placements: ps}
		checkReport(t, s, q, store.ReportResult{})
		fq := store.FrequencyQuery{Tenant: tenant, Campaign: camp, From: from, To: to, Location: loc, Placements: ps}
		checkFrequency(t, s, fq, modelFrequency(nil, loc, from, to, store.FilterValid))
		if rows := daily(t, s, store.DailyQuery{Tenant: tenant, Campaign: camp, From: first, To: last, Placements: ps}); len(rows) != 0 {
			t.Errorf("Daily of %q = %+v, want no rows", ps, rows)
		}
	}
}

func cmpDate(a, b store.Date) int {
	switch {
	case a.Before(b):
		return -1
	case b.Before(a):
		return 1
	}
	return 0
}

// counted returns the events that a query of tenant's campaign over [from,
// to), restricted to placements (every placement when none), counts: its
// impressions and clicks, deduplicated as package store says (of events
// sharing a non-zero impression id, placement and kind, the first by event
// time, then receive time, whatever the verdicts), valid and invalid. It
// is the reference the placement and generated tests compute their
// expected numbers from.
func counted(evs []admeter.Event, tenant admeter.TenantID, campaign admeter.CampaignID, placements []admeter.PlacementID, from, to time.Time) []admeter.Event {
	type key struct {
		placement admeter.PlacementID
		kind      admeter.Kind
		vf        admeter.Pseudonym
	}
	firsts := map[key]int{} // index in out
	var out []admeter.Event
	for _, e := range evs {
		switch {
		case e.Tenant != tenant || e.Campaign != campaign:
			continue
		case e.Kind != admeter.KindImpression && e.Kind != admeter.KindClick:
			continue
		case e.At.Before(from) || !e.At.Before(to):
			continue
		case len(placements) > 0 && !slices.Contains(placements, e.Placement):
			continue
		case e.ImpressionID.IsZero():
			out = append(out, e)
			continue
		}
		k := key{e.Placement, e.Kind, e.ImpressionID}
		i, ok := firsts[k]
		if !ok {
			firsts[k] = len(out)
			out = append(out, e)
			continue
		}
		if f := out[i]; e.At.Before(f.At) || e.At.Equal(f.At) && e.Received.Before(f.Received) {
			out[i] = e
		}
	}
	return out
}

// modelReport returns the report of evs (counted events) broken down by
// by, which may name ByDay, ByPlacement and ByReason only, in
// store.Dimensions order, with the main measures of the traffic filter
// selects (all with ByReason).
func modelReport(evs []admeter.Event, loc *time.Location, by []store.Dimension, filter store.TrafficFilter) store.ReportResult {
	if slices.Contains(by, store.ByReason) {
		filter = store.FilterAll
	}
	type group struct {
		counts                store.Counts
		uv, cuv, invUV, invCU map[admeter.Pseudonym]bool
		dims                  []string
	}
	add := func(g *group, e admeter.Event) {
		in, bad := filter == store.FilterAll || e.IVT.Valid(), !e.IVT.Valid()
		user := !e.User.IsZero()
		switch e.Kind {
		case admeter.KindImpression:
			if in {
				g.counts.Impressions++
				if user {
					g.uv[e.User] = true
				}
			}
			if bad {
				g.counts.InvalidImpressions++
				if user {
					g.invUV[e.User] = true
				}
			}
		case admeter.KindClick:
			if in {
				g.counts.Clicks++
				if user {
					g.cuv[e.User] = true
				}
			}
			if bad {
				g.counts.InvalidClicks++
				if user {
					g.invCU[e.User] = true
				}
			}
		}
	}
	newGroup := func(dims []string) *group {
		return &group{uv: map[admeter.Pseudonym]bool{}, cuv: map[admeter.Pseudonym]bool{},
			invUV: map[admeter.Pseudonym]bool{}, invCU: map[admeter.Pseudonym]bool{}, dims: dims}
	}
	var res store.ReportResult
	total := newGroup(nil)
	groups := map[string]*group{}
	for _, e := range evs {
		add(total, e)
		if e.User.IsZero() && (filter == store.FilterAll || e.IVT.Valid()) {
			switch e.Kind {
			case admeter.KindImpression:
				res.AnonymousImpressions++
			case admeter.KindClick:
				res.AnonymousClicks++
			}
		}
		if len(by) == 0 {
			continue
		}
		reasons := []string{""}
		if slices.Contains(by, store.ByReason) {
			reasons = reasonNames(e.IVT)
		}
		for _, reason := range reasons {
			dims := make([]string, len(by))
			for i, d := range by {
				switch d {
				case store.ByDay:
					dims[i] = store.DateOf(e.At.In(loc)).String()
				case store.ByPlacement:
					dims[i] = string(e.Placement)
				case store.ByReason:
					dims[i] = reason
				default:
					panic("modelReport: dimension " + string(d))
				}
			}
			k := strings.Join(dims, "\x00")
			if groups[k] == nil {
				groups[k] = newGroup(dims)
			}
			add(groups[k], e)
		}
	}
	finish := func(g *group) store.Counts {
		c := g.counts
		c.UV, c.ClickUV = int64(len(g.uv)), int64(len(g.cuv))
		c.InvalidUV, c.InvalidClickUV = int64(len(g.invUV)), int64(len(g.invCU))
		return c
	}
	res.Total = finish(total)
	for _, g := range groups {
		res.Rows = append(res.Rows, store.ReportRow{Dims: g.dims, Counts: finish(g)})
	}
	slices.SortFunc(res.Rows, func(a, b store.ReportRow) int { return slices.Compare(a.Dims, b.Dims) })
	return res
}

// modelFrequency returns the reach and frequency of evs (counted events)
// over [from, to) in loc, of the impressions filter selects.
func modelFrequency(evs []admeter.Event, loc *time.Location, from, to time.Time, filter store.TrafficFilter) store.FrequencyResult {
	var res store.FrequencyResult
	last := store.DateOf(to.Add(-time.Nanosecond).In(loc))
	for d := store.DateOf(from.In(loc)); !last.Before(d); d = d.AddDays(1) {
		res.CumulativeReach = append(res.CumulativeReach, store.DayReach{Day: d})
	}
	n := map[admeter.Pseudonym]int64{}
	firstDay := map[admeter.Pseudonym]store.Date{}
	for _, e := range evs {
		if e.Kind != admeter.KindImpression || e.User.IsZero() || filter == store.FilterValid && !e.IVT.Valid() {
			continue
		}
		n[e.User]++
		d := store.DateOf(e.At.In(loc))
		if f, ok := firstDay[e.User]; !ok || d.Before(f) {
			firstDay[e.User] = d
		}
	}
	for u, k := range n {
		res.Reach++
		res.Impressions += k
		res.Distribution[min(k, store.MaxFrequencyBucket)-1]++
		for i := range res.CumulativeReach {
			if !res.CumulativeReach[i].Day.Before(firstDay[u]) {
				res.CumulativeReach[i].Reach++
			}
		}
	}
	return res
}

// modelDaily returns the rollup rows of tenant's campaign for days in loc,
// of placements (every placement when none), from the raw events: each
// day's rows are the day reported alone with filter, one row per
// placement.
func modelDaily(evs []admeter.Event, tenant admeter.TenantID, campaign admeter.CampaignID, loc *time.Location, days []store.Date, placements []admeter.PlacementID, filter store.TrafficFilter) []store.DailyRow {
	days = slices.SortedFunc(slices.Values(days), cmpDate)
	var out []store.DailyRow
	for _, day := range days {
		ev := counted(evs, tenant, campaign, placements, day.In(loc), day.AddDays(1).In(loc))
		var ps []admeter.PlacementID
		for _, e := range ev {
			if !slices.Contains(ps, e.Placement) {
				ps = append(ps, e.Placement)
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			r := modelReport(slices.DeleteFunc(slices.Clone(ev), func(e admeter.Event) bool { return e.Placement != p }), loc, nil, filter)
			out = append(out, store.DailyRow{Day: day, Placement: p, Counts: r.Total,
				AnonymousImpressions: r.AnonymousImpressions, AnonymousClicks: r.AnonymousClicks})
		}
	}
	return out
}
