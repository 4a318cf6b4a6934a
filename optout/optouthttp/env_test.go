package optouthttp_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/pseudo"
)

// env is one handler on a real registry in a temporary directory.
type env struct {
	t    *testing.T
	h    *optouthttp.Handler
	reg  *optout.Registry
	ps   *pseudo.Pseudonymizer
	mux  *http.ServeMux
	prom *prometheus.Registry
	logs *syncBuffer

	mu  sync.Mutex
	now time.Time
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testKey() pseudo.Key {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i*7 + 3)
	}
	return pseudo.Key{Version: 1, Secret: secret}
}

// newEnv returns a handler with a pinned clock, the rate limit off unless
// configure turns it on, and debug logging into a buffer.
func newEnv(t *testing.T, configure func(*optouthttp.Config)) *env {
	t.Helper()
	e := &env{t: t, now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), logs: &syncBuffer{}}
	reg, err := optout.Open(filepath.Join(t.TempDir(), "optout", "registry"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil && !errors.Is(err, optout.ErrClosed) {
			t.Error(err)
		}
	})
	ps, err := pseudo.New(testKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg := optouthttp.DefaultConfig()
	cfg.RatePerMinute = -1
	cfg.Now = e.clock
	if configure != nil {
		configure(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.prom = prometheus.NewRegistry()
	h, err := optouthttp.New(cfg, reg, ps, logger, e.prom)
	if err != nil {
		t.Fatal(err)
	}
	e.h, e.reg, e.ps = h, reg, ps
	e.mux = http.NewServeMux()
	h.Register(e.mux)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// do serves req and returns the recorded response.
func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

// postForm posts the page form as a browser does from the page itself
// (Sec-Fetch-Site: same-origin). header lists more header names and values;
// an empty value deletes the header.
func (e *env) postForm(form url.Values, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/optout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return e.do(req)
}

// postJSON posts body to path as JSON.
func (e *env) postJSON(path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// counter returns the value of admeter_optout_requests_total for the labels.
func (e *env) counter(channel, kind, result string) float64 {
	e.t.Helper()
	mfs, err := e.prom.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "admeter_optout_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["channel"] == channel && got["kind"] == kind && got["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	e.t.Fatalf("no series admeter_optout_requests_total{channel=%q,kind=%q,result=%q}", channel, kind, result)
	return 0
}

// noLeak fails if any of secrets appears, in any case, in the response's
// body or headers (also URL-decoded) or in the log.
func (e *env) noLeak(rec *httptest.ResponseRecorder, secrets ...string) {
	e.t.Helper()
	var all strings.Builder
	all.WriteString(rec.Body.String())
	for k, vs := range rec.Header() {
		all.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	all.WriteString(e.logs.String())
	hay := strings.ToLower(all.String())
	if u, err := url.QueryUnescape(hay); err == nil {
		hay += u
	}
	for _, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if strings.Contains(hay, strings.ToLower(strings.TrimSpace(s))) {
			e.t.Errorf("the identifier %q appears in the response or the log", s)
		}
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// collectorPseudonym is the pseudonym the collector computes for value of
// type typ in form f.
func collectorPseudonym(t *testing.T, ps *pseudo.Pseudonymizer, typ admeter.IDType, f pseudo.Form, value string) admeter.Pseudonym {
	t.Helper()
	c, r := pseudo.Canonicalize(typ, f, value)
	if r != pseudo.ReasonOK {
		t.Fatalf("Canonicalize(%s, %s) = %s", typ, f, r)
	}
	return ps.Pseudonym(typ, c)
}

// responseCookies parses the Set-Cookie headers of rec.
func responseCookies(rec *httptest.ResponseRecorder) []*http.Cookie {
	return (&http.Response{Header: rec.Header()}).Cookies()
}
