package benchmark

import (
	"slices"
	"strings"

	"github.com/admeter/admeter"
)

// The default and least strict rules.
const (
	DefaultMinTenants = 5
	DefaultMinUsers   = 50
	DefaultMaxShare   = 0.30
)

// Rules are the aggregation rules a published cell passes (see the package
// documentation).
type Rules struct {
	// MinTenants is the least number of tenants of a cell and of each of
	// its measures: at least DefaultMinTenants.
	MinTenants int
	// MinUsers (k) is the least lower bound of a cell's distinct users: at
	// least DefaultMinUsers.
	MinUsers int64
	// MaxShare is the largest share of a cell's (or a measure's) volume one
	// tenant may hold: above 0 and at most DefaultMaxShare.
	MaxShare float64
}

// DefaultRules returns the least strict rules allowed.
func DefaultRules() Rules {
	return Rules{MinTenants: DefaultMinTenants, MinUsers: DefaultMinUsers, MaxShare: DefaultMaxShare}
}

// Validate returns an EINVALID error when r is less strict than the
// defaults allow.
func (r Rules) Validate() error {
	switch {
	case r.MinTenants < DefaultMinTenants:
		return admeter.Errorf(admeter.EINVALID, "min_tenants is %d; a benchmark cell needs at least %d tenants (it may only be raised)", r.MinTenants, DefaultMinTenants)
	case r.MinUsers < DefaultMinUsers:
		return admeter.Errorf(admeter.EINVALID, "min_users is %d; a benchmark cell needs at least %d users (it may only be raised)", r.MinUsers, DefaultMinUsers)
	case !(r.MaxShare > 0 && r.MaxShare <= DefaultMaxShare):
		return admeter.Errorf(admeter.EINVALID, "max_share is %v; one tenant may hold at most %v of a cell (it may only be lowered, above 0)", r.MaxShare, DefaultMaxShare)
	}
	return nil
}

// Stricter returns r tightened by o: the larger minimums and the smaller
// share; zero fields of o change nothing.
func (r Rules) Stricter(o Rules) Rules {
	r.MinTenants = max(r.MinTenants, o.MinTenants)
	r.MinUsers = max(r.MinUsers, o.MinUsers)
	if o.MaxShare > 0 && o.MaxShare < r.MaxShare {
		r.MaxShare = o.MaxShare
	}
	return r
}

// Contribution is one tenant's traffic in one cell (or one campaign's in
// one media), as exact counts.
type Contribution struct {
	Tenant admeter.TenantID
	// Impressions and Clicks are valid traffic; InvalidImpressions the
	// invalid impressions.
	Impressions, Clicks, InvalidImpressions int64
	// Measurable and Viewable are valid impressions with a viewability
	// result, and those found viewable.
	Measurable, Viewable int64
	// Reach and ReachImpressions are summed over campaigns: each
	// campaign's distinct users in the cell's placements, and their
	// impressions (store.FrequencyResult).
	Reach, ReachImpressions int64
	// MaxReach is the largest reach of one campaign in the cell: a lower
	// bound on the cell's distinct users.
	MaxReach int64
}

// Add adds o's counts to c (Tenant is left as it is).
func (c *Contribution) Add(o Contribution) {
	c.Impressions += o.Impressions
	c.Clicks += o.Clicks
	c.InvalidImpressions += o.InvalidImpressions
	c.Measurable += o.Measurable
	c.Viewable += o.Viewable
	c.Reach += o.Reach
	c.ReachImpressions += o.ReachImpressions
	c.MaxReach = max(c.MaxReach, o.MaxReach)
}

// gross is all of c's impressions, valid or not.
func (c Contribution) gross() int64 { return c.Impressions + c.InvalidImpressions }

// Ratio returns the numerator and denominator of a measure (one of
// admeter.BenchmarkMeasures) in c; ok is false for an unknown measure.
func (c Contribution) Ratio(measure string) (num, den int64, ok bool) {
	switch measure {
	case admeter.MeasureCTR:
		return c.Clicks, c.Impressions, true
	case admeter.MeasureViewableRate:
		return c.Viewable, c.Measurable, true
	case admeter.MeasureIVTRate:
		return c.InvalidImpressions, c.gross(), true
	case admeter.MeasureFrequency:
		return c.ReachImpressions, c.Reach, true
	}
	return 0, 0, false
}

