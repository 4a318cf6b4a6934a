package benchmark_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/benchmark"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/store/duckdb"
	st "github.com/admeter/admeter/store/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// world is a benchmark service over the real SQLite metadata store and
// DuckDB event store, with:
//   - five gaming tenants g0…g4, each with one campaign: placement A on
//     "Douyin" and placement B on " douyin" (the same media key), and g4
//     also placement C on "Bilibili" (one tenant: withheld);
//   - four finance tenants with the same traffic (withheld: too few);
//   - one tenant without an industry (left out).
//
// Tenant i's campaign has (see traffic): on A, users 1…60+10i one valid
// impression each, 2(i+1) valid clicks, i+1 invalid impressions of other
// users, viewability results for its first 40 impressions of which 20+i
// viewable; on B, users 1…10 one impression each; g4 on C, users 1…20 one
// impression each.
type world struct {
	svc     *benchmark.Service
	meta    *sqlite.DB
	gaming  []*admeter.Campaign
	finance []*admeter.Campaign
}

// at is when the traffic happens: 2026-03-11 in Shanghai.
var at = time.Date(2026, 3, 11, 10, 0, 0, 0, shanghai)

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	meta := sqlite.NewDB(filepath.Join(dir, "meta.db"))
	if err := meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	svc, err := benchmark.New(benchmark.DefaultConfig(), meta, events, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{svc: svc, meta: meta}
	ctx := context.Background()
	var evs []admeter.Event
	vf := 0
	add := func(name string, ind admeter.Industry, i int, extra bool) *admeter.Campaign {
		tenant := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser, Industry: ind}
		if err := meta.CreateTenant(ctx, tenant, sha256.Sum256([]byte(name))); err != nil {
			t.Fatal(err)
		}
		c := &admeter.Campaign{Tenant: tenant.ID, Name: name, LandingURL: "https://shop.example.com/",
			Placements: []admeter.Placement{{Name: "A", Media: "Douyin"}, {Name: "B", Media: " douyin"}}}
		if extra {
			c.Placements = append(c.Placements, admeter.Placement{Name: "C", Media: "Bilibili"})
		}
		if err := meta.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		on := func(p int) st.Opt {
			return func(e *admeter.Event) { e.Tenant, e.Campaign, e.Placement = tenant.ID, c.ID, c.Placements[p].ID }
		}
		for u := 1; u <= 60+10*i; u++ {
			vf++
			evs = append(evs, st.Imp(at, on(0), st.User(u), st.VF(vf)))
			if u <= 40 {
				r := admeter.ViewNotViewable
				if u <= 20+i {
					r = admeter.ViewViewable
				}
				evs = append(evs, st.Viewed(at.Add(time.Second), r, on(0), st.User(u), st.VF(vf)))
			}
		}
		for u := 1; u <= 2*(i+1); u++ {
			evs = append(evs, st.Click(at.Add(time.Minute), on(0), st.User(u)))
		}
		for j := range i + 1 {
			vf++
			evs = append(evs, st.Imp(at, on(0), st.User(1000+j), st.VF(vf), st.IVT(admeter.IVTCrawler)))
		}
		for u := 1; u <= 10; u++ {
			vf++
			evs = append(evs, st.Imp(at, on(1), st.User(u), st.VF(vf)))
		}
		if extra {
			for u := 1; u <= 20; u++ {
				vf++
				evs = append(evs, st.Imp(at, on(2), st.User(u), st.VF(vf)))
			}
		}
		return c
	}
	for i := range 5 {
		w.gaming = append(w.gaming, add(fmt.Sprintf("game %d", i), admeter.IndustryGaming, i, i == 4))
	}
	for i := range 4 {
		w.finance = append(w.finance, add(fmt.Sprintf("bank %d", i), admeter.IndustryFinance, i, false))
	}
	add("no industry", "", 0, false)
	if err := events.Insert(ctx, evs, 1); err != nil {
		t.Fatal(err)
	}
	return w
}

