package collect

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

// A MonitoringRequest is what the monitoring handler reads of an HTTP
// request, whichever HTTP server read it: ServeMonitoring fills one from a
// net/http request, and package fastcollect from a fasthttp one. Monitor may
// keep its strings (a user agent in a cache, an impression id in the
// duplicate set), so they must not share memory that the server reuses.
type MonitoringRequest struct {
	Method string
	// URI is the request target exactly as sent: the path and the
	// parameters that follow it, with no cleaning.
	URI string
	// Peer is the address of the connection the request came on.
	Peer netip.Addr
	// TLS is whether that connection was TLS.
	TLS       bool
	UserAgent string
	// ForwardedFor holds the X-Forwarded-For values in the order they came;
	// they are believed only from a trusted proxy. ForwardedProto is the
	// first X-Forwarded-Proto value.
	ForwardedFor   []string
	ForwardedProto string
	// Cookies holds the Cookie header lines.
	Cookies []string
	// Purpose holds the values of the headers a prefetch or prerender is
	// marked with (PurposeHeaders).
	Purpose []string
	// GPC is whether the request carries Sec-GPC: 1.
	GPC bool
}

// PurposeHeaders are the headers browsers mark a prefetch or a prerender
// with; their values go into MonitoringRequest.Purpose.
var PurposeHeaders = [...]string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"}

// A HeaderField is one response header.
type HeaderField struct{ Key, Value string }

// A MonitoringAnswer is the response Monitor decides on; the HTTP server
// writes it. A zero answer is ready for use.
type MonitoringAnswer struct {
	Status int
	// GIF is whether the answer is the pixel: the 1×1 GIF with its
	// Content-Type, Content-Length and Cache-Control headers (and no body
	// for a HEAD request). Otherwise Body is sent as plain text.
	GIF  bool
	Body string
	// fields live in a fixed array, large enough for every answer Monitor
	// gives today, so that an answer on the caller's stack stays there;
	// more go to the heap.
	fields  [6]HeaderField
	nfields int
	more    []HeaderField
}

// Header returns the answer's headers other than the pixel's own, in order.
// Set-Cookie may appear twice.
func (a *MonitoringAnswer) Header() []HeaderField {
	if a.more != nil {
		return a.more
	}
	return a.fields[:a.nfields]
}

// add appends a header.
func (a *MonitoringAnswer) add(key, value string) {
	switch {
	case a.more != nil:
		a.more = append(a.more, HeaderField{key, value})
	case a.nfields < len(a.fields):
		a.fields[a.nfields] = HeaderField{key, value}
		a.nfields++
	default:
		a.more = append(append(make([]HeaderField, 0, 2*len(a.fields)), a.fields[:]...), HeaderField{key, value})
	}
}

// gifAnswer makes a the pixel with status.
func (a *MonitoringAnswer) gifAnswer(status int) { a.Status, a.GIF = status, true }

// text makes a a plain-text error, as http.Error writes one.
func (a *MonitoringAnswer) text(status int, msg string) {
	a.Status, a.GIF, a.Body = status, false, msg+"\n"
	a.add("X-Content-Type-Options", "nosniff")
}

// redirect makes a a 302 to dest.
func (a *MonitoringAnswer) redirect(dest string) {
	a.Status, a.GIF = http.StatusFound, false
	a.add("Location", dest)
	a.add("Cache-Control", "no-store")
	a.add("Referrer-Policy", "no-referrer-when-downgrade")
}

