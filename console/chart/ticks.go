package chart

import "math"

// maxTicks bounds the ticks of one axis whatever the input.
const maxTicks = 50

// niceTicks returns evenly spaced round ticks, steps of 1, 2 or 5 × 10^k,
// about target of them, that cover lo, hi and zero. integer keeps the step
// at 1 or more (counts). Non-finite bounds are treated as zero, and a span of
// zero is widened to 1, so it always returns at least two ticks.
func niceTicks(lo, hi float64, target int, integer bool) (ticks []float64, step float64) {
	lo, hi = finite(lo), finite(hi)
	if lo > hi {
		lo, hi = hi, lo
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if hi == lo {
		hi = lo + 1
	}
	if target < 1 {
		target = 1
	}
	step = niceStep((hi - lo) / float64(target))
	if integer && step < 1 {
		step = 1
	}
	if step == 0 || math.IsInf(step, 0) || math.IsNaN(step) || math.IsInf(hi-lo, 0) {
		return []float64{0, 1}, 1
	}
	first := math.Floor(lo/step + 1e-9)
	last := math.Ceil(hi/step - 1e-9)
	for last-first+1 > maxTicks {
		step = niceStep(step * 1.5)
		first = math.Floor(lo/step + 1e-9)
		last = math.Ceil(hi/step - 1e-9)
	}
	if last == first {
		last++
	}
	p := math.Pow10(decimals(step))
	for i := first; i <= last; i++ {
		ticks = append(ticks, math.Round(i*step*p)/p)
	}
	return ticks, step
}

// niceStep rounds raw to the nearest of 1, 2, 5 × 10^k on a log scale (the
// thresholds are the geometric means √2, √10 and √50).
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 0
	}
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	norm := raw / mag
	switch {
	case norm >= math.Sqrt(50):
		return 10 * mag
	case norm >= math.Sqrt(10):
		return 5 * mag
	case norm >= math.Sqrt(2):
		return 2 * mag
	default:
		return mag
	}
}

// niceStepAtLeast returns the smallest of 1, 2, 5 × 10^k that is at least
// raw.
func niceStepAtLeast(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-12) {
			return m * mag
		}
	}
	return 10 * mag
}

// alignedTicks returns n ticks from zero whose round step covers hi, so that
// a right axis shares the left axis's gridlines.
func alignedTicks(hi float64, n int, integer bool) (ticks []float64, step float64) {
	if n < 2 {
		n = 2
	}
	step = niceStepAtLeast(finite(hi) / float64(n-1))
	if integer && step < 1 {
		step = 1
	}
	p := math.Pow10(decimals(step))
	for i := range n {
		ticks = append(ticks, math.Round(float64(i)*step*p)/p)
	}
	return ticks, step
}
