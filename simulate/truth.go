package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/admeter/admeter"
)

// Counts are the measures of a report cell, as the server will report them.
// Impressions and Clicks include anonymous events (no user identifier) and
// invalid traffic, which the server does not filter yet.
type Counts struct {
	Impressions          int64 `json:"impressions"`
	Clicks               int64 `json:"clicks"`
	UV                   int64 `json:"uv"`
	ClickUV              int64 `json:"click_uv"`
	AnonymousImpressions int64 `json:"anonymous_impressions"`
	AnonymousClicks      int64 `json:"anonymous_clicks"`
	// Served counts br=0 "served, not rendered" pings, which are never
	// impressions.
	Served int64 `json:"served"`
}

// DayCounts are the Counts of one day in the campaign's time zone.
type DayCounts struct {
	Day string `json:"day"` // 2006-01-02
	Counts
}

// PlacementTruth is the truth of one placement.
type PlacementTruth struct {
	ID    string      `json:"id"`
	Media string      `json:"media"`
	Total Counts      `json:"total"`
	Days  []DayCounts `json:"days"`
}

// FrequencyBucket is the number of users who saw the campaign Frequency
// times ("1" … "9", "10+").
type FrequencyBucket struct {
	Frequency string `json:"frequency"`
	Users     int64  `json:"users"`
}

// DayReach is the cumulative reach through a day.
type DayReach struct {
	Day   string `json:"day"`
	Reach int64  `json:"reach"`
}

// Frequency is a campaign's reach and frequency over the whole plan.
type Frequency struct {
	// Reach is the number of distinct users with an impression;
	// Impressions the impressions of those users (anonymous ones are not
	// in it).
	Reach            int64             `json:"reach"`
	Impressions      int64             `json:"impressions"`
	AverageFrequency float64           `json:"average_frequency"`
	Distribution     []FrequencyBucket `json:"distribution"`
	CumulativeReach  []DayReach        `json:"cumulative_reach"`
}

// IVTCounts is the invalid traffic of one kind that was injected: counted
// impressions and clicks, and the devices that sent them.
type IVTCounts struct {
	Impressions int64 `json:"impressions"`
	Clicks      int64 `json:"clicks"`
	Devices     int64 `json:"devices"`
}

// CampaignTruth is the truth of one campaign.
type CampaignTruth struct {
	ID       string `json:"id"`
	Timezone string `json:"timezone"`
	// Total is over every day; its UV is the reach.
	Total      Counts           `json:"total"`
	Days       []DayCounts      `json:"days"`
	Placements []PlacementTruth `json:"placements"`
	Frequency  Frequency        `json:"frequency"`
	// Devices is the number of physical devices with an impression. It
	// differs from the reach: a browser that refuses cookies is a new user
	// on every request, and since Android 8 an Android ID differs per app.
	Devices int64                 `json:"devices"`
	IVT     map[IVTKind]IVTCounts `json:"ivt"`
	// Outcomes are the viewability, video and conversion measures, when
	// the plan had any (Config.Viewability, Video, Conversions).
	Outcomes *OutcomeTruth `json:"outcomes,omitempty"`
	// Media is the cross-media deduplication of the campaign's valid
	// impressions with a user: per medium, in the order of first
	// appearance in the layout, its reach, the users it reached alone and
	// those it shares with each other medium.
	Media []MediaReach `json:"media"`
}

// MediaReach is one medium of a campaign's cross-media truth.
type MediaReach struct {
	Media     string `json:"media"`
	Reach     int64  `json:"reach"`
	Exclusive int64  `json:"exclusive"`
	// Overlap maps each other medium to the users both reached (zeros
	// left out).
	Overlap map[string]int64 `json:"overlap,omitempty"`
}

