package simulate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/admeter/admeter"
)

// profile is how a media platform sends a placement's monitoring URLs.
type profile uint8

const (
	// profileSDK: the MMA China SDK inside the media app. It fills the
	// device macros (raw and MD5 OAID, MD5 IMEI and Android ID, raw IDFA,
	// the placeholder MAC on Android), writes "" for what it lacks, leaves
	// __REQUESTID__ alone, sends mt in seconds and appends vf, br, svl, the
	// app and device fields and a signature (mf). Only it sends br=0 pings
	// and retries.
	profileSDK profile = iota
	// profileMD5: a media ad server that sends hashed identifiers only
	// (ByteDance-style __OAID_MD5__), mt in milliseconds, and "" for what it
	// lacks.
	profileMD5
	// profileRaw: a media ad server that sends the raw OAID (Tencent-style),
	// mt in seconds, and leaves the macros it cannot fill unreplaced.
	profileRaw
	numProfiles
)

// Event flags.
const (
	evRetry   uint8 = 1 << iota // an SDK retry: the same request again
	evLate                      // arrived late, mt within 7 days
	evTooLate                   // mt older than 7 days: the collector uses its receive time
	evMillis                    // mt sent in milliseconds
	evBatch                     // sent through the batch API
	evOptOut                    // sent with the opt-out cookie: the collector drops it
	// evOptOutAPI: sent after the device's call to the opt-out API; the
	// collector drops it if that call was answered (see Tally).
	evOptOutAPI
)

// event is one simulated event: what the truth needs and what the request
// builder needs to write it, deterministically (a retry is built from a copy
// and gives the same request).
type event struct {
	mt int64  // event time in Unix milliseconds; 0 when no time is sent
	vf uint64 // impression id; 0 when none is sent
	// nonce seeds the event's request id, signature and network; a click's
	// nonce is also the key of its click id (Sender.clickIDs), and a
	// conversion's is its index in Plan.convs.
	nonce uint64
	key   uint64 // the user as the collector will key it; 0 for none
	dev   int32
	place int32 // index in Generator.places
	kind  admeter.Kind
	ivt   uint8 // 0, or the index in ivtKinds plus one
	flags uint8
	// Viewability and video (view.go): view is the vx state of an
	// impression (ViewStarted) or a result; video the vb/vg of a video
	// impression or the vc point of a progress ping; quart a result's vj
	// mask; thresh the index plus one of the vh/vi override it carries.
	view   admeter.ViewResult
	video  uint8
	quart  uint8
	thresh uint8
}

// Generator makes plans from one device population, so that successive
// plans (Next) continue the same campaign: the same users come back and
// their frequency grows. It is not safe for concurrent use.
type Generator struct {
	cfg    Config
	seed   uint64
	pop    *population
	layout *layout
	// spanWeight is the diurnal weight of [cfg.Start, cfg.End), against
	// which a window's share of cfg.Impressions is measured.
	spanWeight float64
	serial     uint64 // numbers the users of cookie-less browsers
	// optOut holds, for each device that opts out, when it does (Unix
	// nanoseconds): a browser's requests from then on carry the opt-out
	// cookie; an app device calls the opt-out API then.
	optOut map[int32]int64
	// appOptOuts are the app devices that opt out through the API, by
	// time. called holds those whose call a plan already holds: every
	// event of theirs in a later request is dropped.
	appOptOuts []appOptOut
	called     map[int32]bool
	// convSerial numbers the conversions of every plan, so that their ids
	// are unique.
	convSerial uint64
}

// appOptOut is an app device's call to the opt-out API.
type appOptOut struct {
	at  int64 // Unix nanoseconds
	dev int32
}

// layout is the campaigns and placements of a Generator, shared by its
// plans and their truth.
type layout struct {
	campaigns []campaignInfo
	places    []placeInfo
	media     []string
	mediaEsc  []string // media names URL-encoded, for mn=
	// post holds the settings of viewability, video and conversions; nil
	// when they are all off, so that the truth has none of their measures.
	post *postSettings
}

