package console

import (
	"net/http"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
)

// codesPage serves a campaign's monitoring codes, per placement and media
// platform.
func (s *Server) codesPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadCampaigns) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	c, err := s.campaigns.Campaign(r.Context(), sess.Tenant.ID, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaign", "codes", sess, map[string]any{
		"Campaign": c, "Tab": "codes", "Codes": s.placementCodes(c, langOf(r)),
	}, "")
}

// placementCode is one placement's codes, by platform.
type placementCode struct {
	Placement admeter.Placement
	Platforms []platformCode
}

// platformCode is the code for one media platform.
type platformCode struct {
	ID, Name, Note             string
	Impression, Click, Snippet string
	Open                       bool
}

// placementCodes returns the codes of every placement of c.
func (s *Server) placementCodes(c *admeter.Campaign, lang string) []placementCode {
	var out []placementCode
	for _, p := range c.Placements {
		pc := placementCode{Placement: p}
		pc.Platforms = append(pc.Platforms, platformCode{
			ID: string(p.ID) + "-mma", Name: "MMA / Miaozhen", Open: true,
			Impression: api.ImpressionURL(s.cfg.PublicURL, c.ID, p.ID),
			Click:      api.ClickURL(s.cfg.PublicURL, c.ID, p.ID, c.LandingURL),
		})
		out = append(out, pc)
	}
	return out
}
