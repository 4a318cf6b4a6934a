package optouthttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/optout/optouthttp"
)

func TestPageLanguage(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, target, accept string
		wantLang, wantText   string
	}{
		{"default is Chinese", "/optout", "", "zh-CN", "退出 admeter 广告监测"},
		{"lang=en", "/optout?lang=en", "", "en", "Opt out of admeter ad measurement"},
		{"lang=en-US", "/optout?lang=en-US", "zh-CN", "en", "Opt out of admeter ad measurement"},
		{"Accept-Language English", "/optout", "en-US,en;q=0.9", "en", "What opting out does"},
		{"Accept-Language prefers Chinese", "/optout", "en;q=0.5, zh-CN;q=0.8", "zh-CN", "退出后会怎样"},
		{"Accept-Language neither", "/optout", "fr-FR, de;q=0.5", "zh-CN", "退出后会怎样"},
		{"lang beats Accept-Language", "/optout?lang=zh", "en", "zh-CN", "退出后会怎样"},
		{"unknown lang falls back", "/optout?lang=fr", "en", "en", "What opting out does"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			rec := e.do(req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			body := rec.Body.String()
			if want := `<html lang="` + tt.wantLang + `">`; !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("page lacks %q", tt.wantText)
			}
			if got := rec.Header().Get("Content-Language"); got != tt.wantLang {
				t.Errorf("Content-Language = %q, want %q", got, tt.wantLang)
			}
			// No script, no frame, nothing loaded from anywhere.
			lower := strings.ToLower(body)
			for _, bad := range []string{"<script", "<iframe", "<frame", "<object", "<embed", "<link", "<img", " src=", "url(", "@import",
				"http://", "https://", "javascript:", " onclick", " onsubmit", " onload"} {
				if strings.Contains(lower, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			for _, gpc := range []string{"Global Privacy Control", "Sec-GPC"} {
				if strings.Contains(body, gpc) {
					t.Errorf("page mentions %q although HonorGPC is off", gpc)
				}
			}
			other := map[string]string{"zh-CN": `href="/optout?lang=en"`, "en": `href="/optout?lang=zh"`}[tt.wantLang]
			if !strings.Contains(body, other) {
				t.Errorf("page lacks the language switch %s", other)
			}
			if n := strings.Count(body, `<form method="post" action="/optout">`); n != 2 {
				t.Errorf("page has %d forms posting to /optout, want 2", n)
			}
			for _, opt := range []string{`value="oaid"`, `value="idfa"`, `value="imei"`, `value="android_id"`} {
				if !strings.Contains(body, opt) {
					t.Errorf("the id type select lacks %s", opt)
				}
			}
			wantHeaders := map[string]string{
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"Cache-Control":           "no-store",
				"Content-Type":            "text/html; charset=utf-8",
			}
			for k, v := range wantHeaders {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if n := len(rec.Header().Values("Set-Cookie")); n != 0 {
				t.Errorf("GET /optout set %d cookies", n)
			}
		})
	}
}

func TestPageSaysEarlierDataIsNotDeleted(t *testing.T) {
	e := newEnv(t, nil)
	for lang, want := range map[string][]string{
		"zh": {"不会删除此前已经处理的数据", "广告主或媒体 App", "一秒内生效", "清除浏览器 Cookie", "不收集您的姓名、手机号"},
		"en": {"does not delete data processed before", "advertiser or the media app", "within a second", "Clearing your browser&#39;s cookies", "do not collect your name, phone number"},
	} {
		body := e.do(httptest.NewRequest(http.MethodGet, "/optout?lang="+lang, nil)).Body.String()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s page lacks %q", lang, w)
			}
		}
	}
}

