package mediaplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// independent returns an Input of units that reach people independently in
// a universe of u people: the union and its frequency as that gives them.
func independent(u float64, units ...Unit) Input {
	total := dist{0: 1}
	for i := range units {
		x := &units[i]
		var d dist
		if x.Users > 0 {
			share := float64(x.Users) / u
			d[0] = 1 - share
			for f := 1; f <= Levels; f++ {
				d[f] = share * float64(x.Frequency[f-1]) / float64(x.Users)
			}
		} else {
			d[0] = 1
		}
		total = convolve(&total, &d)
	}
	in := Input{Units: units, UnionFrequency: make([]int64, Levels)}
	var maxR, sumImp int64
	for f := 1; f <= Levels; f++ {
		in.UnionFrequency[f-1] = int64(math.Round(u * total[f]))
		in.Union += in.UnionFrequency[f-1]
	}
	for _, x := range units {
		maxR = max(maxR, x.Users)
		sumImp += x.Impressions
	}
	if in.Union < maxR { // rounding
		in.UnionFrequency[0] += maxR - in.Union
		in.Union = maxR
	}
	return in
}

// priced returns u bought at cpm yuan per thousand impressions.
func priced(u Unit, model admeter.BuyingModel, cpm float64) Unit {
	u.Model, u.Costed = model, true
	u.Cost = int64(math.Round(float64(u.Impressions) * cpm * admeter.MicroCNY / 1000))
	return u
}

// checkPlan checks what every plan must satisfy: spend conserved, NaN-free
// JSON, no worse than the current allocation, held units unchanged, every
// unit explained in both languages.
func checkPlan(t testing.TB, in Input, pl *Plan) {
	t.Helper()
	b, err := json.Marshal(pl)
	if err != nil {
		t.Fatalf("plan does not encode: %v", err)
	}
	if strings.Contains(string(b), "NaN") || strings.Contains(string(b), "Inf") {
		t.Fatalf("plan has a non-finite number: %s", b)
	}
	var cur, rec admeter.Money
	for i, u := range pl.Units {
		if u.Movable {
			cur += u.CurrentSpend
			rec += u.RecommendedSpend
		} else if u.RecommendedImpressions != in.Units[i].Impressions || u.RecommendedSpend != u.CurrentSpend {
			t.Errorf("held unit %s changed: %+v", u.Key, u)
		}
		if u.Explanation.Reason.EN == "" || u.Explanation.Reason.ZH == "" || u.Explanation.Action == "" {
			t.Errorf("unit %s is not explained: %+v", u.Key, u.Explanation)
		}
	}
	if cur != rec || cur != pl.MovableSpend {
		t.Errorf("movable spend %s now, %s recommended, budget %s", admeter.FormatCNY(int64(cur)), admeter.FormatCNY(int64(rec)), admeter.FormatCNY(int64(pl.MovableSpend)))
	}
	if pl.Recommended.EffectiveReach < pl.Current.EffectiveReach {
		t.Errorf("recommends less reach at %d+: %d < %d", pl.Effective, pl.Recommended.EffectiveReach, pl.Current.EffectiveReach)
	}
	if pl.Summary.EN == "" || pl.Summary.ZH == "" || len(pl.Assumptions) == 0 {
		t.Errorf("plan without a summary or assumptions")
	}
}

