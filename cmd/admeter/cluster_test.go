package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/internal/testserver"
	"github.com/admeter/admeter/store/clickhouse"
)

// TestCluster runs admeter as a cluster of separate processes of the real
// binary — one API node, two loaders, two collectors — on a Kafka-protocol
// broker, ClickHouse and PostgreSQL, and kills one collector and one loader
// under load. Every impression a collector acknowledged is counted once in
// the API node's report. An opt-out accepted by one collector, a campaign
// created on the API node and a key rotation reach every collector within
// seconds; a replacement API node answers the same.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, ClickHouse and six processes")
	}
	node, pg, ch := newClusterNodes(t, false)

	api, apiData := node(RoleAPI, "api")
	tok, c := setupCampaign(t, api.base, apiData, 1)
	pl := c.Placements[0].ID
	loader0, _ := node(RoleLoader, "loader0")
	node(RoleLoader, "loader1")
	col0, _ := node(RoleCollector, "collector0")
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

	// The killed collector comes back. An opt-out given to the other then
	// reaches it within seconds.
	col0, _ = node(RoleCollector, "collector0") // the same data directory
	const idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	var res struct {
		OptedOut bool `json:"opted_out"`
	}
	if st := apiCall(t, "POST", col1.base+"/api/v1/optout", "", map[string]string{"id_type": "idfa", "id": idfa}, &res); st != 200 || !res.OptedOut {
		t.Fatalf("opt out on collector 1: %d %+v", st, res)
	}
	waitUntil(t, 5*time.Second, "collector 0 to learn the opt-out", func() bool {
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
	// A campaign created now is measured by both collectors within seconds
	// (they poll PostgreSQL's change counter every 5 s).
	var late testCampaign
	if st := apiCall(t, "POST", api.base+"/api/v1/campaigns", tok, map[string]any{
		"name": "late", "landing_url": "https://shop.example.com/late", "placements": []map[string]string{{"name": "feed", "media": "App"}},
	}, &late); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	for i, col := range []*proc{col0, col1} {
		waitUntil(t, 8*time.Second, "collector "+strconv.Itoa(i)+" to know the new campaign", func() bool {
			resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&vf=late-probe-%d", col.base, late.ID, late.Placements[0].ID, i), nil)
			return resp.StatusCode == 200 && resp.Header.Get("X-Admeter-Rejected") == ""
		})
	}
	// The killed loader comes back too; the group rebalances again.
	node(RoleLoader, "loader0")

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

// TestClusterMatchesTruth sends the accuracy test's simulated traffic, with
// its ground truth, through a load balancer to two collectors of a cluster
// (two loaders, one API node, separate processes, events sharded over two
// ClickHouse servers) and, mid-run, takes one collector out and SIGKILLs it
// and SIGKILLs one loader: every number of the reports and the frequency
// API equals the truth.
//
// The collector dies between requests (the balancer stops sending to it and
// it is killed once it has nothing in flight), as after a failed health
// check: a collector that dies while answering leaves that request's outcome
// unknown to its client, which no server can settle — TestCluster covers
// that case, with every acknowledged impression counted once.
func TestClusterMatchesTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, ClickHouse and five processes")
	}
	node, _, coordinator := newClusterNodes(t, true)
	api, apiData := node(RoleAPI, "api")
	token, campaigns := accuracyCampaigns(t, api.base, apiData)
	loader0, _ := node(RoleLoader, "loader0")
	node(RoleLoader, "loader1")
	col0, _ := node(RoleCollector, "collector0")
	col1, _ := node(RoleCollector, "collector1")
	lb := newBalancer(t, api.base, col0.base, col1.base)

	killed := false
	tr := simulateTruth(t, lb.url, token, campaigns, func(ctx context.Context) {
		for lb.proxied() < 400 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		lb.drain(0)
		col0.kill(t)
		loader0.kill(t)
		killed = true
	}, "--app-optout", "0") // an opt-out takes up to a second to reach the other collector: TestCluster covers it

	if !killed || lb.proxied() < 800 {
		t.Fatalf("the kills did not happen mid-run (killed %v after 400 of %d requests)", killed, lb.proxied())
	}
	// The killed loader's partitions move after --kafka-session-timeout.
	matchTruth(t, api.base, token, tr, 60*time.Second)

	// The events really are spread over both shards' local tables.
	db := coordinator[strings.LastIndex(coordinator, "/")+1:]
	for i, dsn := range chShards.DSNs {
		n, err := testserver.ClickHouseCount(testserver.WithDatabase(dsn, db), "SELECT count() FROM events")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("shard %d holds no events: --clickhouse-cluster did not spread them", i+1)
		}
		t.Logf("shard %d holds %d events", i+1, n)
	}
}

