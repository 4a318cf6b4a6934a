package attribution_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/attribution"
	"github.com/admeter/admeter/store"
)

var t0 = time.Date(2026, 11, 11, 20, 0, 0, 0, time.UTC)

const (
	day = 24 * time.Hour
	ms  = time.Millisecond
)

func pseudonym(tag byte, n int) admeter.Pseudonym {
	var p admeter.Pseudonym
	p[0], p[1], p[2], p[3], p[4] = tag, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return p
}

func user(n int) admeter.Pseudonym    { return pseudonym(0x55, n) }
func clickID(n int) admeter.Pseudonym { return pseudonym(0xc1, n) }

// conv is a conversion of user u (0: none) at t0, with click id k (0:
// none), of type typ ("" means order).
func conv(u, k int, typ string) store.Conversion {
	c := store.Conversion{ID: pseudonym(0xcc, u*1000+k), Type: typ, At: t0, Received: t0, Value: 99_500_000, Currency: "USD"}
	if c.Type == "" {
		c.Type = admeter.ConversionOrder
	}
	if u != 0 {
		c.User, c.UserType = user(u), admeter.IDOAID
	}
	if k != 0 {
		c.ClickID = clickID(k)
	}
	return c
}

// click and imp are touches of user u on campaign c, placement p, ago
// before t0.
func click(c, p string, u int, ago time.Duration) store.Touch {
	return store.Touch{Kind: admeter.KindClick, Campaign: admeter.CampaignID(c), Placement: admeter.PlacementID(p), At: t0.Add(-ago), User: user(u)}
}

func imp(c, p string, u int, ago time.Duration) store.Touch {
	t := click(c, p, u, ago)
	t.Kind = admeter.KindImpression
	return t
}

func withClickID(t store.Touch, k int) store.Touch { t.ClickID = clickID(k); return t }

func anonymous(t store.Touch) store.Touch { t.User = admeter.Pseudonym{}; return t }

// campaigns: "dflt" uses the defaults (7 d click, 1 d view); "short" 1 d
// click, 1 d view; "noclick" 0 d click, 1 d view; "noview" 7 d click, 0 d
// view; "typed" 7/1 by default but 30 d click and no view for orders.
var campaigns = map[admeter.CampaignID]*admeter.Attribution{
	"dflt":    {},
	"dflt2":   {},
	"short":   {Default: &admeter.AttributionRule{ClickWindowDays: 1, ViewWindowDays: 1}},
	"noclick": {Default: &admeter.AttributionRule{ClickWindowDays: 0, ViewWindowDays: 1}},
	"noview":  {Default: &admeter.AttributionRule{ClickWindowDays: 7, ViewWindowDays: 0}},
	"typed":   {ByType: map[string]admeter.AttributionRule{admeter.ConversionOrder: {ClickWindowDays: 30, ViewWindowDays: 0}}},
}

func rules(id admeter.CampaignID) (*admeter.Attribution, bool) {
	a, ok := campaigns[id]
	return a, ok
}

