package mediaplan

import (
	"fmt"
	"math"
	"strings"

	"github.com/admeter/admeter"
)

// NoiseShare is the smallest relative gain in reach at the effective
// frequency that Recommend acts on: below it the plan says to keep the
// current allocation.
const NoiseShare = 0.005

// steps is the number of budget steps of the greedy allocation (each 1 %
// of the movable budget).
const steps = 100

// Text is a sentence in English and in simplified Chinese (zh-CN).
type Text struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// Plan is Recommend's answer: the current and the recommended allocation
// of the movable budget, what the model expects of each, and why.
type Plan struct {
	// Effective is the effective frequency the plan maximises reach at.
	Effective int `json:"effective"`
	// Keep is set when the best allocation found is not worth a change
	// (gain under NoiseShare, or no movable unit): Recommended is then
	// the current allocation.
	Keep    bool `json:"keep"`
	Summary Text `json:"summary"`
	// Cap is the recommended frequency cap per movable unit and user
	// over the range, 0 for none.
	Cap         int     `json:"cap"`
	Current     Outcome `json:"current"`
	Recommended Outcome `json:"recommended"`
	// CapOnly is the current allocation under the recommended cap, when
	// there is one: how much of the gain the cap alone brings.
	CapOnly *Outcome `json:"cap_only,omitempty"`
	// Gain is Recommended minus Current in users reached Effective or
	// more times, and GainPercent that as a percentage of Current.
	Gain        int64   `json:"gain"`
	GainPercent float64 `json:"gain_percent"`
	// MovableSpend is the budget that may move (CPM and CPC units); the
	// recommendation spends exactly as much.
	MovableSpend admeter.Money `json:"movable_spend"`
	Units        []UnitPlan    `json:"units"`
	Caps         []CapOutcome  `json:"caps"`
	Assumptions  []Text        `json:"assumptions"`
	Model        *Model        `json:"model"`
}

// Outcome is what the model expects of an allocation. Reach figures are
// the model's, so that current and recommended compare like with like;
// Plan.Model has the measured ones beside them.
type Outcome struct {
	Impressions int64 `json:"impressions"`
	// Spend is the cost of the units with a cost; SpendComplete is false
	// when some unit has none (its cost is unknown, not zero).
	Spend         admeter.Money `json:"spend"`
	SpendComplete bool          `json:"spend_complete"`
	// Reach is the deduplicated reach, EffectiveReach the users reached
	// Effective or more times, AtLeast the users at 1+ to 20+.
	Reach          int64   `json:"reach"`
	EffectiveReach int64   `json:"effective_reach"`
	AtLeast        []int64 `json:"at_least"`
	// CPUM is Spend per thousand users reached, EffectiveCPUM per
	// thousand users reached Effective or more times; 0 when there is no
	// reach.
	CPUM          admeter.Money `json:"cpum"`
	EffectiveCPUM admeter.Money `json:"effective_cpum"`
}

// CapOutcome is the best reach at the effective frequency found under one
// candidate cap; Feasible is false when the cap cannot deliver the budget.
type CapOutcome struct {
	Cap            int   `json:"cap"`
	EffectiveReach int64 `json:"effective_reach"`
	Feasible       bool  `json:"feasible"`
}

// Unit actions, as Explanation.Action reports them.
const (
	ActionGains = "gains" // gets more budget
	ActionLoses = "loses" // gives budget away
	ActionKeeps = "keeps" // movable, within 2 % of its budget
	ActionHeld  = "held"  // not movable (see the reason)
)

