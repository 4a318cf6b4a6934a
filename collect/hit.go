package collect

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/ivt"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// maxIDs bounds the identifiers one hit may carry (one per parameter).
const maxIDs = 16

// rawID is one device identifier as it arrived. It lives only in memory.
type rawID struct {
	typ   admeter.IDType
	form  pseudo.Form
	value string
}

// rawHit is a request as it arrived, before de-identification. It holds raw
// identifiers, the raw IP address, the raw user agent and the precise
// location, so it must never leave this package, be logged or be written
// anywhere (privacy invariant 1). process turns it into an admeter.Event.
type rawHit struct {
	kind      admeter.Kind
	campaign  admeter.CampaignID
	placement admeter.PlacementID
	source    admeter.Flags // FlagBatch for the batch API

	clientTime time.Time // zero when the client sent none
	timeMacro  bool      // the event-time parameter arrived as an unreplaced macro
	ip         netip.Addr
	relayed    bool           // the address was relayed by a server (ns), not the connection's
	ua         useragent.Info // parsed from the User-Agent header, which is then dropped
	uaRaw      string         // the header itself, for the invalid-traffic rules only

	ids  [maxIDs]rawID
	nids int

	os        admeter.OS // from the client (mo); OSUnknown when absent
	osVersion string
	model     string
	app       string
	pkg       string
	network   admeter.Network
	lat, lon  float64
	hasLoc    bool
	vf        string
	risk      admeter.Risk
	signed    bool

	// Viewability and video, already checked (see view.go in this package).
	view           admeter.ViewResult
	viewArea       uint8
	viewSeconds    uint8
	videoDuration  time.Duration
	videoPlay      admeter.VideoPlay
	videoProgress  admeter.VideoProgress
	videoQuartiles admeter.Quartiles

	// clickID is the click id the redirect appends to the landing URL, ""
	// when the campaign asks for none. The event keeps its pseudonym.
	clickID string

	// Browser state: the id cookie it returned ("" if none), whether it
	// carries the opt-out cookie, and whether a new id cookie may be issued.
	cookie       string
	cookieOptOut bool
	gpc          bool
	browser      bool
}

// addID records an identifier unless it is empty. Extra identifiers past
// maxIDs are ignored.
func (h *rawHit) addID(t admeter.IDType, f pseudo.Form, v string) {
	if v == "" || h.nids == len(h.ids) {
		return
	}
	h.ids[h.nids] = rawID{t, f, v}
	h.nids++
}

// outcome is what happened to a processed hit.
type outcome uint8

const (
	outcomeLogged         outcome = iota // an event to append
	outcomeOptOutCookie                  // dropped: the browser carries the opt-out cookie
	outcomeOptOutGPC                     // dropped: the browser sends Sec-GPC: 1
	outcomeOptOutRegistry                // dropped: an identifier is in the opt-out registry
	numOutcomes
)

// optedOut reports whether o drops the event for the user's choice.
func (o outcome) optedOut() bool { return o != outcomeLogged }

