package chart

import (
	"math"
	"slices"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		name     string
		lo, hi   float64
		target   int
		integer  bool
		want     []float64
		wantStep float64
	}{
		{"counts", 0, 12345, 5, true, []float64{0, 2000, 4000, 6000, 8000, 10000, 12000, 14000}, 2000},
		{"round hundred", 0, 100, 5, true, []float64{0, 20, 40, 60, 80, 100}, 20},
		{"step five", 0, 180, 4, true, []float64{0, 50, 100, 150, 200}, 50},
		{"all zero counts", 0, 0, 5, true, []float64{0, 1}, 1},
		{"all zero ratios", 0, 0, 5, false, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 0.2},
		{"fractions", 0, 0.03, 3, false, []float64{0, 0.01, 0.02, 0.03}, 0.01},
		{"starts at zero", 3, 7, 5, true, []float64{0, 1, 2, 3, 4, 5, 6, 7}, 1},
		{"small counts keep step 1", 0, 3, 8, true, []float64{0, 1, 2, 3}, 1},
		{"negative", -50, 50, 4, false, []float64{-60, -40, -20, 0, 20, 40, 60}, 20},
		{"reversed", 100, 0, 5, true, []float64{0, 20, 40, 60, 80, 100}, 20},
		{"single value", 42, 42, 5, true, []float64{0, 10, 20, 30, 40, 50}, 10},
		{"yi", 0, 123456789, 5, true, []float64{0, 2e7, 4e7, 6e7, 8e7, 1e8, 1.2e8, 1.4e8}, 2e7},
		{"NaN and Inf", math.NaN(), math.Inf(1), 5, true, []float64{0, 1}, 1},
		{"overflowing span", -1e308, 1e308, 5, false, []float64{0, 1}, 1},
		{"zero target", 0, 10, 0, true, []float64{0, 10}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, step := niceTicks(tt.lo, tt.hi, tt.target, tt.integer)
			if !slices.Equal(got, tt.want) || step != tt.wantStep {
				t.Errorf("niceTicks(%v, %v, %d, %v) = %v step %v, want %v step %v",
					tt.lo, tt.hi, tt.target, tt.integer, got, step, tt.want, tt.wantStep)
			}
		})
	}
}

// TestNiceTicksProperties checks, over many ranges, that ticks cover the
// range and zero, are evenly spaced by a 1-2-5 step and are not too many.
func TestNiceTicksProperties(t *testing.T) {
	for _, hi := range []float64{1e-9, 0.001, 0.37, 1, 3, 9.99, 10, 11, 99, 101, 12345, 99999, 1e6, 7.3e8, 1e15} {
		for _, lo := range []float64{0, -hi / 3, -hi} {
			for target := 2; target <= 10; target++ {
				ticks, step := niceTicks(lo, hi, target, false)
				if len(ticks) < 2 || len(ticks) > maxTicks {
					t.Fatalf("niceTicks(%v, %v, %d): %d ticks", lo, hi, target, len(ticks))
				}
				if ticks[0] > lo || ticks[len(ticks)-1] < hi*(1-1e-12) || !slices.Contains(ticks, 0) {
					t.Errorf("niceTicks(%v, %v, %d) = %v: does not cover the range and zero", lo, hi, target, ticks)
				}
				mant := step / math.Pow10(int(math.Floor(math.Log10(step)+1e-12)))
				if m := math.Round(mant); math.Abs(mant-m) > 1e-9 || (m != 1 && m != 2 && m != 5) {
					t.Errorf("niceTicks(%v, %v, %d): step %v is not 1, 2 or 5 × 10^k", lo, hi, target, step)
				}
				for i := 1; i < len(ticks); i++ {
					if d := ticks[i] - ticks[i-1]; math.Abs(d-step) > 1e-9*step {
						t.Errorf("niceTicks(%v, %v, %d) = %v: uneven gap %v", lo, hi, target, ticks, d)
						break
					}
				}
			}
		}
	}
}

func TestAlignedTicks(t *testing.T) {
	tests := []struct {
		hi      float64
		n       int
		integer bool
		want    []float64
	}{
		{347, 8, true, []float64{0, 50, 100, 150, 200, 250, 300, 350}},
		{350, 8, true, []float64{0, 50, 100, 150, 200, 250, 300, 350}},
		{0, 4, true, []float64{0, 1, 2, 3}},
		{0.05, 3, false, []float64{0, 0.05, 0.1}},
		{12345, 5, true, []float64{0, 5000, 10000, 15000, 20000}},
	}
	for _, tt := range tests {
		if got, _ := alignedTicks(tt.hi, tt.n, tt.integer); !slices.Equal(got, tt.want) {
			t.Errorf("alignedTicks(%v, %d, %v) = %v, want %v", tt.hi, tt.n, tt.integer, got, tt.want)
		}
	}
}

func TestLabelStep(t *testing.T) {
	tests := []struct {
		n           int
		each, plotW float64
		want        int
	}{
		{1, 80, 640, 1},
		{7, 40, 640, 1},
		{30, 40, 640, 2},
		{24, 60, 640, 3},
		{24, 100, 640, 4},
		{720, 80, 640, 96},
		{720, 40, 640, 48},
		{5000, 80, 640, 720},
		{100000, 80, 640, 12960},
		{10, 1000, 640, 12},
	}
	for _, tt := range tests {
		if got := labelStep(tt.n, tt.each, tt.plotW); got != tt.want {
			t.Errorf("labelStep(%d, %v, %v) = %d, want %d", tt.n, tt.each, tt.plotW, got, tt.want)
		}
	}
}