// UnitPlan is one unit of a Plan.
type UnitPlan struct {
	Key          string              `json:"key"`
	Name         string              `json:"name"`
	BuyingModel  admeter.BuyingModel `json:"buying_model"`
	Movable      bool                `json:"movable"`
	CurrentSpend admeter.Money       `json:"current_spend"`
	// RecommendedSpend equals CurrentSpend for a held unit.
	RecommendedSpend       admeter.Money `json:"recommended_spend"`
	Costed                 bool          `json:"costed"`
	CurrentImpressions     int64         `json:"current_impressions"`
	RecommendedImpressions int64         `json:"recommended_impressions"`
	CurrentReach           int64         `json:"current_reach"`
	RecommendedReach       int64         `json:"recommended_reach"`
	// Change is the change of spend (of impressions for a unit without a
	// cost) in percent.
	Change      float64     `json:"change_percent"`
	Explanation Explanation `json:"explanation"`
}

// Explanation says why a unit gains, loses, keeps or is held.
type Explanation struct {
	Action string `json:"action"`
	// CPM is the unit's cost per thousand impressions (0 without a cost),
	// MeanFrequency its impressions per user over the range.
	CPM           admeter.Money `json:"cpm"`
	MeanFrequency float64       `json:"mean_frequency"`
	// MarginalNow and MarginalAfter are the users reached Effective or
	// more times that 1 000 CNY more on the unit would add, at the current
	// and at the recommended allocation (0 for a held unit, and after
	// for a unit at its inventory limit).
	MarginalNow   float64 `json:"marginal_now"`
	MarginalAfter float64 `json:"marginal_after"`
	// AtLimit is set when the unit is at its inventory limit (MaxScale)
	// or, under the cap, at what the cap lets it deliver.
	AtLimit bool `json:"at_limit"`
	// OverlapShare is the share of the unit's users that the model has
	// also reached by another unit, at the current allocation.
	OverlapShare float64 `json:"overlap_share"`
	// BeyondCapShare is the measured share of the unit's impressions
	// beyond the recommended cap (0 without a cap).
	BeyondCapShare float64 `json:"beyond_cap_share"`
	Reason         Text    `json:"reason"`
}

// assumptions are listed in every plan.
var assumptions = []Text{
	{"Each unit's exposures follow a negative binomial (NBD) distribution fitted to its measured reach, impressions and share of users seen once; more impressions raise the mean exposure over the same people.",
		"每个单元的曝光次数服从负二项分布（NBD），按其实测触达、曝光量和仅看到一次的用户占比拟合；增加曝光只提高同一人群的平均曝光次数。"},
	{"Units reach people independently within an effective universe fitted so that the model reproduces the measured deduplicated reach.",
		"各单元在一个有效总体内相互独立地触达用户，该总体按实测去重触达拟合。"},
	{"Prices and click-through rates stay as measured: cost is proportional to impressions for CPM and CPC units.",
		"价格和点击率保持实测水平：CPM 与 CPC 单元的成本与曝光量成正比。"},
	{"A unit can grow to at most the inventory limit times its measured impressions.",
		"单个单元的曝光量最多增长到实测曝光量乘以库存上限倍数。"},
	{"A frequency cap is enforced by the media per user and unit over the range: impressions beyond it go to other users of the same unit.",
		"频次上限由媒体按用户和单元在整个周期内执行：超出上限的曝光分给同一单元的其他用户。"},
	{"CPD, fixed-price, free and unpriced units keep their delivery; the movable budget is spent in full.",
		"CPD、固定价格、免费和无价格的单元保持原投放；可调整预算全部花完。"},
	{"The planned range has the same length as the measured one.",
		"计划周期与实测周期长度相同。"},
}

// planner holds what Recommend works on.
type planner struct {
	in      *Input
	md      *Model
	movable []bool
	held    []Text    // reason a unit is held
	price   []float64 // millionths of CNY per impression, movable units
	budget  float64   // the movable units' cost
	current []float64 // measured impressions
}

