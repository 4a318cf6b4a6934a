package storetest

import (
	"context"
	"fmt"
	"maps"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// The campaigns and placements of the reach tests: media A (placements pa1
// and pa2), B (pb) and C (pc), and px, a placement no query names.
const (
	reachCampaign2 admeter.CampaignID  = "10000002"
	reachCampaign3 admeter.CampaignID  = "10000003"
	pa1            admeter.PlacementID = "pa1"
	pa2            admeter.PlacementID = "pa2"
	pb             admeter.PlacementID = "pb"
	pc             admeter.PlacementID = "pc"
	px             admeter.PlacementID = "px"
)

// on puts the event on campaign c and placement p.
func on(c admeter.CampaignID, p admeter.PlacementID) Opt {
	return func(e *admeter.Event) { e.Campaign, e.Placement = c, p }
}

// invalid marks the event as invalid traffic.
var invalid = IVT(admeter.IVTCrawler)

// reachMedia are the groups of media A, B and C: pa1 and pa2 in group 0,
// pb in 1, pc in 2.
func reachMedia() map[admeter.PlacementID]int {
	return map[admeter.PlacementID]int{pa1: 0, pa2: 0, pb: 1, pc: 2}
}

// reachQuery returns the reach query of the default campaign and
// reachCampaign2 over [March 10, March 12) UTC, by medium, valid traffic.
func reachQuery() store.ReachSetQuery {
	return store.ReachSetQuery{
		Tenants:   []admeter.TenantID{DefaultTenant},
		Campaigns: []admeter.CampaignID{DefaultCampaign, reachCampaign2},
		From:      march(10, 0), To: march(12, 0),
		Groups: reachMedia(),
	}
}

// set returns a reach set.
func set(mask uint64, users, imps int64) store.ReachSet {
	return store.ReachSet{Mask: mask, Users: users, Impressions: imps}
}

// freq returns a frequency distribution of store.MaxReachFrequency
// entries from the users per frequency (store.MaxReachFrequency for that
// many or more).
func freq(users map[int]int64) []int64 {
	f := make([]int64, store.MaxReachFrequency)
	for n, u := range users {
		f[n-1] = u
	}
	return f
}

// checkReachSets runs q, checks the result is consistent (see
// checkReachConsistency) and compares it with want. Nil and empty Sets
// are alike, and so are a nil Waste, an empty one and one of zeros: a
// group without waste may be left out. Frequency and Groups are compared
// when want has either; otherwise only their consistency with Sets is
// checked.
func checkReachSets(t *testing.T, s store.Store, name string, q store.ReachSetQuery, want store.ReachSetResult) {
	t.Helper()
	got, err := s.ReachSets(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: ReachSets: %v", name, err)
	}
	for _, msg := range checkReachConsistency(got) {
		t.Errorf("%s: ReachSets(%q/%q): %s", name, q.Tenants, q.Campaigns, msg)
	}
	full := want.Frequency != nil || want.Groups != nil
	norm := func(r *store.ReachSetResult) store.ReachSetResult {
		n := *r
		if len(n.Sets) == 0 {
			n.Sets = nil
		}
		n.Waste = maps.Clone(n.Waste)
		maps.DeleteFunc(n.Waste, func(_ int, v int64) bool { return v == 0 })
		if len(n.Waste) == 0 {
			n.Waste = nil
		}
		if len(n.Groups) == 0 || !full {
			n.Groups = nil
		}
		if !full {
			n.Frequency = nil
		}
		return n
	}
	if g, w := norm(got), norm(&want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: ReachSets(%q/%q [%s, %s) groups %v filter %s waste above %d):\ngot:\n%s\nwant:\n%s", name,
			q.Tenants, q.Campaigns, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), q.Groups, q.Filter, q.WasteAbove,
			formatReachSets(&g), formatReachSets(&w))
	}
}

