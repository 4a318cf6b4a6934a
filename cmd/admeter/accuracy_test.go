package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/simulate"
)

// TestReportAccuracy is the accuracy test: it sends simulated traffic whose
// true counts are known (two campaigns in different time zones, several
// placements, devices seen 1…20+ times over several days, raw and MD5 forms
// of the same identifiers, retried impression ids, br=0 pings, unreplaced
// macros, late and time-corrected events, invalid traffic, batch and pixel
// traffic, cookie-keyed browsers, browsers that opt out midway) through the
// real wiring, and asserts that every number of the report and frequency
// APIs equals the truth exactly, and so does every number of the
// cross-media reach reports that the truth knows (matchReach).
func TestReportAccuracy(t *testing.T) { reportAccuracy(t, nil) }

// TestReportAccuracyOverKafka is TestReportAccuracy with Kafka between the
// collector and the loader (franz-go's in-process Kafka-protocol broker,
// four partitions): the same numbers, exactly.
func TestReportAccuracyOverKafka(t *testing.T) {
	k := newTestKafka(t)
	reportAccuracy(t, k.configure)
}

// TestReportAccuracyOnClusterBackends is TestReportAccuracy on the
// engines of a cluster: Kafka between collector and loader, ClickHouse as
// the analytical store, PostgreSQL as the metadata store. The same
// numbers, exactly.
func TestReportAccuracyOnClusterBackends(t *testing.T) {
	k := newTestKafka(t)
	pg, ch := clusterBackends(t)
	reportAccuracy(t, func(c *ServeConfig) {
		k.configure(c)
		c.PostgresDSN, c.ClickHouseDSN = pg, ch
	})
}

// reportAccuracy runs the accuracy check on a server configured by mod.
func reportAccuracy(t *testing.T, mod func(*ServeConfig)) {
	m, base := MustRunMain(t, func(c *ServeConfig) {
		c.Fsync = "interval"
		if mod != nil {
			mod(c)
		}
	})
	token, campaigns := accuracyCampaigns(t, base, m.Config.DataDir)
	tr := simulateTruth(t, base, token, campaigns, nil)
	matchTruth(t, base, token, tr, 20*time.Second)
	matchReach(t, base, token, tr)
}

// accuracyCampaigns creates the accuracy test's tenant and campaigns on the
// API at base: one in Asia/Shanghai with three placements, one in
// America/New_York with two.
func accuracyCampaigns(t *testing.T, base, dataDir string) (token string, campaigns []string) {
	t.Helper()
	token, shanghai := setupCampaign(t, base, dataDir, 3)
	var newYork testCampaign
	if st := apiCall(t, "POST", base+"/api/v1/campaigns", token, map[string]any{
		"name": "NY launch", "landing_url": "https://shop.example.com/ny", "timezone": "America/New_York",
		"placements": []map[string]string{{"name": "homepage", "media": "Portal"}, {"name": "video", "media": "Tube"}},
	}, &newYork); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	return token, []string{shanghai.ID, newYork.ID}
}

// simulateTruth sends the accuracy test's simulated traffic to target and
// returns its ground truth. during, if not nil, runs while it is sent;
// extra flags of admeter simulate override the test's.
func simulateTruth(t *testing.T, target, token string, campaigns []string, during func(ctx context.Context), extra ...string) simulate.Truth {
	t.Helper()
	truthPath := filepath.Join(t.TempDir(), "truth.json")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan struct{})
	if during != nil {
		go func() { defer close(done); during(ctx) }()
	} else {
		close(done)
	}
	// --too-late well above its default, so that a run always has some.
	err := (&SimulateCommand{Stdout: &out}).Run(ctx, append([]string{
		"--target", target, "--token", token, "--campaign", strings.Join(campaigns, ","), "--rate", "0",
		"--devices", "900", "--seed", "20261128", "--ivt", "0.08", "--batch", "0.2", "--web", "0.2", "--optout", "0.05", "--days", "5",
		"--too-late", "0.01", "--truth", truthPath,
	}, extra...))
	<-done
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var tr simulate.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Campaigns) != 2 || tr.Traffic.Retries == 0 || tr.Traffic.Served == 0 || tr.Traffic.TimeCorrected == 0 || tr.Traffic.OptedOut == 0 {
		t.Fatalf("the simulated traffic lacks the cases under test: %+v", tr.Traffic)
	}
	return tr
}

