package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// BarOptions describe a horizontal bar chart: top placements, media or
// provinces. Bars are drawn in the given order, so sort them first.
type BarOptions struct {
	Frame
	// Items are the bars, top to bottom.
	Items []Item
	// Color is the colour of every bar without its own; default the first
	// colour of Palette.
	Color string
	// MaxLabelRunes cuts labels longer than this many runes (characters)
	// to that many, the last one "…"; the full label is in the bar's
	// tooltip. Default 12.
	MaxLabelRunes int
	// Share adds each bar's share to its value, "1.2万 (34.5%)".
	Share bool
	// Total is what shares are taken of, e.g. all placements when only the
	// top ten are drawn; 0 means the sum of Items.
	Total float64
}

// Bar defaults.
const (
	barsWidth     = 720
	barRow        = 28.0
	barThickness  = 18.0
	defaultRunes  = 12
	barsPadTopBot = 8.0
)

// Bars draws a horizontal bar chart with the value at the end of each bar.
func Bars(opts BarOptions) template.HTML {
	wd := wordsFor(opts.Locale)
	w := defaultSize(opts.Width, barsWidth)
	h := defaultSize(opts.Height, int(2*barsPadTopBot+barRow*float64(max(len(opts.Items), 1))))
	title := opts.Title
	if title == "" {
		title = wd.bars
	}
	if len(opts.Items) == 0 {
		return empty("bars", opts.Frame, w, max(h, 120), title)
	}
	maxRunes := opts.MaxLabelRunes
	if maxRunes <= 0 {
		maxRunes = defaultRunes
	}
	vals := make([]float64, len(opts.Items))
	sum, top := 0.0, 0.0
	for i, it := range opts.Items {
		vals[i] = clampValue(it.Value)
		sum += vals[i]
		top = math.Max(top, vals[i])
	}
	total := clampValue(opts.Total)
	if total == 0 {
		total = sum
	}
	pct := shares(vals, total)
	labels := make([]string, len(opts.Items))
	values := make([]string, len(opts.Items))
	tips := make([]string, len(opts.Items))
	for i, it := range opts.Items {
		full := clean(it.Label)
		labels[i] = truncate(full, maxRunes)
		values[i] = FormatCompact(vals[i], opts.Locale)
		tips[i] = full + wd.sep + FormatNumber(vals[i])
		if opts.Share {
			values[i] += " (" + formatPercent(pct[i]) + ")"
			tips[i] += wd.open + formatPercent(pct[i]) + wd.close
		}
	}
	desc := opts.Desc
	if desc == "" {
		desc = itemsDesc(wd, tips, 10)
	}
	s := start("bars", w, h, title, desc)

	row := (float64(h) - 2*barsPadTopBot) / float64(len(opts.Items))
	thick := math.Min(barThickness, row*0.7)
	labelW := math.Min(maxWidth(labels, fontSize), float64(w)*0.4)
	x0 := 8 + labelW + 8
	valueW := maxWidth(values, fontSize) + 8
	barMax := math.Max(float64(w)-8-valueW-x0, 1)
	for i := range opts.Items {
		cy := barsPadTopBot + row*(float64(i)+0.5)
		length := 0.0
		if top > 0 {
			length = vals[i] / top * barMax
		}
		s.printf("<g><title>%s</title>\n", esc(tips[i]))
		s.text(x0-8, cy, "end", ` dy="0.35em"`, labels[i])
		fill := color(opts.Color, 0)
		if validColor(opts.Items[i].Color) {
			fill = opts.Items[i].Color
		}
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"/>`+"\n",
			num(x0), num(cy-thick/2), num(length), num(thick), fill)
		s.text(x0+length+6, cy, "start", fmt.Sprintf(` dy="0.35em" fill="%s"`, colSubtle), values[i])
		s.b.WriteString("</g>\n")
	}
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n",
		num(x0), num(barsPadTopBot/2), num(x0), num(float64(h)-barsPadTopBot/2), colAxis)
	return s.end()
}

// itemsDesc lists the first max tooltips as the description.
func itemsDesc(wd words, tips []string, limit int) string {
	sep := "; "
	if wd == zhWords {
		sep = "；"
	}
	if len(tips) > limit {
		return strings.Join(tips[:limit], sep) + sep + "…"
	}
	return strings.Join(tips, sep)
}