// Recommend fits the reach model to in and recommends the allocation of the
// movable budget (CPM and CPC units with a price) and the frequency cap
// that maximise the users reached in.Effective or more times for the same
// spend. It never recommends less than the current allocation's reach at
// the effective frequency, as the model sees it. It returns an EINVALID
// error for input that cannot be measured data (see Input); input without
// a movable unit is not an error (the plan says to keep the allocation).
func Recommend(in Input) (*Plan, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	p := &planner{in: &in, md: fit(&in)}
	p.classify()
	return p.plan(), nil
}

// classify decides which units can move budget.
func (p *planner) classify() {
	n := len(p.in.Units)
	p.movable, p.held, p.price = make([]bool, n), make([]Text, n), make([]float64, n)
	p.current = make([]float64, n)
	for i := range p.in.Units {
		u := &p.in.Units[i]
		p.current[i] = float64(u.Impressions)
		switch {
		case !u.Costed:
			p.held[i] = Text{"Held: it has no price, so its cost and the budget it could free are unknown.",
				"保持不变：该单元没有价格，成本未知，无法调整其预算。"}
		case u.Model == "":
			p.held[i] = Text{"Held: its placements are bought under different models, so its cost does not scale with impressions as one.",
				"保持不变：其下各广告位的购买方式不同，成本无法整体按曝光量缩放。"}
		case u.Model == admeter.CPD || u.Model == admeter.Fixed:
			p.held[i] = Text{fmt.Sprintf("Held: bought %s, its cost does not change with its impressions.", strings.ToUpper(string(u.Model))),
				fmt.Sprintf("保持不变：按 %s 购买，成本不随曝光量变化。", strings.ToUpper(string(u.Model)))}
		case u.Cost == 0:
			p.held[i] = Text{"Held: it is free (bonus inventory), so it has no budget to move.",
				"保持不变：该单元为免费（配送）资源，没有可调整的预算。"}
		case u.Impressions == 0:
			p.held[i] = Text{"Held: it has no measured impressions with a user to model.",
				"保持不变：没有可建模的带用户标识的曝光。"}
		default:
			p.movable[i] = true
			p.price[i] = float64(u.Cost) / float64(u.Impressions)
			p.budget += float64(u.Cost)
		}
	}
}

// alloc is an allocation of impressions under a cap, with the units'
// states.
type alloc struct {
	cap  int
	imps []float64
	st   []unitState
}

// capOf returns the cap of unit i under cap c: movable units only.
func (p *planner) capOf(i, c int) int {
	if p.movable[i] {
		return c
	}
	return 0
}

// newAlloc returns the allocation imps under cap c.
func (p *planner) newAlloc(imps []float64, c int) *alloc {
	a := &alloc{cap: c, imps: append([]float64(nil), imps...), st: make([]unitState, len(imps))}
	for i, v := range imps {
		a.st[i] = p.md.state(i, v, p.capOf(i, c))
	}
	return a
}

// set moves unit i of a to imp impressions.
func (p *planner) set(a *alloc, i int, imp float64) {
	a.imps[i] = imp
	a.st[i] = p.md.state(i, imp, p.capOf(i, a.cap))
}

// limit returns the most impressions unit i may have under cap c.
func (p *planner) limit(i, c int) float64 {
	return min(p.in.MaxScale*p.current[i], p.md.maxImpressions(i, c))
}

// others is, for each unit i of an allocation, the tail sums of the
// distribution of the exposures to all the other units in the allocation's
// universe u: t[i][j] = P(others ≥ j).
type others struct {
	u float64
	t [][Levels + 1]float64
}

// tails returns the others of a.
func (p *planner) tails(a *alloc) others {
	n := len(a.st)
	u := p.md.universeFor(a.st)
	ds := make([]dist, n)
	for i := range a.st {
		ds[i] = a.st[i].person(u)
	}
	prefix := make([]dist, n+1)
	suffix := make([]dist, n+1)
	prefix[0][0], suffix[n][0] = 1, 1
	for i := range n {
		prefix[i+1] = convolve(&prefix[i], &ds[i])
		suffix[n-1-i] = convolve(&ds[n-1-i], &suffix[n-i])
	}
	o := others{u: u, t: make([][Levels + 1]float64, n)}
	for i := range n {
		l := convolve(&prefix[i], &suffix[i+1])
		var s float64
		for j := Levels; j >= 0; j-- {
			s += l[j]
			o.t[i][j] = s
		}
	}
	return o
}

