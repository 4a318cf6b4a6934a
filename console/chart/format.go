package chart

import (
	"math"
	"strconv"
	"strings"
)

// isZh reports whether locale asks for Chinese: "" and anything starting
// with "zh" do.
func isZh(locale string) bool {
	l := strings.ToLower(strings.TrimSpace(locale))
	return l == "" || strings.HasPrefix(l, "zh")
}

// finite replaces NaN and ±Inf with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// FormatNumber writes v in full with thousands separators and at most two
// decimals, trailing zeros dropped: 12345 → "12,345", 0.5 → "0.5". It is the
// same in both supported locales. NaN and ±Inf are written as "0".
func FormatNumber(v float64) string {
	return group(v, 2, true)
}

// FormatCompact writes v short enough for an axis or a bar end. In Chinese
// (locale "" or "zh…") values from ten thousand up use 万 and 亿 with one
// decimal: 12345 → "1.2万", 123456789 → "1.2亿". In English values below a
// million are written in full ("12,345") and larger ones with M and B
// ("1.2M"). Smaller values are written as FormatNumber writes them.
func FormatCompact(v float64, locale string) string {
	v = finite(v)
	a := math.Abs(math.Round(v*100) / 100)
	sign := ""
	if v < 0 {
		sign = "-"
	}
	type unit struct {
		size float64
		name string
	}
	var units []unit
	if isZh(locale) {
		units = []unit{{1e8, "亿"}, {1e4, "万"}}
	} else {
		units = []unit{{1e9, "B"}, {1e6, "M"}}
	}
	for i, u := range units {
		if a < u.size {
			continue
		}
		// A value that rounds up to the next unit is written in it
		// (99,999,999 is 1亿, not 10000万).
		if i > 0 && math.Round(a/u.size*10)/10 >= units[i-1].size/u.size {
			u = units[i-1]
		}
		return sign + group(a/u.size, 1, true) + u.name
	}
	return group(v, 2, true)
}

// formatPercent writes a share given in tenths of a percent: 345 → "34.5%".
func formatPercent(permille int) string {
	return strconv.Itoa(permille/10) + "." + strconv.Itoa(permille%10) + "%"
}

// group writes v with the given decimals and a comma every three integer
// digits; trim drops trailing zeros of the fraction.
func group(v float64, decimals int, trim bool) string {
	v = finite(v)
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	if trim {
		frac = strings.TrimRight(frac, "0")
	}
	var b strings.Builder
	if v < 0 && strings.Trim(intPart+frac, "0") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// axisLabels writes the labels of one axis. All labels share one unit,
// chosen by the largest tick (万/亿 in Chinese, M/B in English), and one
// number of decimals, chosen by the step; zero is written "0".
func axisLabels(ticks []float64, step float64, locale string) []string {
	maxAbs := 0.0
	for _, t := range ticks {
		maxAbs = math.Max(maxAbs, math.Abs(t))
	}
	unit, name := 1.0, ""
	switch {
	case isZh(locale) && maxAbs >= 1e8:
		unit, name = 1e8, "亿"
	case isZh(locale) && maxAbs >= 1e4:
		unit, name = 1e4, "万"
	case !isZh(locale) && maxAbs >= 1e9:
		unit, name = 1e9, "B"
	case !isZh(locale) && maxAbs >= 1e6:
		unit, name = 1e6, "M"
	}
	d := decimals(step / unit)
	out := make([]string, len(ticks))
	for i, t := range ticks {
		if t == 0 {
			out[i] = "0"
			continue
		}
		out[i] = group(t/unit, d, false) + name
	}
	return out
}

// decimals returns how many decimals step needs (0.5 → 1, 0.25 → 2, 20 → 0).
func decimals(step float64) int {
	step = math.Abs(finite(step))
	if step == 0 {
		return 0
	}
	for d := 0; d < 10; d++ {
		x := step * math.Pow10(d)
		if math.Abs(x-math.Round(x)) <= 1e-6*x {
			return d
		}
	}
	return 10
}

// shares returns each value's share of total in tenths of a percent. When
// total is the sum of the values the shares are rounded by the largest
// remainder so that they add up to exactly 100.0%. Negative values and a
// total that is not positive give zero shares.
func shares(vals []float64, total float64) []int {
	out := make([]int, len(vals))
	total = finite(total)
	if total <= 0 {
		return out
	}
	sum := 0.0
	for _, v := range vals {
		sum += math.Max(finite(v), 0)
	}
	exact := math.Abs(sum-total) <= 1e-9*total
	rem := make([]float64, len(vals))
	given := 0
	for i, v := range vals {
		raw := math.Max(finite(v), 0) / total * 1000
		if !exact {
			out[i] = int(math.Round(raw))
			continue
		}
		out[i] = int(math.Floor(raw))
		rem[i] = raw - float64(out[i])
		given += out[i]
	}
	if !exact {
		return out
	}
	for ; given < 1000; given++ {
		best := -1
		for i := range vals {
			if best < 0 || rem[i] > rem[best] {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out[best]++
		rem[best] = -1
	}
	return out
}
