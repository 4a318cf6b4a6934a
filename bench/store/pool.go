package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/simulate"
)

// poolConfig is the simulated traffic the benchmark's events come from.
type poolConfig struct {
	Seed      int64
	Events    int       // about this many events in the pool
	Start     time.Time // first local midnight of the traffic
	Days      int       // days of traffic
	Campaigns int       // campaigns: one large, the rest sharing the remainder
	BigShare  float64   // the large campaign's share of the events
}

// Names of the simulated tenant and campaigns.
const (
	benchTenant   admeter.TenantID   = "bench"
	benchCampaign admeter.CampaignID = "big"
)

// Collector bounds on the client's event time (collect.Config defaults).
const (
	maxPast   = 7 * 24 * time.Hour
	maxFuture = 5 * time.Minute
)

// Token labels of package collect, so that tokens look like the
// collector's.
const (
	tokenCookie     = "admeter/cookie/v1"
	tokenImpression = "admeter/impression/v1"
)

// campaigns returns the simulated campaigns: "big" with eight placements on
// different media, and n-1 others with two to four placements each.
func campaigns(n int) (big simulate.Campaign, rest []simulate.Campaign) {
	media := []string{"今日头条", "抖音", "快手", "腾讯视频", "爱奇艺", "哔哩哔哩", "优酷", "微博", "腾讯新闻", "知乎"}
	mk := func(id string, places int, m0 int) simulate.Campaign {
		c := simulate.Campaign{ID: id, Timezone: "Asia/Shanghai", LandingURL: "https://example.com/landing"}
		for j := range places {
			p := fmt.Sprintf("%s-p%d", id, j+1)
			q := "/x/k=" + id + "&p=" + p + standardMacros
			c.Placements = append(c.Placements, simulate.Placement{
				ID: p, Media: media[(m0+j)%len(media)],
				ImpressionURL: q,
				ClickURL:      strings.Replace(q, "/x/", "/r/", 1) + "&o=" + c.LandingURL,
			})
		}
		return c
	}
	big = mk(string(benchCampaign), 8, 0)
	for i := 1; i < n; i++ {
		rest = append(rest, mk(fmt.Sprintf("c%02d", i), 2+i%3, i))
	}
	return big, rest
}

// standardMacros are the macros of admeter's monitoring URLs (package api).
const standardMacros = "&mo=__OS__&ns=__IP__&m0=__OPENUDID__&m1a=__ANDROIDID__&m2=__IMEI__&m4=__AAID__" +
	"&m5=__IDFA__&m6=__MAC1__&m6a=__MAC__&m11=__OAID__&m11a=__OAID1__&m14=__CAID__&tr=__REQUESTID__&mt=__TS__"

// buildPool generates the pool: the traffic of cfg.Days days, generated one
// day at a time and sent at the end of that day, turned into events the way
// the collector turns requests into events (see converter).
func buildPool(cfg poolConfig, ps *pseudo.Pseudonymizer) ([]admeter.Event, error) {
	big, rest := campaigns(cfg.Campaigns)
	end := cfg.Start.AddDate(0, 0, cfg.Days)
	var pool []admeter.Event
	conv := converter{ps: ps}
	for i, part := range []struct {
		cs    []simulate.Campaign
		share float64
	}{{[]simulate.Campaign{big}, cfg.BigShare}, {rest, 1 - cfg.BigShare}} {
		if len(part.cs) == 0 || part.share <= 0 {
			continue
		}
		sc := simulate.DefaultConfig()
		sc.Seed = cfg.Seed + int64(i)*1_000_003
		sc.Now, sc.Start, sc.End = end, cfg.Start, end
		sc.Campaigns = part.cs
		sc.IVT = simulate.UniformIVT(0.03)
		sc.AppOptOut = 0 // the store benchmark loads events, not opt-out API calls
		sc.SizeFor(int(float64(cfg.Events) * part.share))
		g, err := simulate.NewGenerator(sc)
		if err != nil {
			return nil, fmt.Errorf("generate traffic: %w", err)
		}
		for d := range cfg.Days {
			from := cfg.Start.AddDate(0, 0, d)
			to := from.AddDate(0, 0, 1)
			plan, err := g.Plan(from, to, to)
			if err != nil {
				return nil, fmt.Errorf("generate traffic: %w", err)
			}
			pool, err = conv.appendPlan(pool, plan)
			if err != nil {
				return nil, err
			}
		}
	}
	return pool, nil
}

// converter turns simulated requests into the events admeter's collector
// would log for them: the same parameter parsing (package macro), the same
// identifier priority and pseudonyms (package pseudo) under a fixed key, the
// same event-time rule. It differs where the collector needs its services:
// no user-agent parsing (OS comes from mo, device type is unknown), and the
// region is left unknown (no GeoIP database); the network block is kept.
// The receive time is the event time plus a small delay, or the end of the
// plan's window for late events.
type converter struct {
	ps   *pseudo.Pseudonymizer
	seq  uint64            // requests converted, for cookie-less browsers' fresh cookies
	strs map[string]string // interned strings: the pool must not keep every request's text alive
}

