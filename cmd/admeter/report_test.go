package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestReportsEndToEnd sends a few known events through the real wiring and
// reads them back through the report API within the freshness bound.
func TestReportsEndToEnd(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 2)
	otherTok, _ := setupCampaign(t, base, m.Config.DataDir, 1)
	p0, p1 := c.Placements[0].ID, c.Placements[1].ID

	// 2026-11-28 10:00 in Shanghai; the test clock is real, so use "now".
	now := time.Now()
	mt := now.Unix()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day := now.In(shanghai).Format(time.DateOnly)
	hits := []string{
		fmt.Sprintf("/x/k=%s&p=%s&m11=aaaaaaaaaaaaaaaa&mt=%d&vf=a1", c.ID, p0, mt),
		fmt.Sprintf("/x/k=%s&p=%s&m11=aaaaaaaaaaaaaaaa&mt=%d&vf=a2", c.ID, p0, mt),
		fmt.Sprintf("/x/k=%s&p=%s&m11=bbbbbbbbbbbbbbbb&mt=%d&vf=b1", c.ID, p1, mt),
		fmt.Sprintf("/x/k=%s&p=%s&m11=bbbbbbbbbbbbbbbb&mt=%d&vf=b1&br=0", c.ID, p1, mt), // served, not an impression
		fmt.Sprintf("/x/k=%s&p=%s&mt=%d&ns=202.96.128.86", c.ID, p1, mt),                // anonymous, relayed by a media server
		fmt.Sprintf("/r/k=%s&p=%s&m11=aaaaaaaaaaaaaaaa&mt=%d&vf=a1&o=https://shop.example.com/x", c.ID, p0, mt),
	}
	for _, h := range hits {
		resp, _ := get(t, base+h, nil)
		if resp.StatusCode >= 400 {
			t.Fatalf("%s: %d", h, resp.StatusCode)
		}
	}

	type row struct {
		Day         string  `json:"day"`
		Placement   string  `json:"placement"`
		Impressions int64   `json:"impressions"`
		Clicks      int64   `json:"clicks"`
		CTR         float64 `json:"ctr"`
		UV          int64   `json:"uv"`
		ClickUV     int64   `json:"click_uv"`
	}
	var rep struct {
		Campaign             string `json:"campaign"`
		Timezone             string `json:"timezone"`
		Rows                 []row  `json:"rows"`
		Total                row    `json:"total"`
		AnonymousImpressions int64  `json:"anonymous_impressions"`
	}
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&by=placement", base, c.ID, day, day)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if st := apiCall(t, "GET", u, tok, nil, &rep); st != 200 {
			t.Fatalf("report: %d", st)
		}
		if rep.Total.Impressions == 4 && rep.Total.Clicks == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Total.Impressions != 4 || rep.Total.Clicks != 1 || rep.Total.UV != 2 || rep.Total.ClickUV != 1 || rep.AnonymousImpressions != 1 {
		t.Fatalf("total %+v anonymous %d (after 2 s); want 4 impressions, 1 click, 2 users, 1 anonymous", rep.Total, rep.AnonymousImpressions)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Impressions+rep.Rows[1].Impressions != 4 || rep.Timezone != "Asia/Shanghai" {
		t.Fatalf("rows %+v tz %s", rep.Rows, rep.Timezone)
	}

	var freq struct {
		Reach            int64   `json:"reach"`
		Impressions      int64   `json:"impressions"`
		AverageFrequency float64 `json:"average_frequency"`
		Distribution     []struct {
			Frequency string `json:"frequency"`
			Users     int64  `json:"users"`
		} `json:"distribution"`
		CumulativeReach []struct {
			Day   string `json:"day"`
			Reach int64  `json:"reach"`
		} `json:"cumulative_reach"`
	}
	if st := apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/frequency?from=%s&to=%s", base, c.ID, day, day), tok, nil, &freq); st != 200 {
		t.Fatalf("frequency: %d", st)
	}
	if freq.Reach != 2 || freq.Impressions != 3 || freq.AverageFrequency != 1.5 || len(freq.Distribution) != 10 ||
		freq.Distribution[0].Users != 1 || freq.Distribution[1].Users != 1 || freq.Distribution[9].Frequency != "10+" ||
		len(freq.CumulativeReach) != 1 || freq.CumulativeReach[0].Reach != 2 {
		t.Fatalf("frequency: %+v", freq)
	}

	// CSV with a BOM, for Excel.
	req, _ := http.NewRequest("GET", u+"&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(body, []byte("\ufeffplacement,impressions,clicks,ctr,uv,click_uv,invalid_impressions,invalid_clicks,ivt_rate,"+
		"measurable_impressions,viewable_impressions,viewable_rate,viewable_uv,video_starts,video_q25,video_q50,video_q75,video_q100,"+
		"conversions,conversion_value,cvr,post_click_conversions,post_view_conversions\n")) ||
		!strings.Contains(string(body), "total,4,1,0.25,2,1,0,0,0,") {
		t.Fatalf("csv: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	bad := []apiErrorCase{
		{"another tenant's campaign", "report?from=" + day + "&to=" + day, otherTok, 404, "not found"},
		{"bad date", "report?from=2026-13-01&to=" + day, tok, 400, "YYYY-MM-DD"},
		{"from after to", "report?from=2026-11-28&to=2026-11-01", tok, 400, "after"},
		{"range too long", "report?from=2020-01-01&to=2026-11-01", tok, 400, "at most"},
		{"unknown dimension", "report?from=" + day + "&to=" + day + "&by=city", tok, 400, "unknown dimension"},
		{"missing dates", "frequency", tok, 400, "required"},
		{"bad format", "report?from=" + day + "&to=" + day + "&format=xml", tok, 400, "format"},
	}
	checkAPIErrors(t, base+"/api/v1/campaigns/"+c.ID+"/", bad)
}

