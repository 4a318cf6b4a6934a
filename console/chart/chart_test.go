package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// days returns n labels "03-01", "03-02", ….
func days(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("03-%02d", i+1)
	}
	return out
}

// hours returns labels "03-01 00时" … for n days of 24 hours.
func hours(n int, suffix string) []string {
	out := make([]string, 0, n*24)
	for d := range n {
		for h := range 24 {
			out = append(out, fmt.Sprintf("03-%02d %02d%s", d+1, h, suffix))
		}
	}
	return out
}

// wave returns n deterministic values around base with a daily rhythm.
func wave(n int, base, amp float64, period int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round(base + amp*math.Sin(2*math.Pi*float64(i)/float64(period)) + amp/3*math.Sin(float64(i)*0.7))
	}
	return out
}

func cumulative(vals []float64) []float64 {
	out := make([]float64, len(vals))
	sum := 0.0
	for i, v := range vals {
		sum += v
		out[i] = sum
	}
	return out
}

var provinces = []Item{
	{Label: "广东", Value: 482913}, {Label: "北京", Value: 301245}, {Label: "上海", Value: 288004},
	{Label: "浙江", Value: 190320}, {Label: "江苏", Value: 170011}, {Label: "四川", Value: 98765},
	{Label: "湖北", Value: 76543}, {Label: "内蒙古自治区", Value: 12034}, {Label: "新疆维吾尔自治区", Value: 9876},
	{Label: "宁夏回族自治区", Value: 876},
}

var placements = []Item{
	{Label: "首页开屏 5 秒 全屏 · 春节大促主会场（iOS + Android）", Value: 1234567},
	{Label: "信息流 第 3 位 大图", Value: 876543},
	{Label: "视频贴片 前贴 15s", Value: 345678},
	{Label: "搜索结果页 品牌专区", Value: 45678},
	{Label: "PC 门户 首页通栏 Banner 1000×90", Value: 5678},
}

var frequency = []Item{
	{Label: "1", Value: 523411}, {Label: "2", Value: 201234}, {Label: "3", Value: 98012},
	{Label: "4", Value: 50321}, {Label: "5", Value: 27654}, {Label: "6", Value: 15020},
	{Label: "7", Value: 8450}, {Label: "8", Value: 4822}, {Label: "9", Value: 2901}, {Label: "10+", Value: 6012},
}

// charts are the golden cases, by file name.
var charts = []struct {
	name string
	draw func() template.HTML
}{
	{"line_daily_zh", func() template.HTML {
		return Line(LineOptions{
			Frame:  Frame{Title: "每日曝光与点击", Locale: "zh-CN"},
			Labels: days(14),
			Series: []Series{{Name: "曝光", Points: wave(14, 52000, 21000, 7)}},
			Right:  []Series{{Name: "点击", Points: wave(14, 620, 250, 7)}},
			YLabel: "曝光", RightLabel: "点击",
		})
	}},
	{"line_hourly_en", func() template.HTML {
		return Line(LineOptions{
			Frame:  Frame{Title: "Impressions and clicks by hour", Locale: "en"},
			Labels: hours(3, ":00"),
			Series: []Series{{Name: "Impressions", Points: wave(72, 2400000, 1500000, 24)}},
			Right:  []Series{{Name: "Clicks", Points: wave(72, 30000, 18000, 24)}},
			YLabel: "Impressions", RightLabel: "Clicks",
		})
	}},
	{"line_reach_zh", func() template.HTML {
		return Line(LineOptions{
			Frame:  Frame{Title: "累计触达人数", Desc: "30 天累计触达 1.2 亿人", Locale: "zh-CN"},
			Labels: days(30),
			Series: []Series{{Name: "累计触达", Points: cumulative(wave(30, 4100000, 1200000, 7))}},
			YLabel: "人数",
			Area:   true,
		})
	}},
	{"line_gaps_zh", func() template.HTML {
		return Line(LineOptions{
			Frame:  Frame{Locale: "zh-CN"},
			Labels: days(9),
			Series: []Series{{Name: "点击率 %", Points: []float64{1.2, 1.5, math.NaN(), 0.9, math.NaN(), 1.1, 1.3, math.Inf(1), 0.4}, Color: "#009E73"}},
			Area:   true,
		})
	}},
	{"bars_province_zh", func() template.HTML {
		return Bars(BarOptions{Frame: Frame{Title: "地域分布（省份）", Locale: "zh-CN"}, Items: provinces, Share: true})
	}},
	{"bars_placement_zh", func() template.HTML {
		return Bars(BarOptions{Frame: Frame{Title: "曝光最多的广告位", Locale: "zh-CN"}, Items: placements, Color: "#D55E00"})
	}},
	{"histogram_frequency_zh", func() template.HTML {
		return Histogram(HistogramOptions{
			Frame: Frame{Title: "曝光频次分布", Locale: "zh-CN"},
			Bins:  frequency, XLabel: "曝光频次", YLabel: "人数",
		})
	}},
	{"donut_os_zh", func() template.HTML {
		return Donut(DonutOptions{
			Frame: Frame{Title: "操作系统分布", Locale: "zh-CN"},
			Slices: []Item{
				{Label: "Android", Value: 612034}, {Label: "iOS", Value: 401223}, {Label: "HarmonyOS 鸿蒙", Value: 150230},
				{Label: "Windows", Value: 60321}, {Label: "其他", Value: 12002},
			},
			CenterLabel: "总曝光",
		})
	}},
	{"donut_device_en", func() template.HTML {
		return Donut(DonutOptions{
			Frame:  Frame{Title: "Device types", Locale: "en"},
			Slices: []Item{{Label: "Phone", Value: 1}, {Label: "Tablet", Value: 1}, {Label: "PC", Value: 1}, {Label: "TV", Value: 0}},
		})
	}},
	{"empty_line_zh", func() template.HTML {
		return Line(LineOptions{Frame: Frame{Title: "每日曝光", Locale: "zh-CN"}, Labels: days(7)})
	}},
	{"empty_bars_en", func() template.HTML {
		return Bars(BarOptions{Frame: Frame{Title: "Top media", Locale: "en", Empty: "Nothing to show for these dates"}})
	}},
}

