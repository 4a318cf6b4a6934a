package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store"
)

func TestParseBy(t *testing.T) {
	tests := []struct {
		in      string
		want    []store.Dimension
		wantErr string
	}{
		{"", nil, ""},
		{"day", []store.Dimension{store.ByDay}, ""},
		{" Placement , day ,", []store.Dimension{store.ByPlacement, store.ByDay}, ""},
		{"day,hour,placement,media,region,os,device,reason", store.Dimensions, ""},
		{"city", nil, `unknown dimension "city"`},
		{"day,day", nil, "given twice"},
	}
	for _, tt := range tests {
		got, err := report.ParseBy(tt.in)
		if tt.wantErr != "" {
			if admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tt.wantErr) {
				t.Errorf("ParseBy(%q) error = %v, want EINVALID containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseBy(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseBy(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

func sampleReport() *report.Report {
	d, _ := store.ParseDate("2026-11-28")
	return &report.Report{
		Campaign: "12345678", From: d, To: d, Timezone: "Asia/Shanghai",
		By: []store.Dimension{store.ByPlacement, store.ByRegion},
		Rows: []store.ReportRow{
			{Dims: []string{"pA", "广东"}, Counts: store.Counts{Impressions: 3, Clicks: 1, UV: 2, ClickUV: 1}},
			{Dims: []string{"pA", "北京"}, Counts: store.Counts{Impressions: 1, UV: 1}},
		},
		Total:                store.Counts{Impressions: 4, Clicks: 1, UV: 3, ClickUV: 1},
		AnonymousImpressions: 1,
		Views: []store.ViewCounts{
			{Measurable: 3, Viewable: 2, ViewableUV: 1, VideoStarts: 2, Quartiles: [4]int64{2, 2, 1, 1}},
			{Measurable: 1, Viewable: 0},
		},
		Outcomes: []report.Outcome{
			{Conversions: 2, PostClick: 1, PostView: 1, Value: 12_345_000, OtherCurrency: 1},
			{},
		},
		TotalView:    store.ViewCounts{Measurable: 4, Viewable: 2, ViewableUV: 1, VideoStarts: 2, Quartiles: [4]int64{2, 2, 1, 1}},
		TotalOutcome: report.Outcome{Conversions: 2, PostClick: 1, PostView: 1, Value: 12_345_000, OtherCurrency: 1},
		Currency:     "CNY",
	}
}

func TestReportJSONKeepsDimensionOrder(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"rows":[{"placement":"pA","region":"广东","impressions":3,"clicks":1,"ctr":0.333333,"uv":2,"click_uv":1,"valid_impressions":3,`,
		`"ivt_rate":0,"invalid_click_rate":0,"measurable_impressions":3,"viewable_impressions":2,"viewable_rate":0.666667,"viewable_uv":1,` +
			`"video_starts":2,"video_q25":2,"video_q50":2,"video_q75":1,"video_q100":1,"conversions":2,"conversion_value":12.345,"cvr":2,` +
			`"post_click_conversions":1,"post_view_conversions":1},`,
		`"total":{"impressions":4,"clicks":1,"ctr":0.25,"uv":3,"click_uv":1,"valid_impressions":4,"valid_clicks":1,"valid_uv":3,"valid_click_uv":1,` +
			`"invalid_impressions":0,"invalid_clicks":0,"invalid_uv":0,"invalid_click_uv":0,"ivt_rate":0,"invalid_click_rate":0,` +
			`"measurable_impressions":4,"viewable_impressions":2,"viewable_rate":0.5,"viewable_uv":1,"video_starts":2,"video_q25":2,"video_q50":2,` +
			`"video_q75":1,"video_q100":1,"conversions":2,"conversion_value":12.345,"cvr":2,"post_click_conversions":1,"post_view_conversions":1}`,
		`"anonymous_impressions":1`, `"by":["placement","region"]`, `"currency":"CNY","other_currency_conversions":1`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
}

func TestReportCSV(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "\ufeffplacement,region,impressions,clicks,ctr,uv,click_uv,invalid_impressions,invalid_clicks,ivt_rate," +
		"measurable_impressions,viewable_impressions,viewable_rate,viewable_uv,video_starts,video_q25,video_q50,video_q75,video_q100," +
		"conversions,conversion_value,cvr,post_click_conversions,post_view_conversions\n" +
		"pA,广东,3,1,0.333333,2,1,0,0,0,3,2,0.666667,1,2,2,2,1,1,2,12.345,2,1,1\n" +
		"pA,北京,1,0,0,1,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0\n" +
		"total,total,4,1,0.25,3,1,0,0,0,4,2,0.5,1,2,2,2,1,1,2,12.345,2,1,1\n"
	if b.String() != want {
		t.Fatalf("CSV:\n%q\nwant\n%q", b.String(), want)
	}
}

// TestReportByReasonLeavesOutcomesOut: a report by reason has no
// viewability or conversion columns, and says why.
func TestReportByReasonLeavesOutcomesOut(t *testing.T) {
	d, _ := store.ParseDate("2026-11-28")
	r := &report.Report{Campaign: "1", From: d, To: d, By: []store.Dimension{store.ByReason},
		Rows:  []store.ReportRow{{Dims: []string{"valid"}, Counts: store.Counts{Impressions: 2}}},
		Total: store.Counts{Impressions: 2}, Note: "not by reason"}
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if want := "\ufeffreason,impressions,clicks,ctr,uv,click_uv,invalid_impressions,invalid_clicks,ivt_rate\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("CSV %q, want header %q", b.String(), want)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), "conversions") || strings.Contains(string(j), "viewable") || !strings.Contains(string(j), `"note":"not by reason"`) {
		t.Errorf("JSON %s: want no outcome measures and the note", j)
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[int64]string{0: "0", 1: "0.000001", 12_345_000: "12.345", 7_000_000: "7", 1_234_567_890_123: "1234567.890123", -500_000: "-0.5"} {
		if got := report.FormatValue(v); got != want {
			t.Errorf("FormatValue(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestParseConversionBy(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"", "", ""},
		{"day,placement,type", "day,placement,type", ""},
		{" Type , hour", "type,hour", ""},
		{"reason", "", `unknown dimension "reason"`},
		{"city", "", `unknown dimension "city"`},
		{"type,type", "", "given twice"},
	}
	for _, tt := range tests {
		got, err := report.ParseConversionBy(tt.in)
		if tt.wantErr != "" {
			if admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tt.wantErr) {
				t.Errorf("ParseConversionBy(%q) error = %v, want EINVALID containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		var names []string
		for _, d := range got {
			names = append(names, string(d))
		}
		if err != nil || strings.Join(names, ",") != tt.want {
			t.Errorf("ParseConversionBy(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestConversionsCSVAndJSON(t *testing.T) {
	d, _ := store.ParseDate("2026-11-28")
	c := &report.Conversions{Campaign: "1", From: d, To: d, Timezone: "Asia/Shanghai", Currency: "CNY",
		By: []store.Dimension{store.ByDay, report.ByType},
		Rows: []report.ConversionRow{{Dims: []string{"2026-11-28", "order"}, Clicks: 4,
			Outcome: report.Outcome{Conversions: 2, PostClick: 2, Value: 1_500_000, TimeToConvert: [7]int64{1, 0, 0, 1}}}},
		Total: report.ConversionRow{Clicks: 4, Outcome: report.Outcome{Conversions: 3, PostClick: 2, PostView: 1, Value: 1_500_000, OtherCurrency: 1,
			TimeToConvert: [7]int64{1, 0, 0, 1, 0, 0, 1}}},
	}
	var b bytes.Buffer
	if err := c.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "\ufeffday,type,conversions,conversion_value,post_click_conversions,post_view_conversions,clicks,cvr,other_currency_conversions," +
		"ttc_0_1h,ttc_1_6h,ttc_6_24h,ttc_1_3d,ttc_3_7d,ttc_7_30d,ttc_30_90d\n" +
		"2026-11-28,order,2,1.5,2,0,4,0.5,0,1,0,0,1,0,0,0\n" +
		"total,total,3,1.5,2,1,4,0.75,1,1,0,0,1,0,0,1\n"
	if b.String() != want {
		t.Errorf("CSV:\n%q\nwant\n%q", b.String(), want)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"by":["day","type"],"currency":"CNY","rows":[{"day":"2026-11-28","type":"order","conversions":2,"conversion_value":1.5,`,
		`"time_to_convert":[{"bucket":"0-1h","conversions":1},{"bucket":"1-6h","conversions":0},`,
		`"total":{"conversions":3,"conversion_value":1.5,"post_click_conversions":2,"post_view_conversions":1,"clicks":4,"cvr":0.75,"other_currency_conversions":1,`,
		`{"bucket":"30-90d","conversions":1}]}}`,
	} {
		if !strings.Contains(string(j), want) {
			t.Errorf("JSON %s lacks %s", j, want)
		}
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
}

func TestFrequencyJSON(t *testing.T) {
	d, _ := store.ParseDate("2026-11-28")
	f := &report.Frequency{Campaign: "1", From: d, To: d, Timezone: "Asia/Shanghai"}
	f.Reach, f.Impressions = 4, 10
	f.Distribution[0], f.Distribution[9] = 3, 1
	f.CumulativeReach = []store.DayReach{{Day: d, Reach: 4}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"average_frequency":2.5`, `{"frequency":"1","users":3}`, `{"frequency":"10+","users":1}`, `"cumulative_reach":[{"day":"2026-11-28","reach":4}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}