// checkReachConsistency returns what is inconsistent in r: Frequency is
// nil without users, else has store.MaxReachFrequency entries adding up
// to the users of Sets; each set's users have at least an impression on
// each of its groups; each group of a set has an entry in Groups and
// each entry is a group of a set, with as many users as the sets of its
// bit, a distribution adding up to them, and impressions that add up
// over the groups to those of Sets; a distribution's impressions
// (frequency times users) are those of its users, or a lower bound when
// its last bucket has users.
func checkReachConsistency(r *store.ReachSetResult) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	// checkDist checks a distribution of users with imps impressions.
	checkDist := func(what string, f []int64, users, imps int64) {
		if len(f) != store.MaxReachFrequency {
			fail("%s frequency has %d entries, want %d", what, len(f), store.MaxReachFrequency)
			return
		}
		var n, lower int64
		for i, u := range f {
			if u < 0 {
				fail("%s frequency %d has %d users", what, i+1, u)
			}
			n += u
			lower += int64(i+1) * u
		}
		switch {
		case n != users:
			fail("%s frequency adds up to %d users, want %d", what, n, users)
		case f[store.MaxReachFrequency-1] == 0 && lower != imps:
			fail("%s frequency makes %d impressions, want %d", what, lower, imps)
		case lower > imps:
			fail("%s frequency makes at least %d impressions, more than %d", what, lower, imps)
		}
	}
	var users, imps int64
	groupUsers := map[int]int64{}
	for _, s := range r.Sets {
		if s.Mask == 0 || s.Users <= 0 || s.Impressions < s.Users*int64(bits.OnesCount64(s.Mask)) {
			fail("set %#x has %d users and %d impressions", s.Mask, s.Users, s.Impressions)
		}
		users += s.Users
		imps += s.Impressions
		for g := range store.MaxReachGroups {
			if s.Mask&(1<<g) != 0 {
				groupUsers[g] += s.Users
			}
		}
	}
	if users == 0 {
		if r.Frequency != nil {
			fail("frequency %v without users", r.Frequency)
		}
	} else {
		checkDist("total", r.Frequency, users, imps)
	}
	var groupImps int64
	for g, gr := range r.Groups {
		if groupUsers[g] == 0 {
			fail("group %d is in Groups and in no set", g)
		}
		if gr.Users != groupUsers[g] {
			fail("group %d has %d users, its sets %d", g, gr.Users, groupUsers[g])
		}
		checkDist(fmt.Sprintf("group %d", g), gr.Frequency, gr.Users, gr.Impressions)
		groupImps += gr.Impressions
	}
	for g := range groupUsers {
		if _, ok := r.Groups[g]; !ok {
			fail("group %d of a set is not in Groups", g)
		}
	}
	if groupImps != imps {
		fail("the groups have %d impressions, the sets %d", groupImps, imps)
	}
	return errs
}

func formatReachSets(r *store.ReachSetResult) string {
	var b strings.Builder
	for _, s := range r.Sets {
		fmt.Fprintf(&b, "  mask %#x: %d users, %d impressions\n", s.Mask, s.Users, s.Impressions)
	}
	fmt.Fprintf(&b, "  anonymous %d, waste %v", r.AnonymousImpressions, r.Waste)
	if r.Frequency != nil {
		fmt.Fprintf(&b, "\n  frequency %v", r.Frequency)
	}
	for _, g := range slices.Sorted(maps.Keys(r.Groups)) {
		gr := r.Groups[g]
		fmt.Fprintf(&b, "\n  group %d: %d users, %d impressions, frequency %v", g, gr.Users, gr.Impressions, gr.Frequency)
	}
	return b.String()
}

