package reach

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

func p(v int64) *int64       { return &v }
func f(v float64) *float64   { return &v }
func ps(vs ...int64) []int64 { return vs }

// freq returns a MaxReachFrequency distribution with users[f] at
// frequency f.
func freq(users map[int]int64) []int64 {
	d := make([]int64, store.MaxReachFrequency)
	for f, u := range users {
		d[f-1] = u
	}
	return d
}

// fixture is three groups A, B, C:
//
//	A only 100, B only 60, A+B 40, C only 10, A+C 20, A+B+C 30
//
// so reach 260; A 190, B 130, C 60; A∩B 70, A∩C 50, B∩C 30.
func fixture() Input {
	return Input{
		Groups: []Group{
			{Key: "a", Name: "Alpha", Cost: 1000 * admeter.MicroCNY, Costed: true, Billed: 400},
			{Key: "b", Name: "Beta", Cost: 333_333_333, Costed: true, Billed: 200},
			{Key: "c", Name: "Gamma", Cost: 50 * admeter.MicroCNY, Costed: true, Billed: 100},
		},
		Sets: &store.ReachSetResult{
			Sets: []store.ReachSet{
				{Mask: 0b001, Users: 100, Impressions: 150},
				{Mask: 0b010, Users: 60, Impressions: 90},
				{Mask: 0b011, Users: 40, Impressions: 120},
				{Mask: 0b100, Users: 10, Impressions: 10},
				{Mask: 0b101, Users: 20, Impressions: 60},
				{Mask: 0b111, Users: 30, Impressions: 150},
			},
			AnonymousImpressions: 120,
			Waste:                map[int]int64{0: 30, 1: 20, 2: 10},
			Frequency:            freq(map[int]int64{1: 100, 2: 80, 3: 40, 4: 20, 5: 10, 10: 6, 20: 4}),
			Groups: map[int]store.GroupReach{
				0: {Users: 190, Impressions: 300},
				1: {Users: 130, Impressions: 180},
				2: {Users: 60, Impressions: 100},
			},
		},
		WasteAbove: 3,
	}
}