// intern returns s, from a table of strings already seen.
func (c *converter) intern(s string) string {
	if v, ok := c.strs[s]; ok {
		return v
	}
	if c.strs == nil {
		c.strs = map[string]string{}
	}
	s = strings.Clone(s)
	c.strs[s] = s
	return s
}

// appendPlan appends the events of every request of plan to evs.
func (c *converter) appendPlan(evs []admeter.Event, plan *simulate.Plan) ([]admeter.Event, error) {
	for i := range plan.Requests {
		r := &plan.Requests[i]
		c.seq++
		n := len(evs)
		var err error
		if r.Method == "POST" {
			evs, err = c.appendBatch(evs, r, plan)
		} else {
			evs, err = c.appendURL(evs, r, plan)
		}
		if err != nil {
			return nil, err
		}
		// Events the collector would refuse (no campaign, say) are dropped.
		kept := n
		for j := n; j < len(evs); j++ {
			if evs[j].Validate() == nil {
				evs[kept] = evs[j]
				kept++
			}
		}
		evs = evs[:kept]
	}
	return evs, nil
}

// hit is what the collector reads from one request or batch element.
type hit struct {
	kind                 admeter.Kind
	campaign             string
	placement            string
	mt                   string
	ip                   string
	ids                  pseudo.IDSet
	os                   admeter.OS
	osVersion, model     string
	app, pkg             string
	network              admeter.Network
	vf                   string
	risk                 admeter.Risk
	signed, batch, agent bool
}

func (c *converter) appendURL(evs []admeter.Event, r *simulate.Request, plan *simulate.Plan) ([]admeter.Event, error) {
	ep, p, err := macro.ParseTarget(r.Target)
	if err != nil {
		return evs, nil // the collector rejects it: no event
	}
	h := hit{
		kind: admeter.KindImpression, campaign: p.K, placement: p.P, mt: p.MT, ip: p.NS,
		os: macro.ParseOS(p.MO), osVersion: p.ME, model: p.MD, app: p.MN, pkg: p.MP,
		network: macro.ParseNetwork(p.MW), vf: p.VF, risk: macro.ParseRisk(p.SVL), signed: p.Signed,
	}
	switch {
	case ep == macro.EndpointClick:
		h.kind = admeter.KindClick
	case !macro.ParseRender(p.BR):
		h.kind = admeter.KindServed
	}
	for _, id := range []struct {
		t admeter.IDType
		f pseudo.Form
		v string
	}{
		{admeter.IDOAID, pseudo.FormRaw, p.M11}, {admeter.IDOAID, pseudo.FormMD5, p.M11A},
		{admeter.IDIDFA, pseudo.FormRaw, p.M5}, {admeter.IDIMEI, pseudo.FormMD5, p.M2},
		{admeter.IDIMEI, pseudo.FormRaw, p.M3}, {admeter.IDAndroidID, pseudo.FormRaw, p.M1},
		{admeter.IDAndroidID, pseudo.FormMD5, p.M1A}, {admeter.IDMAC, pseudo.FormMD5, p.M6A},
		{admeter.IDMACColon, pseudo.FormMD5, p.M6}, {admeter.IDOpenUDID, pseudo.FormRaw, p.M0},
		{admeter.IDIDFV, pseudo.FormRaw, p.M5A}, {admeter.IDCAID, pseudo.FormMD5, p.M14},
	} {
		if id.v != "" {
			h.ids.Add(id.t, id.f, id.v)
		}
	}
	// A browser loading the pixel itself (no ns, no identifier) is keyed by
	// admeter's cookie: the same one on every request if it keeps cookies.
	h.agent = p.NS == "" && h.ids.Len() == 0
	return append(evs, c.event(&h, r, plan)), nil
}

// batchEvent is the part of the batch API's event object the simulator
// fills (docs/api.md).
type batchEvent struct {
	Type         string `json:"type"`
	Campaign     string `json:"campaign"`
	Placement    string `json:"placement"`
	TS           any    `json:"ts"`
	Rendered     *bool  `json:"rendered"`
	OS           string `json:"os"`
	OSVersion    string `json:"os_version"`
	Model        string `json:"model"`
	App          string `json:"app"`
	Package      string `json:"package"`
	Network      string `json:"network"`
	IP           string `json:"ip"`
	OAID         string `json:"oaid"`
	OAIDMD5      string `json:"oaid_md5"`
	IDFA         string `json:"idfa"`
	IDFAMD5      string `json:"idfa_md5"`
	IMEI         string `json:"imei"`
	IMEIMD5      string `json:"imei_md5"`
	AndroidID    string `json:"android_id"`
	AndroidIDMD5 string `json:"android_id_md5"`
	CAID         string `json:"caid"`
	ImpressionID string `json:"impression_id"`
	SVL          string `json:"svl"`
}

