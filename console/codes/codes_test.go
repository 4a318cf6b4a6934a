package codes_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/console/codes"
	"github.com/admeter/admeter/geoip"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/pseudo"
)

var update = flag.Bool("update", false, "rewrite testdata/codes.golden")

const (
	base      = "https://t.example.com"
	campaign  = admeter.CampaignID("12345678")
	placement = admeter.PlacementID("pA1b2C")
	// landing has a query with its own '&', '=', an encoded space, an
	// encoded '&' and an encoded URL: all must reach the redirect unchanged.
	landing = "https://shop.example.com/sale?utm_source=media&utm_campaign=spring%202026&q=a%26b&next=https%3A%2F%2Fshop.example.com%2Fcart&o=1"
)

// A sample Android phone and iPhone: the raw identifiers a device holds.
const (
	imei      = "868049039501257"
	androidID = "8f6581815307be28"
	oaid      = "0f2c3d4e-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
	mac       = "A4:50:46:1C:2B:3D"
	aaid      = "6c9e2a4b-1f3d-4e5a-9b8c-7d6e5f4a3b2c"
	idfa      = "32ED3EE5-9968-4F25-A015-DE3CFF569568"
	idfv      = "6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
	caid      = "5d41a1b2c3d4e5f60718293a4b5c6d7e"
	openUDID  = "0f3a9c2b7d4e5f60718293a4b5c6d7e8f9012345"
	ipAndroid = "202.96.128.86"
	ipIOS     = "2408:8207:1851:d2e0::1a"
	requestID = "1617055429226q172a25a163a167q5761"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// now is the collector's clock; the media report events an hour earlier.
var (
	now       = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	eventTime = now.Add(-time.Hour)
	tsSec     = fmt.Sprint(eventTime.Unix())
	tsMilli   = fmt.Sprint(eventTime.UnixMilli())
)

// sample is what a platform puts in place of one macro. For a device
// identifier, id and raw name the identifier the value stands for.
type sample struct {
	macro string
	value string
	id    admeter.IDType
	raw   string
}

func plain(m, v string) sample                               { return sample{m, v, admeter.IDNone, ""} }
func ident(m, v string, t admeter.IDType, raw string) sample { return sample{m, v, t, raw} }

// device is one device as one platform reports it.
type device struct {
	name    string
	os      admeter.OS // what the event's OS must be
	ip      string     // the client IP the platform reports ("" if none)
	at      time.Time  // the event time the platform reports (zero if none)
	samples []sample
}

// mmaAndroid and mmaIOS are what the MMA SDK and MMA-compliant media (and
// bilibili) fill in: MD5 forms for IMEI, Android ID and MAC (§1.4).
func mmaAndroid(ts sample) []sample {
	s := []sample{
		plain("__OS__", "0"), plain("__IP__", ipAndroid),
		ident("__ANDROIDID__", md5hex(androidID), admeter.IDAndroidID, androidID),
		ident("__IMEI__", md5hex(imei), admeter.IDIMEI, imei),
		ident("__AAID__", aaid, admeter.IDAAID, aaid),
		ident("__MAC1__", md5hex(mac), admeter.IDMACColon, mac),
		ident("__MAC__", md5hex(strings.ReplaceAll(mac, ":", "")), admeter.IDMAC, mac),
		ident("__OAID__", oaid, admeter.IDOAID, oaid),
		ident("__OAID1__", md5hex(oaid), admeter.IDOAID, oaid),
		plain("__REQUESTID__", requestID),
	}
	if ts.macro != "" {
		s = append(s, ts)
	}
	return s
}

func mmaIOS(ts sample) []sample {
	s := []sample{
		plain("__OS__", "1"), plain("__IP__", ipIOS),
		ident("__OPENUDID__", openUDID, admeter.IDOpenUDID, openUDID),
		ident("__IDFA__", idfa, admeter.IDIDFA, idfa),
		ident("__CAID__", caid, admeter.IDCAID, caid),
		plain("__REQUESTID__", requestID),
	}
	if ts.macro != "" {
		s = append(s, ts)
	}
	return s
}

// devices returns, for each platform, how it reports the sample Android
// phone and iPhone: one map from macro to value per device, in the forms
// mma-protocol.md §3 (and the sources doc.go cites) give.
func devices(p codes.Platform) []device {
	switch p {
	case codes.MMA:
		return []device{
			{"android", admeter.OSAndroid, ipAndroid, eventTime, mmaAndroid(plain("__TS__", tsSec))},
			{"ios", admeter.OSIOS, ipIOS, eventTime, mmaIOS(plain("__TS__", tsSec))},
		}
	case codes.Bilibili:
		return []device{
			{"android", admeter.OSAndroid, ipAndroid, time.Time{}, mmaAndroid(sample{})},
			{"ios", admeter.OSIOS, ipIOS, time.Time{}, append(mmaIOS(sample{}), ident("__IDFV__", idfv, admeter.IDIDFV, idfv))},
		}
	case codes.OceanEngine:
		return []device{
			{"android", admeter.OSAndroid, ipAndroid, eventTime, []sample{
				plain("__OS__", "0"), plain("__IP__", ipAndroid), plain("__TS__", tsMilli),
				ident("__IMEI__", md5hex(imei), admeter.IDIMEI, imei),
				ident("__ANDROIDID__", md5hex(androidID), admeter.IDAndroidID, androidID),
				ident("__OAID__", oaid, admeter.IDOAID, oaid),
				ident("__OAID_MD5__", md5hex(oaid), admeter.IDOAID, oaid),
				ident("__MAC__", md5hex(strings.ReplaceAll(mac, ":", "")), admeter.IDMAC, mac),
			}},
			{"ios", admeter.OSIOS, ipIOS, eventTime, []sample{
				plain("__OS__", "1"), plain("__IP__", ipIOS), plain("__TS__", tsMilli),
				ident("__IDFA__", idfa, admeter.IDIDFA, idfa),
				ident("__CAID__", caid, admeter.IDCAID, caid),
			}},
		}
	case codes.Tencent:
		// Tencent fills __CLICK_TIME__ on clicks only; the impression
		// code does not carry it.
		return []device{
			{"android", admeter.OSUnknown, ipAndroid, time.Time{}, []sample{
				plain("__IP__", ipAndroid),
				ident("__HASH_ANDROID_ID__", md5hex(androidID), admeter.IDAndroidID, androidID),
				ident("__OAID__", oaid, admeter.IDOAID, oaid),
				ident("__HASH_OAID__", md5hex(oaid), admeter.IDOAID, oaid),
				plain("__CLICK_TIME__", tsSec),
			}},
			{"ios", admeter.OSUnknown, ipIOS, time.Time{}, []sample{
				plain("__IP__", ipIOS),
				ident("__IDFA__", idfa, admeter.IDIDFA, idfa),
				plain("__CLICK_TIME__", tsSec),
			}},
		}
	case codes.Baidu:
		return []device{
			{"android", admeter.OSUnknown, ipAndroid, eventTime, []sample{
				plain("{{IP}}", ipAndroid), plain("{{TS}}", tsSec),
				ident("{{IMEI_MD5}}", md5hex(imei), admeter.IDIMEI, imei),
				ident("{{ANDROID_ID_MD5}}", md5hex(androidID), admeter.IDAndroidID, androidID),
				ident("{{OAID}}", oaid, admeter.IDOAID, oaid),
			}},
			{"ios", admeter.OSUnknown, ipIOS, eventTime, []sample{
				plain("{{IP}}", ipIOS), plain("{{TS}}", tsSec),
				ident("{{IDFA}}", idfa, admeter.IDIDFA, idfa),
			}},
		}
	case codes.Kuaishou:
		return []device{
			{"android", admeter.OSAndroid, ipAndroid, eventTime, []sample{
				plain("__OS__", "0"), plain("__IP__", ipAndroid), plain("__TS__", tsMilli),
				ident("__IMEI2__", md5hex(imei), admeter.IDIMEI, imei),
				ident("__ANDROIDID2__", md5hex(androidID), admeter.IDAndroidID, androidID),
				ident("__OAID__", oaid, admeter.IDOAID, oaid),
			}},
			{"ios", admeter.OSIOS, ipIOS, eventTime, []sample{
				plain("__OS__", "1"), plain("__IP__", ipIOS), plain("__TS__", tsMilli),
				ident("__IDFA__", idfa, admeter.IDIDFA, idfa),
			}},
		}
	}
	return nil
}

// substitute replaces the macros of samples in u the way a platform does:
// in place, wherever they stand. Other macros stay as they are.
func substitute(u string, samples []sample) string {
	for _, s := range samples {
		u = strings.ReplaceAll(u, s.macro, s.value)
	}
	return u
}

// memLog is an in-memory collect.Appender.
type memLog struct {
	mu     sync.Mutex
	events []admeter.Event
}

func (l *memLog) Append(_ context.Context, evs []admeter.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, evs...)
	return nil
}