// The whole report of the fixture, costed, without a threshold: the JSON
// the API serves.
const fixtureJSON = `{
  "threshold": 0,
  "withheld": 0,
  "waste_above": 3,
  "totals": {
    "reach": 260,
    "impressions": 580,
    "anonymous_impressions": 120,
    "average_frequency": 2.2308,
    "gross_reach": 380,
    "duplication": 1.4615,
    "cost": "1383.333333",
    "cpum": "5320.512819",
    "waste_impressions": 60,
    "waste_share": 0.1034,
    "waste_cost": "113.333333",
    "waste_budget_share": 0.0819
  },
  "groups": [
    {"key": "a", "name": "Alpha", "reach": 190, "reach_share": 0.7308, "impressions": 300, "average_frequency": 1.5789,
     "exclusive_reach": 100, "exclusive_share": 0.5263, "duplicated_reach": 90, "waste_impressions": 30, "waste_share": 0.1,
     "cost": "1000.00", "cpum": "5263.157895", "cost_per_exclusive_user": "10.00", "waste_cost": "75.00"},
    {"key": "b", "name": "Beta", "reach": 130, "reach_share": 0.5, "impressions": 180, "average_frequency": 1.3846,
     "exclusive_reach": 60, "exclusive_share": 0.4615, "duplicated_reach": 70, "waste_impressions": 20, "waste_share": 0.1111,
     "cost": "333.333333", "cpum": "2564.102562", "cost_per_exclusive_user": "5.555556", "waste_cost": "33.333333"},
    {"key": "c", "name": "Gamma", "reach": 60, "reach_share": 0.2308, "impressions": 100, "average_frequency": 1.6667,
     "exclusive_reach": 10, "exclusive_share": 0.1667, "duplicated_reach": 50, "waste_impressions": 10, "waste_share": 0.1,
     "cost": "50.00", "cpum": "833.333333", "cost_per_exclusive_user": "5.00", "waste_cost": "5.00"}
  ],
  "overlap": {
    "keys": ["a", "b", "c"],
    "users": [[190, 70, 50], [70, 130, 30], [50, 30, 60]],
    "shares": [[1, 0.3684, 0.2632], [0.5385, 1, 0.2308], [0.8333, 0.5, 1]]
  },
  "curve": [
    {"step": 1, "key": "a", "name": "Alpha", "incremental_reach": 190, "cumulative_reach": 190, "cumulative_share": 0.7308,
     "cumulative_cost": "1000.00", "cost_per_incremental_user": "5.263158"},
    {"step": 2, "key": "b", "name": "Beta", "incremental_reach": 60, "cumulative_reach": 250, "cumulative_share": 0.9615,
     "cumulative_cost": "1333.333333", "cost_per_incremental_user": "5.555556"},
    {"step": 3, "key": "c", "name": "Gamma", "incremental_reach": 10, "cumulative_reach": 260, "cumulative_share": 1,
     "cumulative_cost": "1383.333333", "cost_per_incremental_user": "5.00"}
  ],
  "effective": [
    {"level": 1, "users": 260, "share": 1},
    {"level": 2, "users": 160, "share": 0.6154},
    {"level": 3, "users": 80, "share": 0.3077},
    {"level": 4, "users": 40, "share": 0.1538},
    {"level": 5, "users": 20, "share": 0.0769},
    {"level": 10, "users": 10, "share": 0.0385}
  ],
  "frequency": [
    {"frequency": "1", "users": 100, "share": 0.3846},
    {"frequency": "2", "users": 80, "share": 0.3077},
    {"frequency": "3", "users": 40, "share": 0.1538},
    {"frequency": "4", "users": 20, "share": 0.0769},
    {"frequency": "5", "users": 10, "share": 0.0385},
    {"frequency": "6", "users": 0, "share": 0},
    {"frequency": "7", "users": 0, "share": 0},
    {"frequency": "8", "users": 0, "share": 0},
    {"frequency": "9", "users": 0, "share": 0},
    {"frequency": "10", "users": 6, "share": 0.0231},
    {"frequency": "11", "users": 0, "share": 0},
    {"frequency": "12", "users": 0, "share": 0},
    {"frequency": "13", "users": 0, "share": 0},
    {"frequency": "14", "users": 0, "share": 0},
    {"frequency": "15", "users": 0, "share": 0},
    {"frequency": "16", "users": 0, "share": 0},
    {"frequency": "17", "users": 0, "share": 0},
    {"frequency": "18", "users": 0, "share": 0},
    {"frequency": "19", "users": 0, "share": 0},
    {"frequency": "20+", "users": 4, "share": 0.0154}
  ]
}`

// sameJSON fails t unless got marshals to the JSON of want.
func sameJSON(t *testing.T, got any, want string) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !bytes.Equal(g, w.Bytes()) {
		var gi, wi bytes.Buffer
		_ = json.Indent(&gi, g, "", "  ")
		_ = json.Indent(&wi, w.Bytes(), "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gi.String(), wi.String())
	}
}

func mustAnalyze(t *testing.T, in Input) *Report {
	t.Helper()
	r, err := Analyze(in)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return r
}

func TestAnalyzeFixture(t *testing.T) {
	sameJSON(t, mustAnalyze(t, fixture()), fixtureJSON)
}

