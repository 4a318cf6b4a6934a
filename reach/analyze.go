package reach

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DefaultLevels are the effective-frequency levels of a report whose Input
// names none.
var DefaultLevels = []int{1, 2, 3, 4, 5, 10}

// Group is one group of a reach report: a medium or a placement.
type Group struct {
	// Key is the medium's name or the placement's id; keys are unique and
	// not empty. Name is what to show: the placement's name, or Key for a
	// medium.
	Key, Name string
	// Cost is what the group's delivery in the range cost, in millionths
	// of CNY (admeter.MicroCNY). Costed is false when a placement of the
	// group has no price: its cost is unknown, which is not zero, and
	// Cost is ignored.
	Cost   int64
	Costed bool
	// Billed is the impressions Cost pays for: all the group's counted
	// impressions, with a user or without. The cost of waste is
	// Cost × Waste / Billed, the share of the budget spent on impressions
	// beyond the frequency threshold.
	Billed int64
}

// Input is what Analyze computes a report from.
type Input struct {
	// Groups[i] is group i of Sets (bit i of a set's Mask).
	Groups []Group
	// Sets are the store's answer for the groups (store.Store.ReachSets).
	Sets *store.ReachSetResult
	// WasteAbove is the frequency threshold Sets were queried with; 0
	// when they count no waste.
	WasteAbove int
	// Levels are the effective-frequency levels to report, each from 1 to
	// store.MaxReachFrequency, in any order; nil means DefaultLevels.
	Levels []int
	// MinUsers is the aggregation threshold k: 0 for none (a report of one
	// advertiser's own data), at least 1 when the report combines several
	// advertisers' data (see the package documentation).
	MinUsers int
}

// Report is a cross-media reach report: deduplicated reach, overlap,
// exclusive and incremental reach, frequency waste, effective reach and
// costs per user. A nil pointer field (JSON null) is withheld by the
// aggregation threshold, unknown (a cost of an unpriced group) or
// undefined (a ratio over zero); Withheld counts the first kind.
type Report struct {
	// Threshold is the aggregation threshold k applied, 0 for none.
	Threshold int `json:"threshold"`
	// Withheld is the number of user counts withheld by the threshold
	// (an overlap pair counts once; derived figures withheld with a count
	// are not counted).
	Withheld int `json:"withheld"`
	// WasteAbove is the frequency threshold of waste, 0 when not counted.
	WasteAbove int               `json:"waste_above"`
	Totals     Totals            `json:"totals"`
	Groups     []GroupReport     `json:"groups"`
	Overlap    Overlap           `json:"overlap"`
	Curve      []CurveStep       `json:"curve"`
	Effective  []EffectiveLevel  `json:"effective"`
	Frequency  []FrequencyBucket `json:"frequency"`
}

// Totals are the figures of all the groups together.
type Totals struct {
	// Reach is the deduplicated users; Impressions their impressions;
	// AnonymousImpressions the impressions without a user (counted, in
	// no reach).
	Reach                *int64 `json:"reach"`
	Impressions          int64  `json:"impressions"`
	AnonymousImpressions int64  `json:"anonymous_impressions"`
	// AverageFrequency is Impressions / Reach.
	AverageFrequency *float64 `json:"average_frequency"`
	// GrossReach is the sum of the groups' reach (a user reached by two
	// groups counts twice); Duplication is GrossReach / Reach.
	GrossReach  *int64   `json:"gross_reach"`
	Duplication *float64 `json:"duplication"`
	// Cost is the groups' total cost in millionths of CNY, null unless
	// every group is costed; CPUM is Cost per thousand users (millionths
	// of CNY per thousand users reached).
	Cost *admeter.Money `json:"cost"`
	CPUM *admeter.Money `json:"cpum"`
	// WasteImpressions are the impressions beyond WasteAbove per user
	// across the groups; WasteShare their share of Impressions.
	WasteImpressions int64    `json:"waste_impressions"`
	WasteShare       *float64 `json:"waste_share"`
	// WasteCost is the sum of the groups' WasteCost (null unless every
	// group is costed); WasteBudgetShare its share of Cost.
	WasteCost        *admeter.Money `json:"waste_cost"`
	WasteBudgetShare *float64       `json:"waste_budget_share"`
}

