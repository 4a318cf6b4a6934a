package mediaplan

import (
	"fmt"
	"math"
	"slices"

	"github.com/admeter/admeter"
)

// Levels is the number of frequency levels the model tracks: 1 to Levels,
// the last one meaning Levels or more (store.MaxReachFrequency).
const Levels = 20

// Bounds and thresholds of the fit (see doc.go).
const (
	kMin = 1e-3 // the log-series limit: more single exposures cannot be fitted
	kMax = 1e3  // the Poisson limit: fewer cannot be fitted
	// minFitUsers is the fewest users whose share seen once is trusted to
	// fit k; smaller units take the median k of the others.
	minFitUsers = 50
	// noOverlapFactor is the universe, in multiples of the units' summed
	// reach, that stands for "no overlap" (an infinite universe).
	noOverlapFactor = 1e6
)

// Fit methods, as UnitFit.Method reports them.
const (
	FitNBD    = "nbd"      // m and k fitted to the mean and the share seen once
	FitKMin   = "k_min"    // more users seen once than any NBD gives: k at its lower bound
	FitKMax   = "k_max"    // fewer users seen once than a Poisson gives: k at its upper bound
	FitPooled = "pooled_k" // too few users to fit k: the median k of the other units
	FitEmpty  = "empty"    // no users: the unit reaches no one at any scale
	// FitOneOff: more users seen once than any NBD gives, fitted as an
	// NBD plus one-off users (identifiers never seen again, such as
	// cookie-less browsers) whose number grows with impressions.
	FitOneOff = "nbd_one_off"
)

// UnitFit is the exposure model of one unit: each person of a universe of
// Universe people sees the unit's ad X ~ NBD(M, K) times over the range.
type UnitFit struct {
	Key      string  `json:"key"`
	Method   string  `json:"method"`
	M        float64 `json:"m"`
	K        float64 `json:"k"`
	Universe float64 `json:"universe"`
	// OneOff is the users of the one-off component at the measured
	// Impressions (0 unless Method is FitOneOff); at other impressions it
	// scales with them.
	OneOff      float64 `json:"one_off"`
	Impressions float64 `json:"impressions"`
	// Check compares, among the users reached, the observed share seen
	// exactly 2 times, exactly 3 times and 5 times or more with the
	// model's (the fit reproduces the mean and the share seen once).
	Check []FitCheck `json:"check"`
}

// FitCheck is one goodness-of-fit figure: the share of a unit's (or the
// union's) users at a frequency level, observed and predicted.
type FitCheck struct {
	Level     string  `json:"level"` // "2", "3", "5+"
	Observed  float64 `json:"observed"`
	Predicted float64 `json:"predicted"`
}

// Model is the fitted reach model of a set of units: an NBD exposure model
// per unit, combined by independence within an effective universe fitted to
// the measured deduplicated reach. Fit builds it; Predict uses it.
type Model struct {
	Units []UnitFit `json:"units"`
	// Universe is the effective universe U of the combination; when
	// Overlap is false the units' audiences did not overlap at all and U
	// stands for an infinite universe.
	Universe float64 `json:"universe"`
	Overlap  bool    `json:"overlap"`
	// MeasuredAtLeast and PredictedAtLeast are the union's users reached
	// f or more times, f = 1 to Levels, measured and as the model gives
	// them at the measured impressions: the model reproduces f = 1
	// exactly by construction, the rest is a diagnostic.
	MeasuredAtLeast  []int64   `json:"measured_at_least"`
	PredictedAtLeast []float64 `json:"predicted_at_least"`

	impressions []float64 // measured, per unit
}

// Prediction is what the model expects of an allocation.
type Prediction struct {
	// Reach is the deduplicated reach of all the units.
	Reach float64 `json:"reach"`
	// AtLeast[f-1] is the number of users reached f or more times across
	// the units, f = 1 to Levels; AtLeast[0] is Reach.
	AtLeast []float64 `json:"at_least"`
	// Units is each unit's own reach.
	Units []float64 `json:"units"`
}

// nbd is the NBD distribution with mean m and shape k.
type nbd struct{ m, k float64 }

// p0 returns P(X = 0) = (1 + m/k)^-k.
func (d nbd) p0() float64 { return math.Exp(-d.k * math.Log1p(d.m/d.k)) }

// reached returns P(X > 0), accurate for small m.
func (d nbd) reached() float64 { return -math.Expm1(-d.k * math.Log1p(d.m/d.k)) }

// pmf fills p[x] = P(X = x) for x < Levels and p[Levels] = P(X ≥ Levels).
func (d nbd) pmf(p *[Levels + 1]float64) {
	if d.m <= 0 {
		*p = [Levels + 1]float64{0: 1}
		return
	}
	a := d.m / d.k
	r := a / (1 + a)
	p[0] = d.p0()
	sum := p[0]
	for x := 1; x < Levels; x++ {
		p[x] = p[x-1] * (d.k + float64(x) - 1) / float64(x) * r
		sum += p[x]
	}
	p[Levels] = max(0, 1-sum)
}

