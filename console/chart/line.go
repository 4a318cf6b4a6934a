package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// LineOptions describe a line chart: impressions and clicks by day or hour,
// or the cumulative reach curve.
type LineOptions struct {
	Frame
	// Labels name the x positions, one per point, e.g. "03-01" or
	// "03-01 14时". When there are too many to fit, only every n-th is
	// shown (see XLabelEvery).
	Labels []string
	// Series are drawn against the left axis.
	Series []Series
	// Right are drawn, dashed, against an optional right axis with its own
	// scale (clicks next to impressions). The right axis shares the left
	// axis's gridlines.
	Right []Series
	// YLabel and RightLabel caption the two axes, e.g. "曝光" and "点击".
	YLabel, RightLabel string
	// Area fills the area under each left-axis series (cumulative reach).
	Area bool
	// XLabelEvery shows every n-th x label; 0 picks the smallest step from
	// 1, 2, 3, 4, 6, 7, 12, 14, 24, 48, … (hour- and week-friendly) at
	// which the labels do not overlap.
	XLabelEvery int
}

// Line defaults.
const (
	lineWidth  = 720
	lineHeight = 320
	// markerMax is the most points per series that get a dot with a
	// tooltip.
	markerMax = 62
)

// Line draws a line chart.
func Line(opts LineOptions) template.HTML {
	w, h := defaultSize(opts.Width, lineWidth), defaultSize(opts.Height, lineHeight)
	wd := wordsFor(opts.Locale)
	left, right := opts.Series, opts.Right
	if len(left) == 0 {
		left, right = right, nil
	}
	n := len(opts.Labels)
	hasData := false
	for _, s := range append(append([]Series(nil), left...), right...) {
		n = max(n, len(s.Points))
		for _, v := range s.Points {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hasData = true
			}
		}
	}
	title := opts.Title
	if title == "" {
		title = wd.line
	}
	if !hasData {
		return empty("line", opts.Frame, w, h, title)
	}
	labels := make([]string, n)
	for i := range labels {
		if i < len(opts.Labels) {
			labels[i] = clean(opts.Labels[i])
		}
	}
	desc := opts.Desc
	if desc == "" {
		desc = lineDesc(wd, opts.Locale, labels, left, right)
	}
	s := start("line", w, h, title, desc)

	// Legend and axis captions.
	var entries []legendEntry
	for i, se := range left {
		entries = append(entries, legendEntry{name: se.Name, color: color(se.Color, i), line: true})
	}
	for i, se := range right {
		entries = append(entries, legendEntry{name: se.Name + wd.right, color: color(se.Color, len(left)+i), line: true, dashed: true})
	}
	top := 8.0
	if len(left)+len(right) > 1 || left[0].Name != "" {
		rows := s.legend(entries, 8, 20, float64(w)-8)
		top = 20 + float64(rows-1)*18 + 8
	}
	if opts.YLabel != "" || opts.RightLabel != "" {
		top += 14
		if opts.YLabel != "" {
			s.text(8, top, "start", fmt.Sprintf(` fill="%s"`, colSubtle), opts.YLabel)
		}
		if opts.RightLabel != "" && len(right) > 0 {
			s.text(float64(w)-8, top, "end", fmt.Sprintf(` fill="%s"`, colSubtle), opts.RightLabel)
		}
		top += 4
	}
	plotTop := top + 10
	plotBottom := float64(h) - 26

	// Scales.
	integer := allIntegers(pointsOf(left)...) && allIntegers(pointsOf(right)...)
	target := max(2, int((plotBottom-plotTop)/40))
	lo, hi := extent(left)
	ticks, step := niceTicks(lo, hi, target, integer)
	tickLabels := axisLabels(ticks, step, opts.Locale)
	var rTicks []float64
	var rLabels []string
	rAligned := false
	if len(right) > 0 {
		rlo, rhi := extent(right)
		if rlo >= 0 && ticks[0] == 0 {
			var rstep float64
			rTicks, rstep = alignedTicks(rhi, len(ticks), integer)
			rLabels = axisLabels(rTicks, rstep, opts.Locale)
			rAligned = true
		} else {
			var rstep float64
			rTicks, rstep = niceTicks(rlo, rhi, target, integer)
			rLabels = axisLabels(rTicks, rstep, opts.Locale)
		}
	}
	plotLeft := 8 + maxWidth(tickLabels, smallSize) + 6
	plotRight := float64(w) - 16
	if len(right) > 0 {
		plotRight = float64(w) - 8 - maxWidth(rLabels, smallSize) - 6
	}
	// Room for the first and last x labels, centred on their points (but
	// never more than a quarter of the width).
	plotLeft = math.Max(plotLeft, math.Min(textWidth(labels[0], smallSize)/2+4, float64(w)/4))
	plotRight = math.Min(plotRight, math.Max(float64(w)-textWidth(labels[n-1], smallSize)/2-4, float64(w)*3/4))
	plotW := math.Max(plotRight-plotLeft, 1)
	plotH := math.Max(plotBottom-plotTop, 1)
	y := scale(ticks, plotBottom, plotH)
	x := func(i int) float64 {
		if n == 1 {
			return plotLeft + plotW/2
		}
		return plotLeft + plotW*float64(i)/float64(n-1)
	}

	// Gridlines and y labels.
	for i, t := range ticks {
		stroke := colGrid
		if t == 0 {
			stroke = colAxis
		}
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n",
			num(plotLeft), num(y(t)), num(plotRight), num(y(t)), stroke)
		s.text(plotLeft-6, y(t), "end", fmt.Sprintf(` dy="0.35em" font-size="%d" fill="%s"`, smallSize, colSubtle), tickLabels[i])
	}
	if len(right) > 0 {
		ry := scale(rTicks, plotBottom, plotH)
		for i, t := range rTicks {
			if !rAligned {
				s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n",
					num(plotRight), num(ry(t)), num(plotRight+4), num(ry(t)), colAxis)
			}
			s.text(plotRight+6, ry(t), "start", fmt.Sprintf(` dy="0.35em" font-size="%d" fill="%s"`, smallSize, colSubtle), rLabels[i])
		}
	}

	// X labels, thinned.
	every := opts.XLabelEvery
	if every <= 0 {
		every = labelStep(n, maxWidth(labels, smallSize)+8, plotW)
	}
	for i := 0; i < n; i += every {
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n",
			num(x(i)), num(plotBottom), num(x(i)), num(plotBottom+4), colAxis)
		if labels[i] != "" {
			s.text(x(i), plotBottom+17, "middle", fmt.Sprintf(` font-size="%d" fill="%s"`, smallSize, colSubtle), labels[i])
		}
	}

	// Areas under the left series, then the lines, then the dots.
	if opts.Area {
		base := y(math.Max(ticks[0], math.Min(0, ticks[len(ticks)-1])))
		for i, se := range left {
			s.printf(`<path d="%s" fill="%s" fill-opacity="0.15"/>`+"\n", areaPath(se.Points, x, y, base), color(se.Color, i))
		}
	}
	type drawn struct {
		se     Series
		color  string
		y      func(float64) float64
		dashed bool
	}
	var all []drawn
	for i, se := range left {
		all = append(all, drawn{se, color(se.Color, i), y, false})
	}
	if len(right) > 0 {
		ry := scale(rTicks, plotBottom, plotH)
		for i, se := range right {
			all = append(all, drawn{se, color(se.Color, len(left)+i), ry, true})
		}
	}
	for _, d := range all {
		dash := ""
		if d.dashed {
			dash = ` stroke-dasharray="6 3"`
		}
		s.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"%s/>`+"\n",
			linePath(d.se.Points, x, d.y), d.color, dash)
	}
	for _, d := range all {
		s.b.WriteString("<g>\n")
		for i, v := range d.se.Points {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			isolated := (i == 0 || !usable(d.se.Points[i-1])) && (i == len(d.se.Points)-1 || !usable(d.se.Points[i+1]))
			if len(d.se.Points) > markerMax && !isolated {
				continue
			}
			tip := labels[i]
			if d.se.Name != "" {
				if tip != "" {
					tip += " · "
				}
				tip += d.se.Name
			}
			s.printf(`<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s</title></circle>`+"\n",
				num(x(i)), num(d.y(v)), d.color, esc(tip+wd.sep+FormatNumber(v)))
		}
		s.b.WriteString("</g>\n")
	}
	return s.end()
}

