package simulate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/geoip"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/optout/optouthttp"
	"github.com/admeter/admeter/pseudo"
)

// memLog is the collector's log, in memory: what the server would store.
type memLog struct {
	mu     sync.Mutex
	events []admeter.Event
}

func (l *memLog) Append(_ context.Context, evs []admeter.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, evs...)
	return nil
}

// testServer is the collector and the opt-out page and API wired as admeter
// serve wires them, over one real opt-out registry, with the clock pinned
// to testNow.
type testServer struct {
	url      string
	log      *memLog
	registry *optout.Registry
	metrics  *prometheus.Registry
}

func newTestServer(t *testing.T, cs []Campaign, trustedProxies ...netip.Prefix) *testServer {
	t.Helper()
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("event-key-event-key-event-key-ev")})
	if err != nil {
		t.Fatal(err)
	}
	optPS, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("registry-key-registry-key-regist")})
	if err != nil {
		t.Fatal(err)
	}
	geo, err := geoip.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := optout.Open(filepath.Join(t.TempDir(), "optout.reg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	var campaigns []*admeter.Campaign
	for _, c := range cs {
		ac := &admeter.Campaign{ID: admeter.CampaignID(c.ID), Tenant: "t_sim", Name: "simulated", LandingURL: c.LandingURL, Timezone: c.Timezone}
		for _, p := range c.Placements {
			ac.Placements = append(ac.Placements, admeter.Placement{ID: admeter.PlacementID(p.ID), Campaign: ac.ID, Name: p.ID, Media: p.Media})
		}
		campaigns = append(campaigns, ac)
	}
	cat := &collect.Catalog{}
	cat.Replace(campaigns)
	ts := &testServer{log: &memLog{}, registry: reg, metrics: prometheus.NewRegistry()}
	ccfg := collect.DefaultConfig()
	ccfg.Now = func() time.Time { return testNow }
	ccfg.TrustedProxies = trustedProxies
	col, err := collect.New(ccfg, cat, ts.log, ps, geo, reg, optPS, nil, ts.metrics)
	if err != nil {
		t.Fatal(err)
	}
	ocfg := optouthttp.DefaultConfig()
	ocfg.IDCookieName, ocfg.CookieName = ccfg.CookieName, ccfg.OptOutCookieName
	ocfg.ClientIP = col.ClientAddr
	page, err := optouthttp.New(ocfg, reg, optPS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	page.Register(mux)
	mux.HandleFunc("/v1/events", col.ServeBatch)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if collect.IsMonitoringPath(r.URL.Path) {
			col.ServeMonitoring(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

// dropped returns admeter_collect_optout_dropped_total by signal.
func (ts *testServer) dropped(t *testing.T) map[string]int64 {
	t.Helper()
	mfs, err := ts.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, mf := range mfs {
		if mf.GetName() != "admeter_collect_optout_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "signal" {
					out[l.GetValue()] = int64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// counts returns the logged events of campaign c, counted the way the store
// counts them (an impression id counts once per placement and kind), per
// day in Asia/Shanghai ("" for the total).
func (ts *testServer) counts(c string) map[string]Counts {
	ts.log.mu.Lock()
	defer ts.log.mu.Unlock()
	type dupKey struct {
		placement admeter.PlacementID
		kind      admeter.Kind
		id        admeter.Pseudonym
	}
	seen := map[dupKey]bool{}
	out := map[string]Counts{}
	users := map[string]map[admeter.Pseudonym]bool{}
	clickers := map[string]map[admeter.Pseudonym]bool{}
	for _, ev := range ts.log.events {
		if string(ev.Campaign) != c {
			continue
		}
		if !ev.ImpressionID.IsZero() {
			k := dupKey{ev.Placement, ev.Kind, ev.ImpressionID}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		for _, day := range []string{"", ev.At.In(shanghai).Format(time.DateOnly)} {
			n := out[day]
			if users[day] == nil {
				users[day], clickers[day] = map[admeter.Pseudonym]bool{}, map[admeter.Pseudonym]bool{}
			}
			switch ev.Kind {
			case admeter.KindImpression:
				n.Impressions++
				if ev.User.IsZero() {
					n.AnonymousImpressions++
				} else {
					users[day][ev.User] = true
				}
			case admeter.KindClick:
				n.Clicks++
				if ev.User.IsZero() {
					n.AnonymousClicks++
				} else {
					clickers[day][ev.User] = true
				}
			case admeter.KindServed:
				n.Served++
			}
			n.UV, n.ClickUV = int64(len(users[day])), int64(len(clickers[day]))
			out[day] = n
		}
	}
	return out
}

// TestAppOptOutAgainstCollector sends a plan with app and browser opt-outs
// to the real collector and opt-out API over one real registry, and checks
// what the collector logged against the truth: per campaign and day the
// same impressions, clicks, served pings, unique users and anonymous
// events, so that exactly the events after each opt-out were dropped. The
// server trusts the sender as a proxy, so each call is rate-limited in its
// device's own network.
func TestAppOptOutAgainstCollector(t *testing.T) {
	cfg := testConfig(t)
	cfg.Devices, cfg.AppOptOut, cfg.OptOut, cfg.Web, cfg.BatchFraction = 1200, 0.03, 0.2, 0.2, 0.3
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, cfg.Campaigns, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	scfg := DefaultSenderConfig()
	scfg.Now = func() time.Time { return testNow }
	s, err := NewSender(ts.url, scfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var tally Tally
	if err := tally.Add(p, st.Answered); err != nil {
		t.Fatal(err)
	}
	tr := tally.Truth()
	calls := 0
	for _, r := range p.Requests {
		if r.OptOutAPI {
			calls++
		}
	}
	const burst = 10 // optouthttp.DefaultConfig().Burst
	if st.OK != int64(len(p.Requests)) || st.OptOuts != int64(calls) || calls <= burst || st.OptOutLimited != 0 {
		t.Fatalf("%d of %d requests answered, %d of %d opt-out calls confirmed, %d limited: want all of more than %d, none limited",
			st.OK, len(p.Requests), st.OptOuts, calls, st.OptOutLimited, burst)
	}
	if tr.Traffic.OptOutCalls != int64(calls) || tr.Traffic.OptedOut == 0 || ts.registry.Len() < calls {
		t.Fatalf("traffic %+v, %d devices in the registry: want %d calls and opted-out events", tr.Traffic, ts.registry.Len(), calls)
	}
	var cookie int64 // events sent with the opt-out cookie
	for i := range p.Requests {
		if p.Requests[i].OptOut {
			cookie += int64(p.Requests[i].Events)
		}
	}
	if d := ts.dropped(t); d["registry"] != tr.Traffic.OptedOut-cookie || d["cookie"] != cookie || cookie == 0 {
		t.Errorf("the collector dropped %v events for opt-outs; the truth says %d, %d of them for the cookie", d, tr.Traffic.OptedOut, cookie)
	}
	for _, c := range tr.Campaigns {
		got := ts.counts(c.ID)
		if got[""] != c.Total {
			t.Errorf("campaign %s: logged %+v, truth %+v", c.ID, got[""], c.Total)
		}
		for _, d := range c.Days {
			if got[d.Day] != d.Counts {
				t.Errorf("campaign %s on %s: logged %+v, truth %+v", c.ID, d.Day, got[d.Day], d.Counts)
			}
		}
		if len(got) != len(c.Days)+1 {
			t.Errorf("campaign %s: logged events on %d days, truth on %d", c.ID, len(got)-1, len(c.Days))
		}
	}
}
