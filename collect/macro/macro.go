package macro

import (
	"log/slog"
	"strings"

	"github.com/admeter/admeter"
)

// Limits on the input, in bytes.
const (
	// MaxTargetLen is the longest request target accepted. Longer targets
	// are refused with ErrTooLong; real monitoring URLs stay under 4 KiB.
	MaxTargetLen = 16 << 10
	// MaxValueLen is the longest raw (still encoded) parameter value kept.
	// A longer value is dropped, not truncated: a truncated identifier or
	// JSON object would be wrong rather than short. The redirect (o) is
	// bounded by MaxTargetLen only.
	MaxValueLen = 2 << 10
)

// Parse errors. They are *admeter.Error values: compare them with errors.Is,
// and admeter.ErrorCode gives EINVALID or ETOOLARGE.
var (
	// ErrNotMonitoringURL: the path is not /x or /r (with their variants).
	ErrNotMonitoringURL = &admeter.Error{Code: admeter.EINVALID, Message: "The URL is not a monitoring URL: the path must start with /x or /r."}
	// ErrNoCampaign: the URL has no usable campaign (k).
	ErrNoCampaign = &admeter.Error{Code: admeter.EINVALID, Message: "The monitoring URL has no campaign (k=)."}
	// ErrNoPlacement: the URL has no usable placement (p).
	ErrNoPlacement = &admeter.Error{Code: admeter.EINVALID, Message: "The monitoring URL has no placement (p=)."}
	// ErrTooLong: the target is longer than MaxTargetLen.
	ErrTooLong = &admeter.Error{Code: admeter.ETOOLARGE, Message: "The monitoring URL is longer than 16 KiB."}
)

// Endpoint is the kind of monitoring URL a request target names.
type Endpoint uint8

// Endpoints.
const (
	EndpointUnknown    Endpoint = iota
	EndpointImpression          // /x/, /x?, /x, /x.gif
	EndpointClick               // /r/, /r?, /r, /r.gif
)

// String returns "impression", "click" or "unknown".
func (e Endpoint) String() string {
	switch e {
	case EndpointImpression:
		return "impression"
	case EndpointClick:
		return "click"
	}
	return "unknown"
}

// Params are the parameters of a monitoring URL that admeter uses. Each
// field holds the decoded value of the Miaozhen parameter named in its
// comment, or "" when the parameter is absent (see the package
// documentation). Apart from O, values are not validated: use the Parse*
// helpers and the pseudo package for that.
//
// Params holds raw identifiers: keep it in memory, and never store it. Its
// String, GoString and LogValue methods redact every value but K and P.
type Params struct {
	K string // k: campaign id
	P string // p: placement id

	MO string // mo: OS, 0 Android / 1 iOS / 2 Windows Phone / 3 other (see ParseOS)
	MT string // mt: event time, Unix seconds or milliseconds (see ParseTime)
	NS string // ns: client IP as the media saw it (raw)

	M2   string // m2: md5 of the IMEI
	M3   string // m3: raw IMEI
	M1   string // m1: raw Android ID
	M1A  string // m1a: md5 of the Android ID
	M5   string // m5: raw IDFA
	M5A  string // m5a: raw IDFV
	M11  string // m11: raw OAID
	M11A string // m11a: md5 of the OAID
	M4   string // m4: Google advertising id (raw or md5)
	M6   string // m6: md5 of the uppercase MAC with colons
	M6A  string // m6a: md5 of the uppercase MAC without colons
	M0   string // m0: OpenUDID
	M14  string // m14: CAID

	MN string // mn: app name
	MP string // mp: app package or bundle id
	MD string // md: device model
	ME string // me: OS version
	MW string // mw: network, 0 cellular / 1 Wi-Fi / 2 none (see ParseNetwork)
	MM string // mm: location, "lat x lon x accuracy" (see ParseLocation; precise, raw)

	TR  string // tr: media request id
	VF  string // vf: impression id
	BR  string // br: begin-to-render flag, 0 = served but not rendered (see ParseRender)
	VX  string // vx: viewability result, 0 start / 1 viewable / 2 unmeasurable / 4 not viewable (see admeter.ParseVX)
	SVL string // svl: SDK device-risk JSON (see ParseRisk)

	// Viewability and video (MMA China SDK; see ParseViewArea and the
	// other helpers).
	VH string // vh: viewable area threshold, percent of the ad's pixels
	VI string // vi: viewable time threshold, seconds
	VK string // vk: 1 = a strong interaction (a click) during monitoring, which makes the ad viewable
	VB string // vb: video length, seconds (decimals allowed)
	VC string // vc: video progress point, 0 / 25 / 50 / 75 / 100 (see admeter.ParseVC)
	VG string // vg: video play type, 0 unknown / 1 auto / 2 manual
	VJ string // vj: video quartiles reached, a 4-character 0/1 mask (see admeter.ParseVJ)

	// Signed reports that the URL carried an SDK signature (mf). The
	// signature itself is opaque and is not kept.
	Signed bool

	// TimeMacro reports that the event time (mt) arrived as a macro the
	// media never replaced (__TS__...): a sign that no real ad call filled
	// the URL. MT is then empty.
	TimeMacro bool

	// O is the click redirect (o), verbatim: not decoded, possibly itself
	// URL-encoded (see DecodeRedirect). It is "" when absent or an
	// unreplaced macro.
	O string
}

