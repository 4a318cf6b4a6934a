package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// checkAttribution runs Attribution and compares the result with want,
// times by instant (which must be in UTC).
func checkAttribution(t *testing.T, s store.Store, q store.AttributionQuery, want store.AttributionData) {
	t.Helper()
	got, err := s.Attribution(context.Background(), q)
	if err != nil {
		t.Fatalf("Attribution(%s): %v", describeAttribution(q), err)
	}
	ok := len(got.Conversions) == len(want.Conversions) && len(got.Touches) == len(want.Touches)
	for i := 0; ok && i < len(want.Conversions); i++ {
		g, w := got.Conversions[i], want.Conversions[i]
		ok = sameInstant(g.At, w.At) && sameInstant(g.Received, w.Received)
		g.At, g.Received, w.At, w.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		ok = ok && g == w
	}
	for i := 0; ok && i < len(want.Touches); i++ {
		g, w := got.Touches[i], want.Touches[i]
		ok = sameInstant(g.At, w.At)
		g.At, w.At = time.Time{}, time.Time{}
		ok = ok && g == w
	}
	if !ok {
		t.Errorf("Attribution(%s):\ngot:\n%s\nwant:\n%s", describeAttribution(q), formatAttribution(got), formatAttribution(&want))
	}
}

// sameInstant reports whether got is want's instant, in UTC.
func sameInstant(got, want time.Time) bool { return got.Equal(want) && got.Location() == time.UTC }

func describeAttribution(q store.AttributionQuery) string {
	return fmt.Sprintf("%s [%s, %s) lookback %s filter %s", q.Tenant, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), q.Lookback, q.Filter)
}

func formatAttribution(d *store.AttributionData) string {
	var b strings.Builder
	for _, c := range d.Conversions {
		fmt.Fprintf(&b, "  conversion %s %s at %s received %s user %s/%d click %s value %d %q\n", c.ID, c.Type,
			c.At.Format(time.RFC3339Nano), c.Received.Format(time.RFC3339Nano), c.User, c.UserType, c.ClickID, c.Value, c.Currency)
	}
	for _, tc := range d.Touches {
		fmt.Fprintf(&b, "  %s %s/%s at %s user %s click %s %s/%s %q ivt %d\n", tc.Kind, tc.Campaign, tc.Placement,
			tc.At.Format(time.RFC3339Nano), tc.User, tc.ClickID, tc.OS, tc.Device, tc.Region, tc.IVT)
	}
	return b.String()
}

// conv returns a stored conversion of test user user (0 for none) and
// test click id click (0 for none).
func conv(id int, typ string, at, received time.Time, user, click int, value int64, currency string) store.Conversion {
	c := store.Conversion{ID: ConversionIDOf(id), Type: typ, At: at, Received: received, Value: value, Currency: currency}
	if user > 0 {
		c.User, c.UserType = UserID(user), admeter.IDOAID
	}
	if click > 0 {
		c.ClickID = ClickIDOf(click)
	}
	return c
}

// touch returns a touch of the default campaign and placement with
// unknown OS, device and region, of test user user (0 for none) and test
// click id click (0 for none).
func touch(k admeter.Kind, at time.Time, user, click int, opts ...func(*store.Touch)) store.Touch {
	tc := store.Touch{Kind: k, Campaign: DefaultCampaign, Placement: DefaultPlacement, At: at}
	if user > 0 {
		tc.User = UserID(user)
	}
	if click > 0 {
		tc.ClickID = ClickIDOf(click)
	}
	for _, o := range opts {
		o(&tc)
	}
	return tc
}

