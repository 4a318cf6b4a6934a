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
// address peer, or the right-most untrusted X-Forwarded-For entry when the
// connection comes from a trusted proxy.
func (c *Collector) clientAddr(peer netip.Addr, forwardedFor []string, relayed string) netip.Addr {
	if relayed != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(relayed)); err == nil {
			return a.Unmap()
		}
	}
	if !peer.IsValid() {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !c.trusted(peer) {
		return peer
	}
	// Walk X-Forwarded-For from the right: each trusted hop vouches for the
	// one before it; the first untrusted address is the client.
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		parts := strings.Split(forwardedFor[i], ",")
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

// requestAddr is clientAddr for a net/http request.
func (c *Collector) requestAddr(r *http.Request, relayed string) netip.Addr {
	return c.clientAddr(peerAddr(r.RemoteAddr), r.Header["X-Forwarded-For"], relayed)
}

// peerAddr parses net/http's RemoteAddr ("host:port", or a bare address);
// the zero Addr when it is neither.
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a
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

// isPrefetch reports whether the values of a request's PurposeHeaders say
// that the browser is only prefetching or prerendering the pixel, which is
// not an ad view.
func isPrefetch(purpose []string) bool {
	for _, v := range purpose {
		v = strings.ToLower(v)
		if strings.Contains(v, "prefetch") || strings.Contains(v, "preview") || strings.Contains(v, "prerender") {
			return true
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
func (c *Collector) ClientAddr(r *http.Request) netip.Addr { return c.requestAddr(r, "") }

// sendsGPC reports whether r carries Global Privacy Control (Sec-GPC: 1).
// It indexes the header map with the canonical key: Header.Get would
// canonicalise "Sec-GPC" into a new string on every request.
func sendsGPC(r *http.Request) bool {
	v := r.Header["Sec-Gpc"]
	return len(v) > 0 && v[0] == "1"
}
