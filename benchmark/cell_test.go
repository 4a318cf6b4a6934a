package benchmark_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/benchmark"
)

// even returns n tenants with the same traffic: 1000 valid impressions,
// 20 clicks, 50 invalid, 800 measured of which 600 viewable, and one
// campaign reaching reach users with 1000 impressions.
func even(n int, reach int64) []benchmark.Contribution {
	var cs []benchmark.Contribution
	for i := range n {
		cs = append(cs, benchmark.Contribution{Tenant: admeter.TenantID(fmt.Sprintf("t%d", i)), Impressions: 1000, Clicks: 20,
			InvalidImpressions: 50, Measurable: 800, Viewable: 600, Reach: reach, ReachImpressions: 1000, MaxReach: reach})
	}
	return cs
}

func TestCellRules(t *testing.T) {
	rules := benchmark.DefaultRules()
	dominant := even(6, 100)
	dominant[0].Impressions = 2000 // 2050 of 7300 gross: 28 %, under 30 %
	tooDominant := even(6, 100)
	tooDominant[0].Impressions = 3000 // 3050 of 8300: 36.7 %
	split := even(4, 100)
	split = append(split, benchmark.Contribution{Tenant: "t0", Impressions: 10}) // t0 again: still 4 tenants
	idle := append(even(4, 100), benchmark.Contribution{Tenant: "idle"})         // no impressions: not a contributor
	tests := []struct {
		name    string
		rules   benchmark.Rules
		cs      []benchmark.Contribution
		wantWhy string
	}{
		{"5 tenants, 100 users", rules, even(5, 100), ""},
		{"4 tenants", rules, even(4, 100), benchmark.WithheldTenants},
		{"4 tenants, one given twice", rules, split, benchmark.WithheldTenants},
		{"4 tenants and one without impressions", rules, idle, benchmark.WithheldTenants},
		{"6 tenants under a raised minimum of 7", rules.Stricter(benchmark.Rules{MinTenants: 7}), even(6, 100), benchmark.WithheldTenants},
		{"49 users at most", rules, even(10, 49), benchmark.WithheldUsers},
		{"50 users", rules, even(10, 50), ""},
		{"50 users under a raised k of 51", rules.Stricter(benchmark.Rules{MinUsers: 51}), even(10, 50), benchmark.WithheldUsers},
		{"largest tenant 28 %", rules, dominant, ""},
		{"largest tenant 37 %", rules, tooDominant, benchmark.WithheldDominance},
		{"largest tenant 28 % under a share of 25 %", rules.Stricter(benchmark.Rules{MaxShare: 0.25}), dominant, benchmark.WithheldDominance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cell, why := benchmark.Cell(tt.rules, admeter.IndustryGaming, "douyin", tt.cs)
			if why != tt.wantWhy {
				t.Fatalf("withheld for %q, want %q", why, tt.wantWhy)
			}
			if why != "" && cell.Tenants != 0 {
				t.Fatalf("a withheld cell carries %d tenants", cell.Tenants)
			}
			if why == "" && (cell.Industry != admeter.IndustryGaming || cell.Media != "douyin" || !cell.CTR.Published()) {
				t.Fatalf("published cell %+v", cell)
			}
		})
	}
}

// TestCellUsersLowerBound: the users rule takes the largest single
// campaign's reach, not the sum: ten campaigns of 10 users each may be the
// same ten people.
func TestCellUsersLowerBound(t *testing.T) {
	cs := even(10, 10)
	var sum int64
	for _, c := range cs {
		sum += c.Reach
	}
	if sum < benchmark.DefaultMinUsers {
		t.Fatalf("test setup: the reaches add up to %d", sum)
	}
	if _, why := benchmark.Cell(benchmark.DefaultRules(), admeter.IndustryGaming, "", cs); why != benchmark.WithheldUsers {
		t.Fatalf("withheld for %q, want users: summed reaches are no bound on distinct users", why)
	}
}