// testAttribution: the conversions in range, deduplicated by id (the
// first received), and the valid impressions and clicks of the tenant
// within the lookback of the users who converted or carrying a click id a
// conversion reports.
func testAttribution(t *testing.T, s store.Store) {
	ctx := context.Background()
	from, to := utc("2026-03-10T00:00:00Z"), utc("2026-03-12T00:00:00Z")
	lookback := 3 * 24 * time.Hour
	start := from.Add(-lookback)
	c1At, c1Recv := utc("2026-03-10T10:00:00Z"), utc("2026-03-10T10:00:05Z")
	c2At := utc("2026-03-11T08:00:00Z")
	c5At, c5Recv := utc("2026-03-11T12:00:00Z"), utc("2026-03-11T12:00:00.250Z")
	other := Campaign("10000002")
	Insert(t, s, 1,
		// Conversions: 1 (reported twice: the first received counts, though
		// the second says it happened earlier), 2 (a click id and no user),
		// 5 (a user and a click id); 3 before the range; 4 at its end.
		Conversion(c1At, 1, admeter.ConversionOrder, User(1), Value(99_500_000, "CNY"), Received(c1Recv)),
		Conversion(c1At.Add(-time.Hour), 1, admeter.ConversionPurchase, User(1), Value(1_000_000, "USD"), Received(c1Recv.Add(2*time.Hour))),
		Conversion(c2At, 2, admeter.ConversionActivation, ClickID(5)),
		Conversion(from.Add(-time.Hour), 3, admeter.ConversionOrder, User(2)),
		Conversion(to, 4, admeter.ConversionOrder, User(4)),
		Conversion(c5At, 5, "trial-30d", User(3), ClickID(6), Received(c5Recv)),
		// Another tenant's conversion of the same user and id.
		Conversion(c1At, 1, admeter.ConversionOrder, User(1), Tenant("t2")),
	)
	Insert(t, s, 2,
		// User 1: an impression just before the lookback, one at its start,
		// a click of another campaign with its details, an invalid click, a
		// served ad and viewability and video pings (never touches), an
		// impression at the last millisecond of the range and one at its end.
		Imp(start.Add(-time.Millisecond), User(1)),
		Imp(start, User(1)),
		Click(utc("2026-03-09T10:00:00Z"), User(1), other, Placement("p9"), Details()),
		Click(utc("2026-03-09T12:00:00Z"), User(1), crawler),
		Served(utc("2026-03-09T13:00:00Z"), User(1)),
		Viewed(utc("2026-03-09T13:00:01Z"), admeter.ViewViewable, User(1)),
		VideoPing(utc("2026-03-09T13:00:02Z"), admeter.ProgressStart, User(1)),
		Imp(to.Add(-time.Millisecond), User(1)),
		Imp(to, User(1)),
		// User 2 converted before the range only; user 4 at its end only.
		Imp(utc("2026-03-09T10:00:00Z"), User(2)),
		Imp(utc("2026-03-11T10:00:00Z"), User(4)),
		// User 3: an impression in the US; click id 6 on a click without a user.
		Imp(utc("2026-03-10T01:00:00Z"), User(3), Region("US", "")),
		Click(utc("2026-03-11T11:00:00Z"), ClickID(6)),
		// Click id 5 on user 7's click; user 7's impression is no touch.
		Click(utc("2026-03-10T20:00:00Z"), User(7), ClickID(5), Placement("p2"), OS(admeter.OSIOS), Device(admeter.DeviceTablet)),
		Imp(utc("2026-03-10T19:00:00Z"), User(7)),
		// A click id no conversion reports.
		Click(utc("2026-03-10T21:00:00Z"), User(8), ClickID(9)),
		// The other tenant's events of user 1 and click id 5.
		Imp(utc("2026-03-10T09:00:00Z"), User(1), Tenant("t2")),
		Click(utc("2026-03-10T09:30:00Z"), User(1), ClickID(5), Tenant("t2")),
	)
	q := store.AttributionQuery{Tenant: DefaultTenant, From: from, To: to, Lookback: lookback}
	convs := []store.Conversion{
		conv(1, admeter.ConversionOrder, c1At, c1Recv, 1, 0, 99_500_000, "CNY"),
		conv(2, admeter.ConversionActivation, c2At, c2At, 0, 5, 0, ""),
		conv(5, "trial-30d", c5At, c5Recv, 3, 6, 0, ""),
	}
	android := func(tc *store.Touch) {
		tc.Campaign, tc.Placement, tc.OS, tc.Device, tc.Region = "10000002", "p9", admeter.OSAndroid, admeter.DevicePhone, "广东"
	}
	invalidClick := touch(admeter.KindClick, utc("2026-03-09T12:00:00Z"), 1, 0, func(tc *store.Touch) { tc.IVT = admeter.IVTCrawler })
	touches := []store.Touch{
		touch(admeter.KindImpression, start, 1, 0),
		touch(admeter.KindClick, utc("2026-03-09T10:00:00Z"), 1, 0, android),
		touch(admeter.KindImpression, utc("2026-03-10T01:00:00Z"), 3, 0, func(tc *store.Touch) { tc.Region = "US" }),
		touch(admeter.KindClick, utc("2026-03-10T20:00:00Z"), 7, 5, func(tc *store.Touch) {
			tc.Placement, tc.OS, tc.Device = "p2", admeter.OSIOS, admeter.DeviceTablet
		}),
		touch(admeter.KindClick, utc("2026-03-11T11:00:00Z"), 0, 6),
		touch(admeter.KindImpression, to.Add(-time.Millisecond), 1, 0),
	}
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs, Touches: touches})

	// All traffic: the invalid click too, in its place.
	q.Filter = store.FilterAll
	all := append(append(append([]store.Touch{}, touches[:2]...), invalidClick), touches[2:]...)
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs, Touches: all})

	// Without a lookback, the touches within the range only.
	q.Filter, q.Lookback = store.FilterValid, 0
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs, Touches: touches[2:]})

	// A range holding the second conversion only: the touch of its click id.
	q.From = utc("2026-03-11T00:00:00Z")
	q.To = utc("2026-03-11T09:00:00Z")
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs[1:2]})
	q.Lookback = lookback
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs[1:2], Touches: touches[3:4]})

	// The other tenant sees its own conversion and touch only.
	q = store.AttributionQuery{Tenant: "t2", From: from, To: to, Lookback: lookback}
	checkAttribution(t, s, q, store.AttributionData{
		Conversions: []store.Conversion{conv(1, admeter.ConversionOrder, c1At, c1At, 1, 0, 0, "")},
		Touches: []store.Touch{
			touch(admeter.KindImpression, utc("2026-03-10T09:00:00Z"), 1, 0),
			touch(admeter.KindClick, utc("2026-03-10T09:30:00Z"), 1, 5),
		},
	})
	q.Tenant = "t9"
	checkAttribution(t, s, q, store.AttributionData{})
	q.Tenant = DefaultTenant
	q.From, q.To = utc("2026-06-01T00:00:00Z"), utc("2026-06-02T00:00:00Z")
	checkAttribution(t, s, q, store.AttributionData{})

	for _, bad := range []store.AttributionQuery{
		{From: from, To: to},
		{Tenant: DefaultTenant, From: to, To: from},
		{Tenant: DefaultTenant, From: from, To: from},
		{Tenant: DefaultTenant, To: to},
		{Tenant: DefaultTenant, From: from, To: to, Lookback: -time.Second},
		{Tenant: DefaultTenant, From: from, To: to, Lookback: admeter.MaxAttributionWindow + time.Millisecond},
		{Tenant: DefaultTenant, From: from, To: to, Filter: 7},
	} {
		if _, err := s.Attribution(ctx, bad); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("Attribution(%s): %v, want EINVALID", describeAttribution(bad), err)
		}
	}
	// The longest lookback is allowed.
	q = store.AttributionQuery{Tenant: DefaultTenant, From: from, To: to, Lookback: admeter.MaxAttributionWindow}
	checkAttribution(t, s, q, store.AttributionData{Conversions: convs,
		Touches: append([]store.Touch{touch(admeter.KindImpression, start.Add(-time.Millisecond), 1, 0)}, touches...)})
}

