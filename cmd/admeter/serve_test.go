package main

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

func TestHealthzAndOperatorToken(t *testing.T) {
	m, base := MustRunMain(t, nil)
	resp, body := get(t, base+"/healthz", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("healthz = %d %q", resp.StatusCode, body)
	}
	fi, err := os.Stat(filepath.Join(m.Config.DataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("operator.token mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestTenantAndCampaignAPI(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))

	var e struct {
		Error struct{ Code, Message string }
	}
	if st := apiCall(t, "POST", base+"/api/v1/tenants", "", map[string]string{"name": "x", "kind": "media"}, &e); st != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("no token: %d %+v", st, e)
	}
	if st := apiCall(t, "POST", base+"/api/v1/tenants", "adm_op_wrong", map[string]string{"name": "x", "kind": "media"}, &e); st != 401 {
		t.Fatalf("wrong token: %d", st)
	}
	if st := apiCall(t, "POST", base+"/api/v1/tenants", opTok, map[string]string{"name": "x", "kind": "bank"}, &e); st != 400 || e.Error.Code != "invalid" {
		t.Fatalf("bad kind: %d %+v", st, e)
	}
	if st := apiCall(t, "POST", base+"/api/v1/tenants", opTok, map[string]any{"name": "x", "kind": "media", "extra": 1}, &e); st != 400 || !strings.Contains(e.Error.Message, "extra") {
		t.Fatalf("unknown field: %d %+v", st, e)
	}

	tokA, cA := setupCampaign(t, base, m.Config.DataDir, 2)
	tokB, cB := setupCampaign(t, base, m.Config.DataDir, 1)
	if len(cA.ID) != 8 || len(cA.Placements) != 2 || len(cA.Placements[0].ID) != 6 {
		t.Fatalf("campaign ids: %+v", cA)
	}
	wantPrefix := "http://localhost:" + port(t, m.PixelAddr()) + "/x/k=" + cA.ID + "&p=" + cA.Placements[0].ID + "&"
	if got := cA.Placements[0].ImpressionURL; !strings.HasPrefix(got, wantPrefix) || !strings.Contains(got, "m11=__OAID__") {
		t.Fatalf("impression_url = %s, want prefix %s and the standard macros", got, wantPrefix)
	}
	if got := cA.Placements[0].ClickURL; !strings.HasSuffix(got, "&o=https://shop.example.com/sale") {
		t.Fatalf("click_url = %s, want o= landing last", got)
	}

	var one testCampaign
	if st := apiCall(t, "GET", base+"/api/v1/campaigns/"+cA.ID, tokA, nil, &one); st != 200 || one.ID != cA.ID {
		t.Fatalf("own campaign: %d %+v", st, one)
	}
	if st := apiCall(t, "GET", base+"/api/v1/campaigns/"+cA.ID, tokB, nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("other tenant's campaign: %d %+v, want 404", st, e)
	}
	var list struct{ Campaigns []testCampaign }
	if st := apiCall(t, "GET", base+"/api/v1/campaigns", tokB, nil, &list); st != 200 || len(list.Campaigns) != 1 || list.Campaigns[0].ID != cB.ID {
		t.Fatalf("list for B: %d %+v", st, list)
	}
	if st := apiCall(t, "POST", base+"/api/v1/campaigns", tokA, map[string]any{"name": "x", "landing_url": "javascript:alert(1)", "placements": []map[string]string{{"name": "a", "media": "b"}}}, &e); st != 400 {
		t.Fatalf("bad landing url: %d", st)
	}
	if st := apiCall(t, "GET", base+"/api/v1/nothing", tokA, nil, &e); st != 404 {
		t.Fatalf("unknown endpoint: %d", st)
	}
}

// TestMonitoringURLsEndToEnd sends monitoring URLs to the real wiring, on
// --addr (net/http) and on --pixel-addr (fasthttp): both must answer and log
// alike.
func TestMonitoringURLsEndToEnd(t *testing.T) {
	t.Run("addr", func(t *testing.T) { testMonitoringURLs(t, false) })
	t.Run("pixel-addr", func(t *testing.T) { testMonitoringURLs(t, true) })
}

func testMonitoringURLs(t *testing.T, pixel bool) {
	m, apiBase := MustRunMain(t, nil)
	_, c := setupCampaign(t, apiBase, m.Config.DataDir, 2)
	base := apiBase
	if pixel {
		base = "http://" + m.PixelAddr()
	}
	p0, p1 := c.Placements[0], c.Placements[1]
	now := time.Now()

	const oaid = "1fe9a970-0f6e-4a5b-b1e7-6c0b1a2b3c4d"
	oaidMD5 := fmt.Sprintf("%x", md5.Sum([]byte(oaid)))
	const idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"

	type hit struct {
		name       string
		url        string
		hdr        map[string]string
		wantStatus int
		wantLoc    string // for clicks
		wantReject string // X-Admeter-Rejected
	}
	if !strings.HasPrefix(p0.ImpressionURL, m.CollectorURL()+"/x/") {
		t.Fatalf("impression URL %s is not on %s", p0.ImpressionURL, m.CollectorURL())
	}
	androidImp := strings.Replace(fill(p0.ImpressionURL, map[string]string{"__OS__": "0", "__OAID__": oaid, "__IP__": "202.96.128.86", "__TS__": fmt.Sprint(now.Unix())}), m.CollectorURL(), base, 1)
	hits := []hit{
		{name: "android impression, raw OAID, other macros unreplaced", url: androidImp, wantStatus: 200},
		{name: "same device, MD5 OAID, ms time", url: fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11a=%s&mt=%d&vf=imp-1", base, c.ID, p0.ID, strings.ToUpper(oaidMD5), now.UnixMilli()), wantStatus: 200},
		{name: "SDK retry of the same impression id is answered, not logged", url: fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11a=%s&vf=imp-1", base, c.ID, p0.ID, oaidMD5), wantStatus: 200, wantReject: "duplicate"},
		{name: "the same impression id on another placement is another impression", url: fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11a=%s&vf=imp-1", base, c.ID, p1.ID, oaidMD5), wantStatus: 200},
		{name: "query-string form, iOS, not rendered", url: fmt.Sprintf("%s/x?k=%s&p=%s&mo=1&m5=%s&br=0", base, c.ID, p1.ID, idfa), wantStatus: 200},
		{name: "old client time is corrected", url: fmt.Sprintf("%s/x/k=%s&p=%s&m5=%s&mt=%d", base, c.ID, p1.ID, idfa, now.Add(-8*24*time.Hour).Unix()), wantStatus: 200},
		{name: "unknown campaign still gets the GIF", url: base + "/x/k=1&p=zz", wantStatus: 200, wantReject: "unknown_campaign"},
		{name: "unknown placement", url: base + "/x/k=" + c.ID + "&p=nope", wantStatus: 200, wantReject: "unknown_placement"},
		{name: "no placement", url: base + "/x/k=" + c.ID, wantStatus: 200, wantReject: "missing_placement"},
		{name: "prefetch is not counted", url: androidImp, hdr: map[string]string{"Sec-Purpose": "prefetch"}, wantStatus: 200, wantReject: "prefetch"},
		{name: "click to an allowed host, o= unencoded with its own & and =", url: fmt.Sprintf("%s/r/k=%s&p=%s&m11=%s&o=https://m.shop.example.com/item?id=1&from=ad", base, c.ID, p0.ID, oaid),
			wantStatus: 302, wantLoc: "https://m.shop.example.com/item?id=1&from=ad"},
		{name: "click, o= URL-encoded", url: fmt.Sprintf("%s/r?k=%s&p=%s&o=https%%3A%%2F%%2Fshop.example.com%%2Fa%%3Fb%%3D1", base, c.ID, p0.ID),
			wantStatus: 302, wantLoc: "https://shop.example.com/a?b=1"},
		{name: "click to a foreign host goes to the landing URL", url: fmt.Sprintf("%s/r/k=%s&p=%s&o=https://evil.example.net/phish", base, c.ID, p0.ID),
			wantStatus: 302, wantLoc: "https://shop.example.com/sale"},
		{name: "click to a look-alike host", url: fmt.Sprintf("%s/r/k=%s&p=%s&o=https://shop.example.com.evil.net/", base, c.ID, p0.ID),
			wantStatus: 302, wantLoc: "https://shop.example.com/sale"},
		{name: "click with userinfo trick", url: fmt.Sprintf("%s/r/k=%s&p=%s&o=https://shop.example.com@evil.net/", base, c.ID, p0.ID),
			wantStatus: 302, wantLoc: "https://shop.example.com/sale"},
		{name: "click for an unknown campaign has nowhere safe to go", url: base + "/r/k=1&p=zz&o=https://evil.example.net/", wantStatus: 404, wantReject: "unknown_campaign"},
	}
	for _, h := range hits {
		resp, body := get(t, h.url, h.hdr)
		if resp.StatusCode != h.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", h.name, resp.StatusCode, h.wantStatus, body)
			continue
		}
		if got := resp.Header.Get("X-Admeter-Rejected"); got != h.wantReject {
			t.Errorf("%s: rejected %q, want %q", h.name, got, h.wantReject)
		}
		if h.wantStatus == 200 && (resp.Header.Get("Content-Type") != "image/gif" || len(body) != 43 || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store")) {
			t.Errorf("%s: not the no-store GIF: %v %d bytes", h.name, resp.Header, len(body))
		}
		if h.wantLoc != "" && resp.Header.Get("Location") != h.wantLoc {
			t.Errorf("%s: Location %q, want %q", h.name, resp.Header.Get("Location"), h.wantLoc)
		}
	}

	_, metrics := get(t, apiBase+"/metrics", nil)
	for _, want := range []string{
		`admeter_collect_logged_total{kind="impression"} 4`,
		`admeter_collect_rejected_total{reason="duplicate"} 1`,
		`admeter_collect_logged_total{kind="served"} 1`,
		`admeter_collect_logged_total{kind="click"} 5`,
		`admeter_collect_rejected_total{reason="unknown_campaign"} 2`,
		`admeter_collect_rejected_total{reason="prefetch"} 1`,
		`admeter_collect_time_corrected_total 1`,
		`admeter_eventlog_`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	if pixel && !strings.Contains(string(metrics), "admeter_pixel_open_connections") {
		t.Error("metrics lack admeter_pixel_open_connections")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	events := readLog(t, m.Config.DataDir)
	if len(events) != 10 {
		t.Fatalf("log has %d events, want 10 (4 impressions, 1 served, 5 clicks)", len(events))
	}
	ps := testPseudonymizer(t, m.Config.DataDir)
	oaidCan, _ := pseudo.Canonicalize(admeter.IDOAID, pseudo.FormRaw, oaid)
	wantUser := ps.Pseudonym(admeter.IDOAID, oaidCan)
	first, second, third := events[0], events[1], events[2]
	if first.User != wantUser || second.User != wantUser || first.UserType != admeter.IDOAID {
		t.Errorf("raw and MD5 OAID must give the same pseudonym: %v %v want %v", first.User, second.User, wantUser)
	}
	if first.OS != admeter.OSAndroid || first.Region.Country != "CN" || first.Net.String() != "202.96.128.0/24" {
		t.Errorf("first event: os %v region %+v net %s", first.OS, first.Region, first.Net)
	}
	if first.At.Unix() != now.Unix() || first.Flags&admeter.FlagTimeCorrected != 0 {
		t.Errorf("first event time %v, want %v uncorrected", first.At, now.Unix())
	}
	if second.ImpressionID.IsZero() || second.ImpressionID != third.ImpressionID {
		t.Errorf("retried impression ids differ: %v %v", second.ImpressionID, third.ImpressionID)
	}
	if events[3].Kind != admeter.KindServed || events[3].UserType != admeter.IDIDFA || events[3].OS != admeter.OSIOS {
		t.Errorf("br=0 event: %+v", events[3])
	}
	if events[4].Flags&admeter.FlagTimeCorrected == 0 {
		t.Errorf("8-day-old mt not corrected: %v", events[4].At)
	}
	for _, ev := range events {
		if ev.Tenant == "" || ev.Campaign != admeter.CampaignID(c.ID) || ev.KeyVersion == 0 {
			t.Errorf("event lacks tenant/campaign/key: %+v", ev)
		}
	}
}

func TestBatchAPI(t *testing.T) {
	m, base := MustRunMain(t, func(c *ServeConfig) { c.MaxBatchEvents = 5; c.MaxBodyBytes = 4096 })
	_, c := setupCampaign(t, base, m.Config.DataDir, 1)
	p := c.Placements[0].ID

	post := func(body, ct string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, body, ct string
		wantStatus     int
		wantBody       []string
	}{
		{"JSON array with one bad event",
			fmt.Sprintf(`[{"campaign":%q,"placement":%q,"oaid":"abcdef0123456789","ts":%d,"ip":"202.96.128.86","ua":"Mozilla/5.0 (Linux; Android 14)"},
			{"campaign":%q,"placement":"nope"},
			{"type":"click","campaign":%q,"placement":%q,"imei_md5":"8d3ebd3654fb46a2832296669cf1b536","ts":"1000000000"}]`, c.ID, p, time.Now().Unix(), c.ID, c.ID, p),
			"application/json", 200, []string{`"accepted":2`, `"index":1`, `placement \"nope\"`}},
		{"NDJSON", fmt.Sprintf("{\"campaign\":%q,\"placement\":%q,\"idfa\":\"6D92078A-8246-4BA4-AE5B-76104861E7DC\"}\n\n{\"type\":\"served\",\"campaign\":%q,\"placement\":%q}\n", c.ID, p, c.ID, p),
			"application/x-ndjson", 200, []string{`"accepted":2`, `"rejected":[]`}},
		{"bad type and bad ts", fmt.Sprintf(`[{"type":"view","campaign":%q,"placement":%q},{"campaign":%q,"placement":%q,"ts":"yesterday"}]`, c.ID, p, c.ID, p),
			"application/json", 200, []string{`"accepted":0`, `type must be impression, click, served, viewability or video`, `ts must be Unix seconds`}},
		{"too many events", `[{},{},{},{},{},{}]`, "application/json", 413, []string{`"code":"too_large"`, "at most 5 events"}},
		{"too large body", "[" + strings.Repeat(`{"campaign":"1"},`, 400) + "{}]", "application/json", 413, []string{"larger than 4096 bytes"}},
		{"not JSON", `hello`, "application/json", 400, []string{"not valid JSON"}},
		{"empty", ``, "application/json", 400, []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := post(tt.body, tt.ct)
			if st != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", st, tt.wantStatus, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body %s lacks %s", body, w)
				}
			}
		})
	}
	resp, err := http.Get(base + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /v1/events = %d, want 405", resp.StatusCode)
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	events := readLog(t, m.Config.DataDir)
	if len(events) != 4 {
		t.Fatalf("log has %d events, want 4", len(events))
	}
	if events[1].Kind != admeter.KindClick || events[1].UserType != admeter.IDIMEI || events[1].Flags&admeter.FlagTimeCorrected == 0 || events[1].Flags&admeter.FlagBatch == 0 {
		t.Errorf("batch click: %+v", events[1])
	}
	if events[0].Region.Country != "CN" || events[0].OS != admeter.OSAndroid {
		t.Errorf("batch event 0 region/os: %+v %v", events[0].Region, events[0].OS)
	}
	if events[3].Kind != admeter.KindServed || events[3].UserType != admeter.IDNone {
		t.Errorf("served without ids: %+v", events[3])
	}
}

func TestBrowserCookie(t *testing.T) {
	m, base := MustRunMain(t, nil)
	_, c := setupCampaign(t, base, m.Config.DataDir, 1)
	u := base + "/x/k=" + c.ID + "&p=" + c.Placements[0].ID
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"

	resp, _ := get(t, u, map[string]string{"User-Agent": chrome})
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "admeter_uid" {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.MaxAge < 365*24*3600 {
		t.Fatalf("no long-lived HttpOnly id cookie: %v", resp.Header["Set-Cookie"])
	}
	// The browser returns it: same user, no new cookie.
	resp, _ = get(t, u, map[string]string{"User-Agent": chrome, "Cookie": "admeter_uid=" + ck.Value})
	if len(resp.Cookies()) != 0 {
		t.Errorf("cookie re-issued: %v", resp.Header["Set-Cookie"])
	}
	// An app's HTTP client gets no cookie (it would inflate unique users).
	resp, _ = get(t, u, map[string]string{"User-Agent": "okhttp/4.9.0"})
	if len(resp.Cookies()) != 0 {
		t.Errorf("okhttp got a cookie")
	}
	// An opted-out browser is not counted.
	resp, _ = get(t, u, map[string]string{"User-Agent": chrome, "Cookie": "admeter_optout=1; admeter_uid=" + ck.Value})
	if resp.StatusCode != 200 {
		t.Fatalf("opted-out browser: %d", resp.StatusCode)
	}
	_, metrics := get(t, base+"/metrics", nil)
	if !bytes.Contains(metrics, []byte(`admeter_collect_optout_dropped_total{signal="cookie"} 1`)) {
		t.Errorf("opt-out drop not counted")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	events := readLog(t, m.Config.DataDir)
	if len(events) != 3 {
		t.Fatalf("log has %d events, want 3 (the opted-out one dropped)", len(events))
	}
	if events[0].UserType != admeter.IDCookie || events[0].User != events[1].User || events[0].Flags&admeter.FlagCookieIssued == 0 {
		t.Errorf("cookie user keys: %+v / %+v", events[0], events[1])
	}
	if events[2].UserType != admeter.IDNone {
		t.Errorf("okhttp event has a user: %+v", events[2])
	}
	if events[0].OS != admeter.OSWindows || events[0].DeviceType != admeter.DeviceDesktop || events[0].Browser != "Chrome" {
		t.Errorf("UA not parsed: %v %v %q", events[0].OS, events[0].DeviceType, events[0].Browser)
	}
}

func TestServeConfigValidate(t *testing.T) {
	cfg := DefaultServeConfig()
	cfg.Fsync, cfg.LogFormat, cfg.TrustedProxies = "sometimes", "xml", "10.0.0.0/99"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"--fsync", "--log-format", "--trusted-proxies"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestMonitoringURLsHandedOut checks where the monitoring URLs the API hands
// out point: at the pixel listener by default, so that media send pixels to
// the fast front door, and wherever the operator says otherwise.
func TestMonitoringURLsHandedOut(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*ServeConfig)
		want func(m *Main) string
	}{
		{"the pixel listener by default", nil, func(m *Main) string { return "http://localhost:" + port(t, m.PixelAddr()) }},
		{"--addr without a pixel listener", func(c *ServeConfig) { c.PixelAddr = pixelOff },
			func(m *Main) string { return "http://localhost:" + port(t, m.Addr()) }},
		{"the public URL behind a balancer", func(c *ServeConfig) { c.PublicURL = "https://t.example.com" },
			func(*Main) string { return "https://t.example.com" }},
		{"a pixel host of its own", func(c *ServeConfig) {
			c.PublicURL, c.PixelPublicURL = "https://app.example.com", "https://t.example.com/"
		},
			func(*Main) string { return "https://t.example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, base := MustRunMain(t, tt.mod)
			_, c := setupCampaign(t, base, m.Config.DataDir, 1)
			want := tt.want(m)
			p := c.Placements[0]
			if !strings.HasPrefix(p.ImpressionURL, want+"/x/k="+c.ID+"&") || !strings.HasPrefix(p.ClickURL, want+"/r/k="+c.ID+"&") {
				t.Fatalf("monitoring URLs %s and %s, want them on %s", p.ImpressionURL, p.ClickURL, want)
			}
			if !strings.HasPrefix(want, "http://localhost:") {
				return
			}
			// Pasted as they are, with the macros filled, they are counted.
			for _, u := range []string{p.ImpressionURL, p.ClickURL} {
				u = fill(u, map[string]string{"__OS__": "0", "__OAID__": "1fe9a970-0f6e-4a5b-b1e7-6c0b1a2b3c4d"})
				resp, err := noRedirect.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 302 || resp.Header.Get("X-Admeter-Rejected") != "" {
					t.Fatalf("GET %s: %d, rejected %q", u, resp.StatusCode, resp.Header.Get("X-Admeter-Rejected"))
				}
			}
		})
	}
}

// port returns the port of a host:port address.
func port(tb testing.TB, addr string) string {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestPixelAddr(t *testing.T) {
	cluster := func(c *ServeConfig) {
		c.KafkaBrokers, c.ClickHouseDSN, c.PostgresDSN = "k:9092", "clickhouse://h:9000/db", "postgres://h/db"
	}
	tests := []struct {
		name   string
		mod    func(*ServeConfig)
		listen string // the address the pixel listener opens on, "" none
		err    string // part of the error when invalid
	}{
		{"auto with the default --addr", func(*ServeConfig) {}, ":8081", ""},
		{"auto after a host's port", func(c *ServeConfig) { c.Addr = "127.0.0.1:9000" }, "127.0.0.1:9001", ""},
		{"auto with any free port", func(c *ServeConfig) { c.Addr = "127.0.0.1:0" }, "127.0.0.1:0", ""},
		{"auto after a named port", func(c *ServeConfig) { c.Addr = ":http" }, ":81", ""},
		{"auto on a collector", func(c *ServeConfig) { c.Role = RoleCollector; cluster(c) }, ":8081", ""},
		{"auto on a loader: none", func(c *ServeConfig) { c.Role = RoleLoader; cluster(c) }, "", ""},
		{"auto on an API node: none", func(c *ServeConfig) { c.Role = RoleAPI; cluster(c) }, "", ""},
		{"auto without a port", func(c *ServeConfig) { c.Addr = "localhost" }, "", "give --pixel-addr an address"},
		{"auto after the last port", func(c *ServeConfig) { c.Addr = ":65535" }, "", "give --pixel-addr an address"},
		{"off", func(c *ServeConfig) { c.PixelAddr = pixelOff }, "", ""},
		{"empty is off", func(c *ServeConfig) { c.PixelAddr = "" }, "", ""},
		{"a port of its own", func(c *ServeConfig) { c.PixelAddr = ":9999" }, ":9999", ""},
		{"the same as --addr", func(c *ServeConfig) { c.PixelAddr = c.Addr }, "", "--pixel-addr must differ from --addr"},
		{"both on any free port", func(c *ServeConfig) { c.Addr, c.PixelAddr = "127.0.0.1:0", "127.0.0.1:0" }, "127.0.0.1:0", ""},
		{"a loader takes no pixels", func(c *ServeConfig) { c.Role, c.PixelAddr = RoleLoader, ":8081"; cluster(c) }, "", "only --role all or collector"},
		{"a pixel URL that is no URL", func(c *ServeConfig) { c.PixelPublicURL = "t.example.com" }, ":8081", "--pixel-public-url must be a scheme and host"},
		{"a pixel URL without a host", func(c *ServeConfig) { c.PixelPublicURL = "https://" }, ":8081", "--pixel-public-url must be a scheme and host"},
		{"a pixel URL with a path", func(c *ServeConfig) { c.PixelPublicURL = "https://t.example.com/m" }, ":8081", "--pixel-public-url must be a scheme and host"},
		{"a public URL with a query", func(c *ServeConfig) { c.PublicURL = "https://t.example.com?a=1" }, ":8081", "--public-url must be a scheme and host"},
		{"origins with a slash", func(c *ServeConfig) {
			c.PublicURL, c.PixelPublicURL = "https://app.example.com/", "http://t.example.com:8081/"
		}, ":8081", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultServeConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one that says %q", err, tt.err)
			}
			if got, _ := cfg.pixelListenAddr(); got != tt.listen {
				t.Errorf("pixel listener on %q, want %q", got, tt.listen)
			}
		})
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("ADMETER_DATA", "/srv/x")
	t.Setenv("ADMETER_FSYNC", "interval")
	cfg := DefaultServeConfig()
	fs := newFlagSet("serve", "")
	registerServeFlags(fs, &cfg)
	if err := parseFlags(fs, []string{"--fsync", "always"}); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/srv/x" || cfg.Fsync != "always" {
		t.Fatalf("data %q fsync %q: env must fill flags not given, and flags beat env", cfg.DataDir, cfg.Fsync)
	}
}