// apiErrorCase is a GET of base+query with token that must fail with
// status and a message containing msg.
type apiErrorCase struct {
	name, query, token string
	status             int
	msg                string
}

func checkAPIErrors(t *testing.T, base string, cases []apiErrorCase) {
	t.Helper()
	for _, b := range cases {
		var e struct {
			Error struct{ Code, Message string }
		}
		if st := apiCall(t, "GET", base+b.query, b.token, nil, &e); st != b.status || !strings.Contains(strings.ToLower(e.Error.Message), strings.ToLower(b.msg)) {
			t.Errorf("%s: %d %q, want %d containing %q", b.name, st, e.Error.Message, b.status, b.msg)
		}
	}
}

// TestConversionsReportErrors: the conversions report refuses what it
// cannot answer before it reads any event.
func TestConversionsReportErrors(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 1)
	otherTok, _ := setupCampaign(t, base, m.Config.DataDir, 1)
	day := time.Now().Format(time.DateOnly)
	bad := []apiErrorCase{
		{"another tenant's campaign", "from=" + day + "&to=" + day, otherTok, 404, "not found"},
		{"bad date", "from=2026-13-01&to=" + day, tok, 400, "YYYY-MM-DD"},
		{"from after to", "from=2026-11-28&to=2026-11-01", tok, 400, "after"},
		{"missing dates", "", tok, 400, "required"},
		{"range too long", "from=2020-01-01&to=2026-11-01", tok, 400, "at most"},
		{"unknown dimension", "from=" + day + "&to=" + day + "&by=city", tok, 400, "unknown dimension"},
		{"reason is not a conversions dimension", "from=" + day + "&to=" + day + "&by=type,reason", tok, 400, "unknown dimension \"reason\""},
		{"repeated dimension", "from=" + day + "&to=" + day + "&by=type,type", tok, 400, "twice"},
		{"bad currency", "from=" + day + "&to=" + day + "&currency=yuan", tok, 400, "ISO 4217"},
		{"no xlsx", "from=" + day + "&to=" + day + "&format=xlsx", tok, 400, "json or csv"},
		{"bad format", "from=" + day + "&to=" + day + "&format=xml", tok, 400, "format"},
	}
	checkAPIErrors(t, base+"/api/v1/campaigns/"+c.ID+"/conversions?", bad)
}

// TestIngestCatchesUp runs a collector-only server (--ingest=false), then a
// full one on the same data: the loader loads everything logged meanwhile.
func TestIngestCatchesUp(t *testing.T) {
	m, base := MustRunMain(t, func(c *ServeConfig) { c.Ingest = false })
	tok, c := setupCampaign(t, base, m.Config.DataDir, 1)
	for i := range 50 {
		resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&m11=%016x", base, c.ID, c.Placements[0].ID, i+1), nil)
		if resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
	}
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	var rep struct {
		Total struct{ Impressions, UV int64 }
	}
	u := func(base string) string {
		return fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, c.ID, day, day)
	}
	time.Sleep(300 * time.Millisecond)
	apiCall(t, "GET", u(base), tok, nil, &rep)
	if rep.Total.Impressions != 0 {
		t.Fatalf("collector-only node loaded %d impressions", rep.Total.Impressions)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := m.Config
	cfg.Ingest, cfg.Addr = true, "127.0.0.1:0"
	m2 := NewMain(cfg, nil)
	if err := m2.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	base2 := "http://" + m2.Addr()
	deadline := time.Now().Add(5 * time.Second)
	for rep.Total.Impressions < 50 && time.Now().Before(deadline) {
		apiCall(t, "GET", u(base2), tok, nil, &rep)
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Total.Impressions != 50 || rep.Total.UV != 50 {
		t.Fatalf("after the loader started: %+v, want 50 impressions from 50 users", rep.Total)
	}
}

// TestReportXLSXExport exports a report as XLSX through the API and reads it
// back: Chinese headers, numbers as numbers, the same counts as the JSON.
func TestReportXLSXExport(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 1)
	for i := range 4 {
		get(t, fmt.Sprintf("%s/x/k=%s&p=%s&m11=xlsxexport00000%d", base, c.ID, c.Placements[0].ID, i%2), nil)
	}
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&by=placement", base, c.ID, day, day)
	var rep struct {
		Total struct{ Impressions int64 } `json:"total"`
	}
	for i := 0; i < 100 && rep.Total.Impressions < 4; i++ {
		apiCall(t, "GET", u, tok, nil, &rep)
		time.Sleep(20 * time.Millisecond)
	}
	resp, body := get(t, u+"&format=xlsx&lang=zh", map[string]string{"Authorization": "Bearer " + tok})
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "广告位" || rows[1][1] != "位置A" || rows[2][0] != "合计" || rows[2][2] != "4" {
		t.Fatalf("xlsx rows %q", rows)
	}
}