// testReachSets: users are counted once across the campaigns, in the set
// of exactly the groups they were reached on; placements outside the
// groups, other campaigns, another tenant, clicks, served events and
// events outside the range are not read; retries count once with the
// first copy's verdict; anonymous impressions are counted apart.
func testReachSets(t *testing.T, s store.Store) {
	c1, c2, c3 := DefaultCampaign, reachCampaign2, reachCampaign3
	t0 := march(10, 10*time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	Insert(t, s, 1,
		// U1: A on two placements of c1; an invalid impression on C.
		Imp(at(0), User(1), on(c1, pa1)), Imp(at(1), User(1), on(c1, pa2)), Imp(at(2), User(1), on(c1, pc), invalid),
		// U2: B, retried (the retry first in the batch).
		Imp(at(0).Add(time.Second), User(2), on(c2, pb), VF(1)), Imp(at(0), User(2), on(c2, pb), VF(1)),
		// U3: A on c1 and B on c2: one user.
		Imp(at(0), User(3), on(c1, pa1)), Imp(at(1), User(3), on(c2, pb)),
		// U4: A, B and C twice.
		Imp(at(0), User(4), on(c1, pa1)), Imp(at(1), User(4), on(c2, pb)), Imp(at(2), User(4), on(c2, pc)), Imp(at(3), User(4), on(c2, pc)),
		// U5: A on c2 and px, which no group names.
		Imp(at(0), User(5), on(c2, pa2)), Imp(at(1), User(5), on(c1, px)),
		// U6: px only.
		Imp(at(0), User(6), on(c1, px)),
		// U7: C on c3, a campaign not asked for, and A on c1.
		Imp(at(0), User(7), on(c3, pc)), Imp(at(1), User(7), on(c1, pa1)),
		// U8: another tenant's campaign with the same id.
		Imp(at(0), User(8), on(c1, pa1), Tenant("t2")),
		// U9: a click and a served event, no impression.
		Click(at(0), User(9), on(c1, pa1)), Served(at(0), User(9), on(c1, pb)),
		// U10: invalid only.
		Imp(at(0), User(10), on(c2, pb), invalid),
		// U11: valid, its retry invalid; U12: invalid, its retry valid.
		Imp(at(0), User(11), on(c1, pa1), VF(2)), Imp(at(0).Add(time.Second), User(11), on(c1, pa1), VF(2), invalid),
		Imp(at(0).Add(time.Second), User(12), on(c2, pb), VF(3)), Imp(at(0), User(12), on(c2, pb), VF(3), invalid),
		// U13: one impression id on two placements: two impressions.
		Imp(at(0), User(13), on(c1, pa1), VF(4)), Imp(at(0), User(13), on(c2, pb), VF(4)),
		// U17: one impression id on one placement of two campaigns: an
		// impression of each, as their reports count them.
		Imp(at(0), User(17), on(c1, pa1), VF(5)), Imp(at(0).Add(time.Second), User(17), on(c2, pa1), VF(5)),
		// U14 at the range's start; U15 at its end and U16 just before
		// it, outside.
		Imp(march(10, 0), User(14), on(c1, pc)),
		Imp(march(12, 0), User(15), on(c1, pa1)), Imp(march(10, -time.Millisecond), User(16), on(c1, pa1)),
		// Anonymous: 3 valid and 1 invalid in the groups, 2 not read.
		Imp(at(0), on(c1, pa1)), Imp(at(1), on(c1, pa1)), Imp(at(2), on(c2, pb)), Imp(at(3), on(c1, pa1), invalid),
		Imp(at(4), on(c1, px)), Imp(at(5), on(c3, pa1)),
	)

	perPlacement := map[admeter.PlacementID]int{pa1: 0, pa2: 1, pb: 2, pc: 3}
	top := map[admeter.PlacementID]int{pa1: 0, pa2: 0, pb: 1, pc: 63}
	const bit63 = uint64(1) << 63
	tests := []struct {
		name   string
		change func(q *store.ReachSetQuery)
		want   store.ReachSetResult
	}{
		{"valid by medium", func(q *store.ReachSetQuery) {}, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 5, 7), // U1 (2), U5, U7, U11, U17 (2)
				set(0b010, 1, 1), // U2
				set(0b011, 2, 4), // U3, U13
				set(0b100, 1, 1), // U14
				set(0b111, 1, 4), // U4
			},
			AnonymousImpressions: 3,
			// Once: U5, U7, U11, U2, U14; twice: U1, U17, U3, U13; four
			// times: U4.
			Frequency: freq(map[int]int64{1: 5, 2: 4, 4: 1}),
			Groups: map[int]store.GroupReach{
				0: {Users: 8, Impressions: 10, Frequency: freq(map[int]int64{1: 6, 2: 2})}, // twice: U1, U17
				1: {Users: 4, Impressions: 4, Frequency: freq(map[int]int64{1: 4})},        // U2, U3, U4, U13
				2: {Users: 2, Impressions: 3, Frequency: freq(map[int]int64{1: 1, 2: 1})},  // U14, U4 twice
			},
		}},
		{"all traffic", func(q *store.ReachSetQuery) { q.Filter = store.FilterAll }, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 4, 5), // U5, U7, U11, U17 (2)
				set(0b010, 3, 3), // U2, U10, U12
				set(0b011, 2, 4), // U3, U13
				set(0b100, 1, 1), // U14
				set(0b101, 1, 3), // U1
				set(0b111, 1, 4), // U4
			},
			AnonymousImpressions: 4,
		}},
		{"one campaign and an unknown one", func(q *store.ReachSetQuery) {
			q.Campaigns = []admeter.CampaignID{c1, "99999999"}
		}, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 7, 8), // U1 (2), U3, U4, U7, U11, U13, U17
				set(0b100, 1, 1), // U14
			},
			AnonymousImpressions: 2,
		}},
		{"a campaign twice", func(q *store.ReachSetQuery) {
			q.Campaigns = []admeter.CampaignID{c2, c1, c2}
		}, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 5, 7), set(0b010, 1, 1), set(0b011, 2, 4), set(0b100, 1, 1), set(0b111, 1, 4),
			},
			AnonymousImpressions: 3,
		}},
		{"by placement", func(q *store.ReachSetQuery) { q.Groups = perPlacement }, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b0001, 3, 4), // U7, U11, U17 (2)
				set(0b0010, 1, 1), // U5
				set(0b0011, 1, 2), // U1
				set(0b0100, 1, 1), // U2
				set(0b0101, 2, 4), // U3, U13
				set(0b1000, 1, 1), // U14
				set(0b1101, 1, 4), // U4
			},
			AnonymousImpressions: 3,
		}},
		{"group 63", func(q *store.ReachSetQuery) { q.Groups = top }, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b01, 5, 7),
				set(0b10, 1, 1),
				set(0b11, 2, 4),
				set(bit63, 1, 1),
				set(bit63|0b11, 1, 4),
			},
			AnonymousImpressions: 3,
		}},
		{"some placements", func(q *store.ReachSetQuery) {
			q.Groups = map[admeter.PlacementID]int{pb: 5, "never-seen": 6}
		}, store.ReachSetResult{
			Sets:                 []store.ReachSet{set(1<<5, 4, 4)}, // U2, U3, U4, U13
			AnonymousImpressions: 1,
		}},
		{"no groups", func(q *store.ReachSetQuery) { q.Groups = nil }, store.ReachSetResult{}},
		{"other tenant", func(q *store.ReachSetQuery) { q.Tenants = []admeter.TenantID{"t2"} }, store.ReachSetResult{
			Sets: []store.ReachSet{set(0b1, 1, 1)}, // U8
		}},
		{"unknown tenant", func(q *store.ReachSetQuery) { q.Tenants = []admeter.TenantID{"t9"} }, store.ReachSetResult{}},
		{"narrow range", func(q *store.ReachSetQuery) {
			q.From, q.To = at(1), at(2)
		}, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 2, 2), // U1 on pa2, U7
				set(0b010, 2, 2), // U3, U4
			},
			AnonymousImpressions: 1,
		}},
		{"range after the events", func(q *store.ReachSetQuery) {
			q.From, q.To = march(12, time.Millisecond), march(13, 0)
		}, store.ReachSetResult{}},
	}
	for _, tt := range tests {
		q := reachQuery()
		tt.change(&q)
		checkReachSets(t, s, tt.name, q, tt.want)
	}
}