// with returns the users of a reached eff or more times when unit i is in
// state s instead, the others as o has them. When s reaches more people
// than o's universe the universe grows, and the answer is computed in
// full.
func (p *planner) with(a *alloc, o *others, i int, s *unitState) float64 {
	if s.reach > o.u {
		old := a.st[i]
		a.st[i] = *s
		v := p.score(a)
		a.st[i] = old
		return v
	}
	eff := p.in.Effective
	d := s.person(o.u)
	var v float64
	for b, pb := range d {
		v += pb * o.t[i][max(eff-b, 0)]
	}
	return o.u * v
}

// score returns the users a reaches eff or more times.
func (p *planner) score(a *alloc) float64 {
	u := p.md.universeFor(a.st)
	total := dist{0: 1}
	for i := range a.st {
		d := a.st[i].person(u)
		total = convolve(&total, &d)
	}
	var s float64
	for x := p.in.Effective; x <= Levels; x++ {
		s += total[x]
	}
	return u * s
}

// marginal returns the users at eff+ that money more on unit i would add
// to a, per unit of money, the others as o has them; 0 at its limit.
func (p *planner) marginal(a *alloc, o *others, i int, money float64) (rate, add float64) {
	room := p.limit(i, a.cap) - a.imps[i]
	add = min(money/p.price[i], room)
	if add <= 1e-9*(1+a.imps[i]) {
		return 0, 0
	}
	s := p.md.state(i, a.imps[i]+add, p.capOf(i, a.cap))
	gain := p.with(a, o, i, &s) - p.with(a, o, i, &a.st[i])
	return gain / (add * p.price[i]), add
}

// greedy allocates the movable budget under cap c from zero, one step at a
// time to the unit with the best marginal gain. It returns nil when the
// cap cannot deliver the budget.
func (p *planner) greedy(c int) *alloc {
	imps := append([]float64(nil), p.current...)
	for i := range imps {
		if p.movable[i] {
			imps[i] = 0
		}
	}
	a := p.newAlloc(imps, c)
	step := p.budget / steps
	left := p.budget
	for left > p.budget*1e-9 {
		o := p.tails(a)
		best, bestRate, bestAdd := -1, -1.0, 0.0
		for i := range a.imps {
			if !p.movable[i] {
				continue
			}
			if rate, add := p.marginal(a, &o, i, min(step, left)); add > 0 && rate > bestRate {
				best, bestRate, bestAdd = i, rate, add
			}
		}
		if best < 0 {
			return nil // every unit at its limit: the cap cannot spend the budget
		}
		p.set(a, best, a.imps[best]+bestAdd)
		left -= bestAdd * p.price[best]
	}
	return a
}

// refine improves a by moving budget between pairs of units while a move
// gains, halving the step when none does.
func (p *planner) refine(a *alloc) *alloc {
	cur := p.score(a)
	step := p.budget / steps
	for iter := 0; iter < 300 && step > p.budget/(steps*64); iter++ {
		o := p.tails(a)
		up, down := -1, -1
		upRate, downRate := -1.0, math.Inf(1)
		for i := range a.imps {
			if !p.movable[i] {
				continue
			}
			if rate, add := p.marginal(a, &o, i, step); add > 0 && rate > upRate {
				up, upRate = i, rate
			}
		}
		for j := range a.imps {
			if !p.movable[j] || j == up || a.imps[j] <= 0 {
				continue
			}
			cut := min(step/p.price[j], a.imps[j])
			s := p.md.state(j, a.imps[j]-cut, p.capOf(j, a.cap))
			rate := (p.with(a, &o, j, &a.st[j]) - p.with(a, &o, j, &s)) / (cut * p.price[j])
			if rate < downRate {
				down, downRate = j, rate
			}
		}
		if up < 0 || down < 0 || upRate <= downRate {
			step /= 2
			continue
		}
		money := min(step, (p.limit(up, a.cap)-a.imps[up])*p.price[up], a.imps[down]*p.price[down])
		oldUp, oldDown := a.imps[up], a.imps[down]
		p.set(a, up, oldUp+money/p.price[up])
		p.set(a, down, max(0, oldDown-money/p.price[down]))
		if s := p.score(a); s > cur*(1+1e-12) {
			cur = s
			continue
		}
		p.set(a, up, oldUp)
		p.set(a, down, oldDown)
		step /= 2
	}
	return a
}

