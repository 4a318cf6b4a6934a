package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/simulate"
)

// testCampaign returns a campaign with three placements and the monitoring
// URL templates the real campaign API hands out.
func testCampaign() simulate.Campaign {
	cp := simulate.Campaign{ID: "4821330", Timezone: "Asia/Shanghai", LandingURL: "https://shop.example.com/sale"}
	for i, m := range []string{"今日头条", "腾讯视频", "新浪新闻"} {
		p := admeter.PlacementID(fmt.Sprintf("pl%03d", i))
		cp.Placements = append(cp.Placements, simulate.Placement{
			ID: string(p), Media: m,
			ImpressionURL: api.ImpressionURL("http://127.0.0.1:8080", "4821330", p),
			ClickURL:      api.ClickURL("http://127.0.0.1:8080", "4821330", p, cp.LandingURL),
		})
	}
	return cp
}

// parseRequest splits a pooled request into target and User-Agent, checking
// that it is a well-formed HTTP/1.1 GET for host.
func parseRequest(t *testing.T, req []byte, host string) (target, ua string) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req)))
	if err != nil {
		t.Fatalf("ReadRequest(%q): %v", req, err)
	}
	if r.Method != "GET" || r.Host != host || r.ProtoMinor != 1 {
		t.Fatalf("request %q: method %s host %s proto %s", req, r.Method, r.Host, r.Proto)
	}
	return r.RequestURI, r.UserAgent()
}

// TestPoolIsSimulatorTraffic checks the pool with the collector's own
// parser: exactly the requested number of GET monitoring URLs for the
// campaign's placements, impressions and clicks, each carrying the campaign
// and a placement.
func TestPoolIsSimulatorTraffic(t *testing.T) {
	cp := testCampaign()
	const n, host = 5000, "127.0.0.1:9"
	cfg := trafficConfig(cp, n, 0, 7, time.Unix(1_760_000_000, 0))
	p, err := buildPool(cfg, n, host)
	if err != nil {
		t.Fatal(err)
	}
	if p.len() != n || p.skipped != 0 {
		t.Fatalf("pool of %d requests, %d batch left out; want %d and 0", p.len(), p.skipped, n)
	}
	places := map[string]int{}
	var clicks, sdk int
	for i := range p.len() {
		target, ua := parseRequest(t, p.request(i), host)
		if tg, u := p.fields(i); tg != target || u != ua {
			t.Fatalf("fields(%d) = %q, %q; want %q, %q", i, tg, u, target, ua)
		}
		ep, q, err := macro.ParseTarget(target)
		if err != nil || (ep != macro.EndpointImpression && ep != macro.EndpointClick) {
			t.Fatalf("ParseTarget(%q) = %v, %v", target, ep, err)
		}
		if q.K != cp.ID || ua == "" {
			t.Fatalf("request %q (User-Agent %q): wrong campaign or no User-Agent", target, ua)
		}
		places[q.P]++
		if ep == macro.EndpointClick {
			clicks++
		}
		if q.Signed {
			sdk++
		}
	}
	if len(places) != 3 {
		t.Errorf("requests for placements %v, want all three", places)
	}
	if clicks == 0 || clicks > n/20 {
		t.Errorf("%d clicks in %d requests, want about 1%%", clicks, n)
	}
	if clicks != p.clicks {
		t.Errorf("pool counted %d clicks, parsed %d", p.clicks, clicks)
	}
	if sdk == 0 {
		t.Errorf("no request from the MMA SDK profile (signed)")
	}
	if !bytes.Equal(p.request(n+1), p.request(1)) {
		t.Errorf("request(n+1) does not wrap to request(1)")
	}

	// The same seed and time give the same pool.
	q, err := buildPool(cfg, n, host)
	if err != nil || !bytes.Equal(p.buf, q.buf) {
		t.Errorf("second pool with the same config differs (err %v)", err)
	}
}

func TestReadCampaign(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "campaign.json")
	b, err := json.Marshal(testCampaign())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		ok   bool
	}{
		{good, true},
		{bad, false},
		{filepath.Join(dir, "missing.json"), false},
	}
	for _, tt := range tests {
		cp, err := readCampaign(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("readCampaign(%s) error %v, want ok=%v", filepath.Base(tt.path), err, tt.ok)
		}
		if tt.ok && (cp.ID != "4821330" || len(cp.Placements) != 3 || cp.Placements[1].ClickURL == "") {
			t.Errorf("readCampaign(%s) = %+v", filepath.Base(tt.path), cp)
		}
	}
}