func (l *memLog) take() []admeter.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.events
	l.events = nil
	return evs
}

// collector is a real collector behind a real HTTP server.
type collector struct {
	addr string
	log  *memLog
	ps   *pseudo.Pseudonymizer
}

func newCollector(tb testing.TB) *collector {
	tb.Helper()
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		tb.Fatal(err)
	}
	optPS, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("registry-key-registry-key-regist")})
	if err != nil {
		tb.Fatal(err)
	}
	geo, err := geoip.Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	cat := &collect.Catalog{}
	cat.Replace([]*admeter.Campaign{{
		ID: campaign, Tenant: "t_a", Name: "c", LandingURL: "https://shop.example.com/", Timezone: "Asia/Shanghai",
		Placements: []admeter.Placement{{ID: placement, Campaign: campaign, Name: "p", Media: "m"}},
	}})
	cfg := collect.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	log := &memLog{}
	c, err := collect.New(cfg, cat, log, ps, geo, &optout.Set{}, optPS, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(c.ServeMonitoring))
	tb.Cleanup(srv.Close)
	return &collector{addr: srv.Listener.Addr().String(), log: log, ps: ps}
}

// get sends target byte for byte as the request target of a GET, the way a
// media server or an SDK sends a monitoring URL, and returns the answer and
// the events it logged.
func (c *collector) get(t *testing.T, target string) (*http.Response, []admeter.Event) {
	t.Helper()
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: t.example.com\r\nConnection: close\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, c.log.take()
}