// Outcomes are the viewability, video and conversion measures of a report
// cell, under the report API's names, of valid traffic only (see
// docs/simulation.md): viewability and video counted as store.ViewCounts
// defines them, conversions attributed by the campaigns' settings.
type Outcomes struct {
	Measurable  int64 `json:"measurable_impressions"`
	Viewable    int64 `json:"viewable_impressions"`
	ViewableUV  int64 `json:"viewable_uv"`
	VideoStarts int64 `json:"video_starts"`
	VideoQ25    int64 `json:"video_q25"`
	VideoQ50    int64 `json:"video_q50"`
	VideoQ75    int64 `json:"video_q75"`
	VideoQ100   int64 `json:"video_q100"`
	Conversions int64 `json:"conversions"`
	PostClick   int64 `json:"post_click_conversions"`
	PostView    int64 `json:"post_view_conversions"`
	// ConversionValue is the conversions' value in CNY; ValueMicros the
	// same in millionths, exactly.
	ConversionValue float64 `json:"conversion_value"`
	ValueMicros     int64   `json:"conversion_value_micros"`
	// TimeToConvert counts the conversions by the time from their touch:
	// under 1 h, 6 h, 24 h, 3 d, 7 d, 30 d, and up to 90 d.
	TimeToConvert [7]int64 `json:"time_to_convert"`
}

// DayOutcomes are the Outcomes of one day in the campaign's time zone: of
// the impression's day for viewability, of each event's own day for video
// (a play whose events fall on two days counts on each for what it did
// that day), of the conversion's day for conversions.
type DayOutcomes struct {
	Day string `json:"day"`
	Outcomes
}

// PlacementOutcomes are the Outcomes of one placement (of the touch a
// conversion is attributed to).
type PlacementOutcomes struct {
	ID    string        `json:"id"`
	Total Outcomes      `json:"total"`
	Days  []DayOutcomes `json:"days"`
}

// OutcomeTruth is a campaign's Outcomes: the total (viewable users and
// video plays distinct over the whole run), per day and per placement.
// Days and placements without any measure are left out.
type OutcomeTruth struct {
	Total      Outcomes            `json:"total"`
	Days       []DayOutcomes       `json:"days"`
	Placements []PlacementOutcomes `json:"placements"`
}

// ConversionTraffic is what became of the conversions sent.
type ConversionTraffic struct {
	// Rows were sent in answered uploads, resends and whole-upload
	// retries included. Stored is the distinct conversions the server
	// keeps (the first of each conversion id), WithClickID those of them
	// sent with a click id.
	Rows        int64 `json:"rows"`
	Stored      int64 `json:"stored"`
	WithClickID int64 `json:"with_click_id"`
	// Attributed conversions are in some campaign's Outcomes, post-click
	// or post-view; Unattributed ones in none (no valid touch in any
	// window, or a user no media knows).
	Attributed   int64 `json:"attributed"`
	PostClick    int64 `json:"post_click"`
	PostView     int64 `json:"post_view"`
	Unattributed int64 `json:"unattributed"`
	// Duplicates are rows repeating a conversion id already delivered;
	// OptedOut rows the server drops because the user opted out; TooOld
	// rows it refuses for a time more than 90 days ago; NoClickID
	// conversions the sender left out because it never captured the click
	// id they report and they have no device id; Undelivered rows were in
	// uploads that were not answered.
	Duplicates  int64 `json:"duplicates"`
	OptedOut    int64 `json:"opted_out"`
	TooOld      int64 `json:"too_old"`
	NoClickID   int64 `json:"no_click_id"`
	Undelivered int64 `json:"undelivered"`
}

// Traffic describes what was sent: every delivered event, retries included.
type Traffic struct {
	// Requests were answered, opt-out calls included.
	Requests    int64 `json:"requests"`
	Events      int64 `json:"events"`
	Impressions int64 `json:"impressions"`
	Clicks      int64 `json:"clicks"`
	Served      int64 `json:"served"`
	// Retries are SDK impressions sent again with the same vf: the
	// collector drops most before logging them, and the counting rule drops
	// the rest.
	Retries int64 `json:"retries"`
	Batched int64 `json:"batched"`
	// Late arrived with an mt up to 6.5 days old; TimeCorrected carried an
	// mt the collector rejected (older than 7 days), NoTime none at all:
	// both count at their receive time.
	Late          int64 `json:"late"`
	TimeCorrected int64 `json:"time_corrected"`
	NoTime        int64 `json:"no_time"`
	// OptedOut events carried the opt-out cookie, or came from an app
	// device after the server confirmed its call to the opt-out API: they
	// are sent (and in the counts above) but the collector drops them, so
	// the campaigns' counts leave them out.
	OptedOut int64 `json:"opted_out"`
	// OptOutCalls are the app devices' calls to the opt-out API that the
	// server confirmed. A call that was not confirmed opted nobody out: that
	// device's later events count.
	OptOutCalls int64 `json:"optout_calls"`
	// Undelivered events were not acknowledged by the server and are left
	// out of every count.
	Undelivered int64 `json:"undelivered"`
}

