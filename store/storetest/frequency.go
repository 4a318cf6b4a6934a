package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

func frequency(t *testing.T, s store.Store, q store.FrequencyQuery) *store.FrequencyResult {
	t.Helper()
	r, err := s.Frequency(context.Background(), q)
	if err != nil {
		t.Fatalf("Frequency: %v", err)
	}
	return r
}

func checkFrequency(t *testing.T, s store.Store, q store.FrequencyQuery, want store.FrequencyResult) {
	t.Helper()
	got := frequency(t, s, q)
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Frequency [%s, %s) of placements %q:\ngot  %+v\nwant %+v", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), q.Placements, *got, want)
	}
}

// shanghaiDays returns the start of n consecutive local days in
// Asia/Shanghai from 2026-03-01, and the location.
func shanghaiDays(t *testing.T, n int) ([]time.Time, *time.Location) {
	loc := mustLoad(t, "Asia/Shanghai")
	days := make([]time.Time, n)
	for i := range days {
		days[i] = time.Date(2026, 3, 1+i, 0, 0, 0, 0, loc)
	}
	return days, loc
}

// testFrequency: reach, impressions of reached users, the distribution with
// its 10+ bucket, and cumulative reach for every day of the range, including
// a day without events.
func testFrequency(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 4)
	var evs []admeter.Event
	imps := func(user, n int, day time.Time) {
		for i := range n {
			evs = append(evs, Imp(day.Add(time.Duration(i)*time.Minute), User(user)))
		}
	}
	evs = append(evs,
		Imp(d[0].Add(time.Hour), User(1), VF(1)), Imp(d[0].Add(2*time.Hour), User(1), VF(1)), // a retry
		Imp(d[0].Add(time.Hour), User(2)), Imp(d[2].Add(time.Hour), User(2)),
		Served(d[0], User(4)), Click(d[1], User(5)), // not impressions
		Click(d[2], User(12)),
		Imp(d[3], User(20)), Imp(d[0].Add(-time.Millisecond), User(21)), // outside
	)
	imps(3, 3, d[2])
	imps(10, 10, d[0])
	imps(11, 11, d[0])
	imps(12, 12, d[2])
	for range 5 {
		evs = append(evs, Imp(d[0]))
	}
	Insert(t, s, 1, evs...)

	q := store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[3], Location: loc}
	checkFrequency(t, s, q, store.FrequencyResult{
		Reach:        6,
		Impressions:  1 + 2 + 3 + 10 + 11 + 12,
		Distribution: [store.MaxFrequencyBucket]int64{1, 1, 1, 0, 0, 0, 0, 0, 0, 3},
		CumulativeReach: []store.DayReach{
			{Day: store.Date{Year: 2026, Month: 3, Day: 1}, Reach: 4},
			{Day: store.Date{Year: 2026, Month: 3, Day: 2}, Reach: 4},
			{Day: store.Date{Year: 2026, Month: 3, Day: 3}, Reach: 6},
		},
	})

	// A range that starts and ends inside days lists every day it touches.
	q.From, q.To = d[1].Add(12*time.Hour), d[2].Add(time.Hour+time.Millisecond)
	checkFrequency(t, s, q, store.FrequencyResult{
		Reach:        3,
		Impressions:  1 + 3 + 12,
		Distribution: [store.MaxFrequencyBucket]int64{1, 0, 1, 0, 0, 0, 0, 0, 0, 1},
		CumulativeReach: []store.DayReach{
			{Day: store.Date{Year: 2026, Month: 3, Day: 2}, Reach: 0},
			{Day: store.Date{Year: 2026, Month: 3, Day: 3}, Reach: 3},
		},
	})

	// Another tenant's campaign with the same id is not reached.
	q.Tenant = "t2"
	q.From, q.To = d[0], d[3]
	checkFrequency(t, s, q, store.FrequencyResult{CumulativeReach: []store.DayReach{
		{Day: store.Date{Year: 2026, Month: 3, Day: 1}}, {Day: store.Date{Year: 2026, Month: 3, Day: 2}}, {Day: store.Date{Year: 2026, Month: 3, Day: 3}},
	}})
}

func testFrequencyEmpty(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 3)
	checkFrequency(t, s, store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[2], Location: loc},
		store.FrequencyResult{CumulativeReach: []store.DayReach{
			{Day: store.Date{Year: 2026, Month: 3, Day: 1}}, {Day: store.Date{Year: 2026, Month: 3, Day: 2}},
		}})
}

// testFrequencyDedup: a retried impression is seen once; the same id on
// another placement is another impression.
func testFrequencyDedup(t *testing.T, s store.Store) {
	d, loc := shanghaiDays(t, 2)
	Insert(t, s, 1,
		Imp(d[0].Add(time.Hour), User(1), VF(1)), Imp(d[0].Add(time.Hour+time.Second), User(1), VF(1)),
		Imp(d[0].Add(time.Hour), User(1), VF(1), Placement("p2")),
		Imp(d[0].Add(time.Hour), User(2), VF(2)), Imp(d[0].Add(time.Hour+time.Second), User(2), VF(2)),
	)
	checkFrequency(t, s, store.FrequencyQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: d[0], To: d[1], Location: loc},
		store.FrequencyResult{
			Reach: 2, Impressions: 3,
			Distribution:    [store.MaxFrequencyBucket]int64{1, 1},
			CumulativeReach: []store.DayReach{{Day: store.Date{Year: 2026, Month: 3, Day: 1}, Reach: 2}},
		})
}

// testInvalidQueries: malformed queries are EINVALID.
func testInvalidQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	ok := wideQuery(store.ByDay)
	reports := map[string]func(q *store.ReportQuery){
		"nil location":        func(q *store.ReportQuery) { q.Location = nil },
		"empty range":         func(q *store.ReportQuery) { q.To = q.From },
		"reversed range":      func(q *store.ReportQuery) { q.From, q.To = q.To, q.From },
		"unknown dimension":   func(q *store.ReportQuery) { q.By = []store.Dimension{"browser"} },
		"duplicate dimension": func(q *store.ReportQuery) { q.By = []store.Dimension{store.ByDay, store.ByOS, store.ByDay} },
	}
	for name, change := range reports {
		q := ok
		change(&q)
		if _, err := s.Report(ctx, q); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("Report with %s: %v, want EINVALID", name, err)
		}
	}
	fq := store.FrequencyQuery{Tenant: ok.Tenant, Campaign: ok.Campaign, From: ok.From, To: ok.To}
	if _, err := s.Frequency(ctx, fq); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Frequency with nil location: %v, want EINVALID", err)
	}
	fq.Location = time.UTC
	fq.To = fq.From
	if _, err := s.Frequency(ctx, fq); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Frequency with an empty range: %v, want EINVALID", err)
	}
	dq := store.DailyQuery{Tenant: ok.Tenant, Campaign: ok.Campaign, From: store.Date{Year: 2026, Month: 3, Day: 2}, To: store.Date{Year: 2026, Month: 3, Day: 1}}
	if _, err := s.Daily(ctx, dq); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Daily with From after To: %v, want EINVALID", err)
	}
	if err := s.RefreshRollups(ctx, ok.Tenant, ok.Campaign, nil, []store.Date{dq.From}); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("RefreshRollups with nil location: %v, want EINVALID", err)
	}
	if _, err := s.Report(ctx, ok); err != nil {
		t.Errorf("valid Report: %v", err)
	}
}