func TestCellValues(t *testing.T) {
	// Five tenants with CTRs 1 %, 2 %, 3 %, 4 %, 5 % on 1000 impressions
	// each; only three of them measured viewability; one holds most of the
	// reach.
	var cs []benchmark.Contribution
	for i := range 5 {
		c := benchmark.Contribution{Tenant: admeter.TenantID(fmt.Sprint(i)), Impressions: 1000, Clicks: int64(10 * (i + 1)),
			InvalidImpressions: int64(i * 100), Reach: 100, ReachImpressions: 200, MaxReach: 100}
		if i < 3 {
			c.Measurable, c.Viewable = 100, int64(50+i)
		}
		if i == 4 {
			c.Reach, c.ReachImpressions, c.MaxReach = 10000, 30000, 10000
		}
		cs = append(cs, c)
	}
	cell, why := benchmark.Cell(benchmark.DefaultRules(), admeter.IndustryFinance, "", cs)
	if why != "" {
		t.Fatalf("withheld for %s", why)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if cell.Tenants != 5 || cell.CTR.Tenants != 5 {
		t.Fatalf("tenants %d / %d, want 5", cell.Tenants, cell.CTR.Tenants)
	}
	near("pooled CTR", cell.CTR.Pooled, 150.0/5000)
	// Positions 1, 2, 3 fall on a tenant: the mean with its neighbours.
	near("CTR p25", cell.CTR.P25, 0.02)
	near("CTR p50", cell.CTR.P50, 0.03)
	near("CTR p75", cell.CTR.P75, 0.04)
	near("pooled IVT rate", cell.IVTRate.Pooled, 1000.0/6000)
	if cell.ViewableRate.Published() {
		t.Errorf("viewable rate measured by 3 tenants is published: %+v", cell.ViewableRate)
	}
	if cell.Frequency.Published() {
		t.Errorf("frequency dominated by one tenant's reach is published: %+v", cell.Frequency)
	}
}

func TestQuartile(t *testing.T) {
	tests := []struct {
		values        []float64
		p25, p50, p75 float64
	}{
		// n = 5: every position falls on a value; the neighbours blend in.
		{[]float64{1, 2, 3, 4, 100}, 2, 3, (3 + 4 + 100) / 3.0},
		// n = 6: positions 1.25, 2.5, 3.75.
		{[]float64{0, 10, 20, 30, 40, 50}, 12.5, 25, 37.5},
		// n = 7: positions 1.5, 3, 4.5.
		{[]float64{0, 1, 2, 3, 4, 5, 6}, 1.5, 3, 4.5},
		// n = 8: positions 1.75, 3.5, 5.25.
		{[]float64{0, 4, 8, 12, 16, 20, 24, 28}, 7, 14, 21},
	}
	for _, tt := range tests {
		got := [3]float64{benchmark.Quartile(tt.values, 1), benchmark.Quartile(tt.values, 2), benchmark.Quartile(tt.values, 3)}
		if want := [3]float64{tt.p25, tt.p50, tt.p75}; got != want {
			t.Errorf("quartiles of %v = %v, want %v", tt.values, got, want)
		}
	}
}

// TestQuartileNeverOneTenant: with distinct values, no quartile equals any
// single tenant's value.
func TestQuartileNeverOneTenant(t *testing.T) {
	for n := 5; n <= 40; n++ {
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(i*i) + 1 // distinct, unevenly spaced
		}
		for q := 1; q <= 3; q++ {
			v := benchmark.Quartile(values, q)
			for i, x := range values {
				if v == x {
					t.Errorf("n=%d: quartile %d = tenant %d's value %v", n, q, i, x)
				}
			}
		}
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		rules benchmark.Rules
		ok    bool
	}{
		{benchmark.DefaultRules(), true},
		{benchmark.Rules{MinTenants: 10, MinUsers: 1000, MaxShare: 0.1}, true},
		{benchmark.Rules{MinTenants: 4, MinUsers: 50, MaxShare: 0.3}, false},
		{benchmark.Rules{MinTenants: 5, MinUsers: 49, MaxShare: 0.3}, false},
		{benchmark.Rules{MinTenants: 5, MinUsers: 50, MaxShare: 0.31}, false},
		{benchmark.Rules{MinTenants: 5, MinUsers: 50, MaxShare: 0}, false},
	}
	for _, tt := range tests {
		if err := tt.rules.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tt.rules, err, tt.ok)
		}
	}
	// Stricter never loosens.
	if got := benchmark.DefaultRules().Stricter(benchmark.Rules{MinTenants: 2, MinUsers: 10, MaxShare: 0.9}); got != benchmark.DefaultRules() {
		t.Errorf("Stricter with looser rules = %+v, want the defaults", got)
	}
}

func TestPositionOf(t *testing.T) {
	b := admeter.BenchmarkValue{Tenants: 5, P25: 1, P50: 2, P75: 3}
	for v, want := range map[float64]benchmark.Position{0.5: benchmark.BelowP25, 1: benchmark.P25ToP50, 2: benchmark.P25ToP50,
		2.5: benchmark.P50ToP75, 3: benchmark.P50ToP75, 3.5: benchmark.AboveP75} {
		if got := benchmark.PositionOf(v, b); got != want {
			t.Errorf("PositionOf(%v) = %s, want %s", v, got, want)
		}
	}
}