// Truth is what the server should report for the traffic that was
// delivered.
type Truth struct {
	Campaigns []CampaignTruth       `json:"campaigns"`
	IVT       map[IVTKind]IVTCounts `json:"ivt"`
	Traffic   Traffic               `json:"traffic"`
	// Conversions is what became of the conversions sent, when the plan
	// had any.
	Conversions *ConversionTraffic `json:"conversions,omitempty"`
	// Reach is the distinct users of all the campaigns together (valid
	// impressions with a user): a user two campaigns reached is one.
	Reach int64 `json:"reach"`
}

// WriteJSON writes t as indented JSON.
func (t *Truth) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// Truth returns the truth of p as if every request were answered at p.Now.
func (p *Plan) Truth() *Truth {
	var t Tally
	_ = t.Add(p, nil) // cannot fail: nil answers, one plan
	return t.Truth()
}

// Tally counts plans the way the server will, so that a truth can follow a
// sequence of plans (a Generator's Next) and reflect what was actually
// delivered. The zero Tally is ready to use; it is not safe for concurrent
// use.
type Tally struct {
	layout  *layout
	camps   []campTally
	traffic Traffic
	// optedOut holds the app devices whose opt-out call was made: true
	// when the server confirmed it.
	optedOut map[int32]bool
	// view and conv hold the viewability, video and conversion truth
	// (view.go, conversion.go), used when the layout has post settings.
	view viewTally
	conv convTally
	// convResult holds the attributed, post-click, post-view and
	// unattributed conversions of the last Truth.
	convResult [4]int64
}

type campTally struct {
	total   cell
	days    map[int32]*cell
	places  []placeTally
	users   map[uint64]*userStat
	devices map[int32]struct{}
	ivt     [len(ivtKinds)]ivtTally
}

type placeTally struct {
	total cell
	days  map[int32]*cell
}

type ivtTally struct {
	imp, clk int64
	devs     map[int32]struct{}
}

type userStat struct {
	n     int64
	first int32 // day of the first impression
}

// cell accumulates one report cell.
type cell struct {
	c          Counts
	users      map[uint64]struct{}
	clickUsers map[uint64]struct{}
}

func (c *cell) add(ev *event) {
	switch ev.kind {
	case admeter.KindImpression:
		c.c.Impressions++
		if ev.key == 0 {
			c.c.AnonymousImpressions++
		} else {
			if c.users == nil {
				c.users = map[uint64]struct{}{}
			}
			c.users[ev.key] = struct{}{}
		}
	case admeter.KindClick:
		c.c.Clicks++
		if ev.key == 0 {
			c.c.AnonymousClicks++
		} else {
			if c.clickUsers == nil {
				c.clickUsers = map[uint64]struct{}{}
			}
			c.clickUsers[ev.key] = struct{}{}
		}
	case admeter.KindServed:
		c.c.Served++
	}
}

func (c *cell) counts() Counts {
	out := c.c
	out.UV, out.ClickUV = int64(len(c.users)), int64(len(c.clickUsers))
	return out
}

// Collector time rules (collect.DefaultConfig): an mt more than MaxPast old
// or MaxFuture ahead of the receive time is replaced by the receive time.
const (
	maxPast   = 7 * 24 * time.Hour
	maxFuture = 5 * time.Minute
)

// Add counts the plan's events. answered holds, for each request, when the
// server answered it with success (Unix nanoseconds), or 0 when it did not:
// those events are left out. nil means every request was answered at p.Now.
// Every plan added must come from the same Generator. A click id is taken
// as captured when its click was answered; AddStats knows which were.
func (t *Tally) Add(p *Plan, answered []int64) error {
	if answered != nil && len(answered) != len(p.Requests) {
		return fmt.Errorf("tally plan: %d answers for %d requests", len(answered), len(p.Requests))
	}
	t.conv.init()
	for i := range p.Requests {
		if r := &p.Requests[i]; r.ClickIDParam != "" && (answered == nil || answered[i] != 0) {
			t.conv.captured[p.events[r.first].nonce] = true
		}
	}
	return t.add(p, answered)
}

