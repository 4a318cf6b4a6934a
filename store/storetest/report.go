package storetest

import (
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// testServedNotCounted: KindServed is neither an impression nor a click.
func testServedNotCounted(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Served(at, User(1)), Served(at, User(2), VF(1)), Served(at),
		Imp(at, User(3)),
	)
	checkReport(t, s, wideQuery(store.ByPlacement), store.ReportResult{
		Rows:  []store.ReportRow{row(1, 0, 1, 0, "p1")},
		Total: counts(1, 0, 1, 0),
	})
}

// testDedupImpressionID: a non-zero impression id counts once per placement
// and kind.
func testDedupImpressionID(t *testing.T, s store.Store) {
	at := utc("2026-03-02T02:00:00Z")
	p2 := Placement("p2")
	Insert(t, s, 1,
		Imp(at, User(1), VF(1)),
		Imp(at.Add(time.Minute), User(1), VF(1)),       // retry: dropped
		Imp(at.Add(2*time.Minute), User(2), VF(1), p2), // other placement: counts
		Click(at.Add(3*time.Minute), User(1), VF(1)),   // a click sharing the vf: a click
		Click(at.Add(4*time.Minute), User(1), VF(1)),   // click retry: dropped
		Imp(at, User(5)), Imp(at, User(5)),             // no vf: both count
		Imp(at, VF(2)), // anonymous with a vf
	)
	// The retry arrives in a later batch.
	Insert(t, s, 2, Imp(at.Add(time.Hour), User(1), VF(1)), Imp(at.Add(time.Hour), VF(2)))
	checkReport(t, s, wideQuery(store.ByPlacement), store.ReportResult{
		Rows: []store.ReportRow{
			row(4, 1, 2, 1, "p1"), // vf1, vf2 (anonymous), 2×user 5
			row(1, 0, 1, 0, "p2"),
		},
		Total:                counts(5, 1, 3, 1),
		AnonymousImpressions: 1,
	})
}

// testDedupFirstByEventTime: of events sharing an impression id the one
// with the earliest event time counts, whatever the order they arrive in;
// its user and its day are the ones reported.
func testDedupFirstByEventTime(t *testing.T, s store.Store) {
	// User 4's impression is earlier (day 2026-03-02) than user 3's
	// (2026-03-03) but arrives later.
	Insert(t, s, 1, Imp(utc("2026-03-03T01:00:00Z"), User(3), VF(2)))
	Insert(t, s, 2, Imp(utc("2026-03-02T23:00:00Z"), User(4), VF(2)))
	// An anonymous first impression: its retry with a user adds no user.
	Insert(t, s, 3, Imp(utc("2026-03-02T05:00:00Z"), User(6), VF(3)), Imp(utc("2026-03-02T04:00:00Z"), VF(3)))
	checkReport(t, s, wideQuery(store.ByDay), store.ReportResult{
		Rows:                 []store.ReportRow{row(2, 0, 1, 0, "2026-03-02")},
		Total:                counts(2, 0, 1, 0),
		AnonymousImpressions: 1,
	})
	q := wideQuery()
	q.By = []store.Dimension{store.ByDay}
	q.From = utc("2026-03-03T00:00:00Z")
	checkReport(t, s, q, store.ReportResult{
		Rows:  []store.ReportRow{row(1, 0, 1, 0, "2026-03-03")},
		Total: counts(1, 0, 1, 0),
	})
}

// testDedupWithinRange: duplicates are looked for among the events of the
// query's range: a retry whose first event is before From counts.
func testDedupWithinRange(t *testing.T, s store.Store) {
	first := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1, Imp(first, User(1), VF(1)), Imp(first.Add(2*time.Hour), User(1), VF(1)))
	q := wideQuery()
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
	q.From = first.Add(time.Hour)
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
	q.From, q.To = first, first.Add(time.Hour)
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
}

