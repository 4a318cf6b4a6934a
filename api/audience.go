package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/insight"
)

// AudienceService answers audience insight for a tenant's campaigns: only
// aggregates above the privacy threshold (package insight).
type AudienceService interface {
	Audience(ctx context.Context, req insight.Request) (*insight.Audience, error)
}

// audienceParams are the query parameters of the audience endpoint.
var audienceParams = []string{"from", "to", "placement", "noise", "epsilon"}

// registerAudience adds GET /api/v1/campaigns/{id}/audience when the server
// has an AudienceService. Every request, answered or refused, is an audit
// entry (report.audience).
func (s *Server) registerAudience(mux *http.ServeMux) {
	if s.cfg.Audience == nil {
		return
	}
	mux.Handle("GET /api/v1/campaigns/{id}/audience", s.wrap(s.require(admeter.PermReadReports,
		s.onCampaign(admeter.PermReadReports, s.audited("report.audience", s.audience)))))
}

// audience serves GET /api/v1/campaigns/{id}/audience?from=&to=
// [&placement=…][&noise=laplace|gaussian&epsilon=…]: the campaign's reached
// audience by interest, region, OS and device (a media partner's view
// covers its own placements only).
func (s *Server) audience(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(audienceParams, k) {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "unknown parameter %q; the audience takes %s", k, strings.Join(audienceParams, ", "))
		}
	}
	placements := placementsFrom(r.Context())
	if ps := q.Get("placement"); ps != "" {
		var chosen []admeter.PlacementID
		for _, p := range strings.Split(ps, ",") {
			id := admeter.PlacementID(strings.TrimSpace(p))
			if placements != nil && !slices.Contains(placements, id) {
				return 0, nil, admeter.Errorf(admeter.ENOTFOUND, "placement %s is not in your view of this campaign", id)
			}
			chosen = append(chosen, id)
		}
		placements = chosen
	}
	a, err := s.cfg.Audience.Audience(r.Context(), insight.Request{
		Tenant: ownerFrom(r.Context()), Campaign: admeter.CampaignID(r.PathValue("id")),
		From: q.Get("from"), To: q.Get("to"), Placements: placements, Noise: q.Get("noise"), Epsilon: q.Get("epsilon"),
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}
