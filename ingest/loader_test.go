package ingest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/eventlog"
	"github.com/admeter/admeter/ingest"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
)

func event(i int, at time.Time) admeter.Event {
	return admeter.Event{
		Kind: admeter.KindImpression, Tenant: "t_1", Campaign: "10000001", Placement: "pAAAAA",
		At: at, Received: at, User: admeter.Pseudonym{byte(i), byte(i >> 8), byte(i >> 16), 1}, UserType: admeter.IDOAID, KeyVersion: 1,
		ImpressionID: admeter.Pseudonym{byte(i), byte(i >> 8), byte(i >> 16), 2},
	}
}

func appendEvents(t *testing.T, l *eventlog.Log, from, n int, at time.Time) {
	t.Helper()
	recs := make([][]byte, 0, n)
	for i := from; i < from+n; i++ {
		ev := event(i, at)
		b, err := ev.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	if _, err := l.Append(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
}

func impressions(t *testing.T, st store.Store, at time.Time) int64 {
	t.Helper()
	res, err := st.Report(context.Background(), store.ReportQuery{Tenant: "t_1", Campaign: "10000001",
		From: at.Add(-time.Hour), To: at.Add(time.Hour), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total.Impressions
}

// runLoader runs a loader until the store has want impressions or the
// deadline passes, then stops it.
func runLoader(t *testing.T, l *eventlog.Log, st store.Store, at time.Time, stopAfter time.Duration, want int64) {
	t.Helper()
	cfg := ingest.DefaultConfig()
	cfg.MaxBatch, cfg.MaxDelay, cfg.RollupInterval = 500, 20*time.Millisecond, 50*time.Millisecond
	ld, err := ingest.New(cfg, func(from uint64) (ingest.Reader, error) { return l.NewReader(from) }, l.NextOffset, st,
		func(admeter.CampaignID) *time.Location { return time.UTC }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ld.Run(ctx) }()
	deadline := time.Now().Add(stopAfter)
	for time.Now().Before(deadline) && (want < 0 || impressions(t, st, at) < want) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("loader: %v", err)
	}
}

// TestLoaderExactlyOnce stops the loader at arbitrary points while it is
// loading and restarts it: every event is stored exactly once.
func TestLoaderExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	l, err := eventlog.Open(filepath.Join(dir, "log"), eventlog.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := duckdb.Open(filepath.Join(dir, "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	const total = 20_000
	appendEvents(t, l, 0, total, at)

	// Interrupt the loader several times, at different moments.
	for i, stop := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 1 * time.Millisecond, 50 * time.Millisecond} {
		runLoader(t, l, st, at, stop, -1)
		t.Logf("after interruption %d: %d loaded", i, impressions(t, st, at))
	}
	runLoader(t, l, st, at, 20*time.Second, total)
	if got := impressions(t, st, at); got != total {
		t.Fatalf("%d impressions stored, want exactly %d", got, total)
	}

	// Reopen the store: the offset survives, and new events continue from it.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = duckdb.Open(filepath.Join(dir, "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if off, err := st.Offset(context.Background()); err != nil || off != total {
		t.Fatalf("offset after reopen = %d, %v; want %d", off, err, total)
	}
	appendEvents(t, l, total, 1000, at)
	runLoader(t, l, st, at, 20*time.Second, total+1000)
	if got := impressions(t, st, at); got != total+1000 {
		t.Fatalf("%d impressions after more events, want %d", got, total+1000)
	}
}

// TestLoaderFreshness checks that an event appended to the log is queryable
// well within two seconds.
func TestLoaderFreshness(t *testing.T) {
	dir := t.TempDir()
	l, err := eventlog.Open(filepath.Join(dir, "log"), eventlog.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := duckdb.Open(filepath.Join(dir, "store.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ld, err := ingest.New(ingest.DefaultConfig(), func(from uint64) (ingest.Reader, error) { return l.NewReader(from) }, l.NextOffset, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ld.Run(ctx) }()
	defer func() { cancel(); <-done }()

	at := time.Now().UTC().Truncate(time.Second)
	for round := range 3 {
		start := time.Now()
		appendEvents(t, l, round*10, 10, at)
		for impressions(t, st, at) < int64(round*10+10) {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("round %d: events not queryable after 2 s", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("round %d: queryable after %v", round, time.Since(start).Round(time.Millisecond))
	}
}