// capped returns E[min(X, c)] for c ≥ 1 (c ≤ Levels), or the mean for c = 0.
func (d nbd) capped(c int) float64 {
	if c <= 0 {
		return d.m
	}
	var p [Levels + 1]float64
	d.pmf(&p)
	e, above := 0.0, 1.0 // above = P(X > x)
	for x := 0; x < c; x++ {
		above -= p[x]
		e += max(0, above)
	}
	return e
}

// truncMean returns E[X | X > 0] = m / P(X > 0).
func (d nbd) truncMean() float64 {
	if d.m <= 0 {
		return 1
	}
	return d.m / d.reached()
}

// onceShare returns P(X = 1 | X > 0).
func (d nbd) onceShare() float64 {
	a := d.m / d.k
	lp1 := math.Log(d.k) + math.Log(a) - (d.k+1)*math.Log1p(a)
	return math.Exp(lp1) / d.reached()
}

// bisect returns x in [lo, hi] where f changes from below target to above
// it, f increasing, searching in log space.
func bisect(lo, hi float64, f func(float64) float64, target float64) float64 {
	llo, lhi := math.Log(lo), math.Log(hi)
	for range 100 {
		mid := (llo + lhi) / 2
		if f(math.Exp(mid)) < target {
			llo = mid
		} else {
			lhi = mid
		}
		if lhi-llo < 1e-12 {
			break
		}
	}
	return math.Exp((llo + lhi) / 2)
}

// mForMean returns the m of NBD(m, k) whose zero-truncated mean is t ≥ 1.
func mForMean(t, k float64) float64 {
	if t <= 1 {
		return 0
	}
	// The truncated mean rises from 1 (m → 0) and m ≤ t.
	return bisect(t*1e-12, t, func(m float64) float64 { return nbd{m, k}.truncMean() }, t)
}

// fitUnit fits NBD(m, k) and the universe to a unit's reach, impressions
// and share seen once; k < 0 fits k too, k > 0 takes it as given.
func fitUnit(users, impressions, once, k float64) (nbd, string) {
	t := impressions / users
	if t <= 1 {
		// Everyone seen once: a continuity correction of half an
		// impression keeps the universe finite (reach grows almost
		// linearly with impressions, see doc.go).
		t = 1 + 0.5/users
	}
	if k > 0 {
		return nbd{mForMean(t, k), k}, FitPooled
	}
	share := once / users
	at := func(k float64) float64 { return nbd{mForMean(t, k), k}.onceShare() }
	switch {
	case share >= at(kMin):
		return nbd{mForMean(t, kMin), kMin}, FitKMin
	case share <= at(kMax):
		return nbd{mForMean(t, kMax), kMax}, FitKMax
	}
	// The share seen once falls as k rises: bisect on -share.
	k = bisect(kMin, kMax, func(k float64) float64 { return -at(k) }, -share)
	return nbd{mForMean(t, k), k}, FitNBD
}

// Fit fits the reach model to the measured units of in (Units, Union and
// UnionFrequency; the planning fields are not used). It returns an
// EINVALID error for input that cannot be measured data (see Input).
func Fit(in Input) (*Model, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	return fit(&in), nil
}

// fit fits a validated input.
func fit(in *Input) *Model {
	n := len(in.Units)
	md := &Model{Units: make([]UnitFit, n), impressions: make([]float64, n)}
	var ks []float64
	for i := range in.Units {
		u := &in.Units[i]
		f := &md.Units[i]
		f.Key = u.Key
		md.impressions[i] = float64(u.Impressions)
		if u.Users == 0 {
			f.Method = FitEmpty
			continue
		}
		if u.Users < minFitUsers {
			continue // after the others: takes their median k
		}
		d, method := fitUnit(float64(u.Users), float64(u.Impressions), float64(u.Frequency[0]), -1)
		f.M, f.K, f.Method = d.m, d.k, method
		ks = append(ks, d.k)
	}
	pooled := 1.0
	if len(ks) > 0 {
		slices.Sort(ks)
		pooled = ks[len(ks)/2]
	}
	var sumR, maxR float64
	for i := range in.Units {
		u := &in.Units[i]
		f := &md.Units[i]
		if u.Users == 0 {
			continue
		}
		if f.Method == "" {
			d, method := fitUnit(float64(u.Users), float64(u.Impressions), float64(u.Frequency[0]), pooled)
			f.M, f.K, f.Method = d.m, d.k, method
		}
		f.Impressions = float64(u.Impressions)
		if f.Method == FitKMin && u.Users >= minFitUsers {
			fitOneOff(u, f)
		}
		d := nbd{f.M, f.K}
		f.Universe = (float64(u.Users) - f.OneOff) / d.reached()
		f.Check = checks(u.Frequency, float64(u.Users), md.state(i, f.Impressions, 0).trunc)
		sumR += float64(u.Users)
		maxR = max(maxR, float64(u.Users))
	}
	md.Universe, md.Overlap = solveUniverse(in.Units, float64(in.Union), sumR, maxR)
	md.MeasuredAtLeast = atLeast(in.UnionFrequency)
	p := md.predict(md.impressions, 0)
	md.PredictedAtLeast = p.AtLeast
	return md
}

