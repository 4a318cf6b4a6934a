package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// testDeleteBefore: retention deletes every tenant's events before t, to
// the millisecond, across day boundaries; later inserts into a cleared day
// work.
func testDeleteBefore(t *testing.T, s store.Store) {
	ctx := context.Background()
	Insert(t, s, 1,
		Imp(utc("2026-03-01T10:00:00Z"), User(1)), Click(utc("2026-03-01T20:00:00Z"), User(1)),
		Imp(utc("2026-03-01T20:00:00Z"), User(1), Tenant("t2")),
		Imp(utc("2026-03-02T01:00:00Z"), User(2)),
		Imp(utc("2026-03-02T11:59:59.999Z"), User(2)),
		Imp(utc("2026-03-02T12:00:00Z"), User(3)),
		Imp(utc("2026-03-02T23:00:00Z"), User(4)),
		Imp(utc("2026-03-03T05:00:00Z"), User(5)),
	)
	del := func(t0 time.Time, want int64) {
		t.Helper()
		n, err := s.DeleteBefore(ctx, t0)
		if err != nil || n != want {
			t.Fatalf("DeleteBefore(%s) = %d, %v; want %d", t0.Format(time.RFC3339), n, err, want)
		}
	}
	del(utc("2026-03-02T12:00:00Z"), 5)
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(3, 0, 3, 0)})
	q := wideQuery()
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{})
	del(utc("2026-03-02T12:00:00Z"), 0)
	del(utc("2026-03-03T00:00:00Z"), 2)
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(1, 0, 1, 0)})

	// A late event for a cleared day is stored and counted again.
	Insert(t, s, 2, Imp(utc("2026-03-01T10:00:00Z"), User(6)))
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(2, 0, 2, 0)})
	if off, err := s.Offset(ctx); err != nil || off != 2 {
		t.Fatalf("Offset = %d, %v; want 2", off, err)
	}
	del(utc("2030-01-01T00:00:00Z"), 2)
	checkReport(t, s, wideQuery(), store.ReportResult{})
}

// testDeleteUsers: a deletion request removes the tenant's events of those
// users on every day, and nothing of other tenants or users; it reports
// the count and each campaign's span of event times.
func testDeleteUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	day1, day2 := utc("2026-03-01T10:00:00Z"), utc("2026-03-05T10:00:00.250Z")
	Insert(t, s, 1,
		Imp(day1, User(1)), Imp(day2, User(1)), Click(day2, User(1)),
		Imp(day1, User(2)), Imp(day2),
		Imp(day1, User(1), Tenant("t2")), Imp(day2, User(1), Tenant("t2")),
	)
	del := func(tenant admeter.TenantID, users []admeter.Pseudonym, want store.Deleted) {
		t.Helper()
		got, err := s.DeleteUsers(ctx, tenant, users)
		if err != nil {
			t.Fatalf("DeleteUsers(%s, %d users): %v", tenant, len(users), err)
		}
		checkDeleted(t, got, want)
	}
	span := store.TimeSpan{From: day1, To: day2}
	// Repeated and zero pseudonyms, and users without events, change nothing.
	del(DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(9), {}, UserID(1)},
		store.Deleted{Events: 3, Campaigns: map[admeter.CampaignID]store.TimeSpan{DefaultCampaign: span}})
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(2, 0, 1, 0), AnonymousImpressions: 1})
	q := wideQuery()
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 0, 1, 0)})
	del(DefaultTenant, nil, store.Deleted{})
	del(DefaultTenant, []admeter.Pseudonym{{}}, store.Deleted{})
	del(DefaultTenant, []admeter.Pseudonym{UserID(1)}, store.Deleted{})
	del("t3", []admeter.Pseudonym{UserID(1)}, store.Deleted{})
	del("t2", []admeter.Pseudonym{UserID(1)}, store.Deleted{Events: 2, Campaigns: map[admeter.CampaignID]store.TimeSpan{DefaultCampaign: span}})
	checkReport(t, s, q, store.ReportResult{})
	if _, err := s.DeleteUsers(ctx, "", []admeter.Pseudonym{UserID(2)}); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("DeleteUsers without a tenant: %v, want EINVALID", err)
	}
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(2, 0, 1, 0), AnonymousImpressions: 1})
}

// checkDeleted compares what DeleteUsers returned with want, times by
// instant.
func checkDeleted(t *testing.T, got, want store.Deleted) {
	t.Helper()
	ok := got.Events == want.Events && len(got.Campaigns) == len(want.Campaigns)
	for c, w := range want.Campaigns {
		g, found := got.Campaigns[c]
		ok = ok && found && g.From.Equal(w.From) && g.To.Equal(w.To) &&
			g.From.Location() == time.UTC && g.To.Location() == time.UTC
	}
	if !ok {
		t.Errorf("DeleteUsers = %s, want %s", formatDeleted(got), formatDeleted(want))
	}
}

