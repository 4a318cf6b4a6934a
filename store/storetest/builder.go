package storetest

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// The tenant, campaign and placement of an event built without the
// [Tenant], [Campaign] and [Placement] options.
const (
	DefaultTenant    admeter.TenantID    = "t1"
	DefaultCampaign  admeter.CampaignID  = "10000001"
	DefaultPlacement admeter.PlacementID = "p1"
)

// Opt changes an event made by [Ev], [Imp], [Click] or [Served]. Any
// func(*admeter.Event) converts to it.
type Opt func(*admeter.Event)

// Ev returns a valid event of kind k at at (also its receive time) with the
// default tenant, campaign and placement, no user and no impression id,
// changed by opts in order.
func Ev(k admeter.Kind, at time.Time, opts ...Opt) admeter.Event {
	e := admeter.Event{
		Kind:       k,
		Tenant:     DefaultTenant,
		Campaign:   DefaultCampaign,
		Placement:  DefaultPlacement,
		At:         at.UTC(),
		Received:   at.UTC(),
		KeyVersion: 1,
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// Imp returns an impression at at; see [Ev].
func Imp(at time.Time, opts ...Opt) admeter.Event { return Ev(admeter.KindImpression, at, opts...) }

// Click returns a click at at; see [Ev].
func Click(at time.Time, opts ...Opt) admeter.Event { return Ev(admeter.KindClick, at, opts...) }

// Served returns a served-but-not-rendered event at at; see [Ev].
func Served(at time.Time, opts ...Opt) admeter.Event { return Ev(admeter.KindServed, at, opts...) }

// UserID returns the pseudonym of test user n (n > 0): distinct n give
// distinct pseudonyms, and none is zero.
func UserID(n int) admeter.Pseudonym { return pseudonym(0x55, n) }

// ImpressionID returns the pseudonym of test impression id (vf) n (n > 0).
func ImpressionID(n int) admeter.Pseudonym { return pseudonym(0x76, n) }

func pseudonym(tag byte, n int) admeter.Pseudonym {
	var p admeter.Pseudonym
	p[0] = tag
	binary.BigEndian.PutUint64(p[8:], uint64(n))
	return p
}

// User sets the event's user to test user n ([UserID]), an OAID.
func User(n int) Opt {
	return func(e *admeter.Event) { e.User, e.UserType = UserID(n), admeter.IDOAID }
}

// VF sets the event's impression id to test impression id n ([ImpressionID]).
func VF(n int) Opt { return func(e *admeter.Event) { e.ImpressionID = ImpressionID(n) } }

// Tenant sets the event's tenant.
func Tenant(id admeter.TenantID) Opt { return func(e *admeter.Event) { e.Tenant = id } }

// Campaign sets the event's campaign.
func Campaign(id admeter.CampaignID) Opt { return func(e *admeter.Event) { e.Campaign = id } }

// Placement sets the event's placement.
func Placement(id admeter.PlacementID) Opt { return func(e *admeter.Event) { e.Placement = id } }

// Region sets the event's country and province.
func Region(country, province string) Opt {
	return func(e *admeter.Event) { e.Region.Country, e.Region.Province = country, province }
}

// OS sets the event's operating system.
func OS(o admeter.OS) Opt { return func(e *admeter.Event) { e.OS = o } }

// Device sets the event's device type.
func Device(d admeter.DeviceType) Opt { return func(e *admeter.Event) { e.DeviceType = d } }

// KeyVersion sets the version of the key the event's pseudonyms were made
// with (1 by default).
func KeyVersion(v uint32) Opt { return func(e *admeter.Event) { e.KeyVersion = v } }

// IVT sets the event's invalid-traffic verdict (zero, the default, is
// valid traffic).
func IVT(v admeter.IVT) Opt { return func(e *admeter.Event) { e.IVT = v } }

// Received sets the event's receive time.
func Received(t time.Time) Opt { return func(e *admeter.Event) { e.Received = t.UTC() } }

// Details fills every descriptive field of the event (device, app, network,
// region, area, risk) with plausible values, for tests that check a store
// keeps them.
func Details() Opt {
	return func(e *admeter.Event) {
		e.Flags = admeter.FlagSigned | admeter.FlagBatch
		e.OS, e.OSVersion = admeter.OSAndroid, "14"
		e.DeviceType, e.Browser, e.Model = admeter.DevicePhone, "Chrome", "Pixel 8"
		e.Network = admeter.NetworkWiFi
		e.App, e.AppPackage = "新闻", "com.example.news"
		e.Net = admeter.BlockOf(netip.MustParseAddr("203.0.113.77"))
		e.Region = admeter.Region{Country: "CN", Province: "广东", City: "深圳"}
		e.Area, _ = admeter.AreaOf(22.54, 114.06)
		e.Risk = admeter.RiskRoot
	}
}

// ClickIDOf returns the pseudonym of test click id n (n > 0): the click
// id a click carries ([ClickID]) and a conversion reports.
func ClickIDOf(n int) admeter.Pseudonym { return pseudonym(0x63, n) }

// ConversionIDOf returns the pseudonym of test conversion id n (n > 0).
func ConversionIDOf(n int) admeter.Pseudonym { return pseudonym(0x43, n) }

// View sets the viewability state the event reports (ViewStarted on an
// impression, a result on a [Viewed] event).
func View(v admeter.ViewResult) Opt { return func(e *admeter.Event) { e.View = v } }

// ViewThresholds sets the viewability thresholds the measurement used
// (Miaozhen vh and vi).
func ViewThresholds(area, seconds uint8) Opt {
	return func(e *admeter.Event) { e.ViewArea, e.ViewSeconds = area, seconds }
}

// Video makes the event a video ad's: its length d and how the play
// started. An impression with it is a video impression, which starts a
// play.
func Video(d time.Duration, p admeter.VideoPlay) Opt {
	return func(e *admeter.Event) { e.VideoDuration, e.VideoPlay = d, p }
}

// Progress sets the point of the play the event reports (Miaozhen vc).
func Progress(p admeter.VideoProgress) Opt { return func(e *admeter.Event) { e.VideoProgress = p } }

// Quartiles sets the quartiles the event says the play reached (Miaozhen
// vj).
func Quartiles(q admeter.Quartiles) Opt { return func(e *admeter.Event) { e.VideoQuartiles = q } }

// ClickID sets the event's click id to test click id n ([ClickIDOf]).
func ClickID(n int) Opt { return func(e *admeter.Event) { e.ClickID = ClickIDOf(n) } }

// Value sets a conversion's value, in millionths of currency.
func Value(v int64, currency string) Opt {
	return func(e *admeter.Event) { e.Value, e.Currency = v, currency }
}

// Viewed returns a viewability result r at at (admeter.KindViewability);
// see [Ev]. It links to the impression of the same campaign, placement
// and impression id ([VF]).
func Viewed(at time.Time, r admeter.ViewResult, opts ...Opt) admeter.Event {
	return Ev(admeter.KindViewability, at, append([]Opt{View(r)}, opts...)...)
}

// VideoPing returns a video progress ping at at (admeter.KindVideo)
// reporting p; see [Ev].
func VideoPing(at time.Time, p admeter.VideoProgress, opts ...Opt) admeter.Event {
	return Ev(admeter.KindVideo, at, append([]Opt{Progress(p)}, opts...)...)
}

// Conversion returns a conversion at at of the default tenant, with
// conversion id n ([ConversionIDOf]) and type typ, no campaign and no
// placement, changed by opts (which must give it a [User] or a
// [ClickID]).
func Conversion(at time.Time, n int, typ string, opts ...Opt) admeter.Event {
	conv := func(e *admeter.Event) {
		e.Campaign, e.Placement = "", ""
		e.ConversionID, e.ConversionType = ConversionIDOf(n), typ
	}
	return Ev(admeter.KindConversion, at, append([]Opt{conv}, opts...)...)
}

// Insert inserts events with next as the new offset and fails t on error.
func Insert(t testing.TB, s store.Store, next uint64, events ...admeter.Event) {
	t.Helper()
	if err := s.Insert(context.Background(), events, next); err != nil {
		t.Fatalf("Insert(%d events, next %d): %v", len(events), next, err)
	}
}

// mustLoad returns the named location or fails t.
func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load time zone: %v", err)
	}
	return loc
}

// utc parses an RFC 3339 instant or panics: test data only.
func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// InsertFrom inserts events read from a partitioned source with next as
// the partitions' new positions, and fails t on error.
func InsertFrom(t testing.TB, s store.Store, next map[int32]int64, events ...admeter.Event) {
	t.Helper()
	if err := s.InsertFrom(context.Background(), events, next); err != nil {
		t.Fatalf("InsertFrom(%d events, next %v): %v", len(events), next, err)
	}
}
