package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// browserBudget bounds the whole browser test: start, every page, the traffic
// and the exports.
const browserBudget = 60 * time.Second

// browserExecPath finds Chromium: $CHROMIUM, then chromium or
// chromium-browser on the PATH. It returns "" when there is none.
func browserExecPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserAccount registers and activates an advertiser through the API and
// returns its owner's email and password.
func browserAccount(t *testing.T, m *Main, base string) (email, password string) {
	t.Helper()
	op, err := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	email, password = "owner@browser.example", "Bq7!xWm2#kLp9sT"
	var acct struct{ ID string }
	if st := apiCall(t, "POST", base+"/api/v1/register", "", map[string]any{"kind": "advertiser",
		"registration": map[string]string{"company": "浏览器测试科技有限公司", "credit_code": "91110108551385082Q", "licence_ref": "BL-2",
			"contact": "吴十", "phone": "13612345678", "email": "c@browser.example"},
		"owner": map[string]string{"email": email, "name": "吴十", "password": password}}, &acct); st != 201 {
		t.Fatalf("register: %d", st)
	}
	for _, s := range []string{"verified", "active"} {
		if st := apiCall(t, "POST", base+"/api/v1/admin/tenants/"+acct.ID+"/status", strings.TrimSpace(string(op)), map[string]string{"status": s, "note": "ok"}, nil); st != 200 {
			t.Fatalf("set tenant status %s: %d", s, st)
		}
	}
	return email, password
}

// headlessChromium starts a quiet headless Chromium at exe, 1366×900, with
// extra options.
func headlessChromium(ctx context.Context, exe string, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 900),
	}, extra...)
	return chromedp.NewExecAllocator(ctx, opts...)
}

// browserRun is one headless Chromium tab on the console, with the helpers
// the test uses; every helper fails the test with the step it was doing.
type browserRun struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // where screenshots go

	mu      sync.Mutex
	console []chromedp.ConsoleMessage // what the pages wrote to the console
}

// do runs actions that return nothing.
func (b *browserRun) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// load runs actions that navigate (a Navigate, a click on a link or a submit
// button), waits for the new page and checks it answered 200 at path.
func (b *browserRun) load(step, wantPath string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("%s: status %d for %s", step, resp.Status, resp.URL)
	}
	if u, err := url.Parse(resp.URL); err != nil || u.Path != wantPath {
		b.t.Fatalf("%s: ended on %s, want %s", step, resp.URL, wantPath)
	}
	b.do(step+": page ready", chromedp.WaitVisible(chromedp.CSS("main")))
}