func formatDeleted(d store.Deleted) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events", d.Events)
	camps := slices.Sorted(maps.Keys(d.Campaigns))
	for _, c := range camps {
		sp := d.Campaigns[c]
		fmt.Fprintf(&b, ", %s [%s, %s]", c, sp.From.UTC().Format(time.RFC3339Nano), sp.To.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

// testConcurrent: reports and frequencies run while batches are inserted;
// a reader never sees part of a batch.
func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const batches, size = 30, 200
	at := utc("2026-03-02T10:00:00Z")
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for {
				select {
				case <-done:
					return
				default:
				}
				var n int64
				if r == 0 {
					f, err := s.Frequency(ctx, store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: at, To: at.Add(time.Hour), Location: time.UTC})
					if err != nil {
						errs <- err
						return
					}
					n = f.Impressions
				} else {
					rep, err := s.Report(ctx, wideQuery(store.ByHour, store.ByPlacement))
					if err != nil {
						errs <- err
						return
					}
					n = rep.Total.Impressions
				}
				if n%size != 0 || n < last {
					t.Errorf("reader saw %d impressions after %d: not whole batches", n, last)
					return
				}
				last = n
			}
		}()
	}
	for b := range batches {
		evs := make([]admeter.Event, size)
		for i := range evs {
			evs[i] = Imp(at.Add(time.Duration(i)*time.Second), User(b*size+i+1), VF(b*size+i+1))
		}
		if err := s.Insert(ctx, evs, uint64(b+1)); err != nil {
			t.Errorf("Insert batch %d: %v", b, err)
			break
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("reader: %v", err)
	}
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(batches*size, 0, batches*size, 0)})
}

// testDeleteTenant: DeleteTenant removes a tenant's raw events and rollups,
// and nothing of another tenant.
func testDeleteTenant(t *testing.T, s store.Store) {
	ctx := context.Background()
	day1, day2 := utc("2026-03-01T10:00:00Z"), utc("2026-03-05T10:00:00Z")
	Insert(t, s, 1,
		Imp(day1, User(1)), Imp(day2, User(2)), Click(day2, User(1)),
		Imp(day1, User(1), Tenant("t2")), Imp(day2, User(3), Tenant("t2")),
	)
	days := []store.Date{store.DateOf(day1), store.DateOf(day2)}
	for _, tn := range []admeter.TenantID{DefaultTenant, "t2"} {
		if err := s.RefreshRollups(ctx, tn, DefaultCampaign, time.UTC, days); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteTenant(ctx, DefaultTenant)
	if err != nil || n != 3 {
		t.Fatalf("DeleteTenant = %d, %v; want 3 events", n, err)
	}
	checkReport(t, s, wideQuery(), store.ReportResult{})
	rows, err := s.Daily(ctx, store.DailyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: days[0], To: days[1]})
	if err != nil || len(rows) != 0 {
		t.Fatalf("rollups after DeleteTenant: %d rows, %v", len(rows), err)
	}
	q := wideQuery()
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 0, 2, 0)})
	if rows, _ := s.Daily(ctx, store.DailyQuery{Tenant: "t2", Campaign: DefaultCampaign, From: days[0], To: days[1]}); len(rows) != 2 {
		t.Fatalf("the other tenant's rollups: %d rows, want 2", len(rows))
	}
	if n, err := s.DeleteTenant(ctx, "t9"); err != nil || n != 0 {
		t.Fatalf("DeleteTenant of an unknown tenant = %d, %v", n, err)
	}
	if _, err := s.DeleteTenant(ctx, ""); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("DeleteTenant without a tenant: %v", err)
	}
}

// testRecentEvents: the latest events of one campaign, newest received
// first, never another campaign's or tenant's.
func testRecentEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	day := utc("2026-03-05T10:00:00Z")
	Insert(t, s, 1,
		Imp(day, User(1), Received(day.Add(time.Minute))),
		Click(day, User(1), Received(day.Add(3*time.Minute)), crawler),
		Imp(day, User(2), Received(day.Add(2*time.Minute))),
		Imp(day, User(3), Received(day.Add(9*time.Minute)), Campaign("other")),
		Imp(day, User(4), Received(day.Add(8*time.Minute)), Tenant("t2")),
	)
	evs, err := s.RecentEvents(ctx, DefaultTenant, DefaultCampaign, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != admeter.KindClick || evs[1].User != UserID(2) || evs[0].Campaign != DefaultCampaign ||
		evs[0].IVT != admeter.IVTCrawler || evs[1].IVT != 0 {
		t.Fatalf("RecentEvents = %+v; want the invalid click then user 2's valid impression", evs)
	}
	if evs, _ := s.RecentEvents(ctx, DefaultTenant, "nope", 5); len(evs) != 0 {
		t.Fatalf("unknown campaign: %d events", len(evs))
	}
	if _, err := s.RecentEvents(ctx, DefaultTenant, DefaultCampaign, 0); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("limit 0: %v", err)
	}
}