func TestGolden(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			got := []byte(c.draw())
			checkSVG(t, string(got))
			path := filepath.Join("testdata", c.name+".svg")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d (run go test -update if the change is intended):\n got: %s\nwant: %s", path, i+1, g, w)
					}
				}
			}
			if again := c.draw(); string(again) != string(got) {
				t.Errorf("second drawing differs from the first: output is not deterministic")
			}
		})
	}
}

// checkSVG checks what every chart must be: one well-formed <svg> root with
// a viewBox, width 100%, role img, title and desc first, the CJK font stack,
// and no NaN or Inf in any attribute.
func checkSVG(t *testing.T, out string) {
	t.Helper()
	if err := wellFormed(out); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, out)
	}
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `, ` width="100%"`, ` role="img"`, ` aria-labelledby="`,
		`font-family="'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif"`,
		"<title id=", "<desc id=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<style", " style=", "http://", "https://", "@import", "url("} {
		if strings.Contains(strings.Replace(out, `xmlns="http://www.w3.org/2000/svg"`, "", 1), bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

// wellFormed parses out with encoding/xml and checks that it is exactly one
// <svg> element whose attributes hold no NaN or Inf.
func wellFormed(out string) error {
	d := xml.NewDecoder(strings.NewReader(out))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "svg" {
					return fmt.Errorf("root element is <%s>", tok.Name.Local)
				}
			}
			for _, a := range tok.Attr {
				if strings.Contains(a.Value, "NaN") || strings.Contains(a.Value, "Inf") {
					return fmt.Errorf("attribute %s=%q of <%s>", a.Name.Local, a.Value, tok.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(tok)) != "" {
				return fmt.Errorf("text outside the root: %q", tok)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements", roots)
	}
	return nil
}

// hostile are inputs every chart must survive with well-formed output.
var hostile = []string{
	"<script>alert(1)</script>", `"><svg onload=alert(1)>`, "a & b", "It's", "\x00\x01\x1f\ufffe", "\xff\xfe",
	"line\nbreak\ttab", "]]><!--", "广东省深圳市南山区科技园某某大厦某某层某某广告位超长名称", "",
}

func TestEscapesLabels(t *testing.T) {
	script := "<script>alert(1)</script>"
	outs := map[string]template.HTML{}
	items := []Item{{Label: script, Value: 3, Color: `red" onload="x`}, {Label: "b", Value: 1}}
	f := Frame{Title: script, Desc: script, Empty: script}
	outs["line"] = Line(LineOptions{Frame: f, Labels: []string{script, script}, YLabel: script, RightLabel: script,
		Series: []Series{{Name: script, Points: []float64{1, 2}, Color: "url(javascript:x)"}}, Right: []Series{{Name: script, Points: []float64{3, 4}}}})
	outs["bars"] = Bars(BarOptions{Frame: f, Items: items, Color: `#000" onclick="x`})
	outs["histogram"] = Histogram(HistogramOptions{Frame: f, Bins: items, XLabel: script, YLabel: script})
	outs["donut"] = Donut(DonutOptions{Frame: f, Slices: items, CenterLabel: script})
	outs["empty"] = Line(LineOptions{Frame: f})
	for kind, out := range outs {
		checkSVG(t, string(out))
		if !strings.Contains(string(out), "&lt;script&gt;") {
			t.Errorf("%s: escaped label missing", kind)
		}
		for _, bad := range []string{"onload", "onclick", "javascript"} {
			if strings.Contains(string(out), bad) {
				t.Errorf("%s: output contains %q", kind, bad)
			}
		}
	}
}

func TestHostileAndDegenerateInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	valueSets := [][]float64{
		nil, {}, {0}, {5}, {0, 0, 0}, {nan}, {inf, -inf}, {nan, 1, nan}, {-5, 3, -1},
		{1e300, 1e300}, {-1e308, 1e308}, {1e-12, 2e-12}, {0.001, 0.002, 0.5},
	}
	for _, label := range hostile {
		for _, vals := range valueSets {
			items := make([]Item, len(vals))
			for i, v := range vals {
				items[i] = Item{Label: label, Value: v}
			}
			f := Frame{Title: label, Locale: "zh-CN"}
			outs := []template.HTML{
				Line(LineOptions{Frame: f, Labels: []string{label}, Series: []Series{{Name: label, Points: vals}}, Area: true}),
				Line(LineOptions{Frame: f, Series: []Series{{Name: label, Points: vals}}, Right: []Series{{Name: label, Points: vals}}, YLabel: label}),
				Line(LineOptions{Frame: Frame{Locale: "en"}, Right: []Series{{Points: vals}}}),
				Bars(BarOptions{Frame: f, Items: items, Share: true}),
				Bars(BarOptions{Frame: f, Items: items, Share: true, Total: -1}),
				Histogram(HistogramOptions{Frame: f, Bins: items}),
				Donut(DonutOptions{Frame: f, Slices: items, CenterLabel: label}),
			}
			for i, out := range outs {
				if err := wellFormed(string(out)); err != nil {
					t.Fatalf("chart %d, label %q, values %v: %v\n%s", i, label, vals, err, out)
				}
				if label == "" || !strings.ContainsAny(label, "NI") {
					if strings.Contains(string(out), "NaN") || strings.Contains(string(out), "Inf") {
						t.Fatalf("chart %d, values %v: NaN or Inf in output", i, vals)
					}
				}
			}
		}
	}
}

func TestEmptyState(t *testing.T) {
	tests := []struct {
		name string
		out  template.HTML
		want string
	}{
		{"line without series", Line(LineOptions{Labels: days(3)}), "暂无数据"},
		{"line of NaNs", Line(LineOptions{Frame: Frame{Locale: "en"}, Series: []Series{{Points: []float64{math.NaN()}}}}), "No data"},
		{"bars", Bars(BarOptions{Frame: Frame{Empty: "该时段没有曝光"}}), "该时段没有曝光"},
		{"histogram", Histogram(HistogramOptions{}), "暂无数据"},
		{"donut of zeros", Donut(DonutOptions{Slices: []Item{{Label: "iOS"}, {Label: "Android"}}}), "暂无数据"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSVG(t, string(tt.out))
			if !strings.Contains(string(tt.out), ">"+tt.want+"</text>") || !strings.Contains(string(tt.out), `stroke-dasharray="4 4"`) {
				t.Errorf("empty state with %q missing:\n%s", tt.want, tt.out)
			}
		})
	}
	// All-zero data is data, not the empty state.
	for _, out := range []template.HTML{
		Line(LineOptions{Labels: days(3), Series: []Series{{Name: "曝光", Points: []float64{0, 0, 0}}}}),
		Bars(BarOptions{Items: []Item{{Label: "广东"}}}),
		Histogram(HistogramOptions{Bins: []Item{{Label: "1"}, {Label: "2"}}}),
	} {
		checkSVG(t, string(out))
		if strings.Contains(string(out), "暂无数据") {
			t.Errorf("all-zero chart drawn as empty:\n%s", out)
		}
	}
}

func TestLineThinsLabels(t *testing.T) {
	labels := hours(30, "时")
	out := string(Line(LineOptions{
		Labels: labels,
		Series: []Series{{Name: "曝光", Points: wave(720, 24000, 15000, 24)}},
		Right:  []Series{{Name: "点击", Points: wave(720, 300, 180, 24)}},
	}))
	checkSVG(t, out)
	shown := 0
	for _, l := range labels {
		if strings.Contains(out, ">"+l+"</text>") {
			shown++
		}
	}
	if shown < 4 || shown > 12 {
		t.Errorf("%d of 720 x labels shown, want between 4 and 12", shown)
	}
	// Every label shown is a midnight: the step is a whole number of days.
	for _, l := range labels {
		if strings.Contains(out, ">"+l+"</text>") && !strings.HasSuffix(l, " 00时") {
			t.Errorf("label %q shown; want only midnights", l)
		}
	}
	if strings.Contains(out, "<circle") {
		t.Errorf("720 points got dots; want dots only up to %d points", markerMax)
	}
	// XLabelEvery overrides the step.
	out = string(Line(LineOptions{Labels: days(10), Series: []Series{{Points: wave(10, 5, 2, 5)}}, XLabelEvery: 5}))
	for i, l := range days(10) {
		if got, want := strings.Contains(out, ">"+l+"</text>"), i%5 == 0; got != want {
			t.Errorf("XLabelEvery 5: label %q shown = %v, want %v", l, got, want)
		}
	}
}

func TestLineRightAxisShareGridlines(t *testing.T) {
	out := string(Line(LineOptions{
		Frame:  Frame{Locale: "en"},
		Labels: days(3),
		Series: []Series{{Name: "Impressions", Points: []float64{10000, 40000, 25000}}},
		Right:  []Series{{Name: "Clicks", Points: []float64{120, 347, 200}}},
	}))
	checkSVG(t, out)
	for _, want := range []string{">Clicks (right axis)</text>", `stroke-dasharray="6 3"`, ">350</text>", ">40,000</text>"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestSinglePoint(t *testing.T) {
	out := string(Line(LineOptions{Labels: []string{"03-01"}, Series: []Series{{Name: "曝光", Points: []float64{12345}}}, Area: true}))
	checkSVG(t, out)
	if !strings.Contains(out, "<circle") || !strings.Contains(out, "03-01 · 曝光：12,345") {
		t.Errorf("single point has no dot with tooltip:\n%s", out)
	}
}

func TestBarsTruncateLabels(t *testing.T) {
	long := "首页开屏 5 秒 全屏 · 春节大促主会场（iOS + Android）"
	out := string(Bars(BarOptions{Items: []Item{{Label: long, Value: 10}}, MaxLabelRunes: 8}))
	checkSVG(t, out)
	if !strings.Contains(out, ">首页开屏 5 …</text>") {
		t.Errorf("label not cut to 8 runes:\n%s", out)
	}
	if !strings.Contains(out, "<title>"+esc(long)+"：10</title>") {
		t.Errorf("full label not in the tooltip:\n%s", out)
	}
}

func TestPercentagesAddUp(t *testing.T) {
	out := string(Donut(DonutOptions{Slices: []Item{{Label: "a", Value: 1}, {Label: "b", Value: 1}, {Label: "c", Value: 1}}}))
	for _, want := range []string{">33.4%</text>", ">33.3%</text>"} {
		if !strings.Contains(out, want) {
			t.Errorf("donut lacks %q", want)
		}
	}
	out = string(Histogram(HistogramOptions{Bins: frequency}))
	if !strings.Contains(out, ">55.8%</text>") {
		t.Errorf("histogram lacks the share of frequency 1 (55.8%%):\n%s", out)
	}
}

// TestBarsShareOfOverlappingTotal: bars that overlap (invalid impressions
// by reason, where one impression can have several reasons) take their
// shares of a Total smaller than their sum, each rounded on its own rather
// than forced to add up to 100%.
func TestBarsShareOfOverlappingTotal(t *testing.T) {
	out := string(Bars(BarOptions{Frame: Frame{Locale: "en"}, Share: true, Total: 7, Items: []Item{
		{Label: "Crawler / bot UA", Value: 3}, {Label: "Data-centre IP", Value: 2}, {Label: "Malformed ID", Value: 2}, {Label: "click_flood", Value: 1},
	}}))
	checkSVG(t, out)
	for _, want := range []string{">3 (42.9%)</text>", ">2 (28.6%)</text>", ">1 (14.3%)</text>", "<title>click_flood: 1 (14.3%)</title>"} {
		if !strings.Contains(out, want) {
			t.Errorf("bars lack %q:\n%s", want, out)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"广东", 12, "广东"},
		{"新疆维吾尔自治区", 8, "新疆维吾尔自治区"},
		{"新疆维吾尔自治区", 5, "新疆维吾…"},
		{"abcdef", 1, "…"},
		{"abcdef", 0, "…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestPalette(t *testing.T) {
	p := Palette()
	if len(p) != 8 || p[0] != "#0072B2" {
		t.Errorf("Palette() = %v", p)
	}
	p[0] = "#FFFFFF"
	if Palette()[0] != "#0072B2" {
		t.Error("Palette returns the package's own slice")
	}
}

func BenchmarkLine(b *testing.B) {
	opts := LineOptions{
		Frame:  Frame{Title: "每小时曝光与点击", Locale: "zh-CN"},
		Labels: hours(30, "时"),
		Series: []Series{{Name: "曝光", Points: wave(720, 24000, 15000, 24)}},
		Right:  []Series{{Name: "点击", Points: wave(720, 300, 180, 24)}},
		YLabel: "曝光", RightLabel: "点击",
	}
	var n int
	for b.Loop() {
		n = len(Line(opts))
	}
	b.ReportMetric(float64(n), "svg-bytes")
}
