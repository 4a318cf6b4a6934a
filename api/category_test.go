package api_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// placementsOut is the part of a campaign's placements the category tests
// read.
type placementsOut struct {
	ID         admeter.CampaignID `json:"id"`
	Placements []struct {
		ID         admeter.PlacementID `json:"id"`
		Name       string              `json:"name"`
		Categories []string            `json:"categories"`
	} `json:"placements"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// categories returns the categories of each placement of c, in order.
func (c placementsOut) categories() [][]string {
	var out [][]string
	for _, p := range c.Placements {
		out = append(out, p.Categories)
	}
	return out
}

// TestCampaign_PlacementCategories creates a campaign whose placements
// carry content categories, reads them back, and edits them: an existing
// placement keeps its categories unless the PATCH gives them, and a
// placement without any shows [].
func TestCampaign_PlacementCategories(t *testing.T) {
	env := newCampaignEnv(t)
	var created placementsOut
	status := env.call(t, http.MethodPost, "/api/v1/campaigns", `{"name": "Spring", "landing_url": "https://shop.example.com/",
		"placements": [{"name": "banner", "media": "news.example.com", "categories": ["483", " 1"]},
		               {"name": "feed", "media": "news.example.com"}]}`, &created)
	if status != http.StatusCreated {
		t.Fatalf("POST: %d %+v", status, created.Error)
	}
	want := [][]string{{"483", "1"}, {}}
	if got := created.categories(); !reflect.DeepEqual(got, want) {
		t.Fatalf("created placements' categories = %#v, want %#v", got, want)
	}
	var shown placementsOut
	if status := env.call(t, http.MethodGet, "/api/v1/campaigns/"+string(created.ID), "", &shown); status != http.StatusOK {
		t.Fatalf("GET: %d", status)
	} else if got := shown.categories(); !reflect.DeepEqual(got, want) {
		t.Fatalf("shown placements' categories = %#v, want %#v", got, want)
	}
	var list struct{ Campaigns []placementsOut }
	if status := env.call(t, http.MethodGet, "/api/v1/campaigns", "", &list); status != http.StatusOK || len(list.Campaigns) != 1 {
		t.Fatalf("GET list: %d %+v", status, list)
	} else if got := list.Campaigns[0].categories(); !reflect.DeepEqual(got, want) {
		t.Fatalf("listed placements' categories = %#v, want %#v", got, want)
	}

	// PATCH: the first placement renamed without categories keeps them; the
	// second gets some; a new placement comes with its own.
	p0, p1 := created.Placements[0].ID, created.Placements[1].ID
	var patched placementsOut
	status = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(created.ID), `{"placements": [
		{"id": "`+string(p0)+`", "name": "banner 2", "media": "news.example.com"},
		{"id": "`+string(p1)+`", "name": "feed", "media": "news.example.com", "categories": ["JLBCU7"]},
		{"name": "video", "media": "video.example.com", "categories": ["3927X6"]}]}`, &patched)
	if status != http.StatusOK {
		t.Fatalf("PATCH: %d %+v", status, patched.Error)
	}
	want = [][]string{{"483", "1"}, {"JLBCU7"}, {"3927X6"}}
	if got := patched.categories(); !reflect.DeepEqual(got, want) {
		t.Fatalf("patched placements' categories = %#v, want %#v", got, want)
	}
	// "categories": [] clears them.
	status = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(created.ID), `{"placements": [
		{"id": "`+string(p0)+`", "name": "banner 2", "media": "news.example.com", "categories": []}]}`, &patched)
	if status != http.StatusOK {
		t.Fatalf("PATCH: %d %+v", status, patched.Error)
	}
	stored, err := env.meta.Campaign(t.Context(), env.tenant.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, p := range stored.Placements {
		got = append(got, p.Categories)
	}
	if want := [][]string{nil, {"JLBCU7"}, {"3927X6"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stored categories = %#v, want %#v", got, want)
	}
}

// TestCampaign_PlacementCategoriesInvalid: an id outside the taxonomy, too
// many ids or one given twice is 400 invalid naming the placement and the
// id, on create and on edit, and nothing is stored.
func TestCampaign_PlacementCategoriesInvalid(t *testing.T) {
	env := newCampaignEnv(t)
	var c placementsOut
	if status := env.call(t, http.MethodPost, "/api/v1/campaigns", campaignBody+`}`, &c); status != http.StatusCreated {
		t.Fatalf("POST: %d %+v", status, c.Error)
	}
	eleven := `"1","2","3","4","5","6","7","8","9","10","11"`
	for _, tt := range []struct {
		name, cats, message string
	}{
		{"Unknown", `"483", "99999"`, `placements[1].categories[1]: "99999" is not an IAB Content Taxonomy 3.0 category id`},
		{"Name", `"Sports"`, `placements[1].categories[0]: "Sports" is not an IAB Content Taxonomy 3.0 category id`},
		{"WrongCase", `"jlbcu7"`, `placements[1].categories[0]: "jlbcu7" is not`},
		{"Eleven", eleven, "placements[1].categories has 11 ids; a placement has at most 10"},
		{"Twice", `"483", "483"`, `placements[1].categories[1] "483" is given twice`},
		{"NotStrings", `483`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out placementsOut
			status := env.call(t, http.MethodPost, "/api/v1/campaigns", `{"name": "Bad", "landing_url": "https://shop.example.com/",
				"placements": [{"name": "a", "media": "m"}, {"name": "b", "media": "m", "categories": [`+tt.cats+`]}]}`, &out)
			if status != http.StatusBadRequest || !strings.Contains(out.Error.Message, tt.message) {
				t.Errorf("POST: %d %+v, want 400 with %q", status, out.Error, tt.message)
			}
			// In a PATCH the index is the request's.
			status = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(c.ID), `{"placements": [
				{"name": "new", "media": "m"},
				{"id": "`+string(c.Placements[0].ID)+`", "name": "banner", "media": "news.example.com", "categories": [`+tt.cats+`]}]}`, &out)
			if tt.name == "Twice" {
				// The form check runs on the whole campaign: the index is the
				// placement's position in it.
				tt.message = `placements[0].categories[1] "483" is given twice`
			}
			if status != http.StatusBadRequest || !strings.Contains(out.Error.Message, tt.message) {
				t.Errorf("PATCH: %d %+v, want 400 with %q", status, out.Error, tt.message)
			}
		})
	}
	cs, err := env.meta.Campaigns(t.Context(), env.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || len(cs[0].Placements) != 1 || cs[0].Placements[0].Categories != nil {
		t.Fatalf("after refused requests: %d campaigns, first %+v", len(cs), cs[0])
	}
}