// GroupReport is one group's figures.
type GroupReport struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Reach is the users the group reached; ReachShare its share of the
	// total reach.
	Reach      *int64   `json:"reach"`
	ReachShare *float64 `json:"reach_share"`
	// Impressions are the impressions of those users in the group;
	// AverageFrequency is Impressions / Reach.
	Impressions      int64    `json:"impressions"`
	AverageFrequency *float64 `json:"average_frequency"`
	// ExclusiveReach is the users reached by this group only;
	// ExclusiveShare its share of Reach; DuplicatedReach the users also
	// reached by another group (Reach − ExclusiveReach).
	ExclusiveReach  *int64   `json:"exclusive_reach"`
	ExclusiveShare  *float64 `json:"exclusive_share"`
	DuplicatedReach *int64   `json:"duplicated_reach"`
	// WasteImpressions are the group's impressions beyond the threshold;
	// WasteShare their share of Impressions.
	WasteImpressions int64    `json:"waste_impressions"`
	WasteShare       *float64 `json:"waste_share"`
	// Cost is Group.Cost (null when not costed); CPUM the cost per
	// thousand users reached; CostPerExclusiveUser the cost per user of
	// ExclusiveReach; WasteCost is Cost × WasteImpressions / Billed. All
	// in millionths of CNY.
	Cost                 *admeter.Money `json:"cost"`
	CPUM                 *admeter.Money `json:"cpum"`
	CostPerExclusiveUser *admeter.Money `json:"cost_per_exclusive_user"`
	WasteCost            *admeter.Money `json:"waste_cost"`
}

// Overlap is the overlap matrix between groups, in the order of Groups:
// Users[i][j] are the users reached by both group i and group j (the
// diagonal is each group's reach), Shares[i][j] is Users[i][j] as a share
// of group i's reach (row-normalised). The matrix is symmetric in Users.
type Overlap struct {
	Keys   []string     `json:"keys"`
	Users  [][]*int64   `json:"users"`
	Shares [][]*float64 `json:"shares"`
}

// CurveStep is one step of the incremental reach curve: groups are added
// in the order that adds the most users not yet reached first (ties by
// key).
type CurveStep struct {
	// Step counts from 1.
	Step int    `json:"step"`
	Key  string `json:"key"`
	Name string `json:"name"`
	// IncrementalReach is the users this group adds; CumulativeReach the
	// reach of the groups of steps 1 to Step; CumulativeShare that as a
	// share of the total reach.
	IncrementalReach *int64   `json:"incremental_reach"`
	CumulativeReach  *int64   `json:"cumulative_reach"`
	CumulativeShare  *float64 `json:"cumulative_share"`
	// CumulativeCost is the cost of the groups of steps 1 to Step (null
	// once one is not costed); CostPerIncrementalUser is this group's
	// cost per user it adds.
	CumulativeCost         *admeter.Money `json:"cumulative_cost"`
	CostPerIncrementalUser *admeter.Money `json:"cost_per_incremental_user"`
}

// EffectiveLevel is effective reach at a frequency level: the users with
// Level or more impressions across all the groups, and their share of the
// total reach.
type EffectiveLevel struct {
	Level int      `json:"level"`
	Users *int64   `json:"users"`
	Share *float64 `json:"share"`
}

// FrequencyBucket is one bucket of the frequency distribution of all the
// groups together: the users with exactly Frequency impressions ("1" to
// "19"), or with 20 or more ("20+"), and their share of the total reach.
type FrequencyBucket struct {
	Frequency string   `json:"frequency"`
	Users     *int64   `json:"users"`
	Share     *float64 `json:"share"`
}

