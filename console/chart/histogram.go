package chart

import (
	"fmt"
	"html/template"
	"math"
)

// HistogramOptions describe a histogram of counts per bin, such as the
// frequency distribution: how many people saw the ad once, twice, … ten or
// more times.
type HistogramOptions struct {
	Frame
	// Bins are drawn left to right, e.g. labels "1" … "9", "10+". Each bar
	// carries its count and its share of the sum of all bins.
	Bins []Item
	// XLabel captions the x axis, e.g. "曝光频次"; YLabel the y axis,
	// e.g. "人数".
	XLabel, YLabel string
	// Color is the colour of every bin without its own; default the first
	// colour of Palette.
	Color string
}

// Histogram defaults.
const (
	histWidth  = 720
	histHeight = 320
)

// Histogram draws vertical bars, one per bin, each with its count and
// percentage above it.
func Histogram(opts HistogramOptions) template.HTML {
	wd := wordsFor(opts.Locale)
	w, h := defaultSize(opts.Width, histWidth), defaultSize(opts.Height, histHeight)
	title := opts.Title
	if title == "" {
		title = wd.histogram
	}
	if len(opts.Bins) == 0 {
		return empty("histogram", opts.Frame, w, h, title)
	}
	n := len(opts.Bins)
	vals := make([]float64, n)
	sum, top := 0.0, 0.0
	for i, b := range opts.Bins {
		vals[i] = clampValue(b.Value)
		sum += vals[i]
		top = math.Max(top, vals[i])
	}
	pct := shares(vals, sum)
	labels := make([]string, n)
	counts := make([]string, n)
	tips := make([]string, n)
	for i, b := range opts.Bins {
		labels[i] = clean(b.Label)
		counts[i] = FormatCompact(vals[i], opts.Locale)
		tips[i] = labels[i] + wd.sep + FormatNumber(vals[i]) + wd.open + formatPercent(pct[i]) + wd.close
	}
	desc := opts.Desc
	if desc == "" {
		desc = itemsDesc(wd, tips, 20)
	}
	s := start("histogram", w, h, title, desc)

	top0 := 8.0
	if opts.YLabel != "" {
		s.text(8, 18, "start", fmt.Sprintf(` fill="%s"`, colSubtle), opts.YLabel)
		top0 = 24
	}
	plotTop := top0 + 34 // room for the two lines above the tallest bar
	plotBottom := float64(h) - 26
	if opts.XLabel != "" {
		plotBottom -= 18
	}
	target := max(2, int((plotBottom-plotTop)/40))
	ticks, step := niceTicks(0, top, target, allIntegers(vals))
	tickLabels := axisLabels(ticks, step, opts.Locale)
	plotLeft := 8 + maxWidth(tickLabels, smallSize) + 6
	plotRight := float64(w) - 8
	plotW := math.Max(plotRight-plotLeft, 1)
	plotH := math.Max(plotBottom-plotTop, 1)
	y := scale(ticks, plotBottom, plotH)
	for i, t := range ticks {
		stroke := colGrid
		if t == 0 {
			stroke = colAxis
		}
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n",
			num(plotLeft), num(y(t)), num(plotRight), num(y(t)), stroke)
		s.text(plotLeft-6, y(t), "end", fmt.Sprintf(` dy="0.35em" font-size="%d" fill="%s"`, smallSize, colSubtle), tickLabels[i])
	}

	slot := plotW / float64(n)
	barW := math.Min(slot*0.7, 64)
	for i := range opts.Bins {
		cx := plotLeft + slot*(float64(i)+0.5)
		by := y(vals[i])
		fill := color(opts.Color, 0)
		if validColor(opts.Bins[i].Color) {
			fill = opts.Bins[i].Color
		}
		s.printf("<g><title>%s</title>\n", esc(tips[i]))
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
			num(cx-barW/2), num(by), num(barW), num(plotBottom-by), fill)
		// Count and share above the bar, when they fit into the slot.
		if textWidth(counts[i], fontSize) <= slot-2 {
			s.text(cx, by-18, "middle", "", counts[i])
		}
		if p := formatPercent(pct[i]); textWidth(p, smallSize) <= slot-2 {
			s.text(cx, by-5, "middle", fmt.Sprintf(` font-size="%d" fill="%s"`, smallSize, colSubtle), p)
		}
		s.text(cx, plotBottom+17, "middle", fmt.Sprintf(` fill="%s"`, colSubtle), truncate(labels[i], max(1, int(slot/fontSize))))
		s.b.WriteString("</g>\n")
	}
	if opts.XLabel != "" {
		s.text(plotLeft+plotW/2, float64(h)-8, "middle", fmt.Sprintf(` fill="%s"`, colSubtle), opts.XLabel)
	}
	return s.end()
}
