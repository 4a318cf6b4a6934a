package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/notify"
)

const incidentOperatorToken = "adm_op_incident_test"

// incidentEnv is the API with the notify service over a real SQLite store,
// and two tenants whose tokens are "token-A" and "token-B".
type incidentEnv struct {
	meta *sqlite.DB
	svc  *notify.Service
	srv  *httptest.Server
	a, b *admeter.Tenant
}

func newIncidentEnv(t *testing.T) *incidentEnv {
	t.Helper()
	env := &incidentEnv{meta: sqlite.NewDB(filepath.Join(t.TempDir(), "meta.db"))}
	if err := env.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.meta.Close() })
	mk := func(name string) *admeter.Tenant {
		tn := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
		if err := env.meta.CreateTenant(t.Context(), tn, api.HashToken("token-"+name)); err != nil {
			t.Fatal(err)
		}
		return tn
	}
	env.a, env.b = mk("A"), mk("B")
	audit := sqlite.NewAuditLog(env.meta, nil)
	ncfg := notify.DefaultConfig()
	ncfg.Seal = func(b []byte) ([]byte, error) { s := sha256.Sum256(b); return append(s[:], b...), nil }
	ncfg.Open = func(b []byte) ([]byte, error) { return b[32:], nil }
	svc, err := notify.New(ncfg, env.meta, nil, nil, audit, nil)
	if err != nil {
		t.Fatal(err)
	}
	env.svc = svc
	cfg := api.Config{PublicURL: "https://t.example.com", Accounts: accounts{env.meta}, Audit: auditLog{audit},
		OperatorTokenHash: api.HashToken(incidentOperatorToken), Incidents: svc}
	mux := http.NewServeMux()
	api.New(cfg, env.meta, env.meta, nil, nil).Register(mux)
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	return env
}

// call sends body (any JSON value, nil for none) with token and decodes
// the answer into out unless it is nil; it returns the status and the raw
// body.
func (env *incidentEnv) call(t *testing.T, token, method, path string, body, out any) (int, string) {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, env.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, buf.String())
		}
	}
	return resp.StatusCode, buf.String()
}

// fullIncident returns the JSON of a complete incident affecting tenants,
// discovered at discovered.
func fullIncident(discovered time.Time, tenants ...admeter.TenantID) map[string]any {
	txt := func(s string) map[string]string { return map[string]string{"zh": s + "(中)", "en": s} }
	return map[string]any{
		"title": txt("Title"), "summary": txt("Summary"), "occurred": discovered.Add(-time.Hour), "discovered": discovered,
		"data_categories": []string{"events"}, "impact": txt("Impact"), "measures_taken": txt("Taken"),
		"measures_planned": txt("Planned"), "advice": txt("Advice"), "remedies": txt("Remedies"), "contact": txt("Contact"),
		"severity": "medium", "tenants": tenants,
	}
}

