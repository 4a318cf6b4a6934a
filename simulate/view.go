package simulate

import (
	"math"
	"strconv"

	"github.com/admeter/admeter"
)

// postSettings are the settings of the measures after the impression:
// viewability, video and conversions (Config.Viewability, Video,
// Conversions).
type postSettings struct {
	seed                   uint64
	view, video, convShare float64
	pop                    *population // set once the population is built
}

// newPostSettings returns the settings of cfg, or nil when all three are
// off: the plan and its truth are then exactly those of before.
func newPostSettings(cfg *Config, seed uint64) *postSettings {
	if cfg.Viewability == 0 && cfg.Video == 0 && cfg.Conversions == 0 {
		return nil
	}
	return &postSettings{seed: seed, view: cfg.Viewability, video: cfg.Video, convShare: cfg.Conversions}
}

// markVideo makes a share of the SDK placements video placements, spread
// evenly in placement order (the first SDK placement is one whenever the
// share is at least a half).
func (l *layout) markVideo(share float64) {
	if share <= 0 {
		return
	}
	k := 0
	for i := range l.places {
		if l.places[i].profile != profileSDK {
			continue
		}
		if math.Floor(float64(k+1)*share+0.5) > math.Floor(float64(k)*share+0.5) {
			l.places[i].video = true
		}
		k++
	}
}

// Video impression bits (event.video of a KindImpression).
const (
	videoPlayMask  = 3      // vg code plus one; 0: no vg
	videoHasLength = 1 << 2 // vb is sent
	videoLenShift  = 3      // index in videoLengths, 3 bits
	videoPlay      = 1 << 6 // the impression is a video play (its pings follow)
)

// videoLengths are the lengths of the simulated video ads, in
// milliseconds: the common 5, 6, 15, 30 and 60 s cuts, and one 15.5 s to
// send a decimal vb.
var videoLengths = [...]int64{5000, 6000, 15000, 15500, 30000, 60000}

// viewThresholds are the vh/vi overrides (area %, seconds) some impressions
// carry: media that measure by their own rule.
var viewThresholds = [...][2]int{{30, 1}, {100, 1}, {50, 2}, {70, 3}}

// quartPresent marks a result that carries a vj mask (event.quart).
const quartPresent = 1 << 7

// Shares of the viewability and video behaviour; see docs/simulation.md.
const (
	viewLost         = 0.05 // results that never arrive
	viewUnmeasurable = 0.08 // results that say vx=2
	viewViewable     = 0.62 // of the measured display results (video: viewVideoBonus more)
	viewVideoBonus   = 0.10
	viewResend       = 0.03 // results the SDK sends twice
	viewOwnRule      = 0.10 // measurements with a vh/vi override
	videoNoMeta      = 0.04 // video impressions without vb or vg
	videoStartPing   = 0.92 // plays whose vc=0 ping arrives
	videoPingKept    = 0.95 // quartile pings that arrive
	videoMask        = 0.50 // video results that carry vj
)

// videoReach is the chance to go on to each quartile from the one before.
var videoReach = [4]float64{0.85, 0.85, 0.88, 0.90}

// viewTraffic reports whether an event of the given invalid-traffic kind
// may carry viewability or video: valid traffic and the general kinds an
// SDK sends (data-centre relays, risky devices), never the behavioural
// kinds, so that the truth of these measures does not depend on whether
// the server has judged behaviour yet.
func viewTraffic(ivt uint8) bool {
	if ivt == 0 {
		return true
	}
	k := ivtKinds[ivt-1]
	return k == IVTDataCentre || k == IVTRiskyDevice
}

// measure decides what the SDK measures of impression ev on pl (an SDK
// impression sent as a monitoring URL): it sets the impression's vx=0, vh/vi
// and video fields, and reports whether pings follow.
func (b *builder) measure(ev *event, pl *placeInfo) bool {
	post := b.g.layout.post
	if !viewTraffic(ev.ivt) {
		return false
	}
	x := b.xrng
	pings := false
	if post.view > 0 && x.Float64() < post.view {
		ev.view = admeter.ViewStarted
		if x.Float64() < viewOwnRule {
			ev.thresh = uint8(1 + x.IntN(len(viewThresholds)))
		}
		pings = true
	}
	if pl.video {
		v := uint8(videoPlay) | uint8(x.IntN(len(videoLengths)))<<videoLenShift
		if x.Float64() >= videoNoMeta {
			// vb in 9 of 10, vg in 17 of 20, at least one of them.
			if x.Float64() < 0.9 {
				v |= videoHasLength
			}
			if v&videoHasLength == 0 || x.Float64() < 0.85 {
				v |= 1 + uint8(x.IntN(3))
			}
		}
		ev.video = v
		pings = true
	}
	return pings
}