// ParseTarget parses a request target (the request URI: path and query,
// or an absolute URL) of a monitoring request. It recognises /x/, /x?, /x,
// /x.gif as impressions and /r/, /r?, /r, /r.gif as clicks.
//
// It returns ErrTooLong for a target longer than MaxTargetLen and
// ErrNotMonitoringURL for any other path, with EndpointUnknown and zero
// Params. A target without k or p gives ErrNoCampaign or ErrNoPlacement
// together with the endpoint and the Params parsed so far.
func ParseTarget(requestURI string) (Endpoint, Params, error) {
	var p Params
	if len(requestURI) > MaxTargetLen {
		return EndpointUnknown, p, ErrTooLong
	}
	s := requestURI
	if hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://") {
		i := strings.IndexByte(s, ':') + 3
		j := strings.IndexByte(s[i:], '/')
		if j < 0 {
			return EndpointUnknown, p, ErrNotMonitoringURL
		}
		s = s[i+j:]
	}
	if len(s) < 2 || s[0] != '/' {
		return EndpointUnknown, p, ErrNotMonitoringURL
	}
	var ep Endpoint
	switch s[1] {
	case 'x':
		ep = EndpointImpression
	case 'r':
		ep = EndpointClick
	default:
		return EndpointUnknown, p, ErrNotMonitoringURL
	}
	rest := strings.TrimPrefix(s[2:], ".gif")
	switch {
	case rest == "":
	case rest[0] == '/':
		p.parse(rest[1:], false)
	case rest[0] == '?':
		p.parse(rest[1:], true)
	default:
		return EndpointUnknown, Params{}, ErrNotMonitoringURL
	}
	return ep, p, p.check()
}

// Parse parses the parameters of a monitoring URL: target is what follows
// the endpoint prefix (/x/, /x?, /r/, /r?, /r.gif? ...). It is read as the
// path form, where a first '?' outside o= starts a query string whose
// parameters are merged in. Errors are as for ParseTarget, without
// ErrNotMonitoringURL.
func Parse(target string) (Params, error) {
	var p Params
	if len(target) > MaxTargetLen {
		return p, ErrTooLong
	}
	p.parse(target, false)
	return p, p.check()
}

func (p *Params) check() error {
	if p.K == "" {
		return ErrNoCampaign
	}
	if p.P == "" {
		return ErrNoPlacement
	}
	return nil
}

// parse reads the parameters in s. In the path form (query false) the first
// '?' ends the path parameters and starts the query parameters.
func (p *Params) parse(s string, query bool) {
	end := len(s)
	if !query {
		if q := strings.IndexByte(s, '?'); q >= 0 {
			end = q
		}
	}
	if p.scan(s, 0, end) || end == len(s) {
		return
	}
	p.scan(s, end+1, len(s))
}

// scan reads the parameters in s[start:end]. The separator is '^' when the
// part begins with one (the legacy form) and '&' otherwise. It reports
// whether it met o=, whose value runs to the end of s, not of the part.
func (p *Params) scan(s string, start, end int) bool {
	sep := byte('&')
	if start < end && s[start] == '^' {
		sep = '^'
	}
	for i := start; i < end; {
		j := strings.IndexByte(s[i:end], sep)
		if j < 0 {
			j = end
		} else {
			j += i
		}
		// Keys are short: a plain loop beats IndexByte's call.
		eq := i
		for eq < j && s[eq] != '=' {
			eq++
		}
		if eq > i && eq < j {
			key := s[i:eq]
			if key == "o" {
				o := s[eq+1:]
				if !IsUnreplacedMacro(o) {
					p.O = o
				}
				return true
			}
			p.set(key, s[eq+1:j])
		}
		i = j + 1
	}
	return false
}

