package mediaplan

import (
	"errors"
	"math"
	"testing"

	"github.com/admeter/admeter"
)

// nbdUnit returns a unit whose measurements are exactly those of NBD(m, k)
// over a universe of n people: its reach, impressions and frequency.
func nbdUnit(key string, n, m, k float64) Unit {
	var p [Levels + 1]float64
	nbd{m, k}.pmf(&p)
	u := Unit{Key: key, Frequency: make([]int64, Levels), Impressions: int64(math.Round(n * m))}
	var least int64
	for f := 1; f <= Levels; f++ {
		u.Frequency[f-1] = int64(math.Round(n * p[f]))
		u.Users += u.Frequency[f-1]
		least += int64(f) * u.Frequency[f-1]
	}
	u.Impressions = max(u.Impressions, least) // rounding of the 20+ bucket
	return u
}

// single returns an Input of one unit, its own union.
func single(u Unit) Input {
	return Input{Units: []Unit{u}, Union: u.Users, UnionFrequency: u.Frequency}
}

func TestFitRecoversNBD(t *testing.T) {
	for _, tc := range []struct{ n, m, k float64 }{
		{1e6, 2.5, 0.7},
		{1e6, 0.3, 2},
		{5e5, 6, 0.25},
		{1e6, 1.2, 8},
	} {
		md, err := Fit(single(nbdUnit("u", tc.n, tc.m, tc.k)))
		if err != nil {
			t.Fatal(err)
		}
		f := md.Units[0]
		if f.Method != FitNBD {
			t.Errorf("m=%g k=%g: method %s, want %s", tc.m, tc.k, f.Method, FitNBD)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"m", f.M, tc.m}, {"k", f.K, tc.k}, {"universe", f.Universe, tc.n}} {
			if math.Abs(c.got/c.want-1) > 0.01 {
				t.Errorf("m=%g k=%g: fitted %s %.4g, want %.4g", tc.m, tc.k, c.name, c.got, c.want)
			}
		}
		for _, c := range f.Check {
			if math.Abs(c.Observed-c.Predicted) > 0.002 {
				t.Errorf("m=%g k=%g: share at %s observed %.4f, predicted %.4f", tc.m, tc.k, c.Level, c.Observed, c.Predicted)
			}
		}
		// Doubling impressions over the same universe: reach as NBD(2m, k).
		p, err := md.Predict([]float64{2 * tc.n * tc.m}, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.n * nbd{2 * tc.m, tc.k}.reached()
		if math.Abs(p.Reach/want-1) > 0.01 {
			t.Errorf("m=%g k=%g: reach at twice the impressions %.0f, want %.0f", tc.m, tc.k, p.Reach, want)
		}
	}
}

