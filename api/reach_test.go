package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

// reachEnv is a server with the reach endpoints over a real metadata store
// and a real event store: advertisers A and B, agency G holding a grant on
// a campaign of each, and media tenant M with a placement on A's campaign.
type reachEnv struct {
	srv    *httptest.Server
	meta   *sqlite.DB
	tokens map[string]string // tenant letter → token
	a1, b1 *admeter.Campaign
}

// reachDay is the day the reach tests' events fall on, in Asia/Shanghai.
var reachDay = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newReachEnv(t *testing.T) *reachEnv { return newReachEnvWith(t, nil) }

// newReachEnvWith is newReachEnv with the event store wrapped by wrap (nil:
// as it is) and, if wrap is set, a server whose write timeout is 200 ms.
func newReachEnvWith(t *testing.T, wrap func(reach.Store) reach.Store) *reachEnv {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	env := &reachEnv{meta: sqlite.NewDB(filepath.Join(dir, "meta.db")), tokens: map[string]string{}}
	if err := env.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.meta.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })

	tenants := map[string]*admeter.Tenant{}
	for _, x := range []struct {
		letter string
		kind   admeter.TenantKind
	}{{"A", admeter.TenantAdvertiser}, {"B", admeter.TenantAdvertiser}, {"G", admeter.TenantAgency}, {"M", admeter.TenantMedia}} {
		tn := &admeter.Tenant{Name: "tenant " + x.letter, Kind: x.kind}
		env.tokens[x.letter] = "test-token-" + strings.Repeat(x.letter, 24)
		if err := env.meta.CreateTenant(ctx, tn, api.HashToken(env.tokens[x.letter])); err != nil {
			t.Fatal(err)
		}
		tenants[x.letter] = tn
	}
	cpm := func(yuan int64) *admeter.Price {
		return &admeter.Price{Model: admeter.CPM, Amount: yuan * admeter.MicroCNY}
	}
	env.a1 = &admeter.Campaign{Tenant: tenants["A"].ID, Name: "A spring", LandingURL: "https://a.example.com/", Placements: []admeter.Placement{
		{Name: "news banner", Media: "News", Price: cpm(40)},
		{Name: "video preroll", Media: "Video", Price: cpm(60), MediaTenant: tenants["M"].ID},
	}}
	env.b1 = &admeter.Campaign{Tenant: tenants["B"].ID, Name: "B launch", LandingURL: "https://b.example.com/", Placements: []admeter.Placement{
		{Name: "news feed", Media: "News", Price: cpm(30)},
	}}
	for _, c := range []*admeter.Campaign{env.a1, env.b1} {
		if err := env.meta.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := env.meta.CreateGrant(ctx, &admeter.Grant{Owner: c.Tenant, Grantee: tenants["G"].ID, Campaign: c.ID,
			Level: admeter.GrantRead, Created: time.Now(), CreatedBy: "operator"}); err != nil {
			t.Fatal(err)
		}
	}

	// A1: users 1–60 on news, 41–100 on video (20 on both); users 1–60
	// see news twice. B1: users 51–200 on news (their own impressions).
	var evs []admeter.Event
	at := reachDay
	add := func(c *admeter.Campaign, p int, users ...int) {
		for _, u := range users {
			at = at.Add(time.Second)
			evs = append(evs, storetest.Imp(at, storetest.Tenant(c.Tenant), storetest.Campaign(c.ID),
				storetest.Placement(c.Placements[p].ID), storetest.User(u)))
		}
	}
	for u := 1; u <= 60; u++ {
		add(env.a1, 0, u, u)
	}
	for u := 41; u <= 100; u++ {
		add(env.a1, 1, u)
	}
	for u := 51; u <= 200; u++ {
		add(env.b1, 0, u)
	}
	if err := events.Insert(ctx, evs, uint64(len(evs))); err != nil {
		t.Fatal(err)
	}

	cfg := api.Config{PublicURL: "https://t.example.com", Accounts: accounts{env.meta},
		Audit: auditLog{sqlite.NewAuditLog(env.meta, nil)}, Grants: env.meta, Media: env.meta,
		Reach: reach.NewService(env.meta, events)}
	if wrap != nil {
		cfg.Reach = reach.NewService(env.meta, wrap(events))
	}
	mux := http.NewServeMux()
	api.New(cfg, env.meta, env.meta, nil, nil).Register(mux)
	env.srv = httptest.NewUnstartedServer(mux)
	if wrap != nil {
		env.srv.Config.WriteTimeout = 200 * time.Millisecond
	}
	env.srv.Start()
	t.Cleanup(env.srv.Close)
	return env
}

