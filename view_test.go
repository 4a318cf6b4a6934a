package admeter_test

import (
	"testing"

	"github.com/admeter/admeter"
)

func TestParseVX(t *testing.T) {
	tests := []struct {
		in   string
		want admeter.ViewResult
		ok   bool
	}{
		{"0", admeter.ViewStarted, true},
		{"1", admeter.ViewViewable, true},
		{"2", admeter.ViewUnmeasurable, true},
		{"4", admeter.ViewNotViewable, true},
		{"3", admeter.ViewNone, false},
		{"", admeter.ViewNone, false},
		{"__VX__", admeter.ViewNone, false},
	}
	for _, tt := range tests {
		got, ok := admeter.ParseVX(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseVX(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if !admeter.ViewViewable.Measured() || !admeter.ViewNotViewable.Measured() || admeter.ViewUnmeasurable.Measured() || admeter.ViewStarted.Measured() {
		t.Error("Measured: only viewable and not viewable are measurements")
	}
}

func TestParseVC(t *testing.T) {
	tests := []struct {
		in       string
		want     admeter.VideoProgress
		percent  int
		quartile admeter.Quartiles
		ok       bool
	}{
		{"0", admeter.ProgressStart, 0, 0, true},
		{"25", admeter.Progress25, 25, admeter.Quartile25, true},
		{"50", admeter.Progress50, 50, admeter.Quartile50, true},
		{"75", admeter.Progress75, 75, admeter.Quartile75, true},
		{"100", admeter.Progress100, 100, admeter.Quartile100, true},
		{"33", admeter.ProgressNone, 0, 0, false},
		{"", admeter.ProgressNone, 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := admeter.ParseVC(tt.in)
		if got != tt.want || ok != tt.ok || got.Percent() != tt.percent || got.Quartile() != tt.quartile {
			t.Errorf("ParseVC(%q) = %v (%d%%, %b), %v; want %v (%d%%, %b), %v", tt.in, got, got.Percent(), got.Quartile(), ok, tt.want, tt.percent, tt.quartile, tt.ok)
		}
	}
}

func TestParseVJ(t *testing.T) {
	tests := []struct {
		in   string
		want admeter.Quartiles
		ok   bool
	}{
		{"0000", 0, true},
		{"1000", admeter.Quartile25, true},
		{"1100", admeter.Quartile25 | admeter.Quartile50, true},
		{"1111", admeter.QuartileAll, true},
		{"0001", admeter.Quartile100, true},
		{"111", 0, false},
		{"11111", 0, false},
		{"1a11", 0, false},
	}
	for _, tt := range tests {
		got, ok := admeter.ParseVJ(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseVJ(%q) = %b, %v; want %b, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
