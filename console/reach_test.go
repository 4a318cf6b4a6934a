package console

import (
	"crypto/sha256"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/store/storetest"
)

// cpm returns a CPM price of yuan per thousand impressions.
func cpm(yuan int64) *admeter.Price {
	return &admeter.Price{Model: admeter.CPM, Amount: yuan * admeter.MicroCNY}
}

// reachEnv is a console with the reach page over a campaign of tenant
// with two media: 媒体甲 (开屏, ¥30 CPM) reaches users 1–6 twice each;
// 媒体乙 (贴片, ¥50 CPM) reaches users 5–8 once and user 9 twelve times.
// So: reach 9, 28 impressions, gross reach 11, users 5 and 6 in both,
// and user 9's 2 impressions beyond the default threshold (10) are waste.
func reachEnv(t *testing.T) (*consoleEnv, *reach.Service) {
	t.Helper()
	env := newConsoleEnv(t,
		admeter.Placement{Name: "开屏", Media: "媒体甲", Price: cpm(30)},
		admeter.Placement{Name: "贴片", Media: "媒体乙", Price: cpm(50)})
	rs := reach.NewService(env.meta, env.events)
	env.srv.SetReach(rs)
	env.watch(t, env.tenant, env.campaign)
	return env, rs
}

// watch inserts the events of reachEnv's story for campaign c of tenant.
func (env *consoleEnv) watch(t *testing.T, tenant *admeter.Tenant, c *admeter.Campaign) {
	t.Helper()
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, chinaTime)
	var evs []admeter.Event
	add := func(p, user, n int) {
		for range n {
			evs = append(evs, storetest.Imp(at, storetest.Tenant(tenant.ID), storetest.Campaign(c.ID),
				storetest.Placement(c.Placements[p].ID), storetest.User(user)))
		}
	}
	for u := 1; u <= 6; u++ {
		add(0, u, 2)
	}
	for u := 5; u <= 8; u++ {
		add(1, u, 1)
	}
	add(1, 9, 12)
	env.next++
	storetest.Insert(t, env.events, env.next, evs...)
}

// reachAs requests the reach page of campaign id with query q as a viewer
// of tenant.
func (env *consoleEnv) reachAs(t *testing.T, tenant *admeter.Tenant, id admeter.CampaignID, q string) *httptest.ResponseRecorder {
	t.Helper()
	sess := &api.Session{User: &admeter.User{ID: "u_3", Name: "郑十一", Role: admeter.RoleViewer, Tenant: tenant.ID}, Tenant: tenant, ID: "s3", CSRF: "x"}
	req := httptest.NewRequest(http.MethodGet, "/console/campaigns/"+string(id)+"/reach?"+q, nil)
	req.SetPathValue("id", string(id))
	rec := httptest.NewRecorder()
	env.srv.reachPage(rec, req, sess)
	return rec
}