// get asks path as tenant letter and decodes the answer into out (if not
// nil); it returns the status and the error code of a refusal.
func (env *reachEnv) get(t *testing.T, letter, path string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.tokens[letter])
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(buf.Bytes(), &e)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, buf.String())
		}
	}
	return resp.StatusCode, e.Error.Code
}

// reachRange is the query of the reach tests' day.
const reachRange = "from=2026-11-20&to=2026-11-20"

// TestReach_OwnCampaign: the owner sees exact reach, overlap, exclusive
// reach, effective reach, waste and costs of its campaign.
func TestReach_OwnCampaign(t *testing.T) {
	env := newReachEnv(t)
	var r reach.Result
	if st, code := env.get(t, "A", "/api/v1/campaigns/"+string(env.a1.ID)+"/reach?"+reachRange+"&waste_above=1", &r); st != http.StatusOK {
		t.Fatalf("GET reach: %d %s", st, code)
	}
	got := fmt.Sprintf("reach %d, advertisers %d, threshold %d, waste above %d, waste %d", *r.Totals.Reach, r.Advertisers, r.Threshold, r.WasteAbove, r.Totals.WasteImpressions)
	if want := "reach 100, advertisers 1, threshold 0, waste above 1, waste 80"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	groups := map[string]string{}
	for _, g := range r.Groups {
		groups[g.Key] = fmt.Sprintf("reach %d exclusive %d impressions %d cost %s", *g.Reach, *g.ExclusiveReach, g.Impressions, js(g.Cost))
	}
	want := map[string]string{
		"News":  `reach 60 exclusive 40 impressions 120 cost "4.80"`,
		"Video": `reach 60 exclusive 40 impressions 60 cost "3.60"`,
	}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Errorf("groups %v, want %v", groups, want)
	}
	if ov := *r.Overlap.Users[0][1]; ov != 20 {
		t.Errorf("overlap News–Video %d, want 20", ov)
	}
	if e := r.Effective[1]; e.Level != 2 || *e.Users != 60 {
		t.Errorf("effective level 2: %+v, want 60 users (users 1–60 saw news twice)", e)
	}
	if c := js(r.Totals.CPUM); c != `"84.00"` { // 8.40 CNY for 100 users
		t.Errorf("CPUM %s, want 84.00", c)
	}

	var p reach.PlanResult
	if st, code := env.get(t, "A", "/api/v1/campaigns/"+string(env.a1.ID)+"/reach/plan?"+reachRange+"&effective=1", &p); st != http.StatusOK {
		t.Fatalf("GET plan: %d %s", st, code)
	}
	if p.Plan == nil || len(p.Plan.Units) != 2 || p.Plan.Effective != 1 || p.Measured.Reach != 100 || js(p.Measured.Cost) != `"8.40"` {
		t.Errorf("plan: %s", js(p))
	}
}

