package console

import (
	"context"
	"crypto/sha256"
	"html/template"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

func TestReasonLabel(t *testing.T) {
	tests := []struct {
		lang, code string
		want       string
		known      bool
	}{
		{langZH, "crawler_ua", "爬虫或非浏览器", true},
		{langEN, "crawler_ua", "Crawler / bot UA", true},
		{langEN, "unknown", "Unknown reason", true},
		{langZH, "click_flood", "click_flood", false}, // a code added later, not yet labelled
		{langEN, "", "", false},
	}
	for _, tt := range tests {
		got, known := reasonLabel(translator(tt.lang), tt.code)
		if got != tt.want || known != tt.known {
			t.Errorf("reasonLabel(%s, %q) = %q, %v; want %q, %v", tt.lang, tt.code, got, known, tt.want, tt.known)
		}
	}
	// The reason codes of reports have labels in both languages. A code
	// added later shows as itself until it gets one.
	for _, code := range []string{"crawler_ua", "datacentre_ip", "missing_id", "bad_id", "platform_mismatch", "risky_device", "time_window",
		"unreplaced_macro", "excessive_frequency", "click_without_impression", "fast_click", "abnormal_ctr", "network_hopping",
		"concentrated_traffic", "unknown"} {
		for _, lang := range []string{langZH, langEN} {
			if _, known := reasonLabel(translator(lang), code); !known {
				t.Errorf("reason %q has no %s label (ivt_%s in i18n.go)", code, lang, code)
			}
		}
	}
}

// consoleEnv is a console over the real metadata store, DuckDB store and
// report service, in t.TempDir.
type consoleEnv struct {
	srv      *Server
	meta     *sqlite.DB
	events   *duckdb.DB
	tenant   *admeter.Tenant
	campaign *admeter.Campaign
	next     uint64
}

// now is the console's clock in the tests: 2026-11-20 12:00 in China, so
// the default range is 2026-11-14..2026-11-20.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, chinaTime)

func newConsoleEnv(t *testing.T, placements ...admeter.Placement) *consoleEnv {
	t.Helper()
	dir := t.TempDir()
	env := &consoleEnv{meta: sqlite.NewDB(filepath.Join(dir, "meta.db"))}
	if err := env.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.meta.Close() })
	var err error
	if env.events, err = duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.events.Close() })
	ctx := context.Background()
	env.tenant = &admeter.Tenant{Name: "无效流量测试有限公司", Kind: admeter.TenantAdvertiser}
	if err := env.meta.CreateTenant(ctx, env.tenant, sha256.Sum256([]byte(t.Name()))); err != nil {
		t.Fatal(err)
	}
	env.campaign = &admeter.Campaign{Tenant: env.tenant.ID, Name: "双十一", LandingURL: "https://shop.example.com/", Placements: placements}
	if err := env.meta.CreateCampaign(ctx, env.campaign); err != nil {
		t.Fatal(err)
	}
	reports := report.New(env.meta, env.events)
	sessions := api.New(api.Config{Now: func() time.Time { return now }}, env.meta, env.meta, reports, nil)
	if env.srv, err = New(Config{Now: func() time.Time { return now }}, sessions, env.meta, reports, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	return env
}

// imps inserts n impressions of placement i of the campaign on 2026-11-19
// with the verdict v.
func (env *consoleEnv) imps(t *testing.T, i, n int, v admeter.IVT) {
	t.Helper()
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, chinaTime)
	var evs []admeter.Event
	for range n {
		evs = append(evs, storetest.Imp(at, storetest.Tenant(env.tenant.ID), storetest.Campaign(env.campaign.ID),
			storetest.Placement(env.campaign.Placements[i].ID), storetest.IVT(v)))
	}
	env.next++
	storetest.Insert(t, env.events, env.next, evs...)
}

