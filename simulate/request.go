package simulate

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Plan is generated traffic: the requests to send, in order, and what the
// truth needs to know about every event in them.
type Plan struct {
	// Now is when the plan is meant to be sent; Start and End bound the
	// event times of its traffic (late arrivals excepted).
	Now        time.Time
	Start, End time.Time
	// Requests are in send order.
	Requests []Request

	layout *layout
	events []event // in request order; Request.first indexes them
	convs  []conversion
}

// Request is one HTTP request of a plan: a monitoring URL, a batch, or an
// app device's call to the opt-out API.
type Request struct {
	// Method is GET for monitoring URLs, POST for the batch API and the
	// opt-out API.
	Method string
	// Target is the path and query, relative to the server's base URL,
	// exactly as it goes on the request line.
	Target string
	// UserAgent is the User-Agent header.
	UserAgent string
	// Body is the JSON body of a POST (the batch API's array, or the
	// opt-out API's object), nil otherwise.
	Body []byte
	// Device is the device that sends the request, or -1 for a batch (a
	// server relaying many devices). A sender must send one device's
	// requests in order.
	Device int32
	// Cookies is set when the device is a browser that keeps cookies: the
	// sender must return the cookies the server set on its earlier answers.
	Cookies bool
	// OptOut is set when the browser has opted out of measurement: the
	// sender must send the opt-out cookie (admeter_optout=1) along with
	// its id cookie. The collector drops the request's events.
	OptOut bool
	// IVT names the kind of invalid traffic a monitoring-URL request's event
	// is ("" for valid traffic): the ground truth of a detector's verdict
	// on that one event. Batch requests carry only valid events.
	IVT IVTKind
	// OptOutAPI is set on an app device's call to the opt-out API (POST
	// /api/v1/optout with {"id_type":…,"id":…}), which carries no event.
	// A sender must send it only once every earlier request of the plan
	// has been answered, wait out 429 answers, and start no later request
	// before the server has confirmed it: the collector drops the device's
	// later events, and only those (see Sender.Send).
	OptOutAPI bool
	// ClientIP is the end user's address of an opt-out call, sent as
	// X-Forwarded-For. The server believes it only from a trusted proxy
	// (collect.Config.TrustedProxies); it then rate-limits each device's
	// network on its own, instead of all the calls from the sender's.
	ClientIP string
	// Events is how many events the request carries.
	Events int
	// ClickIDParam is set on a click whose campaign has the click redirect
	// append a click id to the landing URL under this query parameter: a
	// sender reads the id from the answer's Location header and reports it
	// with the conversions that name the click (see Sender.Send).
	ClickIDParam string
	// Conversions is set on an upload to the conversion API (POST
	// /api/v1/conversions, Events conversions, tenant-authenticated). Its
	// Body is nil: the sender writes it when it sends it, with the click
	// ids it captured, and must send it only once every earlier request
	// has been answered, so that the clicks it names have been. NDJSON
	// says to write it as NDJSON, one conversion per line, rather than a
	// JSON array.
	Conversions bool
	NDJSON      bool

	first int32 // index of its first event in Plan.events
}

// Events returns the number of events in the plan.
func (p *Plan) Events() int { return len(p.events) }

// writer builds requests from events.
type writer struct {
	g   *Generator
	buf []byte
}

func (w *writer) urlRequest(ev *event, first int32) Request {
	g := w.g
	dev := &g.pop.devices[ev.dev]
	pl := &g.layout.places[ev.place]
	t := &pl.imp
	if ev.kind == admeter.KindClick {
		t = &pl.clk
	}
	f := urlFiller{g: g, ev: ev, dev: dev, pl: pl, prof: pl.profile}
	if dev.flags&flagForceSDK != 0 {
		f.prof = profileSDK
	}
	var extra func([]byte) []byte
	if dev.app() && f.prof == profileSDK {
		extra = f.sdkParams
	}
	w.buf = t.appendTo(w.buf[:0], &f, extra)
	r := Request{
		Method:    "GET",
		Target:    string(w.buf),
		UserAgent: userAgent(g, dev, pl),
		Device:    ev.dev,
		Cookies:   dev.class == classWeb && dev.flags&flagCookies != 0,
		OptOut:    ev.flags&evOptOut != 0,
		IVT:       ivtKindOf(ev.ivt),
		Events:    1,
		first:     first,
	}
	if ev.kind == admeter.KindClick {
		r.ClickIDParam = g.layout.campaigns[pl.campaign].attr.ClickIDParam
	}
	return r
}