type campaignInfo struct {
	id           string
	loc          *time.Location
	first, count int // its placements in layout.places
	attr         admeter.Attribution
}

type placeInfo struct {
	campaign int
	id       string
	media    int // index in layout.media
	profile  profile
	ctr      float64
	imp, clk template
	video    bool // a video placement (Config.Video)
}

// Generate returns the plan for cfg: the traffic of cfg.Start to cfg.End,
// to be sent at cfg.Now. The same cfg always gives the same plan.
func Generate(cfg Config) (*Plan, error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	return g.Plan(cfg.Start, cfg.End, cfg.Now)
}

// NewGenerator validates cfg and builds its device population.
func NewGenerator(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("check simulation config: %w", err)
	}
	if cfg.Impressions == 0 {
		cfg.Impressions = max(1, int(float64(cfg.Devices)*cfg.MeanFrequency))
	}
	if cfg.Devices == 0 {
		cfg.Devices = max(1, int(float64(cfg.Impressions)/cfg.MeanFrequency))
	}
	g := &Generator{cfg: cfg, seed: uint64(cfg.Seed)}
	lay, err := newLayout(cfg.Campaigns, g.seed)
	if err != nil {
		return nil, err
	}
	g.layout = lay
	lay.post = newPostSettings(&cfg, g.seed)
	lay.markVideo(cfg.Video)
	var ivtEvents [len(ivtKinds)]int
	for k, kind := range ivtKinds {
		ivtEvents[k] = int(math.Ceil(cfg.IVT[kind] * float64(cfg.Impressions)))
	}
	rng := rand.New(rand.NewPCG(g.seed, 0x706f70756c6174)) // "populat"
	g.pop = newPopulation(rng, cfg.Devices, cfg.Web, ivtEvents)
	if lay.post != nil {
		lay.post.pop = g.pop
	}
	g.spanWeight = diurnalWeight(cfg.Start, cfg.End)
	g.optOut, g.appOptOuts = optOutTimes(g.pop, cfg.OptOut, cfg.AppOptOut, cfg.Start, cfg.End, g.seed)
	g.called = map[int32]bool{}
	return g, nil
}

// optOutTimes picks the devices that opt out and when each does, uniformly
// within [start, end): a share web of the browsers that keep cookies, and a
// share app of the app devices that have an OAID, IDFA or IMEI (returned
// again, by time, as the API calls to make). It draws from a hash of the
// seed and the device rather than from the plan's random stream, so that
// the rest of the traffic does not depend on the shares, and the browsers
// picked do not depend on app nor the app devices on web.
func optOutTimes(pop *population, web, app float64, start, end time.Time, seed uint64) (map[int32]int64, []appOptOut) {
	out := map[int32]int64{}
	var calls []appOptOut
	span := uint64(end.Sub(start))
	for d := range pop.nNormal {
		dev := &pop.devices[d]
		var h uint64
		switch {
		case dev.class == classWeb && dev.flags&flagCookies != 0 && web > 0:
			h = mix64(seed ^ 0x6f70742d6f7574 ^ uint64(d)) // "opt-out"
			if float64(h>>11)/(1<<53) >= web {
				continue
			}
		case dev.app() && app > 0 && canOptOut(dev):
			h = mix64(seed ^ 0x6170702d6f7074 ^ uint64(d)) // "app-opt"
			if float64(h>>11)/(1<<53) >= app {
				continue
			}
		default:
			continue
		}
		at := start.UnixNano() + int64(mix64(h)%span)
		out[int32(d)] = at
		if dev.app() {
			calls = append(calls, appOptOut{at: at, dev: int32(d)})
		}
	}
	slices.SortFunc(calls, func(x, y appOptOut) int {
		if c := cmp.Compare(x.at, y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.dev, y.dev)
	})
	return out, calls
}

// optOutTypes are the identifiers by which an app device may opt out: the
// ones it sends the same in every app and every event.
var optOutTypes = [...]admeter.IDType{admeter.IDOAID, admeter.IDIDFA, admeter.IDIMEI}

