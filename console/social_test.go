package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/auth"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// socialKeys is a fixed set of pseudonymisation keys, the last current.
type socialKeys []*pseudo.Pseudonymizer

func (k socialKeys) Current() *pseudo.Pseudonymizer          { return k[len(k)-1] }
func (k socialKeys) Pseudonymizers() []*pseudo.Pseudonymizer { return k }

// testPS returns a pseudonymizer with a fixed key.
func testPS(t *testing.T, version uint32, fill byte) *pseudo.Pseudonymizer {
	t.Helper()
	secret := bytes.Repeat([]byte{fill}, 32)
	secret[0] = 1
	ps, err := pseudo.New(pseudo.Key{Version: version, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// socialEnv is a console with the social pages over a real social.Service
// (the real metadata store, DuckDB store and opt-out registry), threshold
// k = 5.
func socialEnv(t *testing.T) (*consoleEnv, *social.Service) {
	t.Helper()
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "媒体甲"})
	reg, err := optout.Open(filepath.Join(t.TempDir(), "optout.reg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	svc, err := social.New(social.Config{MinAuthors: 5, Now: func() time.Time { return now }},
		env.events, env.meta, env.meta, socialKeys{testPS(t, 1, 0x11)}, reg, testPS(t, 1, 0x42), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	env.srv.SetSocial(svc)
	return env, svc
}

// socialSettings are the settings of the tests' tenant.
func socialSettings(tenant admeter.TenantID) *admeter.SocialSettings {
	return &admeter.SocialSettings{Tenant: tenant,
		Brands:      []admeter.SocialRule{{Name: "华为", Terms: []string{"华为", "huawei"}, Exclusions: []string{"华为路由器"}}},
		Competitors: []admeter.SocialRule{{Name: "小米", Terms: []string{"小米"}}},
		Official:    []admeter.SocialAccount{{Source: "weibo", Handle: "@华为终端", Name: "华为终端官方微博"}},
	}
}

// officialText is the official account's post: the only text the page
// may show. The fans' and rivals' texts are fanText and rivalText with a
// number.
const (
	officialText = "官方:华为新品发布会今晚八点"
	fanText      = "华为手机拍照效果很好,推荐给朋友们 %d"
	rivalText    = "小米更便宜,性价比高 %d"
)

// socialStory uploads the tests' records and the campaign's delivery:
// 华为 is mentioned by 6 fans a day on 11-14..11-17 and by 12 a day on
// 11-18 and 11-19, when the campaign delivers; 小米 by 2 people on 11-19
// (suppressed at k = 5); the official account posts on 11-19; and 华为 is
// searched 1,000 times on 11-19.
func socialStory(t *testing.T, env *consoleEnv, svc *social.Service) {
	t.Helper()
	var b strings.Builder
	rec := func(m map[string]any) {
		line, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	n := 0
	for d, fans := range map[int]int{14: 6, 15: 6, 16: 6, 17: 6, 18: 12, 19: 12} {
		for i := range fans {
			n++
			rec(map[string]any{"source": "weibo", "id": fmt.Sprint("p", n), "time": time.Date(2026, 11, d, 10, i, 0, 0, chinaTime).Format(time.RFC3339),
				"author": fmt.Sprintf("fan%d_%d", d, i), "text": fmt.Sprintf(fanText, n), "likes": 2})
		}
	}
	for i := range 2 {
		rec(map[string]any{"source": "weibo", "id": fmt.Sprint("r", i), "time": time.Date(2026, 11, 19, 9, i, 0, 0, chinaTime).Format(time.RFC3339),
			"author": fmt.Sprint("rival", i), "text": fmt.Sprintf(rivalText, i)})
	}
	rec(map[string]any{"source": "weibo", "id": "o1", "time": time.Date(2026, 11, 19, 20, 0, 0, 0, chinaTime).Format(time.RFC3339),
		"author": "华为终端", "text": officialText, "likes": 100, "shares": 7})
	rec(map[string]any{"source": "baidu-index", "term": "华为", "day": "2026-11-19", "count": 1000})
	res, err := svc.Ingest(t.Context(), env.tenant.ID, social.FormatJSON, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != n+4 || res.Rejected != 0 {
		t.Fatalf("upload = %+v, want %d stored", res, n+4)
	}
	var evs []admeter.Event
	for d := 18; d <= 19; d++ {
		for u := range 3 {
			evs = append(evs, storetest.Imp(time.Date(2026, 11, d, 12, 0, 0, 0, chinaTime), storetest.Tenant(env.tenant.ID),
				storetest.Campaign(env.campaign.ID), storetest.Placement(env.campaign.Placements[0].ID), storetest.User(u)))
		}
	}
	env.next++
	storetest.Insert(t, env.events, env.next, evs...)
	if err := env.events.RefreshRollups(t.Context(), env.tenant.ID, env.campaign.ID, shanghai,
		[]store.Date{{Year: 2026, Month: 11, Day: 18}, {Year: 2026, Month: 11, Day: 19}}); err != nil {
		t.Fatal(err)
	}
}

// socialAs requests the social page with query q as a user of role.
func (env *consoleEnv) socialAs(t *testing.T, role admeter.Role, q string) *httptest.ResponseRecorder {
	t.Helper()
	sess := &api.Session{User: &admeter.User{ID: "u_5", Name: "钱五", Role: role, Tenant: env.tenant.ID}, Tenant: env.tenant, ID: "s5", CSRF: "x"}
	rec := httptest.NewRecorder()
	env.srv.socialPage(rec, httptest.NewRequest(http.MethodGet, "/console/social?"+q, nil), sess)
	return rec
}

// TestSocialPage renders the social page in both languages over the
// story and checks each section against the service's report: totals
// with the suppressed competitor as "—" and its tooltip, the daily chart
// with its gap note, keywords, search trends, the official post (the only
// text), the campaign alignment with its lift, and the privacy note.
func TestSocialPage(t *testing.T) {
	env, svc := socialEnv(t)
	if err := svc.SaveSettings(t.Context(), socialSettings(env.tenant.ID)); err != nil {
		t.Fatal(err)
	}
	socialStory(t, env, svc)
	env.recordAudit()
	rep, err := svc.Report(t.Context(), social.ReportRequest{Tenant: env.tenant.ID, From: store.Date{Year: 2026, Month: 10, Day: 22},
		To: store.Date{Year: 2026, Month: 11, Day: 20}, Campaign: env.campaign.ID})
	if err != nil {
		t.Fatal(err)
	}
	hw := rep.Rules[0].Counts
	if hw == nil || hw.Mentions != 49 || !rep.Rules[1].Suppressed || rep.Alignment == nil || rep.Alignment.Lift.Insufficient {
		t.Fatalf("the story's report: 华为 %+v, 小米 %+v, alignment %+v", hw, rep.Rules[1], rep.Alignment)
	}
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{langZH, []string{"<h1>社会化洞察</h1>", "品牌与竞品", "每日提及", "声量份额", "关键词", "话题", "搜索趋势", "官方账号帖子", "与广告投放对照", "隐私保护",
			`title="作者少于 5 人"`, "表示作者少于 5 人", "曲线中的断点是作者少于 5 人", "提升倍数", "95% 置信区间", "投放前", "投放中", "投放后",
			"描述少于 5 位作者(官方账号除外)的数字不予显示"}},
		{langEN, []string{"<h1>Social insight</h1>", "Brands and competitors", "Daily mentions", "Share of voice", "Keywords", "Topics", "Search trends",
			"Official account posts", "Campaign alignment", `title="fewer than 5 authors"`, "means fewer than 5 authors", "Gaps in the lines are days",
			"Lift (mentions per day, during ÷ before)", "95% CI", "Numbers describing fewer than 5 authors"}},
	} {
		rec := env.socialAs(t, admeter.RoleViewer, "campaign="+string(env.campaign.ID)+"&lang="+tt.lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tt.lang, rec.Code, html)
		}
		lift := fmt.Sprintf("%.2f", rep.Alignment.Lift.Ratio)
		for _, want := range append(tt.want,
			// The form's defaults: the last 30 days in Asia/Shanghai, and
			// the campaign picked.
			`name="from" type="date" value="2026-10-22"`, `name="to" type="date" value="2026-11-20"`,
			`<option value="`+string(env.campaign.ID)+`" selected>双十一</option>`,
			`id="social-chart"`, `id="social-sov"`, `id="social-search-chart"`, escaped(officialText), lift,
			fmt.Sprintf("%.2f – %.2f", rep.Alignment.Lift.Low, rep.Alignment.Lift.High)) {
			if !strings.Contains(html, want) {
				t.Errorf("%s page lacks %s", tt.lang, want)
			}
		}
		brand, competitor := "品牌", "竞品"
		if tt.lang == langEN {
			brand, competitor = "brand", "competitor"
		}
		net := escaped(signed(hw.NetSentiment))
		if rows := tableRows(t, html, "social-rules"); !slices.Equal(rows, []string{
			fmt.Sprintf("华为 | %s | 49 | %d | 49 | %d | %d | %d | %s | %d | 100.0%% | 100.0%%", brand, hw.Original, hw.Positive, hw.Negative, hw.Neutral, net,
				hw.Likes+hw.Comments+hw.Shares),
			"小米 | " + competitor + " | — | — | — | — | — | — | — | — | — | —",
		}) {
			t.Errorf("%s rules %q", tt.lang, rows)
		}
		// A suppressed cell is a dash with the reason as its tooltip.
		if !strings.Contains(html, `<td class="num suppressed" title="`+fmt.Sprintf(translator(tt.lang)("social_suppressed_tip"), 5)+`">—</td>`) {
			t.Errorf("%s: no suppressed cell rendered as — with its tooltip", tt.lang)
		}
		days := tableRows(t, html, "social-days")
		if len(days) != 30 || days[0] != "2026-10-22 | 0 | 0" || !slices.Contains(days, "2026-11-18 | 12 | 0") || !slices.Contains(days, "2026-11-19 | 13 | —") {
			t.Errorf("%s daily rows %q", tt.lang, days)
		}
		if rows := tableRows(t, html, "social-searches"); len(rows) != 2 || !strings.HasPrefix(rows[0], "华为 | "+brand+" | 1,000") {
			t.Errorf("%s search rows %q", tt.lang, rows)
		}
		if rows := tableRows(t, html, "social-official"); len(rows) != 1 || !strings.HasPrefix(rows[0], "华为终端官方微博 weibo · ") || !strings.Contains(rows[0], "2026-11-19 20:00 | "+officialText+" | 100 | 0 | 7 | 0") {
			t.Errorf("%s official rows %q", tt.lang, rows)
		}
		if rows := tableRows(t, html, "social-periods"); len(rows) != 3 || !strings.Contains(rows[0], "2026-10-22 – 2026-11-17 | 27 | 24 | 0.9") ||
			!strings.Contains(rows[1], "2026-11-18 – 2026-11-19 | 2 | 25 | 12.5") {
			t.Errorf("%s alignment rows %q", tt.lang, rows)
		}
		var kw []string
		for _, k := range rep.Keywords {
			kw = append(kw, k.Term)
		}
		if len(kw) == 0 || !strings.Contains(html, ">"+kw[0]+"</th>") {
			t.Errorf("%s: the keywords table lacks the report's first keyword (%q)", tt.lang, kw)
		}
		// No text but the official post's, and no author.
		leaks := []string{"fan14_0", "rival0", "weibo:华为终端"}
		for i := range 48 {
			leaks = append(leaks, fmt.Sprintf(fanText, i+1))
		}
		for i := range 2 {
			leaks = append(leaks, fmt.Sprintf(rivalText, i))
		}
		for _, leak := range leaks {
			if strings.Contains(html, leak) {
				t.Errorf("%s page holds %q, a text or author that is not an official account's", tt.lang, leak)
			}
		}
	}
	var actions []string
	for _, e := range env.auditEntries(t, "report.social") {
		if e.Outcome == "ok" && e.Target == string(env.campaign.ID) {
			actions = append(actions, e.Action)
		}
	}
	if len(actions) != 2 {
		t.Errorf("audit entries %q, want report.social for each page", actions)
	}

	// Without a campaign, no alignment: the page asks for one.
	html := env.socialAs(t, admeter.RoleAnalyst, "lang=en").Body.String()
	if !strings.Contains(html, "Pick a campaign above") || strings.Contains(html, `id="social-periods"`) || !strings.Contains(html, `<option value="" >none</option>`) && !strings.Contains(html, `<option value="">none</option>`) {
		t.Error("the page without a campaign shows an alignment, or does not ask for a campaign")
	}
	// Too few days before delivery: no lift, and why, in the page's
	// language.
	for _, tt := range []struct{ lang, want string }{{langZH, "未估计提升: 投放前只有 1 天,至少需要 3 天"}, {langEN, "No lift estimated: only 1 days before delivery"}} {
		html := env.socialAs(t, admeter.RoleViewer, "from=2026-11-17&to=2026-11-20&campaign="+string(env.campaign.ID)+"&lang="+tt.lang).Body.String()
		if !strings.Contains(html, tt.want) {
			t.Errorf("%s: the page lacks %q", tt.lang, tt.want)
		}
	}
}

// TestSocialPageErrors: no brands yet sends to the settings; a bad range
// is a 400 with the form; another tenant's campaign is not found; a role
// without reports may not see the page; without the service there is none.
func TestSocialPageErrors(t *testing.T) {
	env, svc := socialEnv(t)
	for _, tt := range []struct {
		lang, want string
		role       admeter.Role
		link       bool
	}{{langZH, "还没有设置要监测的品牌", admeter.RoleOwner, true}, {langEN, "No brands are set up yet", admeter.RoleOwner, true},
		{langEN, escaped("Ask the account's owner or an admin"), admeter.RoleViewer, false}} {
		rec := env.socialAs(t, tt.role, "lang="+tt.lang)
		html := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(html, tt.want) || strings.Contains(html, `id="social-form"`) {
			t.Errorf("%s %s without brands: %d, lacks %q or shows the report form", tt.lang, tt.role, rec.Code, tt.want)
		}
		if got := strings.Contains(html, `<a class="button" href="/console/social/settings">`); got != tt.link {
			t.Errorf("%s %s without brands: link to set them up %v, want %v", tt.lang, tt.role, got, tt.link)
		}
	}
	if err := svc.SaveSettings(t.Context(), socialSettings(env.tenant.ID)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    string
		code int
		want string
	}{
		{"from=2026-11-20&to=2026-11-01", http.StatusBadRequest, "after"},
		{"from=2025-01-01&to=2026-11-20", http.StatusBadRequest, "366"},
		{"from=yesterday", http.StatusBadRequest, "from"},
		{"campaign=999999", http.StatusNotFound, ""},
	} {
		rec := env.socialAs(t, admeter.RoleViewer, tt.q)
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: status %d, want %d with %q", tt.q, rec.Code, tt.code, tt.want)
		}
		if tt.code == http.StatusBadRequest && !strings.Contains(rec.Body.String(), `id="social-form"`) {
			t.Errorf("%s: the error page lost the form", tt.q)
		}
	}
	if rec := env.socialAs(t, admeter.Role("nobody"), ""); rec.Code != http.StatusForbidden {
		t.Errorf("a role without reports: %d, want 403", rec.Code)
	}
	env.srv.SetSocial(nil)
	if rec := env.socialAs(t, admeter.RoleViewer, ""); rec.Code != http.StatusForbidden {
		t.Errorf("without the service: %d, want 403", rec.Code)
	}
}

// sqliteAccounts adapts the real metadata store to api.AccountService, as
// cmd/admeter does: sessions and credentials cross as api types.
type sqliteAccounts struct{ *sqlite.DB }

func (a sqliteAccounts) Credentials(ctx context.Context, email string) (*admeter.User, api.Credentials, error) {
	u, c, err := a.UserCredentials(ctx, email)
	if err != nil {
		return nil, api.Credentials{}, err
	}
	return u, api.Credentials{PasswordHash: c.PasswordHash, FailedLogins: c.FailedLogins, LockedUntil: c.LockedUntil,
		TOTPSecret: c.TOTPSecret, TOTPLastStep: c.TOTPLastStep}, nil
}

func (a sqliteAccounts) CreateSession(ctx context.Context, u *admeter.User, tokenHash [32]byte, expires time.Time, ip string) (string, error) {
	s := &admeter.Session{User: u.ID, Tenant: u.Tenant, Expires: expires, IP: ip}
	if err := a.DB.CreateSession(ctx, s, tokenHash); err != nil {
		return "", err
	}
	return s.ID, nil
}

func (a sqliteAccounts) Session(ctx context.Context, tokenHash [32]byte, now time.Time) (*admeter.User, string, error) {
	s, u, err := a.SessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return nil, "", err
	}
	return u, s.ID, nil
}

// signedSessions gives env's console real sessions over the metadata
// store (sign-in, cookies, CSRF tokens), recording audit entries there.
// Sessions run on the real clock, as the store checks their expiry.
func (env *consoleEnv) signedSessions() {
	env.srv.sessions = api.New(api.Config{Accounts: sqliteAccounts{env.meta},
		Audit: auditLog{sqlite.NewAuditLog(env.meta, nil)}, CSRFKey: bytes.Repeat([]byte{7}, 32)}, env.meta, env.meta, nil, nil)
}

// socialBrowser is a signed-in user of the env's tenant on a real server of
// the console, with a cookie jar.
type socialBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

// signIn creates a user of role in the env's tenant and signs it in
// through the console's form on srv.
func signIn(t *testing.T, env *consoleEnv, base string, role admeter.Role, email string) *socialBrowser {
	t.Helper()
	const password = "Sx7!kQm2#vLp9wT"
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.meta.CreateUser(t.Context(), &admeter.User{Tenant: env.tenant.ID, Email: email, Name: "孙七", Role: role}, hash); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &socialBrowser{t: t, base: base, c: &http.Client{Jar: jar}}
	resp, err := b.c.PostForm(base+"/console/signin", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if u := resp.Request.URL.Path; resp.StatusCode != http.StatusOK || u != "/console/campaigns" {
		t.Fatalf("sign in: %d at %s\n%s", resp.StatusCode, u, body)
	}
	return b
}

// get returns the status and body of GET path.
func (b *socialBrowser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post sends a form and returns the status, the final path and the body.
func (b *socialBrowser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.RequestURI(), string(body)
}

var formCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestSocialSettingsForm saves settings through the form on a real server:
// the round trip, the form's CSRF check, an invalid rule shown on the form
// with what was typed, and a viewer's read-only page; the header links to
// the social page only when the console has it.
func TestSocialSettingsForm(t *testing.T) {
	env, svc := socialEnv(t)
	env.signedSessions()
	mux := http.NewServeMux()
	env.srv.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	owner := signIn(t, env, ts.URL, admeter.RoleOwner, "owner@social.example")

	code, page := owner.get("/console/social/settings?lang=en")
	if code != http.StatusOK || !strings.Contains(page, "<h1>Social settings</h1>") || !strings.Contains(page, `id="social-link"`) {
		t.Fatalf("settings page: %d\n%s", code, page)
	}
	csrf := formCSRF.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the settings form")
	}
	form := url.Values{
		"csrf":                  {csrf[1]},
		"brand_name":            {"华为", "", ""},
		"brand_terms":           {"华为, huawei\n荣耀", "", ""},
		"brand_exclusions":      {"华为路由器", "", ""},
		"competitor_name":       {"小米", ""},
		"competitor_terms":      {"小米，xiaomi", ""},
		"competitor_exclusions": {"", ""},
		"account_source":        {"Weibo", ""},
		"account_handle":        {"@华为终端", ""},
		"account_name":          {"华为终端官方微博", ""},
	}
	code, at, _ := owner.post("/console/social/settings", form)
	if code != http.StatusOK || at != "/console/social/settings?saved=1" {
		t.Fatalf("save: %d at %s", code, at)
	}
	got, err := svc.Settings(t.Context(), env.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &admeter.SocialSettings{Tenant: env.tenant.ID,
		Brands:      []admeter.SocialRule{{Name: "华为", Terms: []string{"华为", "huawei", "荣耀"}, Exclusions: []string{"华为路由器"}}},
		Competitors: []admeter.SocialRule{{Name: "小米", Terms: []string{"小米", "xiaomi"}}},
		Official:    []admeter.SocialAccount{{Source: "weibo", Handle: "@华为终端", Name: "华为终端官方微博"}},
	}
	got.Updated = time.Time{}
	if gj, wj := mustJSON(t, got), mustJSON(t, want); gj != wj {
		t.Errorf("saved settings\n got %s\nwant %s", gj, wj)
	}
	// The form shows them back, in both languages, with blank rows to add.
	for _, tt := range []struct{ lang, saved string }{{langZH, "已保存。"}, {langEN, "Saved."}} {
		_, page = owner.get("/console/social/settings?saved=1&lang=" + tt.lang)
		for _, w := range []string{tt.saved, `id="brand-name-0" name="brand_name" value="华为"`, ">华为, huawei, 荣耀</textarea>", `id="brand-name-2"`,
			`id="competitor-name-0" name="competitor_name" value="小米"`, `id="account-handle-0" name="account_handle" value="@华为终端"`,
			`id="account-source-0" name="account_source" value="weibo"`, `id="social-save"`} {
			if !strings.Contains(page, w) {
				t.Errorf("%s settings page lacks %s", tt.lang, w)
			}
		}
	}

	// A form without the session's token is refused, and nothing changes.
	stale := maps.Clone(form)
	stale.Set("csrf", "forged")
	stale["brand_name"] = []string{"别的品牌"}
	if code, _, _ := owner.post("/console/social/settings", stale); code != http.StatusForbidden {
		t.Errorf("forged CSRF token: %d, want 403", code)
	}
	delete(stale, "csrf")
	if code, _, _ := owner.post("/console/social/settings", stale); code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", code)
	}
	if now, _ := svc.Settings(t.Context(), env.tenant.ID); len(now.Brands) != 1 || now.Brands[0].Name != "华为" {
		t.Errorf("a refused form changed the settings: %+v", now.Brands)
	}

	// Invalid settings: the service's reason on the form, with what was
	// typed kept; nothing saved.
	for _, tt := range []struct {
		name  string
		edit  func(url.Values)
		want  string
		typed string
	}{
		{"rule without terms", func(f url.Values) { f["competitor_name"] = []string{"OPPO"}; f["competitor_terms"] = []string{""} }, "terms is empty", `value="OPPO"`},
		{"bad source", func(f url.Values) { f["account_source"] = []string{"微博"} }, "source", `value="微博"`},
		{"accounts without brands", func(f url.Values) {
			f["brand_name"] = []string{""}
			f["brand_terms"] = []string{""}
			f["brand_exclusions"] = nil
		},
			"name at least one brand", `value="@华为终端"`},
	} {
		bad := maps.Clone(form)
		tt.edit(bad)
		code, _, body := owner.post("/console/social/settings?lang=en", bad)
		if code != http.StatusBadRequest || !strings.Contains(body, `id="social-settings-error">Not saved: `) || !strings.Contains(body, tt.want) ||
			!strings.Contains(body, tt.typed) {
			t.Errorf("%s: %d, want 400 with %q on the form keeping %s", tt.name, code, tt.want, tt.typed)
		}
	}
	if now, _ := svc.Settings(t.Context(), env.tenant.ID); len(now.Competitors) != 1 || now.Competitors[0].Name != "小米" || now.Official[0].Source != "weibo" {
		t.Errorf("an invalid form changed the settings: %+v", now)
	}
	var outcomes []string
	for _, e := range env.auditEntries(t, "social.settings.update") {
		outcomes = append(outcomes, e.Outcome)
	}
	if want := []string{"ok", "failed: invalid", "failed: invalid", "failed: invalid"}; !slices.Equal(outcomes, want) {
		t.Errorf("audit outcomes %q, want %q", outcomes, want)
	}

	// A viewer sees the settings, read-only, and may not post them.
	viewer := signIn(t, env, ts.URL, admeter.RoleViewer, "viewer@social.example")
	code, page = viewer.get("/console/social/settings")
	if code != http.StatusOK || !strings.Contains(page, `id="social-readonly"`) || strings.Contains(page, `id="social-save"`) ||
		!strings.Contains(page, `value="华为" maxlength="100" disabled`) {
		t.Errorf("viewer's settings page: %d, not read-only", code)
	}
	vcsrf := formCSRF.FindStringSubmatch(page)
	form.Set("csrf", vcsrf[1])
	if code, _, _ := viewer.post("/console/social/settings", form); code != http.StatusForbidden {
		t.Errorf("a viewer's post: %d, want 403", code)
	}
	// The social page itself, through the real routes.
	if code, page := viewer.get("/console/social?lang=en"); code != http.StatusOK || !strings.Contains(page, "<h1>Social insight</h1>") {
		t.Errorf("social page: %d", code)
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSocialNav: the header links to the social page, and its routes
// exist, only when the console has the social service.
func TestSocialNav(t *testing.T) {
	env, _ := socialEnv(t)
	env.signedSessions()
	without, err := New(Config{Now: func() time.Time { return now }}, env.srv.sessions, env.meta, env.srv.reports, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		srv  *Server
		want bool
	}{{"with", env.srv, true}, {"without", without, false}} {
		mux := http.NewServeMux()
		tt.srv.Register(mux)
		ts := httptest.NewServer(mux)
		b := signIn(t, env, ts.URL, admeter.RoleViewer, "nav-"+tt.name+"@social.example")
		for _, lang := range []string{langZH, langEN} {
			_, page := b.get("/console/campaigns?lang=" + lang)
			link := `<a href="/console/social" id="social-link">` + translator(lang)("social") + `</a>`
			if got := strings.Contains(page, link); got != tt.want {
				t.Errorf("%s the service (%s): header link %v, want %v", tt.name, lang, got, tt.want)
			}
		}
		for _, p := range []string{"/console/social", "/console/social/settings"} {
			code, _ := b.get(p)
			if (code == http.StatusOK) != tt.want || (!tt.want && code != http.StatusNotFound) {
				t.Errorf("%s the service: GET %s = %d", tt.name, p, code)
			}
		}
		ts.Close()
	}
	// A role that may not read reports has no link.
	sess := &api.Session{User: &admeter.User{ID: "u_9", Name: "王九", Role: admeter.Role("nobody"), Tenant: env.tenant.ID}, Tenant: env.tenant, ID: "s9", CSRF: "x"}
	rec := httptest.NewRecorder()
	env.srv.render(rec, httptest.NewRequest(http.MethodGet, "/console/campaigns", nil), http.StatusOK, "campaigns", "campaigns", sess, map[string]any{}, "")
	if strings.Contains(rec.Body.String(), `id="social-link"`) {
		t.Error("a role without reports:read gets the social link")
	}
}

// TestSplitTerms: commas (ASCII, full-width, 、) and line breaks separate
// terms; blanks are dropped.
func TestSplitTerms(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"华为, huawei\n荣耀", []string{"华为", "huawei", "荣耀"}},
		{"小米，xiaomi、红米\r\n\n , ", []string{"小米", "xiaomi", "红米"}},
		{"  ", nil},
		{"Mate 60 Pro", []string{"Mate 60 Pro"}},
	} {
		if got := splitTerms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitTerms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
