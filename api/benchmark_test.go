package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/benchmark"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/store/duckdb"
	st "github.com/admeter/admeter/store/storetest"
)

// benchEnv is the API with the benchmark service over real stores: five
// gaming tenants (tokens bench-0…bench-4) whose campaigns each reach 60
// users on "Douyin" with 3 clicks, and one tenant without an industry
// (bench-x).
type benchEnv struct {
	srv       *httptest.Server
	meta      *sqlite.DB
	campaigns []*admeter.Campaign
	tenants   []*admeter.Tenant
}

const benchOperator = "adm_op_bench"

func newBenchEnv(t *testing.T) *benchEnv {
	t.Helper()
	dir := t.TempDir()
	env := &benchEnv{meta: sqlite.NewDB(filepath.Join(dir, "meta.db"))}
	if err := env.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.meta.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	ctx := context.Background()
	at := time.Date(2026, 3, 11, 2, 0, 0, 0, time.UTC)
	var evs []admeter.Event
	for i := range 6 {
		ind, name := admeter.IndustryGaming, fmt.Sprintf("BenchCo%d", i)
		if i == 5 {
			ind, name = "", "BenchCoX"
		}
		tenant := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser, Industry: ind}
		tok := fmt.Sprintf("bench-%d", i)
		if i == 5 {
			tok = "bench-x"
		}
		if err := env.meta.CreateTenant(ctx, tenant, api.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		c := &admeter.Campaign{Tenant: tenant.ID, Name: name, LandingURL: "https://shop.example.com/",
			Placements: []admeter.Placement{{Name: "feed", Media: "Douyin"}}}
		if err := env.meta.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		env.campaigns, env.tenants = append(env.campaigns, c), append(env.tenants, tenant)
		on := func(e *admeter.Event) { e.Tenant, e.Campaign, e.Placement = tenant.ID, c.ID, c.Placements[0].ID }
		for u := 1; u <= 60; u++ {
			evs = append(evs, st.Imp(at, on, st.User(u), st.VF(i*1000+u)))
		}
		for u := 1; u <= 3; u++ {
			evs = append(evs, st.Click(at.Add(time.Minute), on, st.User(u)))
		}
	}
	if err := events.Insert(ctx, evs, 1); err != nil {
		t.Fatal(err)
	}
	svc, err := benchmark.New(benchmark.DefaultConfig(), env.meta, events, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{PublicURL: "https://t.example.com", Accounts: accounts{env.meta}, OperatorTokenHash: api.HashToken(benchOperator),
		Audit: auditLog{sqlite.NewAuditLog(env.meta, nil)}, Benchmarks: svc, Industries: env.meta}
	mux := http.NewServeMux()
	api.New(cfg, env.meta, env.meta, nil, nil).Register(mux)
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	return env
}

// call sends body with token and returns the status and the body.
func (env *benchEnv) call(t *testing.T, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestBenchmarkAPI(t *testing.T) {
	env := newBenchEnv(t)
	publish := `{"from":"2026-03-10","to":"2026-03-12"}`
	cid := string(env.campaigns[0].ID)
	tests := []struct {
		name, token, method, path, body string
		want                            int
		contains                        []string
	}{
		{"compare before publishing", "bench-0", "GET", "/api/v1/campaigns/" + cid + "/benchmark", "", 404, []string{"no benchmarks are published"}},
		{"publish without a token", "", "POST", "/api/v1/admin/benchmarks", publish, 401, nil},
		{"publish with a tenant token", "bench-0", "POST", "/api/v1/admin/benchmarks", publish, 401, nil},
		{"publish without a period", benchOperator, "POST", "/api/v1/admin/benchmarks", `{}`, 400, []string{"from and to are required"}},
		{"publish looser rules", benchOperator, "POST", "/api/v1/admin/benchmarks", `{"from":"2026-03-10","to":"2026-03-12","min_tenants":2,"min_users":5}`, 201,
			[]string{`"min_tenants":5`, `"min_users":50`, `"media":"douyin"`}},
		{"publish stricter rules", benchOperator, "POST", "/api/v1/admin/benchmarks", `{"from":"2026-03-10","to":"2026-03-12","min_tenants":6}`, 201,
			[]string{`"min_tenants":6`, `"cells":[]`, `"withheld":2`}},
		{"publish", benchOperator, "POST", "/api/v1/admin/benchmarks", publish, 201,
			[]string{`"industry":"gaming"`, `"industry_zh":"游戏"`, `"ctr":{"pooled":0.05,`, `"ivt_rate":{"pooled":0,"p25":0,"p50":0,"p75":0,"tenants":5}`, `"viewable_rate":null`}},
		{"list snapshots", benchOperator, "GET", "/api/v1/admin/benchmarks", "", 200, []string{`"snapshots":[{"id":3`}},
		{"tenant reads the latest", "bench-x", "GET", "/api/v1/benchmarks", "", 200, []string{`"id":3`, `"media":""`, `"media":"douyin"`}},
		{"tenant reads a period", "bench-1", "GET", "/api/v1/benchmarks?period=2026-03-10/2026-03-12&industry=gaming", "", 200, []string{`"id":3`}},
		{"another industry", "bench-1", "GET", "/api/v1/benchmarks?industry=finance", "", 200, []string{`"cells":[]`}},
		{"undefined industry", "bench-1", "GET", "/api/v1/benchmarks?industry=cars", "", 400, []string{"industry must be one of"}},
		{"unpublished period", "bench-1", "GET", "/api/v1/benchmarks?period=2026-03-01/2026-03-02", "", 404, nil},
		{"bad period", "bench-1", "GET", "/api/v1/benchmarks?period=2026-03", "", 400, []string{"FROM/TO"}},
		{"compare", "bench-0", "GET", "/api/v1/campaigns/" + cid + "/benchmark", "", 200,
			[]string{`"industry":"gaming"`, `"measure":"ctr","value":0.05,"benchmark":{`, `"position":"p25_p50"`}},
		{"compare another tenant's campaign", "bench-1", "GET", "/api/v1/campaigns/" + cid + "/benchmark", "", 404, nil},
		{"compare without industry", "bench-x", "GET", "/api/v1/campaigns/" + string(env.campaigns[5].ID) + "/benchmark?from=2026-03-11&to=2026-03-11", "", 200,
			[]string{`"industry":""`, `"benchmarked":false`, "no industry set"}},
		{"compare with one date", "bench-0", "GET", "/api/v1/campaigns/" + cid + "/benchmark?from=2026-03-11", "", 400, nil},
		{"industries", "bench-0", "GET", "/api/v1/industries", "", 200, []string{`{"id":"automotive","zh":"汽车","en":"Automotive"}`}},
		{"operator sets an industry", benchOperator, "PATCH", "/api/v1/admin/tenants/" + string(env.tenants[5].ID), `{"industry":"travel"}`, 200, []string{`"industry":"travel"`}},
		{"operator sets an undefined industry", benchOperator, "PATCH", "/api/v1/admin/tenants/" + string(env.tenants[5].ID), `{"industry":"cars"}`, 400, nil},
		{"operator sets nothing", benchOperator, "PATCH", "/api/v1/admin/tenants/" + string(env.tenants[5].ID), `{}`, 400, nil},
		{"tenant may not use the operator route", "bench-x", "PATCH", "/api/v1/admin/tenants/" + string(env.tenants[5].ID), `{"industry":"travel"}`, 401, nil},
		// PATCH /api/v1/account needs a signed-in owner (account:manage),
		// which these tests do not sign in: a token is refused.
		{"token may not set the account's industry", "bench-x", "PATCH", "/api/v1/account", `{"industry":"education"}`, 403, nil},
		{"operator creates a tenant with an industry", benchOperator, "POST", "/api/v1/tenants", `{"name":"New","kind":"advertiser","industry":"finance"}`, 201, []string{`"industry":"finance"`}},
		{"operator creates a tenant with an undefined industry", benchOperator, "POST", "/api/v1/tenants", `{"name":"New","kind":"advertiser","industry":"cars"}`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := env.call(t, tt.token, tt.method, tt.path, tt.body)
			if st != tt.want {
				t.Fatalf("status %d, want %d: %s", st, tt.want, body)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body lacks %s:\n%s", c, body)
				}
			}
			// No benchmark answer names a tenant.
			if strings.Contains(tt.path, "benchmark") {
				for _, tn := range env.tenants {
					if strings.Contains(body, string(tn.ID)) || strings.Contains(body, tn.Name) {
						t.Errorf("body names tenant %s: %s", tn.Name, body)
					}
				}
			}
		})
	}
	got, err := env.meta.Tenant(t.Context(), env.tenants[5].ID)
	if err != nil || got.Industry != admeter.IndustryTravel {
		t.Fatalf("industry after the operator's PATCH = %+v, %v", got, err)
	}
	var snap struct {
		Cells []json.RawMessage `json:"cells"`
	}
	if _, body := env.call(t, "bench-0", "GET", "/api/v1/benchmarks", ""); json.Unmarshal([]byte(body), &snap) != nil || len(snap.Cells) != 2 {
		t.Fatalf("latest cells: %s", body)
	}
}
