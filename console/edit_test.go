package console

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
)

// TestEditCampaignAttribution edits the default attribution windows and the
// click-id parameter through the console's form; per-type rules, which the
// form only shows, are kept.
func TestEditCampaignAttribution(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "示例视频"})
	env.srv.SetEditor(env.meta)
	ctx := t.Context()
	env.campaign.Attribution.ByType = map[string]admeter.AttributionRule{"order": {ClickWindowDays: 30}}
	if err := env.meta.UpdateCampaign(ctx, env.campaign); err != nil {
		t.Fatal(err)
	}
	edit := env.editForm()

	page := edit(t, http.MethodGet, nil).Body.String()
	for _, want := range []string{`name="click_days" type="number" min="0" max="90" required value="7"`,
		`name="view_days" type="number" min="0" max="90" required value="1"`, `name="click_id_param"`, `<code>order</code> 30/0`} {
		if !strings.Contains(page, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}

	form := func(click, view, param string) url.Values {
		return url.Values{"name": {env.campaign.Name}, "landing_url": {env.campaign.LandingURL}, "timezone": {env.campaign.Timezone},
			"pid": {string(env.campaign.Placements[0].ID)}, "pname": {"开屏"}, "pmedia": {"示例视频"},
			"click_days": {click}, "view_days": {view}, "click_id_param": {param}}
	}
	want := admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 14, ViewWindowDays: 0},
		ByType: map[string]admeter.AttributionRule{"order": {ClickWindowDays: 30}}, ClickIDParam: "admeter_click_id"}
	for _, tt := range []struct {
		name             string
		click, view, cid string
		status           int
		message          string
	}{
		{"OK", "14", "0", " admeter_click_id ", http.StatusSeeOther, ""},
		{"Window91", "91", "0", "cid", http.StatusBadRequest, "attribution windows are 0 to 90 days"},
		{"NotANumber", "a week", "0", "cid", http.StatusBadRequest, "whole days from 0 to 90"},
		{"BadParam", "14", "0", "click id", http.StatusBadRequest, "use ASCII letters, digits"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := edit(t, http.MethodPost, form(tt.click, tt.view, tt.cid))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.message) {
				t.Fatalf("POST: %d, want %d with %q in\n%s", rec.Code, tt.status, tt.message, rec.Body.String())
			}
			got, err := env.meta.Campaign(ctx, env.tenant.ID, env.campaign.ID)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(got.Attribution, want) {
				t.Fatalf("stored Attribution = %+v, want %+v", got.Attribution, want)
			}
		})
	}
}

// auditLog is the store's audit record as the API's AuditLog, so that the
// console's audit entries can be read back.
type auditLog struct{ *sqlite.AuditLog }

func (a auditLog) AuditEntries(ctx context.Context, q api.AuditQuery) ([]admeter.AuditEntry, error) {
	return a.DB.AuditEntries(ctx, admeter.AuditQuery{Tenant: q.Tenant, After: q.After, Limit: q.Limit, Action: q.Action})
}

// recordAudit makes env's console record its audit entries in env.meta.
func (env *consoleEnv) recordAudit() {
	env.srv.sessions = api.New(api.Config{Now: func() time.Time { return now }, Audit: auditLog{sqlite.NewAuditLog(env.meta, nil)}},
		env.meta, env.meta, nil, nil)
}