// canOptOut reports whether dev has an identifier to opt out by.
func canOptOut(dev *device) bool {
	for _, t := range optOutTypes {
		if dev.hasID(t) {
			return true
		}
	}
	return false
}

// callsIn returns the app opt-outs due within [start, end).
func (g *Generator) callsIn(start, end int64) []appOptOut {
	at := func(x appOptOut, t int64) int { return cmp.Compare(x.at, t) }
	i, _ := slices.BinarySearchFunc(g.appOptOuts, start, at)
	j, _ := slices.BinarySearchFunc(g.appOptOuts, end, at)
	return g.appOptOuts[i:j]
}

func newLayout(cs []Campaign, seed uint64) (*layout, error) {
	l := &layout{}
	mediaIdx := map[string]int{}
	rng := rand.New(rand.NewPCG(seed, 0x6c61796f7574)) // "layout"
	var mult []float64
	for ci, c := range cs {
		l.campaigns = append(l.campaigns, campaignInfo{id: c.ID, loc: c.location(), first: len(l.places), count: len(c.Placements), attr: c.Attribution.domain()})
		for _, p := range c.Placements {
			imp, err := parseTemplate(p.ImpressionURL)
			if err != nil {
				return nil, fmt.Errorf("campaign %s placement %s: %w", c.ID, p.ID, err)
			}
			clk, err := parseTemplate(p.ClickURL)
			if err != nil {
				return nil, fmt.Errorf("campaign %s placement %s: %w", c.ID, p.ID, err)
			}
			m, ok := mediaIdx[p.Media]
			if !ok {
				m = len(l.media)
				mediaIdx[p.Media] = m
				l.media = append(l.media, p.Media)
				l.mediaEsc = append(l.mediaEsc, escape(p.Media))
			}
			// Placements differ in CTR (creative, format, position): a
			// log-normal spread around the campaign mean.
			mult = append(mult, math.Exp(rng.NormFloat64()*0.5))
			l.places = append(l.places, placeInfo{
				campaign: ci, id: p.ID, media: m, imp: imp, clk: clk,
				profile: profile((uint64(len(l.places)) + seed) % uint64(numProfiles)),
			})
		}
	}
	var mean float64
	for _, m := range mult {
		mean += m
	}
	mean /= float64(len(mult))
	for i := range l.places {
		l.places[i].ctr = mult[i] / mean // times the configured CTR
	}
	return l, nil
}

// Next returns the plan for the window (now-window, now], to be sent now:
// the continuation of the traffic for a live demo. Its size follows the
// diurnal curve: cfg.Impressions per cfg span, scaled by the window's share.
func (g *Generator) Next(now time.Time, window time.Duration) (*Plan, error) {
	return g.Plan(now.Add(-window), now, now)
}

// Plan returns the traffic whose event times fall in [start, end), to be
// sent at now. Its number of ad opportunities is cfg.Impressions scaled by
// the window's diurnal weight against that of [cfg.Start, cfg.End).
func (g *Generator) Plan(start, end, now time.Time) (*Plan, error) {
	if !end.After(start) {
		return nil, errors.New("plan traffic: end must be after start")
	}
	if end.After(now) {
		return nil, errors.New("plan traffic: end must not be after now")
	}
	rng := rand.New(rand.NewPCG(g.seed^mix64(uint64(start.UnixNano())), uint64(end.UnixNano())))
	share := 1.0
	if g.spanWeight > 0 {
		share = diurnalWeight(start, end) / g.spanWeight
	}
	n := randRound(rng, float64(g.cfg.Impressions)*share)
	if n > maxEvents {
		return nil, fmt.Errorf("plan traffic: %d ad opportunities in one plan; use shorter windows", n)
	}
	b := &builder{
		g: g, rng: rng, start: start.UnixNano(), end: end.UnixNano(), now: now,
		times: newDiurnalSampler(start, end),
		floor: max(now.Add(-lateMax).UnixNano(), g.cfg.Start.UnixNano()),
	}
	if g.layout.post != nil {
		// The pings and conversions draw from a stream of their own, so
		// that the rest of the traffic is the same with them on or off.
		b.xrng = rand.New(rand.NewPCG(g.seed^mix64(uint64(start.UnixNano())^0x706f73742d6c6e6b), uint64(end.UnixNano()))) // "post-lnk"
	}
	b.normal(n)
	b.invalid(n)
	b.conversions()
	return b.plan(start, end), nil
}