func TestRecommendMovesFromSaturatedToFresh(t *testing.T) {
	for _, eff := range []int{1, 3} {
		t.Run(fmt.Sprint(eff), func(t *testing.T) {
			// "sat" shows its ad 6 times per person to most of a small,
			// overlapped audience; "fresh" reaches few people once or twice.
			sat := priced(nbdUnit("sat", 1e5, 6, 1.5), admeter.CPM, 30)
			fresh := priced(nbdUnit("fresh", 1e6, 0.3, 1), admeter.CPM, 30)
			in := independent(3e5, sat, fresh)
			in.Effective = eff
			pl, err := Recommend(in)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, in, pl)
			if pl.Keep || pl.GainPercent < 5 {
				t.Fatalf("keeps the allocation or gains only %.1f%%: %s", pl.GainPercent, pl.Summary.EN)
			}
			s, f := pl.Units[0], pl.Units[1]
			if s.Explanation.Action != ActionLoses || f.Explanation.Action != ActionGains {
				t.Errorf("sat %s, fresh %s; want loses and gains", s.Explanation.Action, f.Explanation.Action)
			}
			if s.Explanation.MarginalNow >= f.Explanation.MarginalNow {
				t.Errorf("marginal reach now: sat %.1f, fresh %.1f", s.Explanation.MarginalNow, f.Explanation.MarginalNow)
			}
			if !strings.Contains(s.Explanation.Reason.EN, "times on average") {
				t.Errorf("sat's reason does not name its frequency: %s", s.Explanation.Reason.EN)
			}
			if s.Explanation.OverlapShare < 0.5 {
				t.Errorf("sat's overlap %.2f, want most of its users", s.Explanation.OverlapShare)
			}
			if f.RecommendedImpressions > int64(math.Ceil(DefaultMaxScale*float64(fresh.Impressions))) {
				t.Errorf("fresh grows to %d impressions, beyond its inventory limit", f.RecommendedImpressions)
			}
			t.Logf("%s | %s | cap %d", pl.Summary.EN, s.Explanation.Reason.EN, pl.Cap)
		})
	}
}

func TestRecommendHoldsUnmovable(t *testing.T) {
	sat := priced(nbdUnit("sat", 1e5, 6, 1.5), admeter.CPM, 30)
	fresh := priced(nbdUnit("fresh", 1e6, 0.3, 1), admeter.CPC, 30)
	cpd := priced(nbdUnit("cpd", 2e5, 1, 1), admeter.CPD, 10)
	fixed := priced(nbdUnit("fixed", 2e5, 1, 1), admeter.Fixed, 10)
	free := priced(nbdUnit("free", 2e5, 1, 1), admeter.CPM, 0)
	unpriced := nbdUnit("unpriced", 2e5, 1, 1)
	mixed := nbdUnit("mixed", 2e5, 1, 1)
	mixed.Costed, mixed.Cost = true, 1e9
	in := independent(3e6, sat, fresh, cpd, fixed, free, unpriced, mixed)
	pl, err := Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, in, pl)
	for i, want := range []string{ActionLoses, ActionGains, ActionHeld, ActionHeld, ActionHeld, ActionHeld, ActionHeld} {
		if got := pl.Units[i].Explanation.Action; got != want {
			t.Errorf("%s: %s, want %s (%s)", pl.Units[i].Key, got, want, pl.Units[i].Explanation.Reason.EN)
		}
	}
	for _, i := range []int{2, 3} {
		if r := pl.Units[i].Explanation.Reason.EN; !strings.Contains(r, "does not change with its impressions") {
			t.Errorf("%s: reason %q", pl.Units[i].Key, r)
		}
	}
	if pl.Recommended.SpendComplete {
		t.Error("spend complete with an unpriced unit")
	}
}

func TestRecommendKeeps(t *testing.T) {
	t.Run("symmetric", func(t *testing.T) {
		// Two identical units at one price: the current split is the best.
		a := priced(nbdUnit("a", 5e5, 1, 1), admeter.CPM, 20)
		b := priced(nbdUnit("b", 5e5, 1, 1), admeter.CPM, 20)
		in := independent(2e6, a, b)
		in.Caps = []int{0}
		pl, err := Recommend(in)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, in, pl)
		if !pl.Keep || pl.Cap != 0 {
			t.Errorf("keep %v, cap %d, gain %.2f%%; want keep: %s", pl.Keep, pl.Cap, pl.GainPercent, pl.Summary.EN)
		}
		if pl.Units[0].RecommendedSpend != pl.Units[0].CurrentSpend {
			t.Errorf("keep moves budget: %+v", pl.Units[0])
		}
	})
	t.Run("nothing movable", func(t *testing.T) {
		in := independent(1e6, priced(nbdUnit("a", 5e5, 1, 1), admeter.CPD, 20), nbdUnit("b", 5e5, 1, 1))
		pl, err := Recommend(in)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, in, pl)
		if !pl.Keep || !strings.Contains(pl.Summary.EN, "no budget to move") {
			t.Errorf("keep %v: %s", pl.Keep, pl.Summary.EN)
		}
	})
}

