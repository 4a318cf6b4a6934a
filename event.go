package admeter

import (
	"time"
)

// Kind is what happened: an ad was served, rendered (an impression) or
// clicked.
type Kind uint8

// Event kinds.
const (
	KindUnknown Kind = iota
	// KindImpression is a rendered ad (Miaozhen br absent or 1).
	KindImpression
	// KindClick is a click on an ad.
	KindClick
	// KindServed is an ad that was served but not rendered (Miaozhen br=0,
	// the MMA SDK's "tracked ad" ping). It is kept for diagnostics and is
	// never counted as an impression.
	KindServed
	// KindViewability is a viewability result (Miaozhen vx 1, 2 or 4) for
	// the impression whose id (vf) it carries in ImpressionID. It is never
	// counted as an impression.
	KindViewability
	// KindVideo is a video progress ping (Miaozhen vc): the play of the
	// impression it names in ImpressionID (when it names one) reached
	// VideoProgress. It is never counted as an impression.
	KindVideo
	// KindConversion is a conversion reported by the advertiser's server
	// (POST /api/v1/conversions), deduplicated by ConversionID.
	KindConversion
	numKinds
)

var kindNames = [...]string{"unknown", "impression", "click", "served", "viewability", "video", "conversion"}

// String returns the lowercase name used in APIs and metrics.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Valid reports whether k is a defined kind other than KindUnknown.
func (k Kind) Valid() bool { return k > KindUnknown && k < numKinds }

// ParseKind returns the Kind named s (as printed by String).
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s && i != int(KindUnknown) {
			return Kind(i), true
		}
	}
	return KindUnknown, false
}

// OS is the operating system of the device that showed the ad.
type OS uint8

// Operating systems. The first four follow the Miaozhen mo codes plus one.
const (
	OSUnknown OS = iota
	OSAndroid
	OSIOS
	OSWindowsPhone
	OSOther
	OSWindows
	OSMacOS
	OSLinux
	OSHarmonyOS
	OSChromeOS
	numOS
)

var osNames = [...]string{"unknown", "android", "ios", "windows_phone", "other", "windows", "macos", "linux", "harmonyos", "chromeos"}

// String returns the lowercase name used in APIs and reports.
func (o OS) String() string {
	if int(o) < len(osNames) {
		return osNames[o]
	}
	return "unknown"
}

// ParseOS returns the OS named s (as printed by String).
func ParseOS(s string) (OS, bool) {
	for i, n := range osNames {
		if n == s {
			return OS(i), true
		}
	}
	return OSUnknown, false
}

// DeviceType is the form factor of the device.
type DeviceType uint8

// Device types.
const (
	DeviceUnknown DeviceType = iota
	DevicePhone
	DeviceTablet
	DeviceDesktop
	DeviceTV
	DeviceBot
	numDeviceTypes
)

var deviceNames = [...]string{"unknown", "phone", "tablet", "desktop", "tv", "bot"}

// String returns the lowercase name used in APIs and reports.
func (d DeviceType) String() string {
	if int(d) < len(deviceNames) {
		return deviceNames[d]
	}
	return "unknown"
}

// ParseDeviceType returns the DeviceType named s (as printed by String).
func ParseDeviceType(s string) (DeviceType, bool) {
	for i, n := range deviceNames {
		if n == s {
			return DeviceType(i), true
		}
	}
	return DeviceUnknown, false
}

// Network is the device's connection type (Miaozhen mw).
type Network uint8

// Network types.
const (
	NetworkUnknown Network = iota
	NetworkCellular
	NetworkWiFi
	NetworkNone
)

// Flags record facts about how an event was received.
type Flags uint16

// Event flags.
const (
	// FlagTimeCorrected: the client's event time was missing, more than 7 days
	// old or more than 5 minutes ahead, so the receive time was used.
	FlagTimeCorrected Flags = 1 << iota
	// FlagSigned: the request carried an SDK signature (Miaozhen mf).
	FlagSigned
	// FlagBatch: the event came through the batch API rather than a pixel.
	FlagBatch
	// FlagCookieIssued: the user key is a cookie id issued by this response
	// (the browser had none).
	FlagCookieIssued
)

// Risk holds the device-risk flags reported by the MMA SDK (Miaozhen svl).
type Risk uint8

// Risk flags.
const (
	RiskRoot Risk = 1 << iota
	RiskEmulator
	RiskHook
	RiskADB
)