// TestAnalyzeCurveTies: the greedy order takes the largest increment, the
// smaller key on a tie, and a group that reached no one last.
func TestAnalyzeCurveTies(t *testing.T) {
	in := Input{
		Groups: []Group{{Key: "b"}, {Key: "a"}, {Key: "c"}, {Key: "d"}, {Key: "0"}},
		Sets: &store.ReachSetResult{
			Sets: []store.ReachSet{
				{Mask: 0b0001, Users: 10}, // b
				{Mask: 0b0010, Users: 10}, // a
				{Mask: 0b0100, Users: 10}, // c
				{Mask: 0b0110, Users: 5},  // a+c
			},
			Frequency: freq(map[int]int64{1: 35}),
		},
	}
	r := mustAnalyze(t, in)
	type step struct {
		key       string
		inc, cum  int64
		share     float64
		costPerUs *admeter.Money
	}
	want := []step{{"a", 15, 15, 0.4286, nil}, {"b", 10, 25, 0.7143, nil}, {"c", 10, 35, 1, nil}, {"0", 0, 35, 1, nil}, {"d", 0, 35, 1, nil}}
	var got []step
	for i, s := range r.Curve {
		if s.Step != i+1 {
			t.Errorf("step %d numbered %d", i+1, s.Step)
		}
		if s.CumulativeCost != nil {
			t.Errorf("step %d: cumulative cost %d of uncosted groups", s.Step, *s.CumulativeCost)
		}
		got = append(got, step{s.Key, *s.IncrementalReach, *s.CumulativeReach, *s.CumulativeShare, s.CostPerIncrementalUser})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("curve %+v, want %+v", got, want)
	}
}

// TestAnalyzeUnknownCost: a group without a price has no cost, and every
// total or cumulative cost that includes it is unknown too.
func TestAnalyzeUnknownCost(t *testing.T) {
	in := fixture()
	in.Groups[1].Costed = false // b, the second step
	r := mustAnalyze(t, in)
	tt := r.Totals
	for name, v := range map[string]*admeter.Money{"cost": tt.Cost, "cpum": tt.CPUM, "waste_cost": tt.WasteCost} {
		if v != nil {
			t.Errorf("totals.%s = %d, want null", name, *v)
		}
	}
	if tt.WasteBudgetShare != nil {
		t.Errorf("totals.waste_budget_share = %v, want null", *tt.WasteBudgetShare)
	}
	b := r.Groups[1]
	if b.Cost != nil || b.CPUM != nil || b.CostPerExclusiveUser != nil || b.WasteCost != nil {
		t.Errorf("group b has costs %+v", b)
	}
	if a := r.Groups[0]; a.Cost == nil || *a.Cost != 1000*admeter.MicroCNY || a.CPUM == nil || *a.CPUM != 5263157895 {
		t.Errorf("group a lost its costs: %+v", a)
	}
	if c := r.Curve[0].CumulativeCost; c == nil || *c != 1000*admeter.MicroCNY {
		t.Errorf("step 1 cumulative cost %v, want 1000 yuan", c)
	}
	for _, s := range r.Curve[1:] {
		if s.CumulativeCost != nil {
			t.Errorf("step %d cumulative cost %d, want null after an uncosted group", s.Step, *s.CumulativeCost)
		}
	}
	if s := r.Curve[1]; s.CostPerIncrementalUser != nil {
		t.Errorf("step 2 (uncosted) cost per incremental user %d", *s.CostPerIncrementalUser)
	}
	if s := r.Curve[2]; s.CostPerIncrementalUser == nil || *s.CostPerIncrementalUser != 5*admeter.MicroCNY {
		t.Errorf("step 3 cost per incremental user %v, want 5 yuan", s.CostPerIncrementalUser)
	}
}