func TestAttribute(t *testing.T) {
	tests := []struct {
		name    string
		conv    store.Conversion
		touches []store.Touch
		want    int // index of the winning touch, -1 unattributed
		byClick bool
	}{
		{"last click", conv(1, 0, ""), []store.Touch{click("dflt", "p1", 1, time.Hour)}, 0, false},
		{"click exactly at the 7-day window", conv(1, 0, ""), []store.Touch{click("dflt", "p1", 1, 7*day)}, 0, false},
		{"click just past the 7-day window", conv(1, 0, ""), []store.Touch{click("dflt", "p1", 1, 7*day+ms)}, -1, false},
		{"impression exactly at the 1-day window", conv(1, 0, ""), []store.Touch{imp("dflt", "p1", 1, day)}, 0, false},
		{"impression just past the 1-day window", conv(1, 0, ""), []store.Touch{imp("dflt", "p1", 1, day+ms)}, -1, false},
		{"touch at the conversion's instant", conv(1, 0, ""), []store.Touch{imp("dflt", "p1", 1, 0)}, 0, false},
		{"touches after the conversion are ignored", conv(1, 0, ""),
			[]store.Touch{imp("dflt", "p1", 1, 2*time.Hour), click("dflt", "p1", 1, -time.Second), imp("dflt", "p2", 1, -time.Minute)}, 0, false},
		{"click beats a later impression", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 1, 2*day), imp("dflt", "p2", 1, time.Hour)}, 0, false},
		{"last click across campaigns", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 1, 3*day), click("dflt2", "q1", 1, day)}, 1, false},
		{"last impression across campaigns", conv(1, 0, ""),
			[]store.Touch{imp("dflt2", "q1", 1, 20*time.Hour), imp("dflt", "p1", 1, 2*time.Hour)}, 1, false},
		{"each click within its own campaign's window", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 1, 3*day), click("short", "s1", 1, 2*day)}, 0, false},
		{"the later click wins when both are within their windows", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 1, 3*day), click("short", "s1", 1, 12*time.Hour)}, 1, false},
		{"0-day click window turns post-click off", conv(1, 0, ""),
			[]store.Touch{click("noclick", "n1", 1, time.Hour), imp("noclick", "n1", 1, 2*time.Hour)}, 1, false},
		{"0-day click window and nothing else", conv(1, 0, ""), []store.Touch{click("noclick", "n1", 1, time.Minute)}, -1, false},
		{"0-day view window turns post-view off", conv(1, 0, ""), []store.Touch{imp("noview", "v1", 1, time.Minute)}, -1, false},
		{"0-day view window, an older click of another campaign wins", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 1, 5*day), imp("noview", "v1", 1, time.Minute)}, 0, false},
		{"per-type rule: order has a 30-day click window", conv(1, 0, admeter.ConversionOrder),
			[]store.Touch{click("typed", "t1", 1, 20*day)}, 0, false},
		{"per-type rule: activation keeps the 7-day default", conv(1, 0, admeter.ConversionActivation),
			[]store.Touch{click("typed", "t1", 1, 20*day)}, -1, false},
		{"per-type rule: order has no view window", conv(1, 0, admeter.ConversionOrder),
			[]store.Touch{imp("typed", "t1", 1, time.Hour)}, -1, false},
		{"per-type rule: activation keeps the 1-day view window", conv(1, 0, admeter.ConversionActivation),
			[]store.Touch{imp("typed", "t1", 1, time.Hour)}, 0, false},
		{"click id beats the user's later click", conv(1, 7, ""),
			[]store.Touch{withClickID(click("dflt", "p1", 2, 2*day), 7), click("dflt2", "q1", 1, time.Hour)}, 0, true},
		{"click id outside its window falls back to the user's last click", conv(1, 7, ""),
			[]store.Touch{withClickID(click("short", "s1", 2, 2*day), 7), click("dflt", "p1", 1, 3*day)}, 1, false},
		{"click id after the conversion is ignored", conv(1, 7, ""),
			[]store.Touch{withClickID(click("dflt", "p1", 2, -time.Hour), 7), imp("dflt", "p2", 1, time.Hour)}, 1, false},
		{"click id without a user", conv(0, 7, ""),
			[]store.Touch{click("dflt", "p1", 1, time.Hour), anonymous(withClickID(click("dflt2", "q1", 0, 6*day), 7))}, 1, true},
		{"unknown click id without a user is unattributed", conv(0, 8, ""),
			[]store.Touch{withClickID(click("dflt", "p1", 1, time.Hour), 7)}, -1, false},
		{"a click id is matched on clicks only", conv(0, 7, ""),
			[]store.Touch{withClickID(imp("dflt", "p1", 1, time.Hour), 7)}, -1, false},
		{"another device's touches do not count", conv(1, 0, ""),
			[]store.Touch{click("dflt", "p1", 2, time.Hour), imp("dflt", "p1", 3, time.Minute)}, -1, false},
		{"a touch of an unknown campaign is ignored", conv(1, 0, ""),
			[]store.Touch{imp("dflt", "p1", 1, 2*time.Hour), click("gone", "g1", 1, time.Hour)}, 0, false},
		{"tie: lower campaign id", conv(1, 0, ""),
			[]store.Touch{click("dflt2", "a", 1, time.Hour), click("dflt", "z", 1, time.Hour)}, 1, false},
		{"tie: lower placement id", conv(1, 0, ""),
			[]store.Touch{imp("dflt", "p2", 1, time.Hour), imp("dflt", "p1", 1, time.Hour)}, 1, false},
		{"tie: click over impression at the same instant", conv(1, 0, ""),
			[]store.Touch{imp("dflt", "a", 1, time.Hour), click("dflt2", "z", 1, time.Hour)}, 1, false},
		{"served and other kinds are not touches", conv(1, 0, ""),
			[]store.Touch{{Kind: admeter.KindServed, Campaign: "dflt", Placement: "p1", At: t0.Add(-time.Minute), User: user(1)}}, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := &store.AttributionData{Conversions: []store.Conversion{tt.conv}, Touches: tt.touches}
			got := attribution.Attribute(data, rules)
			if len(got) != 1 {
				t.Fatalf("%d results, want 1", len(got))
			}
			r := got[0]
			if r.Conversion != tt.conv {
				t.Errorf("conversion %+v, want it unchanged %+v", r.Conversion, tt.conv)
			}
			if tt.want < 0 {
				if r.Touch != nil || r.PostClick || r.ByClickID || r.Delay != 0 {
					t.Fatalf("attributed to %+v (post-click %t, delay %s), want unattributed", r.Touch, r.PostClick, r.Delay)
				}
				return
			}
			want := &tt.touches[tt.want]
			if r.Touch != want {
				t.Fatalf("attributed to %+v, want %+v", r.Touch, *want)
			}
			if r.PostClick != (want.Kind == admeter.KindClick) || r.ByClickID != tt.byClick || r.Delay != tt.conv.At.Sub(want.At) {
				t.Errorf("post-click %t, by click id %t, delay %s; want %t, %t, %s", r.PostClick, r.ByClickID, r.Delay,
					want.Kind == admeter.KindClick, tt.byClick, tt.conv.At.Sub(want.At))
			}
		})
	}
}

