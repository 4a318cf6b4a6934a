package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/reach"
)

// dash stands for a number the report leaves out: withheld under the
// aggregation threshold, an unknown cost, or a ratio over zero.
const dash = "—"

// count formats a nullable count.
func count(p *int64) string {
	if p == nil {
		return dash
	}
	return strconv.FormatInt(*p, 10)
}

// share formats a nullable share as a percentage.
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

// yuan formats a nullable amount of money.
func yuan[M ~int64](p *M) string {
	if p == nil {
		return dash
	}
	b, _ := json.Marshal(*p)
	return strings.Trim(string(b), `"`)
}

// tableWriter is a tabwriter with a row helper.
type tableWriter struct{ *tabwriter.Writer }

func newTableWriter(w io.Writer) tableWriter {
	return tableWriter{tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
}

func (t tableWriter) row(cells ...string) {
	fmt.Fprintln(t, strings.Join(cells, "\t")+"\t")
}

// printReach prints a reach report (GET …/reach) as tables: the totals,
// the groups, the overlap matrix, the incremental curve and effective
// reach. Money is in yuan (CNY).
func printReach(w io.Writer, body []byte) error {
	var r reach.Result
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if r.Report == nil {
		return fmt.Errorf("decode answer: no report in %.200s", body)
	}
	var names []string
	for _, c := range r.Campaigns {
		names = append(names, fmt.Sprintf("%s (%s)", c.ID, c.Name))
	}
	fmt.Fprintf(w, "campaigns %s, %s to %s (%s), by %s, %s traffic, waste above %d impressions per user\n",
		strings.Join(names, ", "), r.From, r.To, r.Timezone, r.By, r.Filter, r.WasteAbove)
	if r.Threshold > 0 {
		fmt.Fprintf(w, "%d advertisers combined: numbers describing fewer than %d users are withheld (%s); %d withheld\n",
			r.Advertisers, r.Threshold, dash, r.Withheld)
	}
	t := r.Totals
	fmt.Fprintf(w, "reach %s, impressions %d (+%d without a user), average frequency %s, gross reach %s, duplication %s\n",
		count(t.Reach), t.Impressions, t.AnonymousImpressions, decimal(t.AverageFrequency), count(t.GrossReach), decimal(t.Duplication))
	fmt.Fprintf(w, "cost %s CNY, CPUM %s, waste %d impressions (%s), cost of waste %s (%s of budget)\n\n",
		yuan(t.Cost), yuan(t.CPUM), t.WasteImpressions, share(t.WasteShare), yuan(t.WasteCost), share(t.WasteBudgetShare))

	tw := newTableWriter(w)
	tw.row(strings.ToUpper(r.By), "reach", "share", "exclusive", "excl%", "duplicated", "impressions", "freq", "waste", "waste%", "cost", "CPUM", "cost/excl user", "waste cost")
	for _, g := range r.Groups {
		tw.row(g.Name, count(g.Reach), share(g.ReachShare), count(g.ExclusiveReach), share(g.ExclusiveShare), count(g.DuplicatedReach),
			strconv.FormatInt(g.Impressions, 10), decimal(g.AverageFrequency), strconv.FormatInt(g.WasteImpressions, 10), share(g.WasteShare),
			yuan(g.Cost), yuan(g.CPUM), yuan(g.CostPerExclusiveUser), yuan(g.WasteCost))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\noverlap: users reached by both (row's share in brackets)")
	tw = newTableWriter(w)
	tw.row(append([]string{""}, r.Overlap.Keys...)...)
	for i, k := range r.Overlap.Keys {
		cells := []string{k}
		for j := range r.Overlap.Keys {
			c := count(r.Overlap.Users[i][j])
			if i != j && i < len(r.Overlap.Shares) && r.Overlap.Shares[i][j] != nil {
				c += " (" + share(r.Overlap.Shares[i][j]) + ")"
			}
			cells = append(cells, c)
		}
		tw.row(cells...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nincremental reach curve: the group that adds the most users first")
	tw = newTableWriter(w)
	tw.row("step", strings.ToUpper(r.By), "+users", "reach", "share", "cumulative cost", "cost/incremental user")
	for _, s := range r.Curve {
		tw.row(strconv.Itoa(s.Step), s.Name, count(s.IncrementalReach), count(s.CumulativeReach), share(s.CumulativeShare),
			yuan(s.CumulativeCost), yuan(s.CostPerIncrementalUser))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\neffective reach: users reached at least N times")
	tw = newTableWriter(w)
	levels, users, shares := []string{"N"}, []string{"users"}, []string{"share"}
	for _, e := range r.Effective {
		levels = append(levels, strconv.Itoa(e.Level)+"+")
		users = append(users, count(e.Users))
		shares = append(shares, share(e.Share))
	}
	tw.row(levels...)
	tw.row(users...)
	tw.row(shares...)
	return tw.Flush()
}

// printPlan prints a placement plan (GET …/reach/plan): the outcome now
// and as recommended, then each unit's change and why.
func printPlan(w io.Writer, body []byte) error {
	var r reach.PlanResult
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if r.Plan == nil {
		return fmt.Errorf("decode answer: no plan in %.200s", body)
	}
	var names []string
	for _, c := range r.Campaigns {
		names = append(names, fmt.Sprintf("%s (%s)", c.ID, c.Name))
	}
	fmt.Fprintf(w, "campaigns %s, %s to %s (%s), by %s, %s traffic\n", strings.Join(names, ", "), r.From, r.To, r.Timezone, r.By, r.Filter)
	return printMediaPlan(w, r.Plan)
}

// printMediaPlan prints the plan itself: the summary, the outcome now and
// as recommended, each unit's change with its reason, and the
// assumptions, in English and Chinese.
func printMediaPlan(w io.Writer, p *mediaplan.Plan) error {
	fmt.Fprintf(w, "%s\n%s\n\n", p.Summary.EN, p.Summary.ZH)
	capText := "none"
	if p.Cap > 0 {
		capText = strconv.Itoa(p.Cap) + " per user and unit"
	}
	fmt.Fprintf(w, "maximising users reached %d+ times; movable budget %s CNY; frequency cap %s\n", p.Effective, yuan(&p.MovableSpend), capText)
	tw := newTableWriter(w)
	tw.row("", "spend", "impressions", "reach", fmt.Sprintf("reach %d+", p.Effective), "CPUM")
	for _, o := range []struct {
		name string
		o    mediaplan.Outcome
	}{{"current (model)", p.Current}, {"recommended", p.Recommended}} {
		tw.row(o.name, yuan(&o.o.Spend), strconv.FormatInt(o.o.Impressions, 10), strconv.FormatInt(o.o.Reach, 10),
			strconv.FormatInt(o.o.EffectiveReach, 10), yuan(&o.o.CPUM))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "expected gain: %+d users at %d+ (%+.1f%%)\n\n", p.Gain, p.Effective, p.GainPercent)

	tw = newTableWriter(w)
	tw.row("unit", "model", "action", "spend now", "recommended", "change", "impressions now", "recommended", "reach now", "recommended", "users/1000 CNY now", "after")
	for _, u := range p.Units {
		tw.row(u.Name, string(u.BuyingModel), u.Explanation.Action, yuan(&u.CurrentSpend), yuan(&u.RecommendedSpend),
			fmt.Sprintf("%+.1f%%", u.Change), strconv.FormatInt(u.CurrentImpressions, 10), strconv.FormatInt(u.RecommendedImpressions, 10),
			strconv.FormatInt(u.CurrentReach, 10), strconv.FormatInt(u.RecommendedReach, 10),
			strconv.FormatFloat(u.Explanation.MarginalNow, 'f', 1, 64), strconv.FormatFloat(u.Explanation.MarginalAfter, 'f', 1, 64))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nwhy / 原因:")
	for _, u := range p.Units {
		fmt.Fprintf(w, "  %s: %s\n  %s: %s\n", u.Name, u.Explanation.Reason.EN, u.Name, u.Explanation.Reason.ZH)
	}
	fmt.Fprintln(w, "\nassumptions / 假设:")
	for _, a := range p.Assumptions {
		fmt.Fprintf(w, "  - %s\n    %s\n", a.EN, a.ZH)
	}
	return nil
}
