package reach

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Campaigns finds a campaign of the tenant that owns it; another tenant's
// is ENOTFOUND.
type Campaigns interface {
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
}

// Store reads the campaigns' events: the reach sets, and the per placement
// and day delivery that costs are computed from.
type Store interface {
	ReachSets(ctx context.Context, q store.ReachSetQuery) (*store.ReachSetResult, error)
	Report(ctx context.Context, q store.ReportQuery) (*store.ReportResult, error)
}

// Defaults of a Service.
const (
	// DefaultMinUsers is the aggregation threshold of a report that
	// combines several advertisers' campaigns: the fewest users a
	// published number may describe (the same k as audience insight).
	DefaultMinUsers = 50
	// DefaultMaxDays is the longest range a request may cover.
	DefaultMaxDays = 400
	// MaxCampaigns is the most campaigns one request may combine.
	MaxCampaigns = 50
)

// Service answers cross-media reach reports and placement plans over the
// metadata store's campaigns and the event store.
type Service struct {
	campaigns Campaigns
	store     Store
	// MinUsers is the aggregation threshold of reports that combine
	// several advertisers (at least DefaultMinUsers); MaxDays the longest
	// range; Now the clock.
	MinUsers int
	MaxDays  int
	Now      func() time.Time
}

// NewService returns a Service with the defaults.
func NewService(campaigns Campaigns, st Store) *Service {
	return &Service{campaigns: campaigns, store: st, MinUsers: DefaultMinUsers, MaxDays: DefaultMaxDays, Now: time.Now}
}

// Source is one campaign of a request, as the caller may see it.
type Source struct {
	// Owner is the tenant that owns the campaign (the caller, or the
	// advertiser that granted it).
	Owner    admeter.TenantID
	Campaign admeter.CampaignID
	// Placements limits the campaign to these placements (a media
	// partner's view); nil means all of them.
	Placements []admeter.PlacementID
}

// Request asks for the reach report of some campaigns over a range of
// dates. The string fields are the API's query parameters, checked here.
type Request struct {
	Sources []Source
	// From and To are inclusive dates YYYY-MM-DD in the time zone of the
	// first campaign.
	From, To string
	// By is "media" (the default) or "placement": what a group is.
	By string
	// WasteAbove is the frequency threshold of waste, 1 to
	// admeter.MaxFrequencyThreshold; "" takes the campaigns' own setting
	// (the largest, if they differ).
	WasteAbove string
	// Levels lists the effective-frequency levels, comma-separated, each
	// 1 to store.MaxReachFrequency; "" is the default 1,2,3,4,5,10.
	Levels string
	// Filter is "valid" (the default) or "all".
	Filter string
	// Costs says whether the caller may see prices: false leaves every
	// cost unknown (a media partner's view).
	Costs bool
}

// CampaignRef names a campaign of a result.
type CampaignRef struct {
	ID   admeter.CampaignID `json:"id"`
	Name string             `json:"name"`
}

