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
