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
