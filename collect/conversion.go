package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
	"github.com/admeter/admeter/pseudo"
)

// The conversion API, POST /api/v1/conversions, takes conversions reported
// by an advertiser's server (PRODUCT.md 一(一)3). It is tenant-authenticated
// and served where the event log is, by the collector. Its uploads are
// customer-supplied data (一(一)1): identifiers must arrive hashed, or be
// resettable advertising ids; a batch with a raw phone number or IMEI is
// refused whole, naming the rows and fields, never the values.

// Limits of one conversion, in bytes.
const (
	maxConversionID = 128
	maxClickID      = 128
	maxConsentRef   = 128
	// maxConsentRefs bounds the distinct consent references one upload's
	// record lists; further ones are counted together.
	maxConsentRefs = 100
	// maxRawListed bounds the raw identifiers an error message lists (the
	// JSON answer lists them all).
	maxRawListed = 10
	// maxValueDigits bounds the integer part of a conversion value.
	maxValueDigits = 12
)

// ConsentRefHeader carries a batch's consent reference: the customer's
// reference to the end users' authorization, which rows without their own
// consent_ref share.
const ConsentRefHeader = "X-Admeter-Consent-Ref"

// Rejection reasons of the conversion API (metric labels).
const (
	reasonBadConversion   = "bad_conversion"
	reasonNoConversionID  = "missing_conversion_id"
	reasonNoConvUser      = "missing_user"
	reasonNoConsentRef    = "missing_consent_ref"
	reasonConvTimeWindow  = "time_out_of_window"
	reasonRawIdentifier   = "raw_identifier"
	reasonUnauthenticated = "unauthenticated"
)

// conversionEndpoint is the endpoint label of the conversion API's
// request, received and duration metrics.
const conversionEndpoint = "conversion"

// conversionRow is one conversion as the advertiser's server sends it.
type conversionRow struct {
	ConversionID string      `json:"conversion_id"`
	Type         string      `json:"type"`
	Time         flexString  `json:"time"`  // Unix s or ms, or RFC 3339
	Value        *flexString `json:"value"` // decimal, string or number
	Currency     string      `json:"currency"`
	ClickID      string      `json:"click_id"`
	ConsentRef   string      `json:"consent_ref"`

	OAID         string `json:"oaid"`
	OAIDMD5      string `json:"oaid_md5"`
	IDFA         string `json:"idfa"`
	IDFAMD5      string `json:"idfa_md5"`
	IMEIMD5      string `json:"imei_md5"`
	AndroidIDMD5 string `json:"android_id_md5"`
	AAID         string `json:"aaid"`
	AAIDMD5      string `json:"aaid_md5"`
	MACMD5       string `json:"mac_md5"`
	MACColonMD5  string `json:"mac_colon_md5"`
	CAID         string `json:"caid"`
}

// convIDField is an identifier field of a conversion: its JSON name, the
// identifier it holds, the form it arrives in and how strictly it is
// checked for raw values.
type convIDField struct {
	name  string
	typ   admeter.IDType
	form  pseudo.Form
	class fieldClass
	get   func(*conversionRow) string
}

// convIDFields are the identifiers a conversion may carry: MD5 forms, and
// the resettable advertising ids (OAID, IDFA, AAID, CAID) raw.
var convIDFields = []convIDField{
	{"oaid", admeter.IDOAID, pseudo.FormRaw, fieldLoose, func(r *conversionRow) string { return r.OAID }},
	{"oaid_md5", admeter.IDOAID, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.OAIDMD5 }},
	{"idfa", admeter.IDIDFA, pseudo.FormRaw, fieldStrict, func(r *conversionRow) string { return r.IDFA }},
	{"idfa_md5", admeter.IDIDFA, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.IDFAMD5 }},
	{"imei_md5", admeter.IDIMEI, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.IMEIMD5 }},
	{"android_id_md5", admeter.IDAndroidID, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.AndroidIDMD5 }},
	{"aaid", admeter.IDAAID, pseudo.FormRaw, fieldStrict, func(r *conversionRow) string { return r.AAID }},
	{"aaid_md5", admeter.IDAAID, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.AAIDMD5 }},
	{"mac_md5", admeter.IDMAC, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.MACMD5 }},
	{"mac_colon_md5", admeter.IDMACColon, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.MACColonMD5 }},
	{"caid", admeter.IDCAID, pseudo.FormMD5, fieldStrict, func(r *conversionRow) string { return r.CAID }},
}

