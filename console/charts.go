package console

import (
	"strconv"

	"github.com/admeter/admeter/console/chart"
	"github.com/admeter/admeter/report"
)

// renderCharts draws the dashboard's charts from its reports.
func renderCharts(lang string, byDay, byPlacement, byRegion, byOS *report.Report, freq *report.Frequency, names map[string]string) charts {
	t := translator(lang)
	locale := "zh-CN"
	if lang == langEN {
		locale = "en"
	}
	frame := func(title string) chart.Frame {
		return chart.Frame{Title: t(title), Locale: locale, Empty: t("no_data")}
	}

	var days []string
	var imps, clicks []float64
	for _, row := range byDay.Rows {
		label := row.Dims[0][5:] // MM-DD, or MM-DDTHH by hour
		if len(label) > 5 {
			label = label[:5] + " " + label[6:] + map[bool]string{true: "h", false: "时"}[lang == langEN]
		}
		days = append(days, label)
		imps = append(imps, float64(row.Impressions))
		clicks = append(clicks, float64(row.Clicks))
	}
	var out charts
	out.OverTime = chart.Line(chart.LineOptions{Frame: frame("over_time"), Labels: days,
		Series: []chart.Series{{Name: t("impressions"), Points: imps}},
		Right:  []chart.Series{{Name: t("clicks"), Points: clicks}}})

	var cumDays []string
	var reach []float64
	for _, d := range freq.CumulativeReach {
		cumDays = append(cumDays, d.Day.String()[5:])
		reach = append(reach, float64(d.Reach))
	}
	if freq.Reach == 0 {
		reach = nil
	}
	out.Cumulative = chart.Line(chart.LineOptions{Frame: frame("cumulative"), Labels: cumDays, Area: true,
		Series: []chart.Series{{Name: t("reach"), Points: reach}}})

	var bins []chart.Item
	for i, n := range freq.Distribution {
		label := strconv.Itoa(i + 1)
		if i == len(freq.Distribution)-1 {
			label += "+"
		}
		bins = append(bins, chart.Item{Label: label, Value: float64(n)})
	}
	if freq.Reach == 0 {
		bins = nil
	}
	out.Frequency = chart.Histogram(chart.HistogramOptions{Frame: frame("frequency"), Bins: bins})

	items := func(rep *report.Report, n int, names map[string]string) []chart.Item {
		var out []chart.Item
		for _, l := range top(rep, n, names) {
			out = append(out, chart.Item{Label: l.Label, Value: l.Value})
		}
		return out
	}
	out.Placements = chart.Bars(chart.BarOptions{Frame: frame("top_placements"), Items: items(byPlacement, 10, names), Share: true})
	out.Regions = chart.Bars(chart.BarOptions{Frame: frame("regions"), Items: items(byRegion, 10, nil), Share: true})
	osItems := items(byOS, 8, nil)
	out.OS = chart.Donut(chart.DonutOptions{Frame: frame("os_split"), Slices: osItems, CenterLabel: t("impressions")})
	return out
}