// TestReachPage renders the reach page of a campaign in both languages and
// checks the totals, the groups, the overlap matrix, the curve, effective
// reach and the plan, which is the service's, as the API answers it.
func TestReachPage(t *testing.T) {
	env, rs := reachEnv(t)
	env.recordAudit()
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{langZH, []string{"<h1>跨媒体触达与优化</h1>", "各媒体触达", "重合矩阵", "增量触达曲线", "有效触达", "投放优化建议", "模型假设", "仅有效流量",
			"每人超过 10 次的曝光", "增加预算", "减少预算"}},
		{langEN, []string{"<h1>Reach &amp; plan</h1>", "Reach by media", "Overlap", "Incremental reach curve", "Effective reach", "Placement plan",
			"Assumptions", "valid traffic only", "beyond 10 per user"}},
	} {
		rec := env.reachAs(t, env.tenant, env.campaign.ID, "lang="+tt.lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tt.lang, rec.Code, html)
		}
		for _, want := range append(tt.want,
			// The form's defaults: the last 7 days, by media, the
			// campaign's threshold, effective frequency 1.
			`name="from" type="date" value="2026-11-14"`, `name="to" type="date" value="2026-11-20"`, `<option value="media" selected>`,
			`name="waste_above" type="number" min="1" value="10"`, `<option value="1" selected>1+</option>`, `<option value="5" >5+</option>`,
			// Totals.
			`<dd id="rk-reach">9</dd>`, `<dd id="rk-impressions">28</dd>`, `<dd id="rk-frequency">3.11</dd>`, `<dd id="rk-gross">11</dd>`,
			`<dd id="rk-duplication">1.22</dd>`, `<dd id="rk-cost">¥1.16</dd>`, `<dd id="rk-waste">2</dd>`, `<dd id="rk-waste-share">7.1%</dd>`,
			`id="reach-chart"`, `<details id="plan-assumptions">`) {
			if !strings.Contains(html, want) {
				t.Errorf("%s page lacks %s", tt.lang, want)
			}
		}
		for _, c := range []struct {
			table string
			want  []string
		}{
			{"reach-groups", []string{
				"媒体甲 | 6 | 66.7% | 4 | 66.7% | 2 | 12 | 2.00 | 0 | 0.0% | ¥0.36 | ¥60.00 | ¥0.09 | ¥0.00",
				"媒体乙 | 5 | 55.6% | 3 | 60.0% | 2 | 16 | 3.20 | 2 | 12.5% | ¥0.80 | ¥160.00 | ¥0.2667 | ¥0.10",
			}},
			{"reach-overlap", []string{"媒体甲 | 6 | 2 (33.3%)", "媒体乙 | 2 (40.0%) | 5"}},
			{"reach-curve", []string{"1 | 媒体甲 | 6 | 6 | 66.7% | ¥0.36 | ¥0.06", "2 | 媒体乙 | 3 | 9 | 100.0% | ¥1.16 | ¥0.2667"}},
			{"reach-effective", []string{"1+ | 9 | 100.0%", "2+ | 7 | 77.8%", "3+ | 3 | 33.3%", "4+ | 1 | 11.1%", "5+ | 1 | 11.1%", "10+ | 1 | 11.1%"}},
		} {
			if rows := tableRows(t, html, c.table); !slices.Equal(rows, c.want) {
				t.Errorf("%s #%s rows:\n got %q\nwant %q", tt.lang, c.table, rows, c.want)
			}
		}
		if strings.Contains(html, `id="reach-unpriced"`) || strings.Contains(html, `id="reach-withheld"`) || strings.Contains(html, `id="plan-error"`) {
			t.Errorf("%s: a priced single-advertiser report shows the unpriced or withheld note, or no plan", tt.lang)
		}
	}

	// The plan is the service's.
	req := reach.Request{Sources: []reach.Source{{Owner: env.tenant.ID, Campaign: env.campaign.ID}}, From: "2026-11-14", To: "2026-11-20", Costs: true}
	pr, err := rs.Plan(t.Context(), reach.PlanRequest{Request: req, Effective: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Plan.Units) != 2 || pr.Plan.Effective != 2 {
		t.Fatalf("plan %+v", pr.Plan)
	}
	for _, lang := range []string{langZH, langEN} {
		html := env.reachAs(t, env.tenant, env.campaign.ID, "effective=2&lang="+lang).Body.String()
		summary, reason := pr.Plan.Summary.ZH, pr.Plan.Units[0].Explanation.Reason.ZH
		if lang == langEN {
			summary, reason = pr.Plan.Summary.EN, pr.Plan.Units[0].Explanation.Reason.EN
		}
		for _, want := range []string{escaped(summary), escaped(reason), `<option value="2" selected>2+</option>`,
			escaped(yuan(&pr.Plan.Units[0].CurrentSpend)) + " → " + escaped(yuan(&pr.Plan.Units[0].RecommendedSpend))} {
			if !strings.Contains(html, want) {
				t.Errorf("%s plan lacks %s", lang, want)
			}
		}
		if rows := tableRows(t, html, "plan-units"); len(rows) != 2 || !strings.HasPrefix(rows[0], "媒体甲 | CPM | ") {
			t.Errorf("%s plan units %q", lang, rows)
		}
		if rows := tableRows(t, html, "plan-outcomes"); len(rows) != 2 {
			t.Errorf("%s plan outcomes %q", lang, rows)
		}
	}
	actions := map[string]int{}
	for _, e := range env.auditEntries(t, "report.reach") {
		if e.Outcome == "ok" && e.Target == string(env.campaign.ID) {
			actions[e.Action]++
		}
	}
	if want := map[string]int{"report.reach": 4, "report.reach_plan": 4}; !maps.Equal(actions, want) {
		t.Errorf("audit entries %v, want %v (each page: the report and the plan)", actions, want)
	}

	// By placement: the groups are named by placement.
	html := env.reachAs(t, env.tenant, env.campaign.ID, "by=placement&lang=en").Body.String()
	if rows := tableRows(t, html, "reach-groups"); len(rows) != 2 || !strings.HasPrefix(rows[0], "开屏 | 6 | ") || !strings.HasPrefix(rows[1], "贴片 | 5 | ") {
		t.Errorf("groups by placement %q", rows)
	}
	if !strings.Contains(html, "Reach by placement") || !strings.Contains(html, `<option value="placement" selected>`) {
		t.Error("the page by placement does not say so")
	}
	// A waste threshold of the form's: user 9's 12 impressions are 9
	// beyond 3; users 5 and 6 have 3, none beyond.
	html = env.reachAs(t, env.tenant, env.campaign.ID, "waste_above=3").Body.String()
	if !strings.Contains(html, `<dd id="rk-waste">9</dd>`) || !strings.Contains(html, `value="3" class="short"`) {
		t.Errorf("waste above 3: not 9 waste impressions\n%s", html)
	}
}