// pseudonym is the user key the collector must give a device whose raw
// identifier of type typ is raw.
func (c *collector) pseudonym(t *testing.T, typ admeter.IDType, raw string) admeter.Pseudonym {
	t.Helper()
	can, reason := pseudo.Canonicalize(typ, pseudo.FormRaw, raw)
	if reason != pseudo.ReasonOK {
		t.Fatalf("sample %s %q is not a usable identifier: %v", typ, raw, reason)
	}
	return c.ps.Pseudonym(typ, can)
}

func target(u string) string { return strings.TrimPrefix(u, base) }

func mustCodes(t testing.TB, p codes.Platform, land string) codes.Code {
	t.Helper()
	c, err := codes.Codes(base, campaign, placement, land, p)
	if err != nil {
		t.Fatalf("Codes(%s): %v", p, err)
	}
	return c
}

// macroPlatforms are the platforms whose codes carry macros.
func macroPlatforms() []codes.Platform {
	var out []codes.Platform
	for _, pi := range codes.Platforms() {
		if pi.Platform != codes.Web {
			out = append(out, pi.Platform)
		}
	}
	return out
}

// macros returns the macros a URL carries: the parameter values that are
// unreplaced macros.
func macros(u string) []string {
	if i := strings.Index(u, "&o="); i >= 0 {
		u = u[:i]
	}
	var out []string
	for _, kv := range strings.Split(u[strings.Index(u, "/k=")+1:], "&") {
		if _, v, _ := strings.Cut(kv, "="); macro.IsUnreplacedMacro(v) {
			out = append(out, v)
		}
	}
	return out
}

// TestSamplesCoverCodes keeps the substitution maps and the codes in step:
// every macro of every code has a sample value, and every sample's macro is
// in the code.
func TestSamplesCoverCodes(t *testing.T) {
	for _, p := range macroPlatforms() {
		c := mustCodes(t, p, landing)
		inCode := macros(c.Click)
		devs := devices(p)
		if len(devs) == 0 {
			t.Errorf("%s: no sample devices", p)
		}
		sampled := map[string]bool{}
		for _, d := range devs {
			for _, s := range d.samples {
				sampled[s.macro] = true
				if !slices.Contains(inCode, s.macro) {
					t.Errorf("%s/%s: sample macro %s is not in the code %s", p, d.name, s.macro, c.Click)
				}
			}
		}
		for _, m := range inCode {
			if !sampled[m] {
				t.Errorf("%s: macro %s of the code has no sample value", p, m)
			}
		}
	}
}