// feasible reports whether the current impressions fit under cap c.
func (p *planner) feasible(c int) bool {
	for i, v := range p.current {
		if p.movable[i] && v > p.limit(i, c) {
			return false
		}
	}
	return true
}

// plan searches every cap and builds the Plan.
func (p *planner) plan() *Plan {
	curAlloc := p.newAlloc(p.current, 0)
	curScore := p.score(curAlloc)
	best, bestScore := curAlloc, curScore
	var caps []CapOutcome
	anyMovable := p.budget > 0
	for _, c := range p.in.Caps {
		if !anyMovable {
			break
		}
		var cands []*alloc
		if g := p.greedy(c); g != nil {
			cands = append(cands, p.refine(g))
		}
		if p.feasible(c) {
			cands = append(cands, p.refine(p.newAlloc(p.current, c)))
		}
		co := CapOutcome{Cap: c}
		var capBest float64
		for _, a := range cands {
			s := p.score(a)
			if s > capBest {
				capBest = s
			}
			if s > bestScore {
				best, bestScore = a, s
			}
		}
		co.Feasible = len(cands) > 0
		co.EffectiveReach = round(capBest)
		caps = append(caps, co)
	}
	keep := !anyMovable || bestScore-curScore < NoiseShare*curScore || bestScore-curScore < 0.5
	rec := best
	if keep {
		rec = curAlloc
	}
	recImps, recSpend := p.roundSpend(rec)
	pl := &Plan{
		Effective:    p.in.Effective,
		Keep:         keep,
		Cap:          rec.cap,
		Current:      p.outcome(curAlloc, p.current, p.measuredSpends()),
		Recommended:  p.outcome(rec, recImps, recSpend),
		MovableSpend: admeter.Money(math.Round(p.budget)),
		Caps:         caps,
		Assumptions:  assumptions,
		Model:        p.md,
	}
	if rec.cap > 0 {
		o := p.outcome(p.newAlloc(p.current, rec.cap), p.current, p.measuredSpends())
		pl.CapOnly = &o
	}
	pl.Gain = pl.Recommended.EffectiveReach - pl.Current.EffectiveReach
	if pl.Current.EffectiveReach > 0 {
		pl.GainPercent = round1(100 * float64(pl.Gain) / float64(pl.Current.EffectiveReach))
	}
	p.explain(pl, curAlloc, rec, recImps, recSpend)
	pl.Summary = p.summary(pl, bestScore-curScore, curScore)
	return pl
}

// measuredSpends returns each unit's measured cost (0 without one).
func (p *planner) measuredSpends() []int64 {
	out := make([]int64, len(p.in.Units))
	for i := range p.in.Units {
		if p.in.Units[i].Costed {
			out[i] = p.in.Units[i].Cost
		}
	}
	return out
}

