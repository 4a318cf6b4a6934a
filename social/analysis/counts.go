package analysis

import (
	"slices"
	"time"
)

// counts fills the total, the rules with their days, the sources and the
// share of voice.
func (a *analysis) counts(rep *Report) {
	var total acc
	rules := make([]acc, len(a.rules))
	days := make([][]acc, len(a.rules))
	for i := range days {
		days[i] = make([]acc, len(a.days))
	}
	sources := map[string]*acc{}
	for i := range a.recs {
		r := &a.recs[i]
		if len(r.rules) == 0 {
			continue
		}
		total.add(r)
		s := sources[r.p.Source]
		if s == nil {
			s = &acc{}
			sources[r.p.Source] = s
		}
		s.add(r)
		for _, ri := range r.rules {
			rules[ri].add(r)
			days[ri][r.day].add(r)
		}
	}

	a.priv.check(&total)
	rep.Total = total.cell()

	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]*acc, len(names))
	for i, n := range names {
		parts[i] = sources[n]
	}
	a.priv.series(&total, parts)
	for i, n := range names {
		rep.Sources = append(rep.Sources, SourceCell{Source: n, Cell: parts[i].cell()})
	}

	for ri := range a.rules {
		a.priv.check(&rules[ri])
		parts := make([]*acc, len(a.days))
		for d := range a.days {
			parts[d] = &days[ri][d]
		}
		a.priv.series(&rules[ri], parts)
		rr := RuleReport{Rule: a.rules[ri].rule.Name, Role: a.rules[ri].role, Cell: rules[ri].cell()}
		for d, date := range a.days {
			rr.Days = append(rr.Days, DayCell{Date: date.String(), Cell: days[ri][d].cell()})
		}
		rep.Rules = append(rep.Rules, rr)
	}

	rep.ShareOfVoice = a.shareOfVoice(rules, days)
}

// shareOfVoice returns each rule's share of the published rules' mentions,
// overall and per day.
func (a *analysis) shareOfVoice(rules []acc, days [][]acc) ShareOfVoice {
	sov := ShareOfVoice{Basis: "Each rule's mentions (and likes+comments+shares) over the sum of all rules' mentions; a record mentioning two rules counts for both. " +
		"Suppressed rules are left out of the sums, and a day is suppressed when any of its rules is."}
	shares := func(cells []*acc) []Share {
		var m, e int64
		for _, x := range cells {
			if !x.suppressed {
				m += x.c.Mentions
				e += x.engagement
			}
		}
		out := make([]Share, len(cells))
		for i, x := range cells {
			out[i] = Share{Rule: a.rules[i].rule.Name, Role: a.rules[i].role, Suppressed: x.suppressed}
			if !x.suppressed {
				out[i].Mentions = ratio(x.c.Mentions, m)
				out[i].Engagement = ratio(x.engagement, e)
			}
		}
		return out
	}
	cells := make([]*acc, len(rules))
	for i := range rules {
		cells[i] = &rules[i]
	}
	sov.Rules = shares(cells)
	for d, date := range a.days {
		sd := ShareDay{Date: date.String()}
		for i := range rules {
			cells[i] = &days[i][d]
			sd.Suppressed = sd.Suppressed || cells[i].suppressed
		}
		if !sd.Suppressed {
			sd.Rules = shares(cells)
		}
		sov.Days = append(sov.Days, sd)
	}
	return sov
}

// ratio returns x/n, 0 when n is 0.
func ratio(x, n int64) *float64 {
	v := 0.0
	if n > 0 {
		v = float64(x) / float64(n)
	}
	return &v
}

// searches sums the search aggregates that match each rule, by the day of
// China Standard Time they are for.
func (a *analysis) searches(rep *Report) {
	cst := time.FixedZone("CST", 8*3600)
	out := make([]SearchTrend, len(a.rules))
	for i, r := range a.rules {
		out[i] = SearchTrend{Rule: r.rule.Name, Role: r.role, Days: make([]SearchDay, len(a.days))}
		for d, date := range a.days {
			out[i].Days[d].Date = date.String()
		}
	}
	for i := range a.in.Posts {
		p := &a.in.Posts[i]
		if p.Kind.Authored() || !p.Kind.Valid() {
			continue
		}
		d := a.dayIndex(p.At, cst)
		if d < 0 {
			continue
		}
		for _, name := range a.matcher.Match(p.Text) {
			ri := a.byName[name]
			out[ri].Searches += p.Count
			out[ri].Days[d].Searches += p.Count
		}
	}
	rep.Searches = out
}

// date returns the i-th day of the report, "" when out of range.
func (a *analysis) date(i int) string {
	if i < 0 || i >= len(a.days) {
		return ""
	}
	return a.days[i].String()
}
