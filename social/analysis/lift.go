package analysis

import (
	"fmt"
	"math"
)

// liftMethod describes how Lift is estimated, for the report.
const liftMethod = "Rate ratio of brand mentions per day, during delivery over before it, with a quasi-Poisson 95% interval: " +
	"log ratio ± t(n−2) · sqrt(φ · (1/during + 1/before)), φ = max(1, Pearson χ² of the daily counts around their period's mean / (n − 2)) over the n days before and during delivery."

// minBeforeDays is the fewest days before delivery a lift is estimated on.
const minBeforeDays = 3

// align compares brand mentions before, during and after delivery.
func (a *analysis) align() *Alignment {
	al := &Alignment{}
	first, last := -1, -1
	for d, date := range a.days {
		if n := a.in.Delivery[date]; n > 0 {
			if first < 0 {
				first = d
			}
			last = d
			al.Impressions += n
		}
	}
	if first < 0 {
		al.Lift = Lift{Method: liftMethod, Insufficient: true, Reason: "the campaign has no impressions in the report's range"}
		return al
	}
	al.DeliveryFrom, al.DeliveryTo = a.date(first), a.date(last)

	daily := make([]int64, len(a.days))
	var total acc
	periods := [3]acc{}
	periodOf := func(d int) int {
		switch {
		case d < first:
			return 0
		case d <= last:
			return 1
		}
		return 2
	}
	for i := range a.recs {
		r := &a.recs[i]
		if !r.brand {
			continue
		}
		daily[r.day]++
		total.add(r)
		periods[periodOf(r.day)].add(r)
	}
	// The brands' total is published when there is one brand: complement
	// the periods against it whenever it could be.
	total.suppressed = a.priv.below(total.authors)
	a.priv.series(&total, []*acc{&periods[0], &periods[1], &periods[2]})
	bounds := [3][2]int{{0, first - 1}, {first, last}, {last + 1, len(a.days) - 1}}
	out := [3]*Period{&al.Before, &al.During, &al.After}
	for i, p := range out {
		p.Days = bounds[i][1] - bounds[i][0] + 1
		if p.Days > 0 {
			p.From, p.To = a.date(bounds[i][0]), a.date(bounds[i][1])
		}
		p.Cell = periods[i].cell()
		if !periods[i].suppressed && p.Days > 0 {
			v := float64(periods[i].c.Mentions) / float64(p.Days)
			p.PerDay = &v
		}
	}

	switch {
	case first < minBeforeDays:
		al.Lift = Lift{Method: liftMethod, Insufficient: true,
			Reason: fmt.Sprintf("%d days before delivery in the range; a lift needs at least %d: start the report earlier", first, minBeforeDays)}
	case periods[0].suppressed || periods[1].suppressed:
		al.Lift = Lift{Method: liftMethod, Insufficient: true,
			Reason: fmt.Sprintf("the mentions before or during delivery come from fewer than %d authors", a.k)}
	case periods[0].c.Mentions == 0:
		al.Lift = Lift{Method: liftMethod, Insufficient: true, Reason: "no brand mentions before delivery"}
	case periods[1].c.Mentions == 0:
		al.Lift = Lift{Method: liftMethod, Insufficient: true, Reason: "no brand mentions during delivery"}
	default:
		al.Lift = rateRatio(daily[:first], daily[first:last+1])
	}
	return al
}

// rateRatio estimates the ratio of the mean daily count of during to that
// of before, with a quasi-Poisson 95% confidence interval. Both need a
// positive sum, before at least one day and the two together at least
// three.
func rateRatio(before, during []int64) Lift {
	sum := func(xs []int64) float64 {
		s := 0.0
		for _, x := range xs {
			s += float64(x)
		}
		return s
	}
	b, d := sum(before), sum(during)
	mb, md := b/float64(len(before)), d/float64(len(during))
	chi2 := 0.0
	for _, x := range before {
		chi2 += (float64(x) - mb) * (float64(x) - mb) / mb
	}
	for _, x := range during {
		chi2 += (float64(x) - md) * (float64(x) - md) / md
	}
	df := len(before) + len(during) - 2
	phi := math.Max(1, chi2/float64(df))
	se := math.Sqrt(phi * (1/d + 1/b))
	q := tQuantile975(df)
	lr := math.Log(md / mb)
	return Lift{Ratio: md / mb, Low: math.Exp(lr - q*se), High: math.Exp(lr + q*se), Dispersion: phi, Method: liftMethod}
}

// tQuantile975 returns the 97.5th percentile of Student's t with df degrees
// of freedom, by the Cornish–Fisher expansion around the normal's 1.959964
// (within 0.1% of the exact value for df ≥ 3, 2% at df = 1).
func tQuantile975(df int) float64 {
	const z = 1.959963984540054
	v := float64(df)
	z3, z5, z7, z9 := z*z*z, math.Pow(z, 5), math.Pow(z, 7), math.Pow(z, 9)
	g1 := (z3 + z) / 4
	g2 := (5*z5 + 16*z3 + 3*z) / 96
	g3 := (3*z7 + 19*z5 + 17*z3 - 15*z) / 384
	g4 := (79*z9 + 776*z7 + 1482*z5 - 1920*z3 - 945*z) / 92160
	return z + g1/v + g2/(v*v) + g3/(v*v*v) + g4/(v*v*v*v)
}