// roundSpend returns a's impressions and spends rounded to whole units,
// the movable spends adjusted on the largest so that they add up to the
// movable budget exactly.
func (p *planner) roundSpend(a *alloc) ([]float64, []int64) {
	imps := make([]float64, len(a.imps))
	spend := make([]int64, len(a.imps))
	var total, want int64
	big := -1
	for i, v := range a.imps {
		imps[i] = math.Round(v)
		if p.in.Units[i].Costed {
			spend[i] = p.in.Units[i].Cost
		}
		if !p.movable[i] {
			continue
		}
		want += p.in.Units[i].Cost
		spend[i] = int64(math.Round(v * p.price[i]))
		total += spend[i]
		if big < 0 || spend[i] > spend[big] {
			big = i
		}
	}
	if big >= 0 {
		spend[big] += want - total
	}
	return imps, spend
}

// outcome describes allocation a with rounded impressions and spends.
func (p *planner) outcome(a *alloc, imps []float64, spend []int64) Outcome {
	caps := make([]int, len(imps))
	for i := range caps {
		caps[i] = p.capOf(i, a.cap)
	}
	pr := p.md.predictCaps(a.imps, caps)
	o := Outcome{SpendComplete: true, AtLeast: make([]int64, Levels)}
	for i := range imps {
		o.Impressions += int64(imps[i])
		o.Spend += admeter.Money(spend[i])
		if !p.in.Units[i].Costed {
			o.SpendComplete = false
		}
	}
	for f := range o.AtLeast {
		o.AtLeast[f] = round(pr.AtLeast[f])
	}
	o.Reach = o.AtLeast[0]
	o.EffectiveReach = o.AtLeast[p.in.Effective-1]
	if o.Reach > 0 {
		o.CPUM = admeter.Money(math.Round(float64(o.Spend) * 1000 / float64(o.Reach)))
	}
	if o.EffectiveReach > 0 {
		o.EffectiveCPUM = admeter.Money(math.Round(float64(o.Spend) * 1000 / float64(o.EffectiveReach)))
	}
	return o
}

// perThousand is 1 000 CNY in millionths.
const perThousand = 1000 * admeter.MicroCNY

// explain fills the plan's units with their numbers and reasons.
func (p *planner) explain(pl *Plan, cur, rec *alloc, recImps []float64, recSpend []int64) {
	n := len(p.in.Units)
	tc, tr := p.tails(cur), p.tails(rec)
	step := p.budget / steps
	pl.Units = make([]UnitPlan, n)
	var bestNow, loseNow, loseW float64
	for i := range n {
		u := &p.in.Units[i]
		up := &pl.Units[i]
		*up = UnitPlan{Key: u.Key, Name: u.Name, BuyingModel: u.Model, Movable: p.movable[i], Costed: u.Costed,
			CurrentImpressions: u.Impressions, RecommendedImpressions: int64(recImps[i]),
			CurrentReach: round(cur.st[i].reach), RecommendedReach: round(rec.st[i].reach)}
		if u.Costed {
			up.CurrentSpend, up.RecommendedSpend = admeter.Money(u.Cost), admeter.Money(recSpend[i])
		}
		e := &up.Explanation
		if u.Users > 0 {
			e.MeanFrequency = round3(float64(u.Impressions) / float64(u.Users))
			e.OverlapShare = round3(tc.t[i][1])
		}
		if u.Costed && u.Impressions > 0 {
			e.CPM = admeter.Money(math.Round(float64(u.Cost) * 1000 / float64(u.Impressions)))
		}
		if rec.cap > 0 && p.movable[i] && u.Impressions > 0 {
			e.BeyondCapShare = round3(beyondCap(u, rec.cap))
		}
		switch {
		case u.Costed && u.Cost > 0:
			up.Change = round1(100 * float64(recSpend[i]-u.Cost) / float64(u.Cost))
		case u.Impressions > 0:
			up.Change = round1(100 * (recImps[i] - float64(u.Impressions)) / float64(u.Impressions))
		}
		if !p.movable[i] {
			e.Action, e.Reason = ActionHeld, p.held[i]
			continue
		}
		rn, _ := p.marginal(cur, &tc, i, step)
		ra, add := p.marginal(rec, &tr, i, step)
		e.MarginalNow, e.MarginalAfter = round1(rn*perThousand), round1(ra*perThousand)
		e.AtLimit = add < step/p.price[i]*0.999
		bestNow = max(bestNow, e.MarginalNow)
		switch {
		case pl.Keep || math.Abs(up.Change) < 2:
			e.Action = ActionKeeps
		case up.Change > 0:
			e.Action = ActionGains
		default:
			e.Action = ActionLoses
			w := float64(u.Cost - recSpend[i])
			loseNow += e.MarginalNow * w
			loseW += w
		}
	}
	if loseW > 0 {
		loseNow /= loseW
	}
	var avgCPM, avgFreq float64
	if p.budget > 0 {
		var imp, users float64
		for i := range p.in.Units {
			if p.movable[i] {
				imp += p.current[i]
				users += float64(p.in.Units[i].Users)
			}
		}
		avgCPM = p.budget * 1000 / imp
		avgFreq = imp / users
	}
	for i := range pl.Units {
		up := &pl.Units[i]
		if up.Movable {
			up.Explanation.Reason = reason(up, pl, bestNow, loseNow, avgCPM, avgFreq)
		}
	}
}