func TestIncidentAPIValidation(t *testing.T) {
	env := newIncidentEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	without := func(keys ...string) map[string]any {
		m := fullIncident(now, env.a.ID)
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	tests := []struct {
		name   string
		token  string
		body   any
		status int
		want   []string
	}{
		{"Empty", incidentOperatorToken, "{}", 400, []string{"missing: title.zh, title.en, summary.zh", "advice.zh", "remedies.en", "contact.zh", "severity"}},
		{"NoAdviceOrRemedies", incidentOperatorToken, without("advice", "remedies"), 400, []string{"advice.zh, advice.en, remedies.zh, remedies.en"}},
		{"NoTenants", incidentOperatorToken, without("tenants"), 400, []string{"tenants (or all_tenants)"}},
		{"UnknownField", incidentOperatorToken, `{"titel": {}}`, 400, []string{"unknown field"}},
		{"UnknownTenant", incidentOperatorToken, fullIncident(now, "t_nobody"), 400, []string{"t_nobody does not exist"}},
		{"TenantToken", "token-A", fullIncident(now, env.a.ID), 401, []string{"not the operator token"}},
		{"NoToken", "", fullIncident(now, env.a.ID), 401, nil},
		{"OK", incidentOperatorToken, fullIncident(now, env.a.ID), 201, []string{`"report_overdue":false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := env.call(t, tt.token, "POST", "/api/v1/admin/incidents", tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %s", w, body)
				}
			}
		})
	}
	for _, tt := range []struct {
		body any
		want string
	}{
		{`{"kind": "party", "title": {"zh": "x", "en": "x"}, "body": {"zh": "x", "en": "x"}}`, "kind must be"},
		{`{"kind": "news", "title": {"zh": "x"}, "body": {"zh": "x", "en": "x"}}`, "title.en"},
	} {
		if status, body := env.call(t, incidentOperatorToken, "POST", "/api/v1/admin/announcements", tt.body, nil); status != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("announcement %v: %d %s", tt.body, status, body)
		}
	}
}

func TestIncidentAPIFlow(t *testing.T) {
	env := newIncidentEnv(t)
	op := incidentOperatorToken
	// Discovered four days ago: with the default 72 h window the regulator
	// report is overdue.
	discovered := time.Now().UTC().Add(-96 * time.Hour).Truncate(time.Second)
	var inc struct {
		ID            string    `json:"id"`
		ReportDue     time.Time `json:"report_due"`
		ReportOverdue bool      `json:"report_overdue"`
		Advice        admeter.Text
	}
	if status, body := env.call(t, op, "POST", "/api/v1/admin/incidents", fullIncident(discovered, env.a.ID), &inc); status != 201 {
		t.Fatalf("record: %d %s", status, body)
	}
	if !inc.ReportDue.Equal(discovered.Add(72*time.Hour)) || !inc.ReportOverdue {
		t.Fatalf("report due %v overdue %v", inc.ReportDue, inc.ReportOverdue)
	}
	var list struct {
		Overdue int     `json:"reports_overdue"`
		Window  float64 `json:"report_window_hours"`
	}
	env.call(t, op, "GET", "/api/v1/admin/incidents", nil, &list)
	if list.Overdue != 1 || list.Window != 72 {
		t.Fatalf("list: %+v", list)
	}

	// Notification settings are account settings: a signed-in owner or
	// admin changes them, never an API token.
	if status, body := env.call(t, "token-A", "PATCH", "/api/v1/notifications", `{"email": "sec@a.example"}`, nil); status != 403 || !strings.Contains(body, "account:manage") {
		t.Fatalf("token changed notification settings: %d %s", status, body)
	}
	email, hook := "sec@a.example", "https://hooks.a.example/admeter"
	if _, _, err := env.svc.SetSettings(t.Context(), "user:u_a", env.a.ID, notify.SettingsUpdate{Email: &email, WebhookURL: &hook}); err != nil {
		t.Fatal(err)
	}

	var n struct {
		ID         string `json:"id"`
		Kind       string `json:"kind"`
		Deliveries []struct {
			Channel, Recipient, Status string
		} `json:"deliveries"`
	}
	if status, body := env.call(t, op, "POST", "/api/v1/admin/incidents/"+inc.ID+"/notify", nil, &n); status != 202 {
		t.Fatalf("notify: %d %s", status, body)
	}
	if n.Kind != "incident" || len(n.Deliveries) != 2 {
		t.Fatalf("notice %+v", n)
	}
	if status, body := env.call(t, op, "POST", "/api/v1/admin/incidents/"+inc.ID+"/notify", `{"note": {"zh": "只有中文"}}`, nil); status != 400 || !strings.Contains(body, "both languages") {
		t.Fatalf("one-language note: %d %s", status, body)
	}

	// Partial update: only the English advice changes.
	var upd struct {
		Advice admeter.Text `json:"advice"`
	}
	if status, body := env.call(t, op, "PATCH", "/api/v1/admin/incidents/"+inc.ID, `{"advice": {"en": "Rotate keys"}}`, &upd); status != 200 {
		t.Fatalf("patch: %d %s", status, body)
	}
	if upd.Advice != (admeter.Text{ZH: "Advice(中)", EN: "Rotate keys"}) {
		t.Fatalf("advice after patch %+v", upd.Advice)
	}

	// Tenants see their own notices only.
	var mine struct {
		Notices []struct{ ID string } `json:"notices"`
	}
	env.call(t, "token-A", "GET", "/api/v1/notices", nil, &mine)
	if len(mine.Notices) != 1 || mine.Notices[0].ID != n.ID {
		t.Fatalf("tenant A notices %+v", mine)
	}
	env.call(t, "token-B", "GET", "/api/v1/notices", nil, &mine)
	if len(mine.Notices) != 0 {
		t.Fatalf("tenant B sees %d notices", len(mine.Notices))
	}
	if status, _ := env.call(t, "token-B", "GET", "/api/v1/notices/"+n.ID, nil, nil); status != 404 {
		t.Fatalf("tenant B reads A's notice: %d", status)
	}
	if status, body := env.call(t, "token-A", "GET", "/api/v1/notices/"+n.ID, nil, nil); status != 200 || strings.Contains(body, string(env.b.ID)) ||
		!strings.Contains(body, "个人自主防范") {
		t.Fatalf("tenant A's notice: %d %s", status, body)
	}

	// Reporting to the regulator clears the overdue flag.
	var rep struct {
		ReportOverdue bool   `json:"report_overdue"`
		ReportRef     string `json:"report_ref"`
	}
	if status, body := env.call(t, op, "POST", "/api/v1/admin/incidents/"+inc.ID+"/reported", `{"reference": "REF-1"}`, &rep); status != 200 || rep.ReportOverdue || rep.ReportRef != "REF-1" {
		t.Fatalf("reported: %d %s", status, body)
	}
	if status, _ := env.call(t, op, "GET", "/api/v1/admin/incidents/in_nothere", nil, nil); status != 404 {
		t.Fatalf("missing incident: %d", status)
	}

	var an struct {
		Critical bool `json:"critical"`
		Notices  []struct {
			Tenants int `json:"tenants"`
		} `json:"notices"`
	}
	if status, body := env.call(t, op, "POST", "/api/v1/admin/announcements",
		`{"kind": "maintenance", "title": {"zh": "维护", "en": "Maintenance"}, "body": {"zh": "周六", "en": "Saturday"}}`, &an); status != 202 {
		t.Fatalf("announce: %d %s", status, body)
	}
	if !an.Critical || len(an.Notices) != 1 || an.Notices[0].Tenants != 2 {
		t.Fatalf("announcement %+v", an)
	}
}
