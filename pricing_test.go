package admeter_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// TestPriceValidate checks the models and the amount range a price may
// have, and that Campaign.Validate names the placement of a bad price.
func TestPriceValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		price   admeter.Price
		message string
	}{
		{"CPM", admeter.Price{Model: admeter.CPM, Amount: 35 * admeter.MicroCNY}, ""},
		{"CPC", admeter.Price{Model: admeter.CPC, Amount: 1_500_000}, ""},
		{"CPD", admeter.Price{Model: admeter.CPD, Amount: 200_000 * admeter.MicroCNY}, ""},
		{"Fixed", admeter.Price{Model: admeter.Fixed, Amount: admeter.MaxPriceAmount}, ""},
		{"Free", admeter.Price{Model: admeter.CPM}, ""},
		{"NoModel", admeter.Price{Amount: 1}, `placements[1].price.model "" is not a buying model`},
		{"UpperCase", admeter.Price{Model: "CPM", Amount: 1}, `placements[1].price.model "CPM" is not a buying model`},
		{"Negative", admeter.Price{Model: admeter.CPC, Amount: -1}, "placements[1].price.amount -0.000001 is negative"},
		{"TooMuch", admeter.Price{Model: admeter.Fixed, Amount: admeter.MaxPriceAmount + 1}, "placements[1].price.amount 1000000000.000001 is more than 1000000000.00 yuan"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			price := tt.price
			c := admeter.Campaign{Name: "c", LandingURL: "https://example.com/",
				Placements: []admeter.Placement{{Name: "a", Media: "m"}, {Name: "b", Media: "m", Price: &price}}}
			err := c.Validate()
			if tt.message == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tt.message) {
				t.Fatalf("Validate() = %v, want EINVALID with %q", err, tt.message)
			}
			if _, err := tt.price.Cost(admeter.Usage{}); err == nil {
				t.Errorf("Cost of invalid price %+v succeeded", tt.price)
			}
		})
	}
}

// TestPriceCost is the table of costs by model, with the rounding and the
// proration of fixed prices.
func TestPriceCost(t *testing.T) {
	const y = admeter.MicroCNY
	cpm := func(a int64) admeter.Price { return admeter.Price{Model: admeter.CPM, Amount: a} }
	cpc := func(a int64) admeter.Price { return admeter.Price{Model: admeter.CPC, Amount: a} }
	cpd := func(a int64) admeter.Price { return admeter.Price{Model: admeter.CPD, Amount: a} }
	fixed := func(a int64) admeter.Price { return admeter.Price{Model: admeter.Fixed, Amount: a} }
	for _, tt := range []struct {
		name  string
		price admeter.Price
		use   admeter.Usage
		want  int64
	}{
		{"CPM", cpm(35 * y), admeter.Usage{Impressions: 2_000_000, Clicks: 9, Days: 3}, 70_000 * y},
		{"CPMNone", cpm(35 * y), admeter.Usage{Clicks: 9, Days: 3}, 0},
		{"CPMOne", cpm(35 * y), admeter.Usage{Impressions: 1}, 35_000},
		{"CPMRoundDown", cpm(1_499), admeter.Usage{Impressions: 1}, 1},                                              // 1.499
		{"CPMRoundHalfUp", cpm(1_500), admeter.Usage{Impressions: 1}, 2},                                            // 1.5
		{"CPMRoundUp", cpm(2_501), admeter.Usage{Impressions: 1}, 3},                                                // 2.501
		{"CPMBelowHalf", cpm(499), admeter.Usage{Impressions: 1}, 0},                                                // 0.499
		{"CPMHalf", cpm(500), admeter.Usage{Impressions: 1}, 1},                                                     // 0.5
		{"CPMLarge", cpm(admeter.MaxPriceAmount), admeter.Usage{Impressions: 9_000_000}, 9_000_000_000_000_000_000}, // 9e18, near MaxInt64,
		{"CPC", cpc(1_500_000), admeter.Usage{Impressions: 1e6, Clicks: 1234, Days: 3}, 1_851 * y},
		{"CPD", cpd(200_000 * y), admeter.Usage{Impressions: 1e6, Clicks: 10, Days: 3, FlightDays: 10}, 600_000 * y},
		{"CPDNotLive", cpd(200_000 * y), admeter.Usage{Impressions: 5}, 0},
		{"FixedWhole", fixed(90 * y), admeter.Usage{Impressions: 5, Days: 3}, 90 * y},
		{"FixedWholeFlight", fixed(90 * y), admeter.Usage{Days: 30, FlightDays: 30}, 90 * y},
		{"FixedMoreThanFlight", fixed(90 * y), admeter.Usage{Days: 31, FlightDays: 30}, 90 * y},
		{"FixedNotLive", fixed(90 * y), admeter.Usage{Impressions: 5, FlightDays: 30}, 0},
		{"FixedProrated", fixed(90 * y), admeter.Usage{Days: 10, FlightDays: 30}, 30 * y},
		{"FixedProratedRoundDown", fixed(100), admeter.Usage{Days: 1, FlightDays: 3}, 33}, // 33.33
		{"FixedProratedRoundUp", fixed(100), admeter.Usage{Days: 2, FlightDays: 3}, 67},   // 66.67
		{"FixedProratedHalf", fixed(1), admeter.Usage{Days: 1, FlightDays: 2}, 1},         // 0.5
		{"Free", cpc(0), admeter.Usage{Clicks: 1e9}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.price.Cost(tt.use)
			if err != nil || got != tt.want {
				t.Fatalf("%+v.Cost(%+v) = %d, %v; want %d", tt.price, tt.use, got, err, tt.want)
			}
		})
	}
}

