package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// testReachSets: two campaigns of a tenant counted together, a retry
// counted once with its first copy's verdict, the filter, anonymous
// impressions apart and in no frequency distribution, the distributions
// of all the groups and of each, placements without a group, another
// tenant and the range left out, waste in (ts, received) order; and a
// groups map whose literals make the statement longer than the server's
// default max_query_size still answers (the storetest conformance cases
// check the semantics in full).
func testReachSets(t *testing.T, e env) {
	db := e.open(t, e.create(t), Options{})
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	c2 := func(ev *admeter.Event) { ev.Campaign, ev.Placement = "c2", "p2" }
	storetest.Insert(t, db, 1,
		storetest.Imp(at(1), storetest.User(1), storetest.VF(1)),
		storetest.Imp(at(2), storetest.User(1), storetest.VF(1)), // a retry
		storetest.Imp(at(3), storetest.User(1), c2),
		storetest.Imp(at(4), storetest.User(1), c2),
		storetest.Imp(at(1), storetest.User(2), c2),
		storetest.Imp(at(2), storetest.User(2), storetest.VF(2), storetest.IVT(admeter.IVTCrawler)),
		storetest.Imp(at(3), storetest.User(2), storetest.VF(2)), // a retry, first copy invalid
		storetest.Imp(at(5), storetest.User(3), storetest.Placement("p3")),
		storetest.Imp(at(5)),
		storetest.Imp(at(6)),
		storetest.Imp(at(6), storetest.User(4), storetest.Tenant("t9")),
		storetest.Imp(at(30), storetest.User(5)),
	)
	q := store.ReachSetQuery{Tenants: []admeter.TenantID{storetest.DefaultTenant}, Campaigns: []admeter.CampaignID{storetest.DefaultCampaign, "c2"},
		From: base, To: base.Add(24 * time.Hour),
		Groups:     map[admeter.PlacementID]int{storetest.DefaultPlacement: 0, "p2": 1},
		WasteAbove: 1}
	for i := range 20000 {
		q.Groups[admeter.PlacementID(fmt.Sprintf("placement-%06d", i))] = 63
	}
	if n := len(reachSetsSQL(q, scope{})); n <= 256<<10 {
		t.Fatalf("the statement of %d placements is %d bytes, not over 256 KiB", len(q.Groups), n)
	}
	for _, c := range []struct {
		filter store.TrafficFilter
		waste  int
		want   *store.ReachSetResult
	}{
		// User 1: 1 on group 0, 2 on group 1; user 2: 1 on group 1 (its
		// impression on group 0 is invalid).
		{store.FilterValid, 1, &store.ReachSetResult{
			Sets:                 []store.ReachSet{{Mask: 2, Users: 1, Impressions: 1}, {Mask: 3, Users: 1, Impressions: 3}},
			AnonymousImpressions: 2, Waste: map[int]int64{1: 2},
			Frequency: freq(map[int]int64{1: 1, 3: 1}),
			Groups: map[int]store.GroupReach{
				0: {Users: 1, Impressions: 1, Frequency: freq(map[int]int64{1: 1})},
				1: {Users: 2, Impressions: 3, Frequency: freq(map[int]int64{1: 1, 2: 1})},
			}}},
		{store.FilterAll, 1, &store.ReachSetResult{
			Sets:                 []store.ReachSet{{Mask: 3, Users: 2, Impressions: 5}},
			AnonymousImpressions: 2, Waste: map[int]int64{0: 1, 1: 2},
			Frequency: freq(map[int]int64{2: 1, 3: 1}),
			Groups: map[int]store.GroupReach{
				0: {Users: 2, Impressions: 2, Frequency: freq(map[int]int64{1: 2})},
				1: {Users: 2, Impressions: 3, Frequency: freq(map[int]int64{1: 1, 2: 1})},
			}}},
		{store.FilterAll, 0, &store.ReachSetResult{
			Sets:                 []store.ReachSet{{Mask: 3, Users: 2, Impressions: 5}},
			AnonymousImpressions: 2,
			Frequency:            freq(map[int]int64{2: 1, 3: 1}),
			Groups: map[int]store.GroupReach{
				0: {Users: 2, Impressions: 2, Frequency: freq(map[int]int64{1: 2})},
				1: {Users: 2, Impressions: 3, Frequency: freq(map[int]int64{1: 1, 2: 1})},
			}}},
	} {
		q.Filter, q.WasteAbove = c.filter, c.waste
		got, err := db.ReachSets(context.Background(), q)
		if err != nil {
			t.Fatalf("ReachSets(filter %d, waste %d): %v", c.filter, c.waste, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ReachSets(filter %d, waste %d) =\n%+v, want\n%+v", c.filter, c.waste, got, c.want)
		}
	}
}

// freq returns a frequency distribution of store.MaxReachFrequency
// entries from the users per frequency.
func freq(users map[int]int64) []int64 {
	f := make([]int64, store.MaxReachFrequency)
	for n, u := range users {
		f[n-1] = u
	}
	return f
}

func TestReachSets(t *testing.T)        { testReachSets(t, single) }
func TestReachSetsSharded(t *testing.T) { testReachSets(t, sharded(t)) }
