package console

import (
	"fmt"
	"strconv"

	"github.com/admeter/admeter/console/chart"
	"github.com/admeter/admeter/report"
)

// timeline returns the labels of every day (or, by hour, every hour) of the
// report's range, so that a day without traffic shows as zero rather than
// vanishing from the axis.
func timeline(rep *report.Report, hourly bool) []string {
	var out []string
	for d := rep.From; !rep.To.Before(d); d = d.AddDays(1) {
		if !hourly {
			out = append(out, d.String())
			continue
		}
		for h := range 24 {
			out = append(out, fmt.Sprintf("%sT%02d", d, h))
		}
	}
	return out
}

// osNames are the display names of the OS values in reports.
var osNames = map[string]string{"android": "Android", "ios": "iOS", "windows_phone": "Windows Phone", "other": "其他 / Other", "unknown": "?"}

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

	hourly := len(byDay.By) > 0 && byDay.By[0] == "hour"
	keys := timeline(byDay, hourly)
	at := make(map[string]int, len(keys))
	for i, k := range keys {
		at[k] = i
	}
	days := make([]string, len(keys))
	imps, clicks := make([]float64, len(keys)), make([]float64, len(keys))
	for i, k := range keys {
		label := k[5:] // MM-DD, or MM-DDTHH by hour
		if hourly {
			label = label[:5] + " " + label[6:] + map[bool]string{true: "h", false: "时"}[lang == langEN]
		}
		days[i] = label
	}
	seen := false
	for _, row := range byDay.Rows {
		if i, ok := at[row.Dims[0]]; ok {
			imps[i], clicks[i] = float64(row.Impressions), float64(row.Clicks)
			seen = seen || row.Impressions > 0 || row.Clicks > 0
		}
	}
	if !seen {
		imps, clicks = nil, nil
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
			if l.Value > 0 { // a row of invalid traffic only
				out = append(out, chart.Item{Label: l.Label, Value: l.Value})
			}
		}
		return out
	}
	out.Placements = chart.Bars(chart.BarOptions{Frame: frame("top_placements"), Items: items(byPlacement, 10, names), Share: true})
	out.Regions = chart.Bars(chart.BarOptions{Frame: frame("regions"), Items: items(byRegion, 10, nil), Share: true})
	osItems := items(byOS, 8, osNames)
	out.OS = chart.Donut(chart.DonutOptions{Frame: frame("os_split"), Slices: osItems, CenterLabel: t("impressions")})
	return out
}
