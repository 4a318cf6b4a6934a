package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/taxonomy"
)

// CampaignEditor saves edited campaigns.
type CampaignEditor interface {
	UpdateCampaign(ctx context.Context, c *admeter.Campaign) error
}

// editView is what the campaign edit form shows: the campaign, and the
// fields whose text the campaign cannot hold as typed, so that a refused
// form shows them as the user left them.
type editView struct {
	Campaign *admeter.Campaign
	// Threshold is the text of the frequency threshold field: "" for the
	// default.
	Threshold string
	// DefaultThreshold is admeter.DefaultFrequencyThreshold, for the
	// field's placeholder and hint.
	DefaultThreshold int
	// Prices are the price fields of Campaign's placements, in order; nil
	// when the tenant may not see prices: a media tenant never does.
	Prices []priceField
	// Models are the buying models the price fields offer.
	Models []admeter.BuyingModel
}

// priceField is a placement's price as the form shows it: Model "" is no
// price (an unknown cost), Amount is in yuan.
type priceField struct {
	Model, Amount string
}

// newEditView returns the form of c as stored. sess decides whether it
// shows prices.
func newEditView(c *admeter.Campaign, sess *api.Session) *editView {
	v := &editView{Campaign: c, DefaultThreshold: admeter.DefaultFrequencyThreshold, Models: admeter.BuyingModels}
	if c.FrequencyThreshold != 0 {
		v.Threshold = strconv.Itoa(c.FrequencyThreshold)
	}
	if seesPrices(sess) {
		v.Prices = make([]priceField, len(c.Placements))
		for i, p := range c.Placements {
			v.Prices[i] = storedPrice(p.Price)
		}
	}
	return v
}

// seesPrices reports whether the session's tenant may see and edit
// placement prices: not a media tenant, as in the API (what the advertiser
// pays, perhaps through an agency, is not the media's to see).
func seesPrices(sess *api.Session) bool {
	return sess.Tenant != nil && sess.Tenant.Kind != admeter.TenantMedia
}

// editCampaign serves the campaign edit form (GET) and saves it (POST):
// name, landing URL, time zone, the default attribution windows and the
// click-id parameter, the frequency threshold, placement names, media,
// content categories and prices (not for a media tenant), new placements.
// Per-type attribution rules are shown, and kept; the API edits them. A
// change of the effective frequency threshold is audited with the values
// before and after, as in the API.
func (s *Server) editCampaign(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageCampaigns) || s.editor == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	c, err := s.campaigns.Campaign(r.Context(), sess.Tenant.ID, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	if r.Method == http.MethodGet {
		s.render(w, r, http.StatusOK, "edit", "edit_campaign", sess, newEditView(c, sess), "")
		return
	}
	edited := *c
	view := newEditView(&edited, sess)
	// refuse shows the form again as the user sent it, with err's message.
	refuse := func(err error) {
		s.render(w, r, http.StatusBadRequest, "edit", "edit_campaign", sess, view, admeter.ErrorMessage(err))
	}
	// formErr is the first problem found in the form's fields; the whole
	// form is still read, so that the refused form shows it all as sent.
	var formErr error
	edited.Name = r.PostFormValue("name")
	edited.LandingURL = strings.TrimSpace(r.PostFormValue("landing_url"))
	edited.Timezone = strings.TrimSpace(r.PostFormValue("timezone"))
	if err := editAttribution(&edited.Attribution, r); err != nil {
		formErr = err
	}
	if r.PostForm.Has("frequency_threshold") {
		view.Threshold = strings.TrimSpace(r.PostFormValue("frequency_threshold"))
		n, err := parseThreshold(view.Threshold)
		if err != nil && formErr == nil {
			formErr = err
		}
		edited.FrequencyThreshold = n
	}
	ids, names, medias, cats := r.PostForm["pid"], r.PostForm["pname"], r.PostForm["pmedia"], r.PostForm["pcats"]
	models, amounts := r.PostForm["pmodel"], r.PostForm["pamount"]
	editPrices := view.Prices != nil && (r.PostForm.Has("pmodel") || r.PostForm.Has("pamount"))
	if len(ids) != len(names) || len(ids) != len(medias) || r.PostForm.Has("pcats") && len(ids) != len(cats) ||
		editPrices && (len(ids) != len(models) || len(ids) != len(amounts)) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EINVALID, "the placements of the form do not line up; reload the page"))
		return
	}
	if view.Prices != nil {
		view.Prices = make([]priceField, 0, len(ids))
	}
	edited.Placements = nil
	byID := map[admeter.PlacementID]admeter.Placement{}
	for _, p := range c.Placements {
		byID[p.ID] = p
	}
	for i, id := range ids {
		p, ok := byID[admeter.PlacementID(id)]
		if !ok {
			s.fail(w, r, sess, admeter.Errorf(admeter.EINVALID, "placement %s is not part of this campaign", id))
			return
		}
		p.Name, p.Media = strings.TrimSpace(names[i]), strings.TrimSpace(medias[i])
		if cats != nil {
			p.Categories = strings.Fields(strings.NewReplacer(",", " ", "，", " ").Replace(cats[i]))
			for _, id := range p.Categories {
				if err := taxonomy.Valid(id); err != nil && formErr == nil {
					formErr = admeter.Errorf(admeter.EINVALID, "placement %s: %v", p.ID, err)
				}
			}
		}
		if editPrices {
			f := priceField{Model: strings.TrimSpace(models[i]), Amount: strings.TrimSpace(amounts[i])}
			price, err := parsePrice(f)
			if err != nil && formErr == nil {
				formErr = admeter.Errorf(admeter.EINVALID, "placement %s: %s", p.ID, admeter.ErrorMessage(err))
			}
			p.Price = price
			view.Prices = append(view.Prices, f)
		} else if view.Prices != nil {
			view.Prices = append(view.Prices, storedPrice(p.Price))
		}
		edited.Placements = append(edited.Placements, p)
	}
	if formErr != nil {
		refuse(formErr)
		return
	}
	edited.Placements = append(edited.Placements, parsePlacements(r.PostFormValue("placements"))...)
	for view.Prices != nil && len(view.Prices) < len(edited.Placements) {
		view.Prices = append(view.Prices, priceField{})
	}
	if err := s.editor.UpdateCampaign(r.Context(), &edited); err != nil {
		if code := admeter.ErrorCode(err); code != admeter.EINVALID && code != admeter.ECONFLICT {
			s.fail(w, r, sess, err)
			return
		}
		refuse(err)
		return
	}
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(r.Context())
	}
	s.sessions.AuditFor(r, sess, "campaign.update", string(c.ID), "ok", map[string]any{"via": "console", "placements": len(edited.Placements)})
	if from, to := c.WasteAbove(), edited.WasteAbove(); from != to {
		s.sessions.AuditFor(r, sess, "campaign.frequency_threshold", string(c.ID), "ok", map[string]any{"via": "console", "from": from, "to": to})
	}
	http.Redirect(w, r, "/console/campaigns/"+string(c.ID)+"/codes", http.StatusSeeOther)
}