// testReachSetsWaste: a user's impressions beyond the first WasteAbove
// across the groups, in event-time order with ties by receive time, are
// waste on the groups they were on. Retries, impressions outside the
// groups, invalid ones under FilterValid and anonymous ones are not
// counted towards the threshold.
func testReachSetsWaste(t *testing.T, s store.Store) {
	t0 := march(10, 10*time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	Insert(t, s, 1,
		// W1, in the batch out of order: A, A, then at the same instant B
		// received after A, then B. The first three are A; B and B are
		// waste at 3.
		Imp(at(3), User(1), on(DefaultCampaign, pb)),
		Imp(at(2), User(1), on(reachCampaign2, pb), Received(at(2).Add(5*time.Second))),
		Imp(at(2), User(1), on(DefaultCampaign, pa1), Received(at(2).Add(time.Second))),
		Imp(at(1), User(1), on(reachCampaign2, pa2)),
		Imp(at(0), User(1), on(DefaultCampaign, pa1)),
		// W2: A, B, B: exactly three.
		Imp(at(0), User(2), on(DefaultCampaign, pa1)), Imp(at(1), User(2), on(DefaultCampaign, pb)), Imp(at(2), User(2), on(DefaultCampaign, pb)),
		// W3: three on A and a retry.
		Imp(at(0), User(3), on(DefaultCampaign, pa1), VF(1)), Imp(at(1), User(3), on(DefaultCampaign, pa1), VF(1)),
		Imp(at(2), User(3), on(DefaultCampaign, pa1)), Imp(at(3), User(3), on(DefaultCampaign, pa2)),
		// W4: an invalid impression on B first, then four on A.
		Imp(at(0), User(4), on(DefaultCampaign, pb), invalid),
		Imp(at(1), User(4), on(DefaultCampaign, pa1)), Imp(at(2), User(4), on(DefaultCampaign, pa1)),
		Imp(at(3), User(4), on(DefaultCampaign, pa1)), Imp(at(4), User(4), on(DefaultCampaign, pa1)),
		// W5: two on px, then three on A.
		Imp(at(0), User(5), on(DefaultCampaign, px)), Imp(at(1), User(5), on(DefaultCampaign, px)),
		Imp(at(2), User(5), on(DefaultCampaign, pa1)), Imp(at(3), User(5), on(DefaultCampaign, pa1)), Imp(at(4), User(5), on(DefaultCampaign, pa1)),
		// Five anonymous impressions on A.
		Imp(at(0), on(DefaultCampaign, pa1)), Imp(at(1), on(DefaultCampaign, pa1)), Imp(at(2), on(DefaultCampaign, pa1)),
		Imp(at(3), on(DefaultCampaign, pa1)), Imp(at(4), on(DefaultCampaign, pa1)),
	)
	valid := []store.ReachSet{
		set(0b01, 3, 10), // W3, W4, W5
		set(0b11, 2, 8),  // W1, W2
	}
	all := []store.ReachSet{
		set(0b01, 2, 6),  // W3, W5
		set(0b11, 3, 13), // W1, W2, W4
	}
	tests := []struct {
		name   string
		filter store.TrafficFilter
		above  int
		want   store.ReachSetResult
	}{
		{"no threshold", store.FilterValid, 0, store.ReachSetResult{Sets: valid, AnonymousImpressions: 5}},
		// W1: B, B; W4: A.
		{"above 3", store.FilterValid, 3, store.ReachSetResult{Sets: valid, AnonymousImpressions: 5, Waste: map[int]int64{0: 1, 1: 2}}},
		// W1: B, B; W4: A, A (the invalid B is among its first three).
		{"above 3, all traffic", store.FilterAll, 3, store.ReachSetResult{Sets: all, AnonymousImpressions: 5, Waste: map[int]int64{0: 2, 1: 2}}},
		// W1: A, A, B, B; W2: B, B; W3: A, A; W4: A, A, A; W5: A, A.
		{"above 1", store.FilterValid, 1, store.ReachSetResult{Sets: valid, AnonymousImpressions: 5, Waste: map[int]int64{0: 9, 1: 4}}},
		{"above 5", store.FilterValid, 5, store.ReachSetResult{Sets: valid, AnonymousImpressions: 5}},
	}
	for _, tt := range tests {
		q := reachQuery()
		q.Filter, q.WasteAbove = tt.filter, tt.above
		checkReachSets(t, s, tt.name, q, tt.want)
	}

	// Groups by placement: W1's waste is on pb (group 2).
	q := reachQuery()
	q.Groups, q.WasteAbove = map[admeter.PlacementID]int{pa1: 0, pa2: 1, pb: 2}, 3
	checkReachSets(t, s, "by placement above 3", q, store.ReachSetResult{
		Sets: []store.ReachSet{
			set(0b001, 2, 7), // W4, W5
			set(0b011, 1, 3), // W3
			set(0b101, 1, 3), // W2
			set(0b111, 1, 5), // W1
		},
		AnonymousImpressions: 5,
		Waste:                map[int]int64{0: 1, 2: 2},
	})
}

// imps returns n impressions with opts, a second apart from at.
func imps(n int, at time.Time, opts ...Opt) []admeter.Event {
	evs := make([]admeter.Event, n)
	for i := range evs {
		evs[i] = Imp(at.Add(time.Duration(i)*time.Second), opts...)
	}
	return evs
}

// testReachSetsFrequency: the frequency distribution of all the groups
// counts each user's impressions across them, and each group's only its
// own; from MaxReachFrequency impressions on, a user is in the last
// bucket; the traffic filter, the retries and the placements outside
// the groups count as in Sets, and the impressions without a user are in
// no distribution.
func testReachSetsFrequency(t *testing.T, s store.Store) {
	c1, c2 := DefaultCampaign, reachCampaign2
	t0 := march(10, 10*time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	var evs []admeter.Event
	add := func(e ...admeter.Event) { evs = append(evs, e...) }
	// F1: once on A, and three times on px, which no group names.
	add(Imp(at(0), User(1), on(c1, pa1)))
	add(imps(3, at(1), User(1), on(c1, px))...)
	// F2: A twice, on two placements and two campaigns.
	add(Imp(at(0), User(2), on(c1, pa1)), Imp(at(1), User(2), on(c2, pa2)))
	// F3: A once, B twice: 3 in all.
	add(Imp(at(0), User(3), on(c1, pa1)))
	add(imps(2, at(1), User(3), on(c2, pb))...)
	// F4: B 25 times.
	add(imps(25, at(0), User(4), on(c1, pb))...)
	// F5: A 12 times, then C 8 times: 20 in all.
	add(imps(12, at(0), User(5), on(c1, pa2))...)
	add(imps(8, at(1), User(5), on(c2, pc))...)
	// F6: A 19 times.
	add(imps(19, at(0), User(6), on(c1, pa1))...)
	// F7: A once, and B twice invalid.
	add(Imp(at(0), User(7), on(c1, pa1)))
	add(imps(2, at(1), User(7), on(c1, pb), invalid)...)
	// F8: C once, invalid.
	add(Imp(at(0), User(8), on(c1, pc), invalid))
	// F9: A once, retried twice, and C once.
	add(Imp(at(0), User(9), on(c1, pa1), VF(1)), Imp(at(1), User(9), on(c1, pa1), VF(1)), Imp(at(2), User(9), on(c1, pa1), VF(1)))
	add(Imp(at(3), User(9), on(c1, pc)))
	// F10: B once, invalid, its retry valid.
	add(Imp(at(0), User(10), on(c2, pb), VF(2), invalid), Imp(at(1), User(10), on(c2, pb), VF(2)))
	// Anonymous: A twice and B once, valid; C once, invalid.
	add(Imp(at(0), on(c1, pa1)), Imp(at(1), on(c1, pa1)), Imp(at(2), on(c2, pb)), Imp(at(3), on(c1, pc), invalid))
	Insert(t, s, 1, evs...)

	valid := store.ReachSetResult{
		Sets: []store.ReachSet{
			set(0b001, 4, 23), // F1, F2, F6, F7
			set(0b010, 1, 25), // F4
			set(0b011, 1, 3),  // F3
			set(0b101, 2, 22), // F5, F9
		},
		AnonymousImpressions: 3,
		// Once: F1, F7; twice: F2, F9; 3: F3; 19: F6; 20 or more: F4, F5.
		Frequency: freq(map[int]int64{1: 2, 2: 2, 3: 1, 19: 1, 20: 2}),
		Groups: map[int]store.GroupReach{
			// Once: F1, F3, F7, F9; twice: F2; 12: F5; 19: F6.
			0: {Users: 7, Impressions: 37, Frequency: freq(map[int]int64{1: 4, 2: 1, 12: 1, 19: 1})},
			// Twice: F3; 25: F4.
			1: {Users: 2, Impressions: 27, Frequency: freq(map[int]int64{2: 1, 20: 1})},
			// Once: F9; 8: F5.
			2: {Users: 2, Impressions: 9, Frequency: freq(map[int]int64{1: 1, 8: 1})},
		},
	}
	all := store.ReachSetResult{
		Sets: []store.ReachSet{
			set(0b001, 3, 22), // F1, F2, F6
			set(0b010, 2, 26), // F4, F10
			set(0b011, 2, 6),  // F3, F7
			set(0b100, 1, 1),  // F8
			set(0b101, 2, 22), // F5, F9
		},
		AnonymousImpressions: 4,
		// Once: F1, F8, F10; twice: F2, F9; 3: F3, F7; 19: F6; 20 or
		// more: F4, F5.
		Frequency: freq(map[int]int64{1: 3, 2: 2, 3: 2, 19: 1, 20: 2}),
		Groups: map[int]store.GroupReach{
			0: {Users: 7, Impressions: 37, Frequency: freq(map[int]int64{1: 4, 2: 1, 12: 1, 19: 1})},
			// Once: F10; twice: F3, F7; 25: F4.
			1: {Users: 4, Impressions: 30, Frequency: freq(map[int]int64{1: 1, 2: 2, 20: 1})},
			// Once: F8, F9; 8: F5.
			2: {Users: 3, Impressions: 10, Frequency: freq(map[int]int64{1: 2, 8: 1})},
		},
	}
	q := reachQuery()
	checkReachSets(t, s, "frequency, valid traffic", q, valid)
	q.Filter = store.FilterAll
	checkReachSets(t, s, "frequency, all traffic", q, all)

	// The waste does not change the distributions: beyond 19, F4's last
	// 6 on B and F5's last on C.
	q.Filter, q.WasteAbove = store.FilterValid, 19
	valid.Waste = map[int]int64{1: 6, 2: 1}
	checkReachSets(t, s, "frequency with waste above 19", q, valid)

	// B and C in one group: F5 and F9 on A and on it, F7 (valid) on A
	// only.
	q.WasteAbove, q.Groups = 0, map[admeter.PlacementID]int{pa1: 0, pa2: 0, pb: 1, pc: 1}
	checkReachSets(t, s, "frequency, B and C together", q, store.ReachSetResult{
		Sets: []store.ReachSet{
			set(0b01, 4, 23), // F1, F2, F6, F7
			set(0b10, 1, 25), // F4
			set(0b11, 3, 25), // F3, F5, F9
		},
		AnonymousImpressions: 3,
		Frequency:            freq(map[int]int64{1: 2, 2: 2, 3: 1, 19: 1, 20: 2}),
		Groups: map[int]store.GroupReach{
			0: {Users: 7, Impressions: 37, Frequency: freq(map[int]int64{1: 4, 2: 1, 12: 1, 19: 1})},
			// Once: F9; twice: F3; 8: F5; 25: F4.
			1: {Users: 4, Impressions: 36, Frequency: freq(map[int]int64{1: 1, 2: 1, 8: 1, 20: 1})},
		},
	})

	// Only the anonymous impressions on one group: no user, no
	// distribution.
	q.Groups = map[admeter.PlacementID]int{pb: 0}
	q.Campaigns = []admeter.CampaignID{c2}
	q.From, q.To = at(2), at(3)
	checkReachSets(t, s, "frequency, anonymous only", q, store.ReachSetResult{AnonymousImpressions: 1})
}

// testReachSetsTenants: a query of several tenants reads the events of
// each of them on the campaigns named, and counts a user reached through
// two tenants once; a tenant not named is not read, even on a campaign
// named (campaign ids are the tenants' own); the same impression id on
// the same placement of two tenants is an impression of each, as each
// tenant's report counts it.
func testReachSetsTenants(t *testing.T, s store.Store) {
	c1, c2, c3 := DefaultCampaign, reachCampaign2, reachCampaign3
	const t1, t2, t3 = DefaultTenant, admeter.TenantID("t2"), admeter.TenantID("t3")
	t0 := march(10, 10*time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	Insert(t, s, 1,
		// U1: A through t1, B through t2.
		Imp(at(0), User(1), on(c1, pa1)), Imp(at(1), User(1), on(c2, pb), Tenant(t2)),
		// U2: A twice through t1.
		Imp(at(0), User(2), on(c1, pa1)), Imp(at(1), User(2), on(c1, pa2)),
		// U3: B through t2.
		Imp(at(0), User(3), on(c2, pb), Tenant(t2)),
		// U4: C on t3's campaign of the same id as c1.
		Imp(at(0), User(4), on(c1, pc), Tenant(t3)),
		// U5: C on t2's campaign of the same id as c1.
		Imp(at(0), User(5), on(c1, pc), Tenant(t2)),
		// U6: one impression id on pa1 of c1 of t1 and of t2.
		Imp(at(0), User(6), on(c1, pa1), VF(7)), Imp(at(0).Add(time.Second), User(6), on(c1, pa1), VF(7), Tenant(t2)),
		// U7: A on t3's campaign c3.
		Imp(at(0), User(7), on(c3, pa1), Tenant(t3)),
		// Anonymous: B through t2, A through t3.
		Imp(at(0), on(c2, pb), Tenant(t2)), Imp(at(0), on(c1, pa1), Tenant(t3)),
	)
	both := store.ReachSetResult{
		Sets: []store.ReachSet{
			set(0b001, 2, 4), // U2, U6 (once per tenant)
			set(0b010, 1, 1), // U3
			set(0b011, 1, 2), // U1
			set(0b100, 1, 1), // U5
		},
		AnonymousImpressions: 1,
		Frequency:            freq(map[int]int64{1: 2, 2: 3}), // once: U3, U5
		Groups: map[int]store.GroupReach{
			0: {Users: 3, Impressions: 5, Frequency: freq(map[int]int64{1: 1, 2: 2})}, // once: U1
			1: {Users: 2, Impressions: 2, Frequency: freq(map[int]int64{1: 2})},       // U1, U3
			2: {Users: 1, Impressions: 1, Frequency: freq(map[int]int64{1: 1})},       // U5
		},
	}
	onlyT1 := store.ReachSetResult{
		Sets:      []store.ReachSet{set(0b001, 3, 4)}, // U1, U2 (twice), U6
		Frequency: freq(map[int]int64{1: 2, 2: 1}),
		Groups:    map[int]store.GroupReach{0: {Users: 3, Impressions: 4, Frequency: freq(map[int]int64{1: 2, 2: 1})}},
	}
	tests := []struct {
		name      string
		tenants   []admeter.TenantID
		campaigns []admeter.CampaignID
		want      store.ReachSetResult
	}{
		{"two tenants", []admeter.TenantID{t1, t2}, nil, both},
		{"two tenants reversed and repeated", []admeter.TenantID{t2, t1, t2}, nil, both},
		{"one tenant", []admeter.TenantID{t1}, nil, onlyT1},
		{"one tenant and an unknown one", []admeter.TenantID{"t9", t1}, nil, onlyT1},
		{"the other tenant", []admeter.TenantID{t2}, nil, store.ReachSetResult{
			Sets: []store.ReachSet{
				set(0b001, 1, 1), // U6
				set(0b010, 2, 2), // U1, U3
				set(0b100, 1, 1), // U5
			},
			AnonymousImpressions: 1,
		}},
		{"two tenants, one campaign", []admeter.TenantID{t1, t2}, []admeter.CampaignID{c2}, store.ReachSetResult{
			Sets:                 []store.ReachSet{set(0b010, 2, 2)}, // U1, U3
			AnonymousImpressions: 1,
		}},
		// t3's own campaign of the id c1 is read when t3 is named.
		{"the third tenant", []admeter.TenantID{t3}, nil, store.ReachSetResult{
			Sets:                 []store.ReachSet{set(0b100, 1, 1)}, // U4
			AnonymousImpressions: 1,
		}},
		{"unknown tenants", []admeter.TenantID{"t8", "t9"}, nil, store.ReachSetResult{}},
	}
	for _, tt := range tests {
		q := reachQuery()
		q.Tenants = tt.tenants
		if tt.campaigns != nil {
			q.Campaigns = tt.campaigns
		}
		checkReachSets(t, s, tt.name, q, tt.want)
	}
}

// testReachSetsEmpty: a store without events answers every valid query
// with nothing.
func testReachSetsEmpty(t *testing.T, s store.Store) {
	q := reachQuery()
	checkReachSets(t, s, "empty", q, store.ReachSetResult{})
	q.Filter, q.WasteAbove = store.FilterAll, 2
	checkReachSets(t, s, "empty with waste", q, store.ReachSetResult{})
}

// testReachSetsInvalid: malformed queries are EINVALID, with or without
// events.
func testReachSetsInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	bad := map[string]func(q *store.ReachSetQuery){
		"no tenant":      func(q *store.ReachSetQuery) { q.Tenants = nil },
		"empty tenant":   func(q *store.ReachSetQuery) { q.Tenants = []admeter.TenantID{""} },
		"a tenant empty": func(q *store.ReachSetQuery) { q.Tenants = []admeter.TenantID{DefaultTenant, ""} },
		"no campaign":    func(q *store.ReachSetQuery) { q.Campaigns = nil },
		"empty range":    func(q *store.ReachSetQuery) { q.To = q.From },
		"reversed range": func(q *store.ReachSetQuery) { q.From, q.To = q.To, q.From },
		"no range":       func(q *store.ReachSetQuery) { q.From, q.To = time.Time{}, time.Time{} },
		"group 64":       func(q *store.ReachSetQuery) { q.Groups[pc] = store.MaxReachGroups },
		"group -1":       func(q *store.ReachSetQuery) { q.Groups[pc] = -1 },
		"negative waste": func(q *store.ReachSetQuery) { q.WasteAbove = -1 },
		"unknown filter": func(q *store.ReachSetQuery) { q.Filter = store.TrafficFilter(200) },
	}
	for i := range 2 {
		for name, change := range bad {
			q := reachQuery()
			change(&q)
			if _, err := s.ReachSets(ctx, q); admeter.ErrorCode(err) != admeter.EINVALID {
				t.Errorf("ReachSets with %s: %v, want EINVALID", name, err)
			}
		}
		if _, err := s.ReachSets(ctx, reachQuery()); err != nil {
			t.Errorf("valid ReachSets: %v", err)
		}
		if i == 0 {
			Insert(t, s, 1, Imp(march(10, time.Hour), User(1), on(DefaultCampaign, pa1)))
		}
	}
}
