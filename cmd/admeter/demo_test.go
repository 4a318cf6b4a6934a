package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoMode starts the server with --demo and reads the demo campaign's
// report with the demo token: it must measure something within seconds, and a
// restart must keep the same demo campaign.
func TestDemoMode(t *testing.T) {
	m, base := MustRunMain(t, func(c *ServeConfig) { c.Demo = true; c.Fsync = "interval" })
	b, err := os.ReadFile(filepath.Join(m.Config.DataDir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st demoState
	if err := json.Unmarshal(b, &st); err != nil || st.Campaign == "" {
		t.Fatalf("demo.json: %s %v", b, err)
	}
	tok, err := os.ReadFile(filepath.Join(m.Config.DataDir, "demo.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(m.Config.DataDir, "demo.token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("demo.token mode %v, want 0600", fi.Mode().Perm())
	}
	today := time.Now().In(shanghai())
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, st.Campaign,
		today.AddDate(0, 0, -demoBackfillDays).Format(time.DateOnly), today.Format(time.DateOnly))
	var rep struct {
		Total struct {
			Impressions, UV int64
			Measurable      int64 `json:"measurable_impressions"`
			VideoStarts     int64 `json:"video_starts"`
			Conversions     int64 `json:"conversions"`
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for (rep.Total.Impressions < 1000 || rep.Total.Conversions == 0) && time.Now().Before(deadline) {
		apiCall(t, "GET", u, strings.TrimSpace(string(tok)), nil, &rep)
		time.Sleep(200 * time.Millisecond)
	}
	if rep.Total.Impressions < 1000 || rep.Total.UV == 0 {
		t.Fatalf("demo report after 30 s: %+v; want the backfilled days measured", rep.Total)
	}
	// The demo fills the post-link columns too.
	if rep.Total.Measurable == 0 || rep.Total.VideoStarts == 0 || rep.Total.Conversions == 0 {
		t.Fatalf("demo report after 30 s: %+v; want viewability, video and conversions measured", rep.Total)
	}
	// The demo fills social insight too: settings, a month of feeds, and
	// its campaign's delivery to align them with (the upload waits for the
	// dictionary, which takes long under the race detector).
	socialURL := fmt.Sprintf("%s/api/v1/social/report?campaign=%s&from=%s&to=%s", base, st.Campaign,
		today.AddDate(0, 0, 1-demoSocialDays).Format(time.DateOnly), today.Format(time.DateOnly))
	var soc struct {
		Rules []struct {
			Rule   string
			Counts *struct{ Mentions int64 }
		}
		Official  []struct{ Account string } `json:"official_posts"`
		Alignment *struct {
			DeliveryFrom string `json:"delivery_from"`
		}
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		apiCall(t, "GET", socialURL, strings.TrimSpace(string(tok)), nil, &soc)
		if len(soc.Rules) == 3 && soc.Rules[0].Counts != nil && soc.Rules[0].Counts.Mentions > 1000 &&
			soc.Alignment != nil && soc.Alignment.DeliveryFrom != "" { // the daily rollups have the delivery
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo social report after 3 minutes: %+v; want the demo brand's month of mentions", soc)
		}
	}
	if soc.Rules[0].Rule != "演示品牌" || len(soc.Official) < demoSocialDays-1 || soc.Official[0].Account != "演示品牌官方微博" ||
		soc.Alignment == nil || soc.Alignment.DeliveryFrom == "" {
		t.Errorf("demo social report: rules %+v, %d official posts, alignment %+v", soc.Rules, len(soc.Official), soc.Alignment)
	}

	// The demo user signs in to the console and sees the campaign.
	pw, err := os.ReadFile(filepath.Join(m.Config.DataDir, demoPasswordFileName))
	if err != nil {
		t.Fatal(err)
	}
	if sess, st := signIn(t, base, demoEmail, strings.TrimSpace(string(pw))); st != 200 || sess.cookie == nil {
		t.Fatalf("demo user sign-in: %d", st)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := NewMain(m.Config, nil)
	m2.Config.Addr = "127.0.0.1:0"
	if err := m2.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	b2, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "demo.json"))
	if string(b2) != string(b) {
		t.Fatalf("restart changed the demo campaign: %s -> %s", b, b2)
	}
}

// TestDemoBanner checks that the banner points at every report, in both
// languages.
func TestDemoBanner(t *testing.T) {
	var b strings.Builder
	printDemoBanner(&b, "http://127.0.0.1:8080", "http://127.0.0.1:8081", "/data", &demoState{Campaign: "c_demo"})
	for _, want := range []string{
		"admeter report --server http://127.0.0.1:8080 --token-file /data/demo.token --campaign c_demo",
		"admeter social report --server http://127.0.0.1:8080 --token-file /data/demo.token --campaign c_demo --from ",
		"/api/v1/social/report?campaign=c_demo&from=",
		"Social insight", "社会化洞察", "/audience?", "%!",
		"http://127.0.0.1:8081/x/… and http://127.0.0.1:8081/r/…",
	} {
		if got := strings.Contains(b.String(), want); got != (want != "%!") {
			t.Errorf("banner contains %q: %v\n%s", want, got, b.String())
		}
	}
}
