package simulate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// conversionPath is the conversion API (collect.Collector.Conversions).
const conversionPath = "/api/v1/conversions"

// consentRefHeader carries an upload's consent reference
// (collect.ConsentRefHeader).
const consentRefHeader = "X-Admeter-Consent-Ref"

// defaultConversionBatch is the conversions per upload when
// Config.ConversionBatch is 0.
const defaultConversionBatch = 100

// Shares of the conversion behaviour; see docs/simulation.md.
const (
	convAfterClick      = 0.80 // a converting device's clicks that lead to a conversion
	convAfterImpression = 0.02 // and its impressions
	convFarmShare       = 0.50 // data-centre and risky devices (farms) that "convert"
	convResend          = 0.04 // conversions the advertiser sends again later
	// conversionBatchRetry is the percentage of uploads sent twice whole.
	conversionBatchRetry = 5
)

// converts reports whether device d converts: a share convShare of the
// normal devices and half the device farms (data-centre relays and risky
// devices, whose touches are invalid), by a hash of the seed and the device.
func (s *postSettings) converts(d int32) bool {
	if s.convShare == 0 {
		return false
	}
	h := float64(mix64(s.seed^0x636f6e76657274^uint64(d))>>11) / (1 << 53) // "convert"
	if int(d) < s.pop.nNormal {
		return h < s.convShare
	}
	k := s.pop.devices[d].ivt
	return k != 0 && (ivtKinds[k-1] == IVTDataCentre || ivtKinds[k-1] == IVTRiskyDevice) && h < convFarmShare
}

// conversion is one conversion as the advertiser's server reports it. A
// resend is another event naming the same conversion.
type conversion struct {
	id   string
	typ  string
	at   int64 // Unix milliseconds
	form uint8 // how the time is written: 0 ms number, 1 ms string, 2 RFC 3339
	// value is the decimal sent ("" for none), number whether as a JSON
	// number, micros its value in millionths of CNY.
	value    string
	number   bool
	currency string
	micros   int64
	// click is the key of the click whose click id it reports (0: none);
	// ids whether it carries the device's identifiers.
	click   uint64
	ids     bool
	devIDs  convIDs
	key     uint64 // the user the server derives from the identifiers; 0 none
	consent bool   // consent_ref in the row (else the upload's header)
	old     bool   // more than 90 days old: the server refuses the row
}

// convIDs are the identifier fields of a conversion.
type convIDs struct {
	OAID, OAIDMD5, IDFA, IDFAMD5, IMEIMD5, AndroidIDMD5, CAID string
}

// convTypes are the conversion types, with the delay after the touch
// (log-uniform between the bounds) and their share.
var convTypes = [...]struct {
	name    string
	lo, hi  time.Duration
	share   float64
	valued  bool
	idStart string
}{
	{admeter.ConversionActivation, 2 * time.Minute, 6 * time.Hour, 0.40, false, "act"},
	{admeter.ConversionRegistration, 10 * time.Minute, 2 * 24 * time.Hour, 0.30, false, "reg"},
	{admeter.ConversionOrder, time.Hour, 6 * 24 * time.Hour, 0.30, true, "ord"},
}

// conversions generates the plan's conversions: after the touches of
// converting devices, a fifth as many with no touch in mind (organic), and
// a few more than 90 days old, which the server refuses.
func (b *builder) conversions() {
	post := b.g.layout.post
	if post == nil || post.convShare == 0 {
		return
	}
	x := b.xrng
	n := len(b.out)
	for i := range n {
		e := b.out[i]
		ev := &e.ev
		if ev.kind != admeter.KindImpression && ev.kind != admeter.KindClick || ev.flags&evRetry != 0 || !post.converts(ev.dev) {
			continue
		}
		p := convAfterImpression
		if ev.kind == admeter.KindClick {
			p = convAfterClick
		}
		if x.Float64() >= p {
			continue
		}
		base := e.at / 1e6 // a too-late or timeless event: when it arrived
		if ev.mt != 0 && ev.flags&evTooLate == 0 {
			base = ev.mt
			if ev.flags&evMillis == 0 {
				base = ev.mt / 1000 * 1000
			}
		}
		b.convert(ev, e.at, base, false, false)
	}
	touched := len(b.convs)
	pop := b.g.pop
	pick := func() (event, bool) {
		for range 1000 {
			d := int32(x.IntN(pop.nNormal))
			if dev := &pop.devices[d]; post.converts(d) && dev.app() && dev.key != admeter.IDNone {
				return event{dev: d, kind: admeter.KindImpression, place: int32(b.g.layout.campaigns[0].first)}, true
			}
		}
		return event{}, false
	}
	if touched == 0 {
		return
	}
	stop := min(b.end, b.now.UnixNano()-int64(time.Minute))
	for range max(1, touched/5) {
		if ev, ok := pick(); ok && stop > b.start {
			at := b.start + x.Int64N(stop-b.start)
			b.convert(&ev, at, at/1e6, true, false)
		}
	}
	for range max(1, touched/50) {
		if ev, ok := pick(); ok {
			at := b.start + x.Int64N(b.end-b.start)
			b.convert(&ev, at, b.now.Add(-time.Duration(91+x.IntN(29))*24*time.Hour).UnixMilli(), true, true)
		}
	}
}

