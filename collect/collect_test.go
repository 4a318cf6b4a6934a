package collect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/geoip"
	"github.com/admeter/admeter/ivt"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/pseudo"
)

// memLog is an in-memory Appender; err, when set, makes every Append fail
// (to inject a log failure).
type memLog struct {
	mu      sync.Mutex
	events  []admeter.Event
	err     error
	discard bool // count nothing, keep nothing (benchmarks)
}

func (l *memLog) Append(_ context.Context, evs []admeter.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.discard {
		return nil
	}
	l.events = append(l.events, evs...)
	return nil
}

func (l *memLog) all() []admeter.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]admeter.Event(nil), l.events...)
}

type fixture struct {
	c      *collect.Collector
	log    *memLog
	opt    *optout.Set
	ps     *pseudo.Pseudonymizer
	optPS  *pseudo.Pseudonymizer // the opt-out registry key
	cat    *collect.Catalog
	now    time.Time
	prefix string // "/x/k=…&p=…"
}

func newFixture(tb testing.TB, mod func(*collect.Config)) *fixture {
	tb.Helper()
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		tb.Fatal(err)
	}
	geo, err := geoip.Embedded()
	if err != nil {
		tb.Fatal(err)
	}
	cat := &collect.Catalog{}
	cat.Replace([]*admeter.Campaign{{
		ID: "12345678", Tenant: "t_a", Name: "c", LandingURL: "https://shop.example.com/", Timezone: "Asia/Shanghai",
		Placements: []admeter.Placement{{ID: "pA1b2C", Campaign: "12345678", Name: "p", Media: "m"}},
	}})
	optPS, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("registry-key-registry-key-regist")})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{log: &memLog{}, opt: &optout.Set{}, ps: ps, optPS: optPS, cat: cat, now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), prefix: "/x/k=12345678&p=pA1b2C"}
	cfg := collect.DefaultConfig()
	cfg.Now = func() time.Time { return f.now }
	if mod != nil {
		mod(&cfg)
	}
	f.c, err = collect.New(cfg, cat, f.log, ps, geo, f.opt, f.optPS, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) get(target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://t.example.com"+target, nil)
	r.RequestURI = target
	r.RemoteAddr = "203.0.113.9:5555"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.c.ServeMonitoring(w, r)
	return w
}

func TestOptOutDropsEveryIdentifier(t *testing.T) {
	f := newFixture(t, nil)
	const imei, oaid = "868049039501257", "abcdef0123456789"
	can, _ := pseudo.Canonicalize(admeter.IDIMEI, pseudo.FormRaw, imei)
	f.opt.Add(f.optPS.Pseudonym(admeter.IDIMEI, can))

	tests := []struct {
		name   string
		target string
		stored bool
	}{
		{"opted out by IMEI, arriving with OAID too", f.prefix + "&m11=" + oaid + "&m3=" + imei, false},
		{"opted out by IMEI, arriving as MD5", f.prefix + "&m2=8d3ebd3654fb46a2832296669cf1b536", false},
		{"OAID alone is someone else", f.prefix + "&m11=" + oaid, true},
		{"no identifier at all", f.prefix, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			w := f.get(tt.target)
			if w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" {
				t.Fatalf("answer %d %s, want the GIF either way", w.Code, w.Header().Get("Content-Type"))
			}
			if got := len(f.log.all()) - before; (got == 1) != tt.stored {
				t.Fatalf("stored %d events, want stored=%v", got, tt.stored)
			}
		})
	}
}

func TestOptOutRegistryUsesItsOwnKey(t *testing.T) {
	f := newFixture(t, nil)
	const imei = "868049039501257"
	can, _ := pseudo.Canonicalize(admeter.IDIMEI, pseudo.FormRaw, imei)
	// An entry made under the event key is not an opt-out: the registry's
	// pseudonyms are made under its own key, which survives event-key rotation.
	f.opt.Add(f.ps.Pseudonym(admeter.IDIMEI, can))
	f.get(f.prefix + "&m3=" + imei)
	if n := len(f.log.all()); n != 1 {
		t.Fatalf("stored %d events, want 1", n)
	}
	if got := f.log.all()[0].User; got != f.ps.Pseudonym(admeter.IDIMEI, can) {
		t.Fatal("the stored user key is not the event-key pseudonym")
	}
}

