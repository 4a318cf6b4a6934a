package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestPrintTable renders report answers as the CLI prints them: the
// post-link columns appear when the total has them (or when asked for),
// and the currency line only when a conversion could not be valued.
func TestPrintTable(t *testing.T) {
	const plain = `{"campaign":"1","from":"2026-12-01","to":"2026-12-02","timezone":"Asia/Shanghai","by":["placement"],
"rows":[{"placement":"p1","impressions":10,"clicks":1,"ctr":0.1,"uv":5,"click_uv":1}],
"total":{"impressions":10,"clicks":1,"ctr":0.1,"uv":5,"click_uv":1,"measurable_impressions":0,"video_starts":0,"conversions":0},
"anonymous_impressions":0,"anonymous_clicks":0,"currency":"CNY","other_currency_conversions":0}`
	const postLink = `{"campaign":"1","from":"2026-12-01","to":"2026-12-02","timezone":"Asia/Shanghai","by":["placement"],
"rows":[{"placement":"p1","impressions":10,"clicks":2,"ctr":0.2,"uv":5,"click_uv":2,"measurable_impressions":8,"viewable_impressions":6,"viewable_rate":0.75,"video_starts":4,"video_q100":1,"conversions":3,"conversion_value":129.9,"cvr":1.5,"post_click_conversions":2,"post_view_conversions":1}],
"total":{"impressions":10,"clicks":2,"ctr":0.2,"uv":5,"click_uv":2,"measurable_impressions":8,"viewable_impressions":6,"viewable_rate":0.75,"video_starts":4,"video_q100":1,"conversions":3,"conversion_value":129.9,"cvr":1.5,"post_click_conversions":2,"post_view_conversions":1},
"anonymous_impressions":0,"anonymous_clicks":0,"currency":"CNY","other_currency_conversions":2}`
	const conversions = `{"campaign":"1","from":"2026-12-01","to":"2026-12-02","timezone":"Asia/Shanghai","by":["type"],"currency":"CNY",
"rows":[{"type":"order","conversions":2,"conversion_value":566.5,"post_click_conversions":1,"post_view_conversions":1,"clicks":54,"cvr":0.037037,"other_currency_conversions":0,
"time_to_convert":[{"bucket":"0-1h","conversions":1},{"bucket":"1-6h","conversions":1},{"bucket":"6-24h","conversions":0},{"bucket":"1-3d","conversions":0},{"bucket":"3-7d","conversions":0},{"bucket":"7-30d","conversions":0},{"bucket":"30-90d","conversions":0}]}],
"total":{"conversions":2,"conversion_value":566.5,"post_click_conversions":1,"post_view_conversions":1,"clicks":54,"cvr":0.037037,"other_currency_conversions":0,
"time_to_convert":[{"bucket":"0-1h","conversions":1},{"bucket":"1-6h","conversions":1},{"bucket":"6-24h","conversions":0},{"bucket":"1-3d","conversions":0},{"bucket":"3-7d","conversions":0},{"bucket":"7-30d","conversions":0},{"bucket":"30-90d","conversions":0}]}}`
	tests := []struct {
		name, kind, body, measures string
		want, notWant              []string
	}{
		{"plain report hides empty post-link columns", "report", plain, "",
			[]string{"impressions", "click_uv", "p1", "total"},
			[]string{"viewable_rate", "conversions", "another currency"}},
		{"post-link report shows them", "report", postLink, "",
			[]string{"measurable_impressions", "viewable_rate", "0.75", "video_q100", "conversion_value", "129.9", "post_view_conversions",
				"2 conversions with a value in another currency"},
			nil},
		{"chosen measures", "report", postLink, "impressions,conversions",
			[]string{"impressions", "conversions"},
			[]string{"viewable_rate", "ctr"}},
		{"all measures", "report", plain, "all",
			[]string{"measurable_impressions", "video_starts", "conversions"},
			nil},
		{"conversions report", "conversions", conversions, "",
			[]string{"type", "order", "566.5", "0-1h", "30-90d", "values in CNY"},
			[]string{"another currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printTable(&out, tt.kind, []byte(tt.body), tt.measures); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in:\n%s", w, got)
				}
			}
		})
	}
}