// page renders the campaign's dashboard over the default range in lang, as
// the dashboard handler does after checking the session, and returns its
// data and HTML.
func (env *consoleEnv) page(t *testing.T, lang string) (dashboardData, string) {
	t.Helper()
	d, err := env.srv.dashboardFor(context.Background(), env.tenant.ID, env.campaign, "2026-11-14", "2026-11-20", "day", lang)
	if err != nil {
		t.Fatal(err)
	}
	sess := &api.Session{User: &admeter.User{Name: "周九", Role: admeter.RoleViewer, Tenant: env.tenant.ID}, Tenant: env.tenant, ID: "s1", CSRF: "x"}
	rec := httptest.NewRecorder()
	env.srv.render(rec, httptest.NewRequest(http.MethodGet, "/console/campaigns/"+string(env.campaign.ID)+"?lang="+lang, nil),
		http.StatusOK, "campaign", "dashboard", sess, d, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("render: %d", rec.Code)
	}
	return d, rec.Body.String()
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// tableRows returns the text of each body row of the table with the given
// id, cells separated by " | ".
func tableRows(t *testing.T, html, id string) []string {
	t.Helper()
	start := strings.Index(html, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no table #%s", id)
	}
	body := html[start:]
	body = body[strings.Index(body, "<tbody>"):strings.Index(body, "</tbody>")]
	var out []string
	for _, tr := range strings.Split(body, "</tr>") {
		if !strings.Contains(tr, "<tr") {
			continue
		}
		tr = strings.NewReplacer("</th>", " | ", "</td>", " | ").Replace(tr)
		text := strings.TrimSpace(spaceRE.ReplaceAllString(tagRE.ReplaceAllString(tr, " "), " "))
		out = append(out, strings.TrimSuffix(text, " |"))
	}
	return out
}

// TestDashboardInvalidTraffic inserts impressions with IVT verdicts and
// checks the dashboard's invalid-traffic section in both languages: the
// rows by placement and by media with their gross and invalid counts,
// rates and top reasons, and the chart by reason.
func TestDashboardInvalidTraffic(t *testing.T) {
	env := newConsoleEnv(t,
		admeter.Placement{Name: "开屏", Media: "媒体甲"},
		admeter.Placement{Name: "信息流", Media: "媒体甲"},
		admeter.Placement{Name: "贴片", Media: "媒体乙"})
	const unnamed = admeter.IVT(1 << 30) // a reason this program does not name: "unknown"
	env.imps(t, 0, 6, 0)
	env.imps(t, 0, 3, admeter.IVTCrawler)
	env.imps(t, 0, 2, admeter.IVTDataCentre|admeter.IVTBadID) // counted under both reasons
	env.imps(t, 1, 4, 0)
	env.imps(t, 1, 1, admeter.IVTRiskyDevice)
	env.imps(t, 1, 1, unnamed)
	env.imps(t, 2, 5, 0)
	env.next++ // an invalid click is not an invalid impression
	storetest.Insert(t, env.events, env.next, storetest.Click(time.Date(2026, 11, 19, 11, 0, 0, 0, chinaTime),
		storetest.Tenant(env.tenant.ID), storetest.Campaign(env.campaign.ID), storetest.Placement(env.campaign.Placements[2].ID),
		storetest.IVT(admeter.IVTTimeWindow)))
	pid := func(i int) string { return string(env.campaign.Placements[i].ID) }

	d, zh := env.page(t, langZH)
	if d.IVT.Invalid != 7 || d.IVTRate != "31.82%" {
		t.Errorf("invalid impressions %d, KPI %s; want 7 and 31.82%% (7 of 22)", d.IVT.Invalid, d.IVTRate)
	}
	var got []string
	for _, r := range d.IVT.Placements {
		got = append(got, r.ID)
	}
	if want := []string{pid(0), pid(1), pid(2)}; !slices.Equal(got, want) {
		t.Errorf("placement rows %q, want %q (most invalid first)", got, want)
	}
	for _, tt := range []struct {
		table string
		want  []string
	}{
		{"ivt-placements", []string{
			"开屏 | 11 | 5 | 45.45% | 爬虫或非浏览器 3 设备标识无效 2 数据中心 IP 2",
			"信息流 | 6 | 2 | 33.33% | 风险设备 1 未知原因 1",
			"贴片 | 5 | 0 | 0.00% |",
		}},
		{"ivt-media", []string{
			"媒体甲 | 17 | 7 | 41.18% | 爬虫或非浏览器 3 设备标识无效 2 数据中心 IP 2 +2",
			"媒体乙 | 5 | 0 | 0.00% |",
		}},
	} {
		if rows := tableRows(t, zh, tt.table); !slices.Equal(rows, tt.want) {
			t.Errorf("#%s rows:\n got %q\nwant %q", tt.table, rows, tt.want)
		}
	}
	for _, want := range []string{
		`<h2 id="ivt-title">无效流量</h2>`, `<li data-reason="crawler_ua">爬虫或非浏览器`, `<tr data-placement="` + pid(0) + `">`,
		// The chart: every reason, its share of the 7 invalid impressions.
		`id="ivt-chart"`, `<title>爬虫或非浏览器：3（42.9%）</title>`, `<title>数据中心 IP：2（28.6%）</title>`, `<title>未知原因：1（14.3%）</title>`,
	} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese dashboard lacks %s", want)
		}
	}
	if strings.Contains(zh, "ivt-empty") || strings.Contains(zh, "时间超出窗口") {
		t.Error("Chinese dashboard shows the empty state or the invalid click's reason")
	}
	if n := strings.Count(zh, "<svg"); n != 7 {
		t.Errorf("dashboard has %d charts, want the 6 charts and the reasons", n)
	}

	_, en := env.page(t, langEN)
	if rows := tableRows(t, en, "ivt-placements"); len(rows) != 3 || rows[0] != "开屏 | 11 | 5 | 45.45% | Crawler / bot UA 3 Malformed ID 2 Data-centre IP 2" {
		t.Errorf("English placement rows %q", rows)
	}
	for _, want := range []string{"Invalid traffic", "Gross impressions", "Top reasons", "<title>Risky device: 1 (14.3%)</title>"} {
		if !strings.Contains(en, want) {
			t.Errorf("English dashboard lacks %s", want)
		}
	}
}