// wantGaming returns the gaming cells the traffic makes, computed from
// the traffic's description rather than by the code under test (but for
// the quartile rule, tested on its own).
func wantGaming() (all, douyin admeter.BenchmarkCell) {
	var ctr, view, ivt, freqAll, freqDouyin []float64
	var clicks, imps, invalid, measurable, viewable, reachAll, freqImpsAll, reachDouyin, freqImpsDouyin float64
	for i := range 5 {
		fi := float64(i)
		ti := 60 + 10*fi + 10 // valid impressions on douyin
		ctr = append(ctr, 2*(fi+1)/ti)
		view = append(view, (20+fi)/40)
		ivt = append(ivt, (fi+1)/(ti+fi+1))
		// Reach: users 1…60+10i on A, 1…10 on B: the same users.
		freqDouyin = append(freqDouyin, ti/(60+10*fi))
		clicks, imps, invalid, measurable, viewable = clicks+2*(fi+1), imps+ti, invalid+fi+1, measurable+40, viewable+20+fi
		reachDouyin, freqImpsDouyin = reachDouyin+60+10*fi, freqImpsDouyin+ti
		if i == 4 { // 20 more impressions on Bilibili, users 1…20
			freqAll = append(freqAll, (ti+20)/(60+10*fi))
			reachAll, freqImpsAll = reachAll+60+10*fi, freqImpsAll+ti+20
		} else {
			freqAll = append(freqAll, ti/(60+10*fi))
			reachAll, freqImpsAll = reachAll+60+10*fi, freqImpsAll+ti
		}
	}
	value := func(num, den float64, vs []float64) admeter.BenchmarkValue {
		slices.Sort(vs)
		return admeter.BenchmarkValue{Tenants: 5, Pooled: num / den,
			P25: benchmark.Quartile(vs, 1), P50: benchmark.Quartile(vs, 2), P75: benchmark.Quartile(vs, 3)}
	}
	douyin = admeter.BenchmarkCell{Industry: admeter.IndustryGaming, Media: "douyin", Tenants: 5,
		CTR: value(clicks, imps, ctr), ViewableRate: value(viewable, measurable, view), IVTRate: value(invalid, imps+invalid, ivt),
		Frequency: value(freqImpsDouyin, reachDouyin, freqDouyin)}
	all = douyin
	all.Media = ""
	// Bilibili's 20 valid impressions join the all-media cell, without
	// clicks, viewability or invalid traffic.
	ctrAll, ivtAll := slices.Clone(ctr), slices.Clone(ivt)
	ctrAll[4] = 10 / (110 + 20.0)
	ivtAll[4] = 5 / (110 + 20 + 5.0)
	all.CTR = value(clicks, imps+20, ctrAll)
	all.IVTRate = value(invalid, imps+20+invalid, ivtAll)
	all.Frequency = value(freqImpsAll, reachAll, freqAll)
	return all, douyin
}

