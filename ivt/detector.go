package ivt

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// Config holds the operator's settings for the rules. Use DefaultConfig and
// change what you need.
type Config struct {
	// AllowUA are user-agent substrings that are never flagged as crawlers or
	// non-browser clients, matched without regard to case: the operator's own
	// uptime probes, or a partner's server that cannot change its client.
	// Each must be at least 4 bytes long, so that one short entry cannot
	// exempt most traffic.
	AllowUA []string
	// DataCentres are the operator's hosting and cloud ranges (see
	// LoadCIDRFile). Replace them later with SetDataCentres or Reload.
	DataCentres []netip.Prefix
	// RequireID lists the operating systems whose app events must carry a
	// usable device identifier. DefaultConfig requires one from Android
	// only: see the package documentation.
	RequireID []admeter.OS
}

// DefaultConfig returns the settings admeter runs with unless told
// otherwise: no allow-list, no data-centre ranges, and an identifier
// required from Android apps.
func DefaultConfig() Config {
	return Config{RequireID: []admeter.OS{admeter.OSAndroid}}
}

// minAllowLen is the shortest AllowUA entry accepted.
const minAllowLen = 4

// Detector applies the general-invalid-traffic rules to one event at a time.
// It is safe for concurrent use; its data-centre ranges can be replaced while
// it runs.
type Detector struct {
	m         *matcher
	classes   classCache
	allow     []string // lowercased
	requireID uint32   // bit o: admeter.OS o must send an identifier
	dc        atomic.Pointer[prefixSet]
}

// New returns a Detector for cfg. It fails on an empty or too short AllowUA
// entry, an invalid prefix or an unknown OS.
func New(cfg Config) (*Detector, error) {
	m, err := crawlers()
	if err != nil {
		return nil, fmt.Errorf("new ivt detector: %w", err)
	}
	d := &Detector{m: m, classes: newClassCache()}
	var errs []error
	for i, a := range cfg.AllowUA {
		a = strings.TrimSpace(a)
		if len(a) < minAllowLen {
			errs = append(errs, fmt.Errorf("allow_ua[%d] %q is shorter than %d bytes: it would exempt too much traffic; give a longer part of the user agent", i, a, minAllowLen))
			continue
		}
		d.allow = append(d.allow, strings.ToLower(a))
	}
	for _, o := range cfg.RequireID {
		if o == admeter.OSUnknown || o.String() == "unknown" || o >= 32 {
			errs = append(errs, fmt.Errorf("require_id: %d is not a known operating system", o))
			continue
		}
		d.requireID |= 1 << o
	}
	set, err := newPrefixSet(cfg.DataCentres)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new ivt detector: %w", err)
	}
	d.dc.Store(set)
	return d, nil
}

// SetDataCentres replaces the data-centre ranges. Events checked after it
// returns see the new ranges; a Check already running finishes with the old
// ones.
func (d *Detector) SetDataCentres(prefixes []netip.Prefix) error {
	set, err := newPrefixSet(prefixes)
	if err != nil {
		return fmt.Errorf("set data centres: %w", err)
	}
	d.dc.Store(set)
	return nil
}

// Reload reads the data-centre ranges from the file at path (see
// LoadCIDRFile) and swaps them in at once. On error the ranges in use stay
// as they were. It returns the number of prefixes read.
func (d *Detector) Reload(path string) (int, error) {
	prefixes, err := LoadCIDRFile(path)
	if err != nil {
		return 0, err
	}
	if err := d.SetDataCentres(prefixes); err != nil {
		return 0, err
	}
	return len(prefixes), nil
}

// Channel is how an event reached the collector. It says whose user agent
// and address the request carries, and so which rules apply.
type Channel uint8

// Channels. The zero Channel applies only the rules that hold everywhere.
const (
	ChannelUnknown Channel = iota
	// ChannelWeb: a monitoring URL that the client loaded itself with no
	// device identifier and no relayed address (ns): a tag in a web page or
	// WebView. The user agent and the address are the end user's, and a
	// browser is expected.
	ChannelWeb
	// ChannelApp: a monitoring URL that the client loaded itself with
	// device identifiers: an app or the ad SDK in it. The user agent is the
	// app's (a WebView, Dalvik, CFNetwork, okhttp...).
	ChannelApp
	// ChannelRelay: a monitoring URL with a relayed device address (ns),
	// called by a media server or an SDK on the device's behalf. The user
	// agent may be the server's HTTP client.
	ChannelRelay
	// ChannelBatch: the batch API. The ua and ip fields, when sent, are the
	// device's.
	ChannelBatch
)