// Event is one de-identified ad event, as it is logged and stored. It holds no
// raw identifier, address, user agent or precise location (see the package
// documentation).
type Event struct {
	Kind      Kind
	Tenant    TenantID
	Campaign  CampaignID
	Placement PlacementID

	// At is when the event happened (UTC): the client's time when plausible,
	// otherwise Received (and Flags has FlagTimeCorrected).
	At time.Time
	// Received is when the collector received the event (UTC).
	Received time.Time
	Flags    Flags

	// User is the pseudonym of the highest-priority identifier present, or
	// zero when the event carried none. UserType says which identifier it was.
	User     Pseudonym
	UserType IDType
	// KeyVersion is the version of the pseudonymisation key that made User
	// and ImpressionID.
	KeyVersion uint32
	// ImpressionID is the pseudonym of the client's impression id (Miaozhen
	// vf), used to count a retried impression once per placement. Zero when
	// absent.
	ImpressionID Pseudonym

	// Device and software.
	OS         OS
	OSVersion  string
	DeviceType DeviceType
	Browser    string
	Model      string
	Network    Network
	// App and AppPackage are the app name (mn) and package or bundle id (mp).
	App        string
	AppPackage string

	// Place.
	Net    NetBlock
	Region Region
	Area   Area

	Risk Risk

	// IVT is the invalid-traffic verdict: zero for valid traffic.
	IVT IVT

	// Viewability and video (see view.go). View is the viewability state
	// the ping reported: ViewStarted on an impression whose measurement
	// began, a result on a KindViewability event. ViewArea and ViewSeconds
	// are the thresholds the measurement used when they were not the MMA
	// standard's (Miaozhen vh, vi; zero for the standard).
	View        ViewResult
	ViewArea    uint8
	ViewSeconds uint8
	// VideoDuration is the video ad's length (Miaozhen vb, to the
	// millisecond), zero when not a video or not reported; VideoPlay how
	// the play started (vg); VideoProgress the point a KindVideo ping
	// reports (vc); VideoQuartiles the quartiles a ping says the play has
	// reached (vj).
	VideoDuration  time.Duration
	VideoPlay      VideoPlay
	VideoProgress  VideoProgress
	VideoQuartiles Quartiles

	// Conversion fields (see conversion.go). ConversionID is the pseudonym
	// of the advertiser's conversion id, the key conversions are
	// deduplicated by; ConversionType its type ("activation", "order"...);
	// Value its value in millionths of Currency (an ISO 4217 code).
	ConversionID   Pseudonym
	ConversionType string
	Value          int64
	Currency       string
	// ClickID is the pseudonym of a click id: on a click, the id admeter
	// appended to the landing URL; on a conversion, the click id the
	// advertiser reported with it. Zero when absent.
	ClickID Pseudonym
}

// Limits on the free-text fields of an Event, in bytes. Longer values are
// truncated by the collector.
const (
	MaxShortField = 64  // OSVersion, Browser, Model
	MaxNameField  = 128 // App, AppPackage, Region parts
)

// Validate returns an EINVALID error if e could not be stored as it is.
func (e *Event) Validate() error {
	switch {
	case !e.Kind.Valid():
		return Errorf(EINVALID, "unknown event kind %d", e.Kind)
	case e.Tenant == "":
		return Errorf(EINVALID, "event has no tenant")
	case e.Kind == KindConversion && (e.Campaign != "" || e.Placement != ""):
		return Errorf(EINVALID, "a conversion belongs to its tenant, not to a campaign or placement: attribution finds those")
	case e.Kind != KindConversion && e.Campaign == "":
		return Errorf(EINVALID, "event has no campaign")
	case e.Kind != KindConversion && e.Placement == "":
		return Errorf(EINVALID, "event has no placement")
	case e.At.IsZero() || e.Received.IsZero():
		return Errorf(EINVALID, "event has no time")
	case e.User.IsZero() != (e.UserType == IDNone):
		return Errorf(EINVALID, "event user and user type disagree")
	case len(e.OSVersion) > MaxShortField || len(e.Browser) > MaxShortField || len(e.Model) > MaxShortField:
		return Errorf(EINVALID, "event device field too long")
	case len(e.App) > MaxNameField || len(e.AppPackage) > MaxNameField:
		return Errorf(EINVALID, "event app field too long")
	case len(e.Region.Country) > MaxNameField || len(e.Region.Province) > MaxNameField || len(e.Region.City) > MaxNameField:
		return Errorf(EINVALID, "event region field too long")
	case !e.View.valid() || !e.VideoPlay.valid() || !e.VideoProgress.valid() || e.VideoQuartiles&^QuartileAll != 0:
		return Errorf(EINVALID, "event viewability or video field out of range")
	case e.ViewArea > 100 || e.VideoDuration < 0 || e.VideoDuration > MaxVideoDuration:
		return Errorf(EINVALID, "event viewability area or video duration out of range")
	case e.Kind == KindViewability && (e.View == ViewNone || e.View == ViewStarted):
		return Errorf(EINVALID, "a viewability event needs a result")
	case e.Kind == KindVideo && e.VideoProgress == ProgressNone:
		return Errorf(EINVALID, "a video event needs its progress")
	case e.Kind == KindConversion:
		if e.ConversionID.IsZero() {
			return Errorf(EINVALID, "a conversion needs its conversion id")
		}
		if e.User.IsZero() && e.ClickID.IsZero() {
			return Errorf(EINVALID, "a conversion needs a user or a click id")
		}
		if err := ValidConversionType(e.ConversionType); err != nil {
			return err
		}
		if e.Value < 0 || (e.Value != 0 || e.Currency != "") && !validCurrency(e.Currency) {
			return Errorf(EINVALID, "conversion value %d %q: a value is not negative and comes with an ISO 4217 currency", e.Value, e.Currency)
		}
	case e.ConversionType != "" || e.Value != 0 || e.Currency != "" || !e.ConversionID.IsZero():
		return Errorf(EINVALID, "only a conversion carries conversion fields")
	}
	return nil
}
