package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// consoleUser registers and activates an advertiser and returns a browser-
// like client (cookie jar, redirects followed) signed in to the console.
func consoleUser(t *testing.T, m *Main, base string) *http.Client {
	t.Helper()
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	var acct struct{ ID string }
	if st := apiCall(t, "POST", base+"/api/v1/register", "", map[string]any{"kind": "advertiser",
		"registration": map[string]string{"company": "控制台科技有限公司", "credit_code": "91350100M000100Y43", "licence_ref": "BL-1",
			"contact": "周九", "phone": "13512345678", "email": "c@console.example"},
		"owner": map[string]string{"email": "owner@console.example", "name": "周九", "password": "Ck3!vRz8#pLm5wT"}}, &acct); st != 201 {
		t.Fatalf("register: %d", st)
	}
	for _, s := range []string{"verified", "active"} {
		apiCall(t, "POST", base+"/api/v1/admin/tenants/"+acct.ID+"/status", opTok, map[string]string{"status": s, "note": "ok"}, nil)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/console/signin", url.Values{"email": {"owner@console.example"}, "password": {"Ck3!vRz8#pLm5wT"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "广告活动") {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	return c
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestConsoleFlow signs in to the console, creates a campaign through its
// form, reads its codes and its dashboard, switches language, and signs out.
func TestConsoleFlow(t *testing.T) {
	m, base := MustRunMain(t, nil)
	if resp, _ := get(t, base+"/console/campaigns", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %d %s, want a redirect to sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A cross-site sign-in form post is refused (login CSRF).
	req, _ := http.NewRequest("POST", base+"/console/signin", strings.NewReader("email=a%40b.example&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-in post: %v %v, want 403", resp.StatusCode, err)
	}
	c := consoleUser(t, m, base)
	page := func(u string) string {
		t.Helper()
		resp, err := c.Get(base + u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	list := page("/console/campaigns")
	csrf := csrfRE.FindStringSubmatch(list)
	if csrf == nil {
		t.Fatal("no CSRF token in the campaigns page")
	}
	// A form without the CSRF token is refused.
	if resp, _ := c.PostForm(base+"/console/campaigns", url.Values{"name": {"x"}}); resp.StatusCode != 403 {
		t.Fatalf("POST without CSRF: %d, want 403", resp.StatusCode)
	}
	resp, err := c.PostForm(base+"/console/campaigns", url.Values{"csrf": {csrf[1]}, "name": {"双十二大促"},
		"landing_url": {"https://shop.example.com/sale"}, "placements": {"开屏，媒体A\n信息流, 媒体B"}})
	if err != nil {
		t.Fatal(err)
	}
	codes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(codes), "/x/k=") || !strings.Contains(string(codes), "信息流") {
		t.Fatalf("after creating: %d\n%s", resp.StatusCode, codes)
	}
	id := regexp.MustCompile(`/console/campaigns/(\d+)/codes`).FindStringSubmatch(resp.Request.URL.Path)
	if id == nil {
		t.Fatalf("not on the codes page: %s", resp.Request.URL)
	}
	// The live check shows an event sent to the placement's code.
	imp := regexp.MustCompile(`id="code-([A-Za-z0-9]+)-mma-imp">([^<]+)<`).FindStringSubmatch(string(codes))
	if imp == nil {
		t.Fatal("no MMA impression code on the codes page")
	}
	if !strings.Contains(string(codes), "还没有收到事件") {
		t.Error("the live check does not say nothing arrived yet")
	}
	target := strings.ReplaceAll(html.UnescapeString(imp[2]), "__OAID__", "liveheck00000001")
	if want := "http://localhost:" + port(t, m.PixelAddr()) + "/x/"; !strings.HasPrefix(target, want) {
		t.Fatalf("the code %s is not on the pixel listener (%s)", target, want)
	}
	if resp, _ := get(t, target, nil); resp.StatusCode != 200 {
		t.Fatalf("pixel: %d", resp.StatusCode)
	}
	live := ""
	for i := 0; i < 100; i++ {
		live = page("/console/campaigns/" + id[1] + "/codes")
		if strings.Contains(live, `class="grid recent"`) {
			break
		}
		time.Sleep(30 * time.Millisecond)
	}
	if !strings.Contains(live, `class="grid recent"`) || !strings.Contains(live, "曝光") {
		t.Fatal("the live check does not show the impression")
	}
	if h := page("/console/campaigns/" + id[1] + "?grain=hour"); !strings.Contains(h, "<svg") || !strings.Contains(h, `value="hour" selected`) {
		t.Error("the hourly dashboard")
	}
	dash := page("/console/campaigns/" + id[1])
	for _, want := range []string{"<svg", "曝光", "频次分布", "kpi-impressions", "format=xlsx"} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(dash, "NaN") {
		t.Error("dashboard holds NaN")
	}
	// Edit: rename the first placement and add a third.
	edit := page("/console/campaigns/" + id[1] + "/edit")
	pids := regexp.MustCompile(`name="pid" value="([^"]+)"`).FindAllStringSubmatch(edit, -1)
	if len(pids) != 2 {
		t.Fatalf("edit form has %d placements", len(pids))
	}
	resp, err = c.PostForm(base+"/console/campaigns/"+id[1]+"/edit", url.Values{"csrf": {csrf[1]}, "name": {"双十二大促(改)"},
		"landing_url": {"https://shop.example.com/sale"}, "timezone": {"Asia/Shanghai"},
		"pid": {pids[0][1], pids[1][1]}, "pname": {"开屏-改", "信息流"}, "pmedia": {"媒体A", "媒体B"}, "placements": {"贴片, 媒体C"}})
	if err != nil {
		t.Fatal(err)
	}
	edited, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(edited), "开屏-改") || !strings.Contains(string(edited), "贴片") {
		t.Fatalf("after editing: %d", resp.StatusCode)
	}
	// The report builder: placements sorted by impressions, descending.
	rb := page("/console/campaigns/" + id[1] + "/report?by=placement&sort=1&dir=desc")
	if !strings.Contains(rb, `id="report-table"`) || !strings.Contains(rb, `aria-sort="descending"`) || !strings.Contains(rb, "合计") ||
		!strings.Contains(rb, "开屏-改") {
		t.Errorf("report builder:\n%s", rb)
	}
	en := page("/console/campaigns/" + id[1] + "?lang=en")
	if !strings.Contains(en, `lang="en"`) || !strings.Contains(en, "Frequency distribution") {
		t.Error("the English switch did not take")
	}
	if !strings.Contains(page("/console/campaigns"), "Campaigns") {
		t.Error("the language choice was not remembered")
	}
	// Create a token (its secret shown once) and a user.
	resp, err = c.PostForm(base+"/console/account/tokens", url.Values{"csrf": {csrf[1]}, "name": {"报表同步"}, "scope": {"reports:read"}, "expires_in_days": {"30"}})
	if err != nil {
		t.Fatal(err)
	}
	tokPage, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	secret := regexp.MustCompile(`id="new-token">(adm_t_[A-Za-z0-9_-]+)<`).FindStringSubmatch(string(tokPage))
	if resp.StatusCode != 200 || secret == nil {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	if st := apiCall(t, "GET", base+"/api/v1/campaigns/"+id[1], secret[1], nil, nil); st != 200 {
		t.Fatalf("the console's new token reads the campaign: %d", st)
	}
	if resp, _ := c.PostForm(base+"/console/account/users", url.Values{"csrf": {csrf[1]}, "email": {"analyst@console.example"}, "name": {"分析师"},
		"role": {"analyst"}, "password": {"password123456"}}); resp.StatusCode != 400 {
		t.Fatalf("a weak password: %d, want 400", resp.StatusCode)
	}
	if resp, _ := c.PostForm(base+"/console/account/users", url.Values{"csrf": {csrf[1]}, "email": {"analyst@console.example"}, "name": {"分析师"},
		"role": {"analyst"}, "password": {"Wq8%zLn4!tRb7yX"}}); resp.StatusCode != 200 || resp.Request.URL.Path != "/console/account/users" {
		t.Fatalf("create user: %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	for u, want := range map[string]string{
		"/console/account/users":    "analyst@console.example",
		"/console/account/tokens":   "报表同步",
		"/console/account/requests": "No end-user requests",
		"/console/account/audit":    "campaign.create",
	} {
		if got := page(u); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", u, want)
		}
	}
	if resp, _ := c.PostForm(base+"/console/signout", url.Values{"csrf": {csrf[1]}}); resp.Request.URL.Path != "/console/signin" {
		t.Fatalf("sign-out ended on %s", resp.Request.URL.Path)
	}
	if resp, _ := c.Get(base + "/console/campaigns"); resp.Request.URL.Path != "/console/signin" {
		t.Fatal("still signed in after signing out")
	}
}