// escaped escapes s as html/template does in text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// TestReachPageUnpriced: a placement without a price leaves its cost and
// the totals' unknown (—), with a hint to set prices on the edit page; its
// unit is held in the plan.
func TestReachPageUnpriced(t *testing.T) {
	env := newConsoleEnv(t,
		admeter.Placement{Name: "开屏", Media: "媒体甲", Price: cpm(30)},
		admeter.Placement{Name: "贴片", Media: "媒体乙"})
	env.srv.SetReach(reach.NewService(env.meta, env.events))
	env.watch(t, env.tenant, env.campaign)
	for _, tt := range []struct{ lang, hint string }{{langZH, "部分广告位没有设置价格"}, {langEN, "Some placements have no price"}} {
		rec := env.reachAs(t, env.tenant, env.campaign.ID, "lang="+tt.lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d\n%s", rec.Code, html)
		}
		for _, want := range []string{`id="reach-unpriced"`, tt.hint, `<dd id="rk-cost">—</dd>`, `<dd id="rk-reach">9</dd>`, `class="action-held"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s page lacks %s", tt.lang, want)
			}
		}
		if rows := tableRows(t, html, "reach-groups"); len(rows) != 2 || !strings.HasSuffix(rows[1], "| — | — | — | —") {
			t.Errorf("%s groups %q: the unpriced medium's costs should be —", tt.lang, rows)
		}
		// A viewer cannot edit: no link to the edit page.
		if strings.Contains(html, "/edit\"") {
			t.Errorf("%s: a viewer is sent to the edit page", tt.lang)
		}
	}
}

// TestReachPageMedia: a media tenant's page shows reach and no cost, no
// price, no plan.
func TestReachPageMedia(t *testing.T) {
	env, _ := reachEnv(t)
	media := &admeter.Tenant{Name: "媒体甲", Kind: admeter.TenantMedia}
	if err := env.meta.CreateTenant(t.Context(), media, sha256.Sum256([]byte("media"))); err != nil {
		t.Fatal(err)
	}
	c := &admeter.Campaign{Tenant: media.ID, Name: "自有推广", LandingURL: "https://video.example.com/",
		Placements: []admeter.Placement{{Name: "开屏", Media: "媒体甲", Price: cpm(30)}, {Name: "贴片", Media: "媒体乙", Price: cpm(50)}}}
	if err := env.meta.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	env.watch(t, media, c)
	for _, lang := range []string{langZH, langEN} {
		rec := env.reachAs(t, media, c.ID, "lang="+lang+"&effective=2")
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d\n%s", rec.Code, html)
		}
		for _, want := range []string{`<dd id="rk-reach">9</dd>`, `<dd id="rk-waste">2</dd>`, `id="plan-media"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s media page lacks %s", lang, want)
			}
		}
		for _, leak := range []string{"¥", "rk-cost", "rk-cpum", "rk-waste-cost", "成本", "Cost", "CPUM", "plan-units", "plan-summary", `name="effective"`} {
			if strings.Contains(html, leak) {
				t.Errorf("%s: a media tenant's page shows %q", lang, leak)
			}
		}
		if rows := tableRows(t, html, "reach-groups"); len(rows) != 2 || rows[1] != "媒体乙 | 5 | 55.6% | 3 | 60.0% | 2 | 16 | 3.20 | 2 | 12.5%" {
			t.Errorf("%s media groups %q", lang, rows)
		}
	}
}