// convPlainFields are the fields of a conversion that are not about the
// user, so not checked for raw identifiers: an order number may well be 15
// digits, and it is only ever stored as a keyed pseudonym.
var convPlainFields = map[string]bool{"conversion_id": true, "type": true, "time": true, "value": true, "currency": true}

// refusedFields are fields that can only hold a raw personal identifier.
// A batch that fills one is refused whole; the text says what to send
// instead.
var refusedFields = map[string]string{
	"imei":          "send imei_md5, the MD5 of the IMEI",
	"meid":          "send imei_md5, the MD5 of the MEID",
	"android_id":    "send android_id_md5, the MD5 of the Android ID",
	"mac":           "send mac_md5, the MD5 of the MAC without separators, uppercased",
	"idfv":          "the IDFV is not taken in uploads; send idfa or caid",
	"openudid":      "the OpenUDID is not taken in uploads; send idfa or caid",
	"phone":         "phone numbers are never taken",
	"mobile":        "phone numbers are never taken",
	"phone_number":  "phone numbers are never taken",
	"mobile_number": "phone numbers are never taken",
	"tel":           "phone numbers are never taken",
	"telephone":     "phone numbers are never taken",
	"msisdn":        "phone numbers are never taken",
}

// ConversionResult is the answer of the conversion API.
type ConversionResult struct {
	// Accepted is how many conversions were appended to the event log.
	Accepted int `json:"accepted"`
	// Duplicates are rows whose conversion id an earlier row of the batch
	// already had; only the first was kept.
	Duplicates []ConversionDuplicate `json:"duplicates"`
	// OptedOut is how many rows were dropped because their user opted
	// out of measurement.
	OptedOut int `json:"opted_out"`
	// Rejected are the rows that were not valid conversions, and why.
	Rejected []BatchRejected `json:"rejected"`
}

// ConversionDuplicate is a row of a batch that repeated an earlier row's
// conversion id.
type ConversionDuplicate struct {
	Index        int    `json:"index"`
	ConversionID string `json:"conversion_id"`
	// First is the index of the row that was kept.
	First int `json:"first"`
}

// RawIdentifier names a row and field of a refused upload that held a raw
// personal identifier, never the value. Index is -1 for the batch's
// consent reference header.
type RawIdentifier struct {
	Index int    `json:"index"`
	Field string `json:"field"`
	// Kind is "phone", "imei" or "raw_field" (a field such as imei that
	// only ever holds a raw identifier).
	Kind string `json:"kind"`
}

// ConversionUpload is what the record of one conversion upload keeps: who
// sent it, from which network, what became of its rows, and the consent
// references the customer gave for them. It holds no identifier.
type ConversionUpload struct {
	Tenant admeter.TenantID
	// Net is the sender's network block (BlockOf), "" when unknown.
	Net string
	// Outcome is "ok", "refused: …" or "failed: …".
	Outcome                              string
	Rows, Accepted, Duplicates, OptedOut int
	Rejected                             int
	RawIdentifiers                       int
	ConsentRefs                          map[string]int // reference → rows accepted under it
	OtherConsentRows                     int            // rows under references past the first maxConsentRefs
}

// ConversionRecorder keeps the record of conversion uploads: admeter serve
// writes it to the audit record, so that the consent references stay with
// the upload. It is called once per upload that reached the row checks.
type ConversionRecorder func(ctx context.Context, u ConversionUpload)

// conversionAPI serves POST /api/v1/conversions.
type conversionAPI struct {
	c      *Collector
	record ConversionRecorder
}