// balancer is a round-robin reverse proxy in front of a cluster, routing as
// docs/deploy.md says: monitoring URLs, the batch event API and the opt-out
// page and API to collectors, the rest to the API node. A collector can be
// drained: no new requests go to it, and drain returns once it has none in
// flight.
type balancer struct {
	url string
	api *httputil.ReverseProxy

	mu       sync.Mutex
	cols     []*httputil.ReverseProxy
	up       []bool
	inflight []int
	next     int
	n        int
	idle     *sync.Cond
}

func newBalancer(t *testing.T, api string, collectors ...string) *balancer {
	proxy := func(base string) *httputil.ReverseProxy {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host }}
	}
	b := &balancer{api: proxy(api)}
	b.idle = sync.NewCond(&b.mu)
	for _, c := range collectors {
		b.cols = append(b.cols, proxy(c))
		b.up = append(b.up, true)
		b.inflight = append(b.inflight, 0)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !collect.IsMonitoringPath(p) && p != "/v1/events" && p != "/optout" && !strings.HasPrefix(p, "/api/v1/optout") {
			b.api.ServeHTTP(w, r)
			return
		}
		i := b.pick()
		defer b.done(i)
		b.cols[i].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// pick chooses the next collector that is up and counts the request in
// flight to it.
func (b *balancer) pick() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		i := b.next % len(b.cols)
		b.next++
		if b.up[i] {
			b.inflight[i]++
			b.n++
			return i
		}
	}
}

func (b *balancer) done(i int) {
	b.mu.Lock()
	b.inflight[i]--
	b.idle.Broadcast()
	b.mu.Unlock()
}

// drain stops sending to collector i and waits until nothing is in flight
// to it.
func (b *balancer) drain(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.up[i] = false
	for b.inflight[i] > 0 {
		b.idle.Wait()
	}
}

// proxied returns how many requests went to collectors.
func (b *balancer) proxied() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// newClusterNodes prepares a cluster's engines (Kafka, a PostgreSQL schema,
// a ClickHouse database, on one server or, with shards, on every shard of
// a two-shard ClickHouse cluster) and returns a function that starts a node
// of a role on a data directory of that name (kept across restarts), with
// the engines' DSNs (with shards, the coordinator's).
func newClusterNodes(t *testing.T, shards bool) (node func(role, name string) (*proc, string), pg, ch string) {
	t.Helper()
	pg, ch = clusterBackends(t)
	common := append(newTestKafka(t).flags(), "--postgres-dsn", pg, "--fsync", "interval", "--log-level", "warn")
	if shards {
		coordinator, cluster := shardedClickHouse(t)
		common = append(common, "--clickhouse-dsn", coordinator, "--clickhouse-cluster", cluster)
		ch = coordinator
	} else {
		common = append(common, "--clickhouse-dsn", ch)
	}
	dir := t.TempDir()
	return func(role, name string) (*proc, string) {
		data := filepath.Join(dir, name)
		return startBinary(t, data, append([]string{"--role", role}, common...)...), data
	}, pg, ch
}
