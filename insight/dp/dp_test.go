package dp_test

import (
	"crypto/rand"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/admeter/admeter/insight/dp"
)

// dist is a noise distribution with its exact probabilities.
type dist interface {
	dp.Noise
	Prob(z int64) float64
}

// seeded returns a reproducible random source, so that the distribution
// tests below give the same verdict on every run.
func seeded(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return mrand.NewChaCha8(s)
}

// TestNoiseDistribution draws many samples of each mechanism and checks
// them against the exact distribution: mean ≈ 0, variance ≈ the
// theoretical one, symmetry, and a chi-square goodness-of-fit test on the
// probabilities.
func TestNoiseDistribution(t *testing.T) {
	half := big.NewRat(1, 2)
	lap, err := dp.NewLaplace(half, 9, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	lapSmall, err := dp.NewLaplace(big.NewRat(2, 1), 1, seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	gau, err := dp.NewGaussian(half, 1e-6, 9, seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	gauWide, err := dp.NewGaussian(big.NewRat(1, 10), 1e-6, 1, seeded(4))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    dist
		n    int
	}{
		{"laplace eps=0.5 L1=9", lap, 40000},
		{"laplace eps=2 L1=1", lapSmall, 40000},
		{"gaussian eps=0.5 L2²=9", gau, 40000},
		{"gaussian eps=0.1 L2²=1", gauWide, 20000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := map[int64]int{}
			var sum, sumSq float64
			for range tt.n {
				z, err := tt.d.Sample()
				if err != nil {
					t.Fatal(err)
				}
				counts[z]++
				sum += float64(z)
				sumSq += float64(z) * float64(z)
			}
			n := float64(tt.n)
			mean := sum / n
			variance := sumSq/n - mean*mean
			want := tt.d.Variance()
			// The mean's standard error is sqrt(var/n); allow 4 of them.
			if se := math.Sqrt(want / n); math.Abs(mean) > 4*se {
				t.Errorf("mean = %.3f, want 0 ± %.3f", mean, 4*se)
			}
			// The sample variance's standard error is about
			// var·sqrt((kurtosis−1)/n), kurtosis ≤ 6 here.
			if tol := want * 4 * math.Sqrt(5/n); math.Abs(variance-want) > tol {
				t.Errorf("variance = %.2f, want %.2f ± %.2f", variance, want, tol)
			}
			// Symmetry: as many positive as negative draws, within
			// 4 standard errors of a fair split.
			var pos, neg int
			for z, c := range counts {
				if z > 0 {
					pos += c
				} else if z < 0 {
					neg += c
				}
			}
			if d := math.Abs(float64(pos - neg)); d > 4*math.Sqrt(float64(pos+neg)) {
				t.Errorf("%d positive and %d negative draws: not symmetric", pos, neg)
			}
			// Chi-square against the exact probabilities, over the
			// values expected at least 5 times and the two tails.
			chi, df := chiSquare(counts, tt.d, tt.n)
			// Critical value at about p = 1e-4: df + 3.7·sqrt(2df) + 10.
			if crit := float64(df) + 3.7*math.Sqrt(2*float64(df)) + 10; chi > crit {
				t.Errorf("chi-square = %.1f with %d degrees of freedom, above %.1f: the draws do not follow the distribution", chi, df, crit)
			}
			// And the test can fail: the same draws shifted by one are
			// rejected.
			shifted := map[int64]int{}
			for z, c := range counts {
				shifted[z+1+int64(math.Sqrt(want)/4)] += c
			}
			if chi, df := chiSquare(shifted, tt.d, tt.n); chi <= float64(df)+3.7*math.Sqrt(2*float64(df))+10 {
				t.Errorf("shifted draws pass the chi-square test (%.1f, %d df): the test has no power", chi, df)
			}
		})
	}
}

// chiSquare returns Pearson's statistic of counts (n draws) against d and
// its degrees of freedom.
func chiSquare(counts map[int64]int, d dist, n int) (float64, int) {
	var lo int64
	for d.Prob(lo-1)*float64(n) >= 5 {
		lo--
	}
	hi := -lo
	var chi float64
	cells := 0
	var inside, pInside float64
	for z := lo; z <= hi; z++ {
		e := d.Prob(z) * float64(n)
		o := float64(counts[z])
		chi += (o - e) * (o - e) / e
		inside += o
		pInside += d.Prob(z)
		cells++
	}
	// The tails together.
	e := (1 - pInside) * float64(n)
	o := float64(n) - inside
	if e > 0 {
		chi += (o - e) * (o - e) / e
		cells++
	}
	return chi, cells - 1
}

// TestNoiseParameters checks the scale each mechanism derives from ε and
// the sensitivity, and that bad parameters are refused.
func TestNoiseParameters(t *testing.T) {
	lap, err := dp.NewLaplace(big.NewRat(1, 2), 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lap.Param(), math.Exp(-0.5/9); math.Abs(got-want) > 1e-12 {
		t.Errorf("laplace p = %v, want exp(-ε/Δ) = %v", got, want)
	}
	gau, err := dp.NewGaussian(big.NewRat(1, 2), 1e-6, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	// ρ = (sqrt(ln 1e6 + 0.5) − sqrt(ln 1e6))², σ² = 9/(2ρ) ≈ 1014.
	if s2 := gau.Sigma2(); s2 < 1000 || s2 > 1030 {
		t.Errorf("gaussian σ² = %v, want about 1014", s2)
	}
	if s2, exact := gau.Sigma2(), dp.GaussianSigma2(0.5, 1e-6, 9); s2 < exact {
		t.Errorf("σ² %v rounded below the exact %v: less noise than promised", s2, exact)
	}
	if v := gau.Variance(); v > gau.Sigma2()*(1+1e-9) || v < 0.95*gau.Sigma2() {
		t.Errorf("discrete Gaussian variance %v, want just below σ² = %v", v, gau.Sigma2())
	}
	bad := []func() error{
		func() error { _, err := dp.NewLaplace(big.NewRat(0, 1), 9, nil); return err },
		func() error { _, err := dp.NewLaplace(big.NewRat(1, 2), 0, nil); return err },
		func() error { _, err := dp.NewGaussian(big.NewRat(1, 2), 0, 9, nil); return err },
		func() error { _, err := dp.NewGaussian(big.NewRat(-1, 2), 1e-6, 9, nil); return err },
	}
	for i, f := range bad {
		if f() == nil {
			t.Errorf("bad parameters %d accepted", i)
		}
	}
}

// TestCryptoSource draws from crypto/rand (the production source) to show
// that it works and is not constant.
func TestCryptoSource(t *testing.T) {
	lap, err := dp.NewLaplace(big.NewRat(1, 2), 9, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for range 200 {
		z, err := lap.Sample()
		if err != nil {
			t.Fatal(err)
		}
		seen[z] = true
	}
	if len(seen) < 20 {
		t.Errorf("200 draws gave only %d values", len(seen))
	}
}

// BenchmarkLaplace measures one discrete Laplace draw from crypto/rand.
func BenchmarkLaplace(b *testing.B) {
	lap, _ := dp.NewLaplace(big.NewRat(1, 2), 9, nil)
	for b.Loop() {
		if _, err := lap.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGaussian measures one discrete Gaussian draw from crypto/rand.
func BenchmarkGaussian(b *testing.B) {
	g, _ := dp.NewGaussian(big.NewRat(1, 2), 1e-6, 9, nil)
	for b.Loop() {
		if _, err := g.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}