func TestRecommendErrors(t *testing.T) {
	good := nbdUnit("a", 1e4, 1, 1)
	short := good
	short.Frequency = good.Frequency[:5]
	for _, tc := range []struct {
		name string
		in   Input
	}{
		{"no units", Input{}},
		{"negative", Input{Units: []Unit{{Key: "a", Impressions: -1}}}},
		{"frequency length", single(short)},
		{"no key", single(Unit{})},
		{"more users than impressions", single(Unit{Key: "a", Users: 2, Impressions: 1, Frequency: make([]int64, Levels)})},
		{"union below a unit", Input{Units: []Unit{good}, Union: good.Users - 1, UnionFrequency: good.Frequency}},
		{"effective", func() Input { in := single(good); in.Effective = 21; return in }()},
		{"max scale", func() Input { in := single(good); in.MaxScale = 0.5; return in }()},
		{"cap", func() Input { in := single(good); in.Caps = []int{-1}; return in }()},
		{"model", func() Input { in := single(good); in.Units[0].Model = "cpa"; return in }()},
	} {
		_, err := Recommend(tc.in)
		var e *admeter.Error
		if !errors.As(err, &e) || e.Code != admeter.EINVALID {
			t.Errorf("%s: %v, want EINVALID", tc.name, err)
		}
	}
}

// randomInput returns a valid random Input of n units from r.
func randomInput(r *rand.Rand, n int) Input {
	units := make([]Unit, n)
	models := []admeter.BuyingModel{admeter.CPM, admeter.CPM, admeter.CPC, admeter.CPD, admeter.Fixed, ""}
	for i := range units {
		var u Unit
		if r.IntN(10) > 0 {
			u = nbdUnit(fmt.Sprint("u", i), math.Exp(r.Float64()*12+2), math.Exp(r.Float64()*5-2.5), math.Exp(r.Float64()*6-3))
		} else {
			u = Unit{Key: fmt.Sprint("u", i)}
		}
		u = priced(u, models[r.IntN(len(models))], r.Float64()*100)
		u.Costed = r.IntN(8) > 0
		units[i] = u
	}
	var sum float64
	for _, u := range units {
		sum += float64(u.Users)
	}
	in := independent(max(1, sum*math.Exp(r.Float64()*4-1.5)), units...)
	in.Effective = 1 + r.IntN(5)
	return in
}

func FuzzRecommend(f *testing.F) {
	f.Add(uint64(1), uint8(3))
	f.Add(uint64(2), uint8(1))
	f.Add(uint64(3), uint8(12))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		r := rand.New(rand.NewPCG(seed, 1))
		in := randomInput(r, 1+int(n)%16)
		pl, err := Recommend(in)
		if err != nil {
			// Random units may be invalid together (a union below a
			// unit's reach after rounding): that must be EINVALID.
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("Recommend: %v", err)
			}
			return
		}
		checkPlan(t, in, pl)
	})
}

func BenchmarkRecommend(b *testing.B) {
	for _, n := range []int{10, 60} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(uint64(n), 2))
			in := randomInput(r, n)
			for i := range in.Units {
				in.Units[i] = priced(in.Units[i], admeter.CPM, 10+r.Float64()*50)
			}
			in = independent(float64(in.Union)*3, in.Units...)
			in.Effective = 3
			for b.Loop() {
				if _, err := Recommend(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
