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

// editCampaign serves the campaign edit form (GET) and saves it (POST):
// name, landing URL, time zone, the default attribution windows and the
// click-id parameter, placement names, media and content categories, new
// placements. Per-type
// attribution rules are shown, and kept; the API edits them.
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
		s.render(w, r, http.StatusOK, "edit", "edit_campaign", sess, map[string]any{"Campaign": c}, "")
		return
	}
	edited := *c
	edited.Name = r.PostFormValue("name")
	edited.LandingURL = strings.TrimSpace(r.PostFormValue("landing_url"))
	edited.Timezone = strings.TrimSpace(r.PostFormValue("timezone"))
	if err := editAttribution(&edited.Attribution, r); err != nil {
		s.render(w, r, http.StatusBadRequest, "edit", "edit_campaign", sess, map[string]any{"Campaign": &edited}, admeter.ErrorMessage(err))
		return
	}
	ids, names, medias, cats := r.PostForm["pid"], r.PostForm["pname"], r.PostForm["pmedia"], r.PostForm["pcats"]
	if len(ids) != len(names) || len(ids) != len(medias) || r.PostForm.Has("pcats") && len(ids) != len(cats) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EINVALID, "the placements of the form do not line up; reload the page"))
		return
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
				if err := taxonomy.Valid(id); err != nil {
					edited.Placements = append(edited.Placements, p)
					s.render(w, r, http.StatusBadRequest, "edit", "edit_campaign", sess, map[string]any{"Campaign": &edited},
						admeter.ErrorMessage(admeter.Errorf(admeter.EINVALID, "placement %s: %v", p.ID, err)))
					return
				}
			}
		}
		edited.Placements = append(edited.Placements, p)
	}
	edited.Placements = append(edited.Placements, parsePlacements(r.PostFormValue("placements"))...)
	if err := s.editor.UpdateCampaign(r.Context(), &edited); err != nil {
		if code := admeter.ErrorCode(err); code != admeter.EINVALID && code != admeter.ECONFLICT {
			s.fail(w, r, sess, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "edit", "edit_campaign", sess, map[string]any{"Campaign": &edited}, admeter.ErrorMessage(err))
		return
	}
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(r.Context())
	}
	s.sessions.AuditFor(r, sess, "campaign.update", string(c.ID), "ok", map[string]any{"via": "console", "placements": len(edited.Placements)})
	http.Redirect(w, r, "/console/campaigns/"+string(c.ID)+"/codes", http.StatusSeeOther)
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
