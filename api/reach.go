package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/reach"
)

// ReachService answers cross-media reach reports and placement plans
// (package reach).
type ReachService interface {
	Reach(ctx context.Context, req reach.Request) (*reach.Result, error)
	Plan(ctx context.Context, req reach.PlanRequest) (*reach.PlanResult, error)
}

// The query parameters of the reach report, and those the plan adds.
var (
	reachParams = []string{"campaigns", "from", "to", "by", "waste_above", "levels", "filter"}
	planParams  = append(slices.Clone(reachParams), "effective", "max_scale")
)

// registerReach adds the reach report and the placement plan, for one
// campaign (under /campaigns/{id}) and for a set of them (campaigns=…),
// when the server has a ReachService. Every request, answered or refused,
// is an audit entry (report.reach, report.reach_plan).
func (s *Server) registerReach(mux *http.ServeMux) {
	if s.cfg.Reach == nil {
		return
	}
	one := func(action string, h apiFunc) http.Handler {
		return s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited(action, h))))
	}
	many := func(action string, h apiFunc) http.Handler {
		return s.wrap(s.require(admeter.PermReadReports, s.audited(action, s.auditedOwners(action, h))))
	}
	mux.Handle("GET /api/v1/campaigns/{id}/reach", one("report.reach", s.reachReport))
	mux.Handle("GET /api/v1/campaigns/{id}/reach/plan", one("report.reach_plan", s.reachPlan))
	mux.Handle("GET /api/v1/reach", many("report.reach", s.reachReport))
	mux.Handle("GET /api/v1/reach/plan", many("report.reach_plan", s.reachPlan))
}

// sourcesKey carries, through a request over several campaigns, the
// campaigns reachRequest resolved, for auditedOwners.
const sourcesKey ctxKey = iota + 60

// auditedOwners wraps h, a handler over several campaigns, so that each
// campaign read through a grant is also an entry in the trail of the
// advertiser whose data it is, naming the caller's tenant — as an access
// to one granted campaign is (audited records the caller's own entry).
func (s *Server) auditedOwners(action string, h apiFunc) apiFunc {
	return func(r *http.Request) (int, any, error) {
		var sources []reach.Source
		status, body, err := h(r.WithContext(context.WithValue(r.Context(), sourcesKey, &sources)))
		outcome := "ok"
		if err != nil {
			outcome = "failed: " + admeter.ErrorCode(err)
		}
		caller := tenantFrom(r.Context()).ID
		for _, src := range sources {
			if src.Owner != caller {
				s.auditFor(r, src.Owner, action, string(src.Campaign), outcome,
					map[string]any{"query": r.URL.RawQuery, "via_grant_to": string(caller)})
			}
		}
		return status, body, err
	}
}

// reachWriteTimeout is how long a reach report or plan may take to
// answer: the server's write timeout (30 s) suits the other reports, but
// the first ReachSets over a long range of tens of millions of
// impressions, which builds the store's reach index for each day not yet
// indexed (seconds a day at 3 M events, docs/benchmarks.md), takes longer
// on a small machine, and a client should get the answer, not a broken
// connection.
const reachWriteTimeout = 10 * time.Minute

// extendWriteDeadline gives the response of r reachWriteTimeout from now.
func extendWriteDeadline(r *http.Request) {
	if w, ok := r.Context().Value(writerKey).(http.ResponseWriter); ok {
		// Not every writer supports deadlines (a test recorder): then the
		// server's own timeout, if any, stays.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reachWriteTimeout))
	}
}

// reachReport serves GET /api/v1/campaigns/{id}/reach and GET
// /api/v1/reach?campaigns=…: unique reach by medium or placement, overlap,
// exclusive reach, the incremental curve, effective reach, frequency
// waste and costs.
func (s *Server) reachReport(r *http.Request) (int, any, error) {
	extendWriteDeadline(r)
	req, err := s.reachRequest(r, reachParams)
	if err != nil {
		return 0, nil, err
	}
	res, err := s.cfg.Reach.Reach(r.Context(), req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

// reachPlan serves GET /api/v1/campaigns/{id}/reach/plan and GET
// /api/v1/reach/plan?campaigns=…: a budget reallocation and frequency cap
// for the same spend, explained.
func (s *Server) reachPlan(r *http.Request) (int, any, error) {
	extendWriteDeadline(r)
	req, err := s.reachRequest(r, planParams)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	res, err := s.cfg.Reach.Plan(r.Context(), reach.PlanRequest{Request: req, Effective: q.Get("effective"), MaxScale: q.Get("max_scale")})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

// reachRequest reads a reach request: the campaign of the path (already
// resolved by onCampaign) or those of campaigns=, each of which the caller
// must be able to read (its own, granted, or a media partner's view of its
// placements). Prices are the advertiser's: a media tenant's request is
// without costs.
func (s *Server) reachRequest(r *http.Request, allowed []string) (reach.Request, error) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(allowed, k) {
			return reach.Request{}, admeter.Errorf(admeter.EINVALID, "unknown parameter %q; this report takes %s", k, strings.Join(allowed, ", "))
		}
	}
	req := reach.Request{
		From: q.Get("from"), To: q.Get("to"), By: q.Get("by"), WasteAbove: q.Get("waste_above"),
		Levels: q.Get("levels"), Filter: q.Get("filter"), Costs: tenantFrom(r.Context()).Kind != admeter.TenantMedia,
	}
	if id := r.PathValue("id"); id != "" {
		if q.Has("campaigns") {
			return reach.Request{}, admeter.Errorf(admeter.EINVALID, "campaigns= is for /api/v1/reach; this path names its campaign")
		}
		req.Sources = []reach.Source{{Owner: ownerFrom(r.Context()), Campaign: admeter.CampaignID(id), Placements: placementsFrom(r.Context())}}
		return req, nil
	}
	list := q.Get("campaigns")
	if list == "" {
		return reach.Request{}, admeter.Errorf(admeter.EINVALID, "name the campaigns to combine: campaigns=ID,ID,…")
	}
	for _, f := range strings.Split(list, ",") {
		id := admeter.CampaignID(strings.TrimSpace(f))
		if id == "" {
			return reach.Request{}, admeter.Errorf(admeter.EINVALID, "campaigns=%q has an empty id", list)
		}
		if len(req.Sources) == reach.MaxCampaigns {
			return reach.Request{}, admeter.Errorf(admeter.EINVALID, "one report combines at most %d campaigns", reach.MaxCampaigns)
		}
		owner, only, err := s.campaignOwner(r.Context(), id, admeter.PermReadReports)
		if err != nil {
			s.audit(r, "campaign.access", string(id), "failed: "+admeter.ErrorCode(err), map[string]any{"path": r.URL.Path})
			return reach.Request{}, err
		}
		req.Sources = append(req.Sources, reach.Source{Owner: owner, Campaign: id, Placements: only})
	}
	if held, ok := r.Context().Value(sourcesKey).(*[]reach.Source); ok {
		*held = req.Sources
	}
	return req, nil
}