// testUsersAndAnonymous: UV and ClickUV are exact distinct counts of users;
// events without a user count as impressions and clicks, not as users.
func testUsersAndAnonymous(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1)), Imp(at, User(1)), Imp(at, User(1)), Click(at, User(1)),
		Imp(at, User(2)),
		Click(at, User(3)), // clicked without an impression in range
		Imp(at), Imp(at), Click(at),
	)
	checkReport(t, s, wideQuery(), store.ReportResult{
		Total:                counts(6, 3, 2, 2),
		AnonymousImpressions: 2,
		AnonymousClicks:      1,
	})
	// Many users, to catch a store that estimates instead of counting.
	var evs []admeter.Event
	for u := 100; u < 5100; u++ {
		evs = append(evs, Imp(at, User(u)))
		if u%7 == 0 {
			evs = append(evs, Click(at, User(u)), Imp(at, User(u)))
		}
	}
	Insert(t, s, 2, evs...)
	// 5000 users; 714 multiples of 7 in [100, 5100) with a second impression
	// and a click.
	checkReport(t, s, wideQuery(), store.ReportResult{
		Total:                counts(6+5000+714, 3+714, 2+5000, 2+714),
		AnonymousImpressions: 2,
		AnonymousClicks:      1,
	})
}

// shanghaiEvents are events around the day boundaries of Asia/Shanghai
// (UTC+8) for 2026-03-01 and 2026-03-02 local.
func shanghaiEvents() []admeter.Event {
	return []admeter.Event{
		Imp(utc("2026-02-28T15:59:59.999Z"), User(9)),   // 2026-02-28 23:59:59.999 local: before From
		Imp(utc("2026-02-28T16:00:00Z"), User(1)),       // 2026-03-01 00:00 local (= From), UTC day 02-28
		Imp(utc("2026-03-01T15:30:00Z"), User(1)),       // 2026-03-01 23:30 local
		Imp(utc("2026-03-01T16:30:00Z"), User(2)),       // 2026-03-02 00:30 local, UTC day still 03-01
		Click(utc("2026-03-02T15:59:59.999Z"), User(1)), // 2026-03-02 23:59:59.999 local
		Imp(utc("2026-03-02T16:00:00Z"), User(9)),       // 2026-03-03 00:00 local (= To)
	}
}

func shanghaiQuery(t *testing.T, by ...store.Dimension) store.ReportQuery {
	loc := mustLoad(t, "Asia/Shanghai")
	return store.ReportQuery{
		Tenant: DefaultTenant, Campaign: DefaultCampaign,
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 3, 3, 0, 0, 0, 0, loc),
		Location: loc, By: by,
	}
}

func testByDayShanghai(t *testing.T, s store.Store) {
	Insert(t, s, 1, shanghaiEvents()...)
	checkReport(t, s, shanghaiQuery(t, store.ByDay), store.ReportResult{
		Rows: []store.ReportRow{
			row(2, 0, 1, 0, "2026-03-01"),
			row(1, 1, 1, 1, "2026-03-02"),
		},
		Total: counts(3, 1, 2, 1),
	})
}

func testByHourShanghai(t *testing.T, s store.Store) {
	Insert(t, s, 1, shanghaiEvents()...)
	checkReport(t, s, shanghaiQuery(t, store.ByHour), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "2026-03-01T00"),
			row(1, 0, 1, 0, "2026-03-01T23"),
			row(1, 0, 1, 0, "2026-03-02T00"),
			row(0, 1, 0, 1, "2026-03-02T23"),
		},
		Total: counts(3, 1, 2, 1),
	})
}