// Scope is what a reach report or a plan covers.
type Scope struct {
	Campaigns []CampaignRef `json:"campaigns"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Timezone  string        `json:"timezone"`
	By        string        `json:"by"`
	Filter    string        `json:"filter"`
	// Advertisers is the number of advertisers whose campaigns the report
	// combines; above one, the aggregation threshold applies.
	Advertisers int `json:"advertisers"`
	// CostBasis says how costs were computed (see docs/reach.md).
	CostBasis string `json:"cost_basis"`
}

// Result is a reach report with what it covers.
type Result struct {
	Scope
	*Report
}

// flightLookback is how many days before the campaign's creation (or the
// report's start, if earlier) the flight of a fixed-price placement is
// looked for.
const flightLookback = 400

// costBasis documents, in each answer, how costs are computed.
const costBasis = "cpm: counted impressions × price / 1000; cpc: counted clicks × price; cpd: days with impressions × price; " +
	"fixed: price × days with impressions in the range / all days with impressions up to now; " +
	"counted = the traffic of the report's filter"

// query is a checked request.
type query struct {
	campaigns  []*admeter.Campaign
	views      [][]admeter.PlacementID // per campaign: the placements read
	owners     []admeter.TenantID
	loc        *time.Location
	from, to   store.Date
	start, end time.Time
	by         string
	filter     store.TrafficFilter
	wasteAbove int
	levels     []int
	costs      bool
}

// Reach returns the reach report of req: unique reach by group, overlap,
// exclusive reach, the incremental curve, effective reach, frequency waste
// and, when prices are known, costs. A report over several advertisers'
// campaigns withholds every number under the aggregation threshold.
func (s *Service) Reach(ctx context.Context, req Request) (*Result, error) {
	q, err := s.check(ctx, req)
	if err != nil {
		return nil, err
	}
	groups, _, sets, err := s.measure(ctx, q)
	if err != nil {
		return nil, err
	}
	minUsers := 0
	if len(q.owners) > 1 {
		minUsers = max(s.MinUsers, DefaultMinUsers)
	}
	rep, err := Analyze(Input{Groups: groups, Sets: sets, WasteAbove: q.wasteAbove, Levels: q.levels, MinUsers: minUsers})
	if err != nil {
		return nil, err
	}
	return &Result{Scope: q.scope(), Report: rep}, nil
}

// measure reads what q's reports start from: its groups, each
// placement's group, the store's reach sets and the groups' costs.
func (s *Service) measure(ctx context.Context, q *query) ([]Group, map[admeter.PlacementID]int, *store.ReachSetResult, error) {
	groups, assign, err := q.groups()
	if err != nil {
		return nil, nil, nil, err
	}
	sets, err := s.store.ReachSets(ctx, q.setQuery(assign))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reach sets: %w", err)
	}
	if err := s.cost(ctx, q, groups, assign); err != nil {
		return nil, nil, nil, err
	}
	return groups, assign, sets, nil
}

// scope returns what q covers.
func (q *query) scope() Scope {
	refs := make([]CampaignRef, len(q.campaigns))
	for i, c := range q.campaigns {
		refs[i] = CampaignRef{ID: c.ID, Name: c.Name}
	}
	return Scope{
		Campaigns: refs, From: q.from.String(), To: q.to.String(), Timezone: q.loc.String(),
		By: q.by, Filter: q.filter.String(), Advertisers: len(q.owners), CostBasis: costBasis,
	}
}

// check resolves and checks req.
func (s *Service) check(ctx context.Context, req Request) (*query, error) {
	switch {
	case len(req.Sources) == 0:
		return nil, admeter.Errorf(admeter.EINVALID, "name at least one campaign")
	case len(req.Sources) > MaxCampaigns:
		return nil, admeter.Errorf(admeter.EINVALID, "%d campaigns are more than the %d one report may combine", len(req.Sources), MaxCampaigns)
	}
	q := &query{by: cmp.Or(req.By, "media"), costs: req.Costs}
	if q.by != "media" && q.by != "placement" {
		return nil, admeter.Errorf(admeter.EINVALID, "by must be media or placement, not %q", req.By)
	}
	var err error
	if q.filter, err = store.ParseTrafficFilter(req.Filter); err != nil {
		return nil, err
	}
	if q.levels, err = parseLevels(req.Levels); err != nil {
		return nil, err
	}
	seen := map[admeter.CampaignID]bool{}
	for _, src := range req.Sources {
		if seen[src.Campaign] {
			return nil, admeter.Errorf(admeter.EINVALID, "campaign %s is named twice", src.Campaign)
		}
		seen[src.Campaign] = true
		c, err := s.campaigns.Campaign(ctx, src.Owner, src.Campaign)
		if err != nil {
			return nil, err
		}
		view := make([]admeter.PlacementID, 0, len(c.Placements))
		for _, p := range c.Placements {
			if src.Placements == nil || slices.Contains(src.Placements, p.ID) {
				view = append(view, p.ID)
			}
		}
		q.campaigns, q.views = append(q.campaigns, c), append(q.views, view)
		if !slices.Contains(q.owners, src.Owner) {
			q.owners = append(q.owners, src.Owner)
		}
		q.wasteAbove = max(q.wasteAbove, c.WasteAbove())
	}
	if req.WasteAbove != "" {
		n, err := strconv.Atoi(req.WasteAbove)
		if err != nil || n < 1 || n > admeter.MaxFrequencyThreshold {
			return nil, admeter.Errorf(admeter.EINVALID, "waste_above must be a number of impressions from 1 to %d, not %q", admeter.MaxFrequencyThreshold, req.WasteAbove)
		}
		q.wasteAbove = n
	}
	q.loc, err = time.LoadLocation(q.campaigns[0].Timezone)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: time zone %q: %w", q.campaigns[0].ID, q.campaigns[0].Timezone, err)
	}
	maxDays := cmp.Or(s.MaxDays, DefaultMaxDays)
	if q.from, q.to, err = store.ParseDateRange(req.From, req.To, maxDays, "the time zone "+q.loc.String()); err != nil {
		return nil, err
	}
	q.start, q.end = q.from.In(q.loc).UTC(), q.to.AddDays(1).In(q.loc).UTC()
	return q, nil
}

// parseLevels parses comma-separated effective-frequency levels.
func parseLevels(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var levels []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > store.MaxReachFrequency {
			return nil, admeter.Errorf(admeter.EINVALID, "levels must be frequencies from 1 to %d, comma-separated, not %q", store.MaxReachFrequency, s)
		}
		levels = append(levels, n)
	}
	slices.Sort(levels)
	return slices.Compact(levels), nil
}

// groups returns the report's groups, in the order of their first
// placement, and each placement's group index.
func (q *query) groups() ([]Group, map[admeter.PlacementID]int, error) {
	var groups []Group
	assign := map[admeter.PlacementID]int{}
	index := map[string]int{}
	for i, c := range q.campaigns {
		for _, p := range c.Placements {
			if !slices.Contains(q.views[i], p.ID) {
				continue
			}
			key, name := p.Media, p.Media
			if q.by == "placement" {
				key, name = string(p.ID), p.Name
				if len(q.campaigns) > 1 {
					name = c.Name + " / " + p.Name
				}
			}
			g, ok := index[key]
			if !ok {
				if len(groups) == store.MaxReachGroups {
					return nil, nil, admeter.Errorf(admeter.EINVALID, "a reach report has at most %d groups; these campaigns have more %s: group by media, or name fewer campaigns", store.MaxReachGroups, q.by+"s")
				}
				g = len(groups)
				index[key] = g
				groups = append(groups, Group{Key: key, Name: name, Costed: q.costs})
			}
			assign[p.ID] = g
		}
	}
	if len(groups) == 0 {
		return nil, nil, admeter.Errorf(admeter.EINVALID, "the campaigns have no placements to report on")
	}
	return groups, assign, nil
}

// setQuery returns the store query of the groups assign gives.
func (q *query) setQuery(assign map[admeter.PlacementID]int) store.ReachSetQuery {
	ids := make([]admeter.CampaignID, len(q.campaigns))
	for i, c := range q.campaigns {
		ids[i] = c.ID
	}
	return store.ReachSetQuery{Tenants: q.owners, Campaigns: ids, From: q.start, To: q.end,
		Groups: assign, Filter: q.filter, WasteAbove: q.wasteAbove}
}

// cost sets each group's Cost, Billed and Costed from its placements'
// prices and delivery (see costBasis). A group with an unpriced placement
// is not costed; when the query may not show costs, none is.
func (s *Service) cost(ctx context.Context, q *query, groups []Group, assign map[admeter.PlacementID]int) error {
	for i, c := range q.campaigns {
		usage, err := s.usage(ctx, q, c, q.views[i], q.start, q.end)
		if err != nil {
			return err
		}
		var lifetime map[admeter.PlacementID]admeter.Usage
		for _, p := range c.Placements {
			g, ok := assign[p.ID]
			if !ok {
				continue
			}
			u := usage[p.ID]
			groups[g].Billed += u.Impressions
			if !groups[g].Costed {
				continue
			}
			if p.Price == nil {
				groups[g].Costed = false
				continue
			}
			if p.Price.Model == admeter.Fixed && u.Days > 0 {
				if lifetime == nil {
					// Every day the placement recorded an impression:
					// from well before the campaign was created (imports
					// and backfills) to now.
					since := q.start
					if c.Created.Before(since) {
						since = c.Created
					}
					since = since.AddDate(0, 0, -flightLookback)
					if lifetime, err = s.usage(ctx, q, c, q.views[i], since, s.now()); err != nil {
						return err
					}
				}
				u.FlightDays = max(lifetime[p.ID].Days, u.Days)
			}
			cost, err := p.Price.Cost(u)
			if err != nil {
				return fmt.Errorf("cost of placement %s: %w", p.ID, err)
			}
			groups[g].Cost += cost
		}
	}
	for i := range groups {
		if !groups[i].Costed {
			groups[i].Cost = 0
		}
	}
	return nil
}

// usage returns what each placement of view delivered in [from, to):
// counted impressions and clicks, and the days (in the report's time
// zone) with at least one impression.
func (s *Service) usage(ctx context.Context, q *query, c *admeter.Campaign, view []admeter.PlacementID, from, to time.Time) (map[admeter.PlacementID]admeter.Usage, error) {
	out := map[admeter.PlacementID]admeter.Usage{}
	if !from.Before(to) {
		return out, nil
	}
	res, err := s.store.Report(ctx, store.ReportQuery{
		Tenant: c.Tenant, Campaign: c.ID, From: from, To: to, Location: q.loc,
		By: []store.Dimension{store.ByPlacement, store.ByDay}, Placements: view, Filter: q.filter,
	})
	if err != nil {
		return nil, fmt.Errorf("delivery of campaign %s: %w", c.ID, err)
	}
	for _, r := range res.Rows {
		p := admeter.PlacementID(r.Dims[0])
		u := out[p]
		u.Impressions += r.Impressions
		u.Clicks += r.Clicks
		if r.Impressions > 0 {
			u.Days++
		}
		out[p] = u
	}
	return out, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
