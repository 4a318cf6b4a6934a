package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
)

// TestDeviceMatchesLua pins the device population to what
// bench/collector.lua derives (values printed by LuaJIT under wrk), so that
// wrk and loadgen load the collector with the same devices.
func TestDeviceMatchesLua(t *testing.T) {
	tests := []struct {
		d                     uint32
		oaid, imei, ip, model string
	}{
		{1, "51086638-e426-533f-e675-27ff13d631fa", "", "221.6.137.232", "M2012K11AC"},
		{10, "51250753-c82c-e934-f442-3591ecf9d1c9", "93785718aaf861757c04d1de21d33ae1", "112.96.87.25", "PGEM10"},
		{12345, "97e93263-8504-5c91-dc59-009a750de95f", "", "218.30.192.86", "RMX3370"},
		{100000, "7b6a0193-5057-fbdf-4aa5-c569b31b11cd", "af60feeda71dd0d3bdf07450dc3f904d", "218.30.254.238", "22081212C"},
		{2147483647, "d107e606-9521-2c45-a593-563125f722fb", "", "60.12.199.70", "ELS-AN00"},
	}
	for _, tt := range tests {
		got := deviceOf(tt.d)
		if got.oaid != tt.oaid || got.imeiMD5 != tt.imei || got.ip != tt.ip || got.model != tt.model {
			t.Errorf("deviceOf(%d) = {%s %q %s %s}, want {%s %q %s %s}", tt.d,
				got.oaid, got.imeiMD5, got.ip, got.model, tt.oaid, tt.imei, tt.ip, tt.model)
		}
	}
	if ua := deviceOf(1).ua; ua != "Dalvik/2.1.0 (Linux; U; Android 12; M2012K11AC Build/SKQ1.211006.001)" {
		t.Errorf("deviceOf(1).ua = %q", ua)
	}
}

// TestURLsAreValidMonitoringURLs parses generated URLs with the collector's
// own parser and canonicaliser: every identifier must be accepted, so the
// benchmark measures the full path of a good event, not a rejection.
func TestURLsAreValidMonitoringURLs(t *testing.T) {
	now := time.Unix(1_760_000_000, 0)
	g := newURLGen("1234567", "AbCdE", 1000, 1)
	withIMEI := 0
	for range 500 {
		target, ua := g.next(now)
		ep, p, err := macro.ParseTarget(target)
		if err != nil || ep != macro.EndpointImpression {
			t.Fatalf("ParseTarget(%q) = %v, %v", target, ep, err)
		}
		if p.K != "1234567" || p.P != "AbCdE" || p.MO != "0" || p.BR != "1" || !p.Signed || p.MN != "今日头条" {
			t.Fatalf("ParseTarget(%q) = %#v: wrong fields", target, p)
		}
		if at, ok := macro.ParseTime(p.MT); !ok || !at.Equal(now) {
			t.Fatalf("mt=%q parses as %v, %v; want %v", p.MT, at, ok, now)
		}
		if _, r := pseudo.Canonicalize(admeter.IDOAID, pseudo.FormRaw, p.M11); r != pseudo.ReasonOK {
			t.Fatalf("m11 %q: %v", p.M11, r)
		}
		if p.M2 != "" {
			withIMEI++
			if _, r := pseudo.Canonicalize(admeter.IDIMEI, pseudo.FormMD5, p.M2); r != pseudo.ReasonOK {
				t.Fatalf("m2 %q: %v", p.M2, r)
			}
		}
		if n := strings.Count(target, "&") + 1; n != 26 {
			t.Fatalf("%d parameters in %q, want 26", n, target)
		}
		if !strings.HasPrefix(ua, "Dalvik/2.1.0 (Linux; U; Android ") {
			t.Fatalf("User-Agent %q", ua)
		}
	}
	if withIMEI < 20 || withIMEI > 90 {
		t.Errorf("%d of 500 URLs carry an IMEI md5, want about 50", withIMEI)
	}
}

func TestQuantile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, v := range n {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, .99, 0},
		{"one", ms(7), .5, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), .5, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), .99, 99 * time.Millisecond},
		{"max", ms(hundred...), 1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := quantile(tt.in, tt.q); got != tt.want {
			t.Errorf("%s: quantile(%v) = %v, want %v", tt.name, tt.q, got, tt.want)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:8080", "127.0.0.1:8080", true},
		{"http://[::1]:9", "[::1]:9", true},
		{"http://127.0.0.1", "", false},
		{"http://localhost:8080", "", false},
		{"http://10.0.0.1:8080", "", false},
		{"https://127.0.0.1:8443", "", false},
		{"127.0.0.1:8080", "", false},
	}
	for _, tt := range tests {
		got, err := loopbackHost(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("loopbackHost(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestLoadCountsAnswers runs a short schedule against a real server that
// fails every fifth request.
func TestLoadCountsAnswers(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.RequestURI, "/x/k=1&p=2&") {
			t.Errorf("request URI %q", r.RequestURI)
		}
		if n.Add(1)%5 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("GIF89a"))
	}))
	defer srv.Close()

	cfg := config{
		host: strings.TrimPrefix(srv.URL, "http://"), k: "1", p: "2",
		rate: 400, duration: 500 * time.Millisecond, warmup: 100 * time.Millisecond,
		conns: 4, devices: 100, timeout: 2 * time.Second, seed: 1,
	}
	r := load(context.Background(), cfg)
	total := r.ok + r.non2xx + r.errors + r.unsent
	if total != 200 || r.errors != 0 || r.unsent != 0 {
		t.Fatalf("load: ok %d non2xx %d errors %d unsent %d (first problem %v); want 200 measured, no errors",
			r.ok, r.non2xx, r.errors, r.unsent, r.firstErr)
	}
	if r.non2xx < 30 || r.non2xx > 50 {
		t.Errorf("non2xx = %d, want about 40", r.non2xx)
	}
	if len(r.latencies) != r.ok || quantile(r.latencies, 1) > 2*time.Second {
		t.Errorf("%d latencies for %d ok, max %v", len(r.latencies), r.ok, quantile(r.latencies, 1))
	}
	if got := n.Load(); got != 240 {
		t.Errorf("server saw %d requests, want 240 (40 warm-up + 200)", got)
	}
}
