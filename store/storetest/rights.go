package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// userEvents runs UserEvents and fails t on error.
func userEvents(t *testing.T, s store.Store, tenant admeter.TenantID, users []admeter.Pseudonym, limit int) ([]admeter.Event, bool) {
	t.Helper()
	evs, more, err := s.UserEvents(context.Background(), tenant, users, limit)
	if err != nil {
		t.Fatalf("UserEvents(%s, %d users, %d): %v", tenant, len(users), limit, err)
	}
	return evs, more
}

// checkUserEvents runs UserEvents and compares the result with want,
// field by field (times by instant, in UTC).
func checkUserEvents(t *testing.T, s store.Store, tenant admeter.TenantID, users []admeter.Pseudonym, limit int, want []admeter.Event, wantMore bool) {
	t.Helper()
	got, more := userEvents(t, s, tenant, users, limit)
	if more != wantMore {
		t.Errorf("UserEvents(%s, %d users, %d): truncated %v, want %v", tenant, len(users), limit, more, wantMore)
	}
	if len(got) != len(want) {
		t.Errorf("UserEvents(%s, %d users, %d): %d events, want %d:\ngot:\n%swant:\n%s",
			tenant, len(users), limit, len(got), len(want), formatEvents(got), formatEvents(want))
		return
	}
	for i := range want {
		if !sameEvent(got[i], want[i]) {
			t.Errorf("UserEvents(%s, %d users, %d): event %d:\ngot  %+v\nwant %+v", tenant, len(users), limit, i, got[i], want[i])
		}
	}
}

// sameEvent reports whether a and b are equal, their times compared as
// instants, which must be in UTC.
func sameEvent(a, b admeter.Event) bool {
	if !a.At.Equal(b.At) || !a.Received.Equal(b.Received) || a.At.Location() != time.UTC || a.Received.Location() != time.UTC {
		return false
	}
	a.At, a.Received, b.At, b.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func formatEvents(evs []admeter.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %s %s/%s/%s user %s v%d\n", e.At.Format(time.RFC3339Nano), e.Kind, e.Tenant, e.Campaign, e.Placement, e.User, e.KeyVersion)
	}
	return b.String()
}

// testUserEvents: an access request returns every stored field of every
// event of the tenant's users (all kinds), ordered by event time then
// receive time; never another tenant's events under the same pseudonym,
// nor anonymous events or other users'.
func testUserEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00.123Z")
	v6 := func(e *admeter.Event) { e.Net = admeter.BlockOf(netip.MustParseAddr("2001:db8:1234:5678::1")) }
	idfa := func(e *admeter.Event) { e.UserType = admeter.IDIDFA }
	e1 := Imp(at, User(1), VF(1), Details(), Received(at.Add(1500*time.Millisecond)), twoWays)
	e2 := Click(utc("2026-03-01T08:00:00Z"), User(1), Campaign("10000002"), Placement("p9"), OS(admeter.OSIOS),
		Device(admeter.DeviceTablet), Region("US", ""), KeyVersion(2))
	// A verdict with a reason and a bit no reason names: kept as it is.
	e3 := Served(utc("2026-03-05T23:59:59.999Z"), User(1), v6, idfa, IVT(admeter.IVTUnreplacedMacro|1<<31))
	e4 := Imp(at, User(1), Received(at.Add(2*time.Second))) // same event time as e1, received later
	u2 := Imp(at.Add(time.Hour), func(e *admeter.Event) { e.User, e.UserType = UserID(2), admeter.IDCookie })
	other1, other2 := Imp(at, User(1), Tenant("t2"), Details(), badID), Click(utc("2026-03-04T00:00:00Z"), User(1), Tenant("t2"))
	Insert(t, s, 1, e4, e3, other1, Imp(at), Imp(at, VF(1)), u2)
	Insert(t, s, 2, e1, e2, other2, Imp(at, User(3)))

	u1 := []admeter.Pseudonym{UserID(1)}
	all := []admeter.Event{e2, e1, e4, e3}
	checkUserEvents(t, s, DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(9), {}, UserID(1)}, 100, all, false)
	checkUserEvents(t, s, DefaultTenant, u1, 4, all, false)
	checkUserEvents(t, s, DefaultTenant, u1, 3, all[:3], true)
	checkUserEvents(t, s, DefaultTenant, u1, 1, all[:1], true)
	checkUserEvents(t, s, DefaultTenant, []admeter.Pseudonym{UserID(2), UserID(1)}, 100, []admeter.Event{e2, e1, e4, u2, e3}, false)
	checkUserEvents(t, s, "t2", u1, 100, []admeter.Event{other1, other2}, false)
	checkUserEvents(t, s, "t2", []admeter.Pseudonym{UserID(2)}, 100, nil, false)
	checkUserEvents(t, s, "t9", u1, 100, nil, false)
	checkUserEvents(t, s, DefaultTenant, nil, 100, nil, false)
	checkUserEvents(t, s, DefaultTenant, []admeter.Pseudonym{{}}, 100, nil, false)

	for _, tc := range []struct {
		tenant admeter.TenantID
		limit  int
	}{{"", 10}, {DefaultTenant, 0}, {DefaultTenant, -1}} {
		if _, _, err := s.UserEvents(ctx, tc.tenant, u1, tc.limit); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("UserEvents(%q, limit %d): %v, want EINVALID", tc.tenant, tc.limit, err)
		}
	}

	// After a deletion nothing is left of the user in that tenant only.
	if _, err := s.DeleteUsers(ctx, DefaultTenant, u1); err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	checkUserEvents(t, s, DefaultTenant, u1, 100, nil, false)
	checkUserEvents(t, s, "t2", u1, 100, []admeter.Event{other1, other2}, false)
}