// TestAnalyzeFreeGroup: a priced group that cost nothing (a bonus
// placement) has zero costs, not unknown ones; a cost per user of no users
// is null.
func TestAnalyzeFreeGroup(t *testing.T) {
	in := Input{
		Groups: []Group{{Key: "free", Costed: true, Billed: 10}, {Key: "paid", Cost: 7 * admeter.MicroCNY, Costed: true, Billed: 3}},
		Sets: &store.ReachSetResult{
			Sets:      []store.ReachSet{{Mask: 0b11, Users: 3, Impressions: 9}},
			Waste:     map[int]int64{0: 4, 1: 2},
			Frequency: freq(map[int]int64{3: 3}),
			Groups:    map[int]store.GroupReach{0: {Users: 3, Impressions: 6}, 1: {Users: 3, Impressions: 3}},
		},
		WasteAbove: 1,
	}
	r := mustAnalyze(t, in)
	fr, paid := r.Groups[0], r.Groups[1]
	if *fr.Cost != 0 || *fr.CPUM != 0 || *fr.WasteCost != 0 || fr.CostPerExclusiveUser != nil {
		t.Errorf("free group costs %+v", fr)
	}
	// 7 yuan × 2 of 3 billed impressions wasted = 4.666667 yuan.
	if *paid.WasteCost != 4_666_667 || *r.Totals.WasteCost != 4_666_667 || *r.Totals.WasteBudgetShare != 0.6667 {
		t.Errorf("waste cost %d (total %d, share %v), want 4666667", *paid.WasteCost, *r.Totals.WasteCost, *r.Totals.WasteBudgetShare)
	}
	// 7 yuan / 3 users × 1000.
	if *paid.CPUM != 2_333_333_333 || *r.Totals.CPUM != 2_333_333_333 {
		t.Errorf("cpum %d, total %d, want 2333333333", *paid.CPUM, *r.Totals.CPUM)
	}
	if s := r.Curve[1]; s.Key != "paid" || *s.IncrementalReach != 0 || s.CostPerIncrementalUser != nil || *s.CumulativeCost != 7*admeter.MicroCNY {
		t.Errorf("step 2 %+v: want paid adding no one, no cost per user, 7 yuan so far", s)
	}
}

