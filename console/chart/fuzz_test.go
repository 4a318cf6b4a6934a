package chart

import (
	"html/template"
	"strings"
	"testing"
)

// FuzzCharts feeds arbitrary labels (customer-chosen placement and media
// names reach the charts) and values to every chart: the output must stay
// one well-formed <svg> without NaN or Inf in an attribute and without the
// label's markup.
func FuzzCharts(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 1.0, 2.0, "zh-CN")
	}
	f.Add("广东", 0.0, 0.0, "en")
	f.Add("x", -1e308, 1e308, "")
	f.Fuzz(func(t *testing.T, label string, a, b float64, locale string) {
		items := []Item{{Label: label, Value: a}, {Label: label, Value: b}, {Label: "其他", Value: a + b}}
		fr := Frame{Title: label, Desc: label, Locale: locale, Empty: label}
		for _, out := range []template.HTML{
			Line(LineOptions{Frame: fr, Labels: []string{label, label}, Series: []Series{{Name: label, Points: []float64{a, b}, Color: label}},
				Right: []Series{{Name: label, Points: []float64{b, a}}}, YLabel: label, RightLabel: label, Area: true}),
			Bars(BarOptions{Frame: fr, Items: items, Share: true, Color: label}),
			Histogram(HistogramOptions{Frame: fr, Bins: items, XLabel: label, YLabel: label}),
			Donut(DonutOptions{Frame: fr, Slices: items, CenterLabel: label}),
		} {
			if err := wellFormed(string(out)); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if strings.Contains(label, "<") && strings.Contains(string(out), label) {
				t.Fatalf("label %q written unescaped", label)
			}
		}
	})
}