// testDeleteUsersRollups: after a deletion, refreshing the rollups of the
// local days DeleteUsers names makes Daily and Report stop counting the
// user, by exactly that user's impressions, clicks and presence, in each
// campaign the user was in; other users, anonymous events and other
// tenants keep their counts.
func testDeleteUsersRollups(t *testing.T, s store.Store) {
	ctx := context.Background()
	d, loc := shanghaiDays(t, 4)
	c2, p2 := Campaign("10000002"), Placement("p2")
	Insert(t, s, 1,
		// User 1, to be deleted.
		Imp(d[0].Add(time.Hour), User(1)), Imp(d[0].Add(2*time.Hour), User(1)), Click(d[0].Add(2*time.Hour), User(1)),
		Imp(d[1].Add(30*time.Minute), User(1), p2), // 00:30 local: the previous UTC day
		Imp(d[2].Add(4*time.Hour), User(1)), Served(d[2].Add(5*time.Hour), User(1)),
		Imp(d[2].Add(23*time.Hour), User(1), c2), // 23:00 local: the same UTC day
		// Others.
		Imp(d[0].Add(time.Hour), User(2)), Imp(d[1].Add(time.Hour), User(2), p2), Click(d[1].Add(time.Hour), User(2), p2),
		Imp(d[2].Add(time.Hour), User(3)), Imp(d[0].Add(3*time.Hour)),
		Imp(d[2].Add(2*time.Hour), User(3), c2),
		Imp(d[0].Add(time.Hour), User(1), Tenant("t2")),
	)
	day := func(i int) store.Date { return store.DateOf(d[i]) }
	for _, c := range []admeter.CampaignID{DefaultCampaign, "10000002"} {
		if err := s.RefreshRollups(ctx, DefaultTenant, c, loc, []store.Date{day(0), day(1), day(2), day(3)}); err != nil {
			t.Fatalf("RefreshRollups: %v", err)
		}
	}
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day(0), To: day(3)}
	dq2 := dq
	dq2.Campaign = "10000002"
	rq := store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[3], Location: loc}
	rq2 := rq
	rq2.Campaign = "10000002"
	checkDaily(t, daily(t, s, dq), []store.DailyRow{
		{Day: day(0), Placement: "p1", Counts: counts(4, 1, 2, 1), AnonymousImpressions: 1},
		{Day: day(1), Placement: "p2", Counts: counts(2, 1, 2, 1)},
		{Day: day(2), Placement: "p1", Counts: counts(2, 0, 2, 0)},
	})
	checkDaily(t, daily(t, s, dq2), []store.DailyRow{{Day: day(2), Placement: "p1", Counts: counts(2, 0, 2, 0)}})
	checkReport(t, s, rq, store.ReportResult{Total: counts(8, 2, 3, 2), AnonymousImpressions: 1})
	checkReport(t, s, rq2, store.ReportResult{Total: counts(2, 0, 2, 0)})

	got, err := s.DeleteUsers(ctx, DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(9)})
	if err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	checkDeleted(t, got, store.Deleted{Events: 7, Campaigns: map[admeter.CampaignID]store.TimeSpan{
		DefaultCampaign: {From: d[0].Add(time.Hour), To: d[2].Add(5 * time.Hour)},
		"10000002":      {From: d[2].Add(23 * time.Hour), To: d[2].Add(23 * time.Hour)},
	}})
	wantDays := map[admeter.CampaignID][]store.Date{DefaultCampaign: {day(0), day(1), day(2)}, "10000002": {day(2)}}
	for c, span := range got.Campaigns {
		days := span.Days(loc)
		if fmt.Sprint(days) != fmt.Sprint(wantDays[c]) {
			t.Errorf("campaign %s: days %v, want %v", c, days, wantDays[c])
		}
		if err := s.RefreshRollups(ctx, DefaultTenant, c, loc, days); err != nil {
			t.Fatalf("RefreshRollups: %v", err)
		}
	}
	// User 1 had, on day 0, 2 impressions and 1 click; on day 1, 1
	// impression on p2; on day 2, 1 impression; in campaign 2, 1
	// impression on day 2.
	checkDaily(t, daily(t, s, dq), []store.DailyRow{
		{Day: day(0), Placement: "p1", Counts: counts(2, 0, 1, 0), AnonymousImpressions: 1},
		{Day: day(1), Placement: "p2", Counts: counts(1, 1, 1, 1)},
		{Day: day(2), Placement: "p1", Counts: counts(1, 0, 1, 0)},
	})
	checkDaily(t, daily(t, s, dq2), []store.DailyRow{{Day: day(2), Placement: "p1", Counts: counts(1, 0, 1, 0)}})
	checkReport(t, s, rq, store.ReportResult{Total: counts(4, 1, 2, 1), AnonymousImpressions: 1})
	checkReport(t, s, rq2, store.ReportResult{Total: counts(1, 0, 1, 0)})
	rq.Tenant = "t2"
	checkReport(t, s, rq, store.ReportResult{Total: counts(1, 0, 1, 0)})
}
