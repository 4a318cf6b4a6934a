package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/store/duckdb"
)

// impressionTokenLabel is the label collect pseudonymises impression ids
// with. It is pinned here on purpose: changing it would break the counting of
// retried impressions across versions.
const impressionTokenLabel = "admeter/impression/v1"

// TestKillUnderLoad SIGKILLs the real binary while clients are sending
// impressions, restarts it on the same data directory, and checks that every
// impression the server acknowledged (answered 200) is in the log, intact:
// on --addr and on the fasthttp listener of --pixel-addr.
func TestKillUnderLoad(t *testing.T) {
	for _, tt := range []struct {
		mode  string
		pixel bool
	}{{"always", false}, {"interval", false}, {"always", true}, {"interval", true}} {
		name := "fsync=" + tt.mode
		if tt.pixel {
			name += "/pixel-addr"
		}
		t.Run(name, func(t *testing.T) {
			mode := tt.mode
			dataDir := filepath.Join(t.TempDir(), "data")
			args := []string{"--fsync", mode, "--log-level", "warn"}
			pixelBase := ""
			if tt.pixel {
				port := freePort(t)
				args = append(args, "--pixel-addr", fmt.Sprintf("127.0.0.1:%d", port))
				pixelBase = fmt.Sprintf("http://127.0.0.1:%d", port)
			}
			p := startBinary(t, dataDir, args...)
			_, c := setupCampaign(t, p.base, dataDir, 1)
			pl := c.Placements[0].ID
			target := p.base
			if tt.pixel {
				target = pixelBase
			}

			acked := loadUntilKilled(t, []string{target}, c.ID, pl, "crash", func() { p.kill(t) })

			// Restart: recovery truncates any torn tail; then stop cleanly.
			// Restart without loading: the retention job a loading
			// server runs at start removes log segments already in the
			// store, and this test reads the log.
			p2 := startBinary(t, dataDir, "--fsync", mode, "--ingest=false")
			resp, err := http.Get(fmt.Sprintf("%s/x/k=%s&p=%s&vf=after-restart", p2.base, c.ID, pl))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			p2.stop(t)

			ps := testPseudonymizer(t, dataDir)
			events := readLog(t, dataDir)
			have := make(map[admeter.Pseudonym]bool, len(events))
			for _, ev := range events {
				have[ev.ImpressionID] = true
			}
			missing := 0
			for _, vf := range acked {
				if !have[ps.Token(impressionTokenLabel, []byte(vf))] {
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d acknowledged impressions are missing after SIGKILL and restart", missing, len(acked))
			}
			if !have[ps.Token(impressionTokenLabel, []byte("after-restart"))] {
				t.Fatal("the log does not accept appends after recovery")
			}
			t.Logf("%s: %d acknowledged, %d in the log, none lost", name, len(acked), len(events))
		})
	}
}

// TestKillUnderLoadOverKafka SIGKILLs the real binary, running with Kafka
// between its collector and its loader, while clients send impressions;
// restarts it and checks that every acknowledged impression is in the
// analytical store exactly once: acknowledged means the broker had it, and
// the loader resumes from the positions stored with the rows.
func TestKillUnderLoadOverKafka(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	args := append([]string{"--fsync", "always", "--log-level", "warn"}, newTestKafka(t).flags()...)
	p := startBinary(t, dataDir, args...)
	tok, c := setupCampaign(t, p.base, dataDir, 1)
	pl := c.Placements[0].ID
	var me struct {
		Account struct {
			ID admeter.TenantID `json:"id"`
		} `json:"account"`
	}
	if st := apiCall(t, "GET", p.base+"/api/v1/me", tok, nil, &me); st != 200 || me.Account.ID == "" {
		t.Fatalf("GET /api/v1/me: %d %+v", st, me)
	}

	acked := loadUntilKilled(t, []string{p.base}, c.ID, pl, "kcrash", func() { p.kill(t) })

	// Restart; wait until the report counts every acknowledged impression.
	p2 := startBinary(t, dataDir, args...)
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	var rep struct {
		Total struct {
			Impressions int64 `json:"impressions"`
		} `json:"total"`
	}
	u := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&filter=all", p2.base, c.ID, day, day)
	// The killed loader holds its partitions until its session times out
	// (--kafka-session-timeout, 6 s here).
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if apiCall(t, "GET", u, tok, nil, &rep); rep.Total.Impressions >= int64(len(acked)) {
			break
		}
	}
	p2.stop(t)

	st, err := duckdb.Open(filepath.Join(dataDir, "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := storedOnce(t, st, me.Account.ID, c.ID, acked, testPseudonymizer(t, dataDir))
	t.Logf("%d acknowledged, %d stored, each acknowledged one exactly once", len(acked), len(rows))
}

// loadUntilKilled sends impressions of placement pl of campaign to the
// collectors at bases from 8 clients, runs kill after 1.5 s, and returns the
// impression ids (vf, prefixed) that a collector acknowledged. Clients send
// to the collectors in turn and stop at the first failure.
func loadUntilKilled(t *testing.T, bases []string, campaign, pl, prefix string, kill func()) []string {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				vf := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				base := bases[(w+i)%len(bases)]
				resp, err := client.Get(fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%08x-0000-4000-8000-%012x&vf=%s", base, campaign, pl, w+1, i+1, vf))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 && resp.Header.Get("X-Admeter-Rejected") == "" {
					mu.Lock()
					acked = append(acked, vf)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	kill()
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d impressions acknowledged before the kill; the load did not run", len(acked))
	}
	return acked
}

// storedOnce reads the campaign's events from st and fails t unless every
// acknowledged impression id (vf) is stored exactly once, pseudonymised by
// ps. It returns how many rows each stored impression id has.
func storedOnce(t *testing.T, st interface {
	RecentEvents(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, limit int) ([]admeter.Event, error)
}, tenant admeter.TenantID, campaign string, acked []string, ps *pseudo.Pseudonymizer) map[admeter.Pseudonym]int {
	t.Helper()
	events, err := st.RecentEvents(t.Context(), tenant, admeter.CampaignID(campaign), 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[admeter.Pseudonym]int{}
	for _, ev := range events {
		rows[ev.ImpressionID]++
	}
	missing, twice := 0, 0
	for _, vf := range acked {
		switch rows[ps.Token(impressionTokenLabel, []byte(vf))] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if missing > 0 || twice > 0 {
		t.Fatalf("of %d acknowledged impressions, %d are missing and %d stored more than once", len(acked), missing, twice)
	}
	return rows
}
