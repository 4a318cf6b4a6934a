package storetest

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// checkPositions fails t unless the store's positions are want.
func checkPositions(t testing.TB, s store.Store, want map[int32]int64) {
	t.Helper()
	got, err := s.Positions(context.Background())
	if err != nil {
		t.Fatalf("Positions: %v", err)
	}
	if got == nil {
		t.Fatalf("Positions = nil map, want %v", want)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Positions = %v, want %v", got, want)
	}
}

// checkTotal fails t unless the default campaign's report over 2026 (all
// traffic) counts imps impressions of uv users.
func checkTotal(t testing.TB, s store.Store, imps, uv int64) {
	t.Helper()
	q := wideQuery()
	q.Filter = store.FilterAll
	r, err := s.Report(context.Background(), q)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if r.Total.Impressions != imps || r.Total.UV != uv {
		t.Fatalf("impressions and users = %d, %d; want %d, %d", r.Total.Impressions, r.Total.UV, imps, uv)
	}
}

// testPositionsEmpty: a store never loaded from a partitioned source has
// no positions (an empty map, not an error).
func testPositionsEmpty(t *testing.T, s store.Store) {
	checkPositions(t, s, map[int32]int64{})
	// Insert (an event-log offset) records no partition position.
	Insert(t, s, 3, Imp(utc("2026-03-02T10:00:00Z"), User(1)))
	checkPositions(t, s, map[int32]int64{})
}

// testPositionsRoundTrip: InsertFrom records each partition's position,
// later batches move the partitions they name and leave the others; the
// positions are copies (neither the caller's map nor the returned one is
// the store's), and the event-log offset is left alone.
func testPositionsRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	next := map[int32]int64{0: 10, 1: 5}
	InsertFrom(t, s, next, Imp(at, User(1)))
	next[0] = 1000 // the caller reuses its map
	checkPositions(t, s, map[int32]int64{0: 10, 1: 5})
	InsertFrom(t, s, map[int32]int64{1: 8}, Imp(at, User(2)))
	checkPositions(t, s, map[int32]int64{0: 10, 1: 8})
	InsertFrom(t, s, map[int32]int64{2: 1, 0: 11, 7: 1 << 40}, Imp(at, User(3)))
	want := map[int32]int64{0: 11, 1: 8, 2: 1, 7: 1 << 40}
	checkPositions(t, s, want)

	got, err := s.Positions(ctx)
	if err != nil {
		t.Fatalf("Positions: %v", err)
	}
	got[0], got[9] = 0, 1 // the caller changes what it was given
	checkPositions(t, s, want)

	if off, err := s.Offset(ctx); err != nil || off != 0 {
		t.Fatalf("Offset after InsertFrom only = %d, %v; want 0", off, err)
	}
	checkTotal(t, s, 3, 3)
}

// testPositionsConflict: a batch naming any partition whose recorded
// position is at or beyond its new one is refused with ECONFLICT and
// stores nothing: neither its events nor any of its positions (those of
// the partitions that would have advanced included).
func testPositionsConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	InsertFrom(t, s, map[int32]int64{0: 10, 1: 5}, Imp(at, User(1)))
	for _, next := range []map[int32]int64{
		{0: 10},
		{0: 9},
		{1: 5},
		{0: 0},
		{0: 11, 1: 5},       // one partition advances, the other does not
		{0: 11, 1: 4, 2: 1}, // a new partition with a stale one
		{2: 1, 0: 10},
	} {
		for _, events := range [][]admeter.Event{{Imp(at, User(2)), Click(at, User(2))}, nil} {
			err := s.InsertFrom(ctx, events, next)
			if code := admeter.ErrorCode(err); code != admeter.ECONFLICT {
				t.Fatalf("InsertFrom(%d events, %v) after {0:10 1:5}: error %v (code %q), want ECONFLICT", len(events), next, err, code)
			}
		}
		checkPositions(t, s, map[int32]int64{0: 10, 1: 5})
		checkTotal(t, s, 1, 1)
	}
	InsertFrom(t, s, map[int32]int64{0: 11, 1: 6}, Imp(at, User(2)))
	checkPositions(t, s, map[int32]int64{0: 11, 1: 6})
	checkTotal(t, s, 2, 2)
}