// TestDashboardNoInvalidTraffic: valid traffic only shows the empty state,
// without tables or chart.
func TestDashboardNoInvalidTraffic(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "媒体甲"})
	env.imps(t, 0, 3, 0)
	for _, tt := range []struct{ lang, want string }{{langZH, "此期间无无效流量"}, {langEN, "No invalid traffic in this range"}} {
		d, html := env.page(t, tt.lang)
		if d.Total.Impressions != 3 || d.IVT.Invalid != 0 || d.IVT.Placements != nil {
			t.Errorf("%s: impressions %d, IVT section %+v", tt.lang, d.Total.Impressions, d.IVT)
		}
		if !strings.Contains(html, `<p class="empty" id="ivt-empty">`+tt.want+`</p>`) {
			t.Errorf("%s: no empty state %q", tt.lang, tt.want)
		}
		if strings.Contains(html, "ivt-placements") || strings.Contains(html, "ivt-chart") {
			t.Errorf("%s: tables or chart without invalid traffic", tt.lang)
		}
	}
}

// TestInvalidTrafficUnknownReasons lays out reports with a reason code the
// console has no label for (one added after it was built), more reasons
// than a row names, a placement no longer in the campaign and one without
// a media.
func TestInvalidTrafficUnknownReasons(t *testing.T) {
	c := &admeter.Campaign{Placements: []admeter.Placement{{ID: "pA", Name: "开屏", Media: "媒体甲"}, {ID: "pB", Name: "信息流"}}}
	row := func(counts store.Counts, dims ...string) store.ReportRow {
		return store.ReportRow{Dims: dims, Counts: counts}
	}
	byPlacement := &report.Report{
		Rows: []store.ReportRow{
			row(store.Counts{Impressions: 90, InvalidImpressions: 10}, "pA"),
			row(store.Counts{Impressions: 1, InvalidImpressions: 3}, "pB"),
			row(store.Counts{Impressions: 0, InvalidImpressions: 1}, "pGone"),
			row(store.Counts{Clicks: 4, InvalidClicks: 2}, "pC"), // clicks only: not in the tables
		},
		Total: store.Counts{Impressions: 91, InvalidImpressions: 14},
	}
	byReason := &report.Report{Rows: []store.ReportRow{
		row(store.Counts{Impressions: 90}, "pA", "valid"),
		row(store.Counts{Impressions: 6, InvalidImpressions: 6}, "pA", "click_flood"),
		row(store.Counts{Impressions: 4, InvalidImpressions: 4}, "pA", "crawler_ua"),
		row(store.Counts{Impressions: 1, InvalidImpressions: 1}, "pA", "bad_id"),
		row(store.Counts{Impressions: 1, InvalidImpressions: 1}, "pA", "time_window"),
		row(store.Counts{Impressions: 3, InvalidImpressions: 3}, "pB", "click_flood"),
		row(store.Counts{Impressions: 1, InvalidImpressions: 1}, "pGone", "missing_id"),
		row(store.Counts{Clicks: 2, InvalidClicks: 2}, "pC", "crawler_ua"),
	}}
	s := invalidTraffic(langEN, c, byPlacement, byReason)
	brief := func(rows []ivtRow) []string {
		var out []string
		for _, r := range rows {
			line := r.Name + " " + r.Rate
			for _, rc := range r.Reasons {
				line += " " + rc.Label + "=" + rc.CountText()
				if !rc.Known {
					line += "(raw)"
				}
			}
			if r.More > 0 {
				line += " +more"
			}
			out = append(out, line)
		}
		return out
	}
	if got, want := brief(s.Placements), []string{
		"开屏 10.00% click_flood=6(raw) Crawler / bot UA=4 Malformed ID=1 +more",
		"信息流 75.00% click_flood=3(raw)",
		"pGone 100.00% No device ID=1",
	}; !slices.Equal(got, want) {
		t.Errorf("placements:\n got %q\nwant %q", got, want)
	}
	if got, want := brief(s.Media), []string{
		"媒体甲 10.00% click_flood=6(raw) Crawler / bot UA=4 Malformed ID=1 +more",
		"? 80.00% click_flood=3(raw) No device ID=1",
	}; !slices.Equal(got, want) {
		t.Errorf("media:\n got %q\nwant %q", got, want)
	}
	chart := string(s.Chart)
	for _, want := range []string{"<title>click_flood: 9 (64.3%)</title>", "<title>Crawler / bot UA: 4 (28.6%)</title>", `">Invalid impressions by reason</title>`} {
		if !strings.Contains(chart, want) {
			t.Errorf("chart lacks %s:\n%s", want, chart)
		}
	}
	// The raw code is shown as code in the table, so it reads as a code
	// rather than as a missing label.
	var b strings.Builder
	if err := mustPages(t)["campaign"].ExecuteTemplate(&b, "ivt-reasons", s.Placements[0]); err != nil {
		t.Fatal(err)
	}
	if want := `<li data-reason="click_flood"><code>click_flood</code> <span class="n">6</span></li>`; !strings.Contains(b.String(), want) {
		t.Errorf("reasons cell %s lacks %s", b.String(), want)
	}
}

// mustPages parses the console's templates.
func mustPages(t *testing.T) map[string]*template.Template {
	t.Helper()
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChartsLeaveOutInvalidOnlyRows: a region (or OS, or placement) that
// only invalid traffic came from has no valid impressions, and the charts of
// valid traffic do not list it with zero.
func TestChartsLeaveOutInvalidOnlyRows(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "媒体甲"})
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, chinaTime)
	opts := []storetest.Opt{storetest.Tenant(env.tenant.ID), storetest.Campaign(env.campaign.ID), storetest.Placement(env.campaign.Placements[0].ID)}
	env.next++
	storetest.Insert(t, env.events, env.next,
		storetest.Imp(at, append(opts, storetest.Region("CN", "广东"))...),
		storetest.Imp(at, append(opts, storetest.Region("CN", "广东"))...),
		storetest.Imp(at, append(opts, storetest.Region("JP", ""), storetest.IVT(admeter.IVTDataCentre))...))
	d, _ := env.page(t, langZH)
	regions := string(d.Charts.Regions)
	if !strings.Contains(regions, "广东") || strings.Contains(regions, "JP") {
		t.Errorf("regions chart should list 广东 and not JP (invalid traffic only):\n%s", regions)
	}
}
