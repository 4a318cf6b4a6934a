package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/keystore"
	"github.com/admeter/admeter/pseudo"
)

// testMasterKey is a fixed master key so tests can open the key store and
// compute the pseudonyms the server made.
const testMasterKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// noRedirect is an HTTP client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// MustRunMain starts the real wiring in-process on a free port with a fresh
// data directory and returns it with its base URL.
func MustRunMain(tb testing.TB, mod func(*ServeConfig)) (*Main, string) {
	tb.Helper()
	cfg := DefaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	if mod != nil {
		mod(&cfg)
	}
	m := NewMain(cfg, nil)
	if err := m.Open(context.Background()); err != nil {
		_ = m.Close()
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = m.Close() }) // Close is idempotent; tests may close first
	return m, "http://" + m.Addr()
}

// apiCall sends a JSON request and decodes the JSON answer into out (if not
// nil); it returns the status.
func apiCall(tb testing.TB, method, url, token string, body any, out any) int {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// testCampaign is what the campaign API returns, as far as tests need it.
type testCampaign struct {
	ID         string `json:"id"`
	Placements []struct {
		ID            string `json:"id"`
		ImpressionURL string `json:"impression_url"`
		ClickURL      string `json:"click_url"`
	} `json:"placements"`
}

// setupCampaign creates a tenant and a campaign with the given number of
// placements and returns the tenant token and the campaign.
func setupCampaign(tb testing.TB, base, dataDir string, placements int) (string, testCampaign) {
	tb.Helper()
	op, err := os.ReadFile(filepath.Join(dataDir, "operator.token"))
	if err != nil {
		tb.Fatal(err)
	}
	var tenant struct{ Token string }
	if st := apiCall(tb, "POST", base+"/api/v1/tenants", strings.TrimSpace(string(op)),
		map[string]string{"name": "测试品牌", "kind": "advertiser"}, &tenant); st != 201 {
		tb.Fatalf("create tenant: status %d", st)
	}
	ps := []map[string]string{}
	for i := range placements {
		ps = append(ps, map[string]string{"name": "位置" + string(rune('A'+i)), "media": "媒体"})
	}
	var c testCampaign
	if st := apiCall(tb, "POST", base+"/api/v1/campaigns", tenant.Token, map[string]any{
		"name": "测试活动", "landing_url": "https://shop.example.com/sale",
		"allowed_hosts": []string{"m.shop.example.com"}, "placements": ps,
	}, &c); st != 201 {
		tb.Fatalf("create campaign: status %d", st)
	}
	return tenant.Token, c
}

// readLog returns every event in the data directory's log. The server must be
// stopped.
func readLog(tb testing.TB, dataDir string) []admeter.Event {
	tb.Helper()
	l, err := eventlog.Open(filepath.Join(dataDir, "events"), eventlog.DefaultOptions(), nil, nil)
	if err != nil {
		tb.Fatalf("open log: %v", err)
	}
	defer l.Close()
	r, err := l.NewReader(l.FirstOffset())
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out []admeter.Event
	for {
		rec, _, err := r.TryNext()
		if err != nil {
			break
		}
		var ev admeter.Event
		if err := ev.UnmarshalBinary(rec); err != nil {
			tb.Fatalf("decode logged event: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

// testPseudonymizer opens the key store of a stopped server's data directory
// (made with testMasterKey) so tests can compute the pseudonyms it made.
func testPseudonymizer(tb testing.TB, dataDir string) *pseudo.Pseudonymizer {
	tb.Helper()
	master, _, err := keystore.LoadMasterKey(keystore.MasterKeyConfig{Value: testMasterKey, DataDir: dataDir}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(dataDir, "keys.json"), master, nil)
	if err != nil {
		tb.Fatal(err)
	}
	v, s := ks.Current()
	ps, err := pseudo.New(pseudo.Key{Version: v, Secret: s})
	if err != nil {
		tb.Fatal(err)
	}
	return ps
}

// get sends a GET with optional headers and returns the response with its
// body read.
func get(tb testing.TB, url string, hdr map[string]string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// fill replaces the media macros of a monitoring URL with values, as a media
// platform would, and blanks the rest.
func fill(u string, vals map[string]string) string {
	for k, v := range vals {
		u = strings.ReplaceAll(u, k, v)
	}
	return u
}

// midday returns 12:00 yesterday in Asia/Shanghai. Events sent a few minutes
// before it and reported on its day fall on one local day whenever the test
// runs; "a few minutes before now", reported on today, falls on yesterday in
// the first minutes after midnight in Shanghai (16:00 UTC).
func midday() time.Time {
	y, m, d := time.Now().In(shanghai()).AddDate(0, 0, -1).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, shanghai())
}
