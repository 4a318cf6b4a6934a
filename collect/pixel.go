package collect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
)

// gif is a 1×1 transparent GIF (43 bytes).
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// IsMonitoringPath reports whether path is one of the monitoring-URL
// endpoints (/x…, /r…), which must be routed to ServeMonitoring before any
// path cleaning: their parameters follow the path directly and a click's o=
// value contains "//".
func IsMonitoringPath(path string) bool {
	if len(path) < 2 || path[0] != '/' || (path[1] != 'x' && path[1] != 'r') {
		return false
	}
	return len(path) == 2 || path[2] == '/' || path[2] == '.'
}

// newClickID returns a fresh click id: 128 random bits in lowercase hex.
func newClickID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// withQueryParam returns the URL raw with name=value as its last query
// parameter, before any fragment. Parameters already named name are
// removed, so the landing page sees one value; the rest of the query is kept
// as it was, byte for byte. name and value must need no escaping.
func withQueryParam(raw, name, value string) string {
	frag := ""
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw, frag = raw[:i], raw[i:]
	}
	base, query, _ := strings.Cut(raw, "?")
	var b strings.Builder
	b.Grow(len(raw) + len(name) + len(value) + len(frag) + 2)
	b.WriteString(base)
	b.WriteByte('?')
	for part := range strings.SplitSeq(query, "&") {
		if key, _, _ := strings.Cut(part, "="); part == "" || key == name {
			continue
		}
		b.WriteString(part)
		b.WriteByte('&')
	}
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString(frag)
	return b.String()
}

// fillFromParams turns parsed monitoring-URL parameters into a rawHit. The
// hit is filled in place so that it can live on the caller's stack.
func (c *Collector) fillFromParams(h *rawHit, req *MonitoringRequest, p *macro.Params, click bool) {
	*h = rawHit{
		campaign:  admeter.CampaignID(p.K),
		placement: admeter.PlacementID(p.P),
		ua:        c.uaCache.get(c.ua, req.UserAgent),
		uaRaw:     req.UserAgent,
		timeMacro: p.TimeMacro,
		relayed:   p.NS != "" && !macro.IsUnreplacedMacro(p.NS),
		os:        macro.ParseOS(p.MO),
		osVersion: p.ME,
		model:     p.MD,
		app:       p.MN,
		pkg:       p.MP,
		network:   macro.ParseNetwork(p.MW),
		vf:        p.VF,
		risk:      macro.ParseRisk(p.SVL),
		signed:    p.Signed,
	}
	switch {
	case click:
		h.kind = admeter.KindClick
	case !macro.ParseRender(p.BR):
		h.kind = admeter.KindServed
	default:
		h.kind = admeter.KindImpression
	}
	if t, ok := macro.ParseTime(p.MT); ok {
		h.clientTime = t
	}
	h.ip = c.clientAddr(req.Peer, req.ForwardedFor, p.NS)
	h.lat, h.lon, h.hasLoc = macro.ParseLocation(p.MM)
	h.addID(admeter.IDOAID, pseudo.FormRaw, p.M11)
	h.addID(admeter.IDOAID, pseudo.FormMD5, p.M11A)
	h.addID(admeter.IDIDFA, pseudo.FormRaw, p.M5)
	h.addID(admeter.IDIMEI, pseudo.FormMD5, p.M2)
	h.addID(admeter.IDIMEI, pseudo.FormRaw, p.M3)
	h.addID(admeter.IDAndroidID, pseudo.FormRaw, p.M1)
	h.addID(admeter.IDAndroidID, pseudo.FormMD5, p.M1A)
	h.addID(admeter.IDAAID, hashOrRaw(p.M4), p.M4)
	h.addID(admeter.IDMAC, pseudo.FormMD5, p.M6A)
	h.addID(admeter.IDMACColon, pseudo.FormMD5, p.M6)
	h.addID(admeter.IDOpenUDID, pseudo.FormRaw, p.M0)
	h.addID(admeter.IDIDFV, pseudo.FormRaw, p.M5A)
	h.addID(admeter.IDCAID, pseudo.FormMD5, p.M14)

	// A browser that loads the pixel itself gets a first-party id cookie; a
	// server relaying the call (ns present) or an app's HTTP client does not.
	if p.NS == "" && h.nids == 0 {
		h.cookie, _ = cookieValue(req.Cookies, c.cfg.CookieName)
		h.browser = isBrowser(h.ua)
	}
	_, h.cookieOptOut = cookieValue(req.Cookies, c.cfg.OptOutCookieName)
	h.gpc = req.GPC
}

// hashOrRaw guesses the form of an identifier that media send either way
// (the AAID): 32 hex digits is an MD5, anything else is raw.
func hashOrRaw(v string) pseudo.Form {
	if len(v) != 32 {
		return pseudo.FormRaw
	}
	for i := 0; i < len(v); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(v[i])) {
			return pseudo.FormRaw
		}
	}
	return pseudo.FormMD5
}

// clickDestination returns where a click goes: the o= URL when its host is
// the landing URL's or an allowed host, otherwise the campaign's landing URL.
func clickDestination(cp *admeter.Campaign, o string) string {
	if o == "" {
		return cp.LandingURL
	}
	raw := macro.DecodeRedirect(o)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return cp.LandingURL
	}
	if !cp.RedirectAllowed(u.Hostname()) {
		return cp.LandingURL
	}
	return raw
}

// oneEvent holds the single event of a monitoring request while it is
// appended: an []admeter.Event passed to the Appender interface would escape,
// costing an allocation of the whole event per request.
var oneEvent = sync.Pool{New: func() any { return new([1]admeter.Event) }}

// appendOne appends ev to the log, whatever happens to the request's
// context.
func (c *Collector) appendOne(ev *admeter.Event) error {
	one := oneEvent.Get().(*[1]admeter.Event)
	one[0] = *ev
	err := c.log.Append(context.Background(), one[:])
	one[0] = admeter.Event{} // keep nothing of it in the pool
	oneEvent.Put(one)
	return err
}