// Analyze computes the report of in. It returns an error wrapping an
// EINVALID admeter.Error when in is inconsistent: no Sets, more than
// store.MaxReachGroups groups, an empty or repeated key, a set naming a
// group that is not in Groups (or none), negative counts or costs, a
// frequency distribution that does not count the sets' users, more waste
// than billed impressions, a level outside 1 to store.MaxReachFrequency, or
// a negative threshold. It returns admeter.ErrCostOverflow (wrapped) if a
// cost does not fit in an int64.
func Analyze(in Input) (*Report, error) {
	a, err := newAnalysis(in)
	if err != nil {
		return nil, fmt.Errorf("analyze reach: %w", err)
	}
	r, err := a.report()
	if err != nil {
		return nil, fmt.Errorf("analyze reach: %w", err)
	}
	return r, nil
}

// analysis holds the exact figures of a report before the threshold.
type analysis struct {
	in     Input
	n      int
	k      int64
	levels []int
	sets   []store.ReachSet

	reach, impressions, waste int64
	freq                      []int64 // MaxReachFrequency buckets
	gReach, gImpr, gWaste     []int64
	exclusive                 []int64
	both                      [][]int64
	order                     []int   // curve: group indexes in greedy order
	incr                      []int64 // curve: users added at each step
}

func invalid(format string, args ...any) error {
	return admeter.Errorf(admeter.EINVALID, format, args...)
}

// newAnalysis checks in and computes its exact figures.
func newAnalysis(in Input) (*analysis, error) {
	s := in.Sets
	switch {
	case s == nil:
		return nil, invalid("no reach sets to analyze; query the store first")
	case len(in.Groups) > store.MaxReachGroups:
		return nil, invalid("%d groups; a reach report has at most %d (group by medium, or pick fewer placements)", len(in.Groups), store.MaxReachGroups)
	case in.MinUsers < 0:
		return nil, invalid("aggregation threshold %d is negative", in.MinUsers)
	case in.WasteAbove < 0:
		return nil, invalid("frequency waste threshold %d is negative", in.WasteAbove)
	case s.AnonymousImpressions < 0:
		return nil, invalid("%d anonymous impressions", s.AnonymousImpressions)
	}
	n := len(in.Groups)
	a := &analysis{in: in, n: n, k: int64(in.MinUsers), sets: s.Sets}
	seen := make(map[string]bool, n)
	for i, g := range in.Groups {
		switch {
		case g.Key == "":
			return nil, invalid("group %d has no key", i)
		case seen[g.Key]:
			return nil, invalid("group key %q is repeated; each medium or placement is one group", g.Key)
		case g.Costed && g.Cost < 0:
			return nil, invalid("group %q costs %s, a negative amount", g.Key, admeter.FormatCNY(g.Cost))
		case g.Billed < 0:
			return nil, invalid("group %q billed %d impressions", g.Key, g.Billed)
		}
		seen[g.Key] = true
	}
	levels := in.Levels
	if levels == nil {
		levels = DefaultLevels
	}
	for _, l := range levels {
		if l < 1 || l > store.MaxReachFrequency {
			return nil, invalid("effective frequency level %d is outside 1 to %d", l, store.MaxReachFrequency)
		}
	}
	a.levels = slices.Compact(slices.Sorted(slices.Values(levels)))

	all := uint64(1)<<n - 1
	if n == 64 {
		all = math.MaxUint64
	}
	a.gReach, a.gImpr, a.gWaste, a.exclusive = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	a.both = make([][]int64, n)
	for i := range a.both {
		a.both[i] = make([]int64, n)
	}
	var idx [store.MaxReachGroups]int
	for _, set := range s.Sets {
		switch {
		case set.Mask == 0:
			return nil, invalid("a reach set has no group")
		case set.Mask&^all != 0:
			return nil, invalid("a reach set names group %d; there are %d groups", 63-bits.LeadingZeros64(set.Mask), n)
		case set.Users < 0 || set.Impressions < 0:
			return nil, invalid("reach set %#x has %d users and %d impressions", set.Mask, set.Users, set.Impressions)
		}
		a.reach += set.Users
		a.impressions += set.Impressions
		m := 0
		for b := set.Mask; b != 0; b &= b - 1 {
			idx[m] = bits.TrailingZeros64(b)
			m++
		}
		if m == 1 {
			a.exclusive[idx[0]] += set.Users
		}
		for x := range m {
			row := a.both[idx[x]]
			for y := range m {
				row[idx[y]] += set.Users
			}
		}
	}
	for i := range n {
		a.gReach[i] = a.both[i][i]
	}
	for i, g := range s.Groups {
		if i < 0 || i >= n {
			return nil, invalid("the sets describe group %d; there are %d groups", i, n)
		} else if g.Impressions < 0 {
			return nil, invalid("group %q has %d impressions", in.Groups[i].Key, g.Impressions)
		}
		a.gImpr[i] = g.Impressions
	}
	for i, w := range s.Waste {
		switch {
		case i < 0 || i >= n:
			return nil, invalid("the sets count waste in group %d; there are %d groups", i, n)
		case w < 0:
			return nil, invalid("group %q wasted %d impressions", in.Groups[i].Key, w)
		case w > 0 && in.Groups[i].Costed && w > in.Groups[i].Billed:
			return nil, invalid("group %q wasted %d impressions but billed only %d; count both over the same traffic", in.Groups[i].Key, w, in.Groups[i].Billed)
		}
		a.gWaste[i] = w
		a.waste += w
	}
	a.freq = make([]int64, store.MaxReachFrequency)
	switch len(s.Frequency) {
	case 0:
	case store.MaxReachFrequency:
		copy(a.freq, s.Frequency)
	default:
		return nil, invalid("the frequency distribution has %d buckets, not %d", len(s.Frequency), store.MaxReachFrequency)
	}
	var fsum int64
	for _, f := range a.freq {
		if f < 0 {
			return nil, invalid("a frequency bucket has %d users", f)
		}
		fsum += f
	}
	if fsum != a.reach {
		return nil, invalid("the frequency distribution counts %d users but the sets %d", fsum, a.reach)
	}
	a.curve()
	return a, nil
}

