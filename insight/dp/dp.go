package dp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
)

// Mechanisms.
const (
	Laplace  = "laplace"  // discrete Laplace: pure ε-DP for L1 sensitivity
	Gaussian = "gaussian" // discrete Gaussian: (ε, δ)-DP for L2 sensitivity
)

// Noise draws noise for integer counts from one distribution.
type Noise interface {
	// Sample returns one draw.
	Sample() (int64, error)
	// Variance is the distribution's variance (for documentation and
	// tests; never used to make noise).
	Variance() float64
	// Mechanism is Laplace or Gaussian.
	Mechanism() string
}

// sampler holds the random source and the exact Bernoulli samplers every
// distribution is built from.
type sampler struct {
	rnd io.Reader
}

func newSampler(rnd io.Reader) sampler {
	if rnd == nil {
		rnd = rand.Reader
	}
	return sampler{rnd: rnd}
}

var one = big.NewInt(1)

// uniform returns an integer uniform in [0, n), n ≥ 1.
func (s sampler) uniform(n *big.Int) (*big.Int, error) {
	if n.Cmp(one) == 0 {
		return new(big.Int), nil
	}
	u, err := rand.Int(s.rnd, n)
	if err != nil {
		return nil, fmt.Errorf("draw random bits: %w", err)
	}
	return u, nil
}

// bernoulli returns true with probability num/den (0 ≤ num ≤ den, den ≥ 1).
func (s sampler) bernoulli(num, den *big.Int) (bool, error) {
	u, err := s.uniform(den)
	if err != nil {
		return false, err
	}
	return u.Cmp(num) < 0, nil
}

// bernoulliExp returns true with probability exp(-γ), γ = num/den ≥ 0
// (Canonne–Kamath–Steinke Algorithm 1).
func (s sampler) bernoulliExp(num, den *big.Int) (bool, error) {
	if num.Sign() < 0 || den.Sign() <= 0 {
		return false, errors.New("bernoulliExp: γ must be a non-negative rational")
	}
	if num.Cmp(den) <= 0 { // γ ≤ 1
		k := int64(1)
		kden := new(big.Int)
		for {
			kden.Mul(den, big.NewInt(k))
			a, err := s.bernoulli(num, kden) // Bernoulli(γ/k)
			if err != nil {
				return false, err
			}
			if !a {
				break
			}
			k++
		}
		return k%2 == 1, nil
	}
	whole, frac := new(big.Int).QuoRem(num, den, new(big.Int))
	for i := new(big.Int); i.Cmp(whole) < 0; i.Add(i, one) {
		b, err := s.bernoulliExp(one, one)
		if err != nil || !b {
			return false, err
		}
	}
	return s.bernoulliExp(frac, den)
}

// discreteLaplace returns a draw from P(z) ∝ exp(-|z|·s/t), s, t ≥ 1
// (Canonne–Kamath–Steinke Algorithm 2).
func (s sampler) discreteLaplace(sNum, tDen *big.Int) (*big.Int, error) {
	for {
		u, err := s.uniform(tDen)
		if err != nil {
			return nil, err
		}
		d, err := s.bernoulliExp(u, tDen)
		if err != nil {
			return nil, err
		}
		if !d {
			continue
		}
		v := new(big.Int)
		for {
			a, err := s.bernoulliExp(one, one)
			if err != nil {
				return nil, err
			}
			if !a {
				break
			}
			v.Add(v, one)
		}
		x := v.Mul(v, tDen)
		x.Add(x, u)
		y := x.Quo(x, sNum)
		b, err := s.bernoulli(one, big.NewInt(2))
		if err != nil {
			return nil, err
		}
		if b && y.Sign() == 0 {
			continue
		}
		if b {
			y.Neg(y)
		}
		return y, nil
	}
}

// LaplaceNoise is the discrete Laplace distribution P(z) ∝ exp(-|z|·ε/Δ)
// with ε = Epsilon (a rational) and Δ the L1 sensitivity: ε-differential
// privacy for a vector of counts whose L1 sensitivity is Δ.
type LaplaceNoise struct {
	s, t *big.Int // P(z) ∝ exp(-|z|·s/t)
	sampler
}

// NewLaplace returns the discrete Laplace noise for privacy loss epsilon
// (positive) and L1 sensitivity l1 (at least 1), drawing random bits from
// rnd (nil: crypto/rand).
func NewLaplace(epsilon *big.Rat, l1 int64, rnd io.Reader) (*LaplaceNoise, error) {
	if epsilon == nil || epsilon.Sign() <= 0 || l1 < 1 {
		return nil, errors.New("laplace noise needs a positive epsilon and a sensitivity of at least 1")
	}
	// ε/Δ = a/(b·Δ) for ε = a/b.
	t := new(big.Int).Mul(epsilon.Denom(), big.NewInt(l1))
	return &LaplaceNoise{s: new(big.Int).Set(epsilon.Num()), t: t, sampler: newSampler(rnd)}, nil
}

// Sample returns one draw.
func (n *LaplaceNoise) Sample() (int64, error) {
	z, err := n.discreteLaplace(n.s, n.t)
	if err != nil {
		return 0, err
	}
	if !z.IsInt64() {
		return 0, errors.New("laplace noise out of range")
	}
	return z.Int64(), nil
}