// lateMax is how old a late arrival's mt may be: inside the collector's
// 7-day window with half a day to spare for the time it takes to send.
const lateMax = 156 * time.Hour

func randRound(rng *rand.Rand, x float64) int {
	n := math.Floor(x)
	if rng.Float64() < x-n {
		n++
	}
	return int(n)
}

// emission is an event at the moment it reaches the collector.
type emission struct {
	at  int64 // arrival, Unix nanoseconds: the send order
	seq uint32
	ev  event
}

// builder generates the events of one plan.
type builder struct {
	g          *Generator
	rng        *rand.Rand
	start, end int64 // the window, Unix nanoseconds
	floor      int64 // earliest mt of a late arrival
	now        time.Time
	times      sampler
	out        []emission
	// rendered lists normal, on-time impressions without a click: where
	// IVTFastClick clicks are attached.
	rendered []int
	// xrng draws the viewability and video pings and the conversions; nil
	// when they are off.
	xrng *rand.Rand
	// convs are the plan's conversions (conversion.go).
	convs []conversion
}

func (b *builder) emit(at int64, ev event) int {
	b.out = append(b.out, emission{at: at, seq: uint32(len(b.out)), ev: ev})
	return len(b.out) - 1
}

// normal generates n ad opportunities of valid traffic.
func (b *builder) normal(n int) {
	pop := b.g.pop
	if pop.nNormal == 0 {
		return
	}
	for range n {
		d := int32(pop.normal.sample(b.rng))
		c := b.rng.IntN(len(b.g.layout.campaigns))
		p := b.placementFor(d, c)
		b.opportunity(d, p, b.times.sample(b.rng), 0)
	}
}

// placementFor picks where device d sees campaign c: mostly the one app it
// uses most, sometimes another.
func (b *builder) placementFor(d int32, c int) int32 {
	ci := &b.g.layout.campaigns[c]
	if b.rng.Float64() < 0.8 {
		return int32(ci.first + int(mix64(uint64(d)^b.g.seed^uint64(c)<<40)%uint64(ci.count)))
	}
	return int32(ci.first + b.rng.IntN(ci.count))
}