// beyondCap returns the measured share of u's impressions beyond c per
// user.
func beyondCap(u *Unit, c int) float64 {
	var within float64
	for f, v := range u.Frequency {
		within += float64(min(f+1, c)) * float64(v)
	}
	return max(0, 1-within/float64(u.Impressions))
}

// reason writes the one-sentence reason of a movable unit.
func reason(up *UnitPlan, pl *Plan, bestNow, loseNow, avgCPM, avgFreq float64) Text {
	e := &up.Explanation
	eff := pl.Effective
	switch e.Action {
	case ActionGains:
		after := fmt.Sprintf(", and still %.0f after the move.", e.MarginalAfter)
		afterZH := fmt.Sprintf("，调整后仍为 %.0f 名。", e.MarginalAfter)
		if e.AtLimit {
			after, afterZH = "; it grows up to its inventory limit.", "；其增长已达库存上限。"
		}
		return Text{
			fmt.Sprintf("Gains budget: each extra 1,000 CNY here reaches %.0f more users at %d+ (%.0f on the units that lose)%s",
				e.MarginalNow, eff, loseNow, after),
			fmt.Sprintf("增加预算：在此每多投 1000 元可多触达 %.0f 名 %d+ 频次用户（减少预算的单元为 %.0f 名）%s",
				e.MarginalNow, eff, loseNow, afterZH),
		}
	case ActionLoses:
		var why, whyZH []string
		if e.MeanFrequency >= 1.3*avgFreq || e.BeyondCapShare >= 0.2 {
			why = append(why, fmt.Sprintf("its users already see it %.1f times on average", e.MeanFrequency))
			whyZH = append(whyZH, fmt.Sprintf("其用户平均已看到 %.1f 次", e.MeanFrequency))
		}
		if e.OverlapShare >= 0.4 {
			why = append(why, fmt.Sprintf("%.0f%% of its users are also reached by other units", 100*e.OverlapShare))
			whyZH = append(whyZH, fmt.Sprintf("%.0f%% 的用户同时被其他单元覆盖", 100*e.OverlapShare))
		}
		if cpm := float64(e.CPM); avgCPM > 0 && cpm >= 1.2*avgCPM {
			why = append(why, fmt.Sprintf("its CPM of %.2f CNY is %.0f%% above the average", cpm/admeter.MicroCNY, 100*(cpm/avgCPM-1)))
			whyZH = append(whyZH, fmt.Sprintf("其 CPM %.2f 元比平均高 %.0f%%", cpm/admeter.MicroCNY, 100*(cpm/avgCPM-1)))
		}
		if len(why) == 0 {
			why = append(why, "its audience saturates sooner than the others'")
			whyZH = append(whyZH, "其受众比其他单元更快饱和")
		}
		return Text{
			fmt.Sprintf("Loses budget: 1,000 CNY more here reaches only %.0f more users at %d+, against %.0f on the best unit, because %s.",
				e.MarginalNow, eff, bestNow, strings.Join(why, " and ")),
			fmt.Sprintf("减少预算：在此多投 1000 元仅能多触达 %.0f 名 %d+ 频次用户，而最佳单元可达 %.0f 名，原因是%s。",
				e.MarginalNow, eff, bestNow, strings.Join(whyZH, "，且")),
		}
	}
	if pl.Keep {
		return Text{
			fmt.Sprintf("Keeps its budget: moving budget would change reach at %d+ by less than the model's noise.", eff),
			fmt.Sprintf("维持预算：调整预算对 %d+ 频次触达的影响小于模型误差。", eff),
		}
	}
	return Text{
		fmt.Sprintf("Keeps its budget: its marginal reach (%.0f users at %d+ per 1,000 CNY) is on par with the other units after the move.", e.MarginalAfter, eff),
		fmt.Sprintf("维持预算：调整后其边际触达（每 1000 元 %.0f 名 %d+ 频次用户）与其他单元相当。", e.MarginalAfter, eff),
	}
}