// TestReachPageErrors: what the user typed wrong is shown on the page with
// the form (400), never as a server error; another tenant's campaign is
// not found.
func TestReachPageErrors(t *testing.T) {
	env, _ := reachEnv(t)
	for _, tt := range []struct {
		q, want string
	}{
		{"from=2026-11-20&to=2026-11-01", "from 2026-11-20 is after to 2026-11-01"},
		{"from=yesterday&to=2026-11-20", "from:"},
		{"from=2024-01-01&to=2026-11-20", "at most 400"},
		{"waste_above=0", "waste_above must be a number of impressions"},
		{"by=region", "by must be media or placement"},
	} {
		rec := env.reachAs(t, env.tenant, env.campaign.ID, tt.q+"&lang=en")
		html := rec.Body.String()
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.q, rec.Code)
		}
		if !strings.Contains(html, `<p class="error" role="alert">`) || !strings.Contains(html, escaped(tt.want)) {
			t.Errorf("%s: no error %q on the page\n%s", tt.q, tt.want, html)
		}
		if !strings.Contains(html, `id="reach-form"`) || strings.Contains(html, `id="reach-totals"`) {
			t.Errorf("%s: the page should show the form and no report", tt.q)
		}
	}
	// A bad effective frequency: the report, and the reason there is no
	// plan.
	html := env.reachAs(t, env.tenant, env.campaign.ID, "effective=99&lang=en").Body.String()
	if !strings.Contains(html, `<dd id="rk-reach">9</dd>`) || !strings.Contains(html, `id="plan-error"`) || !strings.Contains(html, "effective must be a frequency") {
		t.Errorf("effective=99: want the report and the plan's error\n%s", html)
	}
	other := &admeter.Tenant{Name: "别家", Kind: admeter.TenantAdvertiser}
	if err := env.meta.CreateTenant(t.Context(), other, sha256.Sum256([]byte("other"))); err != nil {
		t.Fatal(err)
	}
	if rec := env.reachAs(t, other, env.campaign.ID, ""); rec.Code != http.StatusNotFound {
		t.Errorf("another tenant's campaign: status %d, want 404", rec.Code)
	}
	// Without the reach service the page is refused, and the dashboard
	// does not link to it.
	env.srv.SetReach(nil)
	if rec := env.reachAs(t, env.tenant, env.campaign.ID, ""); rec.Code != http.StatusForbidden {
		t.Errorf("without reach: status %d, want 403", rec.Code)
	}
	if _, dash := env.page(t, langZH); strings.Contains(dash, "reach-link") {
		t.Error("the dashboard links to the reach page without the service")
	}
	env.srv.SetReach(reach.NewService(env.meta, env.events))
	if _, dash := env.page(t, langZH); !strings.Contains(dash, `<a href="/console/campaigns/`+string(env.campaign.ID)+`/reach" id="reach-link">跨媒体触达与优化</a>`) {
		t.Error("the dashboard does not link to the reach page")
	}
}

// TestYuan: amounts show in yuan with separators, to the fen, or to 4
// decimals under one yuan.
func TestYuan(t *testing.T) {
	for _, tt := range []struct {
		micro int64
		want  string
	}{
		{0, "¥0.00"}, {90_000, "¥0.09"}, {266_667, "¥0.2667"}, {999_990, "¥1.00"}, {1_160_000, "¥1.16"},
		{128_888_889, "¥128.89"}, {1_234_567_890_000, "¥1,234,567.89"}, {-441_234, "-¥0.4412"}, {-35_000_000, "-¥35.00"}, {50, "¥0.0001"}, {49, "¥0.00"},
	} {
		m := admeter.Money(tt.micro)
		if got := yuan(&m); got != tt.want {
			t.Errorf("yuan(%d) = %s, want %s", tt.micro, got, tt.want)
		}
	}
	if got := yuan(nil); got != "—" {
		t.Errorf("yuan(nil) = %s", got)
	}
}

