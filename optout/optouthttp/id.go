package optouthttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

// idRequest is the JSON body of POST /api/v1/optout and of POST
// /api/v1/optout/status.
type idRequest struct {
	IDType string `json:"id_type"`
	ID     string `json:"id"`
	Form   string `json:"form"`
}

// problem codes: why an opt-out or status request was refused. They key the
// page's messages; the API says the same in its message.
const (
	probBody        = "body"      // the request body is not what was expected
	probTooLarge    = "too_large" // the body is over the limit
	probIDType      = "id_type"   // missing or unknown id_type
	probForm        = "form"      // form is not raw, md5 or omitted
	probEmpty       = "id_empty"  // the id is missing or a word such as null
	probPlaceholder = "id_placeholder"
	probMalformed   = "id_malformed"
	probAction      = "action"     // the page form's action is unknown
	probCrossSite   = "cross_site" // a POST to the page from another site
	probLimited     = "limited"    // rate limited
	probInternal    = "internal"   // the registry failed
)

// inputError is a refused request. msg is an English sentence for the API;
// it never contains the identifier. typ is set for the id problems so the page
// can say what the type looks like.
type inputError struct {
	prob string
	typ  admeter.IDType
	form pseudo.Form // 0 when the form was left to us
	msg  string
}

func (e *inputError) Error() string { return e.msg }

// typeInfo describes an identifier type for people: its display name and
// what a raw value looks like, in each language.
type typeInfo struct {
	name   string
	zhRaw  string
	enRaw  string
	pageOK bool // offered in the page's select
}

// types lists the identifier types the opt-out accepts, in the order of the
// page's select: every type the collector reads, except admeter's own cookie.
var types = []admeter.IDType{
	admeter.IDOAID, admeter.IDIDFA, admeter.IDIMEI, admeter.IDAndroidID,
	admeter.IDAAID, admeter.IDIDFV, admeter.IDCAID, admeter.IDOpenUDID,
	admeter.IDMAC, admeter.IDMACColon, admeter.IDSocial,
}

var typeInfos = map[admeter.IDType]typeInfo{
	admeter.IDOAID:      {"OAID", "由 16–64 位字母、数字和“-”组成", "16 to 64 letters, digits and '-'", true},
	admeter.IDIDFA:      {"IDFA", "是 8-4-4-4-12 格式的 UUID(十六进制)", "a UUID: 8-4-4-4-12 hex digits", true},
	admeter.IDIMEI:      {"IMEI / MEID", "为 14–17 位数字或十六进制字符", "14 to 17 digits (hex for a MEID)", true},
	admeter.IDAndroidID: {"Android ID", "为 13–16 位十六进制字符", "13 to 16 hex digits", true},
	admeter.IDAAID:      {"AAID", "是 8-4-4-4-12 格式的 UUID(十六进制)", "a UUID: 8-4-4-4-12 hex digits", true},
	admeter.IDIDFV:      {"IDFV", "是 8-4-4-4-12 格式的 UUID(十六进制)", "a UUID: 8-4-4-4-12 hex digits", true},
	admeter.IDCAID:      {"CAID", "为 32 位十六进制字符", "32 hex digits", true},
	admeter.IDOpenUDID:  {"OpenUDID", "为 40 位十六进制字符", "40 hex digits", true},
	admeter.IDMAC:       {"MAC", "为 12 位十六进制字符,可每两位用“:”或“-”分隔", "12 hex digits, optionally in pairs split by ':' or '-'", true},
	admeter.IDMACColon:  {"MAC", "为 12 位十六进制字符,可每两位用“:”或“-”分隔", "12 hex digits, optionally in pairs split by ':' or '-'", false},
	// A social media account: its posts that reach admeter through
	// partners' feeds (social insight) are dropped from then on.
	admeter.IDSocial: {"Social account / 社交账号", "格式为“平台:账号”,如 weibo:@用户名", "platform:handle, such as weibo:@name", true},
}

// acceptedTypes is the list of id_type values, for error messages.
var acceptedTypes = func() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}()

// parseIDType returns the accepted identifier type named s.
func parseIDType(s string) (admeter.IDType, *inputError) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return admeter.IDNone, &inputError{prob: probIDType, msg: "id_type is required; use one of: " + acceptedTypes}
	}
	t, ok := admeter.ParseIDType(s)
	if _, known := typeInfos[t]; !ok || !known {
		// The value is not repeated: a caller may have swapped the fields.
		return admeter.IDNone, &inputError{prob: probIDType, msg: "id_type is not an identifier type admeter knows; use one of: " + acceptedTypes}
	}
	return t, nil
}

// parseForm reads the optional form field: 0 means "decide from the value".
func parseForm(s string) (pseudo.Form, *inputError) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return 0, nil
	case "raw":
		return pseudo.FormRaw, nil
	case "md5":
		return pseudo.FormMD5, nil
	}
	return 0, &inputError{prob: probForm, msg: `form must be "raw", "md5" or omitted (then 32 hex digits are read as an MD5)`}
}

// device is an identifier ready to be looked up or opted out: its type and
// the pseudonyms (one to three, distinct) that stand for it.
type device struct {
	typ admeter.IDType
	ps  []admeter.Pseudonym
}

// attempt is one (type, form) reading of a value.
type attempt struct {
	t admeter.IDType
	f pseudo.Form
}