// Monitor answers an impression pixel (/x) or a click redirect (/r): it
// de-identifies and logs the event when there is one, and fills ans with the
// response. It never fails: whatever the request, ans is a complete answer.
func (c *Collector) Monitor(req *MonitoringRequest, ans *MonitoringAnswer) {
	start := c.cfg.Now()
	ep, p, err := macro.ParseTarget(req.URI)
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
	head := req.Method == http.MethodHead
	if req.Method != http.MethodGet && !head && (click || req.Method != http.MethodPost) {
		allow := "GET, HEAD"
		if !click {
			allow = "GET, HEAD, POST"
		}
		c.reject(ans, reasonMethod)
		ans.add("Allow", allow)
		ans.text(http.StatusMethodNotAllowed, "only "+allow+" are allowed on this monitoring URL")
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
				c.reject(ans, reason)
				ans.redirect(cp.LandingURL)
				return
			}
		}
		c.reject(ans, reason)
		answerUnknown(ans, click, "this is not a valid admeter monitoring URL: "+err.Error())
		return
	}

	t := c.catalog.lookup(admeter.CampaignID(p.K), admeter.PlacementID(p.P))
	if t == nil {
		if click {
			if cp := c.catalog.campaign(admeter.CampaignID(p.K)); cp != nil {
				c.reject(ans, reasonUnknownPlacement)
				ans.redirect(cp.LandingURL)
				return
			}
		}
		reason := reasonUnknownCampaign
		if c.catalog.campaign(admeter.CampaignID(p.K)) != nil {
			reason = reasonUnknownPlacement
		}
		c.reject(ans, reason)
		answerUnknown(ans, click, "unknown campaign or placement")
		return
	}

	dest := ""
	if click {
		dest = clickDestination(t.campaign, p.O)
	}
	if t.campaign.Stopped {
		// The account is suspended or closed: the user still gets the
		// pixel or reaches the landing page, but nothing is recorded.
		c.reject(ans, reasonStopped)
		answer(ans, click, dest, http.StatusOK)
		return
	}
	if head || isPrefetch(req.Purpose) {
		// Not a view or a click: answer without counting.
		c.reject(ans, reasonPrefetch)
		answer(ans, click, dest, http.StatusOK)
		return
	}

	em.received.Inc()
	var h rawHit
	c.fillFromParams(&h, req, &p, click)
	if reason := viewFromParams(&h, &p); reason != "" {
		c.reject(ans, reason)
		answer(ans, false, "", http.StatusOK)
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
			c.setBrowserCookie(ans, req, c.cfg.OptOutCookieName, "1", c.cfg.OptOutCookieMaxAge)
		}
		answer(ans, click, dest, http.StatusOK)
		return
	}
	key, dup := c.duplicate(&ev, start)
	if dup {
		// A retry of an impression already logged: answered, not logged again.
		c.reject(ans, reasonDuplicate)
		answer(ans, click, dest, http.StatusOK)
		return
	}
	// A client that hangs up must not abort an append already under way: the
	// event is then usually written, and the client's retry is a duplicate.
	if err := c.appendOne(&ev); err != nil {
		c.unrecord(key)
		c.logger.Error("append event to log", "err", err, "endpoint", endpointNames[metricEP])
		c.reject(ans, reasonLogUnavailable)
		if click {
			// The user still gets where they were going.
			ans.redirect(dest)
			return
		}
		// The SDK and browsers retry on a non-2xx answer.
		ans.add("Retry-After", "1")
		answer(ans, false, "", http.StatusServiceUnavailable)
		return
	}
	c.m.loggedKind(ev.Kind)
	if newCookie != "" {
		c.setBrowserCookie(ans, req, c.cfg.CookieName, newCookie, c.cfg.CookieMaxAge)
	}
	if h.clickID != "" {
		// Only a logged click hands out an id: an id no stored click
		// carries could never attribute a conversion, and an opted-out
		// user's landing URL gets none.
		dest = withQueryParam(dest, param, h.clickID)
	}
	answer(ans, click, dest, http.StatusOK)
}

// reject counts a request rejected for reason and says why in the answer.
func (c *Collector) reject(ans *MonitoringAnswer, reason string) {
	c.m.reject(reason, 1)
	ans.add("X-Admeter-Rejected", reason)
}