// fitOneOff refits a unit whose share seen once no NBD reaches as an NBD
// plus z one-off users: z is chosen so that the NBD fitted to the rest
// (mean and share seen once) also gives the observed share seen twice.
func fitOneOff(u *Unit, f *UnitFit) {
	users, imp := float64(u.Users), float64(u.Impressions)
	f1, f2 := float64(u.Frequency[0]), float64(u.Frequency[1])
	best := math.Inf(1)
	const grid = 200
	for j := 1; j < grid; j++ {
		z := f1 * float64(j) / grid
		r := users - z
		if r < minFitUsers || f1-z <= 0 {
			break
		}
		d, method := fitUnit(r, imp-z, f1-z, -1)
		if method != FitNBD {
			continue
		}
		var p [Levels + 1]float64
		d.pmf(&p)
		if diff := math.Abs(p[2]/d.reached() - f2/r); diff < best {
			best = diff
			f.M, f.K, f.OneOff, f.Method = d.m, d.k, z, FitOneOff
		}
	}
}

// checks compares the observed shares at 2, 3 and 5+ of a frequency
// distribution of users reached with the model's zero-truncated ones.
func checks(freq []int64, users float64, trunc dist) []FitCheck {
	var obs5, pred5 float64
	for x := 5; x <= Levels; x++ {
		obs5 += float64(freq[x-1])
		pred5 += trunc[x]
	}
	return []FitCheck{
		{Level: "2", Observed: float64(freq[1]) / users, Predicted: trunc[2]},
		{Level: "3", Observed: float64(freq[2]) / users, Predicted: trunc[3]},
		{Level: "5+", Observed: obs5 / users, Predicted: pred5},
	}
}

// atLeast returns the users at f or more, f = 1 to Levels, of a frequency
// distribution (nil or Levels entries).
func atLeast(freq []int64) []int64 {
	out := make([]int64, Levels)
	var s int64
	for f := len(freq); f >= 1; f-- {
		s += freq[f-1]
		out[f-1] = s
	}
	return out
}

// solveUniverse returns the U of U·(1 − Π(1 − R_i/U)) = union, and whether
// the units overlap at all.
func solveUniverse(units []Unit, union, sumR, maxR float64) (float64, bool) {
	if sumR == 0 {
		return 0, false
	}
	unionAt := func(u float64) float64 {
		var l float64
		for i := range units {
			if r := float64(units[i].Users); r > 0 {
				l += math.Log1p(-min(r/u, 1))
			}
		}
		return -u * math.Expm1(l)
	}
	big := noOverlapFactor * sumR
	var n int
	for i := range units {
		if units[i].Users > 0 {
			n++
		}
	}
	switch {
	case n <= 1:
		return big, false // one audience: nothing to overlap
	case union <= maxR:
		return maxR, true
	case union >= unionAt(big):
		return big, false
	}
	return bisect(maxR, big, unionAt, union), true
}

// dist is a per-person exposure distribution over a universe: dist[x] is
// the share of people exposed x times (x < Levels), dist[Levels] Levels or
// more.
type dist [Levels + 1]float64

// unitState is a unit at some impressions and cap: its NBD intensity, its
// reach and its zero-truncated frequency distribution (trunc[0] is 0).
type unitState struct {
	m     float64
	reach float64
	trunc dist
}

// state returns unit i of md delivering imp impressions under cap c (0:
// none). Impressions a cap cannot deliver (more than the unit's universe
// times c) are clamped to what it can.
func (md *Model) state(i int, imp float64, c int) unitState {
	f := &md.Units[i]
	if imp <= 0 || f.Method == FitEmpty || f.Universe <= 0 {
		return unitState{}
	}
	var z float64 // one-off users, as many as their impressions
	if f.OneOff > 0 && f.Impressions > 0 {
		z = f.OneOff * imp / f.Impressions
		imp -= z
	}
	m := imp / f.Universe
	if c > 0 {
		m = solveCapped(nbd{f.M, f.K}, c, m)
	}
	d := nbd{m, f.K}
	var p [Levels + 1]float64
	d.pmf(&p)
	if c > 0 && c < Levels {
		for x := c + 1; x <= Levels; x++ {
			p[c] += p[x]
			p[x] = 0
		}
	}
	r := d.reached()
	s := unitState{m: m, reach: f.Universe*r + z}
	for x := 1; x <= Levels; x++ {
		s.trunc[x] = f.Universe * p[x] / s.reach
	}
	s.trunc[1] += z / s.reach
	return s
}