// TestAttributeOrderIndependent: the touches' order in the input changes
// no result (ties included), and results keep the conversions' order.
func TestAttributeOrderIndependent(t *testing.T) {
	data := randomData(1, 300, 3000)
	want := attribution.Attribute(data, rules)
	rng := rand.New(rand.NewPCG(2, 3))
	for range 5 {
		shuffled := &store.AttributionData{Conversions: data.Conversions, Touches: append([]store.Touch(nil), data.Touches...)}
		rng.Shuffle(len(shuffled.Touches), func(i, j int) { shuffled.Touches[i], shuffled.Touches[j] = shuffled.Touches[j], shuffled.Touches[i] })
		got := attribution.Attribute(shuffled, rules)
		attributed := 0
		for i := range want {
			if got[i].Conversion.ID != want[i].Conversion.ID {
				t.Fatalf("result %d is of another conversion", i)
			}
			if (got[i].Touch == nil) != (want[i].Touch == nil) || got[i].Touch != nil && *got[i].Touch != *want[i].Touch {
				t.Fatalf("conversion %d: %+v after shuffling, %+v before", i, got[i].Touch, want[i].Touch)
			}
			if got[i].Touch != nil {
				attributed++
			}
		}
		if attributed == 0 || attributed == len(want) {
			t.Fatalf("%d of %d attributed: the data tests nothing", attributed, len(want))
		}
	}
}

// TestAttributeMatchesBruteForce checks the indexed search against the
// rules applied naively to every touch.
func TestAttributeMatchesBruteForce(t *testing.T) {
	data := randomData(4, 500, 5000)
	got := attribution.Attribute(data, rules)
	for i, c := range data.Conversions {
		want := bruteForce(c, data.Touches)
		if (got[i].Touch == nil) != (want == nil) || want != nil && *got[i].Touch != *want {
			t.Fatalf("conversion %d (%+v): got %+v, want %+v", i, c, got[i].Touch, want)
		}
	}
}

func bruteForce(c store.Conversion, touches []store.Touch) *store.Touch {
	pick := func(ok func(t *store.Touch, r admeter.AttributionRule, d time.Duration) bool) *store.Touch {
		var best *store.Touch
		for i := range touches {
			t := &touches[i]
			a, known := rules(t.Campaign)
			d := c.At.Sub(t.At)
			if !known || d < 0 || !ok(t, a.Rule(c.Type), d) {
				continue
			}
			if best == nil || t.At.After(best.At) || t.At.Equal(best.At) && (t.Campaign < best.Campaign || t.Campaign == best.Campaign && t.Placement < best.Placement) {
				best = t
			}
		}
		return best
	}
	if !c.ClickID.IsZero() {
		if t := pick(func(t *store.Touch, r admeter.AttributionRule, d time.Duration) bool {
			return t.Kind == admeter.KindClick && t.ClickID == c.ClickID && r.ClickWindowDays > 0 && d <= r.ClickWindow()
		}); t != nil {
			return t
		}
	}
	if c.User.IsZero() {
		return nil
	}
	if t := pick(func(t *store.Touch, r admeter.AttributionRule, d time.Duration) bool {
		return t.Kind == admeter.KindClick && t.User == c.User && r.ClickWindowDays > 0 && d <= r.ClickWindow()
	}); t != nil {
		return t
	}
	return pick(func(t *store.Touch, r admeter.AttributionRule, d time.Duration) bool {
		return t.Kind == admeter.KindImpression && t.User == c.User && r.ViewWindowDays > 0 && d <= r.ViewWindow()
	})
}

