package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
)

// testToken is the bootstrap API token of the tenant of campaignEnv.
const testToken = "adm_test_token"

// campaignEnv is the API over a real SQLite metadata store, with its audit
// record, and one advertiser whose bootstrap token is testToken.
type campaignEnv struct {
	meta   *sqlite.DB
	srv    *httptest.Server
	tenant *admeter.Tenant
}

// accounts is the metadata store as the API's AccountService: API tokens
// authenticate; signing in is not part of these tests.
type accounts struct{ *sqlite.DB }

var errNoSessions = errors.New("sessions are not part of these tests")

func (accounts) Credentials(context.Context, string) (*admeter.User, api.Credentials, error) {
	return nil, api.Credentials{}, errNoSessions
}

func (accounts) CreateSession(context.Context, *admeter.User, [32]byte, time.Time, string) (string, error) {
	return "", errNoSessions
}

func (accounts) Session(context.Context, [32]byte, time.Time) (*admeter.User, string, error) {
	return nil, "", errNoSessions
}

// auditLog is the store's audit record as the API's AuditLog.
type auditLog struct{ *sqlite.AuditLog }

func (a auditLog) AuditEntries(ctx context.Context, q api.AuditQuery) ([]admeter.AuditEntry, error) {
	return a.DB.AuditEntries(ctx, admeter.AuditQuery{Tenant: q.Tenant, After: q.After, Limit: q.Limit, Action: q.Action})
}

func newCampaignEnv(t *testing.T) *campaignEnv {
	t.Helper()
	env := &campaignEnv{meta: sqlite.NewDB(filepath.Join(t.TempDir(), "meta.db"))}
	if err := env.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.meta.Close() })
	env.tenant = &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	if err := env.meta.CreateTenant(t.Context(), env.tenant, api.HashToken(testToken)); err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{PublicURL: "https://t.example.com", Accounts: accounts{env.meta},
		Audit: auditLog{sqlite.NewAuditLog(env.meta, nil)}}
	mux := http.NewServeMux()
	api.New(cfg, env.meta, env.meta, nil, nil).Register(mux)
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	return env
}

// call sends body (JSON text, "" for none) with the tenant's token and
// decodes the answer into out unless it is nil; it returns the status.
func (env *campaignEnv) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, buf.String())
		}
	}
	return resp.StatusCode
}

// attribution is the "attribution" member of a campaign as the API shows it.
type attribution struct {
	ClickWindowDays int `json:"click_window_days"`
	ViewWindowDays  int `json:"view_window_days"`
	Rules           map[string]struct {
		ClickWindowDays int `json:"click_window_days"`
		ViewWindowDays  int `json:"view_window_days"`
	} `json:"rules"`
	ClickIDParam string `json:"click_id_param"`
}