// universeFor returns the effective universe of an allocation: the fitted
// one, or the largest unit's reach when a unit grows beyond it (the
// universe holds everyone any unit reaches).
func (md *Model) universeFor(st []unitState) float64 {
	u := md.Universe
	for i := range st {
		u = max(u, st[i].reach)
	}
	return u
}

// person returns the per-person exposure distribution of a unit in a
// universe of u people: 1 − R/u at zero, the unit's zero-truncated
// distribution scaled by R/u elsewhere.
func (s *unitState) person(u float64) dist {
	if s.reach <= 0 || u <= 0 {
		return dist{0: 1}
	}
	share := min(s.reach/u, 1)
	d := dist{0: 1 - share}
	for x := 1; x <= Levels; x++ {
		d[x] = share * s.trunc[x]
	}
	return d
}

// solveCapped returns the intensity m' with E[min(X_m', c)] = target, the
// mean served per person of the universe; target is clamped below c.
func solveCapped(d nbd, c int, target float64) float64 {
	target = min(target, float64(c)*(1-1e-9))
	if target <= 0 {
		return 0
	}
	// E[min(X, c)] ≤ m, so m' ≥ target; it is finite below c.
	hi := target
	for (nbd{hi, d.k}).capped(c) < target {
		hi *= 2
		if hi > 1e12 {
			break
		}
	}
	return bisect(target, hi, func(m float64) float64 { return nbd{m, d.k}.capped(c) }, target)
}

// maxImpressions returns the most impressions unit i can deliver under cap
// c: all it wants without a cap, 99 % of its universe times c with one.
func (md *Model) maxImpressions(i, c int) float64 {
	if c <= 0 {
		return math.Inf(1)
	}
	return 0.99 * md.Units[i].Universe * float64(c)
}

// convolve returns the distribution of the sum of independent exposures
// with distributions a and b, Levels or more in the last entry.
func convolve(a, b *dist) dist {
	var out dist
	for x, pa := range a {
		if pa == 0 {
			continue
		}
		for y, pb := range b {
			out[min(x+y, Levels)] += pa * pb
		}
	}
	return out
}

// Predict returns the model's reach for an allocation: impressions[i] for
// unit i (with a user, as measured), each unit capped at cap impressions per
// user over the range (0: no cap). It returns an EINVALID error for a wrong
// number of units, a negative or non-finite count, or a cap outside 0 to
// Levels.
func (md *Model) Predict(impressions []float64, cap int) (*Prediction, error) {
	if len(impressions) != len(md.Units) {
		return nil, admeter.Errorf(admeter.EINVALID, "predict: %d impressions for %d units; give one per unit, in order", len(impressions), len(md.Units))
	}
	for i, v := range impressions {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, admeter.Errorf(admeter.EINVALID, "predict: impressions of unit %d are %v; give a count of 0 or more", i, v)
		}
	}
	if cap < 0 || cap > Levels {
		return nil, admeter.Errorf(admeter.EINVALID, "predict: cap %d is outside 0 to %d", cap, Levels)
	}
	return md.predict(impressions, cap), nil
}

// predict is Predict without the checks.
func (md *Model) predict(impressions []float64, c int) *Prediction {
	caps := make([]int, len(impressions))
	for i := range caps {
		caps[i] = c
	}
	return md.predictCaps(impressions, caps)
}

// predictCaps predicts impressions[i] on unit i under cap caps[i].
func (md *Model) predictCaps(impressions []float64, caps []int) *Prediction {
	p := &Prediction{AtLeast: make([]float64, Levels), Units: make([]float64, len(md.Units))}
	st := make([]unitState, len(impressions))
	for i, imp := range impressions {
		st[i] = md.state(i, imp, caps[i])
		p.Units[i] = st[i].reach
	}
	u := md.universeFor(st)
	total := dist{0: 1}
	for i := range st {
		d := st[i].person(u)
		total = convolve(&total, &d)
	}
	var tail float64
	for x := Levels; x >= 1; x-- {
		tail += total[x]
		p.AtLeast[x-1] = u * tail
	}
	p.Reach = p.AtLeast[0]
	return p
}

// String describes a fit for logs and test failures.
func (f UnitFit) String() string {
	return fmt.Sprintf("%s: %s m=%.4g k=%.4g N=%.0f", f.Key, f.Method, f.M, f.K, f.Universe)
}