// AddStats counts the plan's events as the Sender delivered them: st is
// what Send returned for p (its Answered, and the click ids it captured).
func (t *Tally) AddStats(p *Plan, st *Stats) error {
	if st == nil {
		return errors.New("tally plan: no stats")
	}
	if len(st.Answered) != len(p.Requests) {
		return fmt.Errorf("tally plan: %d answers for %d requests", len(st.Answered), len(p.Requests))
	}
	t.conv.init()
	for k := range st.captured {
		t.conv.captured[k] = true
	}
	return t.add(p, st.Answered)
}

func (t *Tally) add(p *Plan, answered []int64) error {
	if t.layout == nil {
		t.layout = p.layout
		t.camps = make([]campTally, len(p.layout.campaigns))
		for i := range t.camps {
			t.camps[i] = campTally{
				days: map[int32]*cell{}, users: map[uint64]*userStat{}, devices: map[int32]struct{}{},
				places: make([]placeTally, p.layout.campaigns[i].count),
			}
			for j := range t.camps[i].places {
				t.camps[i].places[j].days = map[int32]*cell{}
			}
		}
		t.optedOut = map[int32]bool{}
	} else if t.layout != p.layout {
		return errors.New("tally plan: plans of different generators cannot be tallied together")
	}
	recv := func(i int) int64 {
		if answered == nil {
			return p.Now.UnixNano()
		}
		return answered[i]
	}
	// An app device's events after its opt-out call (in this plan or an
	// earlier one) are dropped if the server confirmed the call. The Sender
	// sends no later request before the call is answered, and stops when
	// it cannot get it answered, so whether it was is all that matters. A
	// call in a plan that was never added is taken as confirmed.
	for i := range p.Requests {
		if p.Requests[i].OptOutAPI {
			t.optedOut[p.Requests[i].Device] = recv(i) != 0
		}
	}
	dropped := func(ev *event) bool {
		if ev.flags&evOptOut != 0 {
			return true
		}
		if ev.flags&evOptOutAPI == 0 {
			return false
		}
		ok, known := t.optedOut[ev.dev]
		return ok || !known
	}
	// The counting rule: events sharing an impression id on one placement
	// and kind count once, the first by event time.
	type vfKey struct {
		place int32
		kind  admeter.Kind
		sub   uint8 // a result's view, a video ping's point: not retries of each other
		vf    uint64
	}
	sub := func(ev *event) uint8 {
		switch ev.kind {
		case admeter.KindViewability:
			return uint8(ev.view)
		case admeter.KindVideo:
			return ev.video
		}
		return 0
	}
	first := map[vfKey]int64{}
	for i := range p.Requests {
		at := recv(i)
		if at == 0 || p.Requests[i].Conversions {
			continue
		}
		for _, ev := range p.eventsOf(i) {
			if ev.vf == 0 || dropped(&ev) {
				continue
			}
			k, eff := vfKey{ev.place, ev.kind, sub(&ev), ev.vf}, effective(&ev, at)
			if cur, ok := first[k]; !ok || eff < cur {
				first[k] = eff
			}
		}
	}
	for i := range p.Requests {
		at := recv(i)
		evs := p.eventsOf(i)
		if at == 0 {
			t.traffic.Undelivered += int64(len(evs))
			continue
		}
		t.traffic.Requests++
		if p.Requests[i].OptOutAPI {
			t.traffic.OptOutCalls++
		}
		if p.Requests[i].Conversions {
			t.conversions(p, evs, at, dropped)
			continue
		}
		for j := range evs {
			ev := &evs[j]
			t.traffic.add(ev, at)
			if dropped(ev) {
				t.traffic.OptedOut++
				continue // the collector drops it
			}
			eff := effective(ev, at)
			_, inWindow := clientTime(ev, at)
			valid := ev.ivt == 0 && inWindow
			if t.layout.post != nil {
				t.view.event(ev, t.layout.localDayOf(eff, ev.place), valid)
			}
			if ev.vf != 0 {
				k := vfKey{ev.place, ev.kind, sub(ev), ev.vf}
				if cur, ok := first[k]; !ok || cur != eff {
					continue // a duplicate, already counted or to be
				}
				delete(first, k)
			}
			t.count(ev, eff, valid)
		}
	}
	return nil
}

// effective returns the event time the collector will record, Unix
// nanoseconds, for an event received at recv.
func effective(ev *event, recv int64) int64 {
	if mt, ok := clientTime(ev, recv); ok {
		return mt
	}
	return recv
}