func TestFitDegenerate(t *testing.T) {
	once := Unit{Key: "once", Users: 1000, Impressions: 1000, Frequency: make([]int64, Levels)}
	once.Frequency[0] = 1000
	tiny := Unit{Key: "tiny", Users: 10, Impressions: 40, Frequency: make([]int64, Levels)}
	tiny.Frequency[0], tiny.Frequency[1], tiny.Frequency[11] = 5, 3, 2
	big := nbdUnit("big", 1e5, 2, 0.5)
	empty := Unit{Key: "empty"}
	md, err := Fit(Input{Units: []Unit{once, tiny, big, empty}, Union: big.Users + 1000 + 10,
		UnionFrequency: add(add(big.Frequency, once.Frequency), tiny.Frequency)})
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Units[1]; got.Method != FitPooled || math.Abs(got.K/md.Units[2].K-1) > 1e-9 {
		t.Errorf("tiny unit: %v, want the pooled k of %v", got, md.Units[2])
	}
	if got := md.Units[3]; got.Method != FitEmpty {
		t.Errorf("empty unit: method %s, want %s", got.Method, FitEmpty)
	}
	if md.Overlap {
		t.Errorf("disjoint units fitted with overlap, universe %g", md.Universe)
	}
	// Everyone seen once: reach grows almost linearly, within the universe.
	p, err := md.Predict([]float64{2000, 40, float64(big.Impressions), 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Units[0]; r < 1900 || r > 2000 {
		t.Errorf("unit seen once, doubled: reach %.0f, want almost 2000", r)
	}
	if p.Units[3] != 0 {
		t.Errorf("empty unit reaches %g", p.Units[3])
	}
	for i, v := range p.AtLeast {
		if math.IsNaN(v) || v < 0 || i > 0 && v > p.AtLeast[i-1]+1e-6 {
			t.Fatalf("at least %d+: %g after %g", i+1, v, p.AtLeast[max(i-1, 0)])
		}
	}
}

// add returns a+b entrywise.
func add(a, b []int64) []int64 {
	out := make([]int64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func TestSolveUniverse(t *testing.T) {
	units := []Unit{{Users: 400}, {Users: 300}, {Users: 200}}
	for _, tc := range []struct {
		name    string
		union   float64
		overlap bool
	}{
		{"nested", 400, true},
		{"some", 650, true},
		{"almost none", 899, true},
		{"none", 900, false},
	} {
		u, overlap := solveUniverse(units, tc.union, 900, 400)
		if overlap != tc.overlap {
			t.Errorf("%s: overlap %v, want %v", tc.name, overlap, tc.overlap)
		}
		if !tc.overlap {
			continue
		}
		got := u * (1 - (1-400/u)*(1-300/u)*(1-200/u))
		if math.Abs(got-tc.union) > 1e-6*tc.union {
			t.Errorf("%s: U=%g gives union %g, want %g", tc.name, u, got, tc.union)
		}
	}
	// Two units of 500 in 1000 independently: union 750 gives U = 1000.
	u, _ := solveUniverse([]Unit{{Users: 500}, {Users: 500}}, 750, 1000, 500)
	if math.Abs(u-1000) > 1e-6 {
		t.Errorf("U = %g, want 1000", u)
	}
}

func TestCap(t *testing.T) {
	d := nbd{3, 0.8}
	// E[min(X, c)] from the pmf directly.
	var p [Levels + 1]float64
	d.pmf(&p)
	for _, c := range []int{1, 2, 5, Levels} {
		var want float64
		for x := 1; x <= Levels; x++ {
			want += float64(min(x, c)) * p[x]
		}
		if got := d.capped(c); math.Abs(got-want) > 1e-9 {
			t.Errorf("E[min(X, %d)] = %g, want %g", c, got, want)
		}
	}
	if got := d.capped(1); math.Abs(got-d.reached()) > 1e-12 {
		t.Errorf("E[min(X, 1)] = %g, want P(X>0) = %g", got, d.reached())
	}
	// The same impressions under a cap reach more people, and deliver
	// exactly the impressions asked for.
	u := nbdUnit("u", 1e5, 1.5, 0.8)
	md, err := Fit(single(u))
	if err != nil {
		t.Fatal(err)
	}
	imp := float64(u.Impressions)
	free, err := md.Predict([]float64{imp}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{2, 3, 5} {
		capped, err := md.Predict([]float64{imp}, c)
		if err != nil {
			t.Fatal(err)
		}
		if capped.Reach <= free.Reach {
			t.Errorf("cap %d: reach %.0f, not above uncapped %.0f", c, capped.Reach, free.Reach)
		}
		if capped.AtLeast[c] != 0 {
			t.Errorf("cap %d: %.0f users above the cap", c, capped.AtLeast[c])
		}
		var served float64
		for f := 1; f <= c; f++ {
			served += capped.AtLeast[f-1]
		}
		if math.Abs(served/imp-1) > 1e-6 {
			t.Errorf("cap %d: serves %.0f impressions, want %.0f", c, served, imp)
		}
	}
	// More than the cap can deliver is clamped to 99 % of universe × cap.
	over, err := md.Predict([]float64{1e9}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if over.Reach > md.Units[0].Universe || math.IsNaN(over.Reach) {
		t.Errorf("reach %.0f above the universe %.0f", over.Reach, md.Units[0].Universe)
	}
}

func TestModelReproducesUnion(t *testing.T) {
	a, b := nbdUnit("a", 2e5, 1.5, 0.6), nbdUnit("b", 1e5, 3, 1.5)
	union := a.Users + b.Users*7/10
	freq := add(a.Frequency, b.Frequency) // not exact: a diagnostic only
	var s int64
	for _, v := range freq {
		s += v
	}
	freq[0] -= s - union
	md, err := Fit(Input{Units: []Unit{a, b}, Union: union, UnionFrequency: freq})
	if err != nil {
		t.Fatal(err)
	}
	if got := md.PredictedAtLeast[0]; math.Abs(got-float64(union)) > 1e-6*float64(union) {
		t.Errorf("model union %.1f, measured %d", got, union)
	}
	if md.MeasuredAtLeast[0] != union {
		t.Errorf("measured at least 1: %d, want %d", md.MeasuredAtLeast[0], union)
	}
}

func TestPredictErrors(t *testing.T) {
	md, err := Fit(single(nbdUnit("u", 1e4, 2, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		imps []float64
		cap  int
	}{
		{[]float64{1, 2}, 0},
		{[]float64{-1}, 0},
		{[]float64{math.NaN()}, 0},
		{[]float64{10}, 21},
	} {
		_, err := md.Predict(tc.imps, tc.cap)
		var e *admeter.Error
		if !errors.As(err, &e) || e.Code != admeter.EINVALID {
			t.Errorf("Predict(%v, %d): %v, want EINVALID", tc.imps, tc.cap, err)
		}
	}
}
