package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// impressionTokenLabel is the label collect pseudonymises impression ids
// with. It is pinned here on purpose: changing it would break the counting of
// retried impressions across versions.
const impressionTokenLabel = "admeter/impression/v1"

// TestKillUnderLoad SIGKILLs the real binary while clients are sending
// impressions, restarts it on the same data directory, and checks that every
// impression the server acknowledged (answered 200) is in the log, intact.
func TestKillUnderLoad(t *testing.T) {
	for _, mode := range []string{"always", "interval"} {
		t.Run("fsync="+mode, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			p := startBinary(t, dataDir, "--fsync", mode, "--log-level", "warn")
			_, c := setupCampaign(t, p.base, dataDir, 1)
			pl := c.Placements[0].ID

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
						vf := fmt.Sprintf("crash-%d-%d", w, i)
						u := fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%08x-0000-4000-8000-%012x&vf=%s", p.base, c.ID, pl, w+1, i+1, vf)
						resp, err := client.Get(u)
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
			p.kill(t)
			close(stop)
			wg.Wait()
			if len(acked) < 50 {
				t.Fatalf("only %d impressions acknowledged before the kill; the load did not run", len(acked))
			}

			// Restart: recovery truncates any torn tail; then stop cleanly.
			p2 := startBinary(t, dataDir, "--fsync", mode)
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
			t.Logf("fsync=%s: %d acknowledged, %d in the log, none lost", mode, len(acked), len(events))
		})
	}
}