// Value returns c's own value of a measure, and false when c has no
// denominator for it.
func (c Contribution) Value(measure string) (float64, bool) {
	num, den, ok := c.Ratio(measure)
	if !ok || den == 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// Why a cell is withheld.
const (
	WithheldTenants   = "tenants"   // fewer than MinTenants tenants
	WithheldUsers     = "users"     // fewer than MinUsers users (lower bound)
	WithheldDominance = "dominance" // one tenant holds more than MaxShare of the impressions
)

// Cell applies r to the contributions of one cell, one per tenant (those
// without impressions are ignored; a tenant given twice is merged). It
// returns the cell to publish, or "" and the reason it is withheld
// (WithheldTenants, WithheldUsers or WithheldDominance).
func Cell(r Rules, industry admeter.Industry, media string, contribs []Contribution) (admeter.BenchmarkCell, string) {
	byTenant := map[admeter.TenantID]*Contribution{}
	var order []admeter.TenantID
	for _, c := range contribs {
		if c.gross() == 0 {
			continue
		}
		if cur, ok := byTenant[c.Tenant]; ok {
			cur.Add(c)
			continue
		}
		c := c
		byTenant[c.Tenant] = &c
		order = append(order, c.Tenant)
	}
	cs := make([]Contribution, 0, len(order))
	for _, id := range order {
		cs = append(cs, *byTenant[id])
	}
	if len(cs) < r.MinTenants {
		return admeter.BenchmarkCell{}, WithheldTenants
	}
	var maxReach int64
	for _, c := range cs {
		maxReach = max(maxReach, c.MaxReach)
	}
	if maxReach < r.MinUsers {
		return admeter.BenchmarkCell{}, WithheldUsers
	}
	if dominated(cs, r.MaxShare, Contribution.gross) {
		return admeter.BenchmarkCell{}, WithheldDominance
	}
	cell := admeter.BenchmarkCell{Industry: industry, Media: media, Tenants: len(cs)}
	for _, m := range admeter.BenchmarkMeasures {
		*cell.Value(m) = measure(r, cs, m)
	}
	return cell, ""
}

// dominated reports whether one contribution holds more than share of the
// total of size.
func dominated(cs []Contribution, share float64, size func(Contribution) int64) bool {
	var total, top int64
	for _, c := range cs {
		n := size(c)
		total += n
		top = max(top, n)
	}
	return total == 0 || float64(top) > share*float64(total)
}

// measure returns one measure of a cell: withheld (zero) unless MinTenants
// tenants have a denominator and none dominates it.
func measure(r Rules, cs []Contribution, m string) admeter.BenchmarkValue {
	var have []Contribution
	var values []float64
	var num, den int64
	for _, c := range cs {
		v, ok := c.Value(m)
		if !ok {
			continue
		}
		n, d, _ := c.Ratio(m)
		num, den = num+n, den+d
		have = append(have, c)
		values = append(values, v)
	}
	if len(have) < r.MinTenants || dominated(have, r.MaxShare, func(c Contribution) int64 { _, d, _ := c.Ratio(m); return d }) {
		return admeter.BenchmarkValue{}
	}
	slices.Sort(values)
	return admeter.BenchmarkValue{Tenants: len(have), Pooled: float64(num) / float64(den),
		P25: Quartile(values, 1), P50: Quartile(values, 2), P75: Quartile(values, 3)}
}

// Quartile returns quartile q (1, 2 or 3) of sorted, which must hold at
// least 5 values: at position q/4·(n−1), interpolated linearly between the
// two values around it, or, when the position falls on one value, the mean
// of it and its two neighbours, so that it is never one value alone.
func Quartile(sorted []float64, q int) float64 {
	n := len(sorted)
	pos := q * (n - 1) // the position times 4
	i, frac := pos/4, pos%4
	if frac == 0 {
		return (sorted[i-1] + sorted[i] + sorted[i+1]) / 3
	}
	return sorted[i] + float64(frac)/4*(sorted[i+1]-sorted[i])
}

// Position is where a value stands against a published measure.
type Position string

// The positions: below p25, p25 to p50, p50 to p75, above p75. A value equal
// to a quartile is in the band below it (p25 itself is p25_p50's lower
// end, p50 and p75 the upper ends of their bands).
const (
	BelowP25 Position = "below_p25"
	P25ToP50 Position = "p25_p50"
	P50ToP75 Position = "p50_p75"
	AboveP75 Position = "above_p75"
)

// PositionOf returns where v stands against b, which must be published.
func PositionOf(v float64, b admeter.BenchmarkValue) Position {
	switch {
	case v < b.P25:
		return BelowP25
	case v <= b.P50:
		return P25ToP50
	case v <= b.P75:
		return P50ToP75
	}
	return AboveP75
}

// MediaKey returns the cell key of a placement's media: trimmed and
// lowercased, so that "Douyin" and "douyin " pool together.
func MediaKey(media string) string { return strings.ToLower(strings.TrimSpace(media)) }