// Conversions returns the handler of POST /api/v1/conversions: a JSON array
// or NDJSON stream of conversions from an advertiser's server. The request
// must be authenticated: mount it behind api.Server.CollectAuth with
// WithTenant; without a tenant it answers 401. record, when not nil, is told
// of every upload.
func (c *Collector) Conversions(record ConversionRecorder) http.Handler {
	return &conversionAPI{c: c, record: record}
}

// ServeHTTP answers one upload.
func (a *conversionAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := a.c
	start := c.cfg.Now()
	c.m.requests.WithLabelValues(conversionEndpoint).Inc()
	defer func() {
		c.m.duration.WithLabelValues(conversionEndpoint).Observe(time.Since(start).Seconds())
	}()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		c.m.reject(reasonMethod, 1)
		writeError(w, http.StatusMethodNotAllowed, admeter.EINVALID, "use POST to send conversions")
		return
	}
	tenant := senderTenant(r.Context())
	if tenant == "" {
		c.m.reject(reasonUnauthenticated, 1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="admeter"`)
		writeError(w, http.StatusUnauthorized, admeter.EUNAUTHORIZED,
			"send conversions with Authorization: Bearer <token>, a tenant token with the collect or manage scope")
		return
	}
	items, ok := c.readBatch(w, r)
	if !ok {
		return
	}
	received := c.m.received.WithLabelValues(conversionEndpoint)
	received.Add(float64(len(items)))
	up := ConversionUpload{Tenant: tenant, Rows: len(items)}
	if addr := c.ClientAddr(r); addr.IsValid() {
		up.Net = admeter.BlockOf(addr).String()
	}

	batchRef := strings.TrimSpace(r.Header.Get(ConsentRefHeader))
	if msg := checkConsentRef(batchRef); msg != "" {
		c.m.reject(reasonBadConversion, len(items))
		writeError(w, http.StatusBadRequest, admeter.EINVALID, ConsentRefHeader+": "+msg)
		return
	}
	found := scanRaw(items)
	if looksRaw(batchRef, fieldLoose) != rawNone {
		found = append([]RawIdentifier{{Index: -1, Field: ConsentRefHeader, Kind: rawPhone.String()}}, found...)
	}
	if len(found) > 0 {
		c.m.reject(reasonRawIdentifier, len(items))
		up.Outcome, up.RawIdentifiers = "refused: raw personal identifiers", len(found)
		a.recordUpload(r.Context(), up)
		refuseRaw(w, found)
		return
	}

	res := ConversionResult{Duplicates: []ConversionDuplicate{}, Rejected: []BatchRejected{}}
	events := make([]admeter.Event, 0, len(items))
	refs := make([]string, 0, len(items))
	first := make(map[string]int, len(items))
	ps := c.pseudo.Load()
	for i, raw := range items {
		row, reason, err := parseConversion(raw)
		if err == nil && row.ConsentRef == "" && batchRef == "" {
			reason, err = reasonNoConsentRef, fmt.Errorf("consent_ref is required: give the reference to the end users' authorization in the row or in the %s header", ConsentRefHeader)
		}
		var ev admeter.Event
		optedOut := false
		if err == nil {
			ev, optedOut, reason, err = c.conversionEvent(row, tenant, ps, start)
		}
		if err != nil {
			c.m.reject(reason, 1)
			res.Rejected = append(res.Rejected, BatchRejected{Index: i, Reason: err.Error()})
			continue
		}
		if j, dup := first[row.ConversionID]; dup {
			c.m.reject(reasonDuplicate, 1)
			res.Duplicates = append(res.Duplicates, ConversionDuplicate{Index: i, ConversionID: row.ConversionID, First: j})
			continue
		}
		first[row.ConversionID] = i
		if optedOut {
			c.m.optedOut[outcomeOptOutRegistry].Inc()
			res.OptedOut++
			continue
		}
		events = append(events, ev)
		ref := row.ConsentRef
		if ref == "" {
			ref = batchRef
		}
		refs = append(refs, ref)
	}
	up.Duplicates, up.OptedOut, up.Rejected = len(res.Duplicates), res.OptedOut, len(res.Rejected)
	if len(events) > 0 {
		if err := c.log.Append(context.WithoutCancel(r.Context()), events); err != nil {
			c.logger.Error("append conversions to log", "err", err, "conversions", len(events), "tenant", tenant)
			c.m.reject(reasonLogUnavailable, len(events))
			up.Outcome = "failed: the event log is unavailable"
			a.recordUpload(r.Context(), up)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, admeter.EINTERNAL, "conversions could not be stored; nothing from this batch was accepted, retry it")
			return
		}
		for range events {
			c.m.loggedKind(admeter.KindConversion)
		}
	}
	res.Accepted = len(events)
	up.Accepted, up.Outcome = len(events), "ok"
	up.ConsentRefs, up.OtherConsentRows = countRefs(refs)
	a.recordUpload(r.Context(), up)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func (a *conversionAPI) recordUpload(ctx context.Context, up ConversionUpload) {
	if a.record != nil {
		a.record(context.WithoutCancel(ctx), up)
	}
}

// readBatch reads a batch body and splits it into its items, answering the
// request itself when it cannot.
func (c *Collector) readBatch(w http.ResponseWriter, r *http.Request) ([]json.RawMessage, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.m.reject(reasonBatchTooLarge, 1)
			writeError(w, http.StatusRequestEntityTooLarge, admeter.ETOOLARGE,
				fmt.Sprintf("request body is larger than %d bytes; send smaller batches", c.cfg.MaxBodyBytes))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, admeter.EINVALID, "cannot read request body: "+err.Error())
		return nil, false
	}
	items, err := splitBatch(body, c.cfg.MaxBatchEvents)
	if err != nil {
		status, code, reason := http.StatusBadRequest, admeter.EINVALID, reasonBatchMalformed
		if errors.Is(err, errBatchTooLong) {
			status, code, reason = http.StatusRequestEntityTooLarge, admeter.ETOOLARGE, reasonBatchTooLarge
		}
		c.m.reject(reason, 1)
		writeError(w, status, code, err.Error())
		return nil, false
	}
	return items, true
}

// scanRaw looks through every row of a batch, whether or not it is a valid
// conversion, for raw personal identifiers: fields that only hold one, and
// values that look like a phone number or an IMEI in any field about the
// user (the identifier fields, click_id, consent_ref and fields admeter does
// not know).
func scanRaw(items []json.RawMessage) []RawIdentifier {
	var found []RawIdentifier
	for i, raw := range items {
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			continue // not an object: rejected as a row
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, ok := scalarText(fields[k])
			if !ok || strings.TrimSpace(v) == "" {
				continue
			}
			name := strings.ToLower(k) // encoding/json matches names without regard to case
			if _, refused := refusedFields[name]; refused {
				found = append(found, RawIdentifier{Index: i, Field: name, Kind: rawField.String()})
				continue
			}
			if convPlainFields[name] {
				continue
			}
			class := fieldLoose
			for _, f := range convIDFields {
				if f.name == name {
					class = f.class
				}
			}
			if kind := looksRaw(v, class); kind != rawNone {
				found = append(found, RawIdentifier{Index: i, Field: name, Kind: kind.String()})
			}
		}
	}
	return found
}

// scalarText returns a JSON string's text or a JSON number's literal.
func scalarText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch c := v[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case c == '-' || c >= '0' && c <= '9':
		return string(v), true
	}
	return "", false
}

// refuseRaw answers 400 for a batch with raw personal identifiers, naming
// the rows and fields and what to send instead, never the values.
func refuseRaw(w http.ResponseWriter, found []RawIdentifier) {
	var b strings.Builder
	b.WriteString("the batch was refused whole, nothing from it was stored: it holds raw personal identifiers (")
	for i, f := range found {
		if i == maxRawListed {
			fmt.Fprintf(&b, "; and %d more", len(found)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Index < 0 {
			fmt.Fprintf(&b, "header %s", f.Field)
		} else {
			fmt.Fprintf(&b, "row %d field %q", f.Index, f.Field)
		}
		switch f.Kind {
		case rawField.String():
			fmt.Fprintf(&b, " is refused: %s", refusedFields[f.Field])
		case rawPhone.String():
			b.WriteString(" looks like a phone number")
		case rawIMEI.String():
			b.WriteString(" looks like a raw IMEI")
		}
	}
	b.WriteString("). Send device identifiers as MD5 (imei_md5, android_id_md5, oaid_md5, idfa_md5, mac_md5…) or the resettable advertising ids oaid, idfa, aaid, caid; phone numbers are never taken. Fix these rows and send the batch again.")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":           map[string]string{"code": admeter.EINVALID, "message": b.String()},
		"raw_identifiers": found,
	})
}

// parseConversion decodes one row, refusing unknown fields, and checks the
// fields that need no key: conversion id, type, time, value and currency
// formats. The error text is the reason returned to the sender.
func parseConversion(raw json.RawMessage) (*conversionRow, string, error) {
	var row conversionRow
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&row); err != nil {
		return nil, reasonBadConversion, fmt.Errorf("not a valid conversion object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	row.ConversionID = strings.TrimSpace(row.ConversionID)
	// The click ids the click redirect makes are lowercase hex; an
	// advertiser's system may have uppercased one.
	row.ClickID = strings.ToLower(strings.TrimSpace(row.ClickID))
	row.ConsentRef = strings.TrimSpace(row.ConsentRef)
	switch {
	case row.ConversionID == "":
		return nil, reasonNoConversionID, errors.New("conversion_id is required: your id of the conversion (order number...), the key it is deduplicated by")
	case len(row.ConversionID) > maxConversionID || !printable(row.ConversionID):
		return nil, reasonBadConversion, fmt.Errorf("conversion_id must be at most %d bytes of printable UTF-8", maxConversionID)
	case len(row.ClickID) > maxClickID || !printable(row.ClickID):
		return nil, reasonBadConversion, fmt.Errorf("click_id must be at most %d bytes of printable UTF-8", maxClickID)
	}
	if msg := checkConsentRef(row.ConsentRef); msg != "" {
		return nil, reasonBadConversion, errors.New("consent_ref " + msg)
	}
	if err := admeter.ValidConversionType(row.Type); err != nil {
		return nil, reasonBadConversion, errors.New(admeter.ErrorMessage(err))
	}
	return &row, "", nil
}

// checkConsentRef returns what is wrong with a consent reference, or "".
func checkConsentRef(ref string) string {
	if len(ref) > maxConsentRef || !printable(ref) {
		return fmt.Sprintf("must be at most %d bytes of printable UTF-8", maxConsentRef)
	}
	return ""
}

// conversionEvent turns a parsed row into the event to log: it checks the
// time, value and identifiers, pseudonymises the identifiers, the click id
// and the conversion id, and tells whether the user opted out.
func (c *Collector) conversionEvent(row *conversionRow, tenant admeter.TenantID, ps *pseudo.Pseudonymizer, now time.Time) (ev admeter.Event, optedOut bool, reason string, err error) {
	at, err := parseConversionTime(string(row.Time), now, c.cfg.MaxFuture)
	if err != nil {
		if errors.Is(err, errTimeWindow) {
			return ev, false, reasonConvTimeWindow, err
		}
		return ev, false, reasonBadConversion, err
	}
	if row.Value != nil {
		if ev.Value, err = parseMillionths(string(*row.Value)); err != nil {
			return ev, false, reasonBadConversion, err
		}
		ev.Currency = strings.ToUpper(strings.TrimSpace(row.Currency))
		if ev.Currency == "" {
			ev.Currency = admeter.DefaultCurrency
		}
		if err := admeter.ValidCurrency(ev.Currency); err != nil {
			return ev, false, reasonBadConversion, errors.New(admeter.ErrorMessage(err))
		}
	}

	var ids pseudo.IDSet
	var malformed []string
	for _, f := range convIDFields {
		v := f.get(row)
		if v == "" || macro.IsUnreplacedMacro(v) {
			continue
		}
		r := ids.Add(f.typ, f.form, v)
		c.m.identifier(f.typ, r)
		if r == pseudo.ReasonMalformed || r == pseudo.ReasonPlaceholder {
			malformed = append(malformed, f.name)
		}
	}
	if ids.Len() == 0 && row.ClickID == "" {
		msg := "a conversion needs a device identifier or a click_id"
		if len(malformed) > 0 {
			msg += "; not usable: " + strings.Join(malformed, ", ")
		}
		return ev, false, reasonNoConvUser, errors.New(msg)
	}
	if c.optedOutIDs(&ids) {
		return ev, true, "", nil
	}
	if typ, can, ok := ids.Best(); ok {
		ev.User, ev.UserType = ps.Pseudonym(typ, can), typ
	}
	if row.ClickID != "" {
		ev.ClickID = ps.Token(tokenClickID, []byte(row.ClickID))
	}
	ev.Kind = admeter.KindConversion
	ev.Tenant = tenant
	ev.Received = now.UTC()
	ev.At = ev.Received
	if !at.IsZero() {
		ev.At = at.UTC()
	}
	ev.Flags = admeter.FlagBatch
	ev.KeyVersion = ps.Version()
	ev.ConversionID = ps.Token(tokenConversion, []byte(string(tenant)+"\x00"+row.ConversionID))
	ev.ConversionType = row.Type
	if err := ev.Validate(); err != nil {
		return admeter.Event{}, false, reasonBadConversion, errors.New(admeter.ErrorMessage(err))
	}
	return ev, false, "", nil
}

// optedOutIDs reports whether any identifier of ids (not only the one that
// becomes the user key) is in the opt-out registry.
func (c *Collector) optedOutIDs(ids *pseudo.IDSet) bool {
	out := false
	ids.Each(func(typ admeter.IDType, can pseudo.Canonical) {
		if !out && c.optouts.Contains(c.optPS.Pseudonym(typ, can)) {
			out = true
		}
	})
	return out
}

var errTimeWindow = errors.New("time out of window")

// parseConversionTime parses a conversion's time: Unix seconds (10 digits)
// or milliseconds (13 digits), as a string or a number, or RFC 3339. It
// must lie within the longest attribution window before now and at most
// maxFuture after it. An empty s gives the zero time (the receive time is
// used).
func parseConversionTime(s string, now time.Time, maxFuture time.Duration) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := macro.ParseTime(s)
	if !ok {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("time must be Unix seconds (10 digits), milliseconds (13 digits) or RFC 3339 such as 2026-12-05T10:00:00+08:00, not %q", s)
		}
	}
	if t.Before(now.Add(-admeter.MaxAttributionWindow)) {
		return time.Time{}, fmt.Errorf("%w: time %s is more than 90 days ago, beyond every attribution window", errTimeWindow, t.UTC().Format(time.RFC3339))
	}
	if t.After(now.Add(maxFuture)) {
		return time.Time{}, fmt.Errorf("%w: time %s is in the future; check the sender's clock and the unit (seconds or milliseconds)", errTimeWindow, t.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// parseMillionths parses a non-negative decimal such as "129.90" into
// millionths (129900000). At most 12 integer and 6 fraction digits.
func parseMillionths(s string) (int64, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (int64, error) {
		return 0, fmt.Errorf("value must be a plain decimal such as 129.90 (%s), not %q", why, s)
	}
	if strings.HasPrefix(s, "-") {
		return bad("a conversion value is not negative")
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || dot && (frac == "" || !allDigits(frac)) {
		return bad("digits with an optional decimal point")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxValueDigits {
		return bad(fmt.Sprintf("at most %d digits before the point", maxValueDigits))
	}
	if len(frac) > 6 {
		if strings.TrimRight(frac[6:], "0") != "" {
			return bad("at most 6 digits after the point")
		}
		frac = frac[:6]
	}
	frac += strings.Repeat("0", 6-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return bad("too large")
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}

// countRefs counts the rows under each consent reference, keeping at most
// maxConsentRefs references (the first seen) and counting the other rows
// together.
func countRefs(refs []string) (map[string]int, int) {
	if len(refs) == 0 {
		return nil, 0
	}
	m := make(map[string]int)
	other := 0
	for _, r := range refs {
		if _, ok := m[r]; ok || len(m) < maxConsentRefs {
			m[r]++
		} else {
			other++
		}
	}
	return m, other
}