func TestPageState(t *testing.T) {
	tests := []struct {
		name      string
		gpc       bool
		target    string
		header    []string
		want, not []string
	}{
		{name: "not opted out", target: "/optout?lang=en",
			want: []string{"This browser has not opted out."}, not: []string{"has opted out of admeter", "Done:"}},
		{name: "opt-out cookie", target: "/optout?lang=en", header: []string{"Cookie", "admeter_optout=1"},
			want: []string{"This browser has opted out of admeter ad measurement.", "Opt out this browser again"}},
		{name: "done browser", target: "/optout?done=browser&lang=zh",
			want: []string{"完成:此浏览器已退出"}},
		{name: "done device", target: "/optout?done=device&id_type=idfa&lang=en",
			want: []string{"Done: the device (IDFA) has opted out."}},
		{name: "done device, type garbage", target: "/optout?done=device&id_type=%3Cb%3E&lang=en",
			want: []string{"Done: the device (?) has opted out."}, not: []string{"<b>"}},
		{name: "unknown done", target: "/optout?done=%3Cscript%3E&lang=en",
			not: []string{"Done:", "<script>"}},
		{name: "GPC honoured and sent", gpc: true, target: "/optout?lang=en", header: []string{"Sec-GPC", "1"},
			want: []string{"We honour Global Privacy Control", "Your browser is sending the GPC signal"}},
		{name: "GPC honoured, not sent", gpc: true, target: "/optout?lang=zh",
			want: []string{"全球隐私控制"}, not: []string{"您的浏览器正在发送 GPC 信号"}},
		{name: "GPC sent but not honoured", target: "/optout?lang=en", header: []string{"Sec-GPC", "1"},
			not: []string{"Global Privacy Control", "GPC signal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *optouthttp.Config) { c.HonorGPC = tt.gpc })
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			body := e.do(req).Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("page contains %q", n)
				}
			}
		})
	}
}

func TestBrowserOptOut(t *testing.T) {
	tests := []struct {
		name       string
		publicURL  string
		target     string
		wantSecure bool
	}{
		{"plain HTTP", "", "/optout", false},
		{"public URL https", "https://t.example.com", "/optout", true},
		{"request over TLS", "", "https://t.example.com/optout", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *optouthttp.Config) { c.PublicURL = tt.publicURL })
			req := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader("action=browser&lang=en"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.AddCookie(&http.Cookie{Name: "admeter_uid", Value: "AAAAAAAAAAAAAAAAAAAAAA"})
			rec := e.do(req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("status %d, want 303: %s", rec.Code, rec.Body)
			}
			if got, want := rec.Header().Get("Location"), "/optout?done=browser&lang=en"; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			raw := rec.Header().Values("Set-Cookie")
			if len(raw) != 2 {
				t.Fatalf("Set-Cookie: %q, want exactly the opt-out cookie and the expired id cookie", raw)
			}
			cookies := map[string]*http.Cookie{}
			for _, c := range responseCookies(rec) {
				cookies[c.Name] = c
			}
			wantSame := http.SameSiteLaxMode
			if tt.wantSecure {
				wantSame = http.SameSiteNoneMode
			}
			opt := cookies["admeter_optout"]
			if opt == nil {
				t.Fatalf("no opt-out cookie in %q", raw)
			}
			fiveYears := int(5 * 365 * 24 * time.Hour / time.Second)
			if opt.Value == "" || opt.MaxAge != fiveYears || opt.Path != "/" || !opt.HttpOnly || opt.Secure != tt.wantSecure || opt.SameSite != wantSame || opt.Domain != "" {
				t.Errorf("opt-out cookie %q; want a value, Max-Age=%d, Path=/, HttpOnly, Secure=%v, SameSite=%v, no Domain", opt.Raw, fiveYears, tt.wantSecure, wantSame)
			}
			if want := e.clock().Add(5 * 365 * 24 * time.Hour); !opt.Expires.Equal(want) {
				t.Errorf("opt-out cookie expires %v, want %v", opt.Expires, want)
			}
			id := cookies["admeter_uid"]
			if id == nil {
				t.Fatalf("the id cookie is not expired: %q", raw)
			}
			if id.Value != "" || id.MaxAge >= 0 || id.Path != "/" || !id.Expires.Before(time.Unix(2, 0)) || id.Secure != tt.wantSecure {
				t.Errorf("id cookie %q; want it emptied with Max-Age=0 and an expiry in the past", id.Raw)
			}
			if e.reg.Len() != 0 {
				t.Errorf("a browser opt-out added %d registry entries", e.reg.Len())
			}
			if got := e.counter("page", "browser", "ok"); got != 1 {
				t.Errorf("page/browser/ok = %v", got)
			}

			// Following the redirect with the cookie shows the new state.
			next := httptest.NewRequest(http.MethodGet, rec.Header().Get("Location"), nil)
			next.AddCookie(&http.Cookie{Name: opt.Name, Value: opt.Value})
			body := e.do(next).Body.String()
			for _, w := range []string{"Done: this browser has opted out.", "This browser has opted out of admeter ad measurement."} {
				if !strings.Contains(body, w) {
					t.Errorf("the page after the redirect lacks %q", w)
				}
			}
		})
	}
}