// TestAnalyzeThreshold checks what each threshold withholds on the
// fixture (combinations: A 100, B 60, A+B 40, C 10, A+C 20, A+B+C 30).
func TestAnalyzeThreshold(t *testing.T) {
	type want struct {
		groups   []bool // group reach published
		curveInc []bool
		curveCum []bool
		buckets  []int // withheld frequency buckets
		levels   []int // withheld effective levels
		gross    bool
		withheld int
	}
	all := []bool{true, true, true}
	for _, tc := range []struct {
		name string
		k    int
		want want
	}{
		// Every combination holds at least 10; buckets 10 and 20+ are
		// withheld, and together hold 10, so level 10+ stays.
		{"k10", 10, want{all, all, all, []int{10, 20}, nil, true, 2}},
		// C alone (10) is small: C goes to "other"; then other alone
		// (10) is small: B, the smaller of A and B, goes too. Leaves A
		// (100), other (70), A+other (90). Bucket 5 (10) joins 10 and
		// 20+; level 10 (10) is withheld, level 5 (20) stays.
		{"k11", 11, want{[]bool{true, false, false}, []bool{true, false, false}, []bool{true, false, true}, []int{5, 10, 20}, []int{10}, false,
			6 + 3 + 3 + 1 + 4}},
		// As k11 for groups; buckets 3, 4, 5, 10, 20+ and levels 4, 5,
		// 10 are below 50; together the buckets hold 80.
		{"k50", 50, want{[]bool{true, false, false}, []bool{true, false, false}, []bool{true, false, true}, []int{3, 4, 5, 10, 20}, []int{4, 5, 10}, false,
			6 + 3 + 3 + 1 + 8}},
		// Total reach below k: nothing about users.
		{"k261", 261, want{[]bool{false, false, false}, []bool{false, false, false}, []bool{false, false, false},
			[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, []int{1, 2, 3, 4, 5, 10}, false,
			1 + 1 + 9 + 3 + 5 + 20 + 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fixture()
			in.MinUsers = tc.k
			r := mustAnalyze(t, in)
			var got want
			for _, g := range r.Groups {
				got.groups = append(got.groups, g.Reach != nil)
				if (g.ExclusiveReach != nil) != (g.Reach != nil) || (g.DuplicatedReach != nil) != (g.Reach != nil) {
					t.Errorf("group %s: reach, exclusive and duplicated not published together: %+v", g.Key, g)
				}
				if g.Reach == nil && (g.ReachShare != nil || g.AverageFrequency != nil || g.CPUM != nil || g.CostPerExclusiveUser != nil || g.ExclusiveShare != nil) {
					t.Errorf("group %s: figures derived from a withheld reach: %+v", g.Key, g)
				}
				if g.Cost == nil || g.WasteCost == nil {
					t.Errorf("group %s: costs are not user counts, yet withheld", g.Key)
				}
			}
			for _, s := range r.Curve {
				got.curveInc = append(got.curveInc, s.IncrementalReach != nil)
				got.curveCum = append(got.curveCum, s.CumulativeReach != nil)
				if s.IncrementalReach == nil && s.CostPerIncrementalUser != nil {
					t.Errorf("step %d: cost per withheld increment", s.Step)
				}
			}
			for i, b := range r.Frequency {
				if b.Users == nil {
					got.buckets = append(got.buckets, i+1)
				}
			}
			for _, l := range r.Effective {
				if l.Users == nil {
					got.levels = append(got.levels, l.Level)
				}
			}
			got.gross = r.Totals.GrossReach != nil
			got.withheld = r.Withheld
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if r.Threshold != tc.k {
				t.Errorf("threshold %d, want %d", r.Threshold, tc.k)
			}
			// Overlap: published exactly between published groups.
			for i := range r.Overlap.Users {
				for j, u := range r.Overlap.Users[i] {
					if want := got.groups[i] && got.groups[j]; (u != nil) != want || (r.Overlap.Shares[i][j] != nil) != want {
						t.Errorf("overlap (%d, %d) published %v, want %v", i, j, u != nil, want)
					}
				}
			}
			checkPublished(t, r, int64(tc.k))
		})
	}
}

// TestAnalyzeThresholdTwoGroups: with two groups, reach A + reach B −
// total reach is the users of both; when those are fewer than k, neither
// group's reach may be published.
func TestAnalyzeThresholdTwoGroups(t *testing.T) {
	in := Input{
		Groups: []Group{{Key: "b"}, {Key: "a"}},
		Sets: &store.ReachSetResult{
			Sets:      []store.ReachSet{{Mask: 0b01, Users: 100}, {Mask: 0b10, Users: 100}, {Mask: 0b11, Users: 3}},
			Frequency: freq(map[int]int64{1: 200, 2: 3}),
		},
		MinUsers: 10,
	}
	r := mustAnalyze(t, in)
	if *r.Totals.Reach != 203 {
		t.Errorf("total reach %v, want 203", r.Totals.Reach)
	}
	for _, g := range r.Groups {
		if g.Reach != nil {
			t.Errorf("group %s reach %d published; with the other and the total it tells the 3 users of both", g.Key, *g.Reach)
		}
	}
	if r.Curve[1].CumulativeReach == nil || r.Curve[0].CumulativeReach != nil || r.Curve[0].IncrementalReach != nil {
		t.Errorf("curve %+v: want only the last cumulative reach (the total)", r.Curve)
	}
	// a and b tie on reach; a, the smaller key, is left out first, then
	// b, since b and other then share the 3 users.
	checkPublished(t, r, 10)

	in.Sets.Sets[2].Users = 10
	in.Sets.Frequency = freq(map[int]int64{1: 200, 2: 10})
	r = mustAnalyze(t, in)
	if r.Withheld != 0 || *r.Overlap.Users[0][1] != 10 || *r.Groups[1].DuplicatedReach != 10 {
		t.Errorf("with 10 users of both nothing is withheld at k = 10; got withheld %d, %+v", r.Withheld, r.Groups)
	}
}

// checkPublished fails t if a published user count of r is from 1 to k−1.
func checkPublished(t *testing.T, r *Report, k int64) {
	t.Helper()
	var counts []*int64
	counts = append(counts, r.Totals.Reach)
	for _, g := range r.Groups {
		counts = append(counts, g.Reach, g.ExclusiveReach, g.DuplicatedReach)
	}
	for _, row := range r.Overlap.Users {
		counts = append(counts, row...)
	}
	for _, s := range r.Curve {
		counts = append(counts, s.IncrementalReach, s.CumulativeReach)
	}
	for _, l := range r.Effective {
		counts = append(counts, l.Users)
	}
	for _, b := range r.Frequency {
		counts = append(counts, b.Users)
	}
	for _, c := range counts {
		if c != nil && *c > 0 && *c < k {
			t.Errorf("published a count of %d users, below k = %d", *c, k)
		}
	}
}

// TestGuardSeries checks the differencing guard of running sums.
func TestGuardSeries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		k        int64
		parts    []int64
		cuts     []int // positions asked for
		partOK   []bool
		cutOK    []bool // positions 0 to len(parts)
		withheld int
	}{
		{"none below k", 10, ps(50, 20, 10), []int{1, 2}, []bool{true, true, true}, []bool{true, true, true, true}, 0},
		{"no threshold", 0, ps(5, 1, 0), []int{1, 2}, []bool{true, true, true}, []bool{true, true, true, true}, 0},
		{"zeros published", 10, ps(50, 0, 0, 20), []int{1, 2, 3}, []bool{true, true, true, true}, []bool{true, true, true, true, true}, 0},
		// The total would reveal the one small part: the other goes too.
		{"pair", 10, ps(100, 3), nil, []bool{false, false}, []bool{true, false, true}, 2},
		// A small last part: its cut (suffix 3) is withheld, then the
		// smallest other part in the stretch.
		{"small tail", 10, ps(100, 60, 3), []int{1, 2}, []bool{true, false, false}, []bool{true, true, false, true}, 3},
		// Two small parts that together reach k hide each other.
		{"small parts summing to k", 10, ps(100, 6, 4), []int{1}, []bool{true, false, false}, []bool{true, true, false, true}, 2},
		// A small middle part between two published cuts with no other
		// part: the later cut goes, then the next part.
		{"small middle", 10, ps(50, 5, 50, 0), []int{1, 2}, []bool{true, false, false, true}, []bool{true, true, false, false, true}, 3},
		// A small first part: its cut's prefix is small; the later
		// part hides it.
		{"small head", 10, ps(3, 40, 40), []int{1, 2}, []bool{false, false, true}, []bool{true, false, true, true}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &guard{k: tc.k}
			cut := make([]bool, len(tc.parts)+1)
			for _, c := range tc.cuts {
				cut[c] = true
			}
			partOK, cutOK := g.series(tc.parts, cut)
			if !slices.Equal(partOK, tc.partOK) || !slices.Equal(cutOK, tc.cutOK) || g.withheld != tc.withheld {
				t.Errorf("parts %v cuts %v withheld %d, want %v %v %d", partOK, cutOK, g.withheld, tc.partOK, tc.cutOK, tc.withheld)
			}
		})
	}
}