// TestPriceCostErrors: negative counts and costs past int64 are errors.
func TestPriceCostErrors(t *testing.T) {
	big := admeter.Price{Model: admeter.CPC, Amount: admeter.MaxPriceAmount}
	if _, err := big.Cost(admeter.Usage{Clicks: 10_000}); !errors.Is(err, admeter.ErrCostOverflow) {
		t.Errorf("CPC 1e9 yuan × 10000 clicks: err = %v, want ErrCostOverflow", err)
	}
	if _, err := big.Cost(admeter.Usage{Clicks: math.MaxInt64}); !errors.Is(err, admeter.ErrCostOverflow) {
		t.Errorf("CPC × MaxInt64 clicks: err = %v, want ErrCostOverflow", err)
	}
	cpm := admeter.Price{Model: admeter.CPM, Amount: admeter.MaxPriceAmount}
	if _, err := cpm.Cost(admeter.Usage{Impressions: math.MaxInt64}); !errors.Is(err, admeter.ErrCostOverflow) {
		t.Errorf("CPM × MaxInt64 impressions: err = %v, want ErrCostOverflow", err)
	}
	for _, u := range []admeter.Usage{{Impressions: -1}, {Clicks: -1}, {Days: -1}, {Days: 1, FlightDays: -1}} {
		if _, err := cpm.Cost(u); err == nil {
			t.Errorf("Cost(%+v) succeeded", u)
		}
	}
}

// TestParseCNY checks the decimal forms of an amount that are accepted and
// those that are not, and that FormatCNY's output reads back.
func TestParseCNY(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"35", 35_000_000},
		{"35.00", 35_000_000},
		{" 35.5 ", 35_500_000},
		{"0.015", 15_000},
		{".5", 500_000},
		{"0", 0},
		{"007.000001", 7_000_001},
		{"999999999999.999999", 999_999_999_999_999_999},
	} {
		got, err := admeter.ParseCNY(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCNY(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, message string }{
		{"", "is not a number of yuan"},
		{".", "is not a number of yuan"},
		{"35.", "is not a number of yuan"},
		{"-1", "is not a number of yuan"},
		{"+1", "is not a number of yuan"},
		{"1e3", "is not a number of yuan"},
		{"1,000", "is not a number of yuan"},
		{"¥35", "is not a number of yuan"},
		{"3 5", "is not a number of yuan"},
		{"1.2.3", "is not a number of yuan"},
		{"0.0000001", "more than 6 decimals"},
		{"1000000000000", "too large"},
	} {
		_, err := admeter.ParseCNY(tt.in)
		if admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tt.message) {
			t.Errorf("ParseCNY(%q) err = %v, want EINVALID with %q", tt.in, err, tt.message)
		}
	}
	for _, tt := range []struct {
		micro int64
		want  string
	}{
		{0, "0.00"}, {35_000_000, "35.00"}, {35_500_000, "35.50"}, {15_000, "0.015"},
		{1_234_567, "1.234567"}, {-1, "-0.000001"}, {admeter.MaxPriceAmount, "1000000000.00"},
	} {
		got := admeter.FormatCNY(tt.micro)
		if got != tt.want {
			t.Errorf("FormatCNY(%d) = %q, want %q", tt.micro, got, tt.want)
		}
		if tt.micro >= 0 {
			if back, err := admeter.ParseCNY(got); err != nil || back != tt.micro {
				t.Errorf("ParseCNY(FormatCNY(%d)) = %d, %v", tt.micro, back, err)
			}
		}
	}
}

// FuzzParseCNY: ParseCNY never panics, accepts only non-negative amounts,
// and what it accepts formats to a string it parses back to the same amount.
func FuzzParseCNY(f *testing.F) {
	for _, s := range []string{"35.00", "0.015", ".5", "1e3", "999999999999.999999", "-1", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := admeter.ParseCNY(s)
		if err != nil {
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("ParseCNY(%q) err = %v, want EINVALID", s, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("ParseCNY(%q) = %d < 0", s, v)
		}
		if back, err := admeter.ParseCNY(admeter.FormatCNY(v)); err != nil || back != v {
			t.Fatalf("ParseCNY(FormatCNY(%d)) = %d, %v", v, back, err)
		}
	})
}

// TestMoneyJSON: money is a string of yuan both ways, negatives included,
// and anything else is refused.
func TestMoneyJSON(t *testing.T) {
	for _, tc := range []struct {
		m    admeter.Money
		json string
	}{{0, `"0.00"`}, {35 * admeter.MicroCNY, `"35.00"`}, {15_000, `"0.015"`}, {1_234_567, `"1.234567"`}, {-2_500_000, `"-2.50"`}} {
		b, err := json.Marshal(tc.m)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%d) = %s, %v; want %s", tc.m, b, err, tc.json)
		}
		var back admeter.Money
		if err := json.Unmarshal(b, &back); err != nil || back != tc.m {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, back, err, tc.m)
		}
	}
	for _, bad := range []string{`35`, `"35.1234567"`, `"abc"`, `null`, `"--1"`} {
		var m admeter.Money
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Unmarshal(%s) = %d, want an error", bad, m)
		}
	}
}
