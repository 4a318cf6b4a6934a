package simulate

import (
	"maps"
	"slices"
	"time"

	"github.com/admeter/admeter"
)

// touch records a counted impression or click (the first of its
// impression id) that may win a conversion: a valid one of a converting
// device, and a valid click whose click id an advertiser may report.
func (t *Tally) touch(ev *event, eff int64, valid bool) {
	post := t.layout.post
	if !valid || post.convShare == 0 {
		return
	}
	t.conv.init()
	tc := touch{at: eff, place: ev.place, click: ev.kind == admeter.KindClick}
	if ev.key != 0 && post.converts(ev.dev) {
		t.conv.touches[ev.key] = append(t.conv.touches[ev.key], tc)
	}
	if tc.click && ev.flags&evBatch == 0 && t.layout.campaigns[t.layout.places[ev.place].campaign].attr.ClickIDParam != "" {
		t.conv.clicks[ev.nonce] = tc
	}
}

// conversions records the conversions of one upload, answered at at (0:
// not answered), as the server treats them: a row of a user who opted out
// is dropped, one more than 90 days old refused, and of each conversion id
// the first delivered is stored.
func (t *Tally) conversions(p *Plan, evs []event, at int64, dropped func(*event) bool) {
	c := &t.conv
	c.init()
	for i := range evs {
		ev := &evs[i]
		cv := &p.convs[ev.nonce]
		click := cv.click
		if click != 0 && !c.captured[click] {
			if !cv.ids {
				c.summary.NoClickID++
				continue // the sender leaves it out
			}
			click = 0
		}
		switch {
		case at == 0:
			c.summary.Undelivered++
			continue
		case dropped(ev):
			c.summary.Rows++
			c.summary.OptedOut++
			continue
		case cv.old:
			c.summary.Rows++
			c.summary.TooOld++
			continue
		}
		c.summary.Rows++
		if _, ok := c.stored[cv.id]; ok {
			c.summary.Duplicates++
			continue
		}
		key := uint64(0)
		if cv.ids {
			key = cv.key
		}
		c.stored[cv.id] = len(c.records)
		c.records = append(c.records, convRecord{at: cv.at * int64(time.Millisecond), typ: cv.typ, key: key, click: click, micros: cv.micros})
		c.summary.Stored++
		if click != 0 {
			c.summary.WithClickID++
		}
	}
}

// cellKey is a report cell of a campaign: a placement (index in the
// layout, or -1 for every placement) and a local day (-1 for the total).
type cellKey struct {
	place int32
	day   int32
}

// campOutcomes accumulates a campaign's Outcomes per cell.
type campOutcomes struct {
	cells map[cellKey]*Outcomes
	users map[cellKey]map[uint64]struct{} // viewable users
}

func (co *campOutcomes) cellsOf(place, day int32) [4]*Outcomes {
	var out [4]*Outcomes
	for i, k := range [4]cellKey{{place, day}, {place, -1}, {-1, day}, {-1, -1}} {
		o := co.cells[k]
		if o == nil {
			o = &Outcomes{}
			co.cells[k] = o
		}
		out[i] = o
	}
	return out
}

// outcomes computes every campaign's Outcomes from the viewability, video
// and conversion tallies.
func (t *Tally) outcomes() []*campOutcomes {
	l := t.layout
	out := make([]*campOutcomes, len(l.campaigns))
	for i := range out {
		out[i] = &campOutcomes{cells: map[cellKey]*Outcomes{}, users: map[cellKey]map[uint64]struct{}{}}
	}
	campOf := func(place int32) *campOutcomes { return out[l.places[place].campaign] }

	for _, k := range slices.SortedFunc(maps.Keys(t.view.imps), compareViewKeys) {
		imp := t.view.imps[k]
		res := t.view.results[k]
		if res == 0 {
			continue
		}
		co := campOf(k.place)
		for j, o := range co.cellsOf(k.place, imp.day) {
			o.Measurable++
			if res&2 == 0 {
				continue
			}
			o.Viewable++
			if imp.key == 0 {
				continue
			}
			ck := [4]cellKey{{k.place, imp.day}, {k.place, -1}, {-1, imp.day}, {-1, -1}}[j]
			if co.users[ck] == nil {
				co.users[ck] = map[uint64]struct{}{}
			}
			co.users[ck][imp.key] = struct{}{}
		}
	}
	for _, co := range out {
		for ck, us := range co.users {
			co.cells[ck].ViewableUV = int64(len(us))
		}
	}

	for _, k := range slices.SortedFunc(maps.Keys(t.view.plays), compareViewKeys) {
		days := t.view.plays[k]
		co := campOf(k.place)
		var all uint8
		for day, bits := range days {
			all |= bits
			cs := co.cellsOf(k.place, day)
			cs[0].addPlay(bits)
			cs[2].addPlay(bits)
		}
		cs := co.cellsOf(k.place, -1)
		cs[1].addPlay(all) // the play once in the placement's total
		cs[3].addPlay(all) // and in the campaign's
	}

	t.convResult = [4]int64{}
	for _, r := range t.conv.sortedRecords() {
		tc, ok := t.conv.attribute(l, &r)
		if !ok {
			t.convResult[3]++
			continue
		}
		t.convResult[0]++
		ci := l.places[tc.place].campaign
		day := localDay(r.at, l.campaigns[ci].loc)
		for _, o := range out[ci].cellsOf(tc.place, day) {
			o.Conversions++
			if tc.click {
				o.PostClick++
			} else {
				o.PostView++
			}
			o.ValueMicros += r.micros
			o.ConversionValue = float64(o.ValueMicros) / 1e6
			o.TimeToConvert[ttcBucket(time.Duration(r.at-tc.at))]++
		}
		if tc.click {
			t.convResult[1]++
		} else {
			t.convResult[2]++
		}
	}
	return out
}

func compareViewKeys(a, b viewKey) int {
	if a.place != b.place {
		return int(a.place - b.place)
	}
	switch {
	case a.vf < b.vf:
		return -1
	case a.vf > b.vf:
		return 1
	}
	return 0
}

// truth returns the campaign's OutcomeTruth: cells without any measure
// are left out.
func (co *campOutcomes) truth(l *layout, info *campaignInfo) *OutcomeTruth {
	ot := &OutcomeTruth{Days: []DayOutcomes{}, Placements: []PlacementOutcomes{}}
	if o := co.cells[cellKey{-1, -1}]; o != nil {
		ot.Total = *o
	}
	days := func(place int32) []DayOutcomes {
		var ds []int32
		for k, o := range co.cells {
			if k.place == place && k.day >= 0 && !o.zero() {
				ds = append(ds, k.day)
			}
		}
		slices.Sort(ds)
		out := make([]DayOutcomes, 0, len(ds))
		for _, d := range ds {
			out = append(out, DayOutcomes{Day: dayString(d), Outcomes: *co.cells[cellKey{place, d}]})
		}
		return out
	}
	ot.Days = days(-1)
	for j := range info.count {
		place := int32(info.first + j)
		o := co.cells[cellKey{place, -1}]
		if o == nil || o.zero() {
			continue
		}
		ot.Placements = append(ot.Placements, PlacementOutcomes{ID: l.places[place].id, Total: *o, Days: days(place)})
	}
	return ot
}

// zero reports whether o has no measure.
func (o *Outcomes) zero() bool { return *o == Outcomes{} }