// TestReachLabels: the labels the reach page builds from values exist in
// both languages (TestEveryLabelTranslated sees only literal keys).
func TestReachLabels(t *testing.T) {
	keys := []string{"reach_filter_valid", "reach_filter_all", "plan_current", "plan_recommended",
		"reach_gross", "reach_duplication", "reach_anonymous", "reach_waste_above_n", "reach_of_budget", "plan_no_cap", "plan_cap_n", "plan_gain"}
	for _, a := range []string{mediaplan.ActionGains, mediaplan.ActionLoses, mediaplan.ActionKeeps, mediaplan.ActionHeld} {
		keys = append(keys, "plan_action_"+a)
	}
	for _, k := range keys {
		for _, lang := range []string{langZH, langEN} {
			if _, ok := messages[lang][k]; !ok {
				t.Errorf("label %q has no %s text", k, lang)
			}
		}
	}
}

// hits inserts n impressions on 2026-11-19 of placement p of campaign c
// of tenant for each of users.
func (env *consoleEnv) hits(t *testing.T, tenant *admeter.Tenant, c *admeter.Campaign, p int, users []int, n int) {
	t.Helper()
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, chinaTime)
	var evs []admeter.Event
	for _, u := range users {
		for range n {
			evs = append(evs, storetest.Imp(at, storetest.Tenant(tenant.ID), storetest.Campaign(c.ID),
				storetest.Placement(c.Placements[p].ID), storetest.User(u)))
		}
	}
	env.next++
	storetest.Insert(t, env.events, env.next, evs...)
}

// reachSetAs requests the reach page of a set of campaigns with query q
// as a viewer of tenant.
func (env *consoleEnv) reachSetAs(t *testing.T, tenant *admeter.Tenant, q string) *httptest.ResponseRecorder {
	t.Helper()
	sess := &api.Session{User: &admeter.User{ID: "u_3", Name: "郑十一", Role: admeter.RoleViewer, Tenant: tenant.ID}, Tenant: tenant, ID: "s3", CSRF: "x"}
	rec := httptest.NewRecorder()
	env.srv.reachSetPage(rec, httptest.NewRequest(http.MethodGet, "/console/reach?"+q, nil), sess)
	return rec
}

// secondCampaign adds to reachEnv's tenant a campaign 年货节 that shares
// users with 双十一: on 媒体乙 (信息流, ¥20 CPM) users 8–11 once each, on
// 媒体丙 (横幅, ¥10 CPM) users 1 and 12 once each. Alone it reaches 6;
// with 双十一 (9) the two reach users 1–12: 12, not 15.
func (env *consoleEnv) secondCampaign(t *testing.T, tenant *admeter.Tenant) *admeter.Campaign {
	t.Helper()
	c := &admeter.Campaign{Tenant: tenant.ID, Name: "年货节", LandingURL: "https://shop.example.com/nh",
		Placements: []admeter.Placement{{Name: "信息流", Media: "媒体乙", Price: cpm(20)}, {Name: "横幅", Media: "媒体丙", Price: cpm(10)}}}
	if err := env.meta.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	env.hits(t, tenant, c, 0, []int{8, 9, 10, 11}, 1)
	env.hits(t, tenant, c, 1, []int{1, 12}, 1)
	return c
}