// TestImpressionThroughCollector substitutes each platform's values for a
// sample device into the impression code and sends it to a real collector,
// which must read the campaign, placement, OS, IP, time and the device's
// best identifier in the right form.
func TestImpressionThroughCollector(t *testing.T) {
	col := newCollector(t)
	for _, p := range macroPlatforms() {
		imp := mustCodes(t, p, landing).Impression
		for _, d := range devices(p) {
			t.Run(string(p)+"/"+d.name, func(t *testing.T) {
				u := substitute(imp, d.samples)
				_, params, err := macro.ParseTarget(target(u))
				if err != nil || params.K != string(campaign) || params.P != string(placement) {
					t.Fatalf("ParseTarget(%s) = %v, %v", u, params, err)
				}
				resp, evs := col.get(t, target(u))
				if resp.StatusCode != 200 || len(evs) != 1 {
					t.Fatalf("answer %d (%s), %d events; want 200 and one event", resp.StatusCode, resp.Header.Get("X-Admeter-Rejected"), len(evs))
				}
				ev := evs[0]
				if ev.Kind != admeter.KindImpression || ev.Campaign != campaign || ev.Placement != placement {
					t.Errorf("event %v %s/%s, want an impression of %s/%s", ev.Kind, ev.Campaign, ev.Placement, campaign, placement)
				}
				if ev.OS != d.os {
					t.Errorf("OS %v, want %v", ev.OS, d.os)
				}
				if want := admeter.BlockOf(netip.MustParseAddr(d.ip)); ev.Net != want {
					t.Errorf("network %s, want %s (from the IP macro, not the connection)", ev.Net, want)
				}
				wantAt := now
				if !d.at.IsZero() {
					wantAt = d.at
				}
				if !ev.At.Equal(wantAt) {
					t.Errorf("at %v, want %v", ev.At, wantAt)
				}
				best := sample{id: admeter.IDCookie}
				for _, s := range d.samples {
					if s.id != admeter.IDNone && s.id < best.id {
						best = s
					}
				}
				if want := col.pseudonym(t, best.id, best.raw); ev.UserType != best.id || ev.User != want {
					t.Errorf("user %s/%v, want the pseudonym of the device's %s", ev.UserType, ev.User, best.id)
				}
			})
		}
	}
}

// TestEachIdentifier sends each identifier macro alone: the collector must
// give the device the same pseudonym as its raw identifier, whatever form
// (raw or MD5) the platform sends.
func TestEachIdentifier(t *testing.T) {
	col := newCollector(t)
	for _, p := range macroPlatforms() {
		imp := mustCodes(t, p, landing).Impression
		for _, d := range devices(p) {
			for _, s := range d.samples {
				if s.id == admeter.IDNone {
					continue
				}
				t.Run(string(p)+"/"+s.macro, func(t *testing.T) {
					if !strings.Contains(imp, "="+s.macro) {
						t.Fatalf("the impression code %s does not carry %s", imp, s.macro)
					}
					_, evs := col.get(t, target(substitute(imp, []sample{s})))
					if len(evs) != 1 {
						t.Fatalf("%d events, want 1", len(evs))
					}
					want := col.pseudonym(t, s.id, s.raw)
					if ev := evs[0]; ev.UserType != s.id || ev.User != want {
						t.Errorf("%s=%s gave user %s/%v, want the pseudonym of raw %s", s.macro, s.value, ev.UserType, ev.User, s.id)
					}
				})
			}
		}
	}
}

