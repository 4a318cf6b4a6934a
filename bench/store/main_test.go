package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// maxFuture is the collector's bound on a client's event time ahead of its
// receive time (collect.Config defaults).
const maxFuture = 5 * time.Minute

func testPool(t *testing.T, events int) []admeter.Event {
	t.Helper()
	ps, err := pseudonymizer()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := buildPool(poolConfig{Seed: 7, Events: events, Start: benchStart, Days: 5, Campaigns: 4, BigShare: 0.3}, ps)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestPool checks that the simulated traffic becomes valid events of the
// kinds, sources and identifiers the collector produces, most of the large
// campaign's in its days.
func TestPool(t *testing.T) {
	pool := testPool(t, 20_000)
	if len(pool) < 15_000 || len(pool) > 25_000 {
		t.Fatalf("pool has %d events, want about 20000", len(pool))
	}
	kinds := map[admeter.Kind]int{}
	var users, cookies, imps, batch, corrected, big, inRange int
	end := benchStart.AddDate(0, 0, 5)
	for i := range pool {
		e := &pool[i]
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		kinds[e.Kind]++
		if e.UserType != admeter.IDNone {
			users++
		}
		if e.UserType == admeter.IDCookie {
			cookies++
		}
		if e.ImpressionID != (admeter.Pseudonym{}) {
			imps++
		}
		if e.Flags&admeter.FlagBatch != 0 {
			batch++
		}
		if e.Flags&admeter.FlagTimeCorrected != 0 {
			corrected++
		}
		if e.Campaign == benchCampaign {
			big++
			if !e.At.Before(benchStart) && e.At.Before(end) {
				inRange++
			}
		}
		if e.Received.Before(e.At.Add(-maxFuture)) {
			t.Fatalf("event %d received %s before its time %s", i, e.Received, e.At)
		}
	}
	n := len(pool)
	for _, c := range []struct {
		name     string
		got      int
		min, max float64 // shares of the pool
	}{
		{"impressions", kinds[admeter.KindImpression], 0.8, 1},
		{"clicks", kinds[admeter.KindClick], 0.001, 0.05},
		{"served", kinds[admeter.KindServed], 0.005, 0.1},
		{"with a user", users, 0.8, 1},
		{"cookie users", cookies, 0.01, 0.2},
		{"impression ids", imps, 0.1, 0.8},
		{"batch", batch, 0.02, 0.3},
		{"large campaign", big, 0.2, 0.4},
	} {
		if share := float64(c.got) / float64(n); share < c.min || share > c.max {
			t.Errorf("%s: %d of %d (%.3f), want a share in [%.3f, %.3f]", c.name, c.got, n, share, c.min, c.max)
		}
	}
	if corrected == 0 || corrected > n/10 {
		t.Errorf("%d time-corrected events of %d, want a few", corrected, n)
	}
	if inRange < big*9/10 {
		t.Errorf("%d of the large campaign's %d events in its days", inRange, big)
	}
}

// TestReplicate checks that copies keep the pool's shape with their own
// users and impression ids.
func TestReplicate(t *testing.T) {
	pool := testPool(t, 5_000)
	p := uint64(len(pool))
	var e0, e1, f1 admeter.Event
	users := map[admeter.Pseudonym]admeter.Pseudonym{} // copy 0 user → copy 1 user
	for i := range p {
		replicate(&e0, pool, i)
		if e0.User != pool[i].User || !e0.At.Equal(pool[i].At) {
			t.Fatalf("copy 0 of event %d differs from the pool", i)
		}
		replicate(&e1, pool, p+i)
		replicate(&f1, pool, 2*p+i)
		if e0.User == (admeter.Pseudonym{}) {
			if e1.User != e0.User {
				t.Fatalf("event %d: an anonymous event got a user", i)
			}
			continue
		}
		if e1.User == e0.User || f1.User == e1.User {
			t.Fatalf("event %d: copies share a user", i)
		}
		if u, ok := users[e0.User]; ok && u != e1.User {
			t.Fatalf("event %d: one user of copy 0 became two of copy 1", i)
		}
		users[e0.User] = e1.User
		if e0.ImpressionID != (admeter.Pseudonym{}) && e1.ImpressionID == e0.ImpressionID {
			t.Fatalf("event %d: copies share an impression id", i)
		}
		if d := e1.At.Sub(e0.At); d < 0 || d >= 10*time.Minute || e1.Received.Sub(e0.Received) != d {
			t.Fatalf("event %d: copy 1 moved by %s", i, d)
		}
	}
}

// TestRun runs the whole benchmark on a small store twice: the first run
// builds the file, the second reuses it; then the reach phase alone.
// measureDirect fails if the SQL rebuilt in sql.go does not give the
// store's answers, measureReach if reach.go's does not.
func TestRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "store.duckdb")
	args := []string{"--file", file, "--events", "60000", "--pool", "25000", "--batch", "7000", "--runs", "1", "--campaigns", "3"}
	reachRows := []string{"## Cross-media reach", "| store `ReachSets` (S)", "| S / (a)", "| S / (b)", "| peak RSS, store", "reach: checked:"}
	for i, c := range []struct {
		args       []string
		want, lack []string
	}{
		{args, append([]string{"inserting 60000 more from offset 0", "| Cluster: 0 day partitions", "| A / B, median", "| Daily (rollups), 30 days", "| peak RSS during reports"}, reachRows...), nil},
		{args, append([]string{"reusing it", "| A / B, median", "| Daily (rollups), 30 days"}, reachRows...), nil},
		{append(args, "--phases", "reach"), reachRows, []string{"## Store benchmark", "load:", "round 1"}},
		{append(args, "--phases", "rollup"), []string{"| Daily (rollups), 30 days"}, []string{"| A / B, median", "## Cross-media reach", "| load"}},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), c.args, &out); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out.String())
		}
		s := out.String()
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("run %d: output lacks %q:\n%s", i, w, s)
			}
		}
		for _, w := range c.lack {
			if strings.Contains(s, w) {
				t.Errorf("run %d: output has %q:\n%s", i, w, s)
			}
		}
		if strings.Contains(s, "reach 0 |") || strings.Contains(s, "| union reach; combinations of media; waste above 10 | 0;") {
			t.Errorf("run %d: no reach:\n%s", i, s)
		}
	}
}

// TestRunNeedsEvents checks that a run without the load phase refuses a
// store with fewer events than asked for, and a missing file.
func TestRunNeedsEvents(t *testing.T) {
	file := filepath.Join(t.TempDir(), "store.duckdb")
	base := []string{"--file", file, "--pool", "5000", "--runs", "1", "--campaigns", "2"}
	var out bytes.Buffer
	if err := run(context.Background(), append(base, "--events", "100", "--phases", "reach"), &out); err == nil {
		t.Fatal("reach phase on a missing file: no error")
	}
	if err := run(context.Background(), append(base, "--events", "5000", "--phases", "load"), &out); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), append(base, "--events", "5001", "--phases", "reach"), &out)
	if err == nil || !strings.Contains(err.Error(), "fewer than --events") {
		t.Fatalf("reach phase on a store too small: %v", err)
	}
}

func TestParsePhases(t *testing.T) {
	for _, c := range []struct {
		in   string
		want phases
		ok   bool
	}{
		{allPhases, phases{load: true, cluster: true, report: true, rollup: true, reach: true}, true},
		{"reach", phases{reach: true}, true},
		{"load, rollup", phases{load: true, rollup: true}, true},
		{"", phases{}, false},
		{"reach,reports", phases{}, false},
	} {
		got, err := parsePhases(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parsePhases(%q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3}, 3},
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