// ivtKindOf returns the kind of an event's ivt tag (index plus one), or "".
func ivtKindOf(tag uint8) IVTKind {
	if tag == 0 || int(tag) > len(ivtKinds) {
		return ""
	}
	return ivtKinds[tag-1]
}

// urlFiller fills the macros of one event's monitoring URL as its media
// platform would.
type urlFiller struct {
	g    *Generator
	ev   *event
	dev  *device
	pl   *placeInfo
	prof profile
}

func (f *urlFiller) fill(name string) (string, bool) {
	ev, dev := f.ev, f.dev
	if name == "TS" {
		if ev.mt == 0 {
			return "", false
		}
		return formatTime(ev.mt, ev.flags&evMillis != 0), true
	}
	if !dev.app() {
		// A browser or spider loads the tag as the page has it: only the
		// ad server's timestamp is filled; a macro-less client fills
		// nothing.
		return "", false
	}
	v, ok := f.value(name)
	if ok {
		return v, true
	}
	if !isDeviceMacro(name) {
		return "", false // a macro this media does not know
	}
	// A device value the media lacks: the SDK and hashing servers write
	// "", the raw-id server leaves the macro.
	return "", f.prof != profileRaw
}

func isDeviceMacro(name string) bool {
	switch name {
	case "OAID", "OAID1", "IMEI", "ANDROIDID", "IDFA", "CAID", "MAC", "MAC1":
		return true
	}
	return false
}

// value returns the value the media has for a macro.
func (f *urlFiller) value(name string) (string, bool) {
	ev, dev, g := f.ev, f.dev, f.g
	ph := dev.flags&flagPlaceholders != 0
	switch name {
	case "OS":
		return moCode(dev), true
	case "IP":
		return dev.ip(wifi(ev)), true
	case "REQUESTID":
		if f.prof == profileSDK {
			return "", false
		}
		return requestID(ev), true
	case "OAID":
		if f.prof == profileMD5 {
			return "", false
		}
		if ph && dev.class == classAndroid {
			return zeroUUID, true
		}
		return g.oaid(ev.dev, dev)
	case "OAID1":
		if f.prof == profileRaw {
			return "", false
		}
		if ph && dev.class == classAndroid {
			return md5Hex("OAID"), true // the MMA SDK's empty-OAID bug
		}
		if v, ok := g.oaid(ev.dev, dev); ok {
			return oaidMD5(v), true
		}
	case "IMEI":
		if ph && dev.class == classAndroid {
			return imeiMD5(zeroIMEI), true
		}
		if dev.hasID(admeter.IDIMEI) {
			return imeiMD5(g.imei(ev.dev)), true
		}
	case "ANDROIDID":
		if dev.hasID(admeter.IDAndroidID) {
			return androidIDMD5(g.androidID(ev.dev, dev, f.pl)), true
		}
	case "IDFA":
		if ph && dev.class == classIOS {
			return zeroUUID, true
		}
		if dev.hasID(admeter.IDIDFA) {
			return g.idfa(ev.dev), true
		}
	case "CAID":
		if dev.hasID(admeter.IDCAID) {
			return g.caid(ev.dev), true
		}
	case "MAC":
		if f.prof == profileSDK && dev.class == classAndroid {
			return md5Hex(placeholderMAC), true
		}
	case "MAC1":
		if f.prof == profileSDK && dev.class == classAndroid {
			return md5Hex(placeholderMACColon), true
		}
	}
	return "", false
}

// sdkParams appends what the MMA SDK adds to a URL: impression id,
// render flag, app and device fields, risk flags and its signature.
func (f *urlFiller) sdkParams(b []byte) []byte {
	ev, dev, g := f.ev, f.dev, f.g
	if ev.vf != 0 {
		b = append(b, "&vf="...)
		b = appendVF(b, ev.vf)
	}
	switch ev.kind {
	case admeter.KindImpression:
		b = append(b, "&br=1"...)
	case admeter.KindServed:
		b = append(b, "&br=0"...)
	}
	if ev.view != 0 || ev.video != 0 {
		b = appendViewParams(b, ev)
	}
	b = append(b, "&mn="...)
	b = append(b, g.layout.mediaEsc[f.pl.media]...)
	b = append(b, "&mp="...)
	b = append(b, appPackage(f.pl.media)...)
	b = append(b, "&md="...)
	b = append(b, escape(model(dev))...)
	b = append(b, "&me="...)
	b = append(b, osVersion(dev)...)
	b = append(b, "&mw="...)
	if wifi(ev) {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, "&svl="...)
	b = appendEscapedSVL(b, dev.risk)
	b = append(b, "&mf="...)
	return strconv.AppendUint(b, mix64(ev.nonce^0x5349474e), 16)
}

