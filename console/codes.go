package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/console/codes"
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
	pcs := s.placementCodes(c, langOf(r))
	if s.recent != nil {
		evs, err := s.recent.RecentEvents(r.Context(), sess.Tenant.ID, c.ID, 200)
		if err != nil {
			s.fail(w, r, sess, err)
			return
		}
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			loc = chinaTime
		}
		for i := range pcs {
			for _, ev := range evs {
				if ev.Placement != pcs[i].Placement.ID || len(pcs[i].Recent) == 5 {
					continue
				}
				region := ev.Region.Province
				if region == "" {
					region = ev.Region.Country
				}
				pcs[i].Recent = append(pcs[i].Recent, recentEvent{Time: ev.Received.In(loc).Format("01-02 15:04:05"),
					Kind: ev.Kind.String(), OS: osName(ev.OS.String()), Region: region, IDType: ev.UserType.String()})
			}
		}
	}
	s.render(w, r, http.StatusOK, "campaign", "codes", sess, map[string]any{"Campaign": c, "Tab": "codes", "Codes": pcs}, "")
}

// placementCode is one placement's codes, by platform, and the last events
// received on it.
type placementCode struct {
	Placement admeter.Placement
	Platforms []platformCode
	Recent    []recentEvent
}

// recentEvent is one line of the live check: what arrived, never who.
type recentEvent struct {
	Time, Kind, OS, Region, IDType string
}

// Recent finds the latest events of a campaign, for the live check.
type Recent interface {
	RecentEvents(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, limit int) ([]admeter.Event, error)
}

// platformCode is the code for one media platform.
type platformCode struct {
	ID, Name, Note             string
	Impression, Click, Snippet string
	Open                       bool
}

// placementCodes returns the codes of every placement of c, for every
// media platform, with their notes in lang.
func (s *Server) placementCodes(c *admeter.Campaign, lang string) []placementCode {
	infos := map[codes.Platform]codes.PlatformInfo{}
	for _, info := range codes.Platforms() {
		infos[info.Platform] = info
	}
	pick := func(t codes.Text) string {
		if lang == langEN {
			return t.EN
		}
		return t.ZH
	}
	var out []placementCode
	for _, p := range c.Placements {
		pc := placementCode{Placement: p}
		all, err := codes.All(s.cfg.CollectorURL, c.ID, p.ID, c.LandingURL)
		if err != nil {
			s.logger.Error("monitoring codes", "campaign", c.ID, "placement", p.ID, "err", err)
			continue
		}
		for i, code := range all {
			info := infos[code.Platform]
			name := info.NameZH
			if lang == langEN {
				name = info.NameEN
			}
			var notes []string
			if n := pick(info.Note); n != "" {
				notes = append(notes, n)
			}
			for _, n := range code.Notes {
				notes = append(notes, pick(n))
			}
			pc.Platforms = append(pc.Platforms, platformCode{
				ID: string(p.ID) + "-" + string(code.Platform), Name: name, Note: strings.Join(notes, " "),
				Impression: code.Impression, Click: code.Click, Snippet: code.Snippet, Open: i == 0,
			})
		}
		out = append(out, pc)
	}
	return out
}

// osName is the display name of an OS value.
func osName(os string) string {
	if n, ok := osNames[os]; ok {
		return n
	}
	return os
}