// auditEntries returns env.tenant's audit entries with action.
func (env *consoleEnv) auditEntries(t *testing.T, action string) []admeter.AuditEntry {
	t.Helper()
	es, err := env.meta.AuditEntries(t.Context(), admeter.AuditQuery{Tenant: env.tenant.ID, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// editAs sends the edit form of campaign id (GET, or POST with form) as
// the owner of tenant, in lang.
func (env *consoleEnv) editAs(t *testing.T, tenant *admeter.Tenant, id admeter.CampaignID, lang, method string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	sess := &api.Session{User: &admeter.User{ID: "u_2", Name: "吴十", Role: admeter.RoleOwner, Tenant: tenant.ID}, Tenant: tenant, ID: "s2", CSRF: "x"}
	req := httptest.NewRequest(method, "/console/campaigns/"+string(id)+"/edit?lang="+lang, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetPathValue("id", string(id))
	rec := httptest.NewRecorder()
	env.srv.editCampaign(rec, req, sess)
	return rec
}

// TestEditCampaignFrequencyThreshold edits the frequency threshold through
// the console's form: the form shows the stored value (empty for the
// default, which it names), saves a new one, goes back to the default when
// emptied, refuses a value out of range or not a whole number without
// saving and shows it again, and audits each change of the effective value.
func TestEditCampaignFrequencyThreshold(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "示例视频"})
	env.srv.SetEditor(env.meta)
	env.recordAudit()
	edit := env.editForm()

	page := edit(t, http.MethodGet, nil).Body.String()
	for _, want := range []string{`name="frequency_threshold" type="number" min="1" max="1000" step="1" value="" placeholder="10"`,
		"Frequency threshold (impressions per user)", "count as frequency waste. Empty: the default, 10."} {
		if !strings.Contains(page, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}
	zh := env.editAs(t, env.tenant, env.campaign.ID, "zh", http.MethodGet, nil).Body.String()
	for _, want := range []string{"频次阈值(每个用户的曝光次数)", "留空则使用默认值 10。"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese edit form lacks %s", want)
		}
	}

	form := func(threshold *string) url.Values {
		v := url.Values{"name": {env.campaign.Name}, "landing_url": {env.campaign.LandingURL}, "timezone": {env.campaign.Timezone},
			"pid": {string(env.campaign.Placements[0].ID)}, "pname": {"开屏"}, "pmedia": {"示例视频"}}
		if threshold != nil {
			v.Set("frequency_threshold", *threshold)
		}
		return v
	}
	text := func(s string) *string { return &s }
	type change struct{ from, to int }
	for _, tt := range []struct {
		name      string
		threshold *string // nil: the form lacks the field
		status    int
		message   string
		stored    int
		audit     *change // the campaign.frequency_threshold entry written, nil for none
	}{
		{"Set", text("3"), http.StatusSeeOther, "", 3, &change{10, 3}},
		{"Shown", nil, http.StatusSeeOther, "", 3, nil},
		{"Spaces", text(" 1000 "), http.StatusSeeOther, "", 1000, &change{3, 1000}},
		{"OverMax", text("1001"), http.StatusBadRequest, "frequency_threshold 1001 is out of range: use 1 to 1000", 1000, nil},
		{"Negative", text("-2"), http.StatusBadRequest, "frequency_threshold -2 is out of range", 1000, nil},
		{"Fraction", text("2.5"), http.StatusBadRequest, "whole number of impressions per user from 1 to 1000, or empty for the default (10)", 1000, nil},
		{"Word", text("ten"), http.StatusBadRequest, "whole number of impressions", 1000, nil},
		{"Default", text(""), http.StatusSeeOther, "", 0, &change{1000, 10}},
		{"DefaultExplicitly", text("10"), http.StatusSeeOther, "", 10, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(env.auditEntries(t, "campaign.frequency_threshold"))
			if tt.name == "Shown" {
				if page := edit(t, http.MethodGet, nil).Body.String(); !strings.Contains(page, `name="frequency_threshold" type="number" min="1" max="1000" step="1" value="3"`) {
					t.Errorf("edit form does not show the stored threshold 3")
				}
			}
			rec := edit(t, http.MethodPost, form(tt.threshold))
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.message) {
				t.Fatalf("POST: %d, want %d with %q in\n%s", rec.Code, tt.status, tt.message, body)
			}
			if tt.status == http.StatusBadRequest && !strings.Contains(body, `name="frequency_threshold" type="number" min="1" max="1000" step="1" value="`+*tt.threshold+`"`) {
				t.Errorf("the refused form does not show the threshold as sent, %q", *tt.threshold)
			}
			c, err := env.meta.Campaign(t.Context(), env.tenant.ID, env.campaign.ID)
			if err != nil {
				t.Fatal(err)
			} else if c.FrequencyThreshold != tt.stored {
				t.Fatalf("stored FrequencyThreshold = %d, want %d", c.FrequencyThreshold, tt.stored)
			}
			es := env.auditEntries(t, "campaign.frequency_threshold")
			if tt.audit == nil {
				if len(es) != before {
					t.Fatalf("%d campaign.frequency_threshold entries written, want none", len(es)-before)
				}
				return
			}
			if len(es) != before+1 {
				t.Fatalf("%d campaign.frequency_threshold entries written, want 1", len(es)-before)
			}
			e := es[len(es)-1]
			if e.Target != string(env.campaign.ID) || e.Outcome != "ok" || e.Details["via"] != "console" ||
				fmt.Sprint(e.Details["from"]) != fmt.Sprint(tt.audit.from) || fmt.Sprint(e.Details["to"]) != fmt.Sprint(tt.audit.to) {
				t.Fatalf("entry %+v, want from %d to %d via console", e, tt.audit.from, tt.audit.to)
			}
		})
	}
}

