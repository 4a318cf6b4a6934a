package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/benchmark"
)

// benchValue is a published measure as GET /api/v1/benchmarks shows it.
type benchValue struct {
	Pooled, P25, P50, P75 float64
	Tenants               int
}

// benchCell is a published cell as the API shows it.
type benchCell struct {
	Industry     string
	Media        string
	Tenants      int
	CTR          *benchValue `json:"ctr"`
	ViewableRate *benchValue `json:"viewable_rate"`
	IVTRate      *benchValue `json:"ivt_rate"`
	Frequency    *benchValue `json:"frequency"`
}

// TestIndustryBenchmarkEndToEnd runs the real binary, creates six gaming
// advertisers and one travel advertiser with the operator token, sends
// each campaign's traffic through the batch API (valid impressions,
// clicks, viewability results, crawler impressions), publishes the
// benchmarks of the day and checks the published gaming cells exactly
// against what was sent; the travel cell (one tenant) is withheld; a
// tenant sees where its campaign stands.
func TestIndustryBenchmarkEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, dir, "--ivt-interval", "0")
	opb, err := os.ReadFile(filepath.Join(dir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	op := strings.TrimSpace(string(opb))
	base := p.base

	type sent struct {
		token, campaign                         string
		imps, clicks, invalid, measured, viewed int
	}
	var tenants []sent
	now := midday()
	for i := range 7 {
		industry := "gaming"
		if i == 6 {
			industry = "travel"
		}
		var tenant struct{ ID, Token, Industry string }
		if st := apiCall(t, "POST", base+"/api/v1/tenants", op, map[string]string{"name": fmt.Sprintf("基准客户%d", i), "kind": "advertiser", "industry": industry}, &tenant); st != 201 || tenant.Industry != industry {
			t.Fatalf("create tenant: %d %+v", st, tenant)
		}
		var c testCampaign
		if st := apiCall(t, "POST", base+"/api/v1/campaigns", tenant.Token, map[string]any{
			"name": "基准活动", "landing_url": "https://shop.example.com/",
			"placements": []map[string]string{{"name": "信息流", "media": "抖音"}},
		}, &c); st != 201 {
			t.Fatalf("create campaign: %d", st)
		}
		// Tenant i: 55+5i users with one impression each (the first 30
		// measured, 10+i of them viewable), i+1 of them click, and i+1
		// crawler impressions.
		s := sent{token: tenant.Token, campaign: c.ID, imps: 55 + 5*i, clicks: i + 1, invalid: i + 1, measured: 30, viewed: 10 + i}
		var evs []map[string]any
		pl := c.Placements[0].ID
		impTS, clickTS := now.Add(-3*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		for u := range s.imps {
			oaid := fmt.Sprintf("bench%02duser%06d", i, u)
			vf := fmt.Sprintf("imp%02d%06d", i, u)
			evs = append(evs, map[string]any{"campaign": c.ID, "placement": pl, "oaid": oaid, "impression_id": vf, "ts": impTS})
			if u < s.measured {
				view := "not_viewable"
				if u < s.viewed {
					view = "viewable"
				}
				evs = append(evs, map[string]any{"type": "viewability", "campaign": c.ID, "placement": pl, "oaid": oaid, "impression_id": vf, "ts": impTS + 2, "view": view})
			}
			if u < s.clicks {
				evs = append(evs, map[string]any{"type": "click", "campaign": c.ID, "placement": pl, "oaid": oaid, "ts": clickTS})
			}
		}
		for u := range s.invalid {
			evs = append(evs, map[string]any{"campaign": c.ID, "placement": pl, "oaid": fmt.Sprintf("bot%02duser%06d", i, u), "ts": impTS,
				"impression_id": fmt.Sprintf("bot%02d%06d", i, u), "ua": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
		}
		var res struct {
			Accepted int
			Rejected []struct{ Reason string }
		}
		if st := apiCall(t, "POST", base+"/v1/events", tenant.Token, evs, &res); st != 200 || res.Accepted != len(evs) {
			t.Fatalf("batch: %d %+v", st, res)
		}
		tenants = append(tenants, s)
	}

	// Wait until the store has every tenant's traffic.
	day := now.In(shanghai()).Format(time.DateOnly)
	for _, s := range tenants {
		var rep struct {
			Total struct {
				Impressions        int64 `json:"impressions"`
				Clicks             int64 `json:"clicks"`
				InvalidImpressions int64 `json:"invalid_impressions"`
			} `json:"total"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			apiCall(t, "GET", base+"/api/v1/campaigns/"+s.campaign+"/report?from="+day+"&to="+day, s.token, nil, &rep)
			if rep.Total.Impressions == int64(s.imps) && rep.Total.Clicks == int64(s.clicks) && rep.Total.InvalidImpressions == int64(s.invalid) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("campaign traffic after 30s: %+v, want %d impressions, %d clicks, %d invalid", rep.Total, s.imps, s.clicks, s.invalid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	var snap struct {
		ID         int64
		MinTenants int `json:"min_tenants"`
		Withheld   int
		Cells      []benchCell
	}
	if st := apiCall(t, "POST", base+"/api/v1/admin/benchmarks", op, map[string]string{"from": day, "to": day}, &snap); st != 201 {
		t.Fatalf("publish: %d", st)
	}
	if len(snap.Cells) != 2 || snap.Withheld != 2 {
		t.Fatalf("published %+v; want gaming's all-media and 抖音 cells, travel's two withheld", snap)
	}

	// The expected cell, from what was sent.
	var ctr, view, ivt, freq []float64
	var clicks, imps, invalid, measured, viewed float64
	gaming := tenants[:6]
	for _, s := range gaming {
		ctr = append(ctr, float64(s.clicks)/float64(s.imps))
		view = append(view, float64(s.viewed)/float64(s.measured))
		ivt = append(ivt, float64(s.invalid)/float64(s.imps+s.invalid))
		freq = append(freq, 1)
		clicks, imps, invalid = clicks+float64(s.clicks), imps+float64(s.imps), invalid+float64(s.invalid)
		measured, viewed = measured+float64(s.measured), viewed+float64(s.viewed)
	}
	want := func(num, den float64, vs []float64) benchValue {
		slices.Sort(vs)
		return benchValue{Pooled: num / den, P25: benchmark.Quartile(vs, 1), P50: benchmark.Quartile(vs, 2), P75: benchmark.Quartile(vs, 3), Tenants: 6}
	}
	wantCTR, wantView, wantIVT, wantFreq := want(clicks, imps, ctr), want(viewed, measured, view), want(invalid, imps+invalid, ivt), want(imps, imps, freq)
	for i, media := range []string{"", "抖音"} {
		c := snap.Cells[i]
		if c.Industry != "gaming" || c.Media != media || c.Tenants != 6 {
			t.Fatalf("cell %d: %+v", i, c)
		}
		for _, m := range []struct {
			name string
			got  *benchValue
			want benchValue
		}{{"ctr", c.CTR, wantCTR}, {"viewable_rate", c.ViewableRate, wantView}, {"ivt_rate", c.IVTRate, wantIVT}, {"frequency", c.Frequency, wantFreq}} {
			if m.got == nil || *m.got != m.want {
				t.Errorf("%q %s = %+v, want %+v", media, m.name, m.got, m.want)
			}
		}
	}

	// A tenant reads the published cells and where its campaign stands;
	// the travel tenant finds no cell of its industry.
	var latest struct {
		ID    int64
		Cells []benchCell
	}
	if st := apiCall(t, "GET", base+"/api/v1/benchmarks?industry=travel", tenants[6].token, nil, &latest); st != 200 || latest.ID != snap.ID || len(latest.Cells) != 0 {
		t.Fatalf("travel tenant's view: %d %+v", st, latest)
	}
	var cmp struct {
		Industry string
		Rows     []struct {
			Media       string
			Benchmarked bool
			Measures    []struct {
				Measure  string
				Value    *float64
				Position string
			}
		}
	}
	if st := apiCall(t, "GET", base+"/api/v1/campaigns/"+tenants[0].campaign+"/benchmark", tenants[0].token, nil, &cmp); st != 200 || len(cmp.Rows) != 2 {
		t.Fatalf("compare: %d %+v", st, cmp)
	}
	// Tenant 0 has the lowest CTR, viewable and IVT rates of the six.
	for _, m := range cmp.Rows[1].Measures {
		wantPos := "below_p25"
		if m.Measure == "frequency" {
			wantPos = "p25_p50" // everyone's frequency is 1
		}
		if !cmp.Rows[1].Benchmarked || m.Position != wantPos {
			t.Errorf("抖音 %s: value %v position %q, want %s", m.Measure, m.Value, m.Position, wantPos)
		}
	}
}