// usable reports whether v is a point that is drawn.
func usable(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// scale maps a value to a y coordinate so that the first tick is at bottom
// and the last at bottom-height.
func scale(ticks []float64, bottom, height float64) func(float64) float64 {
	t0, t1 := ticks[0], ticks[len(ticks)-1]
	span := t1 - t0
	if span == 0 {
		span = 1
	}
	return func(v float64) float64 {
		return bottom - (finite(v)-t0)/span*height
	}
}

// extent returns the smallest and largest finite point of series.
func extent(series []Series) (lo, hi float64) {
	first := true
	for _, se := range series {
		for _, v := range se.Points {
			if !usable(v) {
				continue
			}
			if first {
				lo, hi, first = v, v, false
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

func pointsOf(series []Series) [][]float64 {
	out := make([][]float64, len(series))
	for i, se := range series {
		out[i] = se.Points
	}
	return out
}

// labelSteps are the steps labelStep chooses from: they divide days into
// hours and weeks into days.
var labelSteps = []int{1, 2, 3, 4, 6, 7, 12, 14, 24, 48, 72, 96, 120, 168, 336, 504, 720}

// labelStep returns the smallest step at which n labels of width each fit
// into plotW.
func labelStep(n int, each, plotW float64) int {
	if n <= 1 || each <= 0 {
		return 1
	}
	fit := int(plotW / each)
	if fit < 1 {
		fit = 1
	}
	for _, st := range labelSteps {
		if (n+st-1)/st <= fit {
			return st
		}
	}
	need := (n + fit - 1) / fit
	return (need + 719) / 720 * 720
}

// linePath joins the usable points of vals; a NaN or ±Inf starts a new
// segment.
func linePath(vals []float64, x func(int) float64, y func(float64) float64) string {
	var b strings.Builder
	pen := false
	for i, v := range vals {
		if !usable(v) {
			pen = false
			continue
		}
		if pen {
			b.WriteByte('L')
		} else {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte('M')
		}
		b.WriteString(num(x(i)))
		b.WriteByte(' ')
		b.WriteString(num(y(v)))
		pen = true
	}
	if b.Len() == 0 {
		return "M0 0"
	}
	return b.String()
}

// areaPath closes each segment of linePath down to base.
func areaPath(vals []float64, x func(int) float64, y func(float64) float64, base float64) string {
	var b strings.Builder
	segStart := -1
	flush := func(end int) {
		if segStart < 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "M%s %s", num(x(segStart)), num(base))
		for i := segStart; i <= end; i++ {
			fmt.Fprintf(&b, "L%s %s", num(x(i)), num(y(vals[i])))
		}
		fmt.Fprintf(&b, "L%s %sZ", num(x(end)), num(base))
		segStart = -1
	}
	for i, v := range vals {
		if !usable(v) {
			flush(i - 1)
			continue
		}
		if segStart < 0 {
			segStart = i
		}
	}
	flush(len(vals) - 1)
	if b.Len() == 0 {
		return "M0 0"
	}
	return b.String()
}

// lineDesc summarises a line chart: the x range, then each series' peak and
// last value.
func lineDesc(wd words, locale string, labels []string, left, right []Series) string {
	var b strings.Builder
	n := len(labels)
	if labels[0] != "" && labels[n-1] != "" && n > 1 {
		fmt.Fprintf(&b, "%s %s %s", labels[0], wd.to, labels[n-1])
		if isZh(locale) {
			fmt.Fprintf(&b, "，%d %s。", n, wd.points)
		} else {
			fmt.Fprintf(&b, ", %d %s.", n, wd.points)
		}
	}
	for _, se := range append(append([]Series(nil), left...), right...) {
		peak, at, last, seen := 0.0, -1, 0.0, false
		for i, v := range se.Points {
			if !usable(v) {
				continue
			}
			if !seen || v > peak {
				peak, at = v, i
			}
			last, seen = v, true
		}
		if !seen {
			continue
		}
		if b.Len() > 0 && !isZh(locale) {
			b.WriteByte(' ')
		}
		name := se.Name
		if name != "" {
			name += wd.sep
		}
		where := ""
		if labels[at] != "" {
			where = wd.open + labels[at] + wd.close
		}
		if isZh(locale) {
			fmt.Fprintf(&b, "%s%s %s%s，%s %s。", name, wd.peak, FormatNumber(peak), where, wd.last, FormatNumber(last))
		} else {
			fmt.Fprintf(&b, "%s%s %s%s, %s %s.", name, wd.peak, FormatNumber(peak), where, wd.last, FormatNumber(last))
		}
	}
	return b.String()
}