// curve orders the groups greedily: at each step the group that adds the
// most users not yet reached, ties by key. Each step makes one pass over
// the sets not yet covered, then drops those it covers.
func (a *analysis) curve() {
	rest := slices.Clone(a.sets)
	gain := make([]int64, a.n)
	used := make([]bool, a.n)
	for range a.n {
		clear(gain)
		for _, s := range rest {
			for b := s.Mask; b != 0; b &= b - 1 {
				gain[bits.TrailingZeros64(b)] += s.Users
			}
		}
		best := -1
		for i := range a.n {
			if used[i] {
				continue
			}
			if best < 0 || gain[i] > gain[best] || gain[i] == gain[best] && a.in.Groups[i].Key < a.in.Groups[best].Key {
				best = i
			}
		}
		used[best] = true
		a.order = append(a.order, best)
		a.incr = append(a.incr, gain[best])
		bit := uint64(1) << best
		rest = slices.DeleteFunc(rest, func(s store.ReachSet) bool { return s.Mask&bit != 0 })
	}
}

// report applies the threshold and derives shares and costs.
func (a *analysis) report() (*Report, error) {
	n, in := a.n, a.in
	g := &guard{k: a.k}
	r := &Report{Threshold: in.MinUsers, WasteAbove: in.WasteAbove}

	// Which groups' user counts may be published (see the package
	// documentation).
	reachOK := g.ok(a.reach)
	if !reachOK {
		g.withheld++
	}
	var kept uint64
	if reachOK {
		kept = a.publishable()
	}
	in1 := func(i int) bool { return kept&(1<<i) != 0 }

	// Totals.
	t := &r.Totals
	t.Reach = pub(a.reach, reachOK)
	t.Impressions, t.AnonymousImpressions = a.impressions, in.Sets.AnonymousImpressions
	t.AverageFrequency = ratio(a.impressions, a.reach, reachOK)
	var gross int64
	for i := range n {
		gross += a.gReach[i]
	}
	grossOK := reachOK && bits.OnesCount64(kept) == n
	if !grossOK {
		g.withheld++
	}
	t.GrossReach = pub(gross, grossOK)
	t.Duplication = ratio(gross, a.reach, grossOK)
	t.WasteImpressions = a.waste
	t.WasteShare = ratio(a.waste, a.impressions, true)

	costed := true
	var cost, wasteCost int64
	gWasteCost := make([]int64, n)
	for i, gr := range in.Groups {
		if !gr.Costed {
			costed = false
			continue
		}
		var err error
		if cost, err = add(cost, gr.Cost); err != nil {
			return nil, err
		}
		if a.gWaste[i] > 0 {
			if gWasteCost[i], err = mulDivRound(gr.Cost, a.gWaste[i], gr.Billed); err != nil {
				return nil, err
			}
		}
		if wasteCost, err = add(wasteCost, gWasteCost[i]); err != nil {
			return nil, err
		}
	}
	if costed {
		t.Cost, t.WasteCost = money(cost), money(wasteCost)
		t.WasteBudgetShare = ratio(wasteCost, cost, true)
		var err error
		if t.CPUM, err = perUsers(cost, 1000, a.reach, reachOK); err != nil {
			return nil, err
		}
	}

	// Groups.
	r.Groups = make([]GroupReport, n)
	for i, gr := range in.Groups {
		ok := in1(i)
		if !ok {
			g.withheld += 3 // reach, exclusive and duplicated
		}
		excl := a.exclusive[i]
		out := GroupReport{
			Key: gr.Key, Name: gr.Name,
			Reach:            pub(a.gReach[i], ok),
			ReachShare:       ratio(a.gReach[i], a.reach, ok),
			Impressions:      a.gImpr[i],
			AverageFrequency: ratio(a.gImpr[i], a.gReach[i], ok),
			ExclusiveReach:   pub(excl, ok),
			ExclusiveShare:   ratio(excl, a.gReach[i], ok),
			DuplicatedReach:  pub(a.gReach[i]-excl, ok),
			WasteImpressions: a.gWaste[i],
			WasteShare:       ratio(a.gWaste[i], a.gImpr[i], true),
		}
		if gr.Costed {
			c, w := gr.Cost, gWasteCost[i]
			out.Cost, out.WasteCost = money(c), money(w)
			var err error
			if out.CPUM, err = perUsers(c, 1000, a.gReach[i], ok); err != nil {
				return nil, err
			}
			if out.CostPerExclusiveUser, err = perUsers(c, 1, excl, ok); err != nil {
				return nil, err
			}
		}
		r.Groups[i] = out
	}

	// Overlap.
	ov := Overlap{Keys: make([]string, n), Users: make([][]*int64, n), Shares: make([][]*float64, n)}
	for i := range n {
		ov.Keys[i] = in.Groups[i].Key
		ov.Users[i], ov.Shares[i] = make([]*int64, n), make([]*float64, n)
	}
	for i := range n {
		for j := i; j < n; j++ {
			b, ok := a.both[i][j], in1(i) && in1(j)
			if i != j && !ok {
				g.withheld++
			}
			ov.Users[i][j], ov.Users[j][i] = pub(b, ok), pub(b, ok)
			ov.Shares[i][j] = ratio(b, a.gReach[i], ok)
			ov.Shares[j][i] = ratio(b, a.gReach[j], ok)
		}
	}
	r.Overlap = ov

	// Curve: published while every group so far is kept; the last
	// cumulative reach is the total.
	var cum, cumCost int64
	costOK, prefixOK := true, reachOK
	for s, i := range a.order {
		gr := in.Groups[i]
		cum += a.incr[s]
		prefixOK = prefixOK && in1(i)
		cumOK := prefixOK || s == n-1 && reachOK
		if !prefixOK {
			g.withheld++
		}
		if !cumOK && s < n-1 { // the last is the total reach, counted already
			g.withheld++
		}
		step := CurveStep{
			Step: s + 1, Key: gr.Key, Name: gr.Name,
			IncrementalReach: pub(a.incr[s], prefixOK),
			CumulativeReach:  pub(cum, cumOK),
			CumulativeShare:  ratio(cum, a.reach, cumOK),
		}
		costOK = costOK && gr.Costed
		if costOK {
			var err error
			if cumCost, err = add(cumCost, gr.Cost); err != nil {
				return nil, err
			}
			c := cumCost
			step.CumulativeCost = money(c)
		}
		if gr.Costed {
			var err error
			if step.CostPerIncrementalUser, err = perUsers(gr.Cost, 1, a.incr[s], prefixOK); err != nil {
				return nil, err
			}
		}
		r.Curve = append(r.Curve, step)
	}

	// Frequency buckets and effective levels: level L is the sum of
	// buckets L to 20, a cut before bucket L.
	cuts := make([]bool, store.MaxReachFrequency+1)
	for _, l := range a.levels {
		cuts[l-1] = true
	}
	var bucketOK, levelOK []bool
	if reachOK {
		bucketOK, levelOK = g.series(a.freq, cuts)
	} else {
		bucketOK, levelOK = make([]bool, store.MaxReachFrequency), make([]bool, store.MaxReachFrequency+1)
		g.withheld += store.MaxReachFrequency + len(a.levels)
		if a.levels[0] == 1 {
			g.withheld-- // level 1 is the total reach, counted already
		}
	}
	for f, u := range a.freq {
		label := strconv.Itoa(f + 1)
		if f+1 == store.MaxReachFrequency {
			label += "+"
		}
		r.Frequency = append(r.Frequency, FrequencyBucket{Frequency: label, Users: pub(u, bucketOK[f]), Share: ratio(u, a.reach, bucketOK[f])})
	}
	for _, l := range a.levels {
		var u int64
		for _, f := range a.freq[l-1:] {
			u += f
		}
		r.Effective = append(r.Effective, EffectiveLevel{Level: l, Users: pub(u, levelOK[l-1]), Share: ratio(u, a.reach, levelOK[l-1])})
	}
	r.Withheld = g.withheld
	return r, nil
}