// opportunity is one ad shown (or about to be) to device d on placement p
// at time t: an optional br=0 ping, the impression, an SDK retry, a click.
// ivt is the event's invalid-traffic kind (index plus one) or 0.
func (b *builder) opportunity(d, p int32, t int64, ivt uint8) {
	dev := &b.g.pop.devices[d]
	pl := &b.g.layout.places[p]
	ev := event{dev: d, place: p, ivt: ivt, nonce: b.rng.Uint64()}
	prof := pl.profile
	if dev.flags&flagForceSDK != 0 {
		prof = profileSDK
	}
	batch := dev.app() && ivt == 0 && b.rng.Float64() < b.g.cfg.BatchFraction
	if batch {
		ev.flags |= evBatch
	}
	if !dev.app() || prof == profileMD5 {
		ev.flags |= evMillis
	}
	mt := t / 1e6
	late := false
	if dev.app() && dev.class != classMacro && ivt == 0 {
		switch r := b.rng.Float64(); {
		case r < b.g.cfg.LateArrival:
			if span := t - b.floor; span > 20*int64(time.Minute) {
				mt -= int64(logUniform(b.rng, 10*float64(time.Minute), float64(span))) / 1e6
				ev.flags |= evLate
				late = true
			}
		case r < b.g.cfg.LateArrival+b.g.cfg.TooLate:
			mt -= int64(8*24*time.Hour+time.Duration(b.rng.Int64N(int64(22*24*time.Hour)))) / 1e6
			ev.flags |= evTooLate
			late = true
		}
	}
	if dev.class == classMacro {
		mt = 0 // __TS__ left as it is
	}
	ev.mt = mt
	ev.key = b.keyOf(dev, d, pl)
	sdk := dev.app() && prof == profileSDK && dev.class != classMacro

	if sdk && b.rng.Float64() < b.g.cfg.Served {
		s := ev
		s.kind, s.vf, s.nonce = admeter.KindServed, b.vf(), b.rng.Uint64()
		b.emit(t-300*int64(time.Millisecond), s)
		if b.rng.Float64() < 0.2 {
			return // served, never rendered
		}
	}
	ev.kind = admeter.KindImpression
	if sdk {
		ev.vf = b.vf()
	}
	if dev.key == admeter.IDCookie && dev.flags&flagCookies == 0 {
		ev.key = b.freshUser()
	}
	measured := sdk && !batch && b.xrng != nil && b.measure(&ev, pl)
	i := b.emit(t, ev)
	if sdk && !batch && b.rng.Float64() < b.g.cfg.Retries {
		r := ev
		r.flags |= evRetry
		b.emit(t+int64(logUniform(b.rng, float64(2*time.Second), float64(6*time.Hour))), r)
	}
	if measured {
		b.pings(t, ev, pl)
	}
	ev.view, ev.video, ev.quart, ev.thresh = 0, 0, 0, 0 // a click carries none of them
	if b.rng.Float64() < b.g.cfg.CTR*pl.ctr {
		// A human click: seconds later, with the impression's vf (the SDK
		// re-uses the last vf of the placement).
		delay := int64(math.Min(math.Max(math.Exp(math.Log(5)+0.8*b.rng.NormFloat64()), 1.2), 300) * float64(time.Second))
		c := ev
		c.kind, c.nonce = admeter.KindClick, b.rng.Uint64()
		c.mt = min(ev.mt+delay/1e6, b.now.UnixMilli()) // not after the plan's send time
		if ev.mt == 0 {
			c.mt = 0
		}
		if dev.key == admeter.IDCookie && dev.flags&flagCookies == 0 {
			c.key = b.freshUser()
		}
		b.emit(t+delay, c)
	} else if ivt == 0 && !late && !batch {
		b.rendered = append(b.rendered, i)
	}
}

// keyOf returns the user the collector will key an event of dev on pl by.
// A device with an identifier is one user, except that since Android 8 the
// Android ID differs per app (per signing key), so an Android-ID-keyed
// device is one user per media.
func (b *builder) keyOf(dev *device, d int32, pl *placeInfo) uint64 {
	switch {
	case dev.key == admeter.IDNone:
		return 0
	case dev.key == admeter.IDAndroidID && dev.flags&flagPerApp != 0:
		return uint64(d+1)<<20 | uint64(pl.media+1)
	}
	return uint64(d+1) << 20
}

// freshUser returns a user key that no other event has: a browser that
// does not return the cookie gets a new one on every request.
func (b *builder) freshUser() uint64 {
	b.g.serial++
	return 1<<63 | b.g.serial
}

func (b *builder) vf() uint64 {
	for {
		if v := b.rng.Uint64(); v != 0 {
			return v
		}
	}
}

func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
}