// newYorkEvents are events around both 2026 DST changes of
// America/New_York: 2026-03-08 02:00 EST becomes 03:00 EDT (07:00 UTC), and
// 2026-11-01 02:00 EDT becomes 01:00 EST (06:00 UTC).
func newYorkEvents() []admeter.Event {
	return []admeter.Event{
		Imp(utc("2026-03-08T04:59:00Z"), User(1)), // 03-07 23:59 EST
		Imp(utc("2026-03-08T05:00:00Z"), User(1)), // 03-08 00:00 EST
		Imp(utc("2026-03-08T06:30:00Z"), User(2)), // 03-08 01:30 EST
		Imp(utc("2026-03-08T07:30:00Z"), User(2)), // 03-08 03:30 EDT
		Imp(utc("2026-03-09T03:59:00Z"), User(3)), // 03-08 23:59 EDT
		Imp(utc("2026-03-09T04:00:00Z"), User(3)), // 03-09 00:00 EDT
		Imp(utc("2026-11-01T03:59:00Z"), User(4)), // 10-31 23:59 EDT
		Imp(utc("2026-11-01T04:00:00Z"), User(4)), // 11-01 00:00 EDT
		Imp(utc("2026-11-01T05:30:00Z"), User(5)), // 11-01 01:30 EDT
		Imp(utc("2026-11-01T06:30:00Z"), User(6)), // 11-01 01:30 EST: the same local hour
		Imp(utc("2026-11-01T07:30:00Z"), User(5)), // 11-01 02:30 EST
		Imp(utc("2026-11-02T04:59:00Z"), User(7)), // 11-01 23:59 EST (a 25-hour day)
		Imp(utc("2026-11-02T05:00:00Z"), User(7)), // 11-02 00:00 EST
	}
}

func newYorkQuery(t *testing.T, by ...store.Dimension) store.ReportQuery {
	loc := mustLoad(t, "America/New_York")
	return store.ReportQuery{
		Tenant: DefaultTenant, Campaign: DefaultCampaign,
		From: time.Date(2026, 3, 7, 0, 0, 0, 0, loc), To: time.Date(2026, 11, 3, 0, 0, 0, 0, loc),
		Location: loc, By: by,
	}
}

func testByDayNewYorkDST(t *testing.T, s store.Store) {
	Insert(t, s, 1, newYorkEvents()...)
	checkReport(t, s, newYorkQuery(t, store.ByDay), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "2026-03-07"),
			row(4, 0, 3, 0, "2026-03-08"),
			row(1, 0, 1, 0, "2026-03-09"),
			row(1, 0, 1, 0, "2026-10-31"),
			row(5, 0, 4, 0, "2026-11-01"),
			row(1, 0, 1, 0, "2026-11-02"),
		},
		Total: counts(13, 0, 7, 0),
	})
}

func testByHourNewYorkDST(t *testing.T, s store.Store) {
	Insert(t, s, 1, newYorkEvents()...)
	checkReport(t, s, newYorkQuery(t, store.ByHour), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "2026-03-07T23"),
			row(1, 0, 1, 0, "2026-03-08T00"),
			row(1, 0, 1, 0, "2026-03-08T01"),
			row(1, 0, 1, 0, "2026-03-08T03"), // 02 does not exist
			row(1, 0, 1, 0, "2026-03-08T23"),
			row(1, 0, 1, 0, "2026-03-09T00"),
			row(1, 0, 1, 0, "2026-10-31T23"),
			row(1, 0, 1, 0, "2026-11-01T00"),
			row(2, 0, 2, 0, "2026-11-01T01"), // 01 happens twice
			row(1, 0, 1, 0, "2026-11-01T02"),
			row(1, 0, 1, 0, "2026-11-01T23"),
			row(1, 0, 1, 0, "2026-11-02T00"),
		},
		Total: counts(13, 0, 7, 0),
	})
}

func testByPlacement(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1), Placement("pB")), Imp(at, User(2), Placement("pB")), Click(at, User(1), Placement("pB")),
		Imp(at, User(1), Placement("pA")),
		Click(at, Placement("pC")),
	)
	checkReport(t, s, wideQuery(store.ByPlacement), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "pA"),
			row(2, 1, 2, 1, "pB"),
			row(0, 1, 0, 0, "pC"),
		},
		Total:           counts(3, 2, 2, 1),
		AnonymousClicks: 1,
	})
}