// process de-identifies h into an event for the placement t. newCookie is a
// freshly issued browser id when one should be set on the response.
func (c *Collector) process(h *rawHit, t *target, now time.Time) (ev admeter.Event, newCookie string, out outcome) {
	ps := c.pseudo.Load()
	if h.cookieOptOut {
		return ev, "", outcomeOptOutCookie
	}
	if h.gpc && c.cfg.HonorGPC {
		return ev, "", outcomeOptOutGPC
	}

	var ids pseudo.IDSet
	var check ivt.Hit
	for _, id := range h.ids[:h.nids] {
		r := ids.Add(id.typ, id.form, id.value)
		c.m.identifier(id.typ, r)
		check.AddID(id.typ, id.form, id.value, r)
	}
	// Every identifier is checked against the opt-out registry, not only the
	// one that becomes the user key: a device opted out by its IMEI is opted
	// out when it arrives with its OAID too.
	if c.optedOutIDs(&ids) {
		return admeter.Event{}, "", outcomeOptOutRegistry
	}
	if typ, can, ok := ids.Best(); ok {
		ev.User, ev.UserType = ps.Pseudonym(typ, can), typ
	}
	if ev.UserType == admeter.IDNone && h.browser {
		id := h.cookie
		if !validCookieID(id) {
			id = newCookieID()
			newCookie = id
			ev.Flags |= admeter.FlagCookieIssued
		}
		ev.User = ps.Token(tokenCookie, []byte(id))
		ev.UserType = admeter.IDCookie
	}

	ev.Kind = h.kind
	ev.Tenant = t.tenant
	ev.Campaign = t.campaign.ID
	ev.Placement = t.placement
	ev.Received = now.UTC()
	ev.At = ev.Received
	ev.Flags |= h.source
	if !h.clientTime.IsZero() {
		if h.clientTime.Before(now.Add(-c.cfg.MaxPast)) || h.clientTime.After(now.Add(c.cfg.MaxFuture)) {
			ev.Flags |= admeter.FlagTimeCorrected
			check.TimeOutOfWindow = true
			c.m.corrected.Inc()
		} else {
			ev.At = h.clientTime.UTC()
		}
	}
	if h.signed {
		ev.Flags |= admeter.FlagSigned
	}
	ev.KeyVersion = ps.Version()
	if h.vf != "" {
		ev.ImpressionID = ps.Token(tokenImpression, []byte(h.vf))
	}
	if h.clickID != "" {
		ev.ClickID = ps.Token(tokenClickID, []byte(h.clickID))
	}
	ev.View, ev.ViewArea, ev.ViewSeconds = h.view, h.viewArea, h.viewSeconds
	ev.VideoDuration, ev.VideoPlay, ev.VideoProgress, ev.VideoQuartiles = h.videoDuration, h.videoPlay, h.videoProgress, h.videoQuartiles

	// The IP address is used here and then forgotten.
	ev.OS, ev.OSVersion, ev.Browser, ev.DeviceType = h.ua.OS, h.ua.OSVersion, h.ua.Browser, h.ua.DeviceType
	if h.os != admeter.OSUnknown {
		ev.OS = h.os // the SDK's own report beats a relayed user agent
	}
	if h.osVersion != "" {
		ev.OSVersion = clean(h.osVersion, admeter.MaxShortField)
	}
	ev.Model = clean(h.model, admeter.MaxShortField)
	ev.App = clean(h.app, admeter.MaxNameField)
	ev.AppPackage = clean(h.pkg, admeter.MaxNameField)
	ev.Network = h.network
	ev.Risk = h.risk
	if h.ip.IsValid() {
		ev.Net = admeter.BlockOf(h.ip)
		ev.Region = c.geoMemo.get(c.geo, h.ip, ev.Net)
	}
	if h.hasLoc {
		ev.Area, _ = admeter.AreaOf(h.lat, h.lon)
	}
	if d := c.ivt.Load(); d != nil {
		switch {
		case h.source&admeter.FlagBatch != 0:
			check.Channel = ivt.ChannelBatch
		case h.relayed:
			check.Channel = ivt.ChannelRelay
		case h.nids > 0:
			check.Channel = ivt.ChannelApp
		default:
			check.Channel = ivt.ChannelWeb
		}
		check.UA, check.DeclaredOS, check.Risk, check.TimeMacro = h.ua, h.os, h.risk, h.timeMacro
		ev.IVT = d.Check(&check, h.uaRaw, h.ip)
		if ev.IVT != 0 {
			c.m.invalid(ev.IVT)
		}
	}
	return ev, newCookie, outcomeLogged
}

// Token labels keep pseudonyms of different kinds of value apart.
const (
	tokenCookie     = "admeter/cookie/v1"
	tokenImpression = "admeter/impression/v1"
	// tokenClickID labels the click ids the click redirect appends to
	// landing URLs: the click stores the pseudonym under it, and a
	// conversion reporting the id is pseudonymised the same way.
	tokenClickID = "admeter/click-id/v1"
	// tokenConversion labels advertisers' conversion ids, taken together
	// with the tenant so that two tenants' ids never collide.
	tokenConversion = "admeter/conversion/v1"
)

// clean trims s, drops invalid UTF-8 and control characters, and truncates it
// to at most max bytes on a rune boundary.
func clean(s string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	ok := utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
		}
	}
	if !ok {
		s = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, ""))
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