// summary writes the plan's one-sentence summary.
func (p *planner) summary(pl *Plan, gain, cur float64) Text {
	eff := pl.Effective
	if p.budget == 0 {
		return Text{
			"Keep the current allocation: no unit is bought by CPM or CPC with a price and a cost, so there is no budget to move.",
			"维持当前分配：没有按 CPM 或 CPC 购买且有价格和成本的单元，没有可调整的预算。",
		}
	}
	if pl.Keep {
		pct := 0.0
		if cur > 0 {
			pct = 100 * gain / cur
		}
		return Text{
			fmt.Sprintf("Keep the current allocation: the best plan found adds %.0f users at %d+ (%.1f%%), below the %.1f%% the model can tell apart.", max(gain, 0), eff, max(pct, 0), 100*NoiseShare),
			fmt.Sprintf("维持当前分配：找到的最佳方案仅增加 %.0f 名 %d+ 频次用户（%.1f%%），低于模型可分辨的 %.1f%%。", max(gain, 0), eff, max(pct, 0), 100*NoiseShare),
		}
	}
	var moved admeter.Money
	for _, u := range pl.Units {
		if u.Movable && u.RecommendedSpend > u.CurrentSpend {
			moved += u.RecommendedSpend - u.CurrentSpend
		}
	}
	moved = (moved + 5_000) / 10_000 * 10_000 // to the fen
	capEN, capZH := "", ""
	if pl.Cap > 0 {
		capEN = fmt.Sprintf(" and cap every movable unit at %d impressions per user over the range", pl.Cap)
		capZH = fmt.Sprintf("，并将每个可调整单元的频次上限设为每用户 %d 次", pl.Cap)
	}
	return Text{
		fmt.Sprintf("Move %s CNY between units%s: users reached %d+ times rise from %d to %d (+%.1f%%) for the same spend.",
			admeter.FormatCNY(int64(moved)), capEN, eff, pl.Current.EffectiveReach, pl.Recommended.EffectiveReach, pl.GainPercent),
		fmt.Sprintf("在单元之间调整 %s 元预算%s：在花费不变的情况下，%d+ 频次触达用户从 %d 增至 %d（+%.1f%%）。",
			admeter.FormatCNY(int64(moved)), capZH, eff, pl.Current.EffectiveReach, pl.Recommended.EffectiveReach, pl.GainPercent),
	}
}

// round returns v rounded to an integer count (0 for NaN).
func round(v float64) int64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return int64(math.Round(v))
}

// round1 and round3 round to 1 and 3 decimals for JSON.
func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
