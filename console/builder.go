package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store"
)

// cell is one table cell: its text, whether it is a number (right-aligned),
// and the value it sorts by.
type cell struct {
	Text string
	Num  bool
	sort float64
}

// column is a table header: its label key, its sort state and the link that
// sorts by it.
type column struct {
	Key, Sort, Link string
	Num             bool
}

// reportBuilder serves the report builder: a date range and dimensions in,
// a sortable table out, with CSV and Excel exports of the same query.
func (s *Server) reportBuilder(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadReports) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	c, err := s.campaigns.Campaign(r.Context(), sess.Tenant.ID, admeter.CampaignID(r.PathValue("id")))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	q := r.URL.Query()
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = chinaTime
	}
	to := q.Get("to")
	if to == "" {
		to = s.cfg.Now().In(loc).Format(time.DateOnly)
	}
	from := q.Get("from")
	if from == "" {
		if d, err := store.ParseDate(to); err == nil {
			from = d.AddDays(-6).String()
		}
	}
	by := q["by"]
	if len(by) == 0 {
		by = []string{"day"}
	}
	rep, err := s.reports.Report(r.Context(), report.Request{Tenant: sess.Tenant.ID, Campaign: c.ID, From: from, To: to, By: strings.Join(by, ",")})
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.sessions.AuditFor(r, sess, "report.read", string(c.ID), "ok", map[string]any{"via": "console builder", "by": by})
	names := map[string]string{}
	for _, p := range c.Placements {
		names[string(p.ID)] = p.Name
	}
	measures := []string{"impressions", "clicks", "ctr", "uv", "invalid_impressions", "ivt_rate", "viewable_rate", "conversions", "cvr"}
	row := func(i int, dims []string, cs store.Counts) []cell {
		var out []cell
		for i, d := range dims {
			if rep.By[i] == store.ByPlacement && names[d] != "" {
				d = names[d] + " (" + d + ")"
			}
			out = append(out, cell{Text: d})
		}
		ctr := report.CTR(cs)
		view, outcome := rep.ViewOf(i), rep.OutcomeOf(i)
		viewable, cvr := report.ViewableRate(view), report.CVR(outcome.Conversions, cs.Clicks)
		return append(out,
			cell{Text: groupDigits(cs.Impressions), Num: true, sort: float64(cs.Impressions)},
			cell{Text: groupDigits(cs.Clicks), Num: true, sort: float64(cs.Clicks)},
			cell{Text: fmt.Sprintf("%.2f%%", 100*ctr), Num: true, sort: ctr},
			cell{Text: groupDigits(cs.UV), Num: true, sort: float64(cs.UV)},
			cell{Text: groupDigits(cs.InvalidImpressions), Num: true, sort: float64(cs.InvalidImpressions)},
			cell{Text: fmt.Sprintf("%.2f%%", 100*report.IVTRate(cs)), Num: true, sort: report.IVTRate(cs)},
			cell{Text: fmt.Sprintf("%.2f%%", 100*viewable), Num: true, sort: viewable},
			cell{Text: groupDigits(outcome.Conversions), Num: true, sort: float64(outcome.Conversions)},
			cell{Text: fmt.Sprintf("%.2f%%", 100*cvr), Num: true, sort: cvr})
	}
	var rows [][]cell
	for i, rr := range rep.Rows {
		rows = append(rows, row(i, rr.Dims, rr.Counts))
	}
	sortCol, _ := strconv.Atoi(q.Get("sort"))
	desc := q.Get("dir") == "desc"
	if sortCol >= 0 && len(rows) > 0 && sortCol < len(rows[0]) {
		slices.SortStableFunc(rows, func(a, b []cell) int {
			x, y := a[sortCol], b[sortCol]
			var c int
			if x.Num {
				c = cmpFloat(x.sort, y.sort)
			} else {
				c = strings.Compare(x.Text, y.Text)
			}
			if desc {
				return -c
			}
			return c
		})
	}
	base := url.Values{"from": {from}, "to": {to}, "by": by}
	var cols []column
	keys := append(append([]string{}, by...), measures...)
	for i, k := range keys {
		isDim := i < len(by)
		key := k
		if isDim {
			key = "dim_" + k
		}
		col := column{Key: key, Num: !isDim, Sort: "none"}
		link := url.Values{"from": {from}, "to": {to}, "by": by, "sort": {strconv.Itoa(i)}}
		if i == sortCol && q.Get("sort") != "" {
			col.Sort = map[bool]string{true: "descending", false: "ascending"}[desc]
			if !desc {
				link.Set("dir", "desc")
			}
		}
		col.Link = link.Encode()
		cols = append(cols, col)
	}
	totalDims := make([]string, len(by))
	if len(totalDims) > 0 {
		totalDims[0] = translator(langOf(r))("total")
	}
	var dims []map[string]any
	for _, d := range []string{"day", "hour", "placement", "media", "region", "os", "device", "reason"} {
		dims = append(dims, map[string]any{"Name": d, "On": slices.Contains(by, d)})
	}
	s.render(w, r, http.StatusOK, "report", "report_builder", sess, map[string]any{
		"Campaign": c, "From": from, "To": to, "Dims": dims, "Query": base.Encode(),
		"Columns": cols, "Rows": rows, "Total": row(-1, totalDims, rep.Total),
	}, "")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
