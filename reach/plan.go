package reach

import (
	"context"
	"strconv"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/store"
)

// PlanRequest asks for a placement plan: Request's report, then a
// recommendation for the same range and spend.
type PlanRequest struct {
	Request
	// Effective is the frequency at which reach counts ("" is 1): the
	// plan maximises the users reached Effective or more times.
	Effective string
	// MaxScale is how far a placement's delivery may grow, as a multiple
	// of what it delivered ("" is mediaplan's default).
	MaxScale string
}

// PlanResult is a placement plan with what it covers and the measurement
// it starts from.
type PlanResult struct {
	Scope
	Plan     *mediaplan.Plan  `json:"plan"`
	Measured *PlanMeasurement `json:"measured"`
}

// PlanMeasurement is what the plan was fitted to: the measured reach,
// frequency and cost of the range.
type PlanMeasurement struct {
	Reach       int64          `json:"reach"`
	Impressions int64          `json:"impressions"`
	Cost        *admeter.Money `json:"cost"`
}

// Plan returns a placement plan for req's campaigns, which must be of one
// advertiser whose prices the caller may see.
func (s *Service) Plan(ctx context.Context, req PlanRequest) (*PlanResult, error) {
	if !req.Costs {
		return nil, admeter.Errorf(admeter.EFORBIDDEN, "a placement plan needs the advertiser's prices, which this account may not see")
	}
	q, err := s.check(ctx, req.Request)
	if err != nil {
		return nil, err
	}
	if len(q.owners) > 1 {
		return nil, admeter.Errorf(admeter.EINVALID, "a placement plan is for the campaigns of one advertiser; these are of %d: ask for each advertiser's campaigns apart", len(q.owners))
	}
	in := mediaplan.Input{}
	if req.Effective != "" {
		if in.Effective, err = strconv.Atoi(req.Effective); err != nil || in.Effective < 1 || in.Effective > store.MaxReachFrequency {
			return nil, admeter.Errorf(admeter.EINVALID, "effective must be a frequency from 1 to %d, not %q", store.MaxReachFrequency, req.Effective)
		}
	}
	if req.MaxScale != "" {
		if in.MaxScale, err = strconv.ParseFloat(req.MaxScale, 64); err != nil || !(in.MaxScale >= 1 && in.MaxScale <= 10) {
			return nil, admeter.Errorf(admeter.EINVALID, "max_scale must be a number from 1 to 10 (how many times its delivery a placement may grow to), not %q", req.MaxScale)
		}
	}
	groups, assign, sets, err := s.measure(ctx, q)
	if err != nil {
		return nil, err
	}
	m := &PlanMeasurement{}
	total, costed := int64(0), true
	for i, g := range groups {
		gr := sets.Groups[i]
		u := mediaplan.Unit{Key: g.Key, Name: g.Name, Impressions: gr.Impressions, Users: gr.Users,
			Frequency: gr.Frequency, Model: q.model(assign, i), Cost: g.Cost, Costed: g.Costed}
		in.Units = append(in.Units, u)
		total += g.Cost
		costed = costed && g.Costed
		m.Impressions += gr.Impressions
	}
	for _, st := range sets.Sets {
		in.Union += st.Users
	}
	m.Reach = in.Union
	if costed {
		c := admeter.Money(total)
		m.Cost = &c
	}
	in.UnionFrequency = sets.Frequency
	plan, err := mediaplan.Recommend(in)
	if err != nil {
		return nil, err
	}
	return &PlanResult{Scope: q.scope(), Plan: plan, Measured: m}, nil
}

// model returns the buying model of group g's placements if they all
// share one, or "" (some unpriced, or mixed models).
func (q *query) model(assign map[admeter.PlacementID]int, g int) admeter.BuyingModel {
	var m admeter.BuyingModel
	for _, c := range q.campaigns {
		for _, p := range c.Placements {
			if a, ok := assign[p.ID]; !ok || a != g {
				continue
			}
			if p.Price == nil || (m != "" && m != p.Price.Model) {
				return ""
			}
			m = p.Price.Model
		}
	}
	return m
}
