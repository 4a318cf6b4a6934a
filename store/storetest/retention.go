package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// deleteBefore runs DeleteBefore and fails t unless it deleted want events.
func deleteBefore(t *testing.T, s store.Store, cut time.Time, want int64) {
	t.Helper()
	if n, err := s.DeleteBefore(context.Background(), cut); err != nil || n != want {
		t.Fatalf("DeleteBefore(%s) = %d, %v; want %d", cut.Format(time.RFC3339), n, err, want)
	}
}

// testRawDays: the UTC days that hold raw events, every tenant's, with
// their counts, in order; days emptied by deletions are not listed.
func testRawDays(t *testing.T, s store.Store) {
	ctx := context.Background()
	check := func(want ...store.DayCount) {
		t.Helper()
		got, err := s.RawDays(ctx)
		if err != nil {
			t.Fatalf("RawDays: %v", err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RawDays = %v, want %v", got, want)
		}
	}
	dc := func(day string, n int64) store.DayCount {
		d, err := store.ParseDate(day)
		if err != nil {
			t.Fatal(err)
		}
		return store.DayCount{Day: d, Events: n}
	}
	check()
	Insert(t, s, 1,
		Imp(utc("2026-03-04T23:59:59.999Z"), User(4)),
		Imp(utc("2026-03-01T00:00:00Z"), User(1)), Served(utc("2026-03-01T12:00:00Z"), Tenant("t2")),
		Imp(utc("2026-03-02T01:00:00Z"), User(2)), Click(utc("2026-03-02T11:00:00Z"), User(2), Campaign("10000002")),
		Imp(utc("2026-03-02T20:00:00Z"), User(3), Tenant("t2")),
	)
	check(dc("2026-03-01", 2), dc("2026-03-02", 3), dc("2026-03-04", 1))
	deleteBefore(t, s, utc("2026-03-02T12:00:00Z"), 4)
	check(dc("2026-03-02", 1), dc("2026-03-04", 1))
	if _, err := s.DeleteUsers(ctx, DefaultTenant, []admeter.Pseudonym{UserID(4)}); err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	check(dc("2026-03-02", 1))
}

// testKeyVersions: per key version, every tenant's raw events, those with
// a pseudonym, and the latest event time; a version whose events are all
// deleted is no longer listed.
func testKeyVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	check := func(want ...store.KeyVersionUse) {
		t.Helper()
		got, err := s.KeyVersions(ctx)
		if err != nil {
			t.Fatalf("KeyVersions: %v", err)
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(want); i++ {
			g, w := got[i], want[i]
			ok = g.Version == w.Version && g.Events == w.Events && g.Pseudonymous == w.Pseudonymous &&
				g.Latest.Equal(w.Latest) && g.Latest.Location() == time.UTC
		}
		if !ok {
			t.Errorf("KeyVersions = %+v, want %+v", got, want)
		}
	}
	check()
	Insert(t, s, 1,
		Imp(utc("2026-03-01T10:00:00Z"), User(1)), Imp(utc("2026-03-01T11:00:00Z")),
		Imp(utc("2026-03-02T10:00:00Z"), User(2), Tenant("t2"), KeyVersion(2)),
		Served(utc("2026-03-03T09:00:00.5Z"), VF(1), KeyVersion(2)),
		Click(utc("2026-03-02T05:00:00Z"), KeyVersion(3)),
		// A click id and a conversion id are pseudonyms under the key too.
		Click(utc("2026-03-02T06:00:00Z"), ClickID(1), KeyVersion(3)),
		Conversion(utc("2026-03-02T07:00:00Z"), 1, "order", ClickID(1), KeyVersion(3)),
	)
	v1 := store.KeyVersionUse{Version: 1, Events: 2, Pseudonymous: 1, Latest: utc("2026-03-01T11:00:00Z")}
	v2 := store.KeyVersionUse{Version: 2, Events: 2, Pseudonymous: 2, Latest: utc("2026-03-03T09:00:00.5Z")}
	v3 := store.KeyVersionUse{Version: 3, Events: 3, Pseudonymous: 2, Latest: utc("2026-03-02T07:00:00Z")}
	check(v1, v2, v3)
	deleteBefore(t, s, utc("2026-03-02T00:00:00Z"), 2)
	check(v2, v3)
	if _, err := s.DeleteUsers(ctx, "t2", []admeter.Pseudonym{UserID(2)}); err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	v2.Events, v2.Pseudonymous = 1, 1
	check(v2, v3)
}

// testRollupsOutliveRetention: rollups stay when retention drops the raw
// events under them, and a later refresh of a day that begins before the
// cut (after a late event, or a deletion request) leaves its rollup alone
// rather than recomputing it from what is left; days after the cut are
// recomputed as before, and an earlier cut does not move it back.
func testRollupsOutliveRetention(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 4)
	day := func(i int) store.Date { return store.DateOf(d[i]) }
	Insert(t, s, 1,
		Imp(d[0].Add(time.Hour), User(1)), Imp(d[0].Add(20*time.Hour), User(2)),
		Imp(d[1].Add(2*time.Hour), User(1)), Imp(d[1].Add(12*time.Hour), User(3)),
		Imp(d[2].Add(10*time.Hour), User(4)),
	)
	refresh(t, s, loc, day(0), day(1), day(2))
	dq := store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: day(0), To: day(3)}
	want := []store.DailyRow{
		{Day: day(0), Placement: "p1", Counts: counts(2, 0, 2, 0)},
		{Day: day(1), Placement: "p1", Counts: counts(2, 0, 2, 0)},
		{Day: day(2), Placement: "p1", Counts: counts(1, 0, 1, 0)},
	}
	checkDaily(t, daily(t, s, dq), want)

	// The cut falls inside day 1 (local), after its first event.
	deleteBefore(t, s, d[1].Add(6*time.Hour), 3)
	checkDaily(t, daily(t, s, dq), want)
	refresh(t, s, loc, day(0), day(1), day(2))
	checkDaily(t, daily(t, s, dq), want)

	// Late events: stored and reported from the raw events, but the days
	// before the cut keep their rollups.
	Insert(t, s, 2, Imp(d[0].Add(5*time.Hour), User(5)), Imp(d[1].Add(3*time.Hour), User(6)), Imp(d[2].Add(11*time.Hour), User(7)))
	refresh(t, s, loc, day(0), day(1), day(2))
	want[2].Counts = counts(2, 0, 2, 0)
	checkDaily(t, daily(t, s, dq), want)
	checkReport(t, s, store.ReportQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc},
		store.ReportResult{Total: counts(1, 0, 1, 0)})

	// An earlier cut deletes nothing and keeps the later one.
	deleteBefore(t, s, d[0], 0)
	refresh(t, s, loc, day(1))
	checkDaily(t, daily(t, s, dq), want)
}
