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
		`"total":{"impressions":4,"clicks":1,"ctr":0.25,"uv":3,"click_uv":1,"valid_impressions":4,"valid_clicks":1,"valid_uv":3,"valid_click_uv":1,` +
			`"invalid_impressions":0,"invalid_clicks":0,"invalid_uv":0,"invalid_click_uv":0,"ivt_rate":0,"invalid_click_rate":0}`,
		`"anonymous_impressions":1`, `"by":["placement","region"]`,
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
	want := "\ufeffplacement,region,impressions,clicks,ctr,uv,click_uv,invalid_impressions,invalid_clicks,ivt_rate\npA,广东,3,1,0.333333,2,1,0,0,0\npA,北京,1,0,0,1,0,0,0,0\ntotal,total,4,1,0.25,3,1,0,0,0\n"
	if b.String() != want {
		t.Fatalf("CSV:\n%q\nwant\n%q", b.String(), want)
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
