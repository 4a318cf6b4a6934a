package console

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/console/chart"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store"
)

// maxReasons is how many reasons a row of the invalid-traffic tables names;
// the others are counted as "+n".
const maxReasons = 3

// ivtColor is the colour of the bars of invalid traffic (Okabe–Ito
// vermillion).
const ivtColor = "#D55E00"

// reasonCount is an invalid-traffic reason and its invalid impressions.
type reasonCount struct {
	// Code is the reason code as reports give it (admeter.IVT names, or
	// "unknown").
	Code string
	// Label is the code's label in the page's language, or the code itself
	// when the console has no label for it (Known is then false).
	Label string
	Known bool
	Count int64
}

// CountText is Count with thousands separators.
func (r reasonCount) CountText() string { return groupDigits(r.Count) }

// ivtRow is one placement's or one media's invalid traffic.
type ivtRow struct {
	// Name is the placement's name or the media; ID is the placement's id
	// ("" in the media table).
	Name, ID string
	// Gross counts every impression, valid or not; Invalid the invalid
	// ones; Rate is Invalid/Gross as a percentage.
	Gross, Invalid int64
	Rate           string
	// Reasons are the top reasons by invalid impressions; More is the
	// number of further reasons.
	Reasons []reasonCount
	More    int
}

// ivtSection is the dashboard's invalid-traffic section.
type ivtSection struct {
	// Invalid is the campaign's invalid impressions; zero shows the empty
	// state.
	Invalid    int64
	Placements []ivtRow
	Media      []ivtRow
	// Chart is the bar chart of invalid impressions by reason.
	Chart template.HTML
}

// reasonLabel returns the label of an invalid-traffic reason code in the
// language of t ("ivt_<code>" in the catalogue), and whether there is one:
// a code the console does not know yet is shown as itself.
func reasonLabel(t func(string) string, code string) (string, bool) {
	key := "ivt_" + code
	if v := t(key); v != key {
		return v, true
	}
	return code, false
}

// ivtTally adds up the gross and invalid impressions of a placement or a
// media and its invalid impressions by reason.
type ivtTally struct {
	gross, invalid int64
	reasons        map[string]int64
}

func (a *ivtTally) add(b *ivtTally) {
	a.gross += b.gross
	a.invalid += b.invalid
	for code, n := range b.reasons {
		a.addReason(code, n)
	}
}

func (a *ivtTally) addReason(code string, n int64) {
	if a.reasons == nil {
		a.reasons = map[string]int64{}
	}
	a.reasons[code] += n
}

// sortedReasons returns reasons by count, most first (ties by code), with
// their labels from t.
func sortedReasons(t func(string) string, reasons map[string]int64) []reasonCount {
	out := make([]reasonCount, 0, len(reasons))
	for code, n := range reasons {
		label, known := reasonLabel(t, code)
		out = append(out, reasonCount{Code: code, Label: label, Known: known, Count: n})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// row turns a tally into a table row.
func (a *ivtTally) row(t func(string) string, name, id string) ivtRow {
	r := ivtRow{Name: name, ID: id, Gross: a.gross, Invalid: a.invalid,
		Rate: fmt.Sprintf("%.2f%%", 100*report.IVTRate(store.Counts{Impressions: a.gross - a.invalid, InvalidImpressions: a.invalid}))}
	r.Reasons = sortedReasons(t, a.reasons)
	if len(r.Reasons) > maxReasons {
		r.More = len(r.Reasons) - maxReasons
		r.Reasons = r.Reasons[:maxReasons]
	}
	return r
}

// sortRows puts the rows with the most invalid impressions first, then the
// biggest, then by name.
func sortRows(rows []ivtRow) {
	slices.SortFunc(rows, func(a, b ivtRow) int {
		return cmp.Or(cmp.Compare(b.Invalid, a.Invalid), cmp.Compare(b.Gross, a.Gross), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
}

// invalidTraffic lays out the invalid-traffic section from the dashboard's
// report by placement (net of invalid traffic, with the invalid measures
// beside) and its report by placement and reason (nil when nothing was
// invalid). Media figures are the sums of their placements'.
func invalidTraffic(lang string, c *admeter.Campaign, byPlacement, byReason *report.Report) ivtSection {
	t := translator(lang)
	out := ivtSection{Invalid: byPlacement.Total.InvalidImpressions}
	placements := map[string]*ivtTally{}
	tally := func(id string) *ivtTally {
		a, ok := placements[id]
		if !ok {
			a = &ivtTally{}
			placements[id] = a
		}
		return a
	}
	for _, row := range byPlacement.Rows {
		a := tally(row.Dims[0])
		a.gross += row.Impressions + row.InvalidImpressions
		a.invalid += row.InvalidImpressions
	}
	all := map[string]int64{}
	if byReason != nil {
		for _, row := range byReason.Rows {
			code := row.Dims[1]
			if code == "valid" || row.InvalidImpressions == 0 {
				continue
			}
			tally(row.Dims[0]).addReason(code, row.InvalidImpressions)
			all[code] += row.InvalidImpressions
		}
	}
	if out.Invalid == 0 && len(all) == 0 {
		return out
	}

	names, mediaOf := map[string]string{}, map[string]string{}
	for _, p := range c.Placements {
		names[string(p.ID)], mediaOf[string(p.ID)] = p.Name, p.Media
	}
	media := map[string]*ivtTally{}
	for id, a := range placements {
		if a.gross == 0 && a.invalid == 0 {
			continue // clicks only
		}
		name := names[id]
		if name == "" {
			name = id
		}
		out.Placements = append(out.Placements, a.row(t, name, id))
		m := mediaOf[id]
		if media[m] == nil {
			media[m] = &ivtTally{}
		}
		media[m].add(a)
	}
	for m, a := range media {
		name := m
		if name == "" {
			name = "?"
		}
		out.Media = append(out.Media, a.row(t, name, ""))
	}
	sortRows(out.Placements)
	sortRows(out.Media)
	out.Chart = reasonChart(lang, sortedReasons(t, all), out.Invalid)
	return out
}

// reasonChart draws the invalid impressions by reason as horizontal bars,
// each with its share of all invalid impressions (invalid). An impression
// with several reasons is in the bar of each, so the shares can add up to
// more than 100%.
func reasonChart(lang string, reasons []reasonCount, invalid int64) template.HTML {
	t := translator(lang)
	locale := "zh-CN"
	if lang == langEN {
		locale = "en"
	}
	items := make([]chart.Item, 0, len(reasons))
	for _, r := range reasons {
		items = append(items, chart.Item{Label: r.Label, Value: float64(r.Count)})
	}
	return chart.Bars(chart.BarOptions{
		Frame: chart.Frame{Title: t("ivt_by_reason"), Locale: locale, Empty: t("no_ivt")},
		Items: items, Color: ivtColor, Share: true, Total: float64(invalid), MaxLabelRunes: 20,
	})
}