// publishable returns the groups (a bitmask) whose user counts may be
// published under the threshold: all of them when k is 0; otherwise, with
// the groups left out lumped into one "other" group, while a combination
// of the kept groups and other holds 1 to k−1 users, the kept group of
// that combination (of all kept groups when it has none) with the least
// reach (ties by key) is left out.
func (a *analysis) publishable() uint64 {
	kept := uint64(1)<<a.n - 1
	if a.n == 64 {
		kept = math.MaxUint64
	}
	if a.k <= 1 { // every count is 0 or at least 1
		return kept
	}
	// A combination is a mask of kept groups, with "other" marked by the
	// bit of the lowest group left out (which is never kept). Leaving
	// groups out only merges combinations, so each round regroups the
	// previous round's combinations, not the sets.
	combos := make([]uint64, len(a.sets))
	counts := make([]int64, len(a.sets))
	for i, s := range a.sets {
		combos[i], counts[i] = s.Mask, s.Users
	}
	users := make(map[uint64]int64, len(a.sets))
	for kept != 0 {
		other := uint64(0)
		if left := ^kept; left != 0 {
			other = left & -left
		}
		clear(users)
		for i, c := range combos {
			if c&^kept != 0 {
				c = c&kept | other
			}
			users[c] += counts[i]
		}
		combos, counts = combos[:0], counts[:0]
		var small uint64
		var least int64
		for c, u := range users {
			combos, counts = append(combos, c), append(counts, u)
			if u > 0 && u < a.k && (least == 0 || u < least || u == least && c < small) {
				small, least = c, u
			}
		}
		if least == 0 {
			break
		}
		from := small & kept
		if from == 0 {
			from = kept
		}
		drop := -1
		for b := from; b != 0; b &= b - 1 {
			i := bits.TrailingZeros64(b)
			if drop < 0 || a.gReach[i] < a.gReach[drop] || a.gReach[i] == a.gReach[drop] && a.in.Groups[i].Key < a.in.Groups[drop].Key {
				drop = i
			}
		}
		kept &^= 1 << drop
	}
	return kept
}