// answer makes ans the pixel or the redirect.
func answer(ans *MonitoringAnswer, click bool, dest string, status int) {
	if click {
		ans.redirect(dest)
		return
	}
	ans.gifAnswer(status)
}

// answerUnknown answers a request for no known placement: the GIF for a pixel
// (a page must not break), a plain 404 for a click that has nowhere safe to go.
func answerUnknown(ans *MonitoringAnswer, click bool, msg string) {
	if click {
		ans.add("Cache-Control", "no-store")
		ans.text(http.StatusNotFound, msg)
		return
	}
	ans.gifAnswer(http.StatusOK)
}

// setBrowserCookie sets a first-party cookie with the collector's
// attributes. Over HTTPS (directly, or as a trusted proxy says) it is
// SameSite=None; Secure so that it works in third-party contexts; over plain
// HTTP browsers only accept SameSite=Lax.
func (c *Collector) setBrowserCookie(ans *MonitoringAnswer, req *MonitoringRequest, name, value string, maxAge time.Duration) {
	ck := http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if req.TLS || (req.Peer.IsValid() && c.trusted(req.Peer.Unmap()) && strings.EqualFold(req.ForwardedProto, "https")) {
		ck.SameSite, ck.Secure = http.SameSiteNoneMode, true
	}
	ans.add("Set-Cookie", ck.String())
}

// cookieValue returns the value of the first valid cookie called name in the
// Cookie header lines, as net/http's Request.Cookie finds it, without
// parsing every cookie into a new value.
func cookieValue(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = trimASCIISpace(part)
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			if trimASCIISpace(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// trimASCIISpace trims the spaces HTTP allows around cookie parts (as
// net/textproto.TrimString does).
func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isASCIISpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// validCookieValue reports whether v has only the bytes net/http accepts in
// a cookie value: RFC 6265's, and spaces and commas.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// ServeMonitoring answers an impression pixel (/x) or a click redirect (/r)
// on net/http.
func (c *Collector) ServeMonitoring(w http.ResponseWriter, r *http.Request) {
	req := MonitoringRequest{
		Method:       r.Method,
		URI:          r.RequestURI,
		Peer:         peerAddr(r.RemoteAddr),
		TLS:          r.TLS != nil,
		UserAgent:    r.UserAgent(),
		ForwardedFor: r.Header["X-Forwarded-For"],
		Cookies:      r.Header["Cookie"],
		GPC:          sendsGPC(r),
	}
	if v := r.Header["X-Forwarded-Proto"]; len(v) > 0 {
		req.ForwardedProto = v[0]
	}
	for _, h := range PurposeHeaders {
		req.Purpose = append(req.Purpose, r.Header[h]...)
	}
	var ans MonitoringAnswer
	c.Monitor(&req, &ans)
	hdr := w.Header()
	for _, f := range ans.Header() {
		hdr.Add(f.Key, f.Value)
	}
	if !ans.GIF {
		if ans.Body != "" {
			hdr.Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(ans.Status)
		_, _ = io.WriteString(w, ans.Body)
		return
	}
	setGIFHeaders(hdr)
	w.WriteHeader(ans.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(gif)
	}
}

// GIF returns the pixel's body: a 1×1 transparent GIF. Callers must not
// change it.
func GIF() []byte { return gif }

// GIFCacheControl is the pixel's Cache-Control header.
const GIFCacheControl = "no-store, no-cache, must-revalidate, max-age=0"

// The pixel's header values, shared by every response: net/http only reads
// them. Setting the map directly skips canonicalising the keys per request.
var (
	gifContentType   = []string{"image/gif"}
	gifCacheControl  = []string{GIFCacheControl}
	gifContentLength = []string{strconv.Itoa(len(gif))}
)

func setGIFHeaders(hdr http.Header) {
	hdr["Content-Type"] = gifContentType
	hdr["Cache-Control"] = gifCacheControl
	hdr["Content-Length"] = gifContentLength
}
