package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter/collect"
)

// fakeCollector is a tiny stand-in for the collector that records what it
// receives and issues an id cookie to every request that brings none.
type fakeCollector struct {
	mu       sync.Mutex
	targets  []string
	uas      map[string]int
	issued   int
	returned int
	events   int
	optedOut []string // targets of requests with the opt-out cookie
	// calls are the bodies of the opt-out API calls; limit, when set,
	// answers a call 429 (with Retry-After: 0) while it returns true.
	calls   []string
	limited int
	limit   func() bool
	next    atomic.Int64
	fail    func(r *http.Request) bool
}

func newFakeCollector() *fakeCollector { return &fakeCollector{uas: map[string]int{}} }

func (f *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.fail != nil && f.fail(r) {
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == optOutPath {
		f.serveOptOut(w, r)
		return
	}
	f.mu.Lock()
	f.targets = append(f.targets, r.RequestURI)
	f.uas[r.UserAgent()]++
	if c, err := r.Cookie("admeter_optout"); err == nil && c.Value == "1" {
		f.optedOut = append(f.optedOut, r.RequestURI)
	}
	if _, err := r.Cookie("admeter_uid"); err == nil {
		f.returned++
	} else {
		f.issued++
		http.SetCookie(w, &http.Cookie{Name: "admeter_uid", Value: fmt.Sprint("c", f.next.Add(1)), Path: "/"})
	}
	f.mu.Unlock()
	switch {
	case r.Method == "POST":
		var items []json.RawMessage
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &items); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad batch", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.events += len(items)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":%d,"rejected":[{"index":0,"reason":"test"}]}`, len(items)-1)
	case strings.HasPrefix(r.RequestURI, "/r"):
		f.mu.Lock()
		f.events++
		f.mu.Unlock()
		// Following this would fail: a sender must not follow redirects.
		w.Header().Set("Location", "http://127.0.0.1:1/landing")
		w.WriteHeader(http.StatusFound)
	default:
		f.mu.Lock()
		f.events++
		f.mu.Unlock()
		w.Header().Set("X-Admeter-Rejected", "duplicate")
		w.Write([]byte("GIF89a"))
	}
}

// serveOptOut answers the opt-out API as the server does.
func (f *fakeCollector) serveOptOut(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limit != nil && f.limit() {
		f.limited++
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":{"code":"rate_limited"}}`, http.StatusTooManyRequests)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct{ IDType, ID string }
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &req) != nil || req.ID == "" {
		http.Error(w, "bad opt-out", http.StatusBadRequest)
		return
	}
	f.targets = append(f.targets, r.RequestURI)
	f.calls = append(f.calls, string(body))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"opted_out":true,"id_type":%q,"added":true}`, strings.ToLower(req.IDType))
}

func smallPlan(t *testing.T, devices int) *Plan {
	t.Helper()
	cfg := testConfig(t)
	cfg.Devices = devices
	cfg.Web = 0.3
	cfg.BatchSize = 5
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSender(t *testing.T) {
	p := smallPlan(t, 400)
	fc := newFakeCollector()
	srv := httptest.NewServer(fc)
	defer srv.Close()
	cfg := DefaultSenderConfig()
	cfg.Concurrency = 4
	s, err := NewSender(srv.URL, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != int64(len(p.Requests)) || st.OK != st.Requests || st.Failed+st.Errors != 0 || st.Events != int64(p.Events()) {
		t.Fatalf("%d requests sent, %d OK, %d failed, %d errors, %d events, for %d requests", st.Requests, st.OK, st.Failed, st.Errors, st.Events, len(p.Requests))
	}
	if fc.events != p.Events() {
		t.Errorf("server got %d events, the plan has %d", fc.events, p.Events())
	}
	for i, at := range st.Answered {
		if at == 0 {
			t.Fatalf("request %d has no answer time", i)
		}
	}
	// Every target arrives verbatim.
	var want []string
	batches := 0
	for _, r := range p.Requests {
		want = append(want, r.Target)
		if r.Method == "POST" {
			batches++
		}
	}
	slices.Sort(want)
	slices.Sort(fc.targets)
	if !slices.Equal(want, fc.targets) {
		t.Fatal("the server did not receive the plan's targets verbatim")
	}
	if st.Rejected["batch"] != int64(batches) || st.Rejected["duplicate"] == 0 {
		t.Errorf("rejections %v: want one per batch and the pixels' duplicates", st.Rejected)
	}
	// Cookies: a browser that keeps them gets one on its first request and
	// returns it after; everything else never returns one.
	keepers := map[int32]bool{}
	keeping, collected := 0, 0 // collected: requests to the collector, not the opt-out API
	for _, r := range p.Requests {
		if r.Cookies {
			keepers[r.Device] = true
			keeping++
		}
		if !r.OptOutAPI {
			collected++
		}
	}
	if len(keepers) == 0 {
		t.Fatal("the plan has no browser that keeps cookies")
	}
	if fc.returned != keeping-len(keepers) || fc.issued != collected-fc.returned {
		t.Errorf("cookies returned %d, issued %d; want %d returned by %d browsers", fc.returned, fc.issued, keeping-len(keepers), len(keepers))
	}
	if pr := s.Progress(); pr.Requests != st.Requests || pr.OK != st.OK {
		t.Errorf("progress %+v, stats %d requests %d OK", pr, st.Requests, st.OK)
	}

	// A second plan continues the same browsers: they return their cookies
	// from the start.
	before := fc.returned
	if _, err := s.Send(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if fc.returned-before != keeping {
		t.Errorf("second send: %d cookies returned, want %d", fc.returned-before, keeping)
	}
}

func TestSenderRate(t *testing.T) {
	p := smallPlan(t, 60)
	p.Requests = p.Requests[:100]
	events := 0
	for _, r := range p.Requests {
		events += r.Events
	}
	srv := httptest.NewServer(newFakeCollector())
	defer srv.Close()
	cfg := DefaultSenderConfig()
	cfg.Rate = 1000
	s, err := NewSender(srv.URL, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if min := time.Duration(float64(events-p.Requests[len(p.Requests)-1].Events) / cfg.Rate * float64(time.Second)); st.Elapsed < min*9/10 {
		t.Errorf("%d events at %v/s took %v, want at least %v", events, cfg.Rate, st.Elapsed, min)
	}
}

// TestSenderStops checks that a cancelled send stops starting requests, and
// that failed and unsent requests are left out of the truth.
func TestSenderStops(t *testing.T) {
	p := smallPlan(t, 400)
	fc := newFakeCollector()
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc.fail = func(r *http.Request) bool {
		if n.Add(1) == 300 {
			cancel()
		}
		return r.Method == "POST"
	}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	s, err := NewSender(srv.URL, DefaultSenderConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(ctx, p)
	if err == nil {
		t.Fatal("a cancelled send reported no error")
	}
	if st.Requests >= int64(len(p.Requests)) || st.Failed == 0 {
		t.Fatalf("%d requests sent, %d failed, of %d: want fewer sent and some failed", st.Requests, st.Failed, len(p.Requests))
	}
	var tl Tally
	if err := tl.Add(p, st.Answered); err != nil {
		t.Fatal(err)
	}
	tr := tl.Truth()
	if tr.Traffic.Requests != st.OK {
		t.Errorf("truth counts %d requests, %d were answered", tr.Traffic.Requests, st.OK)
	}
	if tr.Traffic.Batched != 0 {
		t.Errorf("every batch failed, yet the truth counts %d batched events", tr.Traffic.Batched)
	}
}

// TestSenderPixelTarget sends a plan's monitoring URLs to one server and
// its batches and opt-out calls to another, as to admeter's pixel listener
// and its main address.
func TestSenderPixelTarget(t *testing.T) {
	p := smallPlan(t, 200)
	mainSrv, pixelSrv := newFakeCollector(), newFakeCollector()
	ms, ps := httptest.NewServer(mainSrv), httptest.NewServer(pixelSrv)
	defer ms.Close()
	defer ps.Close()
	cfg := DefaultSenderConfig()
	cfg.PixelTarget = ps.URL
	s, err := NewSender(ms.URL, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if st.OK != int64(len(p.Requests)) {
		t.Fatalf("%d of %d requests OK", st.OK, len(p.Requests))
	}
	pixels, others := 0, 0
	for _, r := range p.Requests {
		if r.Method == "GET" {
			pixels++
		} else {
			others++
		}
	}
	if pixels == 0 || others == 0 {
		t.Fatalf("the plan has %d monitoring URLs and %d other requests: want both", pixels, others)
	}
	for _, tg := range pixelSrv.targets {
		if !isMonitoringTarget(tg) {
			t.Errorf("the pixel target got %s", tg)
		}
	}
	for _, tg := range mainSrv.targets {
		if isMonitoringTarget(tg) {
			t.Errorf("the main target got %s", tg)
		}
	}
	if len(pixelSrv.targets) != pixels || len(mainSrv.targets) != others {
		t.Errorf("pixel target got %d requests, main %d; want %d and %d", len(pixelSrv.targets), len(mainSrv.targets), pixels, others)
	}
}

// FuzzIsMonitoringTarget holds the sender's routing to the collector's own:
// a target is a monitoring URL when its path is one by
// collect.IsMonitoringPath.
func FuzzIsMonitoringTarget(f *testing.F) {
	for _, s := range []string{"/x/k=1&p=a", "/x?k=1", "/r", "/x.gif?k=1", "/v1/events", "/xy", "/", "", "/r?", "/x/?a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		path, _, _ := strings.Cut(target, "?")
		if got, want := isMonitoringTarget(target), collect.IsMonitoringPath(path); got != want {
			t.Errorf("isMonitoringTarget(%q) = %v, the collector routes its path %q as %v", target, got, path, want)
		}
	})
}

func TestIsMonitoringTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"/x/k=1&p=a": true, "/x?k=1": true, "/r/k=1&o=https://a.example.com/": true, "/x": true, "/x.gif?k=1": true,
		"/v1/events": false, "/api/v1/optout": false, "/xy": false, "/": false, "": false, "x/k=1": false, "/rx?k=1": false,
	} {
		if got := isMonitoringTarget(target); got != want {
			t.Errorf("isMonitoringTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

func TestNewSenderRejects(t *testing.T) {
	for _, target := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := NewSender(target, DefaultSenderConfig(), nil); err == nil {
			t.Errorf("NewSender(%q) accepted", target)
		}
	}
	cfg := DefaultSenderConfig()
	cfg.Rate = -1
	if _, err := NewSender("http://127.0.0.1:1", cfg, nil); err == nil {
		t.Error("a negative rate was accepted")
	}
	cfg = DefaultSenderConfig()
	cfg.PixelTarget = "127.0.0.1:8081"
	if _, err := NewSender("http://127.0.0.1:1", cfg, nil); err == nil {
		t.Error("a pixel target without a scheme was accepted")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 20, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"2", 2 * time.Second},
		{" 3 ", 3 * time.Second},
		{"", time.Second},            // says nothing: one second
		{"soon", time.Second},        // not a wait
		{"0", 10 * time.Millisecond}, // at least a little
		{"-5", 10 * time.Millisecond},
		{"86400", maxRetryAfter},
		{now.Add(4 * time.Second).Format(http.TimeFormat), 4 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