// TestUnreplacedMacrosAreAbsent sends the codes as generated, and as a
// platform that replaces every macro it cannot fill with "" would: nothing
// but k, p (and o) may be read, and the event has no user key.
func TestUnreplacedMacrosAreAbsent(t *testing.T) {
	col := newCollector(t)
	empty := regexp.MustCompile(`=(__[A-Z0-9_]+__|\{\{[A-Z0-9_]+\}\})`)
	for _, p := range macroPlatforms() {
		c := mustCodes(t, p, landing)
		for _, variant := range []struct {
			name string
			fix  func(string) string
		}{
			{"left as is", func(u string) string { return u }},
			{"replaced by empty", func(u string) string { return empty.ReplaceAllString(u, "=") }},
		} {
			t.Run(string(p)+"/"+variant.name, func(t *testing.T) {
				imp, clk := variant.fix(c.Impression), variant.fix(c.Click)
				if _, params, err := macro.ParseTarget(target(imp)); err != nil || params.String() != "k=12345678 p=pA1b2C present=" {
					t.Errorf("impression parsed as %v, %v; want k and p only", params, err)
				}
				if _, params, err := macro.ParseTarget(target(clk)); err != nil || params.String() != "k=12345678 p=pA1b2C present=o" {
					t.Errorf("click parsed as %v, %v; want k, p and o only", params, err)
				}
				_, evs := col.get(t, target(imp))
				if len(evs) != 1 || evs[0].UserType != admeter.IDNone || evs[0].OS != admeter.OSUnknown {
					t.Fatalf("events %v; want one event with no user key and no OS", evs)
				}
			})
		}
	}
}

