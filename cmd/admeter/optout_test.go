package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
)

// TestOptOutEndToEnd opts devices out through the public page and API, by
// every channel (browser cookie, each id type raw and as MD5, GPC), and then
// sends traffic that must not be logged or counted, next to control traffic
// that must.
func TestOptOutEndToEnd(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 1)
	p := c.Placements[0].ID
	now := time.Now().Unix()

	const (
		idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
		oaid = "1fe5c2ab8d5e4c7d9a3b2c1d0e9f8a7b6c5d4e3f"
		imei = "868049039501257"
		aid  = "a1b2c3d4e5f60718"
	)
	batch := func(events ...map[string]any) {
		t.Helper()
		for _, e := range events {
			e["campaign"], e["placement"], e["ts"] = c.ID, p, now
		}
		var res struct{ Accepted int }
		if st := apiCall(t, "POST", base+"/v1/events", "", events, &res); st != 200 || res.Accepted != len(events) {
			t.Fatalf("batch: status %d accepted %d", st, res.Accepted)
		}
	}
	optout := func(idType, id string) {
		t.Helper()
		var res struct {
			OptedOut bool `json:"opted_out"`
		}
		if st := apiCall(t, "POST", base+"/api/v1/optout", "", map[string]string{"id_type": idType, "id": id}, &res); st != 200 || !res.OptedOut {
			t.Fatalf("opt out %s: status %d %+v", idType, st, res)
		}
	}

	// Each id type is opted out in one form and then arrives in the other.
	optout("idfa", idfa)
	optout("oaid", md5hex(oaid))
	optout("imei", imei)
	optout("android_id", md5hex(aid))
	batch(
		map[string]any{"idfa_md5": md5hex(idfa)},
		map[string]any{"oaid": oaid},
		map[string]any{"imei_md5": md5hex(imei)},
		map[string]any{"android_id": aid},
		map[string]any{"oaid": "control0000000001"}, // counted
	)
	// The same devices through the pixel, with a second identifier that is
	// not opted out: the device is still dropped.
	for _, q := range []string{"m5=" + idfa, "m11=" + oaid, "m3=" + imei, "m1=" + aid + "&m11=control0000000002"} {
		if resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&%s", base, c.ID, p, q), nil); resp.StatusCode != 200 {
			t.Fatalf("pixel %s: %d", q, resp.StatusCode)
		}
	}

	// A browser opts out on the page (no JavaScript: a form POST) and keeps
	// its cookie; a browser with GPC sends no cookie at all.
	form := url.Values{"action": {"browser"}}
	req, _ := http.NewRequest("POST", base+"/optout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var optCookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "admeter_optout" && ck.MaxAge > 0 {
			optCookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || optCookie == nil {
		t.Fatalf("opt-out button: status %d cookies %v", resp.StatusCode, resp.Cookies())
	}
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	pixel := fmt.Sprintf("%s/x/k=%s&p=%s", base, c.ID, p)
	for _, hdr := range []map[string]string{
		{"User-Agent": chrome, "Cookie": optCookie.Name + "=" + optCookie.Value},
		{"User-Agent": chrome, "Sec-GPC": "1"},
	} {
		resp, _ := get(t, pixel, hdr)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("opted-out browser: %d %s; want the GIF", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, ck := range resp.Cookies() {
			if ck.Name != "admeter_optout" { // the opt-out itself is renewed; nothing else is set
				t.Fatalf("opted-out browser got cookie %s", ck.Name)
			}
		}
	}
	if resp, _ := get(t, pixel, map[string]string{"User-Agent": chrome}); resp.StatusCode != 200 { // control browser: counted
		t.Fatal(resp.Status)
	}

	// Status answers for ids and for this browser.
	var st struct {
		OptedOut bool `json:"opted_out"`
	}
	if apiCall(t, "GET", base+"/api/v1/optout/status?id_type=imei&id="+md5hex(imei), "", nil, &st); !st.OptedOut {
		t.Fatal("status of an opted-out IMEI (as MD5) says not opted out")
	}
	if apiCall(t, "GET", base+"/api/v1/optout/status?id_type=oaid&id=control0000000001", "", nil, &st); st.OptedOut {
		t.Fatal("status of a control OAID says opted out")
	}

	// Only the two control events are counted.
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, c.ID, day, day)
	var rep struct {
		Total struct {
			Impressions int64 `json:"impressions"`
			UV          int64 `json:"uv"`
		} `json:"total"`
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		apiCall(t, "GET", u, tok, nil, &rep)
		if rep.Total.Impressions >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything wrongly logged would have loaded by now
	apiCall(t, "GET", u, tok, nil, &rep)
	if rep.Total.Impressions != 2 || rep.Total.UV != 2 {
		t.Fatalf("report counts %+v; want only the 2 control impressions from 2 users", rep.Total)
	}
	// Five registry entries for four devices: 32 hex digits given as an OAID
	// could be its MD5 or a raw OAID, and both readings are opted out.
	_, metrics := get(t, base+"/metrics", nil)
	for _, want := range []string{`admeter_collect_optout_dropped_total{signal="registry"} 8`, `admeter_collect_optout_dropped_total{signal="cookie"} 1`,
		`admeter_collect_optout_dropped_total{signal="gpc"} 1`, `admeter_optout_registry_entries 5`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(metrics), "optout"))
		}
	}

	// The registry survives a restart.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := NewMain(m.Config, nil)
	m2.Config.Addr = "127.0.0.1:0"
	if err := m2.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if apiCall(t, "GET", "http://"+m2.Addr()+"/api/v1/optout/status?id_type=idfa&id="+idfa, "", nil, &st); !st.OptedOut {
		t.Fatal("the opt-out registry forgot an IDFA after a restart")
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOptOutRepairCommand damages a stored opt-out in the middle of the
// registry: the server refuses to start on it, and "admeter optout repair"
// keeps every intact record.
func TestOptOutRepairCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(data, "optout.reg")
	r, err := optout.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ps []admeter.Pseudonym
	for i := range 5 {
		ps = append(ps, admeter.Pseudonym{byte(i + 1), 0xaa, byte(i)})
	}
	if _, err := r.Add(t.Context(), ps...); err != nil {
		t.Fatal(err)
	}
	r.Close()
	b, _ := os.ReadFile(path)
	b[len(b)-3*20] ^= 0xff // inside the third record of five (20 bytes each)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.MasterKey = "127.0.0.1:0", data, testMasterKey
	m := NewMain(cfg, nil)
	err = m.Open(t.Context())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "admeter optout repair") {
		t.Fatalf("open on a damaged registry: %v; want an error that names the repair command", err)
	}
	var out strings.Builder
	if err := (&OptOutCommand{Out: &out}).Run(t.Context(), []string{"repair", "--data", data}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dropped 1 damaged records") {
		t.Fatalf("repair printed %q", out.String())
	}
	r, err = optout.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Len() != 4 {
		t.Fatalf("%d opt-outs after repair, want 4", r.Len())
	}
}