func (c *converter) appendBatch(evs []admeter.Event, r *simulate.Request, plan *simulate.Plan) ([]admeter.Event, error) {
	var batch []batchEvent
	if err := json.Unmarshal(r.Body, &batch); err != nil {
		return nil, fmt.Errorf("decode simulated batch: %w", err)
	}
	for i := range batch {
		e := &batch[i]
		h := hit{kind: admeter.KindImpression, campaign: e.Campaign, placement: e.Placement, ip: e.IP,
			osVersion: e.OSVersion, model: e.Model, app: e.App, pkg: e.Package, vf: e.ImpressionID,
			risk: macro.ParseRisk(e.SVL), batch: true}
		switch {
		case e.Type == "click":
			h.kind = admeter.KindClick
		case e.Type == "served" || (e.Rendered != nil && !*e.Rendered):
			h.kind = admeter.KindServed
		}
		switch ts := e.TS.(type) {
		case string:
			h.mt = ts
		case float64:
			h.mt = strconv.FormatInt(int64(ts), 10)
		}
		if o, ok := admeter.ParseOS(strings.ToLower(e.OS)); ok {
			h.os = o
		} else if e.OS == "ios" {
			h.os = admeter.OSIOS
		}
		switch e.Network {
		case "wifi":
			h.network = admeter.NetworkWiFi
		case "cellular":
			h.network = admeter.NetworkCellular
		}
		for _, id := range []struct {
			t admeter.IDType
			f pseudo.Form
			v string
		}{
			{admeter.IDOAID, pseudo.FormRaw, e.OAID}, {admeter.IDOAID, pseudo.FormMD5, e.OAIDMD5},
			{admeter.IDIDFA, pseudo.FormRaw, e.IDFA}, {admeter.IDIDFA, pseudo.FormMD5, e.IDFAMD5},
			{admeter.IDIMEI, pseudo.FormRaw, e.IMEI}, {admeter.IDIMEI, pseudo.FormMD5, e.IMEIMD5},
			{admeter.IDAndroidID, pseudo.FormRaw, e.AndroidID}, {admeter.IDAndroidID, pseudo.FormMD5, e.AndroidIDMD5},
			{admeter.IDCAID, pseudo.FormMD5, e.CAID},
		} {
			if id.v != "" && !macro.IsUnreplacedMacro(id.v) {
				h.ids.Add(id.t, id.f, id.v)
			}
		}
		evs = append(evs, c.event(&h, r, plan))
	}
	return evs, nil
}

// event de-identifies h as the collector does.
func (c *converter) event(h *hit, r *simulate.Request, plan *simulate.Plan) admeter.Event {
	ev := admeter.Event{
		Kind: h.kind, Tenant: benchTenant,
		Campaign: admeter.CampaignID(c.intern(h.campaign)), Placement: admeter.PlacementID(c.intern(h.placement)),
		KeyVersion: c.ps.Version(),
		OS:         h.os, OSVersion: c.intern(h.osVersion), Model: c.intern(h.model), App: c.intern(h.app), AppPackage: c.intern(h.pkg),
		Network: h.network, Risk: h.risk,
	}
	ev.User, ev.UserType = c.ps.UserKey(&h.ids)
	if ev.UserType == admeter.IDNone && h.agent {
		var b [8]byte
		if r.Cookies {
			binary.BigEndian.PutUint64(b[:], uint64(r.Device))
		} else {
			binary.BigEndian.PutUint64(b[:], 1<<63|c.seq) // a fresh cookie every time
			ev.Flags |= admeter.FlagCookieIssued
		}
		ev.User, ev.UserType = c.ps.Token(tokenCookie, b[:]), admeter.IDCookie
	}
	if h.batch {
		ev.Flags |= admeter.FlagBatch
	}
	if h.signed {
		ev.Flags |= admeter.FlagSigned
	}
	if h.vf != "" {
		ev.ImpressionID = c.ps.Token(tokenImpression, []byte(h.vf))
	}
	// Received: shortly after the event, or when the plan is sent for an
	// event older than its window (late) or without a time.
	mt, ok := macro.ParseTime(h.mt)
	switch {
	case ok && !mt.Before(plan.Start) && mt.Before(plan.End):
		ev.Received = mt.Add(time.Duration(50+c.seq%900) * time.Millisecond)
	default:
		ev.Received = plan.Now
	}
	ev.At = ev.Received
	if ok && !mt.Before(ev.Received.Add(-maxPast)) && !mt.After(ev.Received.Add(maxFuture)) {
		ev.At = mt
	} else {
		ev.Flags |= admeter.FlagTimeCorrected
	}
	if a, err := netip.ParseAddr(h.ip); err == nil {
		ev.Net = admeter.BlockOf(a)
	}
	return ev
}
