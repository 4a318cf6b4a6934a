package console

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
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