// appendEscapedSVL appends the URL-encoded svl JSON.
func appendEscapedSVL(b []byte, risk uint8) []byte {
	for i, m := range [4]uint8{1, 2, 4, 8} {
		if i == 0 {
			b = append(b, "%7B%22l1%22%3A"...)
		} else {
			b = append(b, "%2C%22l"...)
			b = append(b, byte('1'+i))
			b = append(b, "%22%3A"...)
		}
		if risk&m != 0 {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	return append(b, "%7D"...)
}

func svl(risk uint8) string {
	bit := func(m uint8) byte {
		if risk&m != 0 {
			return '1'
		}
		return '0'
	}
	return string([]byte{'{', '"', 'l', '1', '"', ':', bit(1), ',', '"', 'l', '2', '"', ':', bit(2), ',',
		'"', 'l', '3', '"', ':', bit(4), ',', '"', 'l', '4', '"', ':', bit(8), '}'})
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func formatTime(ms int64, millis bool) string {
	if millis {
		return strconv.FormatInt(ms, 10)
	}
	return strconv.FormatInt(ms/1000, 10)
}

func appendVF(b []byte, vf uint64) []byte {
	x := bits{state: vf}
	return x.appendHex(b, 32, hexLower)
}

func requestID(ev *event) string {
	x := bits{state: ev.nonce ^ 0x7265717565737420}
	return string(x.appendHex(make([]byte, 0, 24), 24, hexLower))
}

func wifi(ev *event) bool { return ev.nonce%100 < uint64(shareWiFi*100) }

func moCode(d *device) string {
	switch d.class {
	case classIOS:
		return "1"
	case classHarmony:
		return "3"
	}
	return "0"
}

func osVersion(d *device) string {
	switch d.class {
	case classIOS:
		return iosVersions[d.ver].release
	case classHarmony:
		return "5.0"
	}
	return androidVersions[d.ver].release
}

func model(d *device) string {
	switch {
	case d.class == classIOS:
		return iphoneModels[d.model]
	case d.class == classHarmony:
		return "ALN-AL10"
	case d.risk&2 != 0:
		return emulatorModels[d.model%uint8(len(emulatorModels))]
	}
	return brands[d.brand].models[d.model]
}

// apps are well-known Chinese media apps: (iOS app token, package), assigned
// to media names in turn so that user agents and mp look like real ones.
var apps = [][2]string{
	{"NewsArticle", "com.ss.android.article.news"},
	{"Aweme", "com.ss.android.ugc.aweme"},
	{"Kwai", "com.smile.gifmaker"},
	{"live4iphone", "com.tencent.qqlive"},
	{"iQiYiPhoneVideo", "com.qiyi.video"},
	{"bili-universal", "tv.danmaku.bili"},
	{"Youku", "com.youku.phone"},
	{"Weibo", "com.sina.weibo"},
	{"QQNews", "com.tencent.news"},
	{"Zhihu", "com.zhihu.android"},
}

func appPackage(media int) string { return apps[media%len(apps)][1] }

// userAgent returns the User-Agent header of a device's request: its
// browser, a spider, or its app's HTTP client (Dalvik on Android, CFNetwork
// on iOS, okhttp for a bare client).
func userAgent(g *Generator, d *device, pl *placeInfo) string {
	switch d.class {
	case classWeb:
		return webAgents[d.agent].ua
	case classCrawler:
		return crawlerAgents[d.agent]
	case classMacro:
		return "okhttp/4.9.3"
	case classIOS:
		v := &iosVersions[d.ver]
		return apps[pl.media%len(apps)][0] + "/9.2.1 CFNetwork/" + v.cfnetwork + " Darwin/" + v.darwin
	case classHarmony:
		return harmonyAgent
	}
	v := &androidVersions[d.ver]
	return "Dalvik/2.1.0 (Linux; U; Android " + v.release + "; " + model(d) + " Build/" + v.build + ")"
}

// batchEvent is one event of the batch API (docs/api.md).
type batchEvent struct {
	Type         string `json:"type"`
	Campaign     string `json:"campaign"`
	Placement    string `json:"placement"`
	TS           any    `json:"ts,omitempty"`
	Rendered     *bool  `json:"rendered,omitempty"`
	OS           string `json:"os,omitempty"`
	OSVersion    string `json:"os_version,omitempty"`
	Model        string `json:"model,omitempty"`
	App          string `json:"app,omitempty"`
	Package      string `json:"package,omitempty"`
	Network      string `json:"network,omitempty"`
	IP           string `json:"ip,omitempty"`
	UA           string `json:"ua,omitempty"`
	OAID         string `json:"oaid,omitempty"`
	OAIDMD5      string `json:"oaid_md5,omitempty"`
	IDFA         string `json:"idfa,omitempty"`
	IDFAMD5      string `json:"idfa_md5,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	IMEIMD5      string `json:"imei_md5,omitempty"`
	AndroidID    string `json:"android_id,omitempty"`
	AndroidIDMD5 string `json:"android_id_md5,omitempty"`
	CAID         string `json:"caid,omitempty"`
	ImpressionID string `json:"impression_id,omitempty"`
	SVL          string `json:"svl,omitempty"`
}

// batchRequest builds a POST /v1/events request carrying evs. Each event is
// written in the forms its placement's media uses: raw identifiers (SDK),
// MD5 only, or the raw OAID with MD5 of the rest.
func (w *writer) batchRequest(evs []event, first int32) Request {
	g := w.g
	out := make([]batchEvent, len(evs))
	for i := range evs {
		ev := &evs[i]
		dev := &g.pop.devices[ev.dev]
		pl := &g.layout.places[ev.place]
		prof := pl.profile
		e := &out[i]
		e.Type = ev.kind.String()
		e.Campaign = g.layout.campaigns[pl.campaign].id
		e.Placement = pl.id
		e.OSVersion, e.Model = osVersion(dev), model(dev)
		e.App, e.Package = g.layout.media[pl.media], appPackage(pl.media)
		e.IP, e.UA = dev.ip(wifi(ev)), userAgent(g, dev, pl)
		e.Network = "cellular"
		if wifi(ev) {
			e.Network = "wifi"
		}
		switch dev.class {
		case classIOS:
			e.OS = "ios"
		case classHarmony:
			e.OS = "other"
		default:
			e.OS = "android"
		}
		if ev.mt != 0 {
			if prof == profileMD5 {
				e.TS = strconv.FormatInt(ev.mt, 10) // milliseconds, as a string
			} else {
				e.TS = ev.mt / 1000
			}
		}
		if ev.kind == admeter.KindServed && ev.nonce%2 == 0 {
			// Half the SDKs say "served", half say "not rendered".
			f := false
			e.Type, e.Rendered = "impression", &f
		}
		if ev.vf != 0 {
			e.ImpressionID = string(appendVF(nil, ev.vf))
		}
		if prof == profileSDK {
			e.SVL = svl(dev.risk)
		}
		oaid, hasOAID := g.oaid(ev.dev, dev)
		switch prof {
		case profileSDK:
			if hasOAID {
				e.OAID = oaid
			}
			if dev.hasID(admeter.IDIDFA) {
				e.IDFA = g.idfa(ev.dev)
			}
			if dev.hasID(admeter.IDIMEI) {
				e.IMEI = g.imei(ev.dev)
			}
			if dev.hasID(admeter.IDAndroidID) {
				e.AndroidID = g.androidID(ev.dev, dev, pl)
			}
		case profileMD5:
			if hasOAID {
				e.OAIDMD5 = oaidMD5(oaid)
			}
			if dev.hasID(admeter.IDIDFA) {
				e.IDFAMD5 = idfaMD5(g.idfa(ev.dev))
			}
		default:
			if hasOAID {
				e.OAID = oaid
			}
			if dev.hasID(admeter.IDIDFA) {
				e.IDFA = g.idfa(ev.dev)
			}
		}
		if prof != profileSDK {
			if dev.hasID(admeter.IDIMEI) {
				e.IMEIMD5 = imeiMD5(g.imei(ev.dev))
			}
			if dev.hasID(admeter.IDAndroidID) {
				e.AndroidIDMD5 = androidIDMD5(g.androidID(ev.dev, dev, pl))
			}
		}
		if dev.hasID(admeter.IDCAID) {
			e.CAID = g.caid(ev.dev)
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		panic("simulate: marshal batch: " + err.Error()) // plain structs of strings cannot fail
	}
	return Request{Method: "POST", Target: "/v1/events", UserAgent: "admeter-simulate/1 (media server)", Body: body, Device: -1, Events: len(evs), first: first}
}

// Salts of the identifier streams.
const (
	saltOAID uint64 = iota + 1
	saltIDFA
	saltIMEI
	saltAndroidID
	saltCAID
)

// oaid returns the OAID device d sends: its own, the all-zero one of a
// device that limited ad tracking, or false when it has none.
func (g *Generator) oaid(d int32, dev *device) (string, bool) {
	var shape oaidShape
	if dev.class == classAndroid || dev.class == classMacro {
		shape = brands[dev.brand].oaid
	}
	switch {
	case dev.hasID(admeter.IDOAID):
		b := newBits(g.seed, d, saltOAID)
		return b.oaid(shape), true
	case dev.flags&flagOAIDZero != 0:
		return zeroOAID(shape), true
	}
	return "", false
}

func (g *Generator) idfa(d int32) string {
	b := newBits(g.seed, d, saltIDFA)
	return b.uuid(hexUpper)
}

func (g *Generator) imei(d int32) string {
	b := newBits(g.seed, d, saltIMEI)
	return b.imei()
}

func (g *Generator) caid(d int32) string {
	b := newBits(g.seed, d, saltCAID)
	return string(b.appendHex(make([]byte, 0, 32), 32, hexLower))
}

// androidID returns the Android ID device d reports in pl's app: one per
// device before Android 8, one per app since.
func (g *Generator) androidID(d int32, dev *device, pl *placeInfo) string {
	salt := saltAndroidID
	if dev.flags&flagPerApp != 0 {
		salt |= uint64(pl.media+1) << 8
	}
	b := newBits(g.seed, d, salt)
	return b.hexID(16, hexLower)
}

// optOutPath is the opt-out API an app device calls (optouthttp.APIPath).
const optOutPath = "/api/v1/optout"

// optOutBody is the JSON body of POST /api/v1/optout.
type optOutBody struct {
	IDType string `json:"id_type"`
	ID     string `json:"id"`
	Form   string `json:"form,omitempty"`
}

// optOutRequest builds app device d's call to the opt-out API. It names one
// of the identifiers the device sends in every event (OAID, IDFA or IMEI),
// raw or as its MD5, in the spellings end users and apps produce (a
// lowercase IDFA, an uppercase MD5, the form given or left to the server,
// the type in capitals), so that the server's canonicalisation is
// exercised: whichever it gets, the collector must recognise the device's
// events. The choice is a hash of the seed and the device.
func (w *writer) optOutRequest(d int32, first int32) Request {
	g := w.g
	dev := &g.pop.devices[d]
	h := mix64(g.seed ^ 0x6f70742d617069 ^ uint64(d)) // "opt-api"
	var types [len(optOutTypes)]admeter.IDType
	n := 0
	for _, t := range optOutTypes {
		if dev.hasID(t) {
			types[n] = t
			n++
		}
	}
	t := types[h%uint64(n)] // n > 0: optOutTimes picks only such devices
	h = mix64(h)
	var raw, sum string
	switch t {
	case admeter.IDOAID:
		raw, _ = g.oaid(d, dev)
		sum = oaidMD5(raw)
	case admeter.IDIDFA:
		raw = g.idfa(d)
		sum = idfaMD5(raw)
		if h>>3&1 == 0 {
			raw = strings.ToLower(raw) // the server uppercases an IDFA
		}
	default:
		raw = g.imei(d)
		sum = imeiMD5(raw)
	}
	body := optOutBody{IDType: t.String(), ID: raw}
	if h&1 != 0 {
		body.ID = sum
		if h>>3&3 == 0 {
			body.ID = strings.ToUpper(sum)
		}
	}
	if h>>1&3 == 0 {
		body.Form = "raw"
		if h&1 != 0 {
			body.Form = "md5"
		}
	}
	if h>>5&7 == 0 {
		body.IDType = strings.ToUpper(body.IDType)
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic("simulate: marshal opt-out: " + err.Error()) // three strings cannot fail
	}
	return Request{
		Method: "POST", Target: optOutPath, Body: b, Device: d, OptOutAPI: true,
		UserAgent: userAgent(g, dev, &g.layout.places[0]), ClientIP: dev.ip(true), first: first,
	}
}