func TestOptOutSignals(t *testing.T) {
	tests := []struct {
		name   string
		honor  bool
		target string
		hdr    []string
		stored bool
	}{
		{"GPC on a pixel", true, "&m11=abcdef0123456789", []string{"Sec-GPC", "1"}, false},
		{"GPC on a browser pixel without ids", true, "", []string{"Sec-GPC", "1", "User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}, false},
		{"GPC other value", true, "&m11=abcdef0123456789", []string{"Sec-GPC", "0"}, true},
		{"GPC not honoured by config", false, "&m11=abcdef0123456789", []string{"Sec-GPC", "1"}, true},
		{"opt-out cookie", true, "&m11=abcdef0123456789", []string{"Cookie", "admeter_optout=1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *collect.Config) { c.HonorGPC = tt.honor })
			w := f.get(f.prefix+tt.target, tt.hdr...)
			if w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" {
				t.Fatalf("answer %d, want the GIF either way", w.Code)
			}
			if got := len(f.log.all()); (got == 1) != tt.stored {
				t.Fatalf("stored %d events, want stored=%v", got, tt.stored)
			}
			set := w.Header().Values("Set-Cookie")
			switch {
			case tt.name == "opt-out cookie":
				if len(set) != 1 || !strings.HasPrefix(set[0], "admeter_optout=1;") || !strings.Contains(set[0], "Max-Age=157680000") {
					t.Fatalf("the opt-out cookie was not renewed: %q", set)
				}
			case !tt.stored && len(set) != 0:
				t.Fatalf("an opted-out browser got a cookie: %q", set)
			}
		})
	}
}

func TestLogFailureIsNotAcknowledged(t *testing.T) {
	f := newFixture(t, nil)
	f.log.err = errors.New("disk on fire")

	w := f.get(f.prefix + "&m11=abcdef0123456789")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || w.Header().Get("X-Admeter-Rejected") != "log_unavailable" {
		t.Errorf("pixel with a failed log: %d %v; want 503 with Retry-After so the SDK retries", w.Code, w.Header())
	}
	w = f.get("/r/k=12345678&p=pA1b2C&o=https://shop.example.com/x")
	if w.Code != http.StatusFound || w.Header().Get("Location") != "https://shop.example.com/x" {
		t.Errorf("click with a failed log: %d %v; the user must still get where they were going", w.Code, w.Header())
	}
	r := httptest.NewRequest("POST", "/v1/events", strings.NewReader(`[{"campaign":"12345678","placement":"pA1b2C"}]`))
	rec := httptest.NewRecorder()
	f.c.ServeBatch(rec, r)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "retry") {
		t.Errorf("batch with a failed log: %d %s", rec.Code, rec.Body)
	}
}