// parseThreshold reads the frequency threshold field: "" is 0, the
// default. Its range is Campaign.Validate's to check.
func parseThreshold(text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, admeter.Errorf(admeter.EINVALID,
			"the frequency threshold is a whole number of impressions per user from 1 to %d, or empty for the default (%d)",
			admeter.MaxFrequencyThreshold, admeter.DefaultFrequencyThreshold)
	}
	return n, nil
}

// parsePrice reads a placement's price fields: no model and no amount is
// no price; otherwise both are needed, the amount in yuan
// (admeter.ParseCNY). The price's range is Campaign.Validate's to check.
func parsePrice(f priceField) (*admeter.Price, error) {
	switch {
	case f.Model == "" && f.Amount == "":
		return nil, nil
	case f.Model == "":
		return nil, admeter.Errorf(admeter.EINVALID, "the price %s has no buying model; choose CPM, CPC, CPD or fixed, or clear the amount", f.Amount)
	case f.Amount == "":
		return nil, admeter.Errorf(admeter.EINVALID, "a %s price needs an amount in yuan, such as 35.00", strings.ToUpper(f.Model))
	}
	micro, err := admeter.ParseCNY(f.Amount)
	if err != nil {
		return nil, err
	}
	return &admeter.Price{Model: admeter.BuyingModel(strings.ToLower(f.Model)), Amount: micro}, nil
}

// storedPrice returns the price field of a stored price.
func storedPrice(p *admeter.Price) priceField {
	if p == nil {
		return priceField{}
	}
	return priceField{Model: string(p.Model), Amount: admeter.FormatCNY(p.Amount)}
}

// editAttribution sets the default windows and the click-id parameter of a
// from the form's click_days, view_days and click_id_param, each only if the
// form has it. The windows are then validated with the campaign.
func editAttribution(a *admeter.Attribution, r *http.Request) error {
	d := a.Rule("") // a copy: a.Default may be shared with the stored campaign
	for _, f := range []struct {
		name string
		days *int
	}{{"click_days", &d.ClickWindowDays}, {"view_days", &d.ViewWindowDays}} {
		if !r.PostForm.Has(f.name) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(f.name)))
		if err != nil {
			return admeter.Errorf(admeter.EINVALID, "attribution windows are whole days from 0 to 90")
		}
		*f.days = n
		a.Default = &d
	}
	if r.PostForm.Has("click_id_param") {
		a.ClickIDParam = strings.TrimSpace(r.PostFormValue("click_id_param"))
	}
	return nil
}

// parsePlacements reads one placement per line, "name, media" (a Chinese
// comma works too).
func parsePlacements(text string) []admeter.Placement {
	var out []admeter.Placement
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, media, _ := strings.Cut(strings.ReplaceAll(line, "，", ","), ",")
		out = append(out, admeter.Placement{Name: strings.TrimSpace(name), Media: strings.TrimSpace(media)})
	}
	return out
}
