package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/taxonomy"
)

// placementJSON is a placement with its monitoring URLs.
type placementJSON struct {
	ID            admeter.PlacementID `json:"id"`
	Name          string              `json:"name"`
	Media         string              `json:"media"`
	ImpressionURL string              `json:"impression_url"`
	ClickURL      string              `json:"click_url"`
	MediaTenant   admeter.TenantID    `json:"media_tenant,omitempty"`
	// Categories are the placement's IAB Content Taxonomy ids, [] for none.
	Categories []string `json:"categories"`
	// Price is how the placement is bought, null when its cost is unknown.
	Price *priceJSON `json:"price"`
}

// priceJSON is a placement's price as the API shows it: the amount is in
// yuan, a decimal string with 2 to 6 decimals such as "35.00".
type priceJSON struct {
	Model  admeter.BuyingModel `json:"model"`
	Amount string              `json:"amount"`
}

// newPriceJSON returns how the API shows p, nil for nil.
func newPriceJSON(p *admeter.Price) *priceJSON {
	if p == nil {
		return nil
	}
	return &priceJSON{Model: p.Model, Amount: admeter.FormatCNY(p.Amount)}
}

// priceInput is the "price" member of a placement in a request: absent
// (Given false), null (Given, Price nil: no price, an unknown cost), or
// {"model": "cpm", "amount": "35.00"} with the amount in yuan as a decimal
// string or a JSON number (at most 6 decimals, no exponent).
type priceInput struct {
	Given bool
	Price *admeter.Price
	// err is what is wrong with the member, reported by price with the
	// placement's index: UnmarshalJSON cannot know it.
	err error
}