// TestClickRedirects sends each platform's click code, filled in for the
// Android sample, and checks that it lands on the landing URL with its
// query intact and is logged as a click.
func TestClickRedirects(t *testing.T) {
	col := newCollector(t)
	for _, pi := range codes.Platforms() {
		p := pi.Platform
		t.Run(string(p), func(t *testing.T) {
			var d device
			if devs := devices(p); len(devs) > 0 {
				d = devs[0]
			}
			clk := substitute(mustCodes(t, p, landing).Click, d.samples)
			if !strings.HasSuffix(clk, "&o="+landing) {
				t.Fatalf("click %s does not end with &o= and the landing URL", clk)
			}
			_, params, err := macro.ParseTarget(target(clk))
			if err != nil || params.O != landing {
				t.Fatalf("ParseTarget: o=%q, %v; want the landing URL verbatim", params.O, err)
			}
			resp, evs := col.get(t, target(clk))
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != landing {
				t.Fatalf("answer %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), landing)
			}
			if len(evs) != 1 || evs[0].Kind != admeter.KindClick || evs[0].Campaign != campaign || evs[0].Placement != placement {
				t.Fatalf("events %v, want one click", evs)
			}
			wantAt := now
			for _, s := range d.samples {
				if s.macro == "__CLICK_TIME__" || !d.at.IsZero() {
					wantAt = eventTime
				}
			}
			if !evs[0].At.Equal(wantAt) {
				t.Errorf("click at %v, want %v", evs[0].At, wantAt)
			}
		})
	}
}

// TestClickWithoutLanding: an empty landing gives a click code ending in
// o=, which the collector sends to the campaign's landing URL, and to which
// a media may append its own.
func TestClickWithoutLanding(t *testing.T) {
	col := newCollector(t)
	c := mustCodes(t, codes.MMA, "")
	if !strings.HasSuffix(c.Click, "&o=") {
		t.Fatalf("click %s, want it to end with &o=", c.Click)
	}
	if resp, _ := col.get(t, target(c.Click)); resp.Header.Get("Location") != "https://shop.example.com/" {
		t.Errorf("empty o= went to %q, want the campaign's landing URL", resp.Header.Get("Location"))
	}
	if resp, _ := col.get(t, target(c.Click+"https://shop.example.com/p?id=7&from=feed")); resp.Header.Get("Location") != "https://shop.example.com/p?id=7&from=feed" {
		t.Errorf("appended landing went to %q", resp.Header.Get("Location"))
	}
}

// TestLandingFragment: a fragment stays in o= verbatim too (a browser keeps
// it locally and re-applies it after the redirect).
func TestLandingFragment(t *testing.T) {
	const land = "https://shop.example.com/p?a=1&b=2#reviews"
	c := mustCodes(t, codes.OceanEngine, land)
	if _, params, err := macro.ParseTarget(target(c.Click)); err != nil || params.O != land {
		t.Errorf("o=%q, %v; want %q", params.O, err, land)
	}
}

func TestWebSnippet(t *testing.T) {
	col := newCollector(t)
	c := mustCodes(t, codes.Web, landing)
	re := regexp.MustCompile(`^<img src="([^"<>]*)" width="1" height="1" alt="" style="display:none" referrerpolicy="no-referrer-when-downgrade">$`)
	m := re.FindStringSubmatch(c.Snippet)
	if m == nil {
		t.Fatalf("snippet %s is not the expected <img> tag", c.Snippet)
	}
	if strings.Contains(m[1], "&p=") || html.UnescapeString(m[1]) != c.Impression {
		t.Errorf("src %q is not the HTML-escaped impression URL %q", m[1], c.Impression)
	}
	if c.Impression != base+"/x/k=12345678&p=pA1b2C" || c.Click != base+"/r/k=12345678&p=pA1b2C&o="+landing {
		t.Errorf("web URLs %s and %s carry more than k, p and o", c.Impression, c.Click)
	}
	// A browser loading the pixel is counted, with no device id, by the
	// collector's cookie.
	conn, err := net.Dial("tcp", col.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: t.example.com\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n", target(c.Impression), ua); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evs := col.log.take()
	if resp.Header.Get("Content-Type") != "image/gif" || len(evs) != 1 || evs[0].UserType != admeter.IDCookie {
		t.Errorf("browser pixel: %s, events %v; want the GIF and one cookie-keyed impression", resp.Header.Get("Content-Type"), evs)
	}
	for _, p := range macroPlatforms() {
		if s := mustCodes(t, p, landing).Snippet; s != "" {
			t.Errorf("%s has a snippet %q; only the web platform has one", p, s)
		}
	}
}

// TestMMAMatchesAPI: the console's MMA code is the URL the API shows.
func TestMMAMatchesAPI(t *testing.T) {
	c := mustCodes(t, codes.MMA, landing)
	if want := api.ImpressionURL(base, campaign, placement); c.Impression != want {
		t.Errorf("impression\n got %s\nwant %s", c.Impression, want)
	}
	if want := api.ClickURL(base, campaign, placement, landing); c.Click != want {
		t.Errorf("click\n got %s\nwant %s", c.Click, want)
	}
}

func TestPlatforms(t *testing.T) {
	infos := codes.Platforms()
	want := []codes.Platform{codes.MMA, codes.OceanEngine, codes.Tencent, codes.Baidu, codes.Kuaishou, codes.Bilibili, codes.Web}
	var got []codes.Platform
	for _, pi := range infos {
		got = append(got, pi.Platform)
		if pi.NameZH == "" || pi.NameEN == "" || pi.Note.ZH == "" || pi.Note.EN == "" || !pi.Platform.Valid() {
			t.Errorf("%s: incomplete info %+v", pi.Platform, pi)
		}
		c := mustCodes(t, pi.Platform, landing)
		if c.Platform != pi.Platform || len(c.Notes) == 0 {
			t.Errorf("%s: code %+v", pi.Platform, c)
		}
		for _, n := range c.Notes {
			if n.ZH == "" || n.EN == "" {
				t.Errorf("%s: note %+v lacks a language", pi.Platform, n)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("platforms %v, want %v", got, want)
	}
	if codes.Platform("adobe").Valid() {
		t.Error("an unknown platform is valid")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		base      string
		k         admeter.CampaignID
		p         admeter.PlacementID
		land      string
		platform  codes.Platform
		wantInMsg string
	}{
		{"unknown platform", base, campaign, placement, landing, "facebook", "unknown platform"},
		{"relative base", "t.example.com", campaign, placement, landing, codes.MMA, "origin"},
		{"base with a path", base + "/collect", campaign, placement, landing, codes.MMA, "origin"},
		{"base with a query", base + "/?a=1", campaign, placement, landing, codes.MMA, "origin"},
		{"ftp base", "ftp://t.example.com", campaign, placement, landing, codes.MMA, "origin"},
		{"empty campaign", base, "", placement, landing, codes.MMA, "campaign id"},
		{"macro-like campaign", base, "__K__", placement, landing, codes.MMA, "campaign id"},
		{"placement with '&'", base, campaign, "a&b", landing, codes.MMA, "placement id"},
		{"relative landing", base, campaign, placement, "/sale", codes.MMA, "absolute http or https"},
		{"javascript landing", base, campaign, placement, "javascript:alert(1)", codes.Baidu, "absolute http or https"},
		{"encoded landing", base, campaign, placement, "https%3A%2F%2Fshop.example.com%2F", codes.MMA, "absolute http or https"},
		{"landing with a space", base, campaign, placement, "https://shop.example.com/a b", codes.MMA, "space"},
		{"landing with a user", base, campaign, placement, "https://u:p@shop.example.com/", codes.MMA, "user name"},
		{"landing too long", base, campaign, placement, "https://shop.example.com/?q=" + strings.Repeat("a", codes.MaxLandingLen), codes.MMA, "shorten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := codes.Codes(tt.base, tt.k, tt.p, tt.land, tt.platform)
			var ae *admeter.Error
			if !errors.As(err, &ae) || ae.Code != admeter.EINVALID || !strings.Contains(ae.Message, tt.wantInMsg) {
				t.Fatalf("error %v, want EINVALID mentioning %q", err, tt.wantInMsg)
			}
		})
	}
	// Accepted variants.
	for _, b := range []string{base + "/", "http://127.0.0.1:8080", " " + base + " "} {
		if c, err := codes.Codes(b, campaign, placement, "  "+landing+"\n", codes.MMA); err != nil || !strings.HasSuffix(c.Click, "&o="+landing) || strings.Contains(c.Impression, "//x/") {
			t.Errorf("base %q: %v, %+v", b, err, c)
		}
	}
}

// TestGolden pins the exact output, which is deterministic.
func TestGolden(t *testing.T) {
	all, err := codes.All(base, campaign, placement, landing)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := codes.All(base, campaign, placement, landing)
	if !reflect.DeepEqual(all, again) {
		t.Fatal("two calls gave different codes")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(all); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	const file = "testdata/codes.golden"
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("codes differ from %s (run go test -update if the change is intended):\n%s", file, got)
	}
}

// FuzzLanding: any landing URL Codes accepts ends the click code, after o=,
// exactly as given, and the collector's parser reads it back unchanged
// together with the campaign and placement. A landing URL on the campaign's
// host is also sent to a real collector, which must redirect to it unchanged.
func FuzzLanding(f *testing.F) {
	col := newCollector(f)
	for _, s := range []string{
		landing, "https://shop.example.com/", "http://a.example.com/p?x=1&o=2&k=3#f",
		"https://例子.测试/路径?q=中文", "https://shop.example.com/?u=https%3A%2F%2Fx.example.com", "https://a.b/%zz",
		"https://shop.example.com/?m2=__IMEI__&x={{OS}}", "https://a.b/?", "HTTPS://A.B/C",
		"https://shop.example.com/路径?q=中文#f", "https://shop.example.com/a\"b<c>{d}|e\\f^g`h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, land string) {
		for _, p := range []codes.Platform{codes.MMA, codes.Baidu, codes.Web} {
			c, err := codes.Codes(base, campaign, placement, land, p)
			if err != nil {
				if admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("error %v is not EINVALID", err)
				}
				return
			}
			trimmed := strings.TrimSpace(land)
			if !strings.HasSuffix(c.Click, "&o="+trimmed) {
				t.Fatalf("click %q does not end with o= and %q", c.Click, trimmed)
			}
			if len(target(c.Click)) > macro.MaxTargetLen {
				t.Fatalf("click is %d bytes, over the collector's limit", len(c.Click))
			}
			ep, params, err := macro.ParseTarget(target(c.Click))
			if err != nil || ep != macro.EndpointClick || params.K != string(campaign) || params.P != string(placement) || params.O != trimmed {
				t.Fatalf("ParseTarget(%q) = %v %v o=%q, %v", c.Click, ep, params, params.O, err)
			}
			if macro.DecodeRedirect(params.O) != trimmed {
				t.Fatalf("the collector would decode o=%q", params.O)
			}
			if u, err := url.Parse(trimmed); p == codes.MMA && err == nil && u.Host == "shop.example.com" {
				resp, _ := col.get(t, target(c.Click))
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != trimmed {
					t.Fatalf("click answered %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), trimmed)
				}
			}
		}
	})
}