// clientTime returns the event's mt as the collector reads it (Unix
// nanoseconds) and whether the collector keeps it for an event received at
// recv.
func clientTime(ev *event, recv int64) (int64, bool) {
	if ev.mt == 0 {
		return 0, false
	}
	mt := ev.mt * int64(time.Millisecond)
	if ev.flags&evMillis == 0 {
		mt = ev.mt / 1000 * int64(time.Second) // sent in seconds: truncated
	}
	return mt, mt >= recv-int64(maxPast) && mt <= recv+int64(maxFuture)
}

func (tr *Traffic) add(ev *event, recv int64) {
	tr.Events++
	switch ev.kind {
	case admeter.KindImpression:
		tr.Impressions++
	case admeter.KindClick:
		tr.Clicks++
	case admeter.KindServed:
		tr.Served++
	}
	if ev.flags&evRetry != 0 {
		tr.Retries++
	}
	if ev.flags&evBatch != 0 {
		tr.Batched++
	}
	if ev.flags&evLate != 0 {
		tr.Late++
	}
	if _, ok := clientTime(ev, recv); ev.mt == 0 {
		tr.NoTime++
	} else if !ok {
		tr.TimeCorrected++
	}
}

func (p *Plan) eventsOf(i int) []event {
	r := &p.Requests[i]
	return p.events[r.first : int(r.first)+r.Events]
}

func (t *Tally) count(ev *event, eff int64, valid bool) {
	if ev.kind != admeter.KindImpression && ev.kind != admeter.KindClick && ev.kind != admeter.KindServed {
		return // viewability and video pings are neither impressions nor clicks
	}
	pl := &t.layout.places[ev.place]
	ci := &t.layout.campaigns[pl.campaign]
	ct := &t.camps[pl.campaign]
	day := localDay(eff, ci.loc)
	if post := t.layout.post; post != nil && ev.kind != admeter.KindServed {
		if ev.kind == admeter.KindImpression {
			t.view.impression(ev, day, valid)
		}
		t.touch(ev, eff, valid)
	}
	pt := &ct.places[int(ev.place)-ci.first]
	for _, c := range []*cell{&ct.total, dayCell(ct.days, day), &pt.total, dayCell(pt.days, day)} {
		c.add(ev)
	}
	if ev.kind == admeter.KindImpression {
		ct.devices[ev.dev] = struct{}{}
		if ev.key != 0 {
			u := ct.users[ev.key]
			if u == nil {
				u = &userStat{first: day}
				ct.users[ev.key] = u
			}
			u.n++
			u.first = min(u.first, day)
		}
	}
	if ev.ivt != 0 && ev.kind != admeter.KindServed {
		it := &ct.ivt[ev.ivt-1]
		if ev.kind == admeter.KindImpression {
			it.imp++
		} else {
			it.clk++
		}
		if it.devs == nil {
			it.devs = map[int32]struct{}{}
		}
		it.devs[ev.dev] = struct{}{}
	}
}

func dayCell(m map[int32]*cell, day int32) *cell {
	c := m[day]
	if c == nil {
		c = &cell{}
		m[day] = c
	}
	return c
}

// localDay returns the day number (days since 1970-01-01) of the instant
// ns in loc.
func localDay(ns int64, loc *time.Location) int32 {
	_, off := time.Unix(0, ns).In(loc).Zone()
	local := ns/int64(time.Second) + int64(off)
	return int32(math.Floor(float64(local) / 86400))
}

func dayString(day int32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format(time.DateOnly)
}

