package console

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/console/chart"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/store"
)

// Reach answers the cross-media reach report and the placement plan: the
// API's ReachService (package reach), so that the console shows what the
// API and the CLI answer.
type Reach interface {
	Reach(ctx context.Context, req reach.Request) (*reach.Result, error)
	Plan(ctx context.Context, req reach.PlanRequest) (*reach.PlanResult, error)
}

// SetReach gives campaigns the "Reach & plan" page (nil: no such page).
func (s *Server) SetReach(r Reach) { s.reach = r }

// effectiveChoices are the effective frequencies the plan form offers.
var effectiveChoices = []string{"1", "2", "3", "5"}

// dash stands for a number the report leaves out: withheld under the
// aggregation threshold, an unknown cost, or a ratio over zero.
const dash = "—"

// reachForm is the page's form, as the user sent it (or its defaults).
type reachForm struct {
	From, To, By, WasteAbove, Effective string
	// Choices are the effective frequencies offered (with the one asked
	// for, if it is another).
	Choices []string
}

// reachKPI is one figure of the totals.
type reachKPI struct {
	Key, ID, Value, Note string
}

// reachGroup is one row of the groups table, formatted.
type reachGroup struct {
	Key, Name                                           string
	Reach, Share, Exclusive, ExclusiveShare, Duplicated string
	Impressions, Frequency, Waste, WasteShare           string
	Cost, CPUM, CostPerExclusive, WasteCost             string
}

// overlapCell is one cell of the overlap matrix: the users reached by
// both groups, the share of the row's reach, and a shade (0 to 4) by
// that share.
type overlapCell struct {
	Users, Share string
	Shade        int
	Diagonal     bool
}

// overlapRow is one row of the overlap matrix.
type overlapRow struct {
	Name  string
	Cells []overlapCell
}

// curveRow is one step of the incremental reach curve.
type curveRow struct {
	Step                                          int
	Name, Added, Cumulative, Share, Cost, PerUser string
}

// effectiveRow is effective reach at one level.
type effectiveRow struct {
	Level        int
	Users, Share string
}

// planOutcome is one row of the plan's outcome table.
type planOutcome struct {
	Key, Spend, Impressions, Reach, Effective, CPUM string
}

// planUnit is one unit of the plan.
type planUnit struct {
	Key, Name, Model, Action, ActionKey, SpendNow, SpendAfter, Change, Reason string
}

// planView is the plan section.
type planView struct {
	Summary     string
	Effective   int
	Cap         string
	Movable     string
	Gain        string
	Keep        bool
	Incomplete  bool
	Outcomes    []planOutcome
	Units       []planUnit
	Assumptions []string
}

// reachView is what the reach page shows.
type reachView struct {
	// Campaigns are those the report combines, in the order asked for;
	// Set is set on the page of a set of them (GET /console/reach), whose
	// form carries IDs, the ids comma-separated.
	Campaigns []*admeter.Campaign
	Set       bool
	IDs       string
	Form      reachForm
	// Costs is set when the user may see prices; CanEdit when they may
	// set them (the edit page).
	Costs, CanEdit bool
	// Scope is the report's scope; nil when the request failed.
	Scope *reach.Scope
	// Threshold, Withheld: the aggregation threshold and the counts it
	// withheld (0 on a single advertiser's page).
	Threshold, Withheld int
	// Unpriced is set when some cost is unknown for lack of a price.
	Unpriced  bool
	By        string
	Totals    []reachKPI
	Groups    []reachGroup
	Overlap   []overlapRow
	Curve     []curveRow
	Chart     template.HTML
	Effective []effectiveRow
	Plan      *planView
	// PlanError is why the plan could not be made (the report could).
	PlanError string
	// names are the campaigns' names, listed in the page's title.
	names string
}

// PageTitle is what the page's title adds to its name: the campaigns'
// names.
func (v *reachView) PageTitle() string { return v.names }