// TestReachSetPage: the reach page of two campaigns sharing users counts
// each user once, merges a medium both use into one group, and plans
// over both; the ids may come comma-separated or repeated (the campaigns
// list's checkboxes).
func TestReachSetPage(t *testing.T) {
	env, rs := reachEnv(t)
	env.recordAudit()
	second := env.secondCampaign(t, env.tenant)
	a, b := string(env.campaign.ID), string(second.ID)

	// Alone, the campaigns reach 9 and 6.
	for _, c := range []struct {
		id   admeter.CampaignID
		want string
	}{{env.campaign.ID, "9"}, {second.ID, "6"}} {
		if html := env.reachAs(t, env.tenant, c.id, "").Body.String(); !strings.Contains(html, `<dd id="rk-reach">`+c.want+`</dd>`) {
			t.Fatalf("campaign %s alone: reach is not %s", c.id, c.want)
		}
	}
	for _, tt := range []struct {
		lang, q string
		want    []string
	}{
		{langZH, "campaigns=" + a + "," + b, []string{"<title>跨媒体触达与优化 · 双十一、年货节 · admeter</title>", "合并的广告活动", "同一用户被多个活动触达只计一次",
			`<a href="/console/campaigns">← 广告活动</a>`, "投放优化建议"}},
		{langEN, "campaigns=" + a + "&campaigns=" + b, []string{"<title>Reach &amp; plan · 双十一, 年货节 · admeter</title>", "Campaigns combined",
			"A user reached by several of these campaigns counts once", `<a href="/console/campaigns">← Campaigns</a>`, "Placement plan"}},
		{langEN, "campaigns=+" + a + ",," + b + "&campaigns=" + a, nil}, // blanks and a repeat
	} {
		rec := env.reachSetAs(t, env.tenant, tt.q+"&lang="+tt.lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tt.q, rec.Code, html)
		}
		for _, want := range append(tt.want,
			// The users of both, each once; impressions add up.
			`<dd id="rk-reach">12</dd>`, `<dd id="rk-impressions">34</dd>`, `<dd id="rk-gross">15</dd>`,
			// User 9: 12 + 1 impressions, 3 beyond 10.
			`<dd id="rk-waste">3</dd>`,
			`<a href="/console/campaigns/`+a+`">双十一</a>`, `<a href="/console/campaigns/`+b+`">年货节</a>`,
			`<input type="hidden" name="campaigns" value="`+a+`,`+b+`">`, `id="plan-summary"`,
			// The language link keeps the campaigns.
			`<a href="?campaigns=`) {
			if !strings.Contains(html, want) {
				t.Errorf("%s (%s) page lacks %s", tt.q, tt.lang, want)
			}
		}
		if strings.Contains(html, `href="/console/campaigns/`+a+`/reach"`) || strings.Contains(html, "← 双十一") {
			t.Errorf("%s: the back link goes to one campaign", tt.q)
		}
		// 媒体乙, in both campaigns, is one group: users 5–9 and 8–11.
		rows := tableRows(t, html, "reach-groups")
		want := []string{"媒体甲 | 6 | 50.0% |", "媒体乙 | 7 | 58.3% |", "媒体丙 | 2 | 16.7% |"}
		if len(rows) != len(want) {
			t.Fatalf("%s groups %q, want 3", tt.q, rows)
		}
		for i := range want {
			if !strings.HasPrefix(rows[i], want[i]) {
				t.Errorf("%s group %d = %q, want %s…", tt.q, i, rows[i], want[i])
			}
		}
		if rows := tableRows(t, html, "reach-overlap"); len(rows) != 3 || !strings.HasPrefix(rows[1], "媒体乙 | 2 (28.6%) | 7 |") {
			t.Errorf("%s overlap %q", tt.q, rows)
		}
		if rows := tableRows(t, html, "plan-units"); len(rows) != 3 {
			t.Errorf("%s plan units %q, want one per medium", tt.q, rows)
		}
	}

	// The page's numbers and plan are the service's over both campaigns.
	req := reach.Request{Sources: []reach.Source{{Owner: env.tenant.ID, Campaign: env.campaign.ID}, {Owner: env.tenant.ID, Campaign: second.ID}},
		From: "2026-11-14", To: "2026-11-20", Costs: true}
	pr, err := rs.Plan(t.Context(), reach.PlanRequest{Request: req, Effective: "2"})
	if err != nil {
		t.Fatal(err)
	}
	html := env.reachSetAs(t, env.tenant, "campaigns="+a+","+b+"&effective=2&lang=en").Body.String()
	if !strings.Contains(html, escaped(pr.Plan.Summary.EN)) || !strings.Contains(html, `<option value="2" selected>2+</option>`) {
		t.Errorf("the plan at effective 2 is not the service's: want %q", pr.Plan.Summary.EN)
	}
	var targets []string
	for _, e := range env.auditEntries(t, "report.reach") {
		if e.Outcome == "ok" && e.Action == "report.reach" {
			targets = append(targets, e.Target)
		}
	}
	if !slices.Contains(targets, a+","+b) {
		t.Errorf("audit targets %q, want %s", targets, a+","+b)
	}

	// By placement, the groups name their campaign.
	html = env.reachSetAs(t, env.tenant, "campaigns="+a+","+b+"&by=placement").Body.String()
	if rows := tableRows(t, html, "reach-groups"); len(rows) != 4 || !strings.HasPrefix(rows[2], "年货节 / 信息流 | 4 |") {
		t.Errorf("groups by placement %q", rows)
	}
}