// convert adds a conversion of the device of touch ev, which arrived at
// arrived (Unix ns) and happened at base (Unix ms): some time after it by
// the conversion type's delays, or at base itself for an organic
// conversion (no touch in mind) and an old one (more than 90 days ago).
func (b *builder) convert(ev *event, arrived, base int64, organic, old bool) {
	x := b.xrng
	g := b.g
	dev := &g.pop.devices[ev.dev]
	r, ti := x.Float64(), 0
	for ti < len(convTypes)-1 && r >= convTypes[ti].share {
		r -= convTypes[ti].share
		ti++
	}
	ct := &convTypes[ti]
	at := base
	if !organic {
		at += int64(logUniform(x, float64(ct.lo), float64(ct.hi))) / 1e6
	}
	// Half-way through a second: never a whole number of days from a
	// touch sent in seconds, so no conversion lies on a window's edge.
	at = at/1000*1000 + 500 + int64(x.IntN(500))
	if at > b.now.UnixMilli()-1000 {
		return // not happened yet when the plan is sent
	}
	c := conversion{typ: ct.name, at: at, old: old, consent: x.Float64() < 0.3}
	switch x.IntN(10) { // 80% ms as a number, 10% as a string, 10% RFC 3339
	case 8:
		c.form = 1
	case 9:
		c.form = 2
	}
	hasIDs := dev.app() && dev.key != admeter.IDNone
	_, optsOut := g.optOut[ev.dev]
	pl := &g.layout.places[ev.place]
	if !organic && ev.kind == admeter.KindClick && ev.flags&evBatch == 0 && g.layout.campaigns[pl.campaign].attr.ClickIDParam != "" && !optsOut {
		c.click = ev.nonce
		switch r := x.Float64(); {
		case !hasIDs:
		case r < 0.5:
			c.ids = true
		case r < 0.75:
		default:
			c.click, c.ids = 0, true
		}
	} else if hasIDs {
		c.ids = true
	} else {
		return // the advertiser cannot name the user
	}
	if c.ids {
		c.devIDs, c.key = g.conversionIDs(ev.dev, dev, x.Uint64())
	}
	if ct.valued {
		fen := int64(logUniform(x, 990, 300_000))
		c.micros = fen * 10_000
		switch {
		case fen%100 == 0 && x.IntN(2) == 0:
			c.value = strconv.FormatInt(fen/100, 10)
		case fen%10 == 0 && x.IntN(2) == 0:
			c.value = fmt.Sprintf("%d.%d", fen/100, fen%100/10)
		default:
			c.value = fmt.Sprintf("%d.%02d", fen/100, fen%100)
		}
		c.number = x.Float64() < 0.2
		switch r := x.Float64(); {
		case r < 0.7:
			c.currency = "CNY"
		case r < 0.8:
			c.currency = "cny"
		}
	}
	g.convSerial++
	c.id = fmt.Sprintf("%s-%06x-%d", ct.idStart, g.seed&0xffffff, g.convSerial)
	idx := len(b.convs)
	b.convs = append(b.convs, c)
	up := at*1e6 + int64(logUniform(x, float64(time.Minute), float64(3*time.Hour)))
	if c.click != 0 {
		up = max(up, arrived+int64(time.Millisecond))
	}
	cev := event{kind: admeter.KindConversion, dev: ev.dev, place: ev.place, mt: at, key: c.key, nonce: uint64(idx)}
	b.emit(up, cev)
	if x.Float64() < convResend {
		b.emit(up+int64(logUniform(x, float64(5*time.Minute), float64(24*time.Hour))), cev)
	}
}