// TestEditCampaignPrices edits placement prices through the console's
// form: it shows each placement's buying model and amount, saves, changes
// and clears them, keeps them when the form has no price fields, and
// refuses a price without a model or amount, an amount that is not yuan
// with at most 6 decimals, or one out of range, without saving and showing
// what was sent.
func TestEditCampaignPrices(t *testing.T) {
	env := newConsoleEnv(t,
		admeter.Placement{Name: "开屏", Media: "示例视频", Price: &admeter.Price{Model: admeter.CPM, Amount: 35 * admeter.MicroCNY}},
		admeter.Placement{Name: "信息流", Media: "示例新闻"})
	env.srv.SetEditor(env.meta)
	edit := env.editForm()
	ids := []string{string(env.campaign.Placements[0].ID), string(env.campaign.Placements[1].ID)}

	page := edit(t, http.MethodGet, nil).Body.String()
	for _, want := range []string{`<option value="cpm" selected>CPM (per 1,000 impressions)</option>`, `name="pamount" value="35.00"`,
		`<option value="" selected>None (cost unknown)</option>`, `name="pamount" value=""`, "Buying model", "Price (yuan)",
		`<option value="fixed">Fixed (total)</option>`, "enter 0 for a free (bonus) placement"} {
		if !strings.Contains(page, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}
	if n := strings.Count(page, `name="pmodel"`); n != 2 {
		t.Errorf("edit form has %d model fields, want 2", n)
	}
	zh := env.editAs(t, env.tenant, env.campaign.ID, "zh", http.MethodGet, nil).Body.String()
	for _, want := range []string{"购买方式", "价格(元)", `<option value="cpm" selected>CPM(每千次曝光)</option>`, "未设置(成本未知)"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese edit form lacks %s", want)
		}
	}

	form := func(models, amounts []string) url.Values {
		v := url.Values{"name": {env.campaign.Name}, "landing_url": {env.campaign.LandingURL}, "timezone": {env.campaign.Timezone},
			"pid": ids, "pname": {"开屏", "信息流"}, "pmedia": {"示例视频", "示例新闻"}}
		if models != nil {
			v["pmodel"], v["pamount"] = models, amounts
		}
		return v
	}
	changed := []*admeter.Price{{Model: admeter.CPC, Amount: 1_234_567}, {Model: admeter.Fixed, Amount: 0}}
	cleared := []*admeter.Price{nil, {Model: admeter.Fixed, Amount: 0}}
	for _, tt := range []struct {
		name             string
		models, amounts  []string
		status           int
		message, showing string // in the answer: a message, and what a refused form shows
		want             []*admeter.Price
	}{
		{"Change", []string{"cpc", "fixed"}, []string{" 1.234567 ", " 0 "}, http.StatusSeeOther, "", "", changed},
		{"NoPriceFields", nil, nil, http.StatusSeeOther, "", "", changed},
		{"Clear", []string{"", "fixed"}, []string{"", "0.00"}, http.StatusSeeOther, "", "", cleared},
		{"NoModel", []string{"", "fixed"}, []string{"35", "0"}, http.StatusBadRequest,
			"the price 35 has no buying model", `name="pamount" value="35"`, cleared},
		{"NoAmount", []string{"cpd", "fixed"}, []string{"", "0"}, http.StatusBadRequest,
			"a CPD price needs an amount in yuan", `<option value="cpd" selected>`, cleared},
		{"NotYuan", []string{"cpm", "fixed"}, []string{"¥35", "0"}, http.StatusBadRequest,
			"is not a number of yuan such as 35.00", `name="pamount" value="¥35"`, cleared},
		{"Decimals", []string{"cpm", "fixed"}, []string{"0.0000001", "0"}, http.StatusBadRequest,
			"has more than 6 decimals", `name="pamount" value="0.0000001"`, cleared},
		{"TooMuch", []string{"cpm", "fixed"}, []string{"1", "1000000000.01"}, http.StatusBadRequest,
			"placements[1].price.amount 1000000000.01 is more than 1000000000.00 yuan", `name="pamount" value="1000000000.01"`, cleared},
		{"UnknownModel", []string{"cpa", "fixed"}, []string{"1", "0"}, http.StatusBadRequest,
			"is not a buying model; use cpm, cpc, cpd or fixed", `name="pamount" value="1"`, cleared},
		{"NotLinedUp", []string{"cpm"}, []string{"1"}, http.StatusBadRequest, "do not line up", "", cleared},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := edit(t, http.MethodPost, form(tt.models, tt.amounts))
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.message) || !strings.Contains(body, tt.showing) {
				t.Fatalf("POST: %d, want %d with %q and %q in\n%s", rec.Code, tt.status, tt.message, tt.showing, body)
			}
			c, err := env.meta.Campaign(t.Context(), env.tenant.ID, env.campaign.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []*admeter.Price
			for _, p := range c.Placements {
				got = append(got, p.Price)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("stored prices = %s, want %s", fmt.Sprint(deref(got)), fmt.Sprint(deref(tt.want)))
			}
		})
	}
}