func TestAnalyzeLevels(t *testing.T) {
	in := fixture()
	in.Levels = []int{20, 3, 3, 1}
	r := mustAnalyze(t, in)
	want := []EffectiveLevel{{1, p(260), f(1)}, {3, p(80), f(0.3077)}, {20, p(4), f(0.0154)}}
	if !reflect.DeepEqual(r.Effective, want) {
		t.Errorf("effective %+v, want %+v", r.Effective, want)
	}
}

func TestAnalyzeEmpty(t *testing.T) {
	r := mustAnalyze(t, Input{Groups: []Group{{Key: "a", Costed: true}}, Sets: &store.ReachSetResult{}, MinUsers: 50})
	if *r.Totals.Reach != 0 || r.Totals.AverageFrequency != nil || r.Totals.CPUM != nil || *r.Totals.Cost != 0 || r.Withheld != 0 {
		t.Errorf("empty report %+v", r)
	}
	if len(r.Curve) != 1 || *r.Curve[0].IncrementalReach != 0 || len(r.Frequency) != store.MaxReachFrequency {
		t.Errorf("empty report curve %+v, %d buckets", r.Curve, len(r.Frequency))
	}
}

func TestAnalyzeInvalid(t *testing.T) {
	tooMany := make([]Group, store.MaxReachGroups+1)
	for i := range tooMany {
		tooMany[i].Key = string(rune('A' + i))
	}
	for _, tc := range []struct {
		name   string
		change func(*Input)
	}{
		{"no sets", func(in *Input) { in.Sets = nil }},
		{"too many groups", func(in *Input) { in.Groups = tooMany }},
		{"set beyond groups", func(in *Input) { in.Sets.Sets[5].Mask = 0b1001 }},
		{"empty set", func(in *Input) { in.Sets.Sets[0].Mask = 0 }},
		{"negative users", func(in *Input) { in.Sets.Sets[0].Users = -1 }},
		{"level 0", func(in *Input) { in.Levels = []int{0, 1} }},
		{"level 21", func(in *Input) { in.Levels = []int{21} }},
		{"empty key", func(in *Input) { in.Groups[1].Key = "" }},
		{"repeated key", func(in *Input) { in.Groups[2].Key = "a" }},
		{"negative cost", func(in *Input) { in.Groups[0].Cost = -1 }},
		{"waste beyond billed", func(in *Input) { in.Groups[0].Billed = 29 }},
		{"waste of unknown group", func(in *Input) { in.Sets.Waste[3] = 1 }},
		{"group beyond groups", func(in *Input) { in.Sets.Groups[3] = store.GroupReach{} }},
		{"short frequency", func(in *Input) { in.Sets.Frequency = in.Sets.Frequency[:5] }},
		{"frequency not counting the sets", func(in *Input) { in.Sets.Frequency[0]++ }},
		{"negative threshold", func(in *Input) { in.MinUsers = -1 }},
		{"negative waste threshold", func(in *Input) { in.WasteAbove = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fixture()
			tc.change(&in)
			_, err := Analyze(in)
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Errorf("err %v, want EINVALID", err)
			}
		})
	}
}

