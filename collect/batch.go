package collect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
)

// batchEvent is one event of the batch API. Field names are the readable
// forms of the Miaozhen letters (see docs/api.md).
type batchEvent struct {
	Type      string     `json:"type"` // impression (default), click, served, viewability, video
	Campaign  string     `json:"campaign"`
	Placement string     `json:"placement"`
	TS        flexString `json:"ts"` // Unix seconds or milliseconds
	Rendered  *bool      `json:"rendered"`

	OS        flexString `json:"os"` // android, ios, windows_phone, other, or the mo codes 0–3
	OSVersion string     `json:"os_version"`
	Model     string     `json:"model"`
	App       string     `json:"app"`
	Package   string     `json:"package"`
	Network   flexString `json:"network"` // cellular, wifi, none, or the mw codes 0–2
	IP        string     `json:"ip"`
	UA        string     `json:"ua"`
	Location  string     `json:"location"` // "lat,lon" or the MMA "lat x lon x accuracy"

	OAID         string `json:"oaid"`
	OAIDMD5      string `json:"oaid_md5"`
	IDFA         string `json:"idfa"`
	IDFAMD5      string `json:"idfa_md5"`
	IMEI         string `json:"imei"`
	IMEIMD5      string `json:"imei_md5"`
	AndroidID    string `json:"android_id"`
	AndroidIDMD5 string `json:"android_id_md5"`
	AAID         string `json:"aaid"`
	AAIDMD5      string `json:"aaid_md5"`
	MACMD5       string `json:"mac_md5"`       // Miaozhen m6a: MD5 of the MAC without colons, uppercased
	MACColonMD5  string `json:"mac_colon_md5"` // Miaozhen m6: MD5 of the MAC with colons
	OpenUDID     string `json:"openudid"`
	IDFV         string `json:"idfv"`
	CAID         string `json:"caid"`

	ImpressionID string `json:"impression_id"` // Miaozhen vf
	Risk         string `json:"svl"`           // Miaozhen svl
	Signature    string `json:"signature"`     // Miaozhen mf; kept as present/absent only

	batchView // view, view_area, view_seconds, video_* (Miaozhen vx, vh, vi, vb, vg, vc, vj)
}

// flexString accepts a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("must be a string or a number")
	}
	*f = flexString(n)
	return nil
}

// BatchResult is the answer of the batch API.
type BatchResult struct {
	Accepted int             `json:"accepted"`
	Rejected []BatchRejected `json:"rejected"`
}

// BatchRejected says why one event of a batch was not accepted.
type BatchRejected struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// ServeBatch answers POST /v1/events: a JSON array or NDJSON stream of events.
func (c *Collector) ServeBatch(w http.ResponseWriter, r *http.Request) {
	start := c.cfg.Now()
	c.m.endpoints[epBatch].requests.Inc()
	defer func() { c.m.endpoints[epBatch].duration.Observe(time.Since(start).Seconds()) }()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, admeter.EINVALID, "use POST to send events")
		return
	}
	items, ok := c.readBatch(w, r)
	if !ok {
		return
	}

	res := BatchResult{Rejected: []BatchRejected{}}
	events := make([]admeter.Event, 0, len(items))
	var keys []dedupKey
	for i, raw := range items {
		c.m.endpoints[epBatch].received.Inc()
		h, t, reason, err := c.batchHit(r, raw)
		if err != nil {
			c.m.reject(reason, 1)
			res.Rejected = append(res.Rejected, BatchRejected{Index: i, Reason: err.Error()})
			continue
		}
		ev, _, out := c.process(h, t, start)
		res.Accepted++
		if out.optedOut() {
			// Accepted and honoured: the user's choice is not the sender's
			// error, and the answer does not reveal it.
			c.m.optedOut[out].Inc()
			continue
		}
		key, dup := c.duplicate(&ev, start)
		if dup {
			c.m.reject(reasonDuplicate, 1)
			continue // accepted: the impression is already logged
		}
		keys = append(keys, key)
		events = append(events, ev)
	}
	if len(events) > 0 {
		if err := c.log.Append(context.WithoutCancel(r.Context()), events); err != nil {
			c.unrecord(keys...)
			c.logger.Error("append batch to log", "err", err, "events", len(events))
			c.m.reject(reasonLogUnavailable, len(events))
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, admeter.EINTERNAL, "events could not be stored; nothing from this batch was accepted, retry it")
			return
		}
		for i := range events {
			c.m.loggedKind(events[i].Kind)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

var errBatchTooLong = errors.New("batch too long")

// splitBatch splits a JSON array or an NDJSON body into its items.
func splitBatch(body []byte, max int) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("request body is empty; send a JSON array of events or NDJSON, one event per line")
	}
	var items []json.RawMessage
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, fmt.Errorf("request body is not a JSON array of events: %v", err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		sc.Buffer(make([]byte, 0, 64<<10), len(trimmed)+1)
		for line := 1; sc.Scan(); line++ {
			l := bytes.TrimSpace(sc.Bytes())
			if len(l) == 0 {
				continue
			}
			if !json.Valid(l) {
				return nil, fmt.Errorf("line %d of the NDJSON body is not valid JSON", line)
			}
			items = append(items, json.RawMessage(bytes.Clone(l)))
			if len(items) > max {
				break
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read NDJSON body: %v", err)
		}
	}
	if len(items) > max {
		return nil, fmt.Errorf("%w: a batch holds at most %d events; split it", errBatchTooLong, max)
	}
	if len(items) == 0 {
		return nil, errors.New("the batch holds no events")
	}
	return items, nil
}

