package admeter_test

import (
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// TestCampaign_FrequencyThreshold checks that Validate accepts a frequency
// threshold of 0 (the default) to MaxFrequencyThreshold and refuses others
// naming the field, and that WasteAbove gives the effective value.
func TestCampaign_FrequencyThreshold(t *testing.T) {
	for _, tt := range []struct {
		name      string
		threshold int
		valid     bool
		above     int
	}{
		{"Default", 0, true, admeter.DefaultFrequencyThreshold},
		{"One", 1, true, 1},
		{"Three", 3, true, 3},
		{"SameAsDefault", admeter.DefaultFrequencyThreshold, true, admeter.DefaultFrequencyThreshold},
		{"Max", admeter.MaxFrequencyThreshold, true, admeter.MaxFrequencyThreshold},
		{"OverMax", admeter.MaxFrequencyThreshold + 1, false, admeter.DefaultFrequencyThreshold},
		{"Negative", -1, false, admeter.DefaultFrequencyThreshold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := admeter.Campaign{Name: "c", LandingURL: "https://example.com/", FrequencyThreshold: tt.threshold,
				Placements: []admeter.Placement{{Name: "p", Media: "m"}}}
			err := c.Validate()
			if tt.valid && err != nil {
				t.Fatalf("Validate() = %v", err)
			} else if !tt.valid && (admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), "frequency_threshold")) {
				t.Fatalf("Validate() = %v, want EINVALID naming frequency_threshold", err)
			}
			if c.FrequencyThreshold != tt.threshold {
				t.Errorf("Validate changed FrequencyThreshold to %d", c.FrequencyThreshold)
			}
			if got := c.WasteAbove(); got != tt.above {
				t.Errorf("WasteAbove() = %d, want %d", got, tt.above)
			}
		})
	}
	if admeter.DefaultFrequencyThreshold != 10 {
		t.Errorf("DefaultFrequencyThreshold = %d, want 10", admeter.DefaultFrequencyThreshold)
	}
}