// testPositionsInterleaved: batches of different partitions, in the order
// a consumer group hands them out across rebalances (a partition's batch
// replayed by its new owner among them), each advance only its own
// partitions, and every batch not refused counts once.
func testPositionsInterleaved(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	user := 0
	batch := func(n int) []admeter.Event {
		evs := make([]admeter.Event, n)
		for i := range evs {
			user++
			evs[i] = Imp(at.Add(time.Duration(user)*time.Minute), User(user))
		}
		return evs
	}
	var imps int64
	for i, step := range []struct {
		next     map[int32]int64
		events   int
		conflict bool
		want     map[int32]int64
	}{
		{next: map[int32]int64{0: 3}, events: 3, want: map[int32]int64{0: 3}},
		{next: map[int32]int64{1: 2}, events: 2, want: map[int32]int64{0: 3, 1: 2}},
		{next: map[int32]int64{0: 6}, events: 3, want: map[int32]int64{0: 3 + 3, 1: 2}},
		{next: map[int32]int64{2: 4, 1: 5}, events: 7, want: map[int32]int64{0: 6, 1: 5, 2: 4}},
		// Partition 1 moves to a consumer that replays from its last
		// commit (2): the batch up to 5 is already stored.
		{next: map[int32]int64{1: 5}, events: 3, conflict: true, want: map[int32]int64{0: 6, 1: 5, 2: 4}},
		{next: map[int32]int64{1: 7}, events: 2, want: map[int32]int64{0: 6, 1: 7, 2: 4}},
		{next: map[int32]int64{0: 8, 2: 6, 3: 1}, events: 5, want: map[int32]int64{0: 8, 1: 7, 2: 6, 3: 1}},
		{next: map[int32]int64{2: 5, 3: 2}, events: 2, conflict: true, want: map[int32]int64{0: 8, 1: 7, 2: 6, 3: 1}},
		{next: map[int32]int64{3: 2}, events: 1, want: map[int32]int64{0: 8, 1: 7, 2: 6, 3: 2}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			err := s.InsertFrom(ctx, batch(step.events), step.next)
			switch {
			case step.conflict && admeter.ErrorCode(err) != admeter.ECONFLICT:
				t.Fatalf("InsertFrom(%v): %v, want ECONFLICT", step.next, err)
			case !step.conflict && err != nil:
				t.Fatalf("InsertFrom(%v): %v", step.next, err)
			case !step.conflict:
				imps += int64(step.events)
			}
			checkPositions(t, s, step.want)
			checkTotal(t, s, imps, imps)
		})
		if t.Failed() {
			return
		}
	}
}

// testPositionsEmptyEvents: a batch without events still advances its
// partitions (a stretch of the source with nothing for this store), and
// is refused once stored like any other.
func testPositionsEmptyEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	InsertFrom(t, s, map[int32]int64{0: 5})
	checkPositions(t, s, map[int32]int64{0: 5})
	checkTotal(t, s, 0, 0)
	if err := s.InsertFrom(ctx, []admeter.Event{}, map[int32]int64{0: 6, 1: 1}); err != nil {
		t.Fatalf("InsertFrom(no events): %v", err)
	}
	checkPositions(t, s, map[int32]int64{0: 6, 1: 1})
	if err := s.InsertFrom(ctx, nil, map[int32]int64{0: 6}); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("empty InsertFrom at the recorded position: %v, want ECONFLICT", err)
	}
	InsertFrom(t, s, map[int32]int64{0: 7}, Imp(at, User(1)))
	checkPositions(t, s, map[int32]int64{0: 7, 1: 1})
	checkTotal(t, s, 1, 1)
}

// testInsertFromReported: the events of InsertFrom are stored and counted
// like those of Insert: deduplicated, by day, in the frequency, returned
// to their users, in the raw days and key versions.
func testInsertFromReported(t *testing.T, s store.Store) {
	ctx := context.Background()
	d1, d2 := utc("2026-03-02T10:00:00Z"), utc("2026-03-03T10:00:00Z")
	InsertFrom(t, s, map[int32]int64{0: 1},
		Imp(d1, User(1), VF(1), Details()),
		Click(d1.Add(time.Minute), User(1)),
		Imp(d2, User(2), IVT(admeter.IVTDataCentre)),
	)
	// The retry of impression 1 comes through another partition.
	InsertFrom(t, s, map[int32]int64{1: 1},
		Imp(d1.Add(time.Second), User(1), VF(1)),
		Imp(d2, User(3)),
		Imp(d2.Add(time.Hour)),
	)
	q := wideQuery(store.ByDay)
	q.Filter = store.FilterAll
	checkReport(t, s, q, store.ReportResult{
		Rows: []store.ReportRow{
			{Dims: []string{"2026-03-02"}, Counts: counts(1, 1, 1, 1)},
			{Dims: []string{"2026-03-03"}, Counts: store.Counts{Impressions: 3, UV: 2, InvalidImpressions: 1, InvalidUV: 1}},
		},
		Total:                store.Counts{Impressions: 4, Clicks: 1, UV: 3, ClickUV: 1, InvalidImpressions: 1, InvalidUV: 1},
		AnonymousImpressions: 1,
	})
	// Valid traffic: the data-centre impression is not in it.
	checkReport(t, s, wideQuery(store.ByDay), store.ReportResult{
		Rows: []store.ReportRow{
			{Dims: []string{"2026-03-02"}, Counts: counts(1, 1, 1, 1)},
			{Dims: []string{"2026-03-03"}, Counts: store.Counts{Impressions: 2, UV: 1, InvalidImpressions: 1, InvalidUV: 1}},
		},
		Total:                store.Counts{Impressions: 3, Clicks: 1, UV: 2, ClickUV: 1, InvalidImpressions: 1, InvalidUV: 1},
		AnonymousImpressions: 1,
	})

	f, err := s.Frequency(ctx, store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d1.Add(-time.Hour), To: d2.Add(24 * time.Hour), Location: time.UTC})
	if err != nil {
		t.Fatalf("Frequency: %v", err)
	}
	if f.Reach != 2 || f.Impressions != 2 {
		t.Errorf("Frequency: reach %d of %d impressions, want 2 of 2", f.Reach, f.Impressions)
	}

	evs, truncated, err := s.UserEvents(ctx, DefaultTenant, []admeter.Pseudonym{UserID(1)}, 10)
	if err != nil || truncated || len(evs) != 3 {
		t.Fatalf("UserEvents(user 1) = %d events, truncated %v, %v; want 3", len(evs), truncated, err)
	}
	if e := evs[0]; e.Kind != admeter.KindImpression || !e.At.Equal(d1) || e.ImpressionID != ImpressionID(1) || e.App != "新闻" || e.Region.City != "深圳" {
		t.Errorf("UserEvents(user 1)[0] = %+v, want the first impression with its details", e)
	}

	days, err := s.RawDays(ctx)
	if err != nil {
		t.Fatalf("RawDays: %v", err)
	}
	if fmt.Sprint(days) != fmt.Sprint([]store.DayCount{{Day: store.DateOf(d1), Events: 3}, {Day: store.DateOf(d2), Events: 3}}) {
		t.Errorf("RawDays = %v, want 3 events on each of 2026-03-02 and 2026-03-03", days)
	}
	recent, err := s.RecentEvents(ctx, DefaultTenant, DefaultCampaign, 10)
	if err != nil || len(recent) != 6 {
		t.Errorf("RecentEvents = %d events, %v; want 6", len(recent), err)
	}
}