// reachPage serves a campaign's cross-media reach report and placement
// plan: the page of a set of one campaign (see reachPages). The campaign
// is the signed-in tenant's, as on the other report pages.
func (s *Server) reachPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadReports) || s.reach == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	c, err := s.campaigns.Campaign(r.Context(), sess.Tenant.ID, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.reachPages(w, r, sess, []*admeter.Campaign{c}, false)
}

// reachSetPage serves GET /console/reach?campaigns=ID,ID,…: the reach
// report and plan of several of the signed-in tenant's campaigns
// together, a user reached by two of them counted once. The ids come
// comma-separated, or as repeated campaigns= (the campaigns list's
// checkboxes); another tenant's campaign is not found, as elsewhere.
func (s *Server) reachSetPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadReports) || s.reach == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	t := translator(langOf(r))
	ids, err := campaignList(r.URL.Query()["campaigns"])
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	if len(ids) == 0 {
		s.fail(w, r, sess, admeter.Errorf(admeter.EINVALID, "%s", t("reach_pick_none")))
		return
	}
	cs := make([]*admeter.Campaign, 0, len(ids))
	for _, id := range ids {
		c, err := s.campaigns.Campaign(r.Context(), sess.Tenant.ID, id)
		if err != nil {
			s.fail(w, r, sess, err)
			return
		}
		cs = append(cs, c)
	}
	s.reachPages(w, r, sess, cs, true)
}