// Truth returns the truth of everything added so far.
func (t *Tally) Truth() *Truth {
	out := &Truth{Campaigns: []CampaignTruth{}, IVT: map[IVTKind]IVTCounts{}, Traffic: t.traffic}
	if t.layout == nil {
		return out
	}
	totalDevs := make([]map[int32]struct{}, len(ivtKinds))
	var outcomes []*campOutcomes
	if t.layout.post != nil {
		outcomes = t.outcomes()
		if t.layout.post.convShare > 0 {
			sum := t.conv.summary
			out.Conversions = &sum
			out.Conversions.Attributed, out.Conversions.PostClick, out.Conversions.PostView, out.Conversions.Unattributed = t.convResult[0], t.convResult[1], t.convResult[2], t.convResult[3]
		}
	}
	for ci := range t.camps {
		ct, info := &t.camps[ci], &t.layout.campaigns[ci]
		c := CampaignTruth{
			ID: info.id, Timezone: info.loc.String(), Total: ct.total.counts(), Days: days(ct.days),
			Devices: int64(len(ct.devices)), IVT: map[IVTKind]IVTCounts{},
		}
		for j := range ct.places {
			pl := &t.layout.places[info.first+j]
			c.Placements = append(c.Placements, PlacementTruth{
				ID: pl.id, Media: t.layout.media[pl.media], Total: ct.places[j].total.counts(), Days: days(ct.places[j].days),
			})
		}
		c.Frequency = frequency(ct)
		c.Media = t.mediaReach(ct, info)
		if t.layout.post != nil {
			c.Outcomes = outcomes[ci].truth(t.layout, info)
		}
		for k, it := range ct.ivt {
			if it.imp == 0 && it.clk == 0 {
				continue
			}
			c.IVT[ivtKinds[k]] = IVTCounts{Impressions: it.imp, Clicks: it.clk, Devices: int64(len(it.devs))}
			sum := out.IVT[ivtKinds[k]]
			sum.Impressions += it.imp
			sum.Clicks += it.clk
			if totalDevs[k] == nil {
				totalDevs[k] = map[int32]struct{}{}
			}
			maps.Copy(totalDevs[k], it.devs)
			sum.Devices = int64(len(totalDevs[k]))
			out.IVT[ivtKinds[k]] = sum
		}
		out.Campaigns = append(out.Campaigns, c)
	}
	all := map[uint64]struct{}{}
	for ci := range t.camps {
		for u := range t.camps[ci].users {
			all[u] = struct{}{}
		}
	}
	out.Reach = int64(len(all))
	return out
}

// mediaReach returns the cross-media truth of campaign ct: the media of
// its placements, each with the users of its placements' cells.
func (t *Tally) mediaReach(ct *campTally, info *campaignInfo) []MediaReach {
	var names []string
	sets := map[string]map[uint64]struct{}{}
	for j := range ct.places {
		m := t.layout.media[t.layout.places[info.first+j].media]
		if sets[m] == nil {
			names = append(names, m)
			sets[m] = map[uint64]struct{}{}
		}
		for u := range ct.places[j].total.users {
			sets[m][u] = struct{}{}
		}
	}
	out := make([]MediaReach, 0, len(names))
	for _, m := range names {
		r := MediaReach{Media: m, Reach: int64(len(sets[m]))}
		for u := range sets[m] {
			alone := true
			for _, o := range names {
				if _, ok := sets[o][u]; ok && o != m {
					alone = false
					if r.Overlap == nil {
						r.Overlap = map[string]int64{}
					}
					r.Overlap[o]++
				}
			}
			if alone {
				r.Exclusive++
			}
		}
		out = append(out, r)
	}
	return out
}

func days(m map[int32]*cell) []DayCounts {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]DayCounts, 0, len(keys))
	for _, d := range keys {
		out = append(out, DayCounts{Day: dayString(d), Counts: m[d].counts()})
	}
	return out
}

// maxFrequencyBucket is the last bucket: users who saw 10 or more
// impressions (store.MaxFrequencyBucket).
const maxFrequencyBucket = 10

func frequency(ct *campTally) Frequency {
	f := Frequency{Distribution: make([]FrequencyBucket, maxFrequencyBucket), CumulativeReach: []DayReach{}}
	for i := range f.Distribution {
		f.Distribution[i].Frequency = strconv.Itoa(i + 1)
	}
	f.Distribution[maxFrequencyBucket-1].Frequency = strconv.Itoa(maxFrequencyBucket) + "+"
	newUsers := map[int32]int64{}
	for _, u := range ct.users {
		f.Reach++
		f.Impressions += u.n
		f.Distribution[min(u.n, maxFrequencyBucket)-1].Users++
		newUsers[u.first]++
	}
	if f.Reach > 0 {
		f.AverageFrequency = math.Round(float64(f.Impressions)/float64(f.Reach)*1e6) / 1e6
	}
	if len(ct.days) == 0 {
		return f
	}
	lo := slices.Min(slices.Collect(maps.Keys(ct.days)))
	hi := slices.Max(slices.Collect(maps.Keys(ct.days)))
	var reach int64
	for d := lo; d <= hi; d++ {
		reach += newUsers[d]
		f.CumulativeReach = append(f.CumulativeReach, DayReach{Day: dayString(d), Reach: reach})
	}
	return f
}
