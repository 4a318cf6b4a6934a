package admeter

import "strings"

// IVT is an event's invalid-traffic verdict: zero for valid traffic, else a
// set of reasons. Invalid events are flagged, never dropped, so gross and
// net figures reconcile (MRC; MMA China 2017; T/CAAAD 002-2020).
type IVT uint32

// General invalid traffic: rule-based, decided when the event arrives.
const (
	// IVTCrawler: the user agent is a known crawler, bot or non-browser
	// client on a channel where a browser is expected.
	IVTCrawler IVT = 1 << iota
	// IVTDataCentre: the client address is in an operator-listed
	// data-centre or hosting range.
	IVTDataCentre
	// IVTMissingID: no usable identifier where the channel must send one.
	IVTMissingID
	// IVTBadID: a placeholder or malformed identifier (bad IMEI check digit,
	// non-UUID IDFA, non-hex MD5, an all-zero id).
	IVTBadID
	// IVTPlatformMismatch: the identifiers or user agent contradict the
	// platform (an IDFA with mo=0, an OAID or IMEI with mo=1, a UA OS that
	// disagrees).
	IVTPlatformMismatch
	// IVTRiskyDevice: the SDK reports root, an emulator, a hook framework
	// or ADB (svl).
	IVTRiskyDevice
	// IVTTimeWindow: the client's event time is outside the accepted
	// window.
	IVTTimeWindow
	// IVTUnreplacedMacro: the media left macros unreplaced, the event time
	// included, so the request was not sent by a real ad call.
	IVTUnreplacedMacro

	// Sophisticated invalid traffic: behavioural, decided over windows of
	// stored events by a periodic job, which may revise it as late events
	// arrive.

	// IVTFrequency: a device (or a network) made more events on one
	// placement within a sliding window than a person can.
	IVTFrequency
	// IVTOrphanClick: a click from a device with no impression of the same
	// placement shortly before it.
	IVTOrphanClick
	// IVTFastClick: a click sooner after the device's impression than a
	// person can click.
	IVTFastClick
	// IVTAbnormalCTR: the clicks of a device (or a network) whose
	// click-through rate on a campaign in a day is far above any human's.
	IVTAbnormalCTR
	// IVTNetworkHopping: a device seen on too many networks or regions
	// within minutes (proxies, emulator farms, spoofed ids).
	IVTNetworkHopping
	// IVTConcentration: one device or network holding an outsized share
	// of a placement's impressions in a day.
	IVTConcentration
	numIVT
)

// GeneralIVT is the set of general (rule-based, at arrival) reasons;
// SophisticatedIVT the set of behavioural ones.
const (
	GeneralIVT       = IVTFrequency - 1
	SophisticatedIVT = (numIVT - 1) &^ GeneralIVT
)

// ivtNames are the reason codes in APIs, metrics and reports.
var ivtNames = [...]string{"crawler_ua", "datacentre_ip", "missing_id", "bad_id", "platform_mismatch", "risky_device", "time_window", "unreplaced_macro",
	"excessive_frequency", "click_without_impression", "fast_click", "abnormal_ctr", "network_hopping", "concentrated_traffic"}

// IVTReasons lists every reason, in bit order.
func IVTReasons() []IVT {
	out := make([]IVT, 0, len(ivtNames))
	for i := range ivtNames {
		out = append(out, IVT(1)<<i)
	}
	return out
}

// Valid reports whether the verdict is "valid traffic".
func (v IVT) Valid() bool { return v == 0 }

// String lists the reason codes, joined by "+", or "valid".
func (v IVT) String() string {
	if v == 0 {
		return "valid"
	}
	var parts []string
	for i, n := range ivtNames {
		if v&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := v &^ (numIVT - 1); rest != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "+")
}

// ParseIVT returns the reason named name (one code, as in String).
func ParseIVT(name string) (IVT, bool) {
	for i, n := range ivtNames {
		if n == name {
			return IVT(1) << i, true
		}
	}
	return 0, false
}