// campaignOut is the part of a campaign the tests read.
type campaignOut struct {
	ID          admeter.CampaignID         `json:"id"`
	Name        string                     `json:"name"`
	Attribution map[string]json.RawMessage `json:"attribution"`
	Error       struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// canonical re-encodes a JSON value with sorted keys and no space.
func canonical(t *testing.T, raw any) string {
	t.Helper()
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(v)
	return string(b)
}

const campaignBody = `{"name": "Spring", "landing_url": "https://shop.example.com/",
	"placements": [{"name": "banner", "media": "news.example.com"}]`

func TestCreateCampaign_Attribution(t *testing.T) {
	env := newCampaignEnv(t)
	for _, tt := range []struct {
		name  string
		input string // the attribution member, "" for none
		show  string // the attribution shown
		want  admeter.Attribution
	}{
		{"Omitted", ``,
			`{"click_id_param":"","click_window_days":7,"rules":{},"view_window_days":1}`,
			admeter.Attribution{}},
		{"Empty", `{}`,
			`{"click_id_param":"","click_window_days":7,"rules":{},"view_window_days":1}`,
			admeter.Attribution{}},
		{"Full", `{"click_window_days": 7, "view_window_days": 1, "rules": {"order": {"click_window_days": 30, "view_window_days": 0}}, "click_id_param": "admeter_click_id"}`,
			`{"click_id_param":"admeter_click_id","click_window_days":7,"rules":{"order":{"click_window_days":30,"view_window_days":0}},"view_window_days":1}`,
			admeter.Attribution{Default: &admeter.DefaultAttributionRule,
				ByType:       map[string]admeter.AttributionRule{"order": {ClickWindowDays: 30}},
				ClickIDParam: "admeter_click_id"}},
		// A window left out is the default's; a rule's is the campaign's.
		{"Partial", `{"click_window_days": 14, "rules": {"lead": {"view_window_days": 90}, "order": {}}}`,
			`{"click_id_param":"","click_window_days":14,"rules":{"lead":{"click_window_days":14,"view_window_days":90},"order":{"click_window_days":14,"view_window_days":1}},"view_window_days":1}`,
			admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 14, ViewWindowDays: 1},
				ByType: map[string]admeter.AttributionRule{"lead": {ClickWindowDays: 14, ViewWindowDays: 90}, "order": {ClickWindowDays: 14, ViewWindowDays: 1}}}},
		{"Limits", `{"click_window_days": 0, "view_window_days": 90}`,
			`{"click_id_param":"","click_window_days":0,"rules":{},"view_window_days":90}`,
			admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 0, ViewWindowDays: 90}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := campaignBody + `}`
			if tt.input != "" {
				body = campaignBody + `, "attribution": ` + tt.input + `}`
			}
			var created, shown campaignOut
			if code := env.call(t, "POST", "/api/v1/campaigns", body, &created); code != http.StatusCreated {
				t.Fatalf("create: %d %+v", code, created.Error)
			}
			if got := canonical(t, created.Attribution); got != tt.show {
				t.Errorf("create shows attribution\n%s\nwant\n%s", got, tt.show)
			}
			if code := env.call(t, "GET", "/api/v1/campaigns/"+string(created.ID), "", &shown); code != http.StatusOK {
				t.Fatalf("show: %d", code)
			}
			if got := canonical(t, shown.Attribution); got != tt.show {
				t.Errorf("show shows attribution\n%s\nwant\n%s", got, tt.show)
			}
			c, err := env.meta.Campaign(t.Context(), env.tenant.ID, created.ID)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(c.Attribution, tt.want) {
				t.Errorf("stored Attribution = %+v, want %+v", c.Attribution, tt.want)
			}
		})
	}

	var list struct {
		Campaigns []campaignOut `json:"campaigns"`
	}
	if code := env.call(t, "GET", "/api/v1/campaigns", "", &list); code != http.StatusOK || len(list.Campaigns) != 5 {
		t.Fatalf("list: %d, %d campaigns", code, len(list.Campaigns))
	}
	for _, c := range list.Campaigns {
		var a attribution
		if err := json.Unmarshal([]byte(canonical(t, c.Attribution)), &a); err != nil || a.Rules == nil {
			t.Errorf("listed campaign %s: attribution %s (%v): want windows and rules", c.ID, canonical(t, c.Attribution), err)
		}
	}
}

func TestCreateCampaign_AttributionInvalid(t *testing.T) {
	env := newCampaignEnv(t)
	for _, tt := range []struct {
		name  string
		input string
		want  string // in the error message
	}{
		{"ClickWindow91", `{"click_window_days": 91}`, "attribution windows are 0 to 90 days"},
		{"NegativeView", `{"view_window_days": -1}`, "attribution windows are 0 to 90 days"},
		{"RuleWindow", `{"rules": {"order": {"click_window_days": 120}}}`, "attribution of order: attribution windows are 0 to 90 days"},
		{"BadType", `{"rules": {"Order": {}}}`, `conversion type "Order"`},
		{"EmptyType", `{"rules": {"": {}}}`, `conversion type ""`},
		{"BadParam", `{"click_id_param": "click id"}`, `click_id_param "click id"`},
		{"LongParam", `{"click_id_param": "` + strings.Repeat("p", 41) + `"}`, "longer than 40 bytes"},
		{"FractionalDays", `{"click_window_days": 1.5}`, "click_window_days"},
		{"UnknownMember", `{"click_window": 7}`, "click_window"},
		{"NotAnObject", `7`, "attribution"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out campaignOut
			code := env.call(t, "POST", "/api/v1/campaigns", campaignBody+`, "attribution": `+tt.input+`}`, &out)
			if code != http.StatusBadRequest || out.Error.Code != admeter.EINVALID || !strings.Contains(out.Error.Message, tt.want) {
				t.Fatalf("create: %d %+v, want 400 naming %q", code, out.Error, tt.want)
			}
		})
	}
	if cs, err := env.meta.Campaigns(t.Context(), env.tenant.ID); err != nil || len(cs) != 0 {
		t.Fatalf("%d campaigns after invalid creates (%v)", len(cs), err)
	}
}