// pings emits what follows impression imp (arrived at t): the video
// progress pings as far as the viewer watched, and the viewability result.
func (b *builder) pings(t int64, imp event, pl *placeInfo) {
	x := b.xrng
	now := b.now.UnixMilli()
	ping := func(offset int64, kind admeter.Kind) event {
		e := imp
		e.kind, e.nonce = kind, x.Uint64()
		e.view, e.video, e.quart, e.thresh = 0, 0, 0, 0
		if e.mt != 0 {
			e.mt = min(imp.mt+offset, now)
		}
		return e
	}
	// The result comes when the measurement ends: 1 to 30 s for display,
	// the end of the watched part for video (at most 2 min, the SDK's
	// longest monitoring).
	resultAt := int64(logUniform(x, 1200, 30000))
	reached := 0
	if imp.video&videoPlay != 0 {
		length := videoLengths[imp.video>>videoLenShift&7]
		for reached < 4 && x.Float64() < videoReach[reached] {
			reached++
		}
		if x.Float64() < videoStartPing {
			off := int64(x.IntN(300))
			b.emit(t+off*1e6, withProgress(ping(off, admeter.KindVideo), admeter.ProgressStart))
		}
		for q := 1; q <= reached; q++ {
			if x.Float64() >= videoPingKept {
				continue // lost
			}
			off := length*int64(q)/4 + int64(x.IntN(400))
			b.emit(t+off*1e6, withProgress(ping(off, admeter.KindVideo), admeter.Progress25+admeter.VideoProgress(q-1)))
		}
		resultAt = min(length*int64(reached)/4+1000+int64(x.IntN(1000)), 120_000)
	}
	if imp.view != admeter.ViewStarted {
		return
	}
	r := x.Float64()
	if r < viewLost {
		return
	}
	res := ping(resultAt, admeter.KindViewability)
	switch viewable := viewViewable; {
	case r < viewLost+viewUnmeasurable:
		res.view = admeter.ViewUnmeasurable
	default:
		if imp.video&videoPlay != 0 {
			viewable += viewVideoBonus
		}
		res.view = admeter.ViewNotViewable
		if x.Float64() < viewable {
			res.view = admeter.ViewViewable
		}
	}
	if imp.video&videoPlay != 0 && x.Float64() < videoMask {
		res.quart = quartPresent | uint8(1<<reached-1) // the quartiles reached, in order
	}
	b.emit(t+resultAt*1e6, res)
	if x.Float64() < viewResend {
		again := res
		again.nonce = x.Uint64()
		b.emit(t+(resultAt+int64(logUniform(x, 1000, 600_000)))*1e6, again)
	}
}

func withProgress(e event, p admeter.VideoProgress) event {
	e.video = uint8(p)
	return e
}

// appendViewParams appends an SDK event's viewability and video letters.
func appendViewParams(b []byte, ev *event) []byte {
	switch ev.kind {
	case admeter.KindImpression:
		if ev.view == admeter.ViewStarted {
			b = append(b, "&vx=0"...)
		}
		if ev.thresh != 0 {
			th := viewThresholds[ev.thresh-1]
			b = append(b, "&vh="...)
			b = strconv.AppendInt(b, int64(th[0]), 10)
			b = append(b, "&vi="...)
			b = strconv.AppendInt(b, int64(th[1]), 10)
		}
		if ev.video&videoPlay != 0 {
			if ev.video&videoHasLength != 0 {
				b = append(b, "&vb="...)
				b = appendSeconds(b, videoLengths[ev.video>>videoLenShift&7])
			}
			if g := ev.video & videoPlayMask; g != 0 {
				b = append(b, "&vg="...)
				b = strconv.AppendInt(b, int64(g-1), 10)
			}
		}
	case admeter.KindViewability:
		b = append(b, "&vx="...)
		b = append(b, vxCode(ev.view))
		if ev.quart&quartPresent != 0 {
			b = append(b, "&vj="...)
			for i := range 4 {
				if ev.quart&(1<<i) != 0 {
					b = append(b, '1')
				} else {
					b = append(b, '0')
				}
			}
		}
	case admeter.KindVideo:
		b = append(b, "&vc="...)
		b = strconv.AppendInt(b, int64(admeter.VideoProgress(ev.video).Percent()), 10)
	}
	return b
}