// testInsertFromInvalid: a batch without positions, with a negative
// partition or position, or with an invalid event, is refused with
// EINVALID and stores nothing.
func testInsertFromInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	good := []admeter.Event{Imp(at, User(1))}
	for name, tc := range map[string]struct {
		events []admeter.Event
		next   map[int32]int64
	}{
		"nil positions":      {good, nil},
		"empty positions":    {good, map[int32]int64{}},
		"no events, nil":     {nil, nil},
		"negative partition": {good, map[int32]int64{0: 1, -1: 5}},
		"negative position":  {good, map[int32]int64{0: -1}},
		"invalid event":      {append(good, Imp(at, Campaign(""))), map[int32]int64{0: 1}},
		"event before 2000":  {append(good, Imp(utc("1999-12-31T23:59:59Z"))), map[int32]int64{0: 1}},
	} {
		err := s.InsertFrom(ctx, tc.events, tc.next)
		if code := admeter.ErrorCode(err); code != admeter.EINVALID {
			t.Errorf("InsertFrom with %s: error %v (code %q), want EINVALID", name, err, code)
		}
	}
	checkPositions(t, s, map[int32]int64{})
	checkTotal(t, s, 0, 0)
	// Nothing was recorded: the first valid batch is not a conflict.
	InsertFrom(t, s, map[int32]int64{0: 1}, good...)
	checkPositions(t, s, map[int32]int64{0: 1})
	checkTotal(t, s, 1, 1)
}

// reopenPositions checks that the positions, and the events recorded
// with them, survive closing a store and opening it again, and that a
// batch replayed after reopening is refused.
func reopenPositions(t *testing.T, open func(t *testing.T, path string) store.Store, path string) {
	ctx := context.Background()
	at := utc("2026-03-02T10:00:00Z")
	closeStore := func(s store.Store) {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	s := open(t, path)
	checkPositions(t, s, map[int32]int64{})
	InsertFrom(t, s, map[int32]int64{0: 10, 1: 5}, Imp(at, User(1)), Imp(at.Add(25*time.Hour), User(2)))
	InsertFrom(t, s, map[int32]int64{1: 7}, Click(at, User(1)))
	InsertFrom(t, s, map[int32]int64{2: 3})
	closeStore(s)

	s = open(t, path)
	checkPositions(t, s, map[int32]int64{0: 10, 1: 7, 2: 3})
	checkTotal(t, s, 2, 2)
	if err := s.InsertFrom(ctx, []admeter.Event{Imp(at, User(3))}, map[int32]int64{0: 11, 1: 7}); admeter.ErrorCode(err) != admeter.ECONFLICT {
		closeStore(s)
		t.Fatalf("InsertFrom at a recorded position after reopen: %v, want ECONFLICT", err)
	}
	InsertFrom(t, s, map[int32]int64{0: 11, 3: 1}, Imp(at, User(3)))
	closeStore(s)

	s = open(t, path)
	defer closeStore(s)
	checkPositions(t, s, map[int32]int64{0: 11, 1: 7, 2: 3, 3: 1})
	checkTotal(t, s, 3, 3)
	if off, err := s.Offset(ctx); err != nil || off != 0 {
		t.Fatalf("Offset of a store loaded with InsertFrom = %d, %v; want 0", off, err)
	}
}