func TestClientAddress(t *testing.T) {
	f := newFixture(t, func(c *collect.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	tests := []struct {
		name, target, xff, want string
	}{
		{"relayed ns wins", f.prefix + "&ns=202.96.128.86", "61.135.169.121", "202.96.128.0/24"},
		{"trusted proxy: right-most untrusted XFF hop", f.prefix, "1.2.3.4, 61.135.169.121, 10.1.1.1", "61.135.169.0/24"},
		{"garbage XFF falls back to the proxy", f.prefix, "not-an-ip", "203.0.113.0/24"},
		{"unreplaced ns macro ignored", f.prefix + "&ns=__IP__", "", "203.0.113.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			f.get(tt.target, "X-Forwarded-For", tt.xff)
			evs := f.log.all()
			if len(evs) != before+1 {
				t.Fatalf("not stored")
			}
			if got := evs[len(evs)-1].Net.String(); got != tt.want {
				t.Errorf("net %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEventTime(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		mt        string
		want      time.Time
		corrected bool
	}{
		{fmt.Sprint(f.now.Add(-time.Hour).Unix()), f.now.Add(-time.Hour), false},
		{fmt.Sprint(f.now.Add(-time.Hour).UnixMilli()), f.now.Add(-time.Hour), false},
		{fmt.Sprint(f.now.Add(-6 * 24 * time.Hour).Unix()), f.now.Add(-6 * 24 * time.Hour), false},
		{fmt.Sprint(f.now.Add(-8 * 24 * time.Hour).Unix()), f.now, true},
		{fmt.Sprint(f.now.Add(4 * time.Minute).Unix()), f.now.Add(4 * time.Minute), false},
		{fmt.Sprint(f.now.Add(10 * time.Minute).Unix()), f.now, true},
		{"__TS__", f.now, false},
	}
	for _, tt := range tests {
		f.get(f.prefix + "&mt=" + tt.mt)
		evs := f.log.all()
		ev := evs[len(evs)-1]
		if !ev.At.Equal(tt.want) || (ev.Flags&admeter.FlagTimeCorrected != 0) != tt.corrected {
			t.Errorf("mt=%s: at %v corrected=%v, want %v corrected=%v", tt.mt, ev.At, ev.Flags&admeter.FlagTimeCorrected != 0, tt.want, tt.corrected)
		}
	}
}

func FuzzServeBatch(f *testing.F) {
	fx := newFixture(f, func(c *collect.Config) { c.MaxBatchEvents = 20; c.MaxBodyBytes = 64 << 10 })
	f.Add(`[{"campaign":"12345678","placement":"pA1b2C","oaid":"abcdef0123456789","ts":1790000000}]`)
	f.Add("{\"campaign\":\"12345678\",\"placement\":\"pA1b2C\",\"type\":\"click\"}\n{\"x\":1}")
	f.Add(`[{"campaign":"12345678","placement":"pA1b2C","os":1,"network":"wifi","location":"39.9,116.4","svl":"{\"l1\":1}"}]`)
	f.Add(`[`)
	f.Add(`[{"campaign":"12345678","placement":"pA1b2C","type":"viewability","impression_id":"i","view":"viewable","video_quartiles":[25,100]},{"campaign":"12345678","placement":"pA1b2C","type":"video","video_progress":"start","video_duration":"15.5","video_play":"auto","view_area":"60"}]`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/v1/events", strings.NewReader(body))
		w := httptest.NewRecorder()
		fx.c.ServeBatch(w, r)
		switch w.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		for _, ev := range fx.log.all() {
			if err := ev.Validate(); err != nil {
				t.Fatalf("stored an invalid event: %v", err)
			}
		}
	})
}

func FuzzServeMonitoring(f *testing.F) {
	fx := newFixture(f, nil)
	f.Add("/x/k=12345678&p=pA1b2C&m11=abc&mm=39.9x116.4x1&ns=1.2.3.4&md=%E2%80%AE")
	f.Add("/r/k=12345678&p=pA1b2C&o=https://shop.example.com/?a=1&b=2")
	f.Add("/r?k=12345678&p=nope&o=javascript:alert(1)")
	f.Add("/x/k=12345678&p=pA1b2C&vf=a&vx=1&vk=1&vh=60&vi=2&vb=15.5&vj=1100")
	f.Add("/x?k=12345678&p=pA1b2C&vf=a&vc=25&vg=2&vx=0")
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n") {
			return
		}
		r, err := http.NewRequest("GET", "http://t.example.com"+target, nil)
		if err != nil {
			return
		}
		r.RequestURI = target
		r.RemoteAddr = "203.0.113.9:1"
		w := httptest.NewRecorder()
		fx.c.ServeMonitoring(w, r)
		if w.Code == http.StatusFound {
			loc := w.Header().Get("Location")
			if !strings.HasPrefix(loc, "https://shop.example.com/") {
				t.Fatalf("open redirect to %q from %q", loc, target)
			}
		}
		for _, ev := range fx.log.all() {
			if err := ev.Validate(); err != nil {
				t.Fatalf("stored an invalid event: %v", err)
			}
		}
	})
}

// BenchmarkImpression measures the collector's whole request path for a
// realistic impression (parse, pseudonymise three ids, geo, UA, opt-out,
// encode-free in-memory append): everything but the durable log. /ivt adds
// the general invalid-traffic rules (allowed 10 % of the path).
func BenchmarkImpression(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchImpression(b, false) })
	b.Run("ivt", func(b *testing.B) { benchImpression(b, true) })
}

