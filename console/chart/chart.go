package chart

import (
	"fmt"
	"hash/fnv"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Series is one line of a line chart.
type Series struct {
	// Name is shown in the legend and the tooltips, e.g. "曝光".
	Name string
	// Points are the values, one per x label. NaN and ±Inf are gaps.
	Points []float64
	// Color is a "#rgb" or "#rrggbb" colour or a colour name; empty (or
	// anything else) takes the next colour of Palette.
	Color string
}

// Item is one labelled value: a bar, a histogram bin or a donut slice.
type Item struct {
	// Label names the item, e.g. "广东" or "10+".
	Label string
	// Value is the item's count. Negative values, NaN and ±Inf count as 0.
	Value float64
	// Color overrides the colour of this one item, like Series.Color.
	Color string
}

// Frame holds what every chart has. It is embedded in each options struct.
type Frame struct {
	// Title is the chart's accessible name (<title>); empty names the
	// chart kind ("折线图", "Line chart"). The page shows its own heading.
	Title string
	// Desc is the longer description (<desc>); empty writes a short text
	// summary of the data.
	Desc string
	// Width and Height set the viewBox; zero takes the chart's default
	// (bar and donut charts grow with the number of items).
	Width, Height int
	// Locale is "zh-CN" (the default for "") or "en". It sets how numbers
	// are written and the few words the chart adds itself.
	Locale string
	// Empty is the message shown when there is nothing to draw; empty
	// means "暂无数据" or "No data".
	Empty string
}

// FontFamily is the font stack of every chart: a CJK font on macOS,
// Windows and Linux desktops, then the browser's sans-serif.
const FontFamily = `'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif`

// palette is the Okabe–Ito colour-blind-friendly palette, ordered so that
// the first colours have the best contrast on white.
var palette = []string{
	"#0072B2", // blue
	"#D55E00", // vermillion
	"#009E73", // bluish green
	"#CC79A7", // reddish purple
	"#E69F00", // orange
	"#56B4E9", // sky blue
	"#F0E442", // yellow
	"#000000", // black
}

// Palette returns the colours given to series and slices without a colour
// of their own, in order (Okabe–Ito).
func Palette() []string {
	return append([]string(nil), palette...)
}

// Fixed colours for text and lines; all text colours are at least 7:1 on
// white.
const (
	colText    = "#333333"
	colSubtle  = "#555555"
	colGrid    = "#E6E6E6"
	colAxis    = "#999999"
	colEmptyBg = "#FAFAFA"
	colEmptyBd = "#CCCCCC"
	fontSize   = 12
	smallSize  = 11
)

// words are the few words a chart writes itself.
type words struct {
	empty, right, peak, last, to, points, total, sep string
	line, bars, histogram, donut                     string
	open, close                                      string
}

var zhWords = words{
	empty: "暂无数据", right: "（右轴）", peak: "峰值", last: "末值", to: "至", points: "个点",
	total: "合计", sep: "：", line: "折线图", bars: "条形图", histogram: "直方图", donut: "环形图",
	open: "（", close: "）",
}

var enWords = words{
	empty: "No data", right: " (right axis)", peak: "peak", last: "last", to: "to", points: "points",
	total: "Total", sep: ": ", line: "Line chart", bars: "Bar chart", histogram: "Histogram", donut: "Donut chart",
	open: " (", close: ")",
}

func wordsFor(locale string) words {
	if isZh(locale) {
		return zhWords
	}
	return enWords
}

// clean makes s safe to put in XML text: invalid UTF-8 and characters XML
// does not allow become U+FFFD, line breaks and tabs become spaces.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case !xmlChar(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether XML 1.0 allows r.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// esc cleans and escapes text for an SVG text node or attribute.
func esc(s string) string {
	return html.EscapeString(clean(s))
}

// truncate cuts s to max runes, the last of them "…".
func truncate(s string, max int) string {
	if max < 1 {
		max = 1
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// wide reports whether r takes a full em in a CJK font.
func wide(r rune) bool {
	return (r >= 0x1100 && r <= 0x115F) || r == 0x2026 ||
		(r >= 0x2E80 && r <= 0xA4CF) || (r >= 0xAC00 && r <= 0xD7A3) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFE30 && r <= 0xFE4F) ||
		(r >= 0xFF00 && r <= 0xFF60) || (r >= 0xFFE0 && r <= 0xFFE6) ||
		(r >= 0x20000 && r <= 0x3FFFD)
}

// textWidth estimates the width of s at size: a CJK character is one em,
// other characters a little more than most fonts give them.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case wide(r):
			w += 1
		case r == ' ':
			w += 0.3
		default:
			w += 0.6
		}
	}
	return w * size
}

// maxWidth is the widest of texts at size.
func maxWidth(texts []string, size float64) float64 {
	w := 0.0
	for _, t := range texts {
		w = math.Max(w, textWidth(t, size))
	}
	return w
}