// guard applies the aggregation threshold k and counts what it withholds.
type guard struct {
	k        int64
	withheld int
}

// ok reports whether a user count may be published: it is 0 or at least
// k.
func (g *guard) ok(c int64) bool { return c == 0 || c >= g.k }

// series guards parts (such as the frequency buckets) whose running sums
// are published at some cuts: cut[p] (0 < p < len(parts)) asks to publish
// Σ parts[:p] (and so Σ parts[p:]); the sum of all parts is published by
// the caller, who has checked it. It withholds each part, and each cut
// whose sum on either side is, from 1 to k−1; then, while the withheld
// parts between two published cuts sum to 1 to k−1 (which the cuts'
// difference would reveal), the smallest published non-zero part between
// them or, when there is none, the later cut (the earlier if the later is
// the end). It returns which parts and cuts are published (cuts 0 and
// len(parts) always are) and counts the withheld ones.
func (g *guard) series(parts []int64, cut []bool) (partOK, cutOK []bool) {
	n := len(parts)
	partOK, cutOK = make([]bool, n), make([]bool, n+1)
	var total int64
	for i, v := range parts {
		partOK[i] = g.ok(v)
		total += v
	}
	cutOK[0], cutOK[n] = true, true
	var prefix int64
	for p := 1; p < n; p++ {
		prefix += parts[p-1]
		cutOK[p] = cut[p] && g.ok(prefix) && g.ok(total-prefix)
	}
	for hideMore(g.k, parts, partOK, cutOK) { // until no stretch reveals a small sum
	}
	for i := range partOK {
		if !partOK[i] {
			g.withheld++
		}
	}
	for p := 1; p < n; p++ {
		if cut[p] && !cutOK[p] {
			g.withheld++
		}
	}
	return partOK, cutOK
}