// app reports whether events on c come from apps (or servers speaking for
// them) rather than from web pages.
func (c Channel) app() bool { return c >= ChannelApp }

// deviceUA reports whether the user agent on c is the device's own.
func (c Channel) deviceUA() bool {
	return c == ChannelWeb || c == ChannelApp || c == ChannelBatch
}

// Hit is what the collector knows about one event, as the rules need it. It
// holds no raw value: the raw user agent and address are arguments of
// Check, and identifiers are reduced by AddID to what they say. Fill one per
// event; the zero Hit is an event with nothing known.
type Hit struct {
	// Channel is how the event arrived.
	Channel Channel
	// UA is the parsed user agent (useragent.Parser.Parse of the string
	// passed to Check).
	UA useragent.Info
	// DeclaredOS is the operating system the client or the media declared
	// (Miaozhen mo, the batch API's os), or OSUnknown when absent.
	DeclaredOS admeter.OS
	// Risk holds the SDK's device-risk flags (Miaozhen svl).
	Risk admeter.Risk
	// TimeOutOfWindow: the client sent an event time and it was outside the
	// collector's window (collect.Config MaxPast and MaxFuture), so the
	// receive time was used. A missing time is not out of the window.
	TimeOutOfWindow bool
	// TimeMacro: the event-time parameter (mt, the batch API's ts) arrived
	// as a media macro that was never replaced (__TS__, {{TS}}...).
	TimeMacro bool

	usable    uint32 // bit t: a usable identifier of admeter.IDType t
	bad       bool   // a malformed identifier
	sentinels bool   // a placeholder identifier
}

// AddID records one identifier the event carried: its type, the form it
// arrived in, its raw value and the reason pseudo.Canonicalize (or
// pseudo.IDSet.Add) gave for it. Only what the value says is kept, never the
// value. Call it for every non-empty value that arrived, placeholders and
// malformed ones included, not only those an IDSet keeps. AddID checks what
// Canonicalize does not: the Luhn check digit of a 15-digit raw IMEI.
func (h *Hit) AddID(t admeter.IDType, f pseudo.Form, value string, r pseudo.Reason) {
	switch r {
	case pseudo.ReasonOK:
		if t == admeter.IDIMEI && f == pseudo.FormRaw && !imeiCheckDigitOK(strings.TrimSpace(value)) {
			h.bad = true
			return
		}
		if t < 32 {
			h.usable |= 1 << t
		}
	case pseudo.ReasonPlaceholder:
		h.sentinels = true
	case pseudo.ReasonMalformed:
		h.bad = true
	}
}