// TestReachSetPageErrors: an empty list or a bad range is a 400 with the
// reason; another tenant's campaign in the list, or an unknown one, is
// not found; without the reach service the page is refused.
func TestReachSetPageErrors(t *testing.T) {
	env, _ := reachEnv(t)
	second := env.secondCampaign(t, env.tenant)
	a, b := string(env.campaign.ID), string(second.ID)
	var ids []string // more than a report may combine
	for i := range reach.MaxCampaigns + 1 {
		ids = append(ids, strconv.Itoa(1000+i))
	}
	many := strings.Join(ids, ",")
	for _, tt := range []struct {
		q, want string
		form    bool // the page with the form, not the error page
	}{
		{"", "Pick at least one campaign", false},
		{"campaigns=", "Pick at least one campaign", false},
		{"campaigns=,+,", "Pick at least one campaign", false},
		{"campaigns=" + a + "," + b + "&from=2026-11-20&to=2026-11-01", "from 2026-11-20 is after to 2026-11-01", true},
		{"campaigns=" + a + "&campaigns=" + b + "&from=yesterday", "from:", true},
		{"campaigns=" + a + "," + b + "&waste_above=0", "waste_above must be a number of impressions", true},
		{"campaigns=" + many, "at most 50 campaigns", false},
	} {
		rec := env.reachSetAs(t, env.tenant, tt.q+"&lang=en")
		html := rec.Body.String()
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", tt.q, rec.Code)
		}
		if !strings.Contains(html, escaped(tt.want)) {
			t.Errorf("%q: no error %q on the page\n%s", tt.q, tt.want, html)
		}
		if got := strings.Contains(html, `id="reach-form"`); got != tt.form || strings.Contains(html, `id="reach-totals"`) {
			t.Errorf("%q: form shown %v, want %v, and no report", tt.q, got, tt.form)
		}
		if tt.form && !strings.Contains(html, `<input type="hidden" name="campaigns" value="`+a+`,`+b+`">`) {
			t.Errorf("%q: the form lost the campaigns", tt.q)
		}
	}
	if html := env.reachSetAs(t, env.tenant, "lang=zh").Body.String(); !strings.Contains(html, "请至少选择一个广告活动") {
		t.Error("the empty list's message is not in Chinese")
	}

	other := &admeter.Tenant{Name: "别家", Kind: admeter.TenantAdvertiser}
	if err := env.meta.CreateTenant(t.Context(), other, sha256.Sum256([]byte("other"))); err != nil {
		t.Fatal(err)
	}
	theirs := &admeter.Campaign{Tenant: other.ID, Name: "别家活动", LandingURL: "https://other.example.com/", Placements: []admeter.Placement{{Name: "开屏", Media: "媒体甲"}}}
	if err := env.meta.CreateCampaign(t.Context(), theirs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"campaigns=" + a + "," + string(theirs.ID), "campaigns=" + string(theirs.ID), "campaigns=" + a + ",999999"} {
		rec := env.reachSetAs(t, env.tenant, q)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "别家活动") {
			t.Errorf("%s: status %d, want 404 without the other tenant's campaign", q, rec.Code)
		}
	}
	// The other tenant cannot name ours either.
	if rec := env.reachSetAs(t, other, "campaigns="+string(theirs.ID)+","+a); rec.Code != http.StatusNotFound {
		t.Errorf("the other tenant naming ours: status %d, want 404", rec.Code)
	}
	env.srv.SetReach(nil)
	if rec := env.reachSetAs(t, env.tenant, "campaigns="+a); rec.Code != http.StatusForbidden {
		t.Errorf("without reach: status %d, want 403", rec.Code)
	}
}

