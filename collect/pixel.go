package collect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

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

// ServeMonitoring answers an impression pixel (/x) or a click redirect (/r).
func (c *Collector) ServeMonitoring(w http.ResponseWriter, r *http.Request) {
	start := c.cfg.Now()
	ep, p, err := macro.ParseTarget(r.RequestURI)
	click := ep == macro.EndpointClick
	metricEP := epImpression
	if click {
		metricEP = epClick
	}
	em := &c.m.endpoints[metricEP]
	em.requests.Inc()
	defer func() { em.duration.Observe(time.Since(start).Seconds()) }()

	// A pixel may also come as a POST: navigator.sendBeacon, which the
	// viewability tag uses when the page is going away. Its body is ignored.
	if r.Method != http.MethodGet && r.Method != http.MethodHead && (click || r.Method != http.MethodPost) {
		allow := "GET, HEAD"
		if !click {
			allow = "GET, HEAD, POST"
		}
		w.Header().Set("Allow", allow)
		c.reject(w, reasonMethod)
		http.Error(w, "only "+allow+" are allowed on this monitoring URL", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		reason := reasonBadURL
		switch {
		case errors.Is(err, macro.ErrNoCampaign):
			reason = reasonNoCampaign
		case errors.Is(err, macro.ErrNoPlacement):
			reason = reasonNoPlacement
		}
		if click && p.K != "" {
			// A click with a known campaign still goes to its landing page.
			if cp := c.catalog.campaign(admeter.CampaignID(p.K)); cp != nil {
				c.reject(w, reason)
				redirect(w, cp.LandingURL)
				return
			}
		}
		c.reject(w, reason)
		c.answerUnknown(w, click, "this is not a valid admeter monitoring URL: "+err.Error())
		return
	}

	t := c.catalog.lookup(admeter.CampaignID(p.K), admeter.PlacementID(p.P))
	if t == nil {
		if click {
			if cp := c.catalog.campaign(admeter.CampaignID(p.K)); cp != nil {
				c.reject(w, reasonUnknownPlacement)
				redirect(w, cp.LandingURL)
				return
			}
		}
		reason := reasonUnknownCampaign
		if c.catalog.campaign(admeter.CampaignID(p.K)) != nil {
			reason = reasonUnknownPlacement
		}
		c.reject(w, reason)
		c.answerUnknown(w, click, "unknown campaign or placement")
		return
	}

	dest := ""
	if click {
		dest = clickDestination(t.campaign, p.O)
	}
	if t.campaign.Stopped {
		// The account is suspended or closed: the user still gets the
		// pixel or reaches the landing page, but nothing is recorded.
		c.reject(w, reasonStopped)
		c.answer(w, r, click, dest, http.StatusOK)
		return
	}
	if r.Method == http.MethodHead || isPrefetch(r) {
		// Not a view or a click: answer without counting.
		c.reject(w, reasonPrefetch)
		c.answer(w, r, click, dest, http.StatusOK)
		return
	}

	em.received.Inc()
	var h rawHit
	c.fillFromParams(&h, r, &p, click)
	if reason := viewFromParams(&h, &p); reason != "" {
		c.reject(w, reason)
		c.answer(w, r, false, "", http.StatusOK)
		return
	}
	param := t.campaign.Attribution.ClickIDParam
	if click && param != "" {
		h.clickID = newClickID()
	}
	ev, newCookie, out := c.process(&h, t, start)
	if out.optedOut() {
		c.m.optedOut[out].Inc()
		if out == outcomeOptOutCookie {
			// Browsers cap cookie lifetimes (Chrome at 400 days): renew the
			// opt-out on every visit so that it never quietly lapses.
			c.setBrowserCookie(w, r, c.cfg.OptOutCookieName, "1", c.cfg.OptOutCookieMaxAge)
		}
		c.answer(w, r, click, dest, http.StatusOK)
		return
	}
	key, dup := c.duplicate(&ev, start)
	if dup {
		// A retry of an impression already logged: answered, not logged again.
		c.reject(w, reasonDuplicate)
		c.answer(w, r, click, dest, http.StatusOK)
		return
	}
	// A client that hangs up must not abort an append already under way: the
	// event is then usually written, and the client's retry is a duplicate.
	if err := c.appendOne(&ev); err != nil {
		c.unrecord(key)
		c.logger.Error("append event to log", "err", err, "endpoint", endpointNames[metricEP])
		c.reject(w, reasonLogUnavailable)
		if click {
			// The user still gets where they were going.
			redirect(w, dest)
			return
		}
		// The SDK and browsers retry on a non-2xx answer.
		w.Header().Set("Retry-After", "1")
		c.answer(w, r, false, "", http.StatusServiceUnavailable)
		return
	}
	c.m.loggedKind(ev.Kind)
	if newCookie != "" {
		c.setCookie(w, r, newCookie)
	}
	if h.clickID != "" {
		// Only a logged click hands out an id: an id no stored click
		// carries could never attribute a conversion, and an opted-out
		// user's landing URL gets none.
		dest = withQueryParam(dest, param, h.clickID)
	}
	c.answer(w, r, click, dest, http.StatusOK)
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
func (c *Collector) fillFromParams(h *rawHit, r *http.Request, p *macro.Params, click bool) {
	*h = rawHit{
		campaign:  admeter.CampaignID(p.K),
		placement: admeter.PlacementID(p.P),
		ua:        c.uaCache.get(c.ua, r.UserAgent()),
		uaRaw:     r.UserAgent(),
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
	h.ip = c.clientAddr(r, p.NS)
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
		if ck, err := r.Cookie(c.cfg.CookieName); err == nil {
			h.cookie = ck.Value
		}
		h.browser = isBrowser(h.ua)
	}
	if _, err := r.Cookie(c.cfg.OptOutCookieName); err == nil {
		h.cookieOptOut = true
	}
	h.gpc = sendsGPC(r)

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

func (c *Collector) reject(w http.ResponseWriter, reason string) {
	c.m.reject(reason, 1)
	w.Header().Set("X-Admeter-Rejected", reason)
}

// answer writes the pixel or the redirect.
func (c *Collector) answer(w http.ResponseWriter, r *http.Request, click bool, dest string, status int) {
	if click {
		redirect(w, dest)
		return
	}
	setGIFHeaders(w.Header())
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(gif)
	}
}

// answerUnknown answers a request for no known placement: the GIF for a pixel
// (a page must not break), a plain 404 for a click that has nowhere safe to go.
func (c *Collector) answerUnknown(w http.ResponseWriter, click bool, msg string) {
	if click {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, msg, http.StatusNotFound)
		return
	}
	setGIFHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(gif)
}

// The pixel's header values, shared by every response: net/http only reads
// them. Setting the map directly skips canonicalising the keys per request.
var (
	gifContentType   = []string{"image/gif"}
	gifCacheControl  = []string{"no-store, no-cache, must-revalidate, max-age=0"}
	gifContentLength = []string{strconv.Itoa(len(gif))}
)

func setGIFHeaders(hdr http.Header) {
	hdr["Content-Type"] = gifContentType
	hdr["Cache-Control"] = gifCacheControl
	hdr["Content-Length"] = gifContentLength
}

func redirect(w http.ResponseWriter, dest string) {
	hdr := w.Header()
	hdr.Set("Location", dest)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer-when-downgrade")
	w.WriteHeader(http.StatusFound)
}

// setCookie sets the first-party browser id cookie. Over HTTPS it is
// SameSite=None; Secure so it works in third-party contexts; over plain HTTP
// browsers only accept SameSite=Lax.
func (c *Collector) setCookie(w http.ResponseWriter, r *http.Request, id string) {
	c.setBrowserCookie(w, r, c.cfg.CookieName, id, c.cfg.CookieMaxAge)
}

// setBrowserCookie sets a first-party cookie with the collector's attributes.
func (c *Collector) setBrowserCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if r.TLS != nil || (c.trustedPeer(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
		ck.SameSite, ck.Secure = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, ck)
}

func (c *Collector) trustedPeer(r *http.Request) bool {
	a := c.clientAddr(&http.Request{RemoteAddr: r.RemoteAddr}, "")
	return a.IsValid() && c.trusted(a)
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