func benchImpression(b *testing.B, withIVT bool) {
	f := newFixture(b, func(c *collect.Config) { c.DedupMax = 0 }) // ids repeat every 4096 requests
	if withIVT {
		d, err := ivt.New(ivt.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		if err := d.SetDataCentres([]netip.Prefix{netip.MustParsePrefix("47.92.0.0/14"), netip.MustParsePrefix("52.80.0.0/16")}); err != nil {
			b.Fatal(err)
		}
		f.c.SetDetector(d)
	}
	f.log.discard = true
	target := f.prefix + "&mo=0&ns=202.96.128.86&m2=8d3ebd3654fb46a2832296669cf1b536&m1a=__ANDROIDID__&m11=1fe9a970-0f6e-4a5b-b1e7-6c0b1a2b3c4d" +
		"&m11a=__OAID1__&m5=__IDFA__&m6a=__MAC__&m4=__AAID__&tr=1617055429226q172a&mt=1795852800&vf=9a8b7c6d5e4f&mn=%E6%96%B0%E9%97%BB&mp=com.example.news&md=Redmi+Note+8&me=11&mw=1"
	ua := "Mozilla/5.0 (Linux; Android 11; Redmi Note 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
	// Distinct impression ids, so that every request takes the logging path
	// rather than the duplicate one.
	reqs := make([]*http.Request, 4096)
	for i := range reqs {
		r := httptest.NewRequest("GET", "http://t.example.com/", nil)
		r.RequestURI = strings.Replace(target, "vf=9a8b7c6d5e4f", fmt.Sprintf("vf=%016x", i), 1)
		r.RemoteAddr = "203.0.113.9:5555"
		r.Header.Set("User-Agent", ua)
		reqs[i] = r
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		f.c.ServeMonitoring(w, reqs[i%len(reqs)])
		i++
	}
}

func TestImpressionRetriesAreLoggedOnce(t *testing.T) {
	f := newFixture(t, nil)
	imp := f.prefix + "&m11=abcdef0123456789&vf=v-1"
	steps := []struct {
		name, target string
		failLog      bool
		wantStored   bool
		wantReject   string
	}{
		{"first impression", imp, false, true, ""},
		{"SDK retry", imp, false, false, "duplicate"},
		{"not rendered is its own kind", imp + "&br=0", false, true, ""},
		{"a click keeps the impression's vf and is counted", "/r/k=12345678&p=pA1b2C&vf=v-1", false, true, ""},
		{"a second click on the same ad is counted too", "/r/k=12345678&p=pA1b2C&vf=v-1", false, true, ""},
		{"a new impression whose log append fails", f.prefix + "&vf=v-2", true, false, "log_unavailable"},
		{"its retry is logged, not taken for a duplicate", f.prefix + "&vf=v-2", false, true, ""},
	}
	for _, s := range steps {
		if s.failLog {
			f.log.err = errors.New("full")
		}
		before := len(f.log.all())
		w := f.get(s.target)
		f.log.err = nil
		if got := len(f.log.all()) - before; (got == 1) != s.wantStored {
			t.Errorf("%s: stored %d, want stored=%v", s.name, got, s.wantStored)
		}
		if got := w.Header().Get("X-Admeter-Rejected"); got != s.wantReject {
			t.Errorf("%s: rejected %q, want %q", s.name, got, s.wantReject)
		}
	}
}
