package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/simulate"
)

// TestSimulateAgainstServer runs "admeter simulate" against the real wiring
// and checks the server's log against the truth the simulator wrote: the
// same impressions, clicks, served pings, unique users and anonymous events
// per placement and day, and the same frequency distribution, once retries
// are counted once the way the store counts them.
func TestSimulateAgainstServer(t *testing.T) {
	simulateAgainstServer(t, nil, []string{"--devices", "600", "--ivt", "0.1", "--batch", "0.2", "--web", "0.25"}, nil)
}

// TestSimulateAppOptOut lets app devices opt out midway through the real
// opt-out API: the server's counts must still equal the truth, which leaves
// their later events out, and its drop counters must match the truth's.
func TestSimulateAppOptOut(t *testing.T) {
	trusted := func(c *ServeConfig) { c.TrustedProxies = "127.0.0.1/32,::1/128" } // one rate-limit bucket per simulated device network
	simulateAgainstServer(t, trusted, []string{"--devices", "3000", "--app-optout", "0.02", "--optout", "0.05", "--web", "0.2", "--batch", "0.3", "--ivt", "0.05"},
		func(tr *simulate.Truth, metrics string) {
			if tr.Traffic.OptOutCalls <= 10 || tr.Traffic.OptedOut == 0 {
				t.Fatalf("truth traffic %+v: want more than 10 opt-out calls and dropped events", tr.Traffic)
			}
			metric := func(name string) int64 {
				for _, l := range strings.Split(metrics, "\n") {
					if v, ok := strings.CutPrefix(l, name+" "); ok {
						n, _ := strconv.ParseFloat(v, 64)
						return int64(n)
					}
				}
				t.Fatalf("no metric %s", name)
				return 0
			}
			registry := metric(`admeter_collect_optout_dropped_total{signal="registry"}`)
			cookie := metric(`admeter_collect_optout_dropped_total{signal="cookie"}`)
			if registry == 0 || registry+cookie != tr.Traffic.OptedOut {
				t.Errorf("dropped: registry %d + cookie %d, truth %d", registry, cookie, tr.Traffic.OptedOut)
			}
			if ok := metric(`admeter_optout_requests_total{channel="api",kind="device",result="ok"}`); ok != tr.Traffic.OptOutCalls {
				t.Errorf("opt-out API calls: server %d, truth %d", ok, tr.Traffic.OptOutCalls)
			}
			if n := metric(`admeter_optout_requests_total{channel="api",kind="device",result="limited"}`); n != 0 {
				t.Errorf("%d opt-out calls were rate limited", n)
			}
		})
}

// simulateAgainstServer runs "admeter simulate" with args against a real
// server and compares the server's log with the truth cell by cell; check,
// if not nil, also sees the truth and the server's metrics.
func simulateAgainstServer(t *testing.T, mod func(*ServeConfig), args []string, check func(*simulate.Truth, string)) {
	m, base := MustRunMain(t, func(c *ServeConfig) {
		c.Fsync = "interval"
		if mod != nil {
			mod(c)
		}
	})
	token, c := setupCampaign(t, base, m.Config.DataDir, 3)
	truthPath := filepath.Join(t.TempDir(), "truth.json")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The monitoring URLs go to the pixel listener, as media send them.
	err := (&SimulateCommand{Stdout: &out}).Run(ctx, append([]string{
		"--target", base, "--pixel-target", "http://" + m.PixelAddr(), "--token", token, "--campaign", c.ID,
		"--rate", "0", "--seed", "7", "--days", "3", "--truth", truthPath,
	}, args...))
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	t.Logf("simulate printed:\n%s", out.String())
	if !strings.Contains(out.String(), "truth written to") || strings.Contains(out.String(), "warning") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	_, metrics := get(t, base+"/metrics", nil)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var tr simulate.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Campaigns) != 1 || tr.Campaigns[0].Total.Impressions == 0 || tr.Traffic.Retries == 0 || tr.Traffic.Batched == 0 {
		t.Fatalf("truth %s: want one campaign with impressions, retries and batched events", b)
	}
	want := tr.Campaigns[0]
	if check != nil {
		check(&tr, string(metrics))
	}

	events := readLog(t, m.Config.DataDir)
	// The collector drops the retries it recognises; the rest must be
	// exactly the distinct events of the truth.
	if got, wantN := int64(len(events)), want.Total.Impressions+want.Total.Clicks+want.Total.Served; got != wantN {
		t.Fatalf("log holds %d events, the truth says %d impressions + clicks + served", got, wantN)
	}
	got := countLog(t, events)
	for _, pl := range want.Placements {
		for _, d := range pl.Days {
			if g := got.cell(pl.ID, d.Day); g != d.Counts {
				t.Errorf("placement %s on %s: log %+v, truth %+v", pl.ID, d.Day, g, d.Counts)
			}
		}
	}
	for _, d := range want.Days {
		if g := got.cell("", d.Day); g != d.Counts {
			t.Errorf("campaign on %s: log %+v, truth %+v", d.Day, g, d.Counts)
		}
	}
	if g := got.cell("", ""); g != want.Total {
		t.Errorf("campaign total: log %+v, truth %+v", g, want.Total)
	}
	for i, bkt := range want.Frequency.Distribution {
		if got.freq[i] != bkt.Users {
			t.Errorf("frequency %s: log %d users, truth %d", bkt.Frequency, got.freq[i], bkt.Users)
		}
	}
	var risky int64
	for _, ev := range events {
		if ev.Risk != 0 && ev.Kind != admeter.KindServed {
			risky++
		}
	}
	if r := want.IVT[simulate.IVTRiskyDevice]; risky != r.Impressions+r.Clicks {
		t.Errorf("log has %d events with risk flags, the truth injected %d", risky, r.Impressions+r.Clicks)
	}
}

