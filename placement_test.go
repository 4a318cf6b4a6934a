package admeter_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// TestCampaignValidate_Categories checks the form rules of
// Placement.Categories: at most ten ids, each letters and digits, none
// repeated; ids are trimmed and an empty list becomes nil.
func TestCampaignValidate_Categories(t *testing.T) {
	eleven := strings.Split("1 2 3 4 5 6 7 8 9 10 11", " ")
	for _, tt := range []struct {
		name    string
		cats    []string
		want    []string
		message string
	}{
		{"None", nil, nil, ""},
		{"Empty", []string{}, nil, ""},
		{"Trimmed", []string{" 483 ", "JLBCU7"}, []string{"483", "JLBCU7"}, ""},
		{"Ten", eleven[:10], eleven[:10], ""},
		{"Eleven", eleven, nil, "placements[0].categories has 11 ids; a placement has at most 10"},
		{"Blank", []string{"1", " "}, nil, `placements[0].categories[1] " " is not a category id`},
		{"Name", []string{"Sports"}, []string{"Sports"}, ""}, // form only: the taxonomy check is the caller's
		{"Punctuation", []string{"48-3"}, nil, `placements[0].categories[0] "48-3" is not a category id`},
		{"TooLong", []string{strings.Repeat("1", 17)}, nil, "is not a category id"},
		{"Twice", []string{"483", " 483"}, nil, `placements[0].categories[1] "483" is given twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := admeter.Campaign{Name: "c", LandingURL: "https://example.com/",
				Placements: []admeter.Placement{{Name: "p", Media: "m", Categories: tt.cats}}}
			err := c.Validate()
			if tt.message != "" {
				if admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tt.message) {
					t.Fatalf("Validate() = %v, want EINVALID with %q", err, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got := c.Placements[0].Categories; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Categories = %#v, want %#v", got, tt.want)
			}
		})
	}
}