// batchHit decodes and checks one batch item. The error text is the reason
// returned to the sender; the reason string is the metric label.
func (c *Collector) batchHit(r *http.Request, raw json.RawMessage) (*rawHit, *target, string, error) {
	var e batchEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, nil, reasonBadEvent, fmt.Errorf("not a valid event object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	// A server that relays Sec-GPC relays the browser's choice for every
	// event of the batch.
	h := &rawHit{source: admeter.FlagBatch, gpc: sendsGPC(r)}
	switch e.Type {
	case "", "impression":
		h.kind = admeter.KindImpression
		if e.Rendered != nil && !*e.Rendered {
			h.kind = admeter.KindServed
		}
	case "click":
		h.kind = admeter.KindClick
	case "served":
		h.kind = admeter.KindServed
	case "viewability":
		h.kind = admeter.KindViewability
	case "video":
		h.kind = admeter.KindVideo
	default:
		return nil, nil, reasonBadEvent, fmt.Errorf("type must be impression, click, served, viewability or video, not %q", e.Type)
	}
	if reason, err := e.batchView.apply(h); err != nil {
		return nil, nil, reason, err
	}
	if h.kind == admeter.KindViewability && (e.ImpressionID == "" || macro.IsUnreplacedMacro(e.ImpressionID)) {
		return nil, nil, reasonBadViewability, errors.New("a viewability result needs the impression_id of the impression it measured")
	}
	if e.Campaign == "" || macro.IsUnreplacedMacro(e.Campaign) {
		return nil, nil, reasonNoCampaign, errors.New("campaign is required")
	}
	if e.Placement == "" || macro.IsUnreplacedMacro(e.Placement) {
		return nil, nil, reasonNoPlacement, errors.New("placement is required")
	}
	t := c.catalog.lookup(admeter.CampaignID(e.Campaign), admeter.PlacementID(e.Placement))
	if t == nil {
		return nil, nil, reasonUnknownPlacement, fmt.Errorf("unknown campaign %q or placement %q", e.Campaign, e.Placement)
	}
	if st := senderTenant(r.Context()); st != "" && st != t.tenant {
		// Same answer as for a campaign that does not exist.
		return nil, nil, reasonUnknownPlacement, fmt.Errorf("unknown campaign %q or placement %q", e.Campaign, e.Placement)
	}
	if t.campaign.Stopped {
		return nil, nil, reasonStopped, fmt.Errorf("campaign %q is stopped: its account is suspended or closed", e.Campaign)
	}
	h.timeMacro = string(e.TS) != "" && macro.IsUnreplacedMacro(string(e.TS))
	if ts := string(e.TS); ts != "" && !macro.IsUnreplacedMacro(ts) {
		tm, ok := macro.ParseTime(ts)
		if !ok {
			return nil, nil, reasonBadEvent, fmt.Errorf("ts must be Unix seconds (10 digits) or milliseconds (13 digits), not %q", ts)
		}
		h.clientTime = tm
	}
	h.os = parseBatchOS(string(e.OS))
	h.network = parseBatchNetwork(string(e.Network))
	h.osVersion, h.model, h.app, h.pkg = e.OSVersion, e.Model, e.App, e.Package
	h.vf, h.signed = e.ImpressionID, e.Signature != ""
	h.risk = macro.ParseRisk(e.Risk)
	if e.UA != "" {
		h.ua = c.uaCache.get(c.ua, e.UA)
		h.uaRaw = e.UA
	}
	h.ip = c.requestAddr(r, e.IP)
	if e.Location != "" {
		h.lat, h.lon, h.hasLoc = macro.ParseLocation(e.Location)
	}
	for _, id := range []rawID{
		{admeter.IDOAID, pseudo.FormRaw, e.OAID}, {admeter.IDOAID, pseudo.FormMD5, e.OAIDMD5},
		{admeter.IDIDFA, pseudo.FormRaw, e.IDFA}, {admeter.IDIDFA, pseudo.FormMD5, e.IDFAMD5},
		{admeter.IDIMEI, pseudo.FormRaw, e.IMEI}, {admeter.IDIMEI, pseudo.FormMD5, e.IMEIMD5},
		{admeter.IDAndroidID, pseudo.FormRaw, e.AndroidID}, {admeter.IDAndroidID, pseudo.FormMD5, e.AndroidIDMD5},
		{admeter.IDAAID, pseudo.FormRaw, e.AAID}, {admeter.IDAAID, pseudo.FormMD5, e.AAIDMD5},
		{admeter.IDMAC, pseudo.FormMD5, e.MACMD5}, {admeter.IDMACColon, pseudo.FormMD5, e.MACColonMD5},
		{admeter.IDOpenUDID, pseudo.FormRaw, e.OpenUDID}, {admeter.IDIDFV, pseudo.FormRaw, e.IDFV},
		{admeter.IDCAID, pseudo.FormMD5, e.CAID},
	} {
		if id.value != "" && !macro.IsUnreplacedMacro(id.value) {
			h.addID(id.typ, id.form, id.value)
		}
	}
	return h, t, "", nil
}

func parseBatchOS(s string) admeter.OS {
	if o, ok := admeter.ParseOS(strings.ToLower(s)); ok {
		return o
	}
	if s == "ios" || s == "iOS" || s == "iphone" {
		return admeter.OSIOS
	}
	return macro.ParseOS(s)
}

func parseBatchNetwork(s string) admeter.Network {
	switch strings.ToLower(s) {
	case "wifi", "wi-fi":
		return admeter.NetworkWiFi
	case "cellular", "mobile", "4g", "5g", "3g":
		return admeter.NetworkCellular
	case "none":
		return admeter.NetworkNone
	}
	return macro.ParseNetwork(s)
}

// writeError writes the JSON error shape every admeter API uses.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
