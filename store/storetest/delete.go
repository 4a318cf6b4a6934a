package storetest

import (
	"context"
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
// users on every day, and nothing of other tenants or users.
func testDeleteUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	day1, day2 := utc("2026-03-01T10:00:00Z"), utc("2026-03-05T10:00:00Z")
	Insert(t, s, 1,
		Imp(day1, User(1)), Imp(day2, User(1)), Click(day2, User(1)),
		Imp(day1, User(2)), Imp(day2),
		Imp(day1, User(1), Tenant("t2")), Imp(day2, User(1), Tenant("t2")),
	)
	n, err := s.DeleteUsers(ctx, DefaultTenant, []admeter.Pseudonym{UserID(1), UserID(9)})
	if err != nil || n != 3 {
		t.Fatalf("DeleteUsers = %d, %v; want 3", n, err)
	}
	checkReport(t, s, wideQuery(), store.ReportResult{Total: counts(2, 0, 1, 0), AnonymousImpressions: 1})
	q := wideQuery()
	q.Tenant = "t2"
	checkReport(t, s, q, store.ReportResult{Total: counts(2, 0, 1, 0)})
	if n, err := s.DeleteUsers(ctx, DefaultTenant, nil); err != nil || n != 0 {
		t.Fatalf("DeleteUsers(none) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteUsers(ctx, "t2", []admeter.Pseudonym{UserID(1)}); err != nil || n != 2 {
		t.Fatalf("DeleteUsers(t2) = %d, %v; want 2", n, err)
	}
	checkReport(t, s, q, store.ReportResult{})
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