// TestReach_Access: another advertiser's campaign is not found; an agency
// combining two advertisers gets the aggregation threshold and no plan; a
// media partner sees its own placements without costs and no plan; bad
// requests say what to send.
func TestReach_Access(t *testing.T) {
	env := newReachEnv(t)
	a1, b1 := string(env.a1.ID), string(env.b1.ID)
	var agency reach.Result
	for _, tc := range []struct {
		who, path string
		status    int
		code      string
		out       any
	}{
		{"B", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange, http.StatusNotFound, "not_found", nil},
		{"B", "/api/v1/reach?campaigns=" + b1 + "," + a1 + "&" + reachRange, http.StatusNotFound, "not_found", nil},
		{"G", "/api/v1/reach?campaigns=" + a1 + "," + b1 + "&" + reachRange, http.StatusOK, "", &agency},
		{"G", "/api/v1/reach/plan?campaigns=" + a1 + "," + b1 + "&" + reachRange, http.StatusBadRequest, "invalid", nil},
		{"M", "/api/v1/campaigns/" + a1 + "/reach/plan?" + reachRange, http.StatusForbidden, "forbidden", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange + "&campaigns=" + a1, http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/reach?" + reachRange, http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/reach?campaigns=" + a1 + "," + a1 + "&" + reachRange, http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange + "&by=region", http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange + "&waste_above=0", http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange + "&levels=1,21", http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?" + reachRange + "&colour=red", http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach?from=2026-11-21&to=2026-11-20", http.StatusBadRequest, "invalid", nil},
		{"A", "/api/v1/campaigns/" + a1 + "/reach/plan?" + reachRange + "&max_scale=0.5", http.StatusBadRequest, "invalid", nil},
	} {
		if st, code := env.get(t, tc.who, tc.path, tc.out); st != tc.status || code != tc.code {
			t.Errorf("%s GET %s: %d %q, want %d %q", tc.who, tc.path, st, code, tc.status, tc.code)
		}
	}

	// The agency's report combines two advertisers: News holds users 1–60
	// (A) and 51–200 (B), Video 41–100. Every published user count is 0 or
	// at least 50.
	if agency.Advertisers != 2 || agency.Threshold != reach.DefaultMinUsers || *agency.Totals.Reach != 200 {
		t.Errorf("agency: %d advertisers, threshold %d, reach %v", agency.Advertisers, agency.Threshold, js(agency.Totals.Reach))
	}
	for _, g := range agency.Groups {
		for _, c := range []*int64{g.Reach, g.ExclusiveReach, g.DuplicatedReach} {
			if c != nil && *c > 0 && *c < reach.DefaultMinUsers {
				t.Errorf("agency group %s publishes %d users", g.Key, *c)
			}
		}
	}

	// Each advertiser's trail records the agency's read of its campaign.
	for _, c := range []*admeter.Campaign{env.a1, env.b1} {
		entries, err := env.meta.AuditEntries(t.Context(), admeter.AuditQuery{Tenant: c.Tenant, Action: "report.reach"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			found = found || e.Target == string(c.ID) && e.Outcome == "ok" && e.Details["via_grant_to"] != nil
		}
		if !found {
			t.Errorf("advertiser %s's trail has no entry for the agency's combined report: %+v", c.Tenant, entries)
		}
	}

	var media reach.Result
	if st, code := env.get(t, "M", "/api/v1/campaigns/"+a1+"/reach?"+reachRange, &media); st != http.StatusOK {
		t.Fatalf("media GET reach: %d %s", st, code)
	}
	if len(media.Groups) != 1 || media.Groups[0].Key != "Video" || *media.Groups[0].Reach != 60 || media.Groups[0].Cost != nil || media.Totals.Cost != nil {
		t.Errorf("media view: %s", js(media.Groups))
	}
}

// slowStore is the real event store, answering reach sets late.
type slowStore struct {
	reach.Store
	delay time.Duration
}

func (s slowStore) ReachSets(ctx context.Context, q store.ReachSetQuery) (*store.ReachSetResult, error) {
	time.Sleep(s.delay)
	return s.Store.ReachSets(ctx, q)
}

// TestReach_OutlastsWriteTimeout: a reach report that takes longer than
// the server's write timeout (as ReachSets over tens of millions of
// impressions does) still reaches the client.
func TestReach_OutlastsWriteTimeout(t *testing.T) {
	env := newReachEnvWith(t, func(s reach.Store) reach.Store { return slowStore{s, 500 * time.Millisecond} })
	var r reach.Result
	if st, code := env.get(t, "A", "/api/v1/campaigns/"+string(env.a1.ID)+"/reach?"+reachRange, &r); st != http.StatusOK || r.Report == nil {
		t.Fatalf("GET reach past the write timeout: %d %s", st, code)
	}
}
