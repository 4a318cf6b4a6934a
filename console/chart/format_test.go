package chart

import (
	"math"
	"slices"
	"testing"
)

func TestFormatCompact(t *testing.T) {
	tests := []struct {
		v      float64
		zh, en string
	}{
		{0, "0", "0"},
		{7, "7", "7"},
		{0.5, "0.5", "0.5"},
		{999, "999", "999"},
		{9999, "9,999", "9,999"},
		{9999.999, "1万", "10,000"},
		{10000, "1万", "10,000"},
		{12345, "1.2万", "12,345"},
		{15000, "1.5万", "15,000"},
		{999999, "100万", "999,999"},
		{1234567, "123.5万", "1.2M"},
		{12345678, "1,234.6万", "12.3M"},
		{99950000, "9,995万", "100M"},
		{99999999, "1亿", "100M"},
		{123456789, "1.2亿", "123.5M"},
		{999950000, "10亿", "1B"},
		{1234567890, "12.3亿", "1.2B"},
		{-12345, "-1.2万", "-12,345"},
		{-0.001, "0", "0"},
		{math.NaN(), "0", "0"},
		{math.Inf(1), "0", "0"},
	}
	for _, tt := range tests {
		if got := FormatCompact(tt.v, "zh-CN"); got != tt.zh {
			t.Errorf("FormatCompact(%v, zh-CN) = %q, want %q", tt.v, got, tt.zh)
		}
		if got := FormatCompact(tt.v, "en"); got != tt.en {
			t.Errorf("FormatCompact(%v, en) = %q, want %q", tt.v, got, tt.en)
		}
	}
}

func TestFormatCompactLocales(t *testing.T) {
	for locale, want := range map[string]string{
		"": "1.2万", "zh": "1.2万", "zh-CN": "1.2万", "ZH-cn": "1.2万", "zh-Hans-CN": "1.2万",
		"en": "12,345", "en-US": "12,345", "fr": "12,345",
	} {
		if got := FormatCompact(12345, locale); got != want {
			t.Errorf("FormatCompact(12345, %q) = %q, want %q", locale, got, want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{12, "12"},
		{100, "100"},
		{1000, "1,000"},
		{12345, "12,345"},
		{123456789, "123,456,789"},
		{1234567.891, "1,234,567.89"},
		{0.5, "0.5"},
		{0.126, "0.13"},
		{0.001, "0"},
		{-1000, "-1,000"},
		{-0.001, "0"},
		{1e15, "1,000,000,000,000,000"},
		{math.NaN(), "0"},
		{math.Inf(-1), "0"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.v); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestAxisLabels(t *testing.T) {
	tests := []struct {
		ticks  []float64
		step   float64
		locale string
		want   []string
	}{
		{[]float64{0, 5000, 10000, 15000}, 5000, "zh-CN", []string{"0", "0.5万", "1.0万", "1.5万"}},
		{[]float64{0, 5000, 10000, 15000}, 5000, "en", []string{"0", "5,000", "10,000", "15,000"}},
		{[]float64{0, 20000, 40000}, 20000, "zh-CN", []string{"0", "2万", "4万"}},
		{[]float64{0, 2000, 4000, 6000}, 2000, "zh-CN", []string{"0", "2,000", "4,000", "6,000"}},
		{[]float64{0, 0.2, 0.4}, 0.2, "zh-CN", []string{"0", "0.2", "0.4"}},
		{[]float64{0, 0.5, 1, 1.5}, 0.5, "en", []string{"0", "0.5", "1.0", "1.5"}},
		{[]float64{0, 2e8, 4e8}, 2e8, "zh-CN", []string{"0", "2亿", "4亿"}},
		{[]float64{0, 5e7, 1e8}, 5e7, "zh-CN", []string{"0", "0.5亿", "1.0亿"}},
		{[]float64{0, 2e6, 4e6}, 2e6, "en", []string{"0", "2M", "4M"}},
		{[]float64{-20, 0, 20}, 20, "en", []string{"-20", "0", "20"}},
	}
	for _, tt := range tests {
		if got := axisLabels(tt.ticks, tt.step, tt.locale); !slices.Equal(got, tt.want) {
			t.Errorf("axisLabels(%v, %v, %q) = %q, want %q", tt.ticks, tt.step, tt.locale, got, tt.want)
		}
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		vals  []float64
		total float64
		want  []int
	}{
		{[]float64{1, 1, 1}, 3, []int{334, 333, 333}},
		{[]float64{1, 2}, 3, []int{333, 667}},
		{[]float64{5, 0}, 5, []int{1000, 0}},
		{[]float64{0, 0}, 0, []int{0, 0}},
		{[]float64{1, 3}, 10, []int{100, 300}},
		{[]float64{2, -1, math.NaN()}, 2, []int{1000, 0, 0}},
		{[]float64{333, 333, 333, 1}, 1000, []int{333, 333, 333, 1}},
		{[]float64{1, 1, 1, 1, 1, 1, 1}, 7, []int{143, 143, 143, 143, 143, 143, 142}},
	}
	for _, tt := range tests {
		got := shares(tt.vals, tt.total)
		if !slices.Equal(got, tt.want) {
			t.Errorf("shares(%v, %v) = %v, want %v", tt.vals, tt.total, got, tt.want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[int]string{0: "0.0%", 5: "0.5%", 345: "34.5%", 1000: "100.0%"} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%d) = %q, want %q", in, got, want)
		}
	}
}
