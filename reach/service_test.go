package reach_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

// TestService_Costs runs the service over a real metadata store and a real
// event store, with a placement under each buying model, and checks every
// group's cost against the rules of docs/reach.md: CPM on counted
// impressions, CPC on clicks, CPD on days with impressions in the range,
// fixed prorated over all the days the placement was live, and no cost at
// all for an unpriced placement.
func TestService_Costs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	meta := sqlite.NewDB(filepath.Join(dir, "meta.db"))
	if err := meta.Open(); err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	tn := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	if err := meta.CreateTenant(ctx, tn, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	yuan := func(m admeter.BuyingModel, v int64) *admeter.Price {
		return &admeter.Price{Model: m, Amount: v * admeter.MicroCNY}
	}
	c := &admeter.Campaign{Tenant: tn.ID, Name: "Costs", LandingURL: "https://a.example.com/", Timezone: "Asia/Shanghai",
		Placements: []admeter.Placement{
			{Name: "cpm", Media: "M-cpm", Price: yuan(admeter.CPM, 50)},
			{Name: "cpc", Media: "M-cpc", Price: yuan(admeter.CPC, 2)},
			{Name: "cpd", Media: "M-cpd", Price: yuan(admeter.CPD, 1000)},
			{Name: "fixed", Media: "M-fixed", Price: yuan(admeter.Fixed, 9000)},
			{Name: "free", Media: "M-free", Price: yuan(admeter.CPM, 0)},
			{Name: "unpriced", Media: "M-unpriced"},
		}}
	if err := meta.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}

	// Every placement: two impressions a day (one without a user) from
	// November 10 to 12 in Shanghai, and one click a day; the fixed one
	// also on November 1 and 2, before the range, and the CPM one has an
	// impression retried (counted once).
	var evs []admeter.Event
	day := func(d int) time.Time { return time.Date(2026, 11, d, 4, 0, 0, 0, time.UTC) } // noon in Shanghai
	user := 0
	for i, p := range c.Placements {
		days := []int{10, 11, 12}
		if p.Name == "fixed" {
			days = append(days, 1, 2)
		}
		for _, d := range days {
			user++
			on := []storetest.Opt{storetest.Tenant(tn.ID), storetest.Campaign(c.ID), storetest.Placement(p.ID)}
			evs = append(evs,
				storetest.Imp(day(d), append(on, storetest.User(user), storetest.VF(user))...),
				storetest.Imp(day(d).Add(time.Minute), on...),
				storetest.Click(day(d).Add(2*time.Minute), append(on, storetest.User(user))...))
			if i == 0 {
				evs = append(evs, storetest.Imp(day(d).Add(time.Hour), append(on, storetest.User(user), storetest.VF(user))...))
			}
		}
	}
	if err := events.Insert(ctx, evs, uint64(len(evs))); err != nil {
		t.Fatal(err)
	}

	svc := reach.NewService(meta, events)
	svc.Now = func() time.Time { return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) }
	res, err := svc.Reach(ctx, reach.Request{Sources: []reach.Source{{Owner: tn.ID, Campaign: c.ID}},
		From: "2026-11-11", To: "2026-11-12", By: "placement", Costs: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, g := range res.Groups {
		b, _ := json.Marshal(g.Cost)
		got[g.Name] = string(b)
	}
	want := map[string]string{
		"cpm":      `"0.20"`,    // 4 impressions × 50 / 1000
		"cpc":      `"4.00"`,    // 2 clicks × 2
		"cpd":      `"2000.00"`, // 2 days × 1000
		"fixed":    `"3600.00"`, // 9000 × 2 days of 5
		"free":     `"0.00"`,
		"unpriced": "null",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s costs %s, want %s", k, got[k], w)
		}
	}
	if res.Totals.Cost != nil {
		t.Errorf("total cost %d with an unpriced placement, want unknown", *res.Totals.Cost)
	}

	// Without the right to see prices, nothing is costed.
	res, err = svc.Reach(ctx, reach.Request{Sources: []reach.Source{{Owner: tn.ID, Campaign: c.ID}},
		From: "2026-11-11", To: "2026-11-12", By: "placement"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range res.Groups {
		if g.Cost != nil {
			t.Errorf("%s costs %d to a caller who may not see prices", g.Name, *g.Cost)
		}
	}
}