// campaignList reads the campaigns= values: ids, comma-separated, in one
// value or several; blanks are skipped and an id named twice counts once.
// More than reach.MaxCampaigns is refused before any is looked up.
func campaignList(values []string) ([]admeter.CampaignID, error) {
	var ids []admeter.CampaignID
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			id := admeter.CampaignID(strings.TrimSpace(f))
			if id == "" || slices.Contains(ids, id) {
				continue
			}
			if len(ids) == reach.MaxCampaigns {
				return nil, admeter.Errorf(admeter.EINVALID, "one report combines at most %d campaigns; pick fewer", reach.MaxCampaigns)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// reachWriteTimeout is how long a reach page may take to answer (the API's
// reach report allows as long).
const reachWriteTimeout = 10 * time.Minute

// reachPages serves the cross-media reach report and placement plan of
// cs, the signed-in tenant's campaigns (set: the page of a set, at
// /console/reach). A media tenant sees no cost and no plan (which needs
// prices). A request the report refuses (a bad range, a bad threshold)
// shows the form with the reason.
func (s *Server) reachPages(w http.ResponseWriter, r *http.Request, sess *api.Session, cs []*admeter.Campaign, set bool) {
	// The store's reach sets over a large range outlast the server's
	// 30-second write timeout (docs/benchmarks.md): give the page the
	// time the API gives the report.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reachWriteTimeout))
	ctx := r.Context()
	lang := langOf(r)
	v := &reachView{Campaigns: cs, Set: set, Costs: seesPrices(sess), CanEdit: s.editor != nil && sess.User.Role.Allows(admeter.PermManageCampaigns),
		Form: s.reachFormOf(r, cs)}
	ids, names := make([]string, len(cs)), make([]string, len(cs))
	sources := make([]reach.Source, len(cs))
	for i, c := range cs {
		ids[i], names[i] = string(c.ID), c.Name
		sources[i] = reach.Source{Owner: sess.Tenant.ID, Campaign: c.ID}
	}
	sep := "、"
	if lang == langEN {
		sep = ", "
	}
	v.IDs, v.names = strings.Join(ids, ","), strings.Join(names, sep)
	target := v.IDs
	req := reach.Request{
		Sources: sources,
		From:    v.Form.From, To: v.Form.To, By: v.Form.By, WasteAbove: v.Form.WasteAbove, Costs: v.Costs,
	}
	details := map[string]any{"via": "console", "from": req.From, "to": req.To, "by": req.By}
	res, err := s.reach.Reach(ctx, req)
	if err != nil {
		s.sessions.AuditFor(r, sess, "report.reach", target, "failed: "+admeter.ErrorCode(err), details)
		if code := admeter.ErrorCode(err); code != admeter.EINVALID {
			s.fail(w, r, sess, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "reach", "reach_plan", sess, v, admeter.ErrorMessage(err))
		return
	}
	s.sessions.AuditFor(r, sess, "report.reach", target, "ok", details)
	v.fill(res, lang)
	if v.Costs {
		pr, err := s.reach.Plan(ctx, reach.PlanRequest{Request: req, Effective: v.Form.Effective})
		details := map[string]any{"via": "console", "from": req.From, "to": req.To, "by": req.By, "effective": v.Form.Effective}
		switch {
		case err == nil:
			s.sessions.AuditFor(r, sess, "report.reach_plan", target, "ok", details)
			v.Plan = newPlanView(pr.Plan, lang)
		case admeter.ErrorCode(err) == admeter.EINVALID:
			s.sessions.AuditFor(r, sess, "report.reach_plan", target, "failed: "+admeter.ErrorCode(err), details)
			v.PlanError = admeter.ErrorMessage(err)
		default:
			s.sessions.AuditFor(r, sess, "report.reach_plan", target, "failed: "+admeter.ErrorCode(err), details)
			s.fail(w, r, sess, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "reach", "reach_plan", sess, v, "")
}

// reachFormOf reads the form from r's query, with the defaults: the last
// 7 days in the first campaign's time zone (the report's), by media, the
// campaigns' waste threshold (the largest, as the report takes),
// effective frequency 1.
func (s *Server) reachFormOf(r *http.Request, cs []*admeter.Campaign) reachForm {
	q := r.URL.Query()
	loc, err := time.LoadLocation(cs[0].Timezone)
	if err != nil {
		loc = chinaTime
	}
	f := reachForm{From: q.Get("from"), To: q.Get("to"), By: q.Get("by"), WasteAbove: strings.TrimSpace(q.Get("waste_above")),
		Effective: strings.TrimSpace(q.Get("effective"))}
	if f.To == "" {
		f.To = s.cfg.Now().In(loc).Format(time.DateOnly)
	}
	if f.From == "" {
		if d, err := store.ParseDate(f.To); err == nil {
			f.From = d.AddDays(-6).String()
		}
	}
	if f.By == "" {
		f.By = "media"
	}
	if f.WasteAbove == "" {
		waste := 0
		for _, c := range cs {
			waste = max(waste, c.WasteAbove())
		}
		f.WasteAbove = strconv.Itoa(waste)
	}
	if f.Effective == "" {
		f.Effective = "1"
	}
	f.Choices = effectiveChoices
	if !slices.Contains(f.Choices, f.Effective) {
		f.Choices = append(slices.Clone(f.Choices), f.Effective)
	}
	return f
}

// fill lays out res.
func (v *reachView) fill(res *reach.Result, lang string) {
	t := translator(lang)
	scope := res.Scope
	v.Scope, v.By = &scope, res.By
	rep := res.Report
	v.Threshold, v.Withheld = rep.Threshold, rep.Withheld
	tot := rep.Totals
	v.Totals = []reachKPI{
		{Key: "reach_users", ID: "reach", Value: count(tot.Reach)},
		{Key: "impressions", ID: "impressions", Value: groupDigits(tot.Impressions)},
		{Key: "avg_frequency", ID: "frequency", Value: decimal(tot.AverageFrequency)},
		{Key: "reach_gross", ID: "gross", Value: count(tot.GrossReach)},
		{Key: "reach_duplication", ID: "duplication", Value: decimal(tot.Duplication)},
	}
	if tot.AnonymousImpressions > 0 {
		v.Totals[1].Note = fmt.Sprintf(t("reach_anonymous"), groupDigits(tot.AnonymousImpressions))
	}
	if v.Costs {
		v.Totals = append(v.Totals,
			reachKPI{Key: "reach_cost", ID: "cost", Value: yuan(tot.Cost)},
			reachKPI{Key: "reach_cpum", ID: "cpum", Value: yuan(tot.CPUM)})
	}
	v.Totals = append(v.Totals,
		reachKPI{Key: "reach_waste", ID: "waste", Value: groupDigits(tot.WasteImpressions),
			Note: fmt.Sprintf(t("reach_waste_above_n"), rep.WasteAbove)},
		reachKPI{Key: "reach_waste_share", ID: "waste-share", Value: share(tot.WasteShare)})
	if v.Costs {
		k := reachKPI{Key: "reach_waste_cost", ID: "waste-cost", Value: yuan(tot.WasteCost)}
		if tot.WasteBudgetShare != nil {
			k.Note = fmt.Sprintf(t("reach_of_budget"), share(tot.WasteBudgetShare))
		}
		v.Totals = append(v.Totals, k)
		v.Unpriced = tot.Cost == nil && len(rep.Groups) > 0
	}

	names := make(map[string]string, len(rep.Groups))
	for _, g := range rep.Groups {
		name := g.Name
		if name == "" {
			name = "?"
		}
		names[g.Key] = name
		v.Groups = append(v.Groups, reachGroup{
			Key: g.Key, Name: name, Reach: count(g.Reach), Share: share(g.ReachShare),
			Exclusive: count(g.ExclusiveReach), ExclusiveShare: share(g.ExclusiveShare), Duplicated: count(g.DuplicatedReach),
			Impressions: groupDigits(g.Impressions), Frequency: decimal(g.AverageFrequency),
			Waste: groupDigits(g.WasteImpressions), WasteShare: share(g.WasteShare),
			Cost: yuan(g.Cost), CPUM: yuan(g.CPUM), CostPerExclusive: yuan(g.CostPerExclusiveUser), WasteCost: yuan(g.WasteCost),
		})
		v.Unpriced = v.Unpriced || (v.Costs && g.Cost == nil)
	}

	o := rep.Overlap
	for i, k := range o.Keys {
		row := overlapRow{Name: names[k]}
		if row.Name == "" {
			row.Name = k
		}
		for j := range o.Keys {
			cell := overlapCell{Users: dash, Diagonal: i == j}
			if i < len(o.Users) && j < len(o.Users[i]) {
				cell.Users = count(o.Users[i][j])
			}
			if i < len(o.Shares) && j < len(o.Shares[i]) && o.Shares[i][j] != nil {
				sh := *o.Shares[i][j]
				cell.Share = share(&sh)
				cell.Shade = min(4, max(0, int(math.Ceil(sh*4))))
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Overlap = append(v.Overlap, row)
	}

	var labels []string
	var points []float64
	seen := false
	for _, st := range rep.Curve {
		name := st.Name
		if name == "" {
			name = "?"
		}
		v.Curve = append(v.Curve, curveRow{Step: st.Step, Name: name, Added: count(st.IncrementalReach), Cumulative: count(st.CumulativeReach),
			Share: share(st.CumulativeShare), Cost: yuan(st.CumulativeCost), PerUser: yuan(st.CostPerIncrementalUser)})
		labels = append(labels, strconv.Itoa(st.Step)+". "+name)
		p := math.NaN()
		if st.CumulativeReach != nil {
			p = float64(*st.CumulativeReach)
			seen = seen || p > 0
		}
		points = append(points, p)
	}
	if !seen {
		points = nil
	}
	locale := "zh-CN"
	if lang == langEN {
		locale = "en"
	}
	v.Chart = chart.Line(chart.LineOptions{Frame: chart.Frame{Title: t("reach_curve"), Locale: locale, Empty: t("no_data")},
		Labels: labels, Area: true, Series: []chart.Series{{Name: t("reach_cumulative"), Points: points}}})

	for _, e := range rep.Effective {
		v.Effective = append(v.Effective, effectiveRow{Level: e.Level, Users: count(e.Users), Share: share(e.Share)})
	}
}

// newPlanView lays out a placement plan in lang.
func newPlanView(p *mediaplan.Plan, lang string) *planView {
	t := translator(lang)
	text := func(x mediaplan.Text) string {
		if lang == langEN {
			return x.EN
		}
		return x.ZH
	}
	v := &planView{Summary: text(p.Summary), Effective: p.Effective, Keep: p.Keep, Movable: yuan(&p.MovableSpend), Cap: t("plan_no_cap"),
		Gain: fmt.Sprintf(t("plan_gain"), plusMinus(p.Gain), p.Effective, p.GainPercent)}
	if p.Cap > 0 {
		v.Cap = fmt.Sprintf(t("plan_cap_n"), p.Cap)
	}
	for _, o := range []struct {
		key string
		o   mediaplan.Outcome
	}{{"plan_current", p.Current}, {"plan_recommended", p.Recommended}} {
		spend := yuan(&o.o.Spend)
		if !o.o.SpendComplete {
			spend += " *"
			v.Incomplete = true
		}
		v.Outcomes = append(v.Outcomes, planOutcome{Key: o.key, Spend: spend, Impressions: groupDigits(o.o.Impressions),
			Reach: groupDigits(o.o.Reach), Effective: groupDigits(o.o.EffectiveReach), CPUM: yuan(&o.o.CPUM)})
	}
	for _, u := range p.Units {
		name := u.Name
		if name == "" {
			name = "?"
		}
		pu := planUnit{Key: u.Key, Name: name, Model: strings.ToUpper(string(u.BuyingModel)), ActionKey: u.Explanation.Action,
			Action: t("plan_action_" + u.Explanation.Action), SpendNow: dash, SpendAfter: dash,
			Change: fmt.Sprintf("%+.1f%%", u.Change), Reason: text(u.Explanation.Reason)}
		if pu.Model == "" {
			pu.Model = dash
		}
		if u.Costed {
			pu.SpendNow, pu.SpendAfter = yuan(&u.CurrentSpend), yuan(&u.RecommendedSpend)
		}
		v.Units = append(v.Units, pu)
	}
	for _, a := range p.Assumptions {
		v.Assumptions = append(v.Assumptions, text(a))
	}
	return v
}

// count formats a nullable count.
func count(p *int64) string {
	if p == nil {
		return dash
	}
	return groupDigits(*p)
}

// share formats a nullable share as a percentage with one decimal.
func share(p *float64) string {
	if p == nil {
		return dash
	}
	return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
}

// decimal formats a nullable number with two decimals.
func decimal(p *float64) string {
	if p == nil {
		return dash
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// yuan formats a nullable amount of money as ¥ and yuan, with thousands
// separators, rounded to the fen (to 4 decimals under one yuan, so that a
// cost per user stays readable); the API has the exact amounts.
func yuan(p *admeter.Money) string {
	if p == nil {
		return dash
	}
	v, sign := int64(*p), ""
	if v < 0 {
		sign, v = "-", -v
	}
	unit, decimals := int64(admeter.MicroCNY/100), 2
	if v < admeter.MicroCNY {
		unit, decimals = 100, 4
	}
	v = (v + unit/2) / unit
	frac := fmt.Sprintf("%0*d", decimals, v%(admeter.MicroCNY/unit))
	if decimals > 2 {
		frac = strings.TrimRight(frac, "0")
		frac += strings.Repeat("0", max(0, 2-len(frac)))
	}
	return sign + "¥" + groupDigits(v/(admeter.MicroCNY/unit)) + "." + frac
}

// plusMinus formats n with its sign and thousands separators.
func plusMinus(n int64) string {
	if n >= 0 {
		return "+" + groupDigits(n)
	}
	return groupDigits(n)
}