// randomData makes conversions of users among `users` and touches over the
// campaigns above (and an unknown one), on whole hours so that ties occur.
func randomData(seed uint64, users, touches int) *store.AttributionData {
	rng := rand.New(rand.NewPCG(seed, seed))
	ids := []string{"dflt", "dflt2", "short", "noclick", "noview", "typed", "gone"}
	types := []string{admeter.ConversionOrder, admeter.ConversionActivation}
	data := &store.AttributionData{}
	for i := range touches {
		at := t0.Add(-time.Duration(rng.IntN(40*24)) * time.Hour).Add(-time.Duration(rng.IntN(3)) * 24 * time.Hour)
		tc := store.Touch{Kind: admeter.KindImpression, Campaign: admeter.CampaignID(ids[rng.IntN(len(ids))]),
			Placement: admeter.PlacementID(fmt.Sprint("p", rng.IntN(3))), At: at, User: user(1 + rng.IntN(users))}
		if rng.IntN(4) == 0 {
			tc.Kind = admeter.KindClick
			tc.ClickID = clickID(1 + i)
		}
		data.Touches = append(data.Touches, tc)
	}
	for i := range users {
		c := conv(1+i, 0, types[rng.IntN(2)])
		c.ID = pseudonym(0xcd, i)
		c.At = t0.Add(-time.Duration(rng.IntN(10*24)) * time.Hour)
		if rng.IntN(5) == 0 {
			c.ClickID = clickID(1 + rng.IntN(touches))
			if rng.IntN(2) == 0 {
				c.User, c.UserType = admeter.Pseudonym{}, admeter.IDNone
			}
		}
		data.Conversions = append(data.Conversions, c)
	}
	sortByTime(data.Touches)
	return data
}

// sortByTime orders touches as the store returns them: by event time.
func sortByTime(ts []store.Touch) {
	slices.SortStableFunc(ts, func(a, b store.Touch) int { return a.At.Compare(b.At) })
}

// BenchmarkAttribute attributes 100k conversions over 1M touches of 200k
// users and 50 campaigns.
func BenchmarkAttribute(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	var ids []admeter.CampaignID
	known := map[admeter.CampaignID]*admeter.Attribution{}
	for i := range 50 {
		id := admeter.CampaignID(fmt.Sprintf("c%02d", i))
		ids = append(ids, id)
		known[id] = &admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 1 + i%30, ViewWindowDays: i % 3}}
	}
	rules := func(id admeter.CampaignID) (*admeter.Attribution, bool) { a, ok := known[id]; return a, ok }
	data := &store.AttributionData{}
	const users = 200_000
	for i := range 1_000_000 {
		tc := store.Touch{Kind: admeter.KindImpression, Campaign: ids[rng.IntN(len(ids))], Placement: "p1",
			At: t0.Add(-time.Duration(rng.IntN(40*24*3600)) * time.Second), User: user(rng.IntN(users))}
		if i%10 == 0 {
			tc.Kind, tc.ClickID = admeter.KindClick, pseudonym(0xc1, i)
		}
		data.Touches = append(data.Touches, tc)
	}
	sortByTime(data.Touches)
	for i := range 100_000 {
		c := store.Conversion{ID: pseudonym(0xcc, i), Type: admeter.ConversionOrder, At: t0.Add(-time.Duration(rng.IntN(10*24*3600)) * time.Second),
			User: user(rng.IntN(users)), UserType: admeter.IDOAID}
		data.Conversions = append(data.Conversions, c)
	}
	b.ResetTimer()
	for b.Loop() {
		attribution.Attribute(data, rules)
	}
}