// invalid injects the invalid traffic for a plan of n ad opportunities.
func (b *builder) invalid(n int) {
	pop := b.g.pop
	flat := func() int64 { return b.start + b.rng.Int64N(b.end-b.start) }
	for k, kind := range ivtKinds {
		count := randRound(b.rng, b.g.cfg.IVT[kind]*float64(n))
		devs := pop.byIVT[k]
		if count == 0 || (len(devs) == 0 && kind != IVTFastClick) {
			continue
		}
		tag := uint8(k + 1)
		anyDev := func() int32 { return int32(devs[b.rng.IntN(len(devs))]) }
		anyPlace := func() int32 { return int32(b.rng.IntN(len(b.g.layout.places))) }
		switch kind {
		case IVTCrawler:
			for range count {
				d, p := anyDev(), anyPlace()
				ev := event{dev: d, place: p, ivt: tag, kind: admeter.KindImpression, flags: evMillis, nonce: b.rng.Uint64()}
				if b.rng.Float64() < 0.1 {
					ev.kind = admeter.KindClick // spiders follow links too
				}
				t := flat()
				ev.mt = t / 1e6
				b.emit(t, ev)
			}
		case IVTDataCentre:
			for range count {
				b.opportunity(anyDev(), anyPlace(), flat(), tag)
			}
		case IVTFrequency:
			// Each device fires its share within half an hour on one
			// placement.
			per := max(1, count/len(devs))
			for i, d := range devs {
				m := per
				if i == len(devs)-1 {
					m = count - per*(len(devs)-1)
				}
				if m <= 0 {
					break
				}
				p := anyPlace()
				burst := min(int64(30*time.Minute), b.end-b.start)
				t0 := b.start + b.rng.Int64N(b.end-b.start-burst+1)
				for range m {
					b.opportunity(int32(d), p, t0+b.rng.Int64N(burst), tag)
				}
			}
		case IVTOrphanClick:
			for range count {
				d, p := anyDev(), anyPlace()
				t := b.times.sample(b.rng)
				ev := event{dev: d, place: p, ivt: tag, kind: admeter.KindClick, mt: t / 1e6, nonce: b.rng.Uint64()}
				ev.key = b.keyOf(&pop.devices[d], d, &b.g.layout.places[p])
				b.emit(t, ev)
			}
		case IVTFastClick:
			if b.xrng != nil && b.g.layout.post.convShare > 0 {
				// A converting device's touches are valid whether or not
				// the server has judged behaviour yet (see truth.go).
				b.rendered = slices.DeleteFunc(b.rendered, func(i int) bool { return b.g.layout.post.converts(b.out[i].ev.dev) })
			}
			for range min(count, len(b.rendered)) {
				j := b.rng.IntN(len(b.rendered))
				i := b.rendered[j]
				b.rendered[j] = b.rendered[len(b.rendered)-1]
				b.rendered = b.rendered[:len(b.rendered)-1]
				imp := b.out[i]
				c := imp.ev
				c.view, c.video, c.quart, c.thresh = 0, 0, 0, 0
				delay := 80 + b.rng.Int64N(720) // milliseconds
				c.kind, c.ivt, c.nonce, c.mt = admeter.KindClick, tag, b.rng.Uint64(), min(imp.ev.mt+delay, b.now.UnixMilli())
				c.flags = imp.ev.flags&^evRetry | evMillis
				if d := &pop.devices[c.dev]; d.key == admeter.IDCookie && d.flags&flagCookies == 0 {
					c.key = b.freshUser() // a browser without cookies is new every time
				}
				b.emit(imp.at+delay*1e6, c)
			}
		default: // IVTRiskyDevice, IVTPlaceholder, IVTMacro: ordinary-looking ads
			for range count {
				b.opportunity(anyDev(), anyPlace(), b.times.sample(b.rng), tag)
			}
		}
	}
}