// conversionIDs returns the identifiers the advertiser reports device d
// by (every one it has, in the forms its server keeps: raw or MD5
// advertising ids, MD5 of the rest) and the user the server will derive
// from them: the device's events' user, except that an Android ID differs
// per app since Android 8, so a device known only by one is a user the
// advertiser's app cannot share with any media app.
func (g *Generator) conversionIDs(d int32, dev *device, h uint64) (convIDs, uint64) {
	var ids convIDs
	if dev.hasID(admeter.IDOAID) {
		v, _ := g.oaid(d, dev)
		if h&1 == 0 {
			ids.OAID = v
		} else {
			ids.OAIDMD5 = oaidMD5(v)
		}
	}
	if dev.hasID(admeter.IDIDFA) {
		v := g.idfa(d)
		switch h >> 1 & 3 {
		case 0:
			ids.IDFAMD5 = idfaMD5(v)
		case 1:
			ids.IDFA = strings.ToLower(v)
		default:
			ids.IDFA = v
		}
	}
	if dev.hasID(admeter.IDIMEI) {
		ids.IMEIMD5 = imeiMD5(g.imei(d))
	}
	if dev.hasID(admeter.IDAndroidID) {
		salt := saltAndroidID
		if dev.flags&flagPerApp != 0 {
			salt |= 0xffff << 8 // the advertiser's own app
		}
		bits := newBits(g.seed, d, salt)
		ids.AndroidIDMD5 = androidIDMD5(bits.hexID(16, hexLower))
	}
	if dev.hasID(admeter.IDCAID) {
		ids.CAID = g.caid(d)
	}
	key := uint64(d+1) << 20
	if dev.key == admeter.IDAndroidID && dev.flags&flagPerApp != 0 {
		key |= 0xfffff // no media app's user
	}
	return ids, key
}

// conversionRequest builds the upload of the n conversions at
// p.events[first:]: its body is written when it is sent (see
// Sender.Send), with the click ids the sender captured.
func (w *writer) conversionRequest(first, n, upload int) Request {
	return Request{Method: "POST", Target: conversionPath, UserAgent: "admeter-simulate/1 (advertiser server)",
		Device: -1, Events: n, Conversions: true, NDJSON: upload%3 == 2, first: int32(first)}
}

// conversionRow is one conversion of an upload (docs/api.md).
type conversionRow struct {
	ConversionID string `json:"conversion_id"`
	Type         string `json:"type"`
	Time         any    `json:"time"`
	Value        any    `json:"value,omitempty"`
	Currency     string `json:"currency,omitempty"`
	ClickID      string `json:"click_id,omitempty"`
	ConsentRef   string `json:"consent_ref,omitempty"`
	OAID         string `json:"oaid,omitempty"`
	OAIDMD5      string `json:"oaid_md5,omitempty"`
	IDFA         string `json:"idfa,omitempty"`
	IDFAMD5      string `json:"idfa_md5,omitempty"`
	IMEIMD5      string `json:"imei_md5,omitempty"`
	AndroidIDMD5 string `json:"android_id_md5,omitempty"`
	CAID         string `json:"caid,omitempty"`
}

// conversionBody writes the body of conversion upload r of p. clickID
// returns the click id captured for a click key. A conversion that reports
// a click whose id was not captured goes without it, by its identifiers,
// or not at all when it has none: sent is false for those left out.
func conversionBody(p *Plan, evs []event, ndjson bool, clickID func(uint64) (string, bool)) (body []byte, sent []bool) {
	sent = make([]bool, len(evs))
	rows := make([]conversionRow, 0, len(evs))
	for i := range evs {
		c := &p.convs[evs[i].nonce]
		row := conversionRow{ConversionID: c.id, Type: c.typ}
		switch c.form {
		case 0:
			row.Time = c.at
		case 1:
			row.Time = strconv.FormatInt(c.at, 10)
		default:
			row.Time = time.UnixMilli(c.at).In(shanghai).Format("2006-01-02T15:04:05.000Z07:00")
		}
		if c.value != "" {
			row.Value = c.value
			if c.number {
				row.Value = json.Number(c.value)
			}
			row.Currency = c.currency
		}
		if c.click != 0 {
			if id, ok := clickID(c.click); ok {
				row.ClickID = id
			} else if !c.ids {
				continue
			}
		}
		if c.ids {
			row.OAID, row.OAIDMD5, row.IDFA, row.IDFAMD5 = c.devIDs.OAID, c.devIDs.OAIDMD5, c.devIDs.IDFA, c.devIDs.IDFAMD5
			row.IMEIMD5, row.AndroidIDMD5, row.CAID = c.devIDs.IMEIMD5, c.devIDs.AndroidIDMD5, c.devIDs.CAID
		}
		if c.consent {
			row.ConsentRef = "consent-" + c.id
		}
		rows = append(rows, row)
		sent[i] = true
	}
	if len(rows) == 0 {
		return nil, sent
	}
	if !ndjson {
		b, err := json.Marshal(rows)
		if err != nil {
			panic("simulate: marshal conversions: " + err.Error()) // strings and numbers cannot fail
		}
		return b, sent
	}
	var b []byte
	for _, row := range rows {
		line, err := json.Marshal(row)
		if err != nil {
			panic("simulate: marshal conversion: " + err.Error())
		}
		b = append(append(b, line...), '\n')
	}
	return b, sent
}