// testByMedia: media come from the query's map; a user on two placements of
// one media is one user of that media.
func testByMedia(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1), Placement("p1")), Imp(at, User(1), Placement("p2")), Click(at, User(1), Placement("p2")),
		Imp(at, User(2), Placement("p3")),
		Imp(at, User(3), Placement("p4")), // not in the map
		Imp(at, User(3), Placement("p5")), // no media: the same as unknown
	)
	q := wideQuery(store.ByMedia)
	q.Media = map[admeter.PlacementID]string{"p1": "Tencent", "p2": "Tencent", "p3": "Baidu", "p5": "", "p9": "Sohu"}
	checkReport(t, s, q, store.ReportResult{
		Rows: []store.ReportRow{
			row(2, 0, 1, 0, ""),
			row(1, 0, 1, 0, "Baidu"),
			row(2, 1, 1, 1, "Tencent"),
		},
		Total: counts(5, 1, 3, 1),
	})
	q.By = []store.Dimension{store.ByPlacement, store.ByMedia}
	checkReport(t, s, q, store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "p1", "Tencent"),
			row(1, 1, 1, 1, "p2", "Tencent"),
			row(1, 0, 1, 0, "p3", "Baidu"),
			row(1, 0, 1, 0, "p4", ""),
			row(1, 0, 1, 0, "p5", ""),
		},
		Total: counts(5, 1, 3, 1),
	})
}

// testByRegion: the province for China, the country elsewhere, "" unknown.
func testByRegion(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1), Region("CN", "广东")), Imp(at, User(4), Region("CN", "广东")),
		Imp(at, User(2), Region("CN", "北京")),
		Imp(at, User(3), Region("US", "California")), Click(at, User(3), Region("US", "")),
		Imp(at, User(5), Region("CN", "")),
		Imp(at, User(6)),
	)
	checkReport(t, s, wideQuery(store.ByRegion), store.ReportResult{
		Rows: []store.ReportRow{
			row(2, 0, 2, 0, ""),
			row(1, 1, 1, 1, "US"),
			row(1, 0, 1, 0, "北京"),
			row(2, 0, 2, 0, "广东"),
		},
		Total: counts(6, 1, 6, 1),
	})
}

// testByOSDevice: names as admeter.OS and DeviceType print them; Dims in
// the query's order, rows sorted in store.Dimensions order.
func testByOSDevice(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1), OS(admeter.OSIOS), Device(admeter.DevicePhone)),
		Imp(at, User(2), OS(admeter.OSAndroid), Device(admeter.DeviceTablet)),
		Imp(at, User(3), OS(admeter.OSAndroid), Device(admeter.DevicePhone)),
		Click(at, User(3), OS(admeter.OSAndroid), Device(admeter.DevicePhone)),
		Imp(at),
	)
	checkReport(t, s, wideQuery(store.ByDevice, store.ByOS), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 1, 1, 1, "phone", "android"),
			row(1, 0, 1, 0, "tablet", "android"),
			row(1, 0, 1, 0, "phone", "ios"),
			row(1, 0, 0, 0, "unknown", "unknown"),
		},
		Total:                counts(4, 1, 3, 1),
		AnonymousImpressions: 1,
	})
}