// deref returns the prices ps point to, for messages.
func deref(ps []*admeter.Price) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// TestEditCampaignPrices_Media: a media tenant's edit form shows no price,
// and price fields it sends anyway change nothing.
func TestEditCampaignPrices_Media(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "示例视频"})
	env.srv.SetEditor(env.meta)
	ctx := t.Context()
	media := &admeter.Tenant{Name: "示例视频", Kind: admeter.TenantMedia}
	if err := env.meta.CreateTenant(ctx, media, sha256.Sum256([]byte("media"))); err != nil {
		t.Fatal(err)
	}
	price := &admeter.Price{Model: admeter.CPM, Amount: 35 * admeter.MicroCNY}
	c := &admeter.Campaign{Tenant: media.ID, Name: "自有推广", LandingURL: "https://video.example.com/",
		Placements: []admeter.Placement{{Name: "开屏", Media: "示例视频", Price: price}}}
	if err := env.meta.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		page := env.editAs(t, media, c.ID, lang, http.MethodGet, nil).Body.String()
		if !strings.Contains(page, `name="frequency_threshold"`) {
			t.Fatalf("%s: not the edit form:\n%s", lang, page)
		}
		for _, leak := range []string{"pmodel", "pamount", "35.00", "Buying model", "购买方式", "CPM"} {
			if strings.Contains(page, leak) {
				t.Errorf("%s: a media tenant's edit form shows %q", lang, leak)
			}
		}
	}
	form := url.Values{"name": {c.Name}, "landing_url": {c.LandingURL}, "timezone": {c.Timezone},
		"pid": {string(c.Placements[0].ID)}, "pname": {"开屏"}, "pmedia": {"示例视频"}, "pmodel": {""}, "pamount": {""}}
	if rec := env.editAs(t, media, c.ID, "en", http.MethodPost, form); rec.Code != http.StatusSeeOther {
		t.Fatalf("POST: %d\n%s", rec.Code, rec.Body.String())
	}
	got, err := env.meta.Campaign(ctx, media.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got.Placements[0].Price, price) {
		t.Fatalf("after a media tenant's edit: price %+v, want %+v", got.Placements[0].Price, price)
	}
}

// TestBuyingModelLabels: the form's price_<model> label of every buying
// model exists in both languages (the template builds the key, which
// TestEveryLabelTranslated cannot see).
func TestBuyingModelLabels(t *testing.T) {
	for _, m := range admeter.BuyingModels {
		for _, lang := range []string{langZH, langEN} {
			if _, ok := messages[lang]["price_"+string(m)]; !ok {
				t.Errorf("buying model %s has no %s label", m, lang)
			}
		}
	}
}