// Param returns p = exp(-ε/Δ), the ratio of successive probabilities.
func (n *LaplaceNoise) Param() float64 {
	r, _ := new(big.Rat).SetFrac(n.s, n.t).Float64()
	return math.Exp(-r)
}

// Variance is 2p/(1-p)² with p = exp(-ε/Δ).
func (n *LaplaceNoise) Variance() float64 {
	p := n.Param()
	return 2 * p / ((1 - p) * (1 - p))
}

// Mechanism returns Laplace.
func (n *LaplaceNoise) Mechanism() string { return Laplace }

// Prob returns the probability of z, for tests: (1-p)/(1+p)·p^|z|.
func (n *LaplaceNoise) Prob(z int64) float64 {
	p := n.Param()
	return (1 - p) / (1 + p) * math.Pow(p, math.Abs(float64(z)))
}

// GaussianNoise is the discrete Gaussian distribution
// P(z) ∝ exp(-z²/(2σ²)), with σ² chosen so that a vector of counts of L2
// sensitivity Δ satisfies ρ-zCDP with ρ = Δ²/(2σ²) (Canonne–Kamath–Steinke
// Theorem 4), and hence (ε, δ)-differential privacy for
// ε = ρ + 2·sqrt(ρ·ln(1/δ)).
type GaussianNoise struct {
	sigma2 *big.Rat // σ², rational
	t      *big.Int // floor(σ)+1
	sampler
}

// NewGaussian returns the discrete Gaussian noise for (epsilon, delta) and
// squared L2 sensitivity l2sq (at least 1), drawing random bits from rnd
// (nil: crypto/rand). σ² is rounded up to a multiple of 1/1024 (more noise,
// never less).
func NewGaussian(epsilon *big.Rat, delta float64, l2sq int64, rnd io.Reader) (*GaussianNoise, error) {
	if epsilon == nil || epsilon.Sign() <= 0 || l2sq < 1 || !(delta > 0 && delta < 1) {
		return nil, errors.New("gaussian noise needs a positive epsilon, a delta between 0 and 1 and a sensitivity of at least 1")
	}
	eps, _ := epsilon.Float64()
	s2 := GaussianSigma2(eps, delta, l2sq)
	if math.IsInf(s2, 0) || math.IsNaN(s2) || s2 > 1e15 {
		return nil, fmt.Errorf("gaussian noise: epsilon %g is too small", eps)
	}
	// Round up to the 1/1024 grid, plus one step for the float error.
	num := int64(math.Ceil(s2*1024)) + 1
	sigma2 := big.NewRat(num, 1024)
	sigma, _ := sigma2.Float64()
	t := big.NewInt(int64(math.Floor(math.Sqrt(sigma))) + 1)
	return &GaussianNoise{sigma2: sigma2, t: t, sampler: newSampler(rnd)}, nil
}

// GaussianSigma2 returns the σ² at which the discrete Gaussian gives
// (epsilon, delta)-DP for squared L2 sensitivity l2sq, through zCDP:
// ρ = (sqrt(ln(1/δ)+ε) − sqrt(ln(1/δ)))², σ² = Δ²/(2ρ).
func GaussianSigma2(epsilon, delta float64, l2sq int64) float64 {
	l := math.Log(1 / delta)
	r := math.Sqrt(l+epsilon) - math.Sqrt(l)
	rho := r * r
	return float64(l2sq) / (2 * rho)
}

// Sample returns one draw (Canonne–Kamath–Steinke Algorithm 3).
func (n *GaussianNoise) Sample() (int64, error) {
	// γ = (|Y| − σ²/t)² / (2σ²), exactly.
	s2t := new(big.Rat).Quo(n.sigma2, new(big.Rat).SetInt(n.t))
	twoS2 := new(big.Rat).Mul(n.sigma2, big.NewRat(2, 1))
	for {
		y, err := n.discreteLaplace(one, n.t)
		if err != nil {
			return 0, err
		}
		g := new(big.Rat).SetInt(new(big.Int).Abs(y))
		g.Sub(g, s2t)
		g.Mul(g, g)
		g.Quo(g, twoS2)
		c, err := n.bernoulliExp(g.Num(), g.Denom())
		if err != nil {
			return 0, err
		}
		if c {
			if !y.IsInt64() {
				return 0, errors.New("gaussian noise out of range")
			}
			return y.Int64(), nil
		}
	}
}

// Sigma2 returns σ².
func (n *GaussianNoise) Sigma2() float64 {
	f, _ := n.sigma2.Float64()
	return f
}

// Variance returns the variance of the discrete Gaussian, which is at most
// σ², summed from its probabilities.
func (n *GaussianNoise) Variance() float64 {
	var v float64
	for z := int64(1); ; z++ {
		p := n.Prob(z)
		v += 2 * float64(z*z) * p
		if p < 1e-18 && z > 10 {
			return v
		}
	}
}

// Mechanism returns Gaussian.
func (n *GaussianNoise) Mechanism() string { return Gaussian }

// Prob returns the probability of z, for tests: exp(-z²/(2σ²)) over the
// normalising sum.
func (n *GaussianNoise) Prob(z int64) float64 {
	s2 := n.Sigma2()
	norm := 1.0
	for x := int64(1); ; x++ {
		w := math.Exp(-float64(x*x) / (2 * s2))
		norm += 2 * w
		if w < 1e-20 {
			break
		}
	}
	return math.Exp(-float64(z*z)/(2*s2)) / norm
}