// UnmarshalJSON implements json.Unmarshaler.
func (in *priceInput) UnmarshalJSON(b []byte) error {
	in.Given = true
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var v struct {
		Model  string          `json:"model"`
		Amount json.RawMessage `json:"amount"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		in.err = admeter.Errorf(admeter.EINVALID, "is not {\"model\": \"cpm\", \"amount\": \"35.00\"}: %s", strings.TrimPrefix(err.Error(), "json: "))
		return nil
	}
	amount := string(bytes.TrimSpace(v.Amount))
	switch {
	case amount == "" || amount == "null":
		in.err = admeter.Errorf(admeter.EINVALID, "amount is required: the price in yuan, such as \"35.00\"")
		return nil
	case amount[0] == '"':
		if err := json.Unmarshal(v.Amount, &amount); err != nil {
			in.err = admeter.Errorf(admeter.EINVALID, "amount is not a string: %s", strings.TrimPrefix(err.Error(), "json: "))
			return nil
		}
	}
	micro, err := admeter.ParseCNY(amount)
	if err != nil {
		in.err = err
		return nil
	}
	in.Price = &admeter.Price{Model: admeter.BuyingModel(strings.ToLower(strings.TrimSpace(v.Model))), Amount: micro}
	return nil
}

// price returns the price in gave for placements[i] of the request, or an
// EINVALID error naming it. The price's own rules are Campaign.Validate's.
func (in *priceInput) price(i int) (*admeter.Price, error) {
	if in.err != nil {
		return nil, admeter.Errorf(admeter.EINVALID, "placements[%d].price: %s", i, admeter.ErrorMessage(in.err))
	}
	return in.Price, nil
}

// withoutPrices returns c's placements without their prices, for a media
// tenant's view: what the advertiser pays (perhaps through an agency, with
// its margin) is not the media's to see.
func withoutPrices(c *admeter.Campaign) *admeter.Campaign {
	v := *c
	v.Placements = make([]admeter.Placement, len(c.Placements))
	for i, p := range c.Placements {
		p.Price = nil
		v.Placements[i] = p
	}
	return &v
}

// campaignJSON is a campaign as the API shows it.
type campaignJSON struct {
	ID           admeter.CampaignID `json:"id"`
	Name         string             `json:"name"`
	LandingURL   string             `json:"landing_url"`
	AllowedHosts []string           `json:"allowed_hosts"`
	Timezone     string             `json:"timezone"`
	Placements   []placementJSON    `json:"placements"`
	Created      time.Time          `json:"created"`
	Attribution  attributionJSON    `json:"attribution"`
	// FrequencyThreshold is the campaign's effective frequency threshold
	// (admeter.Campaign.WasteAbove): the default when it sets none.
	FrequencyThreshold int `json:"frequency_threshold"`
	// Owner is set on a campaign another tenant granted access to.
	Owner admeter.TenantID `json:"owner,omitempty"`
}

// campaignInput is the body of POST /api/v1/campaigns.
type campaignInput struct {
	Name         string   `json:"name"`
	LandingURL   string   `json:"landing_url"`
	AllowedHosts []string `json:"allowed_hosts"`
	Timezone     string   `json:"timezone"`
	Placements   []struct {
		Name  string `json:"name"`
		Media string `json:"media"`
		// MediaTenant is the media tenant whose placement this is; it
		// then sees this placement's traffic (and only it).
		MediaTenant admeter.TenantID `json:"media_tenant"`
		// Categories are IAB Content Taxonomy ids of the placement's
		// content (checkCategories).
		Categories []string `json:"categories"`
		// Price is how the placement is bought; absent or null, its cost
		// is unknown.
		Price priceInput `json:"price"`
	} `json:"placements"`
	Attribution *attributionInput `json:"attribution"`
	// FrequencyThreshold is the impressions per user beyond which further
	// impressions are frequency waste; absent or 0, the default.
	FrequencyThreshold int `json:"frequency_threshold"`
}

// attributionRuleJSON is an attribution rule as the API shows it.
type attributionRuleJSON struct {
	ClickWindowDays int `json:"click_window_days"`
	ViewWindowDays  int `json:"view_window_days"`
}

// attributionJSON is a campaign's attribution settings as the API shows
// them: the effective default windows (admeter's defaults when the campaign
// sets none), the rules of conversion types that have their own, and the
// click-id parameter ("" when off).
type attributionJSON struct {
	ClickWindowDays int                            `json:"click_window_days"`
	ViewWindowDays  int                            `json:"view_window_days"`
	Rules           map[string]attributionRuleJSON `json:"rules"`
	ClickIDParam    string                         `json:"click_id_param"`
}

// newAttributionJSON returns how the API shows a.
func newAttributionJSON(a *admeter.Attribution) attributionJSON {
	d := defaultRule(a)
	out := attributionJSON{ClickWindowDays: d.ClickWindowDays, ViewWindowDays: d.ViewWindowDays,
		Rules: make(map[string]attributionRuleJSON, len(a.ByType)), ClickIDParam: a.ClickIDParam}
	for t, r := range a.ByType {
		out.Rules[t] = attributionRuleJSON{ClickWindowDays: r.ClickWindowDays, ViewWindowDays: r.ViewWindowDays}
	}
	return out
}

// attributionRuleInput is a rule in a request; a window left out is the
// campaign's default window.
type attributionRuleInput struct {
	ClickWindowDays *int `json:"click_window_days"`
	ViewWindowDays  *int `json:"view_window_days"`
}

// attributionInput is the "attribution" member of a campaign create or
// update. Each member left out keeps its value: the defaults on create, the
// campaign's settings on update. Rules, when given, replace every per-type
// rule ({} removes them all).
type attributionInput struct {
	ClickWindowDays *int                            `json:"click_window_days"`
	ViewWindowDays  *int                            `json:"view_window_days"`
	Rules           map[string]attributionRuleInput `json:"rules"`
	ClickIDParam    *string                         `json:"click_id_param"`
}

// applyTo sets the members of in on a. The result is validated with the
// campaign (admeter.Attribution.Validate).
func (in *attributionInput) applyTo(a *admeter.Attribution) {
	if in.ClickWindowDays != nil || in.ViewWindowDays != nil {
		d := withWindows(defaultRule(a), attributionRuleInput{ClickWindowDays: in.ClickWindowDays, ViewWindowDays: in.ViewWindowDays})
		a.Default = &d
	}
	if in.Rules != nil {
		a.ByType = make(map[string]admeter.AttributionRule, len(in.Rules))
		for t, r := range in.Rules {
			a.ByType[t] = withWindows(defaultRule(a), r)
		}
	}
	if in.ClickIDParam != nil {
		a.ClickIDParam = *in.ClickIDParam
	}
}

// withWindows returns base with the windows r gives.
func withWindows(base admeter.AttributionRule, r attributionRuleInput) admeter.AttributionRule {
	if r.ClickWindowDays != nil {
		base.ClickWindowDays = *r.ClickWindowDays
	}
	if r.ViewWindowDays != nil {
		base.ViewWindowDays = *r.ViewWindowDays
	}
	return base
}

// defaultRule returns the rule of the conversion types of a without their
// own: a.Default, or admeter's default windows.
func defaultRule(a *admeter.Attribution) admeter.AttributionRule {
	if a.Default != nil {
		return *a.Default
	}
	return admeter.DefaultAttributionRule
}

func (s *Server) createCampaign(r *http.Request) (int, any, error) {
	var in campaignInput
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	c := &admeter.Campaign{
		Tenant:       tenantFrom(r.Context()).ID,
		Name:         in.Name,
		LandingURL:   in.LandingURL,
		AllowedHosts: in.AllowedHosts,
		Timezone:     in.Timezone,

		FrequencyThreshold: in.FrequencyThreshold,
	}
	for i, p := range in.Placements {
		if err := checkCategories(i, p.Categories); err != nil {
			return 0, nil, err
		}
		price, err := p.Price.price(i)
		if err != nil {
			return 0, nil, err
		}
		c.Placements = append(c.Placements, admeter.Placement{Name: p.Name, Media: p.Media, MediaTenant: p.MediaTenant, Categories: p.Categories, Price: price})
	}
	if in.Attribution != nil {
		in.Attribution.applyTo(&c.Attribution)
	}
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	if err := s.campaigns.CreateCampaign(r.Context(), c); err != nil {
		return 0, nil, fmt.Errorf("create campaign: %w", err)
	}
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(r.Context())
	}
	s.logger.Info("campaign created", "tenant", c.Tenant, "campaign", c.ID, "placements", len(c.Placements))
	return http.StatusCreated, s.campaignJSON(c), nil
}

func (s *Server) listCampaigns(r *http.Request) (int, any, error) {
	cs, err := s.campaigns.Campaigns(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]campaignJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.campaignJSON(c))
	}
	if s.grants != nil {
		granted, err := s.grants.GrantedCampaigns(r.Context(), tenantFrom(r.Context()).ID)
		if err != nil {
			return 0, nil, fmt.Errorf("list granted campaigns: %w", err)
		}
		for _, c := range granted {
			v := s.campaignJSON(c)
			v.Owner = c.Tenant
			out = append(out, v)
		}
	}
	if t := tenantFrom(r.Context()); s.media != nil && t.Kind == admeter.TenantMedia {
		mine, err := s.media.MediaCampaigns(r.Context(), t.ID)
		if err != nil {
			return 0, nil, fmt.Errorf("list media campaigns: %w", err)
		}
		for _, c := range mine {
			mc, _ := mediaView(c, t.ID)
			v := s.campaignJSON(withoutPrices(mc))
			v.Owner = c.Tenant
			out = append(out, v)
		}
	}
	return http.StatusOK, map[string]any{"campaigns": out}, nil
}

func (s *Server) showCampaign(r *http.Request) (int, any, error) {
	id := admeter.CampaignID(r.PathValue("id"))
	c, err := s.campaigns.Campaign(r.Context(), ownerFrom(r.Context()), id)
	if err != nil {
		return 0, nil, err
	}
	v := s.campaignJSON(c)
	if placementsFrom(r.Context()) != nil {
		mc, _ := mediaView(c, tenantFrom(r.Context()).ID)
		v = s.campaignJSON(withoutPrices(mc))
	}
	if c.Tenant != tenantFrom(r.Context()).ID {
		v.Owner = c.Tenant
	}
	return http.StatusOK, v, nil
}

func (s *Server) campaignJSON(c *admeter.Campaign) campaignJSON {
	out := campaignJSON{
		ID: c.ID, Name: c.Name, LandingURL: c.LandingURL, AllowedHosts: c.AllowedHosts,
		Timezone: c.Timezone, Created: c.Created, Placements: make([]placementJSON, 0, len(c.Placements)),
		Attribution: newAttributionJSON(&c.Attribution), FrequencyThreshold: c.WasteAbove(),
	}
	if out.AllowedHosts == nil {
		out.AllowedHosts = []string{}
	}
	for _, p := range c.Placements {
		cats := p.Categories
		if cats == nil {
			cats = []string{}
		}
		out.Placements = append(out.Placements, placementJSON{
			ID: p.ID, Name: p.Name, Media: p.Media, MediaTenant: p.MediaTenant, Categories: cats, Price: newPriceJSON(p.Price),
			ImpressionURL: ImpressionURL(s.cfg.CollectorURL, c.ID, p.ID),
			ClickURL:      ClickURL(s.cfg.CollectorURL, c.ID, p.ID, c.LandingURL),
		})
	}
	return out
}

// checkCategories returns an EINVALID error naming placements[i] and the id
// unless ids, the categories of the i-th placement of a request, are at
// most admeter.MaxPlacementCategories ids of the IAB Content Taxonomy. The
// rest of their form (no id twice) is Campaign.Validate's.
func checkCategories(i int, ids []string) error {
	if len(ids) > admeter.MaxPlacementCategories {
		return admeter.Errorf(admeter.EINVALID, "placements[%d].categories has %d ids; a placement has at most %d", i, len(ids), admeter.MaxPlacementCategories)
	}
	for j, id := range ids {
		if err := taxonomy.Valid(strings.TrimSpace(id)); err != nil {
			return admeter.Errorf(admeter.EINVALID, "placements[%d].categories[%d]: %v", i, j, err)
		}
	}
	return nil
}

// standardMacros is the Miaozhen parameter set that a media platform fills
// in: OS, IP, the device identifiers in the forms media send, the request id
// and the event time.
const standardMacros = "&mo=__OS__&ns=__IP__&m0=__OPENUDID__&m1a=__ANDROIDID__&m2=__IMEI__&m4=__AAID__" +
	"&m5=__IDFA__&m6=__MAC1__&m6a=__MAC__&m11=__OAID__&m11a=__OAID1__&m14=__CAID__&tr=__REQUESTID__&mt=__TS__"

// ImpressionURL returns the impression monitoring URL of a placement, in the
// Miaozhen form /x/k=…&p=…&… with the standard macros.
func ImpressionURL(base string, k admeter.CampaignID, p admeter.PlacementID) string {
	return base + "/x/k=" + url.QueryEscape(string(k)) + "&p=" + url.QueryEscape(string(p)) + standardMacros
}

// ClickURL returns the click monitoring URL of a placement: the impression
// parameters, then o= and the landing URL, which by the Miaozhen convention
// is always last and taken verbatim.
func ClickURL(base string, k admeter.CampaignID, p admeter.PlacementID, landing string) string {
	return base + "/r/k=" + url.QueryEscape(string(k)) + "&p=" + url.QueryEscape(string(p)) + standardMacros + "&o=" + strings.TrimSpace(landing)
}

// updateCampaign serves PATCH /api/v1/campaigns/{id}: any of name,
// landing_url, allowed_hosts, timezone, attribution (the members given; see
// attributionInput), frequency_threshold (0: back to the default), and
// placements — existing ones named by id (name,
// media, media_tenant change, and categories and price if given: "price":
// null clears it) and new ones without an id (appended).
// Placements are never removed: their events keep their meaning. An agency
// with a manage grant may do this too. A change of attribution settings is
// audited with the settings before and after: it changes the conversions
// that reports attribute, past ones included. So is a change of the
// effective frequency threshold: it changes the waste that reach reports
// count, past ranges included.
func (s *Server) updateCampaign(r *http.Request) (int, any, error) {
	owner := ownerFrom(r.Context())
	c, err := s.campaigns.Campaign(r.Context(), owner, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name         *string   `json:"name"`
		LandingURL   *string   `json:"landing_url"`
		AllowedHosts *[]string `json:"allowed_hosts"`
		Timezone     *string   `json:"timezone"`
		Placements   []struct {
			ID          admeter.PlacementID `json:"id"`
			Name        string              `json:"name"`
			Media       string              `json:"media"`
			MediaTenant admeter.TenantID    `json:"media_tenant"`
			// Categories replace the placement's when given; absent, an
			// existing placement keeps its own.
			Categories *[]string `json:"categories"`
			// Price replaces the placement's when given (null: none);
			// absent, an existing placement keeps its own.
			Price priceInput `json:"price"`
		} `json:"placements"`
		Attribution        *attributionInput `json:"attribution"`
		FrequencyThreshold *int              `json:"frequency_threshold"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.LandingURL != nil {
		c.LandingURL = *in.LandingURL
	}
	if in.AllowedHosts != nil {
		c.AllowedHosts = *in.AllowedHosts
	}
	if in.Timezone != nil {
		c.Timezone = *in.Timezone
	}
	before := newAttributionJSON(&c.Attribution)
	if in.Attribution != nil {
		in.Attribution.applyTo(&c.Attribution)
	}
	thresholdBefore := c.WasteAbove()
	if in.FrequencyThreshold != nil {
		c.FrequencyThreshold = *in.FrequencyThreshold
	}
	for j, p := range in.Placements {
		var cats []string
		if p.Categories != nil {
			cats = *p.Categories
			if err := checkCategories(j, cats); err != nil {
				return 0, nil, err
			}
		}
		price, err := p.Price.price(j)
		if err != nil {
			return 0, nil, err
		}
		if p.ID == "" {
			c.Placements = append(c.Placements, admeter.Placement{Name: p.Name, Media: p.Media, MediaTenant: p.MediaTenant, Categories: cats, Price: price})
			continue
		}
		found := false
		for i := range c.Placements {
			if c.Placements[i].ID == p.ID {
				c.Placements[i].Name, c.Placements[i].Media, c.Placements[i].MediaTenant = p.Name, p.Media, p.MediaTenant
				if p.Categories != nil {
					c.Placements[i].Categories = cats
				}
				if p.Price.Given {
					c.Placements[i].Price = price
				}
				found = true
			}
		}
		if !found {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "placement %s is not part of campaign %s", p.ID, c.ID)
		}
	}
	if err := s.campaigns.UpdateCampaign(r.Context(), c); err != nil {
		return 0, nil, err
	}
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(r.Context())
	}
	v := s.campaignJSON(c)
	if !reflect.DeepEqual(v.Attribution, before) {
		s.audit(r, "campaign.attribution", string(c.ID), "ok", map[string]any{"from": before, "to": v.Attribution})
	}
	if v.FrequencyThreshold != thresholdBefore {
		s.audit(r, "campaign.frequency_threshold", string(c.ID), "ok", map[string]any{"from": thresholdBefore, "to": v.FrequencyThreshold})
	}
	if c.Tenant != tenantFrom(r.Context()).ID {
		v.Owner = c.Tenant
	}
	return http.StatusOK, v, nil
}