func TestPublish(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	snap, err := w.svc.Publish(ctx, benchmark.PublishRequest{From: "2026-03-10", To: "2026-03-12"})
	if err != nil {
		t.Fatal(err)
	}
	all, douyin := wantGaming()
	if len(snap.Cells) != 2 {
		t.Fatalf("published %d cells %+v, want gaming all-media and douyin", len(snap.Cells), snap.Cells)
	}
	for i, want := range []admeter.BenchmarkCell{all, douyin} {
		got := snap.Cells[i]
		if got.Industry != want.Industry || got.Media != want.Media || got.Tenants != want.Tenants {
			t.Fatalf("cell %d = %s/%q with %d tenants, want %s/%q with %d", i, got.Industry, got.Media, got.Tenants, want.Industry, want.Media, want.Tenants)
		}
		for _, m := range admeter.BenchmarkMeasures {
			if g, w := *got.Value(m), *want.Value(m); g != w {
				t.Errorf("%s/%q %s = %+v, want %+v", got.Industry, got.Media, m, g, w)
			}
		}
	}
	// Finance all-media and douyin (4 tenants), gaming bilibili (1).
	if snap.Withheld != 3 {
		t.Errorf("withheld %d cells, want 3", snap.Withheld)
	}
	if snap.ID == 0 || snap.MinTenants != 5 || snap.MinUsers != 50 || snap.MaxShare != 0.3 {
		t.Errorf("snapshot %+v", snap)
	}
	got, err := w.svc.Snapshot(ctx, "2026-03-10/2026-03-12")
	if err != nil {
		t.Fatal(err)
	} else if got.ID != snap.ID || len(got.Cells) != 2 || got.Cells[1] != snap.Cells[1] {
		t.Fatalf("stored snapshot differs: %+v", got)
	}

	// Stricter rules: k = 121 exceeds the largest campaign's reach (110).
	strict, err := w.svc.Publish(ctx, benchmark.PublishRequest{From: "2026-03-10", To: "2026-03-12", Rules: benchmark.Rules{MinUsers: 121}})
	if err != nil {
		t.Fatal(err)
	} else if len(strict.Cells) != 0 || strict.Withheld != 5 || strict.MinUsers != 121 {
		t.Fatalf("with k = 121: %d cells, %d withheld, k %d", len(strict.Cells), strict.Withheld, strict.MinUsers)
	}
	// Looser rules in a request are ignored (the configured ones hold).
	loose, err := w.svc.Publish(ctx, benchmark.PublishRequest{From: "2026-03-10", To: "2026-03-12", Rules: benchmark.Rules{MinTenants: 2, MinUsers: 1}})
	if err != nil {
		t.Fatal(err)
	} else if len(loose.Cells) != 2 || loose.MinTenants != 5 || loose.MinUsers != 50 {
		t.Fatalf("with looser rules asked: %d cells, rules %d/%d", len(loose.Cells), loose.MinTenants, loose.MinUsers)
	}
	// A day without traffic publishes nothing.
	empty, err := w.svc.Publish(ctx, benchmark.PublishRequest{From: "2026-03-12", To: "2026-03-12"})
	if err != nil || len(empty.Cells) != 0 || empty.Withheld != 0 {
		t.Fatalf("empty period: %+v, %v", empty, err)
	}
	for _, bad := range []benchmark.PublishRequest{{From: "2026-03-10"}, {From: "2026-03-12", To: "2026-03-10"},
		{From: "2026-01-01", To: "2026-06-30"}, {From: "yesterday", To: "2026-03-10"}} {
		if _, err := w.svc.Publish(ctx, bad); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("Publish(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

func TestCompare(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if _, err := w.svc.Compare(ctx, benchmark.CompareRequest{Tenant: w.gaming[0].Tenant, Campaign: w.gaming[0].ID}); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("Compare before any publication = %v, want ENOTFOUND", err)
	}
	if _, err := w.svc.Publish(ctx, benchmark.PublishRequest{From: "2026-03-10", To: "2026-03-12"}); err != nil {
		t.Fatal(err)
	}
	all, douyin := wantGaming()
	c := w.gaming[0] // the lowest CTR and viewable rate, the highest frequency
	cmp, err := w.svc.Compare(ctx, benchmark.CompareRequest{Tenant: c.Tenant, Campaign: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Industry != admeter.IndustryGaming || cmp.From != "2026-03-10" || cmp.To != "2026-03-12" || len(cmp.Rows) != 2 {
		t.Fatalf("comparison %+v", cmp)
	}
	want := map[string]struct {
		value float64
		pos   benchmark.Position
	}{
		admeter.MeasureCTR:          {2.0 / 70, benchmark.BelowP25},
		admeter.MeasureViewableRate: {20.0 / 40, benchmark.BelowP25},
		admeter.MeasureIVTRate:      {1.0 / 71, benchmark.BelowP25},
		admeter.MeasureFrequency:    {70.0 / 60, benchmark.AboveP75},
	}
	for i, cell := range []admeter.BenchmarkCell{all, douyin} {
		row := cmp.Rows[i]
		if row.Media != cell.Media || !row.Benchmarked || row.Tenants != 5 {
			t.Fatalf("row %d = %+v", i, row)
		}
		for _, m := range row.Measures {
			wantPos := want[m.Measure].pos
			if row.Media == "" && m.Measure == admeter.MeasureFrequency {
				wantPos = benchmark.P50ToP75 // g4's Bilibili impressions raise the all-media quartiles
			}
			if m.Value == nil || *m.Value != want[m.Measure].value || m.Position != wantPos {
				t.Errorf("%q %s: value %v position %s, want %v %s", row.Media, m.Measure, m.Value, m.Position, want[m.Measure].value, wantPos)
			}
			if m.Benchmark == nil || *m.Benchmark != *cell.Value(m.Measure) {
				t.Errorf("%q %s: benchmark %+v, want %+v", row.Media, m.Measure, m.Benchmark, cell.Value(m.Measure))
			}
		}
	}
	// The media with a withheld cell is shown without a benchmark; a
	// tenant cannot see another tenant's campaign.
	g4, err := w.svc.Compare(ctx, benchmark.CompareRequest{Tenant: w.gaming[4].Tenant, Campaign: w.gaming[4].ID, From: "2026-03-11", To: "2026-03-11"})
	if err != nil {
		t.Fatal(err)
	}
	if len(g4.Rows) != 3 || g4.Rows[1].Media != "bilibili" || g4.Rows[1].Benchmarked || g4.Rows[1].Measures[0].Benchmark != nil || g4.Rows[1].Measures[0].Position != "" {
		t.Fatalf("g4 rows %+v", g4.Rows)
	}
	if _, err := w.svc.Compare(ctx, benchmark.CompareRequest{Tenant: w.gaming[1].Tenant, Campaign: c.ID}); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("another tenant's campaign: %v, want ENOTFOUND", err)
	}
	// Finance has no published cell: values without benchmarks.
	f, err := w.svc.Compare(ctx, benchmark.CompareRequest{Tenant: w.finance[0].Tenant, Campaign: w.finance[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range f.Rows {
		if row.Benchmarked {
			t.Errorf("finance row %q is benchmarked", row.Media)
		}
	}
}
