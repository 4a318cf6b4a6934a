package mediaplan_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/simevents"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/simulate"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
)

// Holdout tolerances: the largest relative errors of the model's
// predictions of days 1–14 from a fit on days 1–10 (measured: see the
// log of TestHoldout and docs).
const (
	holdoutUnitTol  = 0.03 // each placement's reach (measured 0.7 %)
	holdoutUnionTol = 0.03 // the deduplicated reach (measured 0.6 %)
	holdout3Tol     = 0.06 // the users reached 3+ times (measured 2.1 %)
)

// macros are the macros of admeter's monitoring URLs (package api).
const macros = "&mo=__OS__&ns=__IP__&m0=__OPENUDID__&m1a=__ANDROIDID__&m2=__IMEI__&m4=__AAID__" +
	"&m5=__IDFA__&m6=__MAC1__&m6a=__MAC__&m11=__OAID__&m11a=__OAID1__&m14=__CAID__&tr=__REQUESTID__&mt=__TS__"

// holdoutDays and fitDays: the model is fitted on the first fitDays days
// and predicts all holdoutDays.
const holdoutDays, fitDays = 14, 10

// TestHoldout validates the reach model against the simulator: it loads 14
// days of simulated traffic of one campaign (8 placements on 5 media) into
// a real DuckDB store, fits the model on days 1–10, predicts the reach of
// days 1–14 at their measured impressions, and compares with what the
// store measures, and with the naive baseline (reach linear in
// impressions).
func TestHoldout(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 14 days of simulated traffic")
	}
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, holdoutDays)

	media := []string{"今日头条", "抖音", "快手", "腾讯视频", "爱奇艺"}
	c := simulate.Campaign{ID: "hold", Timezone: "Asia/Shanghai", LandingURL: "https://example.com/"}
	groups := map[admeter.PlacementID]int{}
	for j := range 8 {
		id := fmt.Sprintf("p%d", j+1)
		q := "/x/k=hold&p=" + id + macros
		c.Placements = append(c.Placements, simulate.Placement{ID: id, Media: media[j%len(media)],
			ImpressionURL: q, ClickURL: "/r/k=hold&p=" + id + macros + "&o=https://example.com/"})
		groups[admeter.PlacementID(id)] = j
	}
	cfg := simulate.DefaultConfig()
	cfg.Seed = 12
	cfg.Now, cfg.Start, cfg.End = end, start, end
	cfg.Campaigns = []simulate.Campaign{c}
	cfg.OptOut, cfg.AppOptOut, cfg.IVT = 0, 0, nil
	cfg.Devices = 0
	cfg.SizeFor(300_000)
	g, err := simulate.NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("mediaplan holdout key, not a secret")})
	if err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conv := simevents.New(ps, "acme")
	for d := range holdoutDays {
		from := start.AddDate(0, 0, d)
		to := from.AddDate(0, 0, 1)
		plan, err := g.Plan(from, to, to)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := conv.Append(nil, plan)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Insert(ctx, evs, uint64(d+1)); err != nil {
			t.Fatal(err)
		}
	}

	measure := func(days int) mediaplan.Input {
		res, err := db.ReachSets(ctx, store.ReachSetQuery{Tenants: []admeter.TenantID{"acme"},
			Campaigns: []admeter.CampaignID{"hold"}, From: start, To: start.AddDate(0, 0, days), Groups: groups})
		if err != nil {
			t.Fatal(err)
		}
		in := mediaplan.Input{UnionFrequency: res.Frequency}
		for _, n := range res.Frequency {
			in.Union += n
		}
		for j, p := range c.Placements {
			gr := res.Groups[j]
			in.Units = append(in.Units, mediaplan.Unit{Key: p.ID, Name: p.Media,
				Impressions: gr.Impressions, Users: gr.Users, Frequency: gr.Frequency})
		}
		return in
	}
	fitIn, truth := measure(fitDays), measure(holdoutDays)
	md, err := mediaplan.Fit(fitIn)
	if err != nil {
		t.Fatal(err)
	}
	imps := make([]float64, len(truth.Units))
	var imp10, imp14 float64
	for i, u := range truth.Units {
		imps[i] = float64(u.Impressions)
		imp10 += float64(fitIn.Units[i].Impressions)
		imp14 += float64(u.Impressions)
	}
	pred, err := md.Predict(imps, 0)
	if err != nil {
		t.Fatal(err)
	}

	relErr := func(got float64, want int64) float64 { return math.Abs(got/float64(want) - 1) }
	var unitErr, unitBase float64
	for i, u := range truth.Units {
		f := fitIn.Units[i]
		e := relErr(pred.Units[i], u.Users)
		b := relErr(float64(f.Users)*float64(u.Impressions)/float64(f.Impressions), u.Users)
		t.Logf("%s %s: fit %s; reach 1-10 %d, 1-14 %d, model %.0f (%.1f%%), linear %.1f%%",
			u.Key, u.Name, md.Units[i], f.Users, u.Users, pred.Units[i], 100*e, 100*b)
		unitErr, unitBase = max(unitErr, e), max(unitBase, b)
	}
	s := imp14 / imp10
	at3 := func(in mediaplan.Input) int64 {
		var n int64
		for _, v := range in.UnionFrequency[2:] {
			n += v
		}
		return n
	}
	unionErr, unionBase := relErr(pred.Reach, truth.Union), relErr(float64(fitIn.Union)*s, truth.Union)
	err3, base3 := relErr(pred.AtLeast[2], at3(truth)), relErr(float64(at3(fitIn))*s, at3(truth))
	t.Logf("universe %.0f (overlap %v); impressions 1-10 %.0f, 1-14 %.0f", md.Universe, md.Overlap, imp10, imp14)
	t.Logf("largest placement error %.2f%% (linear %.2f%%)", 100*unitErr, 100*unitBase)
	t.Logf("union reach: 1-10 %d, 1-14 %d, model %.0f: error %.2f%% (linear %.2f%%)", fitIn.Union, truth.Union, pred.Reach, 100*unionErr, 100*unionBase)
	t.Logf("3+ reach: 1-10 %d, 1-14 %d, model %.0f: error %.2f%% (linear %.2f%%)", at3(fitIn), at3(truth), pred.AtLeast[2], 100*err3, 100*base3)
	t.Logf("model at the fit, at least 1..5: measured %v, model %.0f", md.MeasuredAtLeast[:5], md.PredictedAtLeast[:5])
	if unitErr > holdoutUnitTol || unionErr > holdoutUnionTol || err3 > holdout3Tol {
		t.Errorf("holdout errors: placements %.2f%%, union %.2f%%, 3+ %.2f%%; tolerances %.0f%%, %.0f%%, %.0f%%",
			100*unitErr, 100*unionErr, 100*err3, 100*holdoutUnitTol, 100*holdoutUnionTol, 100*holdout3Tol)
	}
	if unitErr >= unitBase || unionErr >= unionBase || err3 >= base3 {
		t.Errorf("the model does not beat the linear baseline: placements %.2f%% vs %.2f%%, union %.2f%% vs %.2f%%, 3+ %.2f%% vs %.2f%%",
			100*unitErr, 100*unitBase, 100*unionErr, 100*unionBase, 100*err3, 100*base3)
	}
}