func TestAnalyzeCostOverflow(t *testing.T) {
	in := fixture()
	in.Groups[0].Cost, in.Groups[1].Cost = 1<<62, 1<<62
	if _, err := Analyze(in); !errors.Is(err, admeter.ErrCostOverflow) {
		t.Errorf("err %v, want ErrCostOverflow", err)
	}
}

// randomInput builds a consistent input of n groups from rng.
func randomInput(rng *rand.Rand, n, sets int, maxUsers int64) Input {
	in := Input{Groups: make([]Group, n), Sets: &store.ReachSetResult{Waste: map[int]int64{}, Groups: map[int]store.GroupReach{}}, WasteAbove: 3}
	for i := range in.Groups {
		in.Groups[i] = Group{Key: string(rune('a'+i%26)) + string(rune('0'+i/26)), Costed: rng.IntN(4) > 0, Cost: rng.Int64N(1e12)}
	}
	all := uint64(1)<<n - 1
	if n == 64 {
		all = ^uint64(0)
	}
	seen := map[uint64]bool{}
	in.Sets.Frequency = make([]int64, store.MaxReachFrequency)
	for range sets {
		m := rng.Uint64() & all
		if n > 0 && rng.IntN(2) == 0 { // favour small combinations
			m &= rng.Uint64() & rng.Uint64()
		}
		if m == 0 || seen[m] {
			continue
		}
		seen[m] = true
		u := 1 + rng.Int64N(maxUsers)
		s := store.ReachSet{Mask: m, Users: u, Impressions: u * int64(1+rng.IntN(4))}
		in.Sets.Sets = append(in.Sets.Sets, s)
		in.Sets.Frequency[rng.IntN(store.MaxReachFrequency)] += u
		for b := m; b != 0; b &= b - 1 {
			i := bits.TrailingZeros64(b)
			g := in.Sets.Groups[i]
			g.Users += u
			g.Impressions += u
			in.Sets.Groups[i] = g
			in.Sets.Waste[i] += u / 2
		}
	}
	slices.SortFunc(in.Sets.Sets, func(a, b store.ReachSet) int { return cmp.Compare(a.Mask, b.Mask) })
	for i := range in.Groups {
		in.Groups[i].Billed = in.Sets.Groups[i].Impressions + rng.Int64N(10)
	}
	if len(in.Sets.Sets) == 0 {
		in.Sets.Frequency = nil
	}
	return in
}