// resolve canonicalises value as an identifier of type t in form f (0 for
// auto) exactly as the collector does, and returns the pseudonyms under ps.
// The collector has two MAC types (bare and with colons) whose MD5s differ;
// media may send either, so a raw MAC gives the pseudonyms of both.
func resolve(ps *pseudo.Pseudonymizer, t admeter.IDType, f pseudo.Form, value string) (device, *inputError) {
	v := strings.TrimSpace(value)
	var tries [4]attempt
	n := 0
	add := func(t admeter.IDType, f pseudo.Form) {
		tries[n] = attempt{t, f}
		n++
		if f != pseudo.FormRaw {
			return
		}
		switch t {
		case admeter.IDMAC:
			tries[n] = attempt{admeter.IDMACColon, f}
			n++
		case admeter.IDMACColon:
			tries[n] = attempt{admeter.IDMAC, f}
			n++
		}
	}
	switch {
	case f != 0:
		add(t, f)
	case looksMD5(v):
		add(t, pseudo.FormMD5)
		add(t, pseudo.FormRaw) // an OAID or a CAID can be 32 hex digits too
	default:
		add(t, pseudo.FormRaw)
	}
	d := device{typ: t}
	why := pseudo.ReasonOK
	for i, a := range tries[:n] {
		c, r := pseudo.Canonicalize(a.t, a.f, v)
		if i == 0 && f == 0 && a.f == pseudo.FormMD5 && r == pseudo.ReasonPlaceholder {
			// The MD5 of a placeholder (md5("__OAID__")...) names no
			// device, even where the same text also parses as a raw id.
			return device{}, idError(t, f, r)
		}
		if r != pseudo.ReasonOK {
			// Report why the first reading, the one the caller most
			// likely meant, failed.
			if why == pseudo.ReasonOK {
				why = r
			}
			continue
		}
		p := ps.Pseudonym(a.t, c)
		if !containsPseudonym(d.ps, p) {
			d.ps = append(d.ps, p)
		}
	}
	if len(d.ps) > 0 {
		return d, nil
	}
	return device{}, idError(t, f, why)
}

// idError explains why no reading of an identifier was usable, without
// repeating it.
func idError(t admeter.IDType, f pseudo.Form, r pseudo.Reason) *inputError {
	info := typeInfos[t]
	e := &inputError{typ: t, form: f}
	switch r {
	case pseudo.ReasonEmpty:
		e.prob, e.msg = probEmpty, "id is required: it is empty or a word such as null or unknown"
	case pseudo.ReasonPlaceholder:
		e.prob, e.msg = probPlaceholder, "the "+info.name+" is a placeholder (all zeros, an unreplaced macro such as __IDFA__, or the MD5 of one) and names no device"
	default:
		e.prob = probMalformed
		switch f {
		case pseudo.FormMD5:
			e.msg = "the id is not an MD5: expected 32 hex digits"
		case pseudo.FormRaw:
			e.msg = "the id is not a valid " + info.name + ": expected " + info.enRaw
		default:
			if t == admeter.IDCAID { // a CAID is its own canonical form
				e.msg = "the id is not a valid CAID: expected " + info.enRaw
				break
			}
			e.msg = "the id is not a valid " + info.name + ": expected " + info.enRaw + ", or its MD5 as 32 hex digits"
		}
	}
	return e
}

// looksMD5 reports whether v is 32 hex digits.
func looksMD5(v string) bool {
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F') {
			return false
		}
	}
	return true
}

func containsPseudonym(ps []admeter.Pseudonym, p admeter.Pseudonym) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// parseDevice turns the three request fields into a device.
func parseDevice(ps *pseudo.Pseudonymizer, typ, id, form string) (device, *inputError) {
	t, err := parseIDType(typ)
	if err != nil {
		return device{}, err
	}
	f, err := parseForm(form)
	if err != nil {
		return device{}, err
	}
	return resolve(ps, t, f, id)
}

// Messages of decodeIDRequest: fixed sentences, so that they can never
// repeat a value from the body, where a caller may have put the identifier
// anywhere.
const (
	msgEmptyBody    = `the request body is empty; send a JSON object such as {"id_type":"idfa","id":"…"}`
	msgNotJSON      = `the request body is not valid JSON; send an object such as {"id_type":"idfa","id":"…"}`
	msgIncomplete   = "the request body is not complete JSON"
	msgTwoValues    = "the request body holds more than one JSON value; send one object"
	msgUnknownField = `the request body has a field admeter does not know; the fields are "id_type", "id" and "form"`
	msgNotObject    = `the request body must be a JSON object with the string fields "id_type", "id" and optionally "form"`
)

// msgNotString says that a field of idRequest is not a string.
var msgNotString = map[string]string{
	"id_type": "the field id_type must be a string",
	"id":      "the field id must be a string",
	"form":    "the field form must be a string",
}

// decodeIDRequest reads one JSON object with the fields of idRequest.
func decodeIDRequest(body []byte) (idRequest, *inputError) {
	var req idRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, &inputError{prob: probBody, msg: msgEmptyBody}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return idRequest{}, &inputError{prob: probBody, msg: jsonProblem(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return idRequest{}, &inputError{prob: probBody, msg: msgTwoValues}
	}
	return req, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return msgNotJSON
	case errors.As(err, &typ):
		if m, ok := msgNotString[typ.Field]; ok {
			return m
		}
		return msgNotObject
	case errors.Is(err, io.ErrUnexpectedEOF):
		return msgIncomplete
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return msgUnknownField
	}
	return msgNotObject
}