// logCounts are report cells computed from the raw log with the store's
// counting rules.
type logCounts struct {
	cells map[[2]string]*logCell
	freq  [10]int64
}

type logCell struct {
	c           simulate.Counts
	users, clks map[admeter.Pseudonym]struct{}
}

func (l *logCounts) cell(placement, day string) simulate.Counts {
	c := l.cells[[2]string{placement, day}]
	if c == nil {
		return simulate.Counts{}
	}
	out := c.c
	out.UV, out.ClickUV = int64(len(c.users)), int64(len(c.clks))
	return out
}

func countLog(t *testing.T, events []admeter.Event) *logCounts {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	type dupKey struct {
		placement admeter.PlacementID
		kind      admeter.Kind
		id        admeter.Pseudonym
	}
	seen := map[dupKey]bool{}
	l := &logCounts{cells: map[[2]string]*logCell{}}
	perUser := map[admeter.Pseudonym]int64{}
	for _, ev := range events {
		if !ev.ImpressionID.IsZero() {
			k := dupKey{ev.Placement, ev.Kind, ev.ImpressionID}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		day := ev.At.In(loc).Format(time.DateOnly)
		for _, key := range [][2]string{{string(ev.Placement), day}, {"", day}, {"", ""}} {
			c := l.cells[key]
			if c == nil {
				c = &logCell{users: map[admeter.Pseudonym]struct{}{}, clks: map[admeter.Pseudonym]struct{}{}}
				l.cells[key] = c
			}
			switch ev.Kind {
			case admeter.KindImpression:
				c.c.Impressions++
				if ev.User.IsZero() {
					c.c.AnonymousImpressions++
				} else {
					c.users[ev.User] = struct{}{}
				}
			case admeter.KindClick:
				c.c.Clicks++
				if ev.User.IsZero() {
					c.c.AnonymousClicks++
				} else {
					c.clks[ev.User] = struct{}{}
				}
			case admeter.KindServed:
				c.c.Served++
			}
		}
		if ev.Kind == admeter.KindImpression && !ev.User.IsZero() {
			perUser[ev.User]++
		}
	}
	for _, n := range perUser {
		l.freq[min(n, 10)-1]++
	}
	return l
}

// TestSimulateRate checks that --rate and --duration size and pace the
// traffic.
func TestSimulateRate(t *testing.T) {
	m, base := MustRunMain(t, func(c *ServeConfig) { c.Fsync = "interval" })
	token, c := setupCampaign(t, base, m.Config.DataDir, 2)
	var out bytes.Buffer
	start := time.Now()
	err := (&SimulateCommand{Stdout: &out}).Run(context.Background(), []string{
		"--target", base, "--token", token, "--campaign", c.ID, "--rate", "400", "--duration", "2s",
	})
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	elapsed := time.Since(start)
	var sent int
	if _, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "sent "):], "sent %d events", &sent); err != nil {
		t.Fatalf("no summary in:\n%s", out.String())
	}
	if sent < 600 || sent > 1000 || elapsed < 1500*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("sent %d events in %v; want about 800 in about 2 s\n%s", sent, elapsed, out.String())
	}
}

func TestSimulateFlags(t *testing.T) {
	tests := map[string][]string{
		"NoToken":       {"--campaign", "1"},
		"NoCampaign":    {"--token", "x"},
		"RateZero":      {"--token", "x", "--campaign", "1", "--rate", "0"},
		"TooManyDays":   {"--token", "x", "--campaign", "1", "--days", "9"},
		"BadIVT":        {"--token", "x", "--campaign", "1", "--ivt", "2"},
		"BadTarget":     {"--token", "x", "--campaign", "1", "--target", "localhost"},
		"BadPixel":      {"--token", "x", "--campaign", "1", "--pixel-target", "localhost:8081"},
		"ExtraArgument": {"--token", "x", "--campaign", "1", "now"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			err := (&SimulateCommand{Stdout: &bytes.Buffer{}}).Run(context.Background(), args)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error", err)
			}
		})
	}
}

func TestSimulateUnknownCampaign(t *testing.T) {
	m, base := MustRunMain(t, nil)
	token, _ := setupCampaign(t, base, m.Config.DataDir, 1)
	err := (&SimulateCommand{Stdout: &bytes.Buffer{}}).Run(context.Background(), []string{
		"--target", base, "--token", token, "--campaign", "99999999", "--devices", "10", "--rate", "0",
	})
	if err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("err = %v, want the API's not_found", err)
	}
}
