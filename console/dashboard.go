package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store"
)

// charts are the dashboard's rendered SVG charts.
type charts struct {
	OverTime, Cumulative, Frequency, Placements, Regions, OS template.HTML
}

// dashboardData is what the dashboard template shows.
type dashboardData struct {
	Campaign     *admeter.Campaign
	Tab          string
	From, To     string
	Grain        string
	Total        store.Counts
	CTR          string
	IVTRate      string
	AvgFrequency string
	Charts       charts
	// IVT is the invalid-traffic section.
	IVT ivtSection
}

// dashboard serves a campaign's dashboard over a date range (default: the
// last 7 days in the campaign's time zone).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadReports) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	ctx := r.Context()
	c, err := s.campaigns.Campaign(ctx, sess.Tenant.ID, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = chinaTime
	}
	to := r.URL.Query().Get("to")
	if to == "" {
		to = s.cfg.Now().In(loc).Format(time.DateOnly)
	}
	from := r.URL.Query().Get("from")
	if from == "" {
		if d, err := store.ParseDate(to); err == nil {
			from = d.AddDays(-6).String()
		}
	}
	d, err := s.dashboardFor(ctx, sess.Tenant.ID, c, from, to, r.URL.Query().Get("grain"), langOf(r))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.sessions.AuditFor(r, sess, "report.read", string(c.ID), "ok", map[string]any{"via": "console", "from": from, "to": to})
	s.render(w, r, http.StatusOK, "campaign", "dashboard", sess, d, "")
}

// dashboardFor runs the queries of a campaign's dashboard over [from, to]
// (dates in the campaign's time zone) and lays out what it shows, with
// labels in lang. grain is "hour" for the hourly chart, else daily.
func (s *Server) dashboardFor(ctx context.Context, tenant admeter.TenantID, c *admeter.Campaign, from, to, grain, lang string) (dashboardData, error) {
	query := func(by string) (*report.Report, error) {
		return s.reports.Report(ctx, report.Request{Tenant: tenant, Campaign: c.ID, From: from, To: to, By: by})
	}
	byDay, err := query("day")
	if err != nil {
		return dashboardData{}, err
	}
	overTime := byDay
	if grain == "hour" {
		if overTime, err = query("hour"); err != nil {
			return dashboardData{}, err
		}
	} else {
		grain = "day"
	}
	byPlacement, err := query("placement")
	if err != nil {
		return dashboardData{}, err
	}
	byRegion, err := query("region")
	if err != nil {
		return dashboardData{}, err
	}
	byOS, err := query("os")
	if err != nil {
		return dashboardData{}, err
	}
	// The reasons need a query of their own, and only when something was
	// invalid: the gross and invalid counts are in byPlacement already.
	var byReason *report.Report
	if byPlacement.Total.InvalidImpressions > 0 {
		if byReason, err = query("placement,reason"); err != nil {
			return dashboardData{}, err
		}
	}
	freq, err := s.reports.Frequency(ctx, report.Request{Tenant: tenant, Campaign: c.ID, From: from, To: to})
	if err != nil {
		return dashboardData{}, err
	}
	d := dashboardData{Campaign: c, Tab: "dashboard", From: from, To: to, Grain: grain, Total: byDay.Total,
		CTR: fmt.Sprintf("%.2f%%", 100*report.CTR(byDay.Total)), IVTRate: fmt.Sprintf("%.2f%%", 100*report.IVTRate(byDay.Total))}
	if freq.Reach > 0 {
		d.AvgFrequency = fmt.Sprintf("%.2f", float64(freq.Impressions)/float64(freq.Reach))
	} else {
		d.AvgFrequency = "–"
	}
	names := map[string]string{}
	for _, p := range c.Placements {
		names[string(p.ID)] = p.Name
	}
	d.Charts = renderCharts(lang, overTime, byPlacement, byRegion, byOS, freq, names)
	d.IVT = invalidTraffic(lang, c, byPlacement, byReason)
	return d, nil
}

// labelled is a label and a value, for bar charts.
type labelled struct {
	Label string
	Value float64
}

// top returns the n rows of rep with the most impressions, labelled by their
// first dimension (through names when given).
func top(rep *report.Report, n int, names map[string]string) []labelled {
	var out []labelled
	for _, row := range rep.Rows {
		label := row.Dims[0]
		if v, ok := names[label]; ok && v != "" {
			label = v
		}
		if label == "" {
			label = "?"
		}
		out = append(out, labelled{label, float64(row.Impressions)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	if len(out) > n {
		out = out[:n]
	}
	return out
}