// testManyDimsSorted: rows are sorted by day before placement, whatever
// order the query names them in.
func testManyDimsSorted(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		Imp(utc("2026-03-02T10:00:00Z"), User(1), Placement("pZ"), Region("CN", "广东")),
		Imp(utc("2026-03-02T11:00:00Z"), User(2), Placement("pZ"), Region("JP", "")),
		Imp(utc("2026-03-03T10:00:00Z"), User(1), Placement("pA"), Region("CN", "广东")),
		Click(utc("2026-03-03T10:05:00Z"), User(1), Placement("pA"), Region("CN", "广东")),
	)
	checkReport(t, s, wideQuery(store.ByRegion, store.ByPlacement, store.ByDay), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 0, 1, 0, "JP", "pZ", "2026-03-02"),
			row(1, 0, 1, 0, "广东", "pZ", "2026-03-02"),
			row(1, 1, 1, 1, "广东", "pA", "2026-03-03"),
		},
		Total: counts(3, 1, 2, 1),
	})
}

// testTotalUVDistinct: the total's UV counts each user once over the range,
// not once per row.
func testTotalUVDistinct(t *testing.T, s store.Store) {
	Insert(t, s, 1,
		Imp(utc("2026-03-02T10:00:00Z"), User(1), Placement("p1")), Click(utc("2026-03-02T10:00:00Z"), User(1)),
		Imp(utc("2026-03-03T10:00:00Z"), User(1), Placement("p2")), Click(utc("2026-03-03T10:00:00Z"), User(1), Placement("p2")),
		Imp(utc("2026-03-03T10:00:00Z"), User(2), Placement("p2")),
	)
	checkReport(t, s, wideQuery(store.ByDay, store.ByPlacement), store.ReportResult{
		Rows: []store.ReportRow{
			row(1, 1, 1, 1, "2026-03-02", "p1"),
			row(2, 1, 2, 1, "2026-03-03", "p2"),
		},
		Total: counts(3, 2, 2, 1),
	})
}

// testHalfOpenRange: From is included, To excluded, to the millisecond.
func testHalfOpenRange(t *testing.T, s store.Store) {
	from, to := utc("2026-03-02T10:00:00Z"), utc("2026-03-04T10:00:00Z")
	Insert(t, s, 1,
		Imp(from.Add(-time.Millisecond), User(1)),
		Imp(from, User(2)),
		Imp(to.Add(-time.Millisecond), User(3)),
		Imp(to, User(4)),
	)
	q := wideQuery()
	q.From, q.To = from, to
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 0, 2, 0)})
	q.To = from.Add(time.Millisecond)
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
	// Both bounds inside one day.
	Insert(t, s, 2, Imp(from.Add(time.Hour), User(5)), Imp(from.Add(time.Hour-time.Millisecond), User(6)))
	q.To = from.Add(time.Hour)
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 0, 2, 0)})
	q.From = from.Add(time.Millisecond)
	checkReport(t, s, q, store.ReportResult{Total: counts(1, 0, 1, 0)})
}

// testTenantIsolation: the same campaign id under another tenant is
// invisible, and so is another campaign of the same tenant.
func testTenantIsolation(t *testing.T, s store.Store) {
	at := utc("2026-03-02T10:00:00Z")
	Insert(t, s, 1,
		Imp(at, User(1)),
		Imp(at, User(2), Tenant("t2")), Imp(at, User(3), Tenant("t2")), Click(at, User(2), Tenant("t2")),
		Imp(at, User(4), Campaign("10000002")),
	)
	checkReport(t, s, wideQuery(store.ByPlacement), store.ReportResult{
		Rows:  []store.ReportRow{row(1, 0, 1, 0, "p1")},
		Total: counts(1, 0, 1, 0),
	})
	q := wideQuery()
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 1, 2, 1)})
	q.Tenant = "t3"
	checkReport(t, s, q, store.ReportResult{})
}

func testEmptyReport(t *testing.T, s store.Store) {
	checkReport(t, s, wideQuery(store.ByDay, store.ByPlacement), store.ReportResult{})
	Insert(t, s, 1, Imp(utc("2026-03-02T10:00:00Z"), User(1)))
	q := wideQuery(store.ByDay)
	q.From, q.To = utc("2026-04-01T00:00:00Z"), utc("2026-05-01T00:00:00Z")
	checkReport(t, s, q, store.ReportResult{})
}