// TestRunDumpsURLs runs the command end to end without a server: it
// generates the pool from a campaign file and writes it out.
func TestRunDumpsURLs(t *testing.T) {
	dir := t.TempDir()
	cpFile, urls := filepath.Join(dir, "campaign.json"), filepath.Join(dir, "urls.txt")
	b, _ := json.Marshal(testCampaign())
	if err := os.WriteFile(cpFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"--target", "http://127.0.0.1:9", "--campaign", cpFile,
		"--rate", "0", "--requests", "1000", "--dump-urls", urls}, &out)
	if err != nil {
		t.Fatalf("run: %v (%s)", err, out.String())
	}
	data, err := os.ReadFile(urls)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 1000 {
		t.Fatalf("%d lines, want 1000", len(lines))
	}
	for _, l := range lines {
		target, ua, ok := strings.Cut(l, "\t")
		if !ok || ua == "" || !(strings.HasPrefix(target, "/x/k=4821330&") || strings.HasPrefix(target, "/r/k=4821330&")) {
			t.Fatalf("line %q", l)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := [][]string{
		{"--target", "http://10.0.0.1:80", "--campaign", "x"},
		{"--target", "http://127.0.0.1:80"},
		{"--target", "http://127.0.0.1:80", "--campaign", "x", "--rate", "0"},
		{"--target", "http://127.0.0.1:80", "--campaign", "x", "--rate", "-1"},
		{"--target", "http://127.0.0.1:80", "--campaign", "x", "--conns", "0"},
		{"--target", "http://127.0.0.1:80", "--campaign", "x", "--rate", "1e6", "--duration", "1h"},
	}
	for _, args := range tests {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		stat string
		want int64
		ok   bool
	}{
		{"123 (admeter) S 1 123 123 0 -1 4194560 2000 0 0 0 150 37 0 0 20 0 9 0 100 0 0", 187, true},
		{"9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 7 3 0 0", 10, true},
		{"9 (x) R 1 2 3", 0, false},
		{"9 x R 1", 0, false},
		{"9 (x) R 1 9 9 0 -1 0 0 0 0 0 u 3 0 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatTicks(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatTicks(%q) = %d, %v; want %d, ok=%v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
	if _, err := procTicks(os.Getpid()); err != nil && runtime.GOOS == "linux" {
		t.Errorf("procTicks(self): %v", err)
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

// testPool returns a pool of n requests for host.
func testPool(t *testing.T, n int, host string) *pool {
	t.Helper()
	p, err := buildPool(trafficConfig(testCampaign(), n, 0, 1, time.Now()), n, host)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadCountsAnswers runs a short open-loop schedule against a real
// server that fails every fifth request.
func TestLoadCountsAnswers(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.RequestURI, "/x/k=4821330&p=") && !strings.HasPrefix(r.RequestURI, "/r/k=4821330&p=") {
			t.Errorf("request URI %q", r.RequestURI)
		}
		if n.Add(1)%5 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("GIF89a"))
	}))
	defer srv.Close()

	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := config{
		host: host, rate: 400, duration: 500 * time.Millisecond, warmup: 100 * time.Millisecond,
		conns: 4, timeout: 2 * time.Second, serverPID: os.Getpid(),
	}
	r := load(context.Background(), cfg, testPool(t, 300, host))
	total := r.ok + r.non2xx + r.errors + r.unsent
	if total != 200 || r.errors != 0 || r.unsent != 0 || r.repeated != 0 {
		t.Fatalf("load: ok %d non2xx %d errors %d unsent %d repeated %d (first problem %v); want 200 measured, no errors",
			r.ok, r.non2xx, r.errors, r.unsent, r.repeated, r.firstErr)
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
	if runtime.GOOS == "linux" && r.serverTicks < 0 {
		t.Errorf("serverTicks = %d, want measured", r.serverTicks)
	}
}

// TestClosedLoop sends as fast as a real server answers, from a pool too
// small for the run, and checks the repeats are counted.
func TestClosedLoop(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if strings.HasPrefix(r.RequestURI, "/r/") {
			http.Redirect(w, r, "https://shop.example.com/sale", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("GIF89a"))
	}))
	defer srv.Close()

	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := config{host: host, duration: 300 * time.Millisecond, warmup: 50 * time.Millisecond, conns: 4, timeout: 2 * time.Second}
	const size = 200
	r := load(context.Background(), cfg, testPool(t, size, host))
	if r.ok == 0 || r.non2xx != 0 || r.errors != 0 || r.unsent != 0 {
		t.Fatalf("load: ok %d non2xx %d errors %d unsent %d (first problem %v)", r.ok, r.non2xx, r.errors, r.unsent, r.firstErr)
	}
	if sent := int(n.Load()); sent <= size || r.repeated != sent-size {
		t.Errorf("server saw %d requests from a pool of %d, repeated = %d", sent, size, r.repeated)
	}
	if r.ok > int(n.Load()) || r.serverTicks != -1 {
		t.Errorf("ok %d of %d sent, serverTicks %d", r.ok, n.Load(), r.serverTicks)
	}
	var out bytes.Buffer
	r.print(&out, cfg)
	if !strings.Contains(out.String(), "RESULT rate=0 ") || !strings.Contains(out.String(), " server_ticks=-\n") ||
		!strings.Contains(out.String(), "WARNING: the pool ran out") {
		t.Errorf("print:\n%s", out.String())
	}
}
