package attribution

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Rules returns a campaign's attribution settings, and false for a
// campaign it does not know (whose touches are then ignored).
type Rules func(admeter.CampaignID) (*admeter.Attribution, bool)

// Result is the attribution of one conversion.
type Result struct {
	Conversion store.Conversion
	// Touch is the impression or click the conversion is attributed to,
	// nil when it is unattributed. It points into the AttributionData's
	// Touches.
	Touch *store.Touch
	// PostClick is true when Touch is a click, false when it is an
	// impression (post-view) or nil.
	PostClick bool
	// ByClickID is true when the conversion was attributed through the
	// click id it reported (rule 1).
	ByClickID bool
	// Delay is the time from the touch to the conversion (0 when
	// unattributed).
	Delay time.Duration
}

// Attributed reports whether the conversion has a touch.
func (r *Result) Attributed() bool { return r.Touch != nil }

// Attribute attributes every conversion of data by the package's rules,
// each campaign's windows coming from rules. The results are in the order
// of data.Conversions. data is not changed.
func Attribute(data *store.AttributionData, rules Rules) []Result {
	idx := newIndex(data, rules)
	out := make([]Result, len(data.Conversions))
	for i := range data.Conversions {
		out[i] = idx.attribute(&data.Conversions[i])
	}
	return out
}

// index holds the touches of known campaigns by user and by click id, each
// list in ascending order of event time.
type index struct {
	touches   []store.Touch
	byUser    map[admeter.Pseudonym][]int32
	byClickID map[admeter.Pseudonym][]int32
	rules     map[admeter.CampaignID]*admeter.Attribution
	// longest is the longest window of any known campaign: no touch
	// further back can win.
	longest time.Duration
}

func newIndex(data *store.AttributionData, rules Rules) *index {
	idx := &index{
		touches:   data.Touches,
		byUser:    make(map[admeter.Pseudonym][]int32),
		byClickID: make(map[admeter.Pseudonym][]int32),
		rules:     make(map[admeter.CampaignID]*admeter.Attribution),
	}
	for i := range data.Touches {
		t := &data.Touches[i]
		if t.Kind != admeter.KindImpression && t.Kind != admeter.KindClick {
			continue
		}
		a, seen := idx.rules[t.Campaign]
		if !seen {
			if r, ok := rules(t.Campaign); ok && r != nil {
				a = r
				idx.longest = max(idx.longest, r.Longest())
			}
			idx.rules[t.Campaign] = a
		}
		if a == nil {
			continue
		}
		if !t.User.IsZero() {
			idx.byUser[t.User] = append(idx.byUser[t.User], int32(i))
		}
		if t.Kind == admeter.KindClick && !t.ClickID.IsZero() {
			idx.byClickID[t.ClickID] = append(idx.byClickID[t.ClickID], int32(i))
		}
	}
	byTime := func(a, b int32) int { return idx.touches[a].At.Compare(idx.touches[b].At) }
	for _, list := range idx.byUser {
		if !slices.IsSortedFunc(list, byTime) {
			slices.SortStableFunc(list, byTime)
		}
	}
	return idx
}

// within reports whether a touch d before a conversion is inside window w
// (inclusive; a window of 0 is off).
func within(d, w time.Duration) bool { return w > 0 && d >= 0 && d <= w }

// better reports whether touch a wins over b (nil loses to anything): the
// later, then a click over an impression, then the lower campaign id, then
// the lower placement id.
func better(a, b *store.Touch) bool {
	if b == nil {
		return true
	}
	if c := a.At.Compare(b.At); c != 0 {
		return c > 0
	}
	if a.Kind != b.Kind {
		return a.Kind == admeter.KindClick
	}
	if c := cmp.Compare(a.Campaign, b.Campaign); c != 0 {
		return c < 0
	}
	return a.Placement < b.Placement
}

func (idx *index) attribute(c *store.Conversion) Result {
	res := Result{Conversion: *c}
	win := func(t *store.Touch) admeter.AttributionRule { return idx.rules[t.Campaign].Rule(c.Type) }
	// Rule 1: the click carrying the reported click id.
	if !c.ClickID.IsZero() {
		var best *store.Touch
		for _, i := range idx.byClickID[c.ClickID] {
			t := &idx.touches[i]
			if within(c.At.Sub(t.At), win(t).ClickWindow()) && better(t, best) {
				best = t
			}
		}
		if best != nil {
			res.Touch, res.PostClick, res.ByClickID, res.Delay = best, true, true, c.At.Sub(best.At)
			return res
		}
	}
	if c.User.IsZero() {
		return res
	}
	// Rules 2 and 3: walk the user's touches back from the conversion.
	list := idx.byUser[c.User]
	n := sort.Search(len(list), func(k int) bool { return idx.touches[list[k]].At.After(c.At) })
	var click, imp *store.Touch
	for k := n - 1; k >= 0; k-- {
		t := &idx.touches[list[k]]
		d := c.At.Sub(t.At)
		if d > idx.longest || click != nil && t.At.Before(click.At) {
			break
		}
		switch t.Kind {
		case admeter.KindClick:
			if within(d, win(t).ClickWindow()) && better(t, click) {
				click = t
			}
		case admeter.KindImpression:
			if click == nil && within(d, win(t).ViewWindow()) && better(t, imp) {
				imp = t
			}
		}
	}
	switch {
	case click != nil:
		res.Touch, res.PostClick = click, true
	case imp != nil:
		res.Touch = imp
	default:
		return res
	}
	res.Delay = c.At.Sub(res.Touch.At)
	return res
}
