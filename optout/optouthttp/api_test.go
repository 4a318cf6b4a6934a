package optouthttp_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/pseudo"
)

func TestAPIErrors(t *testing.T) {
	const idfa = "7c4e2b9a-1f3d-4a6b-9e8c-5d2f1a0b3c47"
	const jsonCT = "application/json"
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantMsg     string // a part of the message
	}{
		{"GET", http.MethodGet, "", "", 405, "invalid", "use POST"},
		{"PUT", http.MethodPut, jsonCT, `{"id_type":"idfa","id":"` + idfa + `"}`, 405, "invalid", "use POST"},
		{"empty body", http.MethodPost, jsonCT, "", 400, "invalid", "body is empty"},
		{"not JSON", http.MethodPost, jsonCT, "id_type=idfa&id=" + idfa, 400, "invalid", "not valid JSON"},
		{"truncated JSON", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa, 400, "invalid", "not complete JSON"},
		{"array", http.MethodPost, jsonCT, `["idfa","` + idfa + `"]`, 400, "invalid", "JSON object"},
		{"id is a number", http.MethodPost, jsonCT, `{"id_type":"imei","id":864120035761243}`, 400, "invalid", "id must be a string"},
		{"unknown field", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa + `","` + idfa + `":1}`, 400, "invalid", "does not know"},
		{"two objects", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa + `"} {}`, 400, "invalid", "more than one JSON value"},
		{"form content type", http.MethodPost, "application/x-www-form-urlencoded", `{"id_type":"idfa","id":"` + idfa + `"}`, 400, "invalid", "Content-Type: application/json"},
		{"missing id_type", http.MethodPost, jsonCT, `{"id":"` + idfa + `"}`, 400, "invalid", "id_type is required; use one of: oaid, idfa, imei, android_id"},
		{"unknown id_type", http.MethodPost, jsonCT, `{"id_type":"phone","id":"` + idfa + `"}`, 400, "invalid", "use one of: oaid, idfa, imei, android_id, aaid, idfv, caid, openudid, mac, mac_colon"},
		{"id in id_type", http.MethodPost, jsonCT, `{"id_type":"` + idfa + `","id":"idfa"}`, 400, "invalid", "not an identifier type"},
		{"cookie is not a device", http.MethodPost, jsonCT, `{"id_type":"cookie","id":"AAAAAAAAAAAAAAAAAAAAAA"}`, 400, "invalid", "not an identifier type"},
		{"bad form", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa + `","form":"sha1"}`, 400, "invalid", `form must be "raw", "md5"`},
		{"missing id", http.MethodPost, jsonCT, `{"id_type":"idfa"}`, 400, "invalid", "id is required"},
		{"id is a null word", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"NULL"}`, 400, "invalid", "id is required"},
		{"IDFA not a UUID", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"7c4e2b9a1f3d4a6b9e8c5d2f1a0b3c47zz"}`, 400, "invalid", "not a valid IDFA: expected a UUID: 8-4-4-4-12 hex digits, or its MD5 as 32 hex digits"},
		{"IMEI too short", http.MethodPost, jsonCT, `{"id_type":"imei","id":"8641200357"}`, 400, "invalid", "not a valid IMEI / MEID: expected 14 to 17 digits"},
		{"Android ID, form raw", http.MethodPost, jsonCT, `{"id_type":"android_id","id":"zz3f8a2c9d1e7b4a","form":"raw"}`, 400, "invalid", "not a valid Android ID: expected 13 to 16 hex digits"},
		{"MD5 not hex", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa + `","form":"md5"}`, 400, "invalid", "not an MD5: expected 32 hex digits"},
		{"all-zero IDFA", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"00000000-0000-0000-0000-000000000000"}`, 400, "invalid", "placeholder"},
		{"unreplaced macro", http.MethodPost, jsonCT, `{"id_type":"oaid","id":"__OAID__"}`, 400, "invalid", "placeholder"},
		{"MD5 of a placeholder", http.MethodPost, jsonCT, `{"id_type":"imei","id":"` + md5Hex("000000000000000") + `"}`, 400, "invalid", "placeholder"},
		{"MD5 of a macro, also a valid raw OAID", http.MethodPost, jsonCT, `{"id_type":"oaid","id":"` + md5Hex("__OAID__") + `"}`, 400, "invalid", "placeholder"},
		{"body too large", http.MethodPost, jsonCT, `{"id_type":"idfa","id":"` + idfa + `","form":"` + strings.Repeat(" ", 5000) + `"}`, 413, "too_large", "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			req := httptest.NewRequest(tt.method, "/api/v1/optout", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := e.do(req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			var got struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())) // leaves rec.Body for noLeak
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("the error is not in the API's shape: %v", err)
			}
			if got.Error.Code != tt.wantCode || !strings.Contains(got.Error.Message, tt.wantMsg) {
				t.Errorf("error = %+v, want code %q and a message containing %q", got.Error, tt.wantCode, tt.wantMsg)
			}
			if tt.wantStatus == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if e.reg.Len() != 0 {
				t.Errorf("a refused request added %d entries", e.reg.Len())
			}
			if tt.wantStatus == 400 {
				if got := e.counter("api", "device", "invalid"); got != 1 {
					t.Errorf("api/device/invalid = %v", got)
				}
			}
			e.noLeak(rec, idfa, "7c4e2b9a1f3d4a6b9e8c5d2f1a0b3c47zz", "864120035761243", "8641200357", "zz3f8a2c9d1e7b4a")
		})
	}
}

func TestAPIAccepts(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.postJSON("/api/v1/optout", `{"id_type":" IDFA ","id":"7c4e2b9a-1f3d-4a6b-9e8c-5d2f1a0b3c47","form":"RAW"}`)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"opted_out":true,"id_type":"idfa","added":true}`+"\n" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// text/plain, which a page can send without a CORS preflight, and no
	// Content-Type at all are read as JSON too.
	for _, ct := range []string{"text/plain;charset=UTF-8", ""} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/optout", strings.NewReader(`{"id_type":"imei","id":"864120035761243"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if rec := e.do(req); rec.Code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ct, rec.Code, rec.Body)
		}
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t, nil)
	const imei = "358240051111110"
	status := func(query string, cookie bool) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/optout/status"+query, nil)
		if cookie {
			req.AddCookie(&http.Cookie{Name: "admeter_optout", Value: "1"})
		}
		rec := e.do(req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status%s: %d %s", query, rec.Code, rec.Body)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Error("status lacks CORS")
		}
		e.noLeak(rec, imei, md5Hex(imei))
		return strings.TrimSpace(rec.Body.String())
	}
	byID := "?id_type=imei&id=" + imei
	byMD5 := "?id_type=imei&id=" + md5Hex(imei)
	if got, want := status(byID, false), `{"opted_out":false,"scope":"device","id_type":"imei"}`; got != want {
		t.Errorf("before: %s, want %s", got, want)
	}
	if rec := e.postJSON("/api/v1/optout", `{"id_type":"imei","id":"`+imei+`"}`); rec.Code != 200 {
		t.Fatalf("opt out: %d %s", rec.Code, rec.Body)
	}
	for _, q := range []string{byID, byMD5, byMD5 + "&form=md5"} {
		if got, want := status(q, false), `{"opted_out":true,"scope":"device","id_type":"imei"}`; got != want {
			t.Errorf("after, %s: %s, want %s", q, got, want)
		}
	}
	if got := status("?id_type=imei&id=358240051111111", false); !strings.Contains(got, `"opted_out":false`) {
		t.Errorf("another IMEI: %s", got)
	}
	if got, want := status("", false), `{"opted_out":false,"scope":"browser"}`; got != want {
		t.Errorf("browser without the cookie: %s, want %s", got, want)
	}
	if got, want := status("", true), `{"opted_out":true,"scope":"browser"}`; got != want {
		t.Errorf("browser with the cookie: %s, want %s", got, want)
	}

	// POST keeps the id out of the URL.
	rec := e.postJSON("/api/v1/optout/status", `{"id_type":"imei","id":"`+md5Hex(imei)+`","form":"md5"}`)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"opted_out":true,"scope":"device","id_type":"imei"}` {
		t.Errorf("POST status: %d %s", rec.Code, got)
	}

	for _, bad := range []struct{ query, msg string }{
		{"?id=" + imei, "id_type is required"},
		{"?id_type=imei", "id is required"},
		{"?id_type=imei&id=12", "not a valid IMEI"},
		{"?idtype=imei&id=" + imei, "parameter admeter does not know"},
	} {
		rec := e.do(httptest.NewRequest(http.MethodGet, "/api/v1/optout/status"+bad.query, nil))
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), bad.msg) {
			t.Errorf("%s: %d %s, want 400 with %q", bad.query, rec.Code, rec.Body, bad.msg)
		}
		e.noLeak(rec, imei)
	}
	if got := e.counter("api", "status", "ok"); got != 8 {
		t.Errorf("api/status/ok = %v, want 8", got)
	}
	if got := e.counter("api", "status", "invalid"); got != 4 {
		t.Errorf("api/status/invalid = %v, want 4", got)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/api/v1/optout", "/api/v1/optout/status"} {
		req := httptest.NewRequest(http.MethodOptions, path, nil)
		req.Header.Set("Origin", "https://media.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		rec := e.do(req)
		if rec.Code != http.StatusNoContent {
			t.Errorf("%s preflight: %d", path, rec.Code)
		}
		h := rec.Header()
		if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s preflight headers: %v", path, h)
		}
	}
	// The API takes cross-site requests by design.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/optout", strings.NewReader(`{"id_type":"imei","id":"864120035761243"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://media.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := e.do(req)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cross-site API POST: %d, Access-Control-Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if c := rec.Header().Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("the API set cookies: %q", c)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *optouthttp.Config) {
		c.RatePerMinute = 60
		c.Burst = 3
		c.ClientIP = func(r *http.Request) netip.Addr {
			a, _ := netip.ParseAddr(r.Header.Get("X-Test-Client"))
			return a
		}
	})
	withClient := func(r *http.Request, client string) *http.Request {
		r.Header.Set("X-Test-Client", client)
		return r
	}
	call := func(client string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/optout", strings.NewReader(`{"id_type":"imei","id":"864120035761243"}`))
		return e.do(withClient(req, client))
	}
	for i := range 3 {
		if rec := call("198.51.100.7"); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := call("198.51.100.200") // the same /24
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("4th request from the block: %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if body := rec.Body.String(); !strings.Contains(body, `"code":"rate_limited"`) || !strings.Contains(body, "try again in 1s") {
		t.Errorf("429 body %s", body)
	}
	if rec.Header().Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Error("Retry-After is not exposed to cross-origin callers")
	}
	e.noLeak(rec, "198.51.100.200", "198.51.100.0", "198.51.100")

	// Status lookups share the bucket, and so do the page's POSTs.
	if rec := e.do(withClient(httptest.NewRequest(http.MethodGet, "/api/v1/optout/status", nil), "198.51.100.9")); rec.Code != 429 {
		t.Errorf("status from the limited block: %d", rec.Code)
	}
	page := httptest.NewRequest(http.MethodPost, "/optout", strings.NewReader("action=browser"))
	page.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = e.do(withClient(page, "198.51.100.9"))
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "请求过于频繁") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("page POST from the limited block: %d", rec.Code)
	}
	if c := rec.Header().Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("a limited browser opt-out set cookies: %q", c)
	}
	// The page itself is not limited.
	if rec := e.do(withClient(httptest.NewRequest(http.MethodGet, "/optout", nil), "198.51.100.9")); rec.Code != 200 {
		t.Errorf("GET /optout from the limited block: %d", rec.Code)
	}

	// Other blocks are not affected; IPv6 is limited per /48.
	if rec := call("203.0.113.5"); rec.Code != 200 {
		t.Errorf("another /24: %d", rec.Code)
	}
	for i := range 3 {
		if rec := call("2001:db8:1:" + strconv.Itoa(i) + "::1"); rec.Code != 200 {
			t.Errorf("IPv6 request %d: %d", i, rec.Code)
		}
	}
	if rec := call("2001:db8:1:ffff::1"); rec.Code != 429 {
		t.Errorf("4th request from one /48: %d", rec.Code)
	}

	// A token comes back after a second.
	e.advance(time.Second)
	if rec := call("198.51.100.7"); rec.Code != 200 {
		t.Errorf("after a second: %d", rec.Code)
	}
	if rec := call("198.51.100.7"); rec.Code != 429 {
		t.Errorf("the refilled token was used twice: %d", rec.Code)
	}
	if got := e.counter("api", "device", "limited"); got != 3 {
		t.Errorf("api/device/limited = %v, want 3", got)
	}
	if got := e.counter("page", "browser", "limited"); got != 1 {
		t.Errorf("page/browser/limited = %v, want 1", got)
	}
	if got := e.counter("api", "status", "limited"); got != 1 {
		t.Errorf("api/status/limited = %v, want 1", got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	// A catch-all on the same mux, as package api registers, must not turn
	// a wrong method into a 404.
	e.mux.HandleFunc("/api/", http.NotFound)
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/optout"},
		{http.MethodDelete, "/api/v1/optout"},
		{http.MethodPut, "/api/v1/optout/status"},
		{http.MethodDelete, "/optout"},
		{http.MethodPut, "/optout"},
	} {
		rec := e.do(httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
			t.Errorf("%s %s: %d, Allow %q; want 405 with Allow", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"))
		}
	}
	if rec := e.do(httptest.NewRequest(http.MethodHead, "/optout", nil)); rec.Code != 200 {
		t.Errorf("HEAD /optout: %d", rec.Code)
	}
}

func TestNew(t *testing.T) {
	reg, err := optout.Open(filepath.Join(t.TempDir(), "reg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	ps, err := pseudo.New(testKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  func(*optouthttp.Config)
		reg  optouthttp.Registry
		ps   *pseudo.Pseudonymizer
		want string
	}{
		{"no registry", nil, nil, ps, "required"},
		{"no pseudonymizer", nil, reg, nil, "required"},
		{"same cookie names", func(c *optouthttp.Config) { c.IDCookieName = c.CookieName }, reg, ps, "must differ"},
		{"bad cookie name", func(c *optouthttp.Config) { c.CookieName = "opt out" }, reg, ps, "cookie name"},
		{"public URL without scheme", func(c *optouthttp.Config) { c.PublicURL = "t.example.com" }, reg, ps, "public URL"},
		{"ok", nil, reg, ps, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := optouthttp.DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, err := optouthttp.New(cfg, tt.reg, tt.ps, nil, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}

	// A zero Config takes the defaults.
	h, err := optouthttp.New(optouthttp.Config{}, reg, ps, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	req := httptest.NewRequest(http.MethodPost, "/optout", strings.NewReader("action=browser"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if c := responseCookies(rec); rec.Code != 303 || len(c) != 2 || c[0].Name != "admeter_optout" || c[1].Name != "admeter_uid" {
		t.Errorf("zero config: %d %v", rec.Code, c)
	}

	// Registering the metrics twice fails clearly.
	prom := prometheus.NewRegistry()
	if _, err := optouthttp.New(optouthttp.DefaultConfig(), reg, ps, nil, prom); err != nil {
		t.Fatal(err)
	}
	if _, err := optouthttp.New(optouthttp.DefaultConfig(), reg, ps, nil, prom); err == nil || !strings.Contains(err.Error(), "register") {
		t.Errorf("registering the metrics twice: %v", err)
	}
}

func TestRegistryFailure(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.reg.Close(); err != nil {
		t.Fatal(err)
	}
	const imei = "864120035761243"
	rec := e.postJSON("/api/v1/optout", `{"id_type":"imei","id":"`+imei+`"}`)
	if body := rec.Body.String(); rec.Code != 500 || !strings.Contains(body, `"code":"internal"`) || !strings.Contains(body, "not saved") {
		t.Errorf("closed registry, API: %d %s", rec.Code, body)
	}
	e.noLeak(rec, imei, md5Hex(imei))
	rec = e.postForm(url.Values{"action": {"device"}, "id_type": {"imei"}, "id": {imei}, "lang": {"en"}})
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "could not be saved") {
		t.Errorf("closed registry, page: %d", rec.Code)
	}
	e.noLeak(rec, imei, md5Hex(imei))
	if !strings.Contains(e.logs.String(), "record opt-out") {
		t.Error("the failure was not logged")
	}
	if got := e.counter("api", "device", "error"); got != 1 {
		t.Errorf("api/device/error = %v", got)
	}
	if got := e.counter("page", "device", "error"); got != 1 {
		t.Errorf("page/device/error = %v", got)
	}
}