// hideMore finds the first stretch between two published cuts whose
// withheld parts sum to 1 to k−1 and withholds one more thing there (see
// guard.series); it reports whether it did.
func hideMore(k int64, parts []int64, partOK, cutOK []bool) bool {
	n := len(parts)
	for a, b := 0, 1; b <= n; b++ {
		if !cutOK[b] {
			continue
		}
		var hidden int64
		best := -1
		for i := a; i < b; i++ {
			if !partOK[i] {
				hidden += parts[i]
			} else if parts[i] > 0 && (best < 0 || parts[i] < parts[best]) {
				best = i
			}
		}
		if hidden == 0 || hidden >= k {
			a = b
			continue
		}
		switch {
		case best >= 0:
			partOK[best] = false
		case b < n:
			cutOK[b] = false
		case a > 0:
			cutOK[a] = false
		default: // the whole series is below k: the caller withholds its total
			clear(partOK)
			clear(cutOK[1:n])
			return false
		}
		return true
	}
	return false
}

// pub returns &v, or nil when not ok.
func pub(v int64, ok bool) *int64 {
	if !ok {
		return nil
	}
	return &v
}

// ratio returns num/den rounded to 4 decimals, or nil when not ok or den
// is 0.
func ratio(num, den int64, ok bool) *float64 {
	if !ok || den == 0 {
		return nil
	}
	v := math.Round(float64(num)/float64(den)*1e4) / 1e4
	return &v
}

// perUsers returns cost × per / users rounded half up (a cost per user,
// or per thousand users with per 1000), or nil when not ok or users is 0.
func perUsers(cost, per, users int64, ok bool) (*admeter.Money, error) {
	if !ok || users == 0 {
		return nil, nil
	}
	v, err := mulDivRound(cost, per, users)
	if err != nil {
		return nil, err
	}
	return money(v), nil
}

// add returns a + b for a, b ≥ 0, or admeter.ErrCostOverflow.
func add(a, b int64) (int64, error) {
	if a > math.MaxInt64-b {
		return 0, admeter.ErrCostOverflow
	}
	return a + b, nil
}

// errDivZero is an internal error: mulDivRound by zero.
var errDivZero = errors.New("cost divided by zero")

// mulDivRound returns a×b/c rounded to the nearest integer, halves up, for
// a, b ≥ 0 and c > 0, with an exact 128-bit product; or
// admeter.ErrCostOverflow when the result does not fit an int64.
func mulDivRound(a, b, c int64) (int64, error) {
	if c <= 0 {
		return 0, errDivZero
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, admeter.ErrCostOverflow
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if r >= uint64(c)-r {
		q++
	}
	if q > math.MaxInt64 {
		return 0, admeter.ErrCostOverflow
	}
	return int64(q), nil
}

// money returns a pointer to v as admeter.Money.
func money(v int64) *admeter.Money {
	m := admeter.Money(v)
	return &m
}
