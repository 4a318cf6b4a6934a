package collect

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/useragent"
)

// clientAddr returns the end user's address: the relayed address a server
// sent (Miaozhen ns) when it is a valid address, otherwise the connection's
// address, or the right-most untrusted X-Forwarded-For entry when the
// connection comes from a trusted proxy.
func (c *Collector) clientAddr(r *http.Request, relayed string) netip.Addr {
	if relayed != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(relayed)); err == nil {
			return a.Unmap()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !c.trusted(peer) {
		return peer
	}
	// Walk X-Forwarded-For from the right: each trusted hop vouches for the
	// one before it; the first untrusted address is the client.
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer
			}
			a = a.Unmap()
			if !c.trusted(a) {
				return a
			}
			peer = a
		}
	}
	return peer
}

func (c *Collector) trusted(a netip.Addr) bool {
	for _, p := range c.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// cookieIDLen is the length of an id cookie: 16 random bytes in unpadded
// base64url.
const cookieIDLen = 22

// newCookieID returns a new random browser id.
func newCookieID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validCookieID reports whether s looks like an id this collector issued, so
// that a forged or mangled cookie is replaced rather than trusted.
func validCookieID(s string) bool {
	if len(s) != cookieIDLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// isPrefetch reports whether the browser is only prefetching or prerendering
// the pixel, which is not an ad view.
func isPrefetch(r *http.Request) bool {
	// The keys are canonical: indexing the map skips Header.Get's
	// canonicalisation of each on every request.
	for _, h := range [...]string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		for _, v := range r.Header[h] {
			v = strings.ToLower(v)
			if strings.Contains(v, "prefetch") || strings.Contains(v, "preview") || strings.Contains(v, "prerender") {
				return true
			}
		}
	}
	return false
}

// isBrowser reports whether a parsed user agent is a browser or in-app web
// view that keeps cookies: the only clients given an id cookie. Bots, app
// HTTP stacks and scripts would take a new cookie on every request and
// inflate unique users, so they get none.
func isBrowser(ua useragent.Info) bool {
	return ua.Browser != "" && !ua.NonBrowser() && ua.DeviceType != admeter.DeviceBot
}

// ClientAddr returns the address of the client that sent r, believing
// X-Forwarded-For only from the configured trusted proxies. Other front
// doors on the same listener (the opt-out page's rate limiter) use it so that
// every door agrees on who the client is. The address must not be kept.
func (c *Collector) ClientAddr(r *http.Request) netip.Addr { return c.clientAddr(r, "") }

// sendsGPC reports whether r carries Global Privacy Control (Sec-GPC: 1).
// It indexes the header map with the canonical key: Header.Get would
// canonicalise "Sec-GPC" into a new string on every request.
func sendsGPC(r *http.Request) bool {
	v := r.Header["Sec-Gpc"]
	return len(v) > 0 && v[0] == "1"
}
