package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
)

// editForm returns a function that sends the campaign edit form of
// env.campaign (GET, or POST with form) as its tenant's owner, in English.
func (env *consoleEnv) editForm() func(t *testing.T, method string, form url.Values) *httptest.ResponseRecorder {
	sess := &api.Session{User: &admeter.User{ID: "u_1", Name: "周九", Role: admeter.RoleOwner, Tenant: env.tenant.ID}, Tenant: env.tenant, ID: "s1", CSRF: "x"}
	path := "/console/campaigns/" + string(env.campaign.ID) + "/edit"
	return func(t *testing.T, method string, form url.Values) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path+"?lang=en", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetPathValue("id", string(env.campaign.ID))
		rec := httptest.NewRecorder()
		env.srv.editCampaign(rec, req, sess)
		return rec
	}
}

// TestEditCampaignCategories edits a placement's content categories through
// the console's form: the form shows them, saves valid ids (space or comma
// separated), and refuses an id outside the taxonomy without saving.
func TestEditCampaignCategories(t *testing.T) {
	env := newConsoleEnv(t, admeter.Placement{Name: "开屏", Media: "示例视频", Categories: []string{"483", "1"}})
	env.srv.SetEditor(env.meta)
	edit := env.editForm()
	if page := edit(t, http.MethodGet, nil).Body.String(); !strings.Contains(page, `name="pcats" value="483 1"`) {
		t.Errorf("edit form does not show the categories:\n%s", page)
	}
	stored := func(t *testing.T) []string {
		t.Helper()
		c, err := env.meta.Campaign(t.Context(), env.tenant.ID, env.campaign.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Placements[0].Categories
	}
	form := func(cats string) url.Values {
		return url.Values{"name": {env.campaign.Name}, "landing_url": {env.campaign.LandingURL}, "timezone": {env.campaign.Timezone},
			"pid": {string(env.campaign.Placements[0].ID)}, "pname": {"开屏"}, "pmedia": {"示例视频"}, "pcats": {cats}}
	}
	for _, tt := range []struct {
		name, cats string
		status     int
		message    string
		want       []string
	}{
		{"OK", "JLBCU7, 324，338", http.StatusSeeOther, "", []string{"JLBCU7", "324", "338"}},
		{"Unknown", "483 Sports", http.StatusBadRequest, `&#34;Sports&#34; is not an IAB Content Taxonomy 3.0 category id`, []string{"JLBCU7", "324", "338"}},
		{"Clear", "", http.StatusSeeOther, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := edit(t, http.MethodPost, form(tt.cats))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.message) {
				t.Fatalf("POST: %d, want %d with %q in\n%s", rec.Code, tt.status, tt.message, rec.Body.String())
			}
			if got := stored(t); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("stored categories = %#v, want %#v", got, tt.want)
			}
		})
	}
}