// plan sorts the emissions into send order and builds the requests.
func (b *builder) plan(start, end time.Time) *Plan {
	slices.SortFunc(b.out, func(x, y emission) int {
		if c := cmp.Compare(x.at, y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	p := &Plan{Now: b.now, Start: start, End: end, layout: b.g.layout, events: make([]event, 0, len(b.out))}
	p.Requests = make([]Request, 0, len(b.out))
	w := writer{g: b.g}
	var batch []event
	flush := func() {
		if len(batch) == 0 {
			return
		}
		first := len(p.events)
		p.events = append(p.events, batch...)
		p.Requests = append(p.Requests, w.batchRequest(p.events[first:], int32(first)))
		batch = batch[:0]
	}
	size := max(1, b.g.cfg.BatchSize)
	p.convs = b.convs
	var convs []event // conversions waiting for their upload
	convSize := b.g.cfg.ConversionBatch
	if convSize == 0 {
		convSize = defaultConversionBatch
	}
	uploads := 0
	flushConvs := func() {
		if len(convs) == 0 {
			return
		}
		first := len(p.events)
		p.events = append(p.events, convs...)
		r := w.conversionRequest(first, len(convs), uploads)
		p.Requests = append(p.Requests, r)
		if mix64(b.g.seed^0x7265747279^uint64(b.start)^uint64(uploads))%100 < conversionBatchRetry {
			// The advertiser's server did not see the answer and sends
			// the whole upload again.
			p.Requests = append(p.Requests, r)
		}
		uploads++
		convs = convs[:0]
	}
	// An app device's opt-out call goes in at its time, or before its
	// first later event when that comes first (a plan's events can run past
	// its window). Every request after the call that carries an event of
	// the device is sent after it is answered (see Sender.Send), so the
	// device's events that were batched before it are flushed first.
	calls := b.g.callsIn(b.start, b.end)
	call := func(d int32) {
		if b.g.called[d] {
			return
		}
		b.g.called[d] = true
		for i := range batch {
			if batch[i].dev == d {
				flush()
				break
			}
		}
		for i := range convs {
			if convs[i].dev == d {
				flushConvs()
				break
			}
		}
		p.Requests = append(p.Requests, w.optOutRequest(d, int32(len(p.events))))
	}
	for _, e := range b.out {
		for len(calls) > 0 && calls[0].at <= e.at {
			call(calls[0].dev)
			calls = calls[1:]
		}
		if t, ok := b.g.optOut[e.ev.dev]; ok {
			if !b.g.pop.devices[e.ev.dev].app() {
				if e.at >= t {
					e.ev.flags |= evOptOut
				}
			} else {
				if e.at >= t {
					call(e.ev.dev)
				}
				if b.g.called[e.ev.dev] {
					e.ev.flags |= evOptOutAPI
				}
			}
		}
		if e.ev.kind == admeter.KindConversion {
			convs = append(convs, e.ev)
			if len(convs) == convSize {
				flushConvs()
			}
			continue
		}
		if e.ev.flags&evBatch != 0 {
			batch = append(batch, e.ev)
			if len(batch) == size {
				flush()
			}
			continue
		}
		p.events = append(p.events, e.ev)
		p.Requests = append(p.Requests, w.urlRequest(&p.events[len(p.events)-1], int32(len(p.events)-1)))
	}
	for _, c := range calls {
		call(c.dev)
	}
	flush()
	flushConvs()
	b.out = nil
	return p
}

// sampler draws event times over a window, following the diurnal curve in
// Asia/Shanghai time.
type sampler struct {
	edges []int64   // slot boundaries, Unix nanoseconds
	cum   []float64 // cumulative weight at the end of each slot
}

// shanghai is China Standard Time; China has had no daylight saving since
// 1991, so a fixed zone needs no time zone database.
var shanghai = time.FixedZone("CST", 8*3600)

func diurnalSlots(start, end time.Time, fn func(from, to time.Time, w float64)) {
	for t := start; t.Before(end); {
		next := t.In(shanghai).Truncate(time.Hour).Add(time.Hour)
		if next.After(end) {
			next = end
		}
		fn(t, next, diurnal[t.In(shanghai).Hour()]*next.Sub(t).Hours())
		t = next
	}
}

func diurnalWeight(start, end time.Time) float64 {
	var w float64
	diurnalSlots(start, end, func(_, _ time.Time, x float64) { w += x })
	return w
}

func newDiurnalSampler(start, end time.Time) sampler {
	var s sampler
	var total float64
	s.edges = append(s.edges, start.UnixNano())
	diurnalSlots(start, end, func(_, to time.Time, w float64) {
		total += w
		s.edges = append(s.edges, to.UnixNano())
		s.cum = append(s.cum, total)
	})
	return s
}

func (s *sampler) sample(rng *rand.Rand) int64 {
	r := rng.Float64() * s.cum[len(s.cum)-1]
	i, _ := slices.BinarySearch(s.cum, r)
	i = min(i, len(s.cum)-1)
	lo, hi := s.edges[i], s.edges[i+1]
	return lo + rng.Int64N(max(1, hi-lo))
}