// FuzzAnalyze checks, over random consistent inputs, that Analyze does
// not fail or panic and that its report holds together.
func FuzzAnalyze(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint16(8), uint8(0))
	f.Add(uint64(2), uint8(10), uint16(300), uint8(20))
	f.Add(uint64(3), uint8(64), uint16(500), uint8(5))
	f.Add(uint64(4), uint8(0), uint16(0), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, sets uint16, k uint8) {
		n %= store.MaxReachGroups + 1
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		in := randomInput(rng, int(n), int(sets%2000), 1+int64(rng.IntN(60)))
		in.MinUsers = int(k)
		r, err := Analyze(in)
		if errors.Is(err, admeter.ErrCostOverflow) {
			return
		} else if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		checkPublished(t, r, int64(k))
		if len(r.Curve) != int(n) || len(r.Groups) != int(n) || len(r.Frequency) != store.MaxReachFrequency {
			t.Fatalf("%d steps, %d groups, %d buckets for %d groups", len(r.Curve), len(r.Groups), len(r.Frequency), n)
		}
		if n > 0 {
			last := r.Curve[n-1].CumulativeReach
			if (last == nil) != (r.Totals.Reach == nil) || last != nil && *last != *r.Totals.Reach {
				t.Errorf("curve ends at %v, reach is %v", last, r.Totals.Reach)
			}
		}
		var prev int64 = -1
		for _, s := range r.Curve {
			if s.IncrementalReach != nil && prev >= 0 && *s.IncrementalReach > prev {
				t.Errorf("step %d adds %d, more than the step before (%d)", s.Step, *s.IncrementalReach, prev)
			}
			if s.IncrementalReach != nil {
				prev = *s.IncrementalReach
			}
		}
		for i, g := range r.Groups {
			if g.ExclusiveReach != nil && (*g.ExclusiveReach > *g.Reach || *g.ExclusiveReach+*g.DuplicatedReach != *g.Reach) {
				t.Errorf("group %s: exclusive %d, duplicated %d, reach %d", g.Key, *g.ExclusiveReach, *g.DuplicatedReach, *g.Reach)
			}
			for j := range r.Groups {
				a, b := r.Overlap.Users[i][j], r.Overlap.Users[j][i]
				if (a == nil) != (b == nil) || a != nil && *a != *b {
					t.Errorf("overlap (%d, %d) = %v, (%d, %d) = %v", i, j, a, j, i, b)
				}
				if a != nil && g.Reach != nil && *a > *g.Reach {
					t.Errorf("overlap (%d, %d) = %d is more than reach %d", i, j, *a, *g.Reach)
				}
			}
		}
		if in.MinUsers <= 1 && r.Withheld != 0 {
			t.Errorf("%d withheld without a threshold", r.Withheld)
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	for _, bc := range []struct {
		name    string
		n, sets int
	}{
		{"groups=10/sets=1023", 10, 0},
		{"groups=60/sets=36k", 60, 36_000},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		var in Input
		if bc.sets == 0 {
			in = randomInput(rng, bc.n, 0, 1)
			in.Sets = &store.ReachSetResult{Frequency: make([]int64, store.MaxReachFrequency), Groups: map[int]store.GroupReach{}}
			for m := uint64(1); m < 1<<bc.n; m++ {
				u := 1 + rng.Int64N(1000)
				in.Sets.Sets = append(in.Sets.Sets, store.ReachSet{Mask: m, Users: u, Impressions: 2 * u})
				in.Sets.Frequency[rng.IntN(store.MaxReachFrequency)] += u
			}
		} else {
			in = randomInput(rng, bc.n, bc.sets, 200)
		}
		for _, k := range []int{0, 50} {
			in.MinUsers = k
			b.Run(bc.name+"/k="+string(rune('0'+k/10))+string(rune('0'+k%10)), func(b *testing.B) {
				for b.Loop() {
					if _, err := Analyze(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
