package simevents

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

// batchPath is the batch API's path: the only POST that carries events.
const batchPath = "/v1/events"

// Converter turns simulated requests into the events admeter's collector
// would log for them, for one tenant (see the package documentation for
// where it differs from the collector). The receive time of an event is its
// event time plus a small delay, or the plan's send time (Plan.Now) for a
// late event or one without a time. A Converter is not safe for concurrent
// use; convert the plans of one simulation, in order, with one Converter so
// that cookie-less browsers keep getting fresh cookies.
type Converter struct {
	ps     *pseudo.Pseudonymizer
	tenant admeter.TenantID
	seq    uint64            // requests converted, for cookie-less browsers' fresh cookies
	strs   map[string]string // interned strings: the pool must not keep every request's text alive
}

// New returns a Converter that pseudonymises identifiers with ps and gives
// every event the tenant tenant (the store refuses events without one).
func New(ps *pseudo.Pseudonymizer, tenant admeter.TenantID) *Converter {
	return &Converter{ps: ps, tenant: tenant}
}

// intern returns s, from a table of strings already seen.
func (c *Converter) intern(s string) string {
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

// Append appends to evs the events of every request of plan, in request
// order, and returns the extended slice. Requests the collector would
// refuse, and events that do not validate (no campaign, say), give no
// event. It returns an error only for a batch body that is not JSON.
func (c *Converter) Append(evs []admeter.Event, plan *simulate.Plan) ([]admeter.Event, error) {
	for i := range plan.Requests {
		r := &plan.Requests[i]
		c.seq++
		n := len(evs)
		var err error
		switch {
		case r.Method == "POST" && r.Target == batchPath:
			evs, err = c.appendBatch(evs, r, plan)
		case r.Method == "POST":
			continue // opt-out or conversion upload: no event
		default:
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

// appendURL appends the event of a monitoring-URL request.
func (c *Converter) appendURL(evs []admeter.Event, r *simulate.Request, plan *simulate.Plan) ([]admeter.Event, error) {
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

// appendBatch appends the events of a batch-API request.
func (c *Converter) appendBatch(evs []admeter.Event, r *simulate.Request, plan *simulate.Plan) ([]admeter.Event, error) {
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
func (c *Converter) event(h *hit, r *simulate.Request, plan *simulate.Plan) admeter.Event {
	ev := admeter.Event{
		Kind: h.kind, Tenant: c.tenant,
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
