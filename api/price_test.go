package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/sqlite"
)

// price is the "price" member of a placement as the API shows it.
type price struct {
	Model  string `json:"model"`
	Amount string `json:"amount"`
}

// pricesOut is the part of a campaign the price tests read.
type pricesOut struct {
	ID         admeter.CampaignID `json:"id"`
	Placements []struct {
		ID    admeter.PlacementID `json:"id"`
		Price *price              `json:"price"`
	} `json:"placements"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// prices returns the price of each placement of c, in order.
func (c pricesOut) prices() []*price {
	var out []*price
	for _, p := range c.Placements {
		out = append(out, p.Price)
	}
	return out
}

// TestCampaign_PlacementPrice creates a campaign whose placements carry
// prices given as strings and numbers, reads them back, and edits them: an
// existing placement keeps its price unless the PATCH gives one, and
// "price": null clears it.
func TestCampaign_PlacementPrice(t *testing.T) {
	env := newCampaignEnv(t)
	var created pricesOut
	status := env.call(t, http.MethodPost, "/api/v1/campaigns", `{"name": "Spring", "landing_url": "https://shop.example.com/",
		"placements": [{"name": "banner", "media": "news.example.com", "price": {"model": "cpm", "amount": "35.00"}},
		               {"name": "feed", "media": "news.example.com", "price": {"model": "CPC", "amount": 1.5}},
		               {"name": "splash", "media": "video.example.com", "price": null},
		               {"name": "bonus", "media": "video.example.com", "price": {"model": "fixed", "amount": " 0 "}},
		               {"name": "video", "media": "video.example.com"}]}`, &created)
	if status != http.StatusCreated {
		t.Fatalf("POST: %d %+v", status, created.Error)
	}
	want := []*price{{"cpm", "35.00"}, {"cpc", "1.50"}, nil, {"fixed", "0.00"}, nil}
	if got := created.prices(); !reflect.DeepEqual(got, want) {
		t.Fatalf("created placements' prices = %s, want %s", js(got), js(want))
	}
	var shown pricesOut
	if status := env.call(t, http.MethodGet, "/api/v1/campaigns/"+string(created.ID), "", &shown); status != http.StatusOK {
		t.Fatalf("GET: %d", status)
	} else if got := shown.prices(); !reflect.DeepEqual(got, want) {
		t.Fatalf("shown placements' prices = %s, want %s", js(got), js(want))
	}
	var list struct{ Campaigns []pricesOut }
	if status := env.call(t, http.MethodGet, "/api/v1/campaigns", "", &list); status != http.StatusOK || len(list.Campaigns) != 1 {
		t.Fatalf("GET list: %d %+v", status, list)
	} else if got := list.Campaigns[0].prices(); !reflect.DeepEqual(got, want) {
		t.Fatalf("listed placements' prices = %s, want %s", js(got), js(want))
	}

	// PATCH: the first placement renamed without a price keeps it; the
	// second's changes, the third gets one, the fourth's is cleared; a new
	// placement comes with its own.
	ids := make([]string, len(created.Placements))
	for i, p := range created.Placements {
		ids[i] = string(p.ID)
	}
	var patched pricesOut
	status = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(created.ID), `{"placements": [
		{"id": "`+ids[0]+`", "name": "banner 2", "media": "news.example.com"},
		{"id": "`+ids[1]+`", "name": "feed", "media": "news.example.com", "price": {"model": "cpc", "amount": "1.234567"}},
		{"id": "`+ids[2]+`", "name": "splash", "media": "video.example.com", "price": {"model": "cpd", "amount": 200000}},
		{"id": "`+ids[3]+`", "name": "bonus", "media": "video.example.com", "price": null},
		{"name": "pre-roll", "media": "video.example.com", "price": {"model": "cpm", "amount": "0.015"}}]}`, &patched)
	if status != http.StatusOK {
		t.Fatalf("PATCH: %d %+v", status, patched.Error)
	}
	want = []*price{{"cpm", "35.00"}, {"cpc", "1.234567"}, {"cpd", "200000.00"}, nil, nil, {"cpm", "0.015"}}
	if got := patched.prices(); !reflect.DeepEqual(got, want) {
		t.Fatalf("patched placements' prices = %s, want %s", js(got), js(want))
	}
	stored, err := env.meta.Campaign(t.Context(), env.tenant.ID, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []*admeter.Price
	for _, p := range stored.Placements {
		got = append(got, p.Price)
	}
	wantStored := []*admeter.Price{{Model: admeter.CPM, Amount: 35_000_000}, {Model: admeter.CPC, Amount: 1_234_567},
		{Model: admeter.CPD, Amount: 200_000_000_000}, nil, nil, {Model: admeter.CPM, Amount: 15_000}}
	if !reflect.DeepEqual(got, wantStored) {
		t.Fatalf("stored prices = %s, want %s", js(got), js(wantStored))
	}
}

// TestCampaign_PlacementPriceInvalid: a price with an unknown model, an
// amount that is not a plain decimal number of yuan, or one out of range
// is 400 invalid naming the placement, on create and on edit, and nothing
// is stored.
func TestCampaign_PlacementPriceInvalid(t *testing.T) {
	env := newCampaignEnv(t)
	var c pricesOut
	if status := env.call(t, http.MethodPost, "/api/v1/campaigns", campaignBody+`}`, &c); status != http.StatusCreated {
		t.Fatalf("POST: %d %+v", status, c.Error)
	}
	for _, tt := range []struct {
		name, price, message string
	}{
		{"UnknownModel", `{"model": "cpa", "amount": "1"}`, `placements[1].price.model "cpa" is not a buying model`},
		{"NoModel", `{"amount": "1"}`, `placements[1].price.model "" is not a buying model`},
		{"NoAmount", `{"model": "cpm"}`, `placements[1].price: amount is required`},
		{"NullAmount", `{"model": "cpm", "amount": null}`, `placements[1].price: amount is required`},
		{"Negative", `{"model": "cpm", "amount": -1}`, `placements[1].price: amount "-1" is not a number of yuan`},
		{"Exponent", `{"model": "cpm", "amount": 3.5e1}`, `placements[1].price: amount "3.5e1" is not a number of yuan`},
		{"Symbol", `{"model": "cpm", "amount": "¥35"}`, `placements[1].price: amount "¥35" is not a number of yuan`},
		{"Fraction", `{"model": "cpc", "amount": "0.0000001"}`, `placements[1].price: amount "0.0000001" has more than 6 decimals`},
		{"TooMuch", `{"model": "fixed", "amount": "1000000000.01"}`, `placements[1].price.amount 1000000000.01 is more than 1000000000.00 yuan`},
		{"Unknown member", `{"model": "cpm", "amount": "1", "currency": "USD"}`, `placements[1].price: is not {"model": "cpm", "amount": "35.00"}: unknown field "currency"`},
		{"NotObject", `"35.00"`, `placements[1].price: is not {"model"`},
		{"AmountNotString", `{"model": "cpm", "amount": true}`, `placements[1].price: amount "true" is not a number of yuan`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out pricesOut
			status := env.call(t, http.MethodPost, "/api/v1/campaigns", `{"name": "Bad", "landing_url": "https://shop.example.com/",
				"placements": [{"name": "a", "media": "m"}, {"name": "b", "media": "m", "price": `+tt.price+`}]}`, &out)
			if status != http.StatusBadRequest || !strings.Contains(out.Error.Message, tt.message) {
				t.Errorf("POST: %d %+v, want 400 with %q", status, out.Error, tt.message)
			}
			// In a PATCH the index is the request's, until Campaign.Validate
			// checks the price in the campaign: then it is the placement's
			// position there.
			status = env.call(t, http.MethodPatch, "/api/v1/campaigns/"+string(c.ID), `{"placements": [
				{"name": "new", "media": "m"},
				{"id": "`+string(c.Placements[0].ID)+`", "name": "banner", "media": "news.example.com", "price": `+tt.price+`}]}`, &out)
			msg := tt.message
			if strings.HasPrefix(msg, "placements[1].price.") {
				msg = "placements[0].price." + strings.TrimPrefix(msg, "placements[1].price.")
			}
			if status != http.StatusBadRequest || !strings.Contains(out.Error.Message, msg) {
				t.Errorf("PATCH: %d %+v, want 400 with %q", status, out.Error, msg)
			}
		})
	}
	cs, err := env.meta.Campaigns(t.Context(), env.tenant.ID)
	if err != nil {
		t.Fatal(err)
	} else if len(cs) != 1 || len(cs[0].Placements) != 1 || cs[0].Placements[0].Price != nil {
		t.Fatalf("after refused requests: %s", js(cs))
	}
}

// TestCampaign_PlacementPriceMediaView: a media tenant sees its placements
// of an advertiser's campaign, but not what the advertiser pays for them.
func TestCampaign_PlacementPriceMediaView(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "meta.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	adv := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser}
	media := &admeter.Tenant{Name: "News", Kind: admeter.TenantMedia}
	const mediaToken = "adm_media_token"
	for _, tt := range []struct {
		tenant *admeter.Tenant
		token  string
	}{{adv, testToken}, {media, mediaToken}} {
		if err := db.CreateTenant(t.Context(), tt.tenant, api.HashToken(tt.token)); err != nil {
			t.Fatal(err)
		}
	}
	c := &admeter.Campaign{Tenant: adv.ID, Name: "Spring", LandingURL: "https://shop.example.com/", Placements: []admeter.Placement{
		{Name: "banner", Media: "news.example.com", MediaTenant: media.ID, Price: &admeter.Price{Model: admeter.CPM, Amount: 35_000_000}}}}
	if err := db.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(api.Config{PublicURL: "https://t.example.com", Accounts: accounts{db}, Media: db}, db, db, nil, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(token, path string, out any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, buf.String())
		}
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
	var own pricesOut
	get(testToken, "/api/v1/campaigns/"+string(c.ID), &own)
	if got := own.prices(); !reflect.DeepEqual(got, []*price{{"cpm", "35.00"}}) {
		t.Fatalf("the advertiser sees prices %s", js(got))
	}
	var shown pricesOut
	get(mediaToken, "/api/v1/campaigns/"+string(c.ID), &shown)
	if len(shown.Placements) != 1 || shown.Placements[0].Price != nil {
		t.Errorf("the media tenant's GET shows %s, want its placement without a price", js(shown.Placements))
	}
	var list struct{ Campaigns []pricesOut }
	get(mediaToken, "/api/v1/campaigns", &list)
	if len(list.Campaigns) != 1 || len(list.Campaigns[0].Placements) != 1 || list.Campaigns[0].Placements[0].Price != nil {
		t.Errorf("the media tenant's list shows %s, want its placement without a price", js(list.Campaigns))
	}
}

// js returns v as JSON, for messages.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