// testNewFields: the viewability, video, conversion and click-id fields
// round-trip through UserEvents and RecentEvents; reports count none of
// the new kinds; a user's deletion and a tenant's take its conversions
// too, and a conversion (which has no campaign) adds no campaign span.
func testNewFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00.123Z")
	sec := time.Second
	imp := Imp(at, User(1), VF(1), Details(), View(admeter.ViewStarted), ViewThresholds(60, 2),
		Video(15500*time.Millisecond, admeter.PlayManual), Quartiles(admeter.Quartile25))
	res := Viewed(at.Add(sec), admeter.ViewViewable, User(1), VF(1), Quartiles(admeter.Quartile25|admeter.Quartile50|admeter.Quartile75))
	ping := VideoPing(at.Add(2*sec), admeter.Progress75, User(1), VF(1), Video(15500*time.Millisecond, admeter.PlayManual))
	click := Click(at.Add(3*sec), User(1), ClickID(7), Details())
	c1 := Conversion(at.Add(time.Hour), 1, admeter.ConversionPurchase, User(1), ClickID(7), Value(123_456_789, "USD"),
		Details(), Received(at.Add(time.Hour+sec)))
	c2 := Conversion(at.Add(2*time.Hour), 2, admeter.ConversionLead, ClickID(8)) // no user
	Insert(t, s, 1, imp, res, ping, click, c1, c2, Conversion(at, 1, admeter.ConversionOrder, User(1), Tenant("t2")))

	checkUserEvents(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1)}, 10, []admeter.Event{imp, res, ping, click, c1}, false)
	recent, err := s.RecentEvents(ctx, DefaultTenant, DefaultCampaign, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []admeter.Event{click, ping, res, imp}; len(recent) != len(want) {
		t.Errorf("RecentEvents: %d events, want %d:\n%s", len(recent), len(want), formatEvents(recent))
	} else {
		for i := range want {
			if !sameEvent(recent[i], want[i]) {
				t.Errorf("RecentEvents: event %d:\ngot  %+v\nwant %+v", i, recent[i], want[i])
			}
		}
	}
	// Reports count the impression and the click only.
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(1, 1, 1, 1)})

	got, err := s.DeleteUsers(ctx, DefaultTenant, []admeter.Pseudonym{UserID(1)})
	if err != nil {
		t.Fatal(err)
	}
	checkDeleted(t, got, store.Deleted{Events: 5, Campaigns: map[admeter.CampaignID]store.TimeSpan{DefaultCampaign: {From: at, To: at.Add(3 * sec)}}})
	checkUserEvents(t, s, "t2", []admeter.Pseudonym{UserID(1)}, 10, []admeter.Event{Conversion(at, 1, admeter.ConversionOrder, User(1), Tenant("t2"))}, false)
	q := store.AttributionQuery{Tenant: DefaultTenant, From: at, To: at.Add(24 * time.Hour)}
	checkAttribution(t, s, q, store.AttributionData{Conversions: []store.Conversion{conv(2, admeter.ConversionLead, c2.At, c2.Received, 0, 8, 0, "")}})

	// Deleting the tenant takes the conversion without a user.
	if n, err := s.DeleteTenant(ctx, DefaultTenant); err != nil || n != 1 {
		t.Fatalf("DeleteTenant = %d, %v; want 1 event", n, err)
	}
	checkAttribution(t, s, q, store.AttributionData{})
	q.Tenant = "t2"
	checkAttribution(t, s, q, store.AttributionData{Conversions: []store.Conversion{conv(1, admeter.ConversionOrder, at, at, 1, 0, 0, "")}})
}
