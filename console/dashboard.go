package console

import (
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
	query := func(by string) (*report.Report, error) {
		return s.reports.Report(ctx, report.Request{Tenant: sess.Tenant.ID, Campaign: c.ID, From: from, To: to, By: by})
	}
	byDay, err := query("day")
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	grain := r.URL.Query().Get("grain")
	overTime := byDay
	if grain == "hour" {
		if overTime, err = query("hour"); err != nil {
			s.fail(w, r, sess, err)
			return
		}
	} else {
		grain = "day"
	}
	byPlacement, err := query("placement")
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	byRegion, err := query("region")
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	byOS, err := query("os")
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	freq, err := s.reports.Frequency(ctx, report.Request{Tenant: sess.Tenant.ID, Campaign: c.ID, From: from, To: to})
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.sessions.AuditFor(r, sess, "report.read", string(c.ID), "ok", map[string]any{"via": "console", "from": from, "to": to})
	lang := langOf(r)
	d := dashboardData{Campaign: c, Tab: "dashboard", From: from, To: to, Total: byDay.Total,
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
	d.Grain = grain
	d.Charts = renderCharts(lang, overTime, byPlacement, byRegion, byOS, freq, names)
	s.render(w, r, http.StatusOK, "campaign", "dashboard", sess, d, "")
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
