package simevents_test

import (
	"slices"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/simevents"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/simulate"
)

// macros are the macros of admeter's monitoring URLs (package api).
const macros = "&mo=__OS__&ns=__IP__&m0=__OPENUDID__&m1a=__ANDROIDID__&m2=__IMEI__&m4=__AAID__" +
	"&m5=__IDFA__&m6=__MAC1__&m6a=__MAC__&m11=__OAID__&m11a=__OAID1__&m14=__CAID__&tr=__REQUESTID__&mt=__TS__"

// plan generates one day of traffic for two placements, with opt-out API
// calls (POSTs that are not batches) when appOptOut is positive.
func plan(t *testing.T, appOptOut float64) *simulate.Plan {
	t.Helper()
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	end := start.AddDate(0, 0, 1)
	cfg := simulate.DefaultConfig()
	cfg.Seed = 7
	cfg.Now, cfg.Start, cfg.End = end, start, end
	cfg.OptOut, cfg.AppOptOut, cfg.Retries = 0, appOptOut, 0
	cfg.Devices, cfg.Impressions = 2_000, 6_000
	c := simulate.Campaign{ID: "c1", Timezone: "Asia/Shanghai", LandingURL: "https://example.com/"}
	for _, pl := range []struct{ id, media string }{{"p1", "抖音"}, {"p2", "快手"}} {
		q := "/x/k=c1&p=" + pl.id + macros
		c.Placements = append(c.Placements, simulate.Placement{ID: pl.id, Media: pl.media,
			ImpressionURL: q, ClickURL: "/r/k=c1&p=" + pl.id + macros + "&o=https://example.com/"})
	}
	cfg.Campaigns = []simulate.Campaign{c}
	g, err := simulate.NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan(start, end, end)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newPseudonymizer(t *testing.T) *pseudo.Pseudonymizer {
	t.Helper()
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("simevents test key, not a secret")})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestAppendMatchesTruth(t *testing.T) {
	p := plan(t, 0)
	evs, err := simevents.New(newPseudonymizer(t), "acme").Append(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[admeter.PlacementID]simulate.Counts{}
	for i := range evs {
		e := &evs[i]
		if e.Tenant != "acme" {
			t.Fatalf("event %d has tenant %q, want acme", i, e.Tenant)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d does not validate: %v", i, err)
		}
		if e.Kind == admeter.KindImpression {
			c := got[e.Placement]
			c.Impressions++
			if e.User == (admeter.Pseudonym{}) {
				c.AnonymousImpressions++
			}
			got[e.Placement] = c
		}
	}
	truth := p.Truth()
	if len(truth.Campaigns) != 1 {
		t.Fatalf("truth has %d campaigns, want 1", len(truth.Campaigns))
	}
	for _, pt := range truth.Campaigns[0].Placements {
		g := got[admeter.PlacementID(pt.ID)]
		if g.Impressions != pt.Total.Impressions || g.AnonymousImpressions != pt.Total.AnonymousImpressions {
			t.Errorf("placement %s: %d impressions (%d without a user), truth has %d (%d)", pt.ID,
				g.Impressions, g.AnonymousImpressions, pt.Total.Impressions, pt.Total.AnonymousImpressions)
		}
	}
}

func TestAppendDeterministicAndSkipsOptOutCalls(t *testing.T) {
	p := plan(t, 0.05)
	if !slices.ContainsFunc(p.Requests, func(r simulate.Request) bool { return r.OptOutAPI }) {
		t.Fatal("plan has no opt-out API call: the test cannot check that they are skipped")
	}
	ps := newPseudonymizer(t)
	a, err := simevents.New(ps, "acme").Append(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := simevents.New(ps, "acme").Append(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("two converters gave different events (%d and %d)", len(a), len(b))
	}
}
