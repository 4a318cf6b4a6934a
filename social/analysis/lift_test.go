package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/admeter/admeter"
)

func TestRateRatio(t *testing.T) {
	l := rateRatio([]int64{10, 10, 10}, []int64{20, 20, 20})
	se := math.Sqrt(1.0/60 + 1.0/30)
	q := tQuantile975(4)
	if l.Ratio != 2 || l.Dispersion != 1 || math.Abs(l.Low-2*math.Exp(-q*se)) > 1e-12 || math.Abs(l.High-2*math.Exp(q*se)) > 1e-12 {
		t.Errorf("%+v", l)
	}
	// Overdispersed counts widen the interval by sqrt(φ).
	od := rateRatio([]int64{2, 18, 10}, []int64{5, 35, 20})
	if od.Dispersion <= 1 || od.High/od.Low <= l.High/l.Low {
		t.Errorf("overdispersed %+v, Poisson %+v", od, l)
	}
}

// negBin draws a negative binomial count of mean mu and size r (variance
// mu + mu²/r), as a gamma–Poisson mixture.
func negBin(rng *rand.Rand, mu, r float64) int64 {
	return poisson(rng, gamma(rng, r)*mu/r)
}

// gamma draws Gamma(shape, 1) (Marsaglia–Tsang).
func gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := rng.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// poisson draws Poisson(lambda) by multiplying uniforms (lambda is small
// here).
func poisson(rng *rand.Rand, lambda float64) int64 {
	l, k, p := math.Exp(-lambda), int64(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// TestLiftCoverage checks by simulation that the 95% interval covers the
// true ratio of overdispersed daily counts 90 to 99% of the time.
func TestLiftCoverage(t *testing.T) {
	for _, tc := range []struct {
		before, during int
		mu, ratio, r   float64
	}{
		{14, 14, 20, 1.5, 5}, // strongly overdispersed
		{7, 21, 8, 1, 50},    // nearly Poisson, no effect
		{5, 10, 30, 0.8, 10}, // a drop, few days
	} {
		t.Run(fmt.Sprintf("%d+%d days, mean %v, ratio %v, size %v", tc.before, tc.during, tc.mu, tc.ratio, tc.r), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			const runs = 1000
			covered := 0
			for range runs {
				b := make([]int64, tc.before)
				d := make([]int64, tc.during)
				for i := range b {
					b[i] = negBin(rng, tc.mu, tc.r)
				}
				for i := range d {
					d[i] = negBin(rng, tc.mu*tc.ratio, tc.r)
				}
				l := rateRatio(b, d)
				if l.Low <= tc.ratio && tc.ratio <= l.High {
					covered++
				}
			}
			if c := float64(covered) / runs; c < 0.9 || c > 0.99 {
				t.Errorf("coverage %.3f, want 0.90 to 0.99", c)
			} else {
				t.Logf("coverage %.3f", c)
			}
		})
	}
}

func TestAlignment(t *testing.T) {
	brand, comp := rules()
	var posts []admeter.SocialPost
	n := 0
	// Ten days; 4 brand mentions a day before delivery (days 0–3), 8
	// during (4–6), 4 after; a competitor mention every day.
	for d := range 10 {
		per := 4
		if d >= 4 && d <= 6 {
			per = 8
		}
		for i := range per {
			n++
			posts = append(posts, post(n, d, fmt.Sprintf("星河手机第%d天第%d条", d, i), 0))
		}
		n++
		posts = append(posts, post(n, d, fmt.Sprintf("银河第%d天", d), 0))
	}
	delivery := map[storeDate]int64{day0.AddDays(4): 100, day0.AddDays(5): 0, day0.AddDays(6): 50, day0.AddDays(20): 7}
	in := Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(9), Location: cst,
		MinAuthors: 2, Segmenter: segmenter(t), Delivery: delivery}
	rep, err := Analyze(in)
	if err != nil {
		t.Fatal(err)
	}
	al := rep.Alignment
	if al.DeliveryFrom != day0.AddDays(4).String() || al.DeliveryTo != day0.AddDays(6).String() || al.Impressions != 150 {
		t.Errorf("delivery %s to %s, %d impressions", al.DeliveryFrom, al.DeliveryTo, al.Impressions)
	}
	for _, tc := range []struct {
		p        Period
		days     int
		mentions int64
		perDay   float64
	}{{al.Before, 4, 16, 4}, {al.During, 3, 24, 8}, {al.After, 3, 12, 4}} {
		if tc.p.Days != tc.days || tc.p.Counts == nil || tc.p.Counts.Mentions != tc.mentions || *tc.p.PerDay != tc.perDay {
			t.Errorf("period %+v, want %d days, %d mentions", tc.p, tc.days, tc.mentions)
		}
	}
	if l := al.Lift; l.Insufficient || l.Ratio != 2 || l.Low >= 2 || l.High <= 2 || l.Dispersion != 1 || l.Method == "" {
		t.Errorf("lift %+v", l)
	}

	for _, tc := range []struct {
		name     string
		delivery map[storeDate]int64
		from     int
	}{
		{"two days before", map[storeDate]int64{day0.AddDays(2): 1}, 0},
		{"no mentions before", map[storeDate]int64{day0: 1}, -5},
		{"no impressions", map[storeDate]int64{day0.AddDays(30): 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			in.Delivery = tc.delivery
			in.From = day0.AddDays(tc.from)
			rep, err := Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			if l := rep.Alignment.Lift; !l.Insufficient || l.Reason == "" || l.Ratio != 0 {
				t.Errorf("lift %+v, want insufficient with a reason", l)
			} else {
				t.Log(l.Reason)
			}
		})
	}
}