func TestCrossSitePagePostRejected(t *testing.T) {
	device := url.Values{"action": {"device"}, "id_type": {"imei"}, "id": {"864120035761243"}}
	browser := url.Values{"action": {"browser"}}
	tests := []struct {
		name   string
		form   url.Values
		header []string
		want   int
	}{
		{"Sec-Fetch-Site cross-site", device, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"Sec-Fetch-Site same-site", browser, []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"old browser, foreign Origin", browser, []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, 403},
		{"same-origin with Origin null (no-referrer)", device, []string{"Sec-Fetch-Site", "same-origin", "Origin", "null"}, 303},
		{"typed into the address bar", browser, []string{"Sec-Fetch-Site", "none"}, 303},
		{"old browser, own Origin", browser, []string{"Sec-Fetch-Site", "", "Origin", "http://example.com"}, 303},
		{"no browser headers", device, []string{"Sec-Fetch-Site", ""}, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.postForm(tt.form, tt.header...)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want != 403 {
				return
			}
			if n := len(rec.Header().Values("Set-Cookie")); n != 0 || e.reg.Len() != 0 {
				t.Errorf("a refused POST set %d cookies and %d entries", n, e.reg.Len())
			}
			if !strings.Contains(rec.Body.String(), "此请求来自其他网站,已被拒绝") {
				t.Errorf("the page does not say why: %s", rec.Body)
			}
			kind := tt.form.Get("action")
			if got := e.counter("page", kind, "invalid"); got != 1 {
				t.Errorf("page/%s/invalid = %v", kind, got)
			}
			e.noLeak(rec, "864120035761243")
		})
	}
}

func TestPageDeviceErrors(t *testing.T) {
	tests := []struct {
		name  string
		form  url.Values
		want  int
		text  string
		typed string // the identifier, which must not come back
	}{
		{"malformed IDFA", url.Values{"action": {"device"}, "id_type": {"idfa"}, "id": {"6d92078a82464ba4ae5b76104861e7dc-x"}, "lang": {"en"}},
			400, "The IDFA you entered is not valid: it should be a UUID: 8-4-4-4-12 hex digits, or its MD5 (32 hex digits).", "6d92078a82464ba4ae5b76104861e7dc-x"},
		{"malformed IMEI zh", url.Values{"action": {"device"}, "id_type": {"imei"}, "id": {"86412003576124399999"}, "lang": {"zh"}},
			400, "标识符格式不正确:IMEI / MEID 为 14–17 位数字或十六进制字符,也可以输入其 MD5(32 位十六进制)。", "86412003576124399999"},
		{"placeholder", url.Values{"action": {"device"}, "id_type": {"oaid"}, "id": {"00000000-0000-0000-0000-000000000000"}, "lang": {"en"}},
			400, "is a placeholder", ""},
		{"empty", url.Values{"action": {"device"}, "id_type": {"oaid"}, "id": {"  "}, "lang": {"zh"}},
			400, "请输入标识符。", ""},
		{"no type", url.Values{"action": {"device"}, "id": {"864120035761243"}, "lang": {"en"}},
			400, "Please choose the identifier type.", "864120035761243"},
		{"unknown action", url.Values{"action": {"delete"}, "lang": {"en"}},
			400, "Unknown action", ""},
		{"too large", url.Values{"action": {"device"}, "id_type": {"idfa"}, "id": {strings.Repeat("a", 5000)}},
			413, "提交的内容过长。", strings.Repeat("a", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.postForm(tt.form)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tt.text) {
				t.Errorf("page lacks %q", tt.text)
			}
			if !strings.Contains(body, `role="alert"`) {
				t.Error("the problem is not marked as an alert")
			}
			if typ := tt.form.Get("id_type"); typ != "" && tt.want != 413 && !strings.Contains(body, `value="`+typ+`" selected`) {
				t.Errorf("the chosen type %s is not kept", typ)
			}
			if rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("error page without CSP")
			}
			if e.reg.Len() != 0 {
				t.Errorf("%d entries", e.reg.Len())
			}
			e.noLeak(rec, tt.typed)
		})
	}
}