// set stores the value raw under key, unless the field already has a value
// or the value is absent.
func (p *Params) set(key, raw string) {
	if key == "mf" {
		// Only presence counts, so the value is never decoded.
		p.Signed = p.Signed || raw != "" && len(raw) <= MaxValueLen && !IsUnreplacedMacro(raw)
		return
	}
	f := p.field(key)
	if f == nil || *f != "" {
		return
	}
	if v, ok := value(raw); ok {
		*f = v
	} else if key == "mt" && raw != "" && len(raw) <= MaxValueLen {
		p.TimeMacro = true
	}
}

// field returns the field that holds key, or nil for a key that is not kept.
func (p *Params) field(key string) *string {
	switch key {
	case "k":
		return &p.K
	case "p":
		return &p.P
	case "mo":
		return &p.MO
	case "mt":
		return &p.MT
	case "ns":
		return &p.NS
	case "m2":
		return &p.M2
	case "m3":
		return &p.M3
	case "m1":
		return &p.M1
	case "m1a":
		return &p.M1A
	case "m5":
		return &p.M5
	case "m5a":
		return &p.M5A
	case "m11":
		return &p.M11
	case "m11a":
		return &p.M11A
	case "m4":
		return &p.M4
	case "m6":
		return &p.M6
	case "m6a":
		return &p.M6A
	case "m0":
		return &p.M0
	case "m14":
		return &p.M14
	case "mn":
		return &p.MN
	case "mp":
		return &p.MP
	case "md":
		return &p.MD
	case "me":
		return &p.ME
	case "mw":
		return &p.MW
	case "mm":
		return &p.MM
	case "tr":
		return &p.TR
	case "vf":
		return &p.VF
	case "br":
		return &p.BR
	case "vx":
		return &p.VX
	case "svl":
		return &p.SVL
	case "vh":
		return &p.VH
	case "vi":
		return &p.VI
	case "vk":
		return &p.VK
	case "vb":
		return &p.VB
	case "vc":
		return &p.VC
	case "vg":
		return &p.VG
	case "vj":
		return &p.VJ
	}
	return nil
}

// value decodes one raw parameter value. It reports false for a value that
// is absent: empty, longer than MaxValueLen, or an unreplaced macro before
// or after decoding.
func value(raw string) (string, bool) {
	if raw == "" || len(raw) > MaxValueLen || isMacroForm(raw) {
		return "", false
	}
	if strings.IndexByte(raw, '%') < 0 && strings.IndexByte(raw, '+') < 0 {
		return raw, true
	}
	// Decode on the stack, so that a macro costs no allocation; string()
	// makes the one allocation of a kept value.
	var stack [256]byte
	b, ok := appendUnescape(stack[:0], raw, true)
	if !ok {
		return raw, true
	}
	if isMacro(b, 1) {
		return "", false
	}
	return string(b), true
}

// present lists the names of the fields that hold a value, K and P aside.
func (p *Params) present() []string {
	fields := [...]struct {
		name string
		v    string
	}{
		{"mo", p.MO}, {"mt", p.MT}, {"ns", p.NS},
		{"m2", p.M2}, {"m3", p.M3}, {"m1", p.M1}, {"m1a", p.M1A}, {"m5", p.M5}, {"m5a", p.M5A},
		{"m11", p.M11}, {"m11a", p.M11A}, {"m4", p.M4}, {"m6", p.M6}, {"m6a", p.M6A}, {"m0", p.M0}, {"m14", p.M14},
		{"mn", p.MN}, {"mp", p.MP}, {"md", p.MD}, {"me", p.ME}, {"mw", p.MW}, {"mm", p.MM},
		{"tr", p.TR}, {"vf", p.VF}, {"br", p.BR}, {"vx", p.VX}, {"svl", p.SVL},
		{"vh", p.VH}, {"vi", p.VI}, {"vk", p.VK}, {"vb", p.VB}, {"vc", p.VC}, {"vg", p.VG}, {"vj", p.VJ}, {"o", p.O},
	}
	var names []string
	for _, f := range fields {
		if f.v != "" {
			names = append(names, f.name)
		}
	}
	if p.Signed {
		names = append(names, "mf")
	}
	return names
}

// String returns the campaign, the placement and the names of the other
// parameters present, never their values: "k=2299094 p=8AGuD present=mo,m2,mt".
func (p Params) String() string {
	return "k=" + p.K + " p=" + p.P + " present=" + strings.Join(p.present(), ",")
}

// GoString returns the same redacted text as String, for the %#v verb.
func (p Params) GoString() string { return "macro.Params{" + p.String() + "}" }

// LogValue implements slog.LogValuer with the same redacted content as
// String.
func (p Params) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("k", p.K),
		slog.String("p", p.P),
		slog.String("present", strings.Join(p.present(), ",")),
	)
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case;
// prefix must be lowercase.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