// matchTruth asserts that every number of the report and frequency APIs at
// base equals the truth, waiting up to wait for the loaders to catch up.
func matchTruth(t *testing.T, base, token string, tr simulate.Truth, wait time.Duration) {
	t.Helper()
	for _, want := range tr.Campaigns {
		from, to := want.Days[0].Day, want.Days[len(want.Days)-1].Day
		q := func(kind, by string) string {
			// The truth counts every event the simulator sent, valid or
			// not: compare with the gross figures (TestReportsNetOfInvalidTraffic
			// covers the net ones).
			v := url.Values{"from": {from}, "to": {to}, "filter": {"all"}}
			if by != "" {
				v.Set("by", by)
			}
			return fmt.Sprintf("%s/api/v1/campaigns/%s/%s?%s", base, want.ID, kind, v.Encode())
		}
		type cell struct {
			Day         string `json:"day"`
			Placement   string `json:"placement"`
			Impressions int64  `json:"impressions"`
			Clicks      int64  `json:"clicks"`
			UV          int64  `json:"uv"`
			ClickUV     int64  `json:"click_uv"`
		}
		type rep struct {
			Rows                 []cell `json:"rows"`
			Total                cell   `json:"total"`
			AnonymousImpressions int64  `json:"anonymous_impressions"`
			AnonymousClicks      int64  `json:"anonymous_clicks"`
		}
		// Wait until the loader has caught up (freshness is 2 s under normal
		// load; the simulator sends as fast as it can, so allow more).
		var total rep
		deadline := time.Now().Add(wait)
		for {
			apiCall(t, "GET", q("report", ""), token, nil, &total)
			if total.Total.Impressions >= want.Total.Impressions && total.Total.Clicks >= want.Total.Clicks || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		same := func(what string, got cell, w simulate.Counts) {
			t.Helper()
			if got.Impressions != w.Impressions || got.Clicks != w.Clicks || got.UV != w.UV || got.ClickUV != w.ClickUV {
				t.Errorf("campaign %s (%s) %s: report %d imp %d clk %d uv %d click_uv; truth %d %d %d %d", want.ID, want.Timezone, what,
					got.Impressions, got.Clicks, got.UV, got.ClickUV, w.Impressions, w.Clicks, w.UV, w.ClickUV)
			}
		}
		same("total", total.Total, want.Total)
		if total.AnonymousImpressions != want.Total.AnonymousImpressions || total.AnonymousClicks != want.Total.AnonymousClicks {
			t.Errorf("campaign %s anonymous: %d/%d, truth %d/%d", want.ID, total.AnonymousImpressions, total.AnonymousClicks,
				want.Total.AnonymousImpressions, want.Total.AnonymousClicks)
		}

		var byDay rep
		apiCall(t, "GET", q("report", "day"), token, nil, &byDay)
		got := map[string]cell{}
		for _, r := range byDay.Rows {
			got[r.Day] = r
		}
		for _, d := range want.Days {
			same("day "+d.Day, got[d.Day], d.Counts)
		}
		if len(byDay.Rows) != len(want.Days) {
			t.Errorf("campaign %s: %d day rows, truth has %d days", want.ID, len(byDay.Rows), len(want.Days))
		}

		var byPD rep
		apiCall(t, "GET", q("report", "placement,day"), token, nil, &byPD)
		gotPD := map[string]cell{}
		for _, r := range byPD.Rows {
			gotPD[r.Placement+" "+r.Day] = r
		}
		cells := 0
		for _, p := range want.Placements {
			for _, d := range p.Days {
				same("placement "+p.ID+" day "+d.Day, gotPD[p.ID+" "+d.Day], d.Counts)
				cells++
			}
		}
		if len(byPD.Rows) != cells {
			t.Errorf("campaign %s: %d placement×day rows, truth has %d", want.ID, len(byPD.Rows), cells)
		}

		var freq struct {
			Reach        int64 `json:"reach"`
			Impressions  int64 `json:"impressions"`
			Distribution []struct {
				Frequency string `json:"frequency"`
				Users     int64  `json:"users"`
			} `json:"distribution"`
			CumulativeReach []struct {
				Day   string `json:"day"`
				Reach int64  `json:"reach"`
			} `json:"cumulative_reach"`
		}
		apiCall(t, "GET", q("frequency", ""), token, nil, &freq)
		if freq.Reach != want.Frequency.Reach || freq.Impressions != want.Frequency.Impressions {
			t.Errorf("campaign %s frequency: reach %d impressions %d, truth %d %d", want.ID, freq.Reach, freq.Impressions,
				want.Frequency.Reach, want.Frequency.Impressions)
		}
		for i, bkt := range want.Frequency.Distribution {
			if i >= len(freq.Distribution) || freq.Distribution[i].Frequency != bkt.Frequency || freq.Distribution[i].Users != bkt.Users {
				t.Errorf("campaign %s frequency bucket %s: report %+v, truth %d", want.ID, bkt.Frequency, freq.Distribution, bkt.Users)
				break
			}
		}
		cum := map[string]int64{}
		for _, d := range freq.CumulativeReach {
			cum[d.Day] = d.Reach
		}
		for _, d := range want.Frequency.CumulativeReach {
			if cum[d.Day] != d.Reach {
				t.Errorf("campaign %s cumulative reach on %s: %d, truth %d", want.ID, d.Day, cum[d.Day], d.Reach)
			}
		}
		if !t.Failed() {
			t.Logf("campaign %s (%s): %d impressions, %d clicks, reach %d over %d days: every number matches the truth",
				want.ID, want.Timezone, want.Total.Impressions, want.Total.Clicks, want.Frequency.Reach, len(want.Days))
		}
	}
}
