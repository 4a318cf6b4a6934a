package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store/clickhouse"
)

// TestCluster runs admeter as a cluster of separate processes of the real
// binary — one API node, two loaders, two collectors — on a Kafka-protocol
// broker, ClickHouse and PostgreSQL, and kills one collector and one loader
// under load. Every impression a collector acknowledged is counted once in
// the API node's report; an opt-out accepted by one collector is honoured
// by the other after it restarts; a replacement API node answers the same.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, ClickHouse and six processes")
	}
	broker, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(broker.Close)
	pg, ch := clusterBackends(t)
	common := []string{"--kafka-brokers", broker.ListenAddrs()[0], "--kafka-partitions", "4", "--kafka-replication", "1",
		"--kafka-session-timeout", "6s", "--postgres-dsn", pg, "--clickhouse-dsn", ch, "--fsync", "interval", "--log-level", "warn"}
	dir := t.TempDir()
	node := func(role, name string) (*proc, string) {
		data := filepath.Join(dir, name)
		return startBinary(t, data, append([]string{"--role", role}, common...)...), data
	}

	api, apiData := node(RoleAPI, "api")
	tok, c := setupCampaign(t, api.base, apiData, 1)
	pl := c.Placements[0].ID
	loader0, loader0Data := node(RoleLoader, "loader0")
	node(RoleLoader, "loader1")
	col0, col0Data := node(RoleCollector, "collector0")
	col1, _ := node(RoleCollector, "collector1")

	// A loader and a collector die under load.
	acked := loadUntilKilled(t, []string{col0.base, col1.base}, c.ID, pl, "cluster", func() {
		col0.kill(t)
		loader0.kill(t)
	})
	// The survivors carry on.
	for i := range 100 {
		vf := fmt.Sprintf("after-%d", i)
		resp, body := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%08x-0000-4000-8000-%012x&vf=%s", col1.base, c.ID, pl, 99, i+1, vf), nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Admeter-Rejected") != "" {
			t.Fatalf("impression to the surviving collector: %d %s %s", resp.StatusCode, resp.Header.Get("X-Admeter-Rejected"), body)
		}
		acked = append(acked, vf)
	}

	// An opt-out given to one collector reaches the other.
	const idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	var res struct {
		OptedOut bool `json:"opted_out"`
	}
	if st := apiCall(t, "POST", col1.base+"/api/v1/optout", "", map[string]string{"id_type": "idfa", "id": idfa}, &res); st != 200 || !res.OptedOut {
		t.Fatalf("opt out on collector 1: %d %+v", st, res)
	}
	col0 = startBinary(t, col0Data, append([]string{"--role", RoleCollector}, common...)...)
	waitUntil(t, 15*time.Second, "collector 0 to learn the opt-out", func() bool {
		var st struct {
			OptedOut bool `json:"opted_out"`
		}
		apiCall(t, "GET", col0.base+"/api/v1/optout/status?id_type=idfa&id="+idfa, "", nil, &st)
		return st.OptedOut
	})
	get(t, fmt.Sprintf("%s/x/k=%s&p=%s&mo=1&m5=%s&vf=opted-out", col0.base, c.ID, pl, idfa), nil)
	if m := metricsOf(t, col0.base); !strings.Contains(m, `admeter_collect_optout_dropped_total{signal="registry"} 1`) {
		t.Errorf("collector 0 did not drop the opted-out device's impression:\n%s", grepLines(m, "optout"))
	}
	// The killed loader comes back too; the group rebalances again.
	startBinary(t, loader0Data, append([]string{"--role", RoleLoader}, common...)...)

	day := time.Now().In(shanghai()).Format(time.DateOnly)
	report := func(base string) int64 {
		var rep struct {
			Total struct {
				Impressions int64 `json:"impressions"`
			} `json:"total"`
		}
		apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&filter=all", base, c.ID, day, day), tok, nil, &rep)
		return rep.Total.Impressions
	}
	// The killed loader's partitions move after --kafka-session-timeout.
	waitUntil(t, 60*time.Second, "the report to count every acknowledged impression", func() bool {
		return report(api.base) >= int64(len(acked))
	})

	// Exactly once, impression by impression.
	st, err := clickhouse.Open(context.Background(), ch, clickhouse.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var me struct {
		Account struct {
			ID admeter.TenantID `json:"id"`
		} `json:"account"`
	}
	apiCall(t, "GET", api.base+"/api/v1/me", tok, nil, &me)
	rows := storedOnce(t, st, me.Account.ID, c.ID, acked, clusterPseudonymizer(t, pg))
	// The report counts what is stored, each once: the acknowledged
	// impressions and any the killed collector had in Kafka before it
	// could answer.
	for id, n := range rows {
		if n > 1 {
			t.Fatalf("impression %x stored %d times", id[:4], n)
		}
	}
	if got := report(api.base); got != int64(len(rows)) {
		t.Fatalf("report counts %d impressions, the store holds %d distinct ones", got, len(rows))
	}

	// The API node keeps no state of its own: a new one on an empty data
	// directory answers the same.
	api.kill(t)
	api2, _ := node(RoleAPI, "api2")
	if got := report(api2.base); got != int64(len(rows)) {
		t.Fatalf("the replacement API node reports %d impressions, want %d", got, len(rows))
	}

	// A key rotation made once reaches every collector (they poll the
	// shared key store every 5 s).
	if out, err := exec.Command(admeterBinary(t), "keys", "rotate", "--postgres-dsn", pg, "--master-key", testMasterKey).CombinedOutput(); err != nil {
		t.Fatalf("admeter keys rotate: %v\n%s", err, out)
	}
	for i, col := range []*proc{col0, col1} {
		vf := fmt.Sprintf("rotated-%d", i)
		waitUntil(t, 20*time.Second, "collector "+strconv.Itoa(i)+" to use key version 2", func() bool {
			get(t, fmt.Sprintf("%s/x/k=%s&p=%s&mo=0&m11=%08x-0000-4000-8000-%012x&vf=%s", col.base, c.ID, pl, 77, i+1, vf), nil)
			evs, err := st.RecentEvents(t.Context(), me.Account.ID, admeter.CampaignID(c.ID), 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.KeyVersion == 2 {
					return true
				}
			}
			time.Sleep(200 * time.Millisecond)
			return false
		})
	}

	// The audit record, kept in PostgreSQL by every API node, is intact.
	if out, err := exec.Command(admeterBinary(t), "audit", "verify", "--postgres-dsn", pg, "--master-key", testMasterKey).CombinedOutput(); err != nil || !strings.Contains(string(out), "intact") {
		t.Fatalf("admeter audit verify: %v\n%s", err, out)
	}
	t.Logf("%d acknowledged impressions across two collectors, one collector and one loader killed: each stored once", len(acked))
}

// waitUntil polls cond every 50 ms until it holds, failing t after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
	}
}

// metricsOf returns the Prometheus exposition of the server at base.
func metricsOf(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
