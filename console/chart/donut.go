package chart

import (
	"fmt"
	"html/template"
	"math"
)

// DonutOptions describe a donut chart of shares of a whole, such as the
// OS or device-type split.
type DonutOptions struct {
	Frame
	// Slices are drawn clockwise from the top, each in the colour of its
	// own or the next colour of Palette. Group the long tail into one
	// "其他" slice: the palette has eight colours.
	Slices []Item
	// CenterLabel captions the total in the hole, e.g. "总曝光".
	CenterLabel string
	// MaxLabelRunes cuts legend labels longer than this many runes, as in
	// BarOptions. Default 12.
	MaxLabelRunes int
}

// Donut defaults.
const (
	donutWidth  = 560
	donutHeight = 240
	donutRow    = 24.0
)

// Donut draws a donut chart with the total in the middle and a legend with
// each slice's value and percentage. Percentages are rounded so that they
// add up to 100.0%.
func Donut(opts DonutOptions) template.HTML {
	wd := wordsFor(opts.Locale)
	w := defaultSize(opts.Width, donutWidth)
	h := defaultSize(opts.Height, max(donutHeight, int(donutRow*float64(len(opts.Slices))+24)))
	title := opts.Title
	if title == "" {
		title = wd.donut
	}
	n := len(opts.Slices)
	vals := make([]float64, n)
	sum := 0.0
	for i, sl := range opts.Slices {
		vals[i] = clampValue(sl.Value)
		sum += vals[i]
	}
	if sum <= 0 || math.IsInf(sum, 0) {
		return empty("donut", opts.Frame, w, h, title)
	}
	maxRunes := opts.MaxLabelRunes
	if maxRunes <= 0 {
		maxRunes = defaultRunes
	}
	pct := shares(vals, sum)
	labels := make([]string, n)
	tips := make([]string, n)
	colors := make([]string, n)
	for i, sl := range opts.Slices {
		full := clean(sl.Label)
		labels[i] = truncate(full, maxRunes)
		tips[i] = full + wd.sep + FormatNumber(vals[i]) + wd.open + formatPercent(pct[i]) + wd.close
		colors[i] = color(sl.Color, i)
	}
	desc := opts.Desc
	if desc == "" {
		desc = wd.total + wd.sep + FormatNumber(sum)
		if wd == zhWords {
			desc += "。"
		} else {
			desc += ". "
		}
		desc += itemsDesc(wd, tips, 20)
	}
	s := start("donut", w, h, title, desc)

	size := math.Min(float64(h), float64(w)/2)
	cx, cy := size/2, float64(h)/2
	outer := size/2 - 12
	inner := outer * 0.62
	angle := -math.Pi / 2
	for i, v := range vals {
		if v == 0 {
			continue
		}
		frac := v / sum
		s.printf("<path d=\"%s\" fill=\"%s\" stroke=\"#FFFFFF\" stroke-width=\"1.5\"%s><title>%s</title></path>\n",
			sector(cx, cy, outer, inner, angle, angle+frac*2*math.Pi, frac), colors[i], evenOdd(frac), esc(tips[i]))
		angle += frac * 2 * math.Pi
	}
	if opts.CenterLabel != "" {
		s.text(cx, cy-4, "middle", ` font-size="20" font-weight="bold"`, FormatCompact(sum, opts.Locale))
		s.text(cx, cy+16, "middle", fmt.Sprintf(` fill="%s"`, colSubtle), opts.CenterLabel)
	} else {
		s.text(cx, cy, "middle", ` dy="0.35em" font-size="20" font-weight="bold"`, FormatCompact(sum, opts.Locale))
	}

	// Legend: swatch, label, value and share in columns.
	lx := size + 16
	right := float64(w) - 8
	pctW := textWidth("100.0%", fontSize)
	rowsTop := cy - donutRow*float64(n)/2 + donutRow/2
	for i := range vals {
		ry := rowsTop + donutRow*float64(i)
		s.printf("<g><title>%s</title>\n", esc(tips[i]))
		s.printf(`<rect x="%s" y="%s" width="12" height="12" rx="2" fill="%s"/>`+"\n", num(lx), num(ry-6), colors[i])
		s.text(lx+18, ry, "start", ` dy="0.35em"`, labels[i])
		s.text(right-pctW-12, ry, "end", fmt.Sprintf(` dy="0.35em" fill="%s"`, colSubtle), FormatCompact(vals[i], opts.Locale))
		s.text(right, ry, "end", ` dy="0.35em"`, formatPercent(pct[i]))
		s.b.WriteString("</g>\n")
	}
	return s.end()
}

// sector is the path of a ring sector from angle a0 to a1 (radians,
// clockwise from the x axis); a whole ring when frac is (about) 1.
func sector(cx, cy, outer, inner, a0, a1, frac float64) string {
	if frac >= 0.99999 {
		return fmt.Sprintf("M%s %sA%s %s 0 1 1 %s %sA%s %s 0 1 1 %s %sZM%s %sA%s %s 0 1 0 %s %sA%s %s 0 1 0 %s %sZ",
			num(cx-outer), num(cy), num(outer), num(outer), num(cx+outer), num(cy), num(outer), num(outer), num(cx-outer), num(cy),
			num(cx-inner), num(cy), num(inner), num(inner), num(cx+inner), num(cy), num(inner), num(inner), num(cx-inner), num(cy))
	}
	large := 0
	if a1-a0 > math.Pi {
		large = 1
	}
	p := func(r, a float64) (string, string) {
		return num(cx + r*math.Cos(a)), num(cy + r*math.Sin(a))
	}
	ox0, oy0 := p(outer, a0)
	ox1, oy1 := p(outer, a1)
	ix1, iy1 := p(inner, a1)
	ix0, iy0 := p(inner, a0)
	return fmt.Sprintf("M%s %sA%s %s 0 %d 1 %s %sL%s %sA%s %s 0 %d 0 %s %sZ",
		ox0, oy0, num(outer), num(outer), large, ox1, oy1, ix1, iy1, num(inner), num(inner), large, ix0, iy0)
}

// evenOdd gives a whole ring its hole.
func evenOdd(frac float64) string {
	if frac >= 0.99999 {
		return ` fill-rule="evenodd"`
	}
	return ""
}