func TestUpdateCampaign_Attribution(t *testing.T) {
	env := newCampaignEnv(t)
	var created campaignOut
	if code := env.call(t, "POST", "/api/v1/campaigns", campaignBody+`, "attribution": {"click_window_days": 30, "rules": {"order": {"view_window_days": 0}}}}`, &created); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, created.Error)
	}
	path := "/api/v1/campaigns/" + string(created.ID)
	for _, tt := range []struct {
		name   string
		patch  string
		status int
		show   string // the attribution shown after the patch
		audit  bool   // whether a campaign.attribution entry is written
	}{
		{"OtherField", `{"name": "Summer"}`, http.StatusOK,
			`{"click_id_param":"","click_window_days":30,"rules":{"order":{"click_window_days":30,"view_window_days":0}},"view_window_days":1}`, false},
		{"ClickIDParamOnly", `{"attribution": {"click_id_param": "cid"}}`, http.StatusOK,
			`{"click_id_param":"cid","click_window_days":30,"rules":{"order":{"click_window_days":30,"view_window_days":0}},"view_window_days":1}`, true},
		{"Windows", `{"attribution": {"view_window_days": 3}}`, http.StatusOK,
			`{"click_id_param":"cid","click_window_days":30,"rules":{"order":{"click_window_days":30,"view_window_days":0}},"view_window_days":3}`, true},
		{"SameAgain", `{"attribution": {"view_window_days": 3}}`, http.StatusOK,
			`{"click_id_param":"cid","click_window_days":30,"rules":{"order":{"click_window_days":30,"view_window_days":0}},"view_window_days":3}`, false},
		{"ReplaceRules", `{"attribution": {"rules": {"activation": {"click_window_days": 1}}}}`, http.StatusOK,
			`{"click_id_param":"cid","click_window_days":30,"rules":{"activation":{"click_window_days":1,"view_window_days":3}},"view_window_days":3}`, true},
		{"Invalid", `{"attribution": {"click_window_days": 91}}`, http.StatusBadRequest,
			`{"click_id_param":"cid","click_window_days":30,"rules":{"activation":{"click_window_days":1,"view_window_days":3}},"view_window_days":3}`, false},
		{"ClearAll", `{"attribution": {"click_window_days": 7, "view_window_days": 1, "rules": {}, "click_id_param": ""}}`, http.StatusOK,
			`{"click_id_param":"","click_window_days":7,"rules":{},"view_window_days":1}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := env.auditCount(t, "campaign.attribution")
			var out, shown campaignOut
			if code := env.call(t, "PATCH", path, tt.patch, &out); code != tt.status {
				t.Fatalf("patch: %d %+v, want %d", code, out.Error, tt.status)
			}
			if tt.status == http.StatusOK {
				if got := canonical(t, out.Attribution); got != tt.show {
					t.Errorf("patch answers attribution\n%s\nwant\n%s", got, tt.show)
				}
			} else if !strings.Contains(out.Error.Message, "attribution windows are 0 to 90 days") {
				t.Errorf("error %+v does not give the domain's message", out.Error)
			}
			if code := env.call(t, "GET", path, "", &shown); code != http.StatusOK {
				t.Fatalf("show: %d", code)
			}
			if got := canonical(t, shown.Attribution); got != tt.show {
				t.Errorf("show after patch: attribution\n%s\nwant\n%s", got, tt.show)
			}
			if n := env.auditCount(t, "campaign.attribution") - before; n != map[bool]int{true: 1}[tt.audit] {
				t.Errorf("%d campaign.attribution audit entries written, want audit=%v", n, tt.audit)
			}
		})
	}

	// The entry says what changed, and the update itself is audited as
	// every campaign update is.
	es, err := env.meta.AuditEntries(t.Context(), admeter.AuditQuery{Tenant: env.tenant.ID, Action: "campaign."})
	if err != nil {
		t.Fatal(err)
	}
	var last admeter.AuditEntry
	updates := 0
	for _, e := range es {
		switch e.Action {
		case "campaign.attribution":
			last = e
		case "campaign.update":
			updates++
		}
	}
	if updates != 7 {
		t.Errorf("%d campaign.update entries, want 7", updates)
	}
	if last.Target != string(created.ID) || last.Outcome != "ok" || !strings.HasPrefix(last.Actor, "token:") {
		t.Fatalf("last campaign.attribution entry: %+v", last)
	}
	from := `{"click_id_param":"cid","click_window_days":30,"rules":{"activation":{"click_window_days":1,"view_window_days":3}},"view_window_days":3}`
	to := `{"click_id_param":"","click_window_days":7,"rules":{},"view_window_days":1}`
	if got := canonical(t, last.Details["from"]); got != from {
		t.Errorf("details.from = %s, want %s", got, from)
	}
	if got := canonical(t, last.Details["to"]); got != to {
		t.Errorf("details.to = %s, want %s", got, to)
	}
}

// auditCount returns how many audit entries of the tenant have action.
func (env *campaignEnv) auditCount(t *testing.T, action string) int {
	t.Helper()
	es, err := env.meta.AuditEntries(t.Context(), admeter.AuditQuery{Tenant: env.tenant.ID, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
