package admeter_test

import (
	"testing"
	"time"

	"github.com/admeter/admeter"
)

func TestValidConversionType(t *testing.T) {
	for _, ok := range []string{"order", "activation", "add_to_cart", "lead-2", "a"} {
		if err := admeter.ValidConversionType(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Order", "2nd", "with space", "订单", "a234567890123456789012345678901234"} {
		if err := admeter.ValidConversionType(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidCurrency(t *testing.T) {
	for _, ok := range []string{"CNY", "USD", "HKD"} {
		if err := admeter.ValidCurrency(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "cny", "RMB1", "US", "¥"} {
		if err := admeter.ValidCurrency(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAttributionRule(t *testing.T) {
	day := 24 * time.Hour
	var zero admeter.Attribution
	if got := zero.Rule("order"); got != admeter.DefaultAttributionRule {
		t.Errorf("zero settings: rule %+v, want the default %+v", got, admeter.DefaultAttributionRule)
	}
	if got := zero.Longest(); got != 7*day {
		t.Errorf("zero settings: longest %s, want 7 days", got)
	}
	a := admeter.Attribution{
		Default: &admeter.AttributionRule{ClickWindowDays: 3, ViewWindowDays: 0},
		ByType:  map[string]admeter.AttributionRule{"order": {ClickWindowDays: 30, ViewWindowDays: 2}},
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := a.Rule("order"); got.ClickWindow() != 30*day || got.ViewWindow() != 2*day {
		t.Errorf("order rule %+v", got)
	}
	if got := a.Rule("activation"); got.ClickWindow() != 3*day || got.ViewWindow() != 0 {
		t.Errorf("activation falls back to the default, got %+v", got)
	}
	if got := a.Longest(); got != 30*day {
		t.Errorf("longest %s, want 30 days", got)
	}
}

func TestAttributionValidate(t *testing.T) {
	tests := []struct {
		name string
		a    admeter.Attribution
		ok   bool
	}{
		{"zero", admeter.Attribution{}, true},
		{"90 days", admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 90, ViewWindowDays: 90}}, true},
		{"both off", admeter.Attribution{Default: &admeter.AttributionRule{}}, true},
		{"91 days", admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 91}}, false},
		{"negative", admeter.Attribution{Default: &admeter.AttributionRule{ViewWindowDays: -1}}, false},
		{"bad type", admeter.Attribution{ByType: map[string]admeter.AttributionRule{"Order": {}}}, false},
		{"type window", admeter.Attribution{ByType: map[string]admeter.AttributionRule{"order": {ClickWindowDays: 100}}}, false},
		{"param", admeter.Attribution{ClickIDParam: "admeter_click_id"}, true},
		{"bad param", admeter.Attribution{ClickIDParam: "click id"}, false},
		{"param with =", admeter.Attribution{ClickIDParam: "a=b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.a.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