// text returns the text of the element sel.
func (b *browserRun) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// value returns the value of the form field sel.
func (b *browserRun) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression into T.
func browserEval[T any](b *browserRun, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// copy clicks the copy button sel and waits until its label says done. The
// label goes back after a moment, so a watcher set up before the click
// catches the change however late the test looks.
func (b *browserRun) copy(sel, done string) {
	b.t.Helper()
	watch := fmt.Sprintf(`window.browserCopied = new Promise(resolve => {
		const b = document.querySelector(%q);
		new MutationObserver(() => { if (b.textContent === %q) resolve(b.textContent); })
			.observe(b, {childList: true, characterData: true, subtree: true});
	}), true`, sel, done)
	b.do("watch the copy button", chromedp.Evaluate[chromedp.Void](watch), chromedp.Click(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.browserCopied`, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("the copy button %s did not say %q: %v", sel, done, err)
	}
}

// num reads a KPI: digits with thousands separators.
func (b *browserRun) num(sel string) int64 {
	b.t.Helper()
	s := b.text(sel)
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		b.t.Fatalf("%s shows %q, not a number", sel, s)
	}
	return n
}

// shot saves a full-page screenshot as name.png, or as name.jpg when the PNG
// would be over 400 KB.
func (b *browserRun) shot(name string) {
	b.t.Helper()
	img, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	ext, other := ".png", ".jpg"
	if len(img) > 400<<10 {
		if img, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(80)); err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		ext, other = other, ext
	}
	_ = os.Remove(filepath.Join(b.shots, name+other))
	if err := os.WriteFile(filepath.Join(b.shots, name+ext), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// cookieHeader returns the browser's cookies for the server as a Cookie
// header: the session cookie is HttpOnly, so only the DevTools protocol can
// read it.
func (b *browserRun) cookieHeader() string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/api/v1/"}})
	if err != nil {
		b.t.Fatalf("read the browser's cookies: %v", err)
	}
	var parts []string
	for _, c := range res.Cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if !strings.Contains(strings.Join(parts, ";"), "admeter_session=") {
		b.t.Fatalf("the browser has no session cookie for the API: %q", parts)
	}
	return strings.Join(parts, "; ")
}

// fetch GETs an API path with the browser's cookies, as a click on a link
// would.
func (b *browserRun) fetch(path string) []byte {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, "GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Cookie", b.cookieHeader())
	resp, err := noRedirect.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET %s with the browser's session: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// checkPage checks what every console page must hold: the language asked
// for, no label key shown untranslated, no NaN, and nothing wider than the
// window.
func (b *browserRun) checkPage(page, lang string) {
	b.t.Helper()
	if got := browserEval[string](b, `document.documentElement.lang`); got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", page, got, lang)
	}
	// A label missing from the catalogue shows as its key (new_campaign).
	keys := browserEval[[]string](b, `(() => {
		const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n; (n = w.nextNode()); ) {
			if (n.parentElement.closest("textarea,code,script,style")) continue;
			for (const m of n.textContent.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)) out.push(m[0]);
		}
		for (const e of document.querySelectorAll("[placeholder],[aria-label],[title]"))
			for (const a of ["placeholder", "aria-label", "title"]) {
				const v = e.getAttribute(a) || "";
				if (/^[a-z]+(?:_[a-z]+)+$/.test(v)) out.push(v);
			}
		return out;
	})()`)
	if len(keys) > 0 {
		b.t.Errorf("%s (%s): untranslated label keys %q", page, lang, keys)
	}
	if body := b.text("body"); strings.Contains(body, "NaN") || strings.Contains(body, "undefined") {
		b.t.Errorf("%s (%s) shows NaN or undefined:\n%s", page, lang, body)
	}
	if wide := browserEval[[]string](b, `(() => {
		const W = document.documentElement.clientWidth, out = [];
		if (document.documentElement.scrollWidth > W) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + W);
		for (const e of document.querySelectorAll("main *")) {
			const r = e.getBoundingClientRect();
			if (r.width > 0 && r.right > W + 1) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className : "") + " ends at " + Math.round(r.right));
		}
		return out.slice(0, 5);
	})()`); len(wide) > 0 {
		b.t.Errorf("%s (%s) overflows the %d px window: %q", page, lang, 1366, wide)
	}
}

// send sends a JSON body to an API path with the browser's session cookie
// and the session's CSRF token (the console's forms carry it), as a script
// of the console would, and decodes the answer into out.
func (b *browserRun) send(method, path, csrf string, body, out any) {
	b.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(b.ctx, method, b.base+path, bytes.NewReader(data))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Cookie", b.cookieHeader())
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirect.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		b.t.Fatalf("%s %s with the browser's session: %d %s", method, path, resp.StatusCode, answer)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			b.t.Fatalf("%s %s: decode %s: %v", method, path, answer, err)
		}
	}
}

// browserSocialTexts are the fans' and rivals' posts the browser test
// uploads: texts that no console page may show (only official accounts'
// posts are shown).
const (
	browserFanText   = "华为手机拍照真清楚,推荐给大家 %d"
	browserRivalText = "小米更便宜,性价比高 %d"
	browserOfficial  = "华为新品发布会今晚八点直播"
)

// browserSocialFeed is an NDJSON feed of social posts around now: 华为 is
// mentioned by 6 fans a day 8 to 6 days ago, before the campaign's traffic,
// and by 10 a day 3 to 1 days ago, during it; 小米 by 2 people (under the
// threshold); the official account posts once; and partners count the
// searches of both names over the last 14 days. It returns the feed
// and the texts no page may show.
func browserSocialFeed(now time.Time) (feed string, hidden []string) {
	var b strings.Builder
	n := 0
	for back, fans := range map[int]int{8: 6, 7: 6, 6: 6, 3: 10, 2: 10, 1: 10} {
		for i := range fans {
			n++
			text := fmt.Sprintf(browserFanText, n)
			hidden = append(hidden, text)
			fmt.Fprintf(&b, `{"source":"weibo","id":"f%d","time":%q,"author":"fan%d_%d","text":%q,"likes":3}`+"\n",
				n, now.Add(-time.Duration(back)*24*time.Hour-time.Duration(i)*time.Minute).Format(time.RFC3339), back, i, text)
		}
	}
	for i := range 2 {
		text := fmt.Sprintf(browserRivalText, i)
		hidden = append(hidden, text)
		fmt.Fprintf(&b, `{"source":"douyin","id":"r%d","time":%q,"author":"rival%d","text":%q}`+"\n", i, now.Add(-2*24*time.Hour).Format(time.RFC3339), i, text)
	}
	fmt.Fprintf(&b, `{"source":"weibo","id":"o1","time":%q,"author":"华为终端","text":%q,"likes":120,"shares":8}`+"\n",
		now.Add(-2*24*time.Hour).Format(time.RFC3339), browserOfficial)
	for back := range 14 {
		day := now.In(shanghai()).AddDate(0, 0, -back).Format(time.DateOnly)
		fmt.Fprintf(&b, `{"source":"baidu-index","term":"华为","day":%q,"count":%d}`+"\n", day, 800+40*back+300*(back%3))
		fmt.Fprintf(&b, `{"source":"baidu-index","term":"小米","day":%q,"count":%d}`+"\n", day, 600+25*back)
	}
	return b.String(), hidden
}

// browserTotals are a report's totals, as the JSON API gives them.
type browserTotals struct {
	Impressions int64 `json:"impressions"`
	Clicks      int64 `json:"clicks"`
	UV          int64 `json:"uv"`
}

// browserHit is one event the test sends as a media platform would.
type browserHit struct {
	url  string
	want int // status
}

// browserTraffic makes impressions on the given impression URLs and a few
// clicks on click: devices with OAIDs (Android) and IDFAs (iOS), 1 to 4
// impressions each, over the last five days but one, from five places. It returns
// the hits and the impressions, clicks and users they make.
func browserTraffic(imps []string, click string, now time.Time) (hits []browserHit, want browserTotals) {
	ips := []string{"202.96.134.133", "61.135.169.121", "101.226.4.6", "112.80.248.75", "58.176.0.1"}
	daysBack := []int{0, 1, 3, 4} // a day with no traffic in between
	const devices = 14
	for i := range devices {
		vals := map[string]string{"__IP__": ips[i%len(ips)]}
		if i < 10 {
			vals["__OS__"], vals["__OAID__"] = "0", fmt.Sprintf("b7e0c0de-0000-4000-8000-%012d", i)
		} else {
			vals["__OS__"], vals["__IDFA__"] = "1", fmt.Sprintf("6D92078A-8246-4BA4-AE5B-%012d", i)
		}
		imp := imps[0]
		if i >= 10 {
			imp = imps[len(imps)-1]
		}
		for j := range 1 + i%4 {
			vals["__TS__"] = fmt.Sprint(now.Add(-time.Duration(daysBack[(i+j)%len(daysBack)])*24*time.Hour - time.Duration(j)*time.Minute).Unix())
			vals["__REQUESTID__"] = fmt.Sprintf("req-%d-%d", i, j)
			hits = append(hits, browserHit{browserBlank(fill(imp, vals)), 200})
			want.Impressions++
		}
		if i < 3 {
			vals["__TS__"] = fmt.Sprint(now.Unix())
			vals["__REQUESTID__"] = fmt.Sprintf("clk-%d", i)
			hits = append(hits, browserHit{browserBlank(fill(click, vals)), http.StatusFound})
			want.Clicks++
		}
		want.UV++
	}
	return hits, want
}

// browserDays returns the days from..to (YYYY-MM-DD) as the charts label
// them (MM-DD).
func browserDays(t *testing.T, from, to string) []string {
	t.Helper()
	d, err1 := time.Parse(time.DateOnly, from)
	end, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || end.Before(d) {
		t.Fatalf("dashboard range %q..%q", from, to)
	}
	var out []string
	for ; !d.After(end); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("01-02"))
	}
	return out
}

var browserMacroRE = regexp.MustCompile(`__[A-Z0-9]+__`)

// browserBlank empties the macros a platform left unreplaced.
func browserBlank(u string) string { return browserMacroRE.ReplaceAllString(u, "") }

// TestConsoleInBrowser drives headless Chromium through the console of a
// real server: sign in, create a campaign with the form, copy its code, send
// traffic to the code, read the dashboard against the reports API, export
// Excel, switch language and sign out. With ADMETER_SCREENSHOTS=1 it saves
// the screenshots of docs/console.md in testdata/screenshots.
func TestConsoleInBrowser(t *testing.T) {
	exe := browserExecPath()
	if exe == "" {
		t.Skip("no Chromium found (set $CHROMIUM or put chromium on the PATH); .ci/run installs it, so CI always runs this test")
	}
	shots := t.TempDir()
	if os.Getenv("ADMETER_SCREENSHOTS") == "1" {
		shots = filepath.Join("testdata", "screenshots")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	m, base := MustRunMain(t, func(c *ServeConfig) { c.SocialPreload = true })
	email, password := browserAccount(t, m, base)

	ctx, cancel := context.WithTimeout(t.Context(), browserBudget)
	defer cancel()
	allocCtx, cancelAlloc := headlessChromium(ctx, exe,
		chromedp.Flag("hide-scrollbars", true),
		// A browser in China: the console must pick Chinese from Accept-Language.
		chromedp.Flag("accept-lang", "zh-CN,zh"),
	)
	defer cancelAlloc()
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	b := &browserRun{t: t, ctx: tabCtx, base: base, shots: shots}
	b.do("start Chromium", chromedp.EmulateViewport(1366, 900))
	messages := chromedp.Console(tabCtx)
	go func() {
		for msg, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, msg)
			b.mu.Unlock()
		}
	}()
	if _, err := chromedp.CallBrowser(tabCtx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: base}); err != nil {
		t.Fatalf("grant clipboard access: %v", err)
	}
	started := time.Since(start)

	// Sign in.
	b.load("open the sign-in page", "/console/signin", chromedp.Navigate(base+"/console/"))
	b.checkPage("sign-in", "zh-CN")
	if h := b.text("main h1"); h != "登录" {
		t.Errorf("sign-in heading %q, want 登录 (Accept-Language zh-CN)", h)
	}
	b.shot("signin-zh")
	b.do("fill the sign-in form", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
	b.load("sign in", "/console/campaigns", chromedp.Click(chromedp.ID("signin-submit")))
	if who := b.text("header .who"); !strings.Contains(who, "吴十") || !strings.Contains(who, "浏览器测试科技有限公司") {
		t.Errorf("header shows %q, want the user and the company", who)
	}

	// Create a campaign with the form.
	const placements = "开屏，媒体A\n信息流, 媒体B"
	b.do("fill the new-campaign form",
		chromedp.SendKeys(chromedp.ID("c-name"), "双十二大促"),
		chromedp.SendKeys(chromedp.ID("c-landing"), "https://shop.example.com/sale"),
		chromedp.SendKeys(chromedp.ID("c-placements"), placements))
	if got := b.value("#c-placements"); got != placements {
		t.Fatalf("placements field holds %q after typing, want %q", got, placements)
	}
	resp, err := chromedp.RunResponse(tabCtx, chromedp.Click(chromedp.CSS(`#new-campaign button[type=submit]`)))
	if err != nil || resp.Status != 200 {
		t.Fatalf("create the campaign: %v %v", resp, err)
	}
	id := regexp.MustCompile(`/console/campaigns/(\d+)/codes$`).FindStringSubmatch(resp.URL)
	if id == nil {
		t.Fatalf("after creating, the browser is on %s, not a codes page", resp.URL)
	}
	campaign := id[1]
	b.do("codes page ready", chromedp.WaitVisible(chromedp.CSS("section.card textarea")))
	b.checkPage("codes", "zh-CN")

	// The codes: one card per placement, the first placement's impression URL.
	heads := browserEval[[]string](b, `[...document.querySelectorAll("section.card h2")].map(h => h.textContent)`)
	if len(heads) != 2 || !strings.Contains(heads[0], "开屏") || !strings.Contains(heads[0], "媒体A") ||
		!strings.Contains(heads[1], "信息流") || !strings.Contains(heads[1], "媒体B") {
		t.Fatalf("codes page placements %q, want 开屏 (媒体A) and 信息流 (媒体B)", heads)
	}
	ids := browserEval[[]string](b, `[...document.querySelectorAll("textarea[id$='-mma-imp']")].map(e => e.id)`)
	if len(ids) != 2 {
		t.Fatalf("impression code areas %q, want 2", ids)
	}
	first := strings.TrimSuffix(strings.TrimPrefix(ids[0], "code-"), "-mma-imp")
	impURL := b.value("#" + ids[0])
	clickURL := b.value("#code-" + first + "-mma-clk")
	if !strings.Contains(impURL, "/x/k="+campaign+"&p="+first) || !strings.Contains(impURL, "m11=__OAID__") {
		t.Fatalf("impression code %q: not the first placement's MMA URL", impURL)
	}
	if !strings.Contains(clickURL, "/r/k="+campaign+"&p="+first) || !strings.HasSuffix(clickURL, "&o=https://shop.example.com/sale") {
		t.Fatalf("click code %q: not the first placement's MMA click URL", clickURL)
	}
	copyBtn := fmt.Sprintf(`button.copy[data-target=%q]`, ids[0])
	if got := b.text(copyBtn); got != "复制" {
		t.Errorf("copy button says %q, want 复制", got)
	}
	b.copy(copyBtn, "已复制")
	if clip := browserEval[string](b, `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise); clip != impURL {
		t.Errorf("clipboard holds %q after Copy, want the impression URL %q", clip, impURL)
	}

	// Traffic from the media, to the codes as shown.
	hits, want := browserTraffic([]string{impURL, b.value("#" + ids[1])}, clickURL, time.Now())
	for _, h := range hits {
		resp, body := get(t, h.url, nil)
		if resp.StatusCode != h.want || resp.Header.Get("X-Admeter-Rejected") != "" {
			t.Fatalf("GET %s: %d (rejected %q), want %d\n%s", h.url, resp.StatusCode, resp.Header.Get("X-Admeter-Rejected"), h.want, body)
		}
		if h.want == http.StatusFound && resp.Header.Get("Location") != "https://shop.example.com/sale" {
			t.Fatalf("click went to %q, want the landing page", resp.Header.Get("Location"))
		}
	}

	// And a crawler rendering the first placement's ad three times: invalid
	// traffic, out of the dashboard's counts and in its invalid section.
	for i := range 3 {
		u := browserBlank(fill(impURL, map[string]string{"__TS__": fmt.Sprint(time.Now().Unix()), "__REQUESTID__": fmt.Sprintf("bot-%d", i)}))
		resp, _ := get(t, u, map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
		if resp.StatusCode != 200 {
			t.Fatalf("crawler GET %s: %d", u, resp.StatusCode)
		}
	}

	// The codes page lists the last events of each placement.
	codesPath := "/console/campaigns/" + campaign + "/codes"
	for {
		b.load("reload the codes", codesPath, chromedp.Navigate(base+codesPath))
		recent := browserEval[[]int](b, `[...document.querySelectorAll("section.card")].map(s => s.querySelectorAll("table.recent tbody tr").length)`)
		if len(recent) == 2 && recent[0] > 0 && recent[1] > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the codes page lists %v recent events per placement after %v, want some for each", recent, browserBudget)
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.checkPage("codes", "zh-CN")
	b.shot("codes-zh")

	// The campaigns list.
	b.load("open the campaigns list", "/console/campaigns", chromedp.Click(chromedp.CSS(`header nav a[href="/console/campaigns"]`)))
	b.checkPage("campaigns", "zh-CN")
	if row := b.text("table.grid tbody tr"); !strings.Contains(row, "双十二大促") || !strings.Contains(row, campaign) || !strings.Contains(row, "Asia/Shanghai") {
		t.Errorf("campaigns list row %q, want the new campaign", row)
	}
	if n := b.text("table.grid tbody tr td.num"); n != "2" {
		t.Errorf("campaigns list shows %s placements, want 2", n)
	}
	b.shot("campaigns-zh")

	// The dashboard, once the reports API counts every event.
	b.load("open the dashboard", "/console/campaigns/"+campaign, chromedp.Click(chromedp.CSS(`table.grid a[href="/console/campaigns/`+campaign+`"]`)))
	from, to := b.value("#from"), b.value("#to")
	rangeDays := browserDays(t, from, to)
	var rep struct {
		Total browserTotals `json:"total"`
	}
	reportPath := fmt.Sprintf("/api/v1/campaigns/%s/report?from=%s&to=%s&by=day", campaign, from, to)
	for {
		if err := json.Unmarshal(b.fetch(reportPath), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Total.Impressions >= want.Impressions && rep.Total.Clicks >= want.Clicks {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the reports API shows %+v after %v, want %+v", rep.Total, browserBudget, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if rep.Total != want {
		t.Errorf("reports API totals %+v for %s..%s, want what was sent: %+v", rep.Total, from, to, want)
	}
	b.load("reload the dashboard", "/console/campaigns/"+campaign, chromedp.Reload())
	b.checkPage("dashboard", "zh-CN")
	kpis := func(lang string) {
		t.Helper()
		got := browserTotals{Impressions: b.num("#kpi-impressions"), Clicks: b.num("#kpi-clicks"), UV: b.num("#kpi-uv")}
		if got != rep.Total {
			t.Errorf("dashboard (%s) KPIs %+v, reports API %+v for %s..%s", lang, got, rep.Total, from, to)
		}
		if ctr, wantCTR := b.text(".kpis div:nth-child(3) dd"), fmt.Sprintf("%.2f%%", 100*float64(rep.Total.Clicks)/float64(rep.Total.Impressions)); ctr != wantCTR {
			t.Errorf("dashboard (%s) CTR %s, want %s", lang, ctr, wantCTR)
		}
		if n := browserEval[int](b, `document.querySelectorAll(".charts figure svg").length`); n != 6 {
			t.Errorf("dashboard (%s) has %d charts, want 6", lang, n)
		}
		// Both time charts run over every day of the range, days without
		// traffic included.
		days := browserEval[[][]string](b, `[...document.querySelectorAll(".charts figure")].slice(0, 2).map(f =>
			[...f.querySelectorAll("svg text")].map(e => e.textContent.trim()).filter(s => /^\d\d-\d\d$/.test(s)))`)
		for i, name := range []string{"over time", "cumulative reach"} {
			if i >= len(days) || !slices.Equal(days[i], rangeDays) {
				t.Errorf("dashboard (%s) %s chart has days %q, want every day of the range %q", lang, name, days, rangeDays)
			}
		}
	}
	kpis("zh")
	// The invalid-traffic section: the crawler's three impressions on the
	// first placement, under their reason, first; the other placement has
	// none.
	ivtRow := browserEval[[]string](b, `[...document.querySelectorAll("#ivt-placements tbody tr")].map(r =>
		r.dataset.placement + "|" + r.querySelector("td:nth-of-type(2)").textContent.trim() + "|" +
		[...r.querySelectorAll("li[data-reason]")].map(l => l.dataset.reason).join(","))`)
	if len(ivtRow) != 2 || ivtRow[0] != first+"|3|crawler_ua" || !strings.HasSuffix(ivtRow[1], "|0|") {
		t.Errorf("invalid traffic by placement %q, want %q then the other placement with none", ivtRow, first+"|3|crawler_ua")
	}
	if n := browserEval[int](b, `document.querySelectorAll("#ivt-chart svg").length`); n != 1 {
		t.Errorf("invalid traffic chart: %d, want 1", n)
	}
	b.shot("dashboard-zh")

	// Export Excel with the browser's session.
	href, err := chromedp.Run(tabCtx, chromedp.AttributeValue(chromedp.ID("export-xlsx"), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("export link: %v %+v", err, href)
	}
	if !strings.Contains(href.Value, "from="+from) || !strings.Contains(href.Value, "to="+to) || !strings.Contains(href.Value, "lang=zh") {
		t.Errorf("export link %q is not for %s..%s in Chinese", href.Value, from, to)
	}
	xlsx, err := excelize.OpenReader(bytes.NewReader(b.fetch(href.Value)))
	if err != nil {
		t.Fatalf("read the exported workbook: %v", err)
	}
	defer xlsx.Close()
	rows, err := xlsx.GetRows(xlsx.GetSheetName(0))
	if err != nil || len(rows) < 3 {
		t.Fatalf("workbook rows %q, %v", rows, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cell := func(row []string, name string) int64 {
		i, ok := col[name]
		if !ok || i >= len(row) {
			t.Fatalf("workbook has no %s column: %q", name, rows[0])
		}
		n, err := strconv.ParseInt(row[i], 10, 64)
		if err != nil {
			t.Fatalf("workbook %s cell %q is not a whole number", name, row[i])
		}
		return n
	}
	last := rows[len(rows)-1]
	if last[0] != "合计" {
		t.Fatalf("last workbook row %q is not the totals", last)
	}
	if got := (browserTotals{cell(last, "曝光"), cell(last, "点击"), cell(last, "曝光独立用户")}); got != rep.Total {
		t.Errorf("workbook totals %+v, reports API %+v", got, rep.Total)
	}
	var sum int64
	for _, row := range rows[1 : len(rows)-1] {
		sum += cell(row, "曝光")
	}
	if sum != rep.Total.Impressions {
		t.Errorf("workbook rows add up to %d impressions, total says %d", sum, rep.Total.Impressions)
	}

	// The reach & plan page, from the campaign's tabs: its deduplicated
	// reach over the last 7 days is the reports API's unique users (all the
	// traffic is recent), and the plan section answers.
	reachPage := func(lang string) {
		t.Helper()
		b.load("open the reach page ("+lang+")", "/console/campaigns/"+campaign+"/reach", chromedp.Click(chromedp.ID("reach-link")))
		b.checkPage("reach", map[string]string{"zh": "zh-CN", "en": "en"}[lang])
		if got := strings.ReplaceAll(b.text("#rk-reach"), ",", ""); got != strconv.FormatInt(rep.Total.UV, 10) {
			t.Errorf("reach page (%s) shows reach %q, the reports API %d unique users", lang, got, rep.Total.UV)
		}
		if n := browserEval[int](b, `document.querySelectorAll("#reach-groups tbody tr, #reach-chart svg, #plan-summary").length`); n < 3 {
			t.Errorf("reach page (%s): %d of the groups table rows, the curve chart and the plan summary", lang, n)
		}
		b.shot("reach-" + lang)
		b.load("back to the dashboard ("+lang+")", "/console/campaigns/"+campaign, chromedp.Click(chromedp.CSS(`main a[href="/console/campaigns/`+campaign+`"]`)))
	}
	reachPage("zh")

	// Social insight: from the header, the page asks for brands first; the
	// settings form names them; a partner feed is uploaded through the API
	// (a token made with the browser's session); then the page, aligned
	// with the campaign, shows the API's numbers, the competitor under the
	// threshold as "—", and the official post as the only text.
	b.load("open social insight", "/console/social", chromedp.Click(chromedp.ID("social-link")))
	b.checkPage("social (no brands)", "zh-CN")
	b.load("open the social settings", "/console/social/settings", chromedp.Click(chromedp.CSS(`#social-no-brands a.button`)))
	b.checkPage("social settings", "zh-CN")
	b.do("fill the social settings",
		chromedp.SendKeys(chromedp.ID("brand-name-0"), "华为"), chromedp.SendKeys(chromedp.ID("brand-terms-0"), "华为\nhuawei"),
		chromedp.SendKeys(chromedp.ID("competitor-name-0"), "小米"), chromedp.SendKeys(chromedp.ID("competitor-terms-0"), "小米，xiaomi"),
		chromedp.SendKeys(chromedp.ID("account-source-0"), "weibo"), chromedp.SendKeys(chromedp.ID("account-handle-0"), "华为终端"),
		chromedp.SendKeys(chromedp.ID("account-name-0"), "华为终端官方"))
	b.load("save the social settings", "/console/social/settings", chromedp.Click(chromedp.ID("social-save")))
	b.checkPage("social settings", "zh-CN")
	if got := b.value("#competitor-terms-0"); got != "小米, xiaomi" || b.text("#social-saved") != "已保存。" {
		t.Errorf("after saving, the competitor's terms are %q (want 小米, xiaomi) and the page says %q", got, b.text("#social-saved"))
	}
	var socialSet struct {
		Brands []struct {
			Name  string   `json:"name"`
			Terms []string `json:"terms"`
		} `json:"brands"`
	}
	if err := json.Unmarshal(b.fetch("/api/v1/social/settings"), &socialSet); err != nil || len(socialSet.Brands) != 1 || !slices.Equal(socialSet.Brands[0].Terms, []string{"华为", "huawei"}) {
		t.Errorf("the API's settings after the form: %+v %v", socialSet, err)
	}
	b.shot("social-settings-zh")
	csrf := b.value(`input[name="csrf"]`)
	var feedToken struct{ Token string }
	b.send("POST", "/api/v1/tokens", csrf, map[string]any{"name": "社交数据", "scopes": []string{"collect"}}, &feedToken)
	waitSocialReady(t, base)
	feed, hidden := browserSocialFeed(time.Now())
	var up struct{ Stored, Rejected int }
	if st := postRaw(t, base+"/api/v1/social/posts", feedToken.Token, "application/x-ndjson", feed, &up); st != 200 || up.Rejected != 0 || up.Stored != strings.Count(feed, "\n") {
		t.Fatalf("upload the social feed: %d %+v", st, up)
	}
	socialPage := func(lang string) {
		t.Helper()
		b.load("open social insight ("+lang+")", "/console/social", chromedp.Click(chromedp.ID("social-link")))
		b.do("pick the campaign ("+lang+")", chromedp.SetValue(chromedp.ID("s-campaign"), campaign))
		b.load("align with the campaign ("+lang+")", "/console/social", chromedp.Click(chromedp.ID("run-social")))
		b.checkPage("social", map[string]string{"zh": "zh-CN", "en": "en"}[lang])
		var rep struct {
			Rules []struct {
				Suppressed bool
				Counts     *struct{ Mentions int64 }
			}
			Alignment *struct{ Lift struct{ Ratio float64 } }
		}
		if err := json.Unmarshal(b.fetch(fmt.Sprintf("/api/v1/social/report?from=%s&to=%s&campaign=%s", b.value("#s-from"), b.value("#s-to"), campaign)), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Rules) != 2 || rep.Rules[0].Counts == nil || !rep.Rules[1].Suppressed || rep.Alignment == nil {
			t.Fatalf("the social report API: %+v", rep)
		}
		cells := browserEval[[]string](b, `[...document.querySelectorAll("#social-rules tbody tr")].map(r => [...r.querySelectorAll("td.num")].slice(0, 1).map(c => c.textContent + "|" + c.title).join())`)
		if want := []string{strconv.FormatInt(rep.Rules[0].Counts.Mentions, 10) + "|", "—|" + map[string]string{"zh": "作者少于 10 人", "en": "fewer than 10 authors"}[lang]}; !slices.Equal(cells, want) {
			t.Errorf("social page (%s) mentions %q, want %q (the API's, and the competitor suppressed)", lang, cells, want)
		}
		if got := b.text("#social-lift strong"); !strings.Contains(got, fmt.Sprintf("%.2f", rep.Alignment.Lift.Ratio)) {
			t.Errorf("social page (%s) lift %q, the API's %.2f", lang, got, rep.Alignment.Lift.Ratio)
		}
		if n := browserEval[int](b, `document.querySelectorAll("#social-chart svg, #social-sov svg").length`); n != 2 {
			t.Errorf("social page (%s): %d charts, want the daily mentions and the share of voice", lang, n)
		}
		if got := b.text("#social-official tbody td.post-text"); got != browserOfficial {
			t.Errorf("social page (%s) official post %q, want %q", lang, got, browserOfficial)
		}
		html := browserEval[string](b, `document.documentElement.outerHTML`)
		for _, text := range hidden {
			if strings.Contains(html, text) {
				t.Errorf("social page (%s) shows %q, a post that is not an official account's", lang, text)
			}
		}
		b.shot("social-" + lang)
	}
	socialPage("zh")
	b.load("back to the dashboard", "/console/campaigns/"+campaign, chromedp.Navigate(base+"/console/campaigns/"+campaign))

	// English.
	b.load("switch to English", "/console/campaigns/"+campaign, chromedp.Click(chromedp.ID("lang-switch")))
	b.checkPage("dashboard", "en")
	body := b.text("body")
	for _, label := range []string{"Dashboard", "Impressions", "Clicks", "Unique users", "Frequency distribution", "Export Excel", "中文"} {
		if !strings.Contains(body, label) {
			t.Errorf("English dashboard lacks %q", label)
		}
	}
	kpis("en")
	if href, _ := chromedp.Run(tabCtx, chromedp.AttributeValue(chromedp.ID("export-xlsx"), "href")); !strings.Contains(href.Value, "lang=en") {
		t.Errorf("English export link %q does not ask for English headers", href.Value)
	}
	b.shot("dashboard-en")
	reachPage("en")

	b.load("open the codes in English", "/console/campaigns/"+campaign+"/codes", chromedp.Click(chromedp.CSS(`nav.tabs a[href$="/codes"]`)))
	b.checkPage("codes", "en")
	if got := b.text(copyBtn); got != "Copy" {
		t.Errorf("English copy button says %q, want Copy", got)
	}
	b.shot("codes-en")
	b.copy(copyBtn, "Copied")

	b.load("open the campaigns list in English", "/console/campaigns", chromedp.Click(chromedp.CSS(`header nav a[href="/console/campaigns"]`)))
	b.checkPage("campaigns", "en")
	if h := b.text("main h1"); h != "Campaigns" {
		t.Errorf("English campaigns heading %q", h)
	}
	b.shot("campaigns-en")
	socialPage("en")
	b.load("open the social settings in English", "/console/social/settings", chromedp.Click(chromedp.ID("social-settings-link")))
	b.checkPage("social settings", "en")
	if got := b.value("#brand-name-0"); got != "华为" {
		t.Errorf("English social settings: first brand %q", got)
	}
	b.shot("social-settings-en")

	b.load("sign out", "/console/signin", chromedp.Click(chromedp.CSS(`form[action="/console/signout"] button`)))
	b.checkPage("sign-in", "en")
	if h := b.text("main h1"); h != "Sign in" {
		t.Errorf("English sign-in heading %q", h)
	}
	b.shot("signin-en")
	b.load("signed out: the console sends to sign-in", "/console/signin", chromedp.Navigate(base+"/console/campaigns"))

	// Nothing went wrong in the pages: no script error, no CSP refusal, no
	// failed request.
	b.mu.Lock()
	var bad []string
	for _, msg := range b.console {
		if msg.Type == chromedp.ConsoleError || msg.Type == chromedp.ConsoleException || msg.Type == chromedp.ConsoleWarning {
			bad = append(bad, fmt.Sprintf("%s (%s)", msg, msg.URL))
		}
	}
	b.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("the pages logged problems:\n%s", strings.Join(bad, "\n"))
	}
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("over the %v budget", browserBudget)
	}
	t.Logf("Chromium started in %v; whole test %v; %d events sent; screenshots in %s", started.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(hits), shots)
}
