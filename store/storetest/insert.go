package storetest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

func testOffsetEmpty(t *testing.T, s store.Store) {
	if got, err := s.Offset(context.Background()); err != nil || got != 0 {
		t.Fatalf("Offset of an empty store = %d, %v; want 0, nil", got, err)
	}
}

// testOffsetExactlyOnce: a batch whose next offset is not past the recorded
// one is refused with ECONFLICT and stores nothing.
func testOffsetExactlyOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	offset := func(want uint64) {
		t.Helper()
		if got, err := s.Offset(ctx); err != nil || got != want {
			t.Fatalf("Offset = %d, %v; want %d", got, err, want)
		}
	}
	imps := func(want int64) {
		t.Helper()
		if got := report(t, s, wideQuery()).Total.Impressions; got != want {
			t.Fatalf("impressions = %d, want %d", got, want)
		}
	}

	Insert(t, s, 10, Imp(at, User(1)), Imp(at, User(2)))
	offset(10)
	imps(2)
	for _, next := range []uint64{10, 9, 0} {
		err := s.Insert(ctx, []admeter.Event{Imp(at, User(3))}, next)
		if code := admeter.ErrorCode(err); code != admeter.ECONFLICT {
			t.Fatalf("Insert with next %d after 10: error %v (code %q), want ECONFLICT", next, err, code)
		}
	}
	if err := s.Insert(ctx, nil, 10); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("empty Insert with next 10 after 10: %v, want ECONFLICT", err)
	}
	offset(10)
	imps(2)

	// An empty batch still moves the offset (a stretch of the log with no
	// events for this store).
	Insert(t, s, 11)
	offset(11)
	imps(2)
	Insert(t, s, 12, Imp(at, User(3)))
	offset(12)
	imps(3)
}

// testInsertInvalid: a batch holding an invalid event fails whole.
func testInsertInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	bad := []admeter.Event{
		Imp(at, Tenant("")),
		Imp(at, Campaign("")),
		Imp(at, Placement("")),
		Ev(admeter.KindUnknown, at),
		Imp(at, func(e *admeter.Event) { e.UserType = admeter.IDIDFA }), // type without user
	}
	for i, e := range bad {
		if err := s.Insert(ctx, []admeter.Event{Imp(at, User(1)), e}, uint64(i+1)); err == nil {
			t.Errorf("Insert with invalid event %d: no error", i)
		}
	}
	if got, err := s.Offset(ctx); err != nil || got != 0 {
		t.Errorf("Offset after failed inserts = %d, %v; want 0", got, err)
	}
	checkReport(t, s, wideQuery(), store.ReportResult{})
}

// testInsertKeepsFields: every field the reports read round-trips, and
// events with every descriptive field set or unset are both accepted.
func testInsertKeepsFields(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	v6 := func(e *admeter.Event) { e.Net = admeter.BlockOf(netip.MustParseAddr("2001:db8:1234:5678::1")) }
	Insert(t, s, 1,
		Imp(at, User(1), Details()),
		Imp(at, User(2), Details(), v6),
		Click(at, Details()),
		Imp(at, func(e *admeter.Event) { e.User, e.UserType = UserID(3), admeter.IDCookie }),
	)
	checkReport(t, s, wideQuery(store.ByRegion, store.ByOS, store.ByDevice), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "", "unknown", "unknown"),
			row(2, 1, 2, 0, "广东", "android", "phone"),
		},
		Total:           counts(3, 1, 3, 0),
		AnonymousClicks: 1,
	})
}