// color returns c if it is a plain colour, else palette colour i.
func color(c string, i int) string {
	if validColor(c) {
		return c
	}
	return palette[i%len(palette)]
}

// validColor accepts "#rgb", "#rrggbb" and names of up to 20 letters.
func validColor(c string) bool {
	if strings.HasPrefix(c, "#") {
		if len(c) != 4 && len(c) != 7 {
			return false
		}
		for _, r := range c[1:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
		return true
	}
	if c == "" || len(c) > 20 {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// num writes a coordinate with at most one decimal; NaN and ±Inf are 0.
func num(x float64) string {
	x = math.Round(finite(x)*10) / 10
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// svg builds one chart: the body is written first and end puts the <svg>
// element, title and description around it.
type svg struct {
	b                 strings.Builder
	kind, title, desc string
	width, height     int
}

// start begins a chart of the given kind and size.
func start(kind string, w, h int, title, desc string) *svg {
	s := &svg{kind: kind, title: title, desc: desc, width: w, height: h}
	s.b.Grow(4096)
	return s
}

// end wraps the body in the <svg> element and returns the chart. The ids
// that aria-labelledby points at are derived from the whole chart, so two
// different charts on one page do not share them.
func (s *svg) end() template.HTML {
	body := s.b.String()
	hash := fnv.New32a()
	fmt.Fprintf(hash, "%s\x00%d\x00%d\x00%s\x00%s\x00%s", s.kind, s.width, s.height, s.title, s.desc, body)
	id := fmt.Sprintf("chart-%08x", hash.Sum32())
	var b strings.Builder
	b.Grow(len(body) + 1024)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" class="chart chart-%s" font-family="%s" font-size="%d" fill="%s">`+"\n",
		s.width, s.height, id, id, s.kind, FontFamily, fontSize, colText)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`+"\n", id, esc(s.title))
	fmt.Fprintf(&b, `<desc id="%s-d">%s</desc>`+"\n", id, esc(s.desc))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#FFFFFF"/>`+"\n", s.width, s.height)
	b.WriteString(body)
	b.WriteString("</svg>\n")
	return template.HTML(b.String()) // every text in it went through esc
}

// printf writes raw markup; callers pass text only through esc.
func (s *svg) printf(format string, args ...any) {
	fmt.Fprintf(&s.b, format, args...)
}

// text writes a <text> element; extra is further attributes (trusted).
func (s *svg) text(x, y float64, anchor, extra, content string) {
	s.printf(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", num(x), num(y), anchor, extra, esc(content))
}

// empty draws the empty state: a dashed box with the message in its middle.
func empty(kind string, f Frame, w, h int, title string) template.HTML {
	wd := wordsFor(f.Locale)
	msg := f.Empty
	if msg == "" {
		msg = wd.empty
	}
	desc := f.Desc
	if desc == "" {
		desc = msg
	}
	s := start(kind, w, h, title, desc)
	s.printf(`<rect x="0.5" y="0.5" width="%d" height="%d" rx="4" fill="%s" stroke="%s" stroke-dasharray="4 4"/>`+"\n",
		w-1, h-1, colEmptyBg, colEmptyBd)
	s.text(float64(w)/2, float64(h)/2, "middle", fmt.Sprintf(` dy="0.35em" font-size="14" fill="%s"`, colSubtle), msg)
	return s.end()
}

// legendEntry is one entry of a legend.
type legendEntry struct {
	name   string
	color  string
	dashed bool // drawn as a dashed line (right axis)
	line   bool // a line swatch rather than a square
}

// legend draws entries in rows from (x, y) that wrap before maxX and
// returns the number of rows.
func (s *svg) legend(entries []legendEntry, x, y, maxX float64) int {
	if len(entries) == 0 {
		return 0
	}
	const rowH, swatch, gap = 18.0, 16.0, 16.0
	cx, rows := x, 1
	for _, e := range entries {
		w := swatch + 6 + textWidth(e.name, fontSize)
		if cx > x && cx+w > maxX {
			cx, rows = x, rows+1
		}
		cy := y + float64(rows-1)*rowH
		if e.line {
			dash := ""
			if e.dashed {
				dash = ` stroke-dasharray="6 3"`
			}
			s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/>`+"\n",
				num(cx), num(cy-4), num(cx+swatch), num(cy-4), e.color, dash)
		} else {
			s.printf(`<rect x="%s" y="%s" width="12" height="12" rx="2" fill="%s"/>`+"\n", num(cx+2), num(cy-10), e.color)
		}
		s.text(cx+swatch+6, cy, "start", "", e.name)
		cx += w + gap
	}
	return rows
}

// clampValue makes a bar, bin or slice value usable: finite and not
// negative.
func clampValue(v float64) float64 {
	return math.Max(finite(v), 0)
}

// allIntegers reports whether every finite value is a whole number.
func allIntegers(vals ...[]float64) bool {
	for _, vs := range vals {
		for _, v := range vs {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}

// defaultSize returns v, or def when v is not positive.
func defaultSize(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