// imeiCheckDigitOK reports whether v, if it is a 15-digit IMEI, ends in its
// Luhn check digit. Other lengths (14-digit MEIDs and IMEIs without the check
// digit, 16-digit IMEISVs) and hex MEIDs have no Luhn digit and pass.
func imeiCheckDigitOK(v string) bool {
	if len(v) != 15 {
		return true
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return true // a hex MEID
		}
		n := int(c - '0')
		if i%2 == 1 { // every second digit from the left, the check digit at 14 excluded
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// Identifier types of one platform.
const (
	appleIDs   = 1<<admeter.IDIDFA | 1<<admeter.IDIDFV | 1<<admeter.IDCAID
	androidIDs = 1<<admeter.IDOAID | 1<<admeter.IDIMEI | 1<<admeter.IDAndroidID | 1<<admeter.IDAAID
)

// family groups operating systems that one device can truthfully report in
// different ways.
type family uint8

const (
	familyNone    family = iota // unknown or "other": not compared
	familyAndroid               // Android, HarmonyOS, Linux (Android Chrome's desktop mode), ChromeOS
	familyApple                 // iOS, macOS (iPadOS Safari asks for desktop sites as a Mac)
	familyWindows               // Windows, Windows Phone
)

func familyOf(o admeter.OS) family {
	switch o {
	case admeter.OSAndroid, admeter.OSHarmonyOS, admeter.OSLinux, admeter.OSChromeOS:
		return familyAndroid
	case admeter.OSIOS, admeter.OSMacOS:
		return familyApple
	case admeter.OSWindows, admeter.OSWindowsPhone:
		return familyWindows
	}
	return familyNone
}

// Check returns the event's general-invalid-traffic verdict: zero for valid
// traffic, else every reason that applies. ua is the user agent as it
// arrived (the request header, or the batch API's ua field), ip the end
// user's address (the relayed ns one when present); either may be empty.
// Neither is kept. Check does not allocate.
func (d *Detector) Check(h *Hit, ua string, ip netip.Addr) admeter.IVT {
	var v admeter.IVT
	if d.crawler(h, ua) {
		v |= admeter.IVTCrawler
	}
	if ip.IsValid() && d.dc.Load().contains(ip) {
		v |= admeter.IVTDataCentre
	}
	// An app's own HTTP stack on the web channel is an app that sent no
	// identifier at all.
	fromApp := h.Channel.app() || h.Channel == ChannelWeb && appStack(h.UA.Browser)
	if fromApp && h.usable == 0 && d.requireID&(1<<d.osOf(h)) != 0 {
		v |= admeter.IVTMissingID
	}
	if h.bad || h.sentinels && h.usable == 0 {
		v |= admeter.IVTBadID
	}
	if mismatch(h) {
		v |= admeter.IVTPlatformMismatch
	}
	if h.Risk != 0 {
		v |= admeter.IVTRiskyDevice
	}
	if h.TimeOutOfWindow {
		v |= admeter.IVTTimeWindow
	}
	if h.TimeMacro {
		v |= admeter.IVTUnreplacedMacro
	}
	return v
}

// osOf returns the event's operating system: the declared one, else the
// user agent's when the user agent is the device's.
func (d *Detector) osOf(h *Hit) admeter.OS {
	o := h.DeclaredOS
	if o == admeter.OSUnknown && h.Channel.deviceUA() {
		o = h.UA.OS
	}
	if o >= 32 {
		return admeter.OSUnknown
	}
	return o
}

// mismatch reports whether the identifiers or the user agent contradict the
// declared platform, or each other.
func mismatch(h *Hit) bool {
	if h.usable&appleIDs != 0 && h.usable&androidIDs != 0 {
		return true // no device has both
	}
	declared := familyOf(h.DeclaredOS)
	switch {
	case declared == familyNone:
		return false
	case declared != familyApple && h.usable&appleIDs != 0:
		return true
	case declared != familyAndroid && h.usable&androidIDs != 0:
		return true
	}
	if !h.Channel.deviceUA() {
		return false
	}
	ua := familyOf(h.UA.OS)
	return ua != familyNone && ua != declared
}

// appStacks are the HTTP stacks of native apps (useragent.Info.Browser).
// Ad SDKs send their calls with them; an app's own name comes first in
// some of them ("Viber/20.1 CFNetwork/…"), so the crawler list is not
// searched in them.
func appStack(browser string) bool {
	switch browser {
	case "Dalvik", "CFNetwork", "okhttp", "Dart":
		return true
	}
	return false
}

// crawler applies the crawler rule.
func (d *Detector) crawler(h *Hit, ua string) bool {
	flagged := false
	switch {
	case h.UA.DeviceType == admeter.DeviceBot:
		flagged = true
	case appStack(h.UA.Browser):
		return false
	case h.Channel == ChannelWeb && (ua == "" || h.UA.NonBrowser()):
		flagged = true
	default:
		c := d.classes.get(ua, d.m.match)
		flagged = c == uaCrawler || c == uaLibrary && h.Channel == ChannelWeb
	}
	return flagged && !d.allowed(ua)
}

// allowed reports whether ua contains an AllowUA entry, without regard to
// case.
func (d *Detector) allowed(ua string) bool {
	for _, a := range d.allow {
		if containsFold(ua, a) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains sub, which is lowercase, with
// ASCII letters matched without regard to case.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