// TestReachSetPageMedia: a media tenant's page of its campaigns shows the
// combined reach and no cost, no plan.
func TestReachSetPageMedia(t *testing.T) {
	env, _ := reachEnv(t)
	media := &admeter.Tenant{Name: "媒体乙", Kind: admeter.TenantMedia}
	if err := env.meta.CreateTenant(t.Context(), media, sha256.Sum256([]byte("media"))); err != nil {
		t.Fatal(err)
	}
	first := &admeter.Campaign{Tenant: media.ID, Name: "自有推广", LandingURL: "https://video.example.com/",
		Placements: []admeter.Placement{{Name: "开屏", Media: "媒体甲", Price: cpm(30)}, {Name: "贴片", Media: "媒体乙", Price: cpm(50)}}}
	if err := env.meta.CreateCampaign(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	env.watch(t, media, first)
	second := env.secondCampaign(t, media)
	for _, lang := range []string{langZH, langEN} {
		rec := env.reachSetAs(t, media, "campaigns="+string(first.ID)+","+string(second.ID)+"&effective=2&lang="+lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d\n%s", rec.Code, html)
		}
		for _, want := range []string{`<dd id="rk-reach">12</dd>`, `<dd id="rk-waste">3</dd>`, `id="plan-media"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s media page lacks %s", lang, want)
			}
		}
		for _, leak := range []string{"¥", "rk-cost", "成本", "Cost", "CPUM", "plan-units", "plan-summary", `name="effective"`} {
			if strings.Contains(html, leak) {
				t.Errorf("%s: a media tenant's page shows %q", lang, leak)
			}
		}
	}
}

// TestCampaignsListCompare: the campaigns list has a checkbox per
// campaign and the button that opens their combined reach page, in both
// languages; without the reach service, or for a role that may not read
// reports, it has neither.
func TestCampaignsListCompare(t *testing.T) {
	env, _ := reachEnv(t)
	second := env.secondCampaign(t, env.tenant)
	list := func(role admeter.Role, lang string) string {
		t.Helper()
		sess := &api.Session{User: &admeter.User{ID: "u_3", Name: "郑十一", Role: role, Tenant: env.tenant.ID}, Tenant: env.tenant, ID: "s3", CSRF: "x"}
		rec := httptest.NewRecorder()
		env.srv.campaignsPage(rec, httptest.NewRequest(http.MethodGet, "/console/campaigns?lang="+lang, nil), sess)
		if rec.Code != http.StatusOK {
			t.Fatalf("campaigns list: status %d", rec.Code)
		}
		return rec.Body.String()
	}
	for _, tt := range []struct{ lang, button, pick string }{{langZH, "跨活动去重触达", "选择"}, {langEN, "Compare reach", "Pick"}} {
		html := list(admeter.RoleViewer, tt.lang)
		want := []string{`<form method="get" action="/console/reach" id="compare-reach">`,
			`<button type="submit" id="compare-reach-submit">` + tt.button + `</button>`}
		for _, c := range []*admeter.Campaign{env.campaign, second} {
			want = append(want, `<input type="checkbox" name="campaigns" value="`+string(c.ID)+`" id="pick-`+string(c.ID)+`" aria-label="`+tt.pick+`: `+c.Name+`">`)
		}
		for _, w := range want {
			if !strings.Contains(html, w) {
				t.Errorf("%s campaigns list lacks %s", tt.lang, w)
			}
		}
	}
	// The form's GET, as a browser sends it, opens the combined page.
	q := "campaigns=" + string(env.campaign.ID) + "&campaigns=" + string(second.ID)
	if html := env.reachSetAs(t, env.tenant, q).Body.String(); !strings.Contains(html, `<dd id="rk-reach">12</dd>`) {
		t.Error("the checked campaigns' page does not combine them")
	}
	env.srv.SetReach(nil)
	if html := list(admeter.RoleViewer, langZH); strings.Contains(html, `type="checkbox"`) || strings.Contains(html, "compare-reach") {
		t.Error("the campaigns list offers the reach page without the service")
	}
}