// appendSeconds appends ms as seconds, with one decimal when not whole.
func appendSeconds(b []byte, ms int64) []byte {
	b = strconv.AppendInt(b, ms/1000, 10)
	if f := ms % 1000; f != 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, f/100, 10)
	}
	return b
}

func vxCode(v admeter.ViewResult) byte {
	switch v {
	case admeter.ViewViewable:
		return '1'
	case admeter.ViewUnmeasurable:
		return '2'
	case admeter.ViewNotViewable:
		return '4'
	}
	return '0'
}

// viewKey is one impression id on one placement: an impression and its
// result, or one video play.
type viewKey struct {
	place int32
	vf    uint64
}

// viewTally accumulates the viewability and video truth (store.ViewCounts):
// per impression id, the measured impression and its results; per play,
// what it did on each day. Only valid traffic is recorded.
type viewTally struct {
	imps    map[viewKey]viewImp
	results map[viewKey]uint8 // bit 0: measured (viewable or not), bit 1: viewable
	plays   map[viewKey]map[int32]uint8
}

// viewImp is a counted, valid impression with an id whose viewability was
// measured.
type viewImp struct {
	day int32
	key uint64
}

// Play bits: bit 0 started, bits 1–4 the quartiles reached.
const playStarted = 1

func (v *viewTally) init() {
	if v.imps == nil {
		v.imps, v.results, v.plays = map[viewKey]viewImp{}, map[viewKey]uint8{}, map[viewKey]map[int32]uint8{}
	}
}

// impression records a counted impression (the first of its impression id).
func (v *viewTally) impression(ev *event, day int32, valid bool) {
	if valid && ev.vf != 0 && ev.view == admeter.ViewStarted {
		v.init()
		v.imps[viewKey{ev.place, ev.vf}] = viewImp{day: day, key: ev.key}
	}
}

// event records a delivered event's part in viewability and video: a
// result (whatever its verdict: measurability belongs to the impression),
// and a valid event's part in its play on its own day.
func (v *viewTally) event(ev *event, day int32, valid bool) {
	if ev.vf == 0 {
		return
	}
	k := viewKey{ev.place, ev.vf}
	if ev.kind == admeter.KindViewability && ev.view.Measured() {
		v.init()
		bits := uint8(1)
		if ev.view == admeter.ViewViewable {
			bits |= 2
		}
		v.results[k] |= bits
	}
	if !valid {
		return
	}
	var bits uint8
	switch ev.kind {
	case admeter.KindImpression:
		if ev.video&(videoHasLength|videoPlayMask) != 0 {
			bits = playStarted
		}
	case admeter.KindVideo:
		p := admeter.VideoProgress(ev.video)
		if p == admeter.ProgressStart {
			bits = playStarted
		} else {
			bits = reachedBits(p.Quartile())
		}
	case admeter.KindViewability:
		if ev.quart&quartPresent != 0 {
			bits = reachedBits(admeter.Quartiles(ev.quart & 0xf))
		}
	}
	if bits == 0 {
		return
	}
	v.init()
	days := v.plays[k]
	if days == nil {
		days = map[int32]uint8{}
		v.plays[k] = days
	}
	days[day] |= bits
}

// reachedBits returns the play bits of every quartile at or before the
// highest one of q (a quartile is reached when a point at or past it is).
func reachedBits(q admeter.Quartiles) uint8 {
	var bits uint8
	for i := 3; i >= 0; i-- {
		if q&(1<<i) != 0 {
			for j := 0; j <= i; j++ {
				bits |= 2 << j
			}
			break
		}
	}
	return bits
}

// add adds one play's bits to o.
func (o *Outcomes) addPlay(bits uint8) {
	if bits&playStarted != 0 {
		o.VideoStarts++
	}
	for i, q := range []*int64{&o.VideoQ25, &o.VideoQ50, &o.VideoQ75, &o.VideoQ100} {
		if bits&(2<<i) != 0 {
			*q++
		}
	}
}

// localDayOf returns the local day of the instant ns in the campaign of
// place.
func (l *layout) localDayOf(ns int64, place int32) int32 {
	return localDay(ns, l.campaigns[l.places[place].campaign].loc)
}