// touch is a valid, delivered impression or click that may win a
// conversion.
type touch struct {
	at    int64 // event time, Unix nanoseconds
	place int32
	click bool
}

// convRecord is a conversion the server stored.
type convRecord struct {
	at     int64 // Unix nanoseconds
	typ    string
	key    uint64
	click  uint64 // the click key whose id it carried; 0 none
	micros int64
}

// convTally accumulates what attributing conversions needs: the valid
// touches of converting devices, the valid clicks whose click id an
// advertiser may report, and the conversions the server stored (the first
// delivery of each conversion id).
type convTally struct {
	touches  map[uint64][]touch
	clicks   map[uint64]touch
	stored   map[string]int // conversion id → index in records
	records  []convRecord
	captured map[uint64]bool
	summary  ConversionTraffic
}

func (c *convTally) init() {
	if c.touches == nil {
		c.touches, c.clicks, c.stored, c.captured = map[uint64][]touch{}, map[uint64]touch{}, map[string]int{}, map[uint64]bool{}
	}
}

// attribute returns the touch a conversion is attributed to, by the rules
// of the design (docs/simulation.md): the click whose id it carries, if
// within that click's campaign's click window for its type; else the
// user's last click within its own campaign's click window; else the
// user's last impression within its campaign's view window. Ties go to the
// later touch, then the lower campaign id, then the lower placement id.
func (c *convTally) attribute(l *layout, r *convRecord) (touch, bool) {
	rule := func(t touch) admeter.AttributionRule {
		return l.campaigns[l.places[t.place].campaign].attr.Rule(r.typ)
	}
	within := func(t touch, w time.Duration) bool {
		return w > 0 && t.at <= r.at && r.at-t.at <= int64(w)
	}
	if r.click != 0 {
		if t, ok := c.clicks[r.click]; ok && within(t, rule(t).ClickWindow()) {
			return t, true
		}
	}
	if r.key == 0 {
		return touch{}, false
	}
	better := func(a, b touch) bool { // a beats b
		if a.at != b.at {
			return a.at > b.at
		}
		ca, cb := l.campaigns[l.places[a.place].campaign].id, l.campaigns[l.places[b.place].campaign].id
		if ca != cb {
			return ca < cb
		}
		return l.places[a.place].id < l.places[b.place].id
	}
	for _, clicks := range []bool{true, false} {
		var best touch
		found := false
		for _, t := range c.touches[r.key] {
			if t.click != clicks {
				continue
			}
			w := rule(t).ViewWindow()
			if clicks {
				w = rule(t).ClickWindow()
			}
			if within(t, w) && (!found || better(t, best)) {
				best, found = t, true
			}
		}
		if found {
			return best, true
		}
	}
	return touch{}, false
}

// ttcBuckets are the upper ends of the time-to-convert buckets of the
// conversions report (report.Buckets); the last includes its end.
var ttcBuckets = [...]time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, admeter.MaxAttributionWindow}

func ttcBucket(d time.Duration) int {
	for i, to := range ttcBuckets {
		if d < to {
			return i
		}
	}
	return len(ttcBuckets) - 1
}

// sortedRecords returns the stored conversions in time order, then id.
func (c *convTally) sortedRecords() []convRecord {
	ids := make([]string, 0, len(c.stored))
	for id := range c.stored {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		ra, rb := &c.records[c.stored[a]], &c.records[c.stored[b]]
		return cmp.Or(cmp.Compare(ra.at, rb.at), strings.Compare(a, b))
	})
	out := make([]convRecord, len(ids))
	for i, id := range ids {
		out[i] = c.records[c.stored[id]]
	}
	return out
}
