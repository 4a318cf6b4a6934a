package duckdb

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/storetest"
)

// reachQueries are the ReachSets queries the reach index is held to
// reachSetsSQL with: several campaigns or one, every placement its own
// group or paired, whole and partial days, both filters, with and
// without waste.
func reachQueries(start time.Time) []store.ReachSetQuery {
	camps := []admeter.CampaignID{storetest.GenCampaign(0), storetest.GenCampaign(1)}
	each, paired := map[admeter.PlacementID]int{}, map[admeter.PlacementID]int{}
	for c := range 2 {
		for p := range 4 {
			each[storetest.GenPlacement(c, p)] = c*4 + p
			if p != 3 { // placement 3 is not asked for
				paired[storetest.GenPlacement(c, p)] = p % 2
			}
		}
	}
	tenants := []admeter.TenantID{storetest.DefaultTenant}
	day := 24 * time.Hour
	return []store.ReachSetQuery{
		{Tenants: tenants, Campaigns: camps, From: start, To: start.Add(8 * day), Groups: each, WasteAbove: 3},
		{Tenants: tenants, Campaigns: camps[:1], From: start.Add(36 * time.Hour), To: start.Add(100 * time.Hour), Groups: paired, Filter: store.FilterAll},
		{Tenants: tenants, Campaigns: camps, From: start.Add(2 * day), To: start.Add(5 * day), Groups: paired, WasteAbove: 1},
		{Tenants: tenants, Campaigns: camps[1:], From: start.Add(day + time.Minute), To: start.Add(3*day + 7*time.Second), Groups: each, Filter: store.FilterAll, WasteAbove: 5},
	}
}

// checkReachIndex runs every query through the reach index and through
// reachSetsSQL and fails on any difference.
func checkReachIndex(t *testing.T, db *DB, step string, qs []store.ReachSetQuery) {
	t.Helper()
	ctx := context.Background()
	for i, q := range qs {
		db.noReachIndex = false
		got, err := db.ReachSets(ctx, q)
		if err != nil {
			t.Fatalf("%s: query %d through the index: %v", step, i, err)
		}
		db.noReachIndex = true
		want, err := db.ReachSets(ctx, q)
		db.noReachIndex = false
		if err != nil {
			t.Fatalf("%s: query %d in SQL: %v", step, i, err)
		}
		if len(want.Sets) == 0 {
			t.Fatalf("%s: query %d reaches nobody: a test that cannot fail", step, i)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: query %d: the index answers\n%+v\nSQL answers\n%+v", step, i, *got, *want)
		}
	}
}

// TestReachIndexMatchesSQL holds ReachSets over the reach index to the same
// answer in SQL over the raw events, on generated traffic (retried
// impression ids, invalid traffic, impressions without a user) and after
// each kind of change the index must follow: late events that are earlier
// copies of later days' impression ids, verdicts, deleted users, a
// retention cut. It also checks which files are rebuilt, and that a
// deleted user's key leaves the index files at once.
func TestReachIndexMatchesSQL(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := storetest.NewGenerator(11, storetest.GenConfig{Campaigns: 2, Placements: 4, Users: 3000, Start: start, Step: 9 * time.Second, IVTPercent: 5})
	evs := make([]admeter.Event, 60_000) // 6.25 days
	g.Fill(evs)
	// Copies of impressions on later days (an SDK retrying after its clock
	// was corrected), one of them by another user.
	var copies []admeter.Event
	for i := 0; i < len(evs) && len(copies) < 300; i += 97 {
		e := evs[i]
		if e.Kind != admeter.KindImpression || e.ImpressionID.IsZero() {
			continue
		}
		e.At = e.At.Add(time.Duration(1+i%3) * 24 * time.Hour)
		e.Received = e.At
		if len(copies)%5 == 0 {
			e.User, e.UserType = storetest.UserID(900_000+i), admeter.IDOAID
		}
		copies = append(copies, e)
	}
	storetest.Insert(t, db, 1, evs...)
	storetest.Insert(t, db, 2, copies...)
	qs := reachQueries(start)
	checkReachIndex(t, db, "generated traffic", qs)
	// The queries read the first 8 days; copies spill into a ninth.
	days := 8
	if len(db.parts) != 9 {
		t.Fatalf("%d partitions; the counts below assume 9", len(db.parts))
	}
	if n := db.reachBuilds.Load(); n != int64(days) {
		t.Errorf("%d reach index files built for %d days", n, days)
	}
	checkReachIndex(t, db, "again", qs)
	if n := db.reachBuilds.Load(); n != int64(days) {
		t.Errorf("%d files built after the second round; want none", n-int64(days))
	}

	// Late events on day 3 copying impressions of day 5: day 5's copies
	// become repeats, so days 3 and after are rebuilt, days 1 and 2 not.
	var late []admeter.Event
	for _, e := range evs {
		if e.Kind == admeter.KindImpression && !e.ImpressionID.IsZero() && e.At.Sub(start) >= 4*24*time.Hour+time.Hour && len(late) < 200 {
			e.At = e.At.Add(-2 * 24 * time.Hour)
			late = append(late, e)
		}
	}
	before := db.reachBuilds.Load()
	storetest.Insert(t, db, 3, late...)
	checkReachIndex(t, db, "late copies", qs)
	if n := db.reachBuilds.Load() - before; n != int64(days-2) {
		t.Errorf("%d files rebuilt after late events on day 3 of %d; want %d", n, days, days-2)
	}

	// Verdicts on day 2 change its file only.
	before = db.reachBuilds.Load()
	rules := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: time.Hour, Max: 2}}}
	j, err := db.JudgeBehaviour(ctx, store.DateOf(start.Add(24*time.Hour)), rules)
	if err != nil {
		t.Fatal(err)
	}
	if j.Changed == 0 {
		t.Fatalf("judging flagged nothing: %+v", j)
	}
	checkReachIndex(t, db, "verdicts", qs)
	if n := db.reachBuilds.Load() - before; n != 1 {
		t.Errorf("%d files rebuilt after verdicts on one day; want 1", n)
	}

	// A deleted user's key is gone from every index file at once.
	var heavy admeter.Pseudonym
	for _, e := range evs {
		if !e.User.IsZero() {
			heavy = e.User
			break
		}
	}
	if _, err := db.DeleteUsers(ctx, storetest.DefaultTenant, []admeter.Pseudonym{heavy}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(db.reachDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, heavy[:]) {
			t.Errorf("%s still holds the deleted user's key", filepath.Base(f))
		}
	}
	checkReachIndex(t, db, "deleted user", qs)

	// A retention cut in day 2: later days' files stay; queries from
	// before the cut see no repeats of deleted events.
	before = db.reachBuilds.Load()
	if _, err := db.DeleteBefore(ctx, start.Add(36*time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkReachIndex(t, db, "retention cut", qs)
	if n := db.reachBuilds.Load() - before; n != 1 {
		t.Errorf("%d files rebuilt after a retention cut; want 1 (the cut day's)", n)
	}

	// A damaged file is rebuilt, not trusted.
	name := filepath.Join(db.reachDir, reachIndexName(int32(start.Unix()/86400)+3))
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-reachTrailerSize-1] ^= 0xff // the footer's last byte
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	before = db.reachBuilds.Load()
	checkReachIndex(t, db, "damaged file", qs)
	if n := db.reachBuilds.Load() - before; n != 1 {
		t.Errorf("%d files rebuilt after damaging one; want 1", n)
	}

	// A damaged body behind a sound footer fails the scan, and the answer
	// comes from the raw events.
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 12), 0); err != nil { // the anonymous section's header
		t.Fatal(err)
	}
	f.Close()
	s := &reachScan{ctx: ctx, to: 1 << 62}
	rf, err := openReachFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.close()
	if err := s.anonymous(&reachTally{}, rf, make([]int8, len(rf.placements))); err == nil {
		t.Fatal("a damaged anonymous section scanned without error")
	}
	checkReachIndex(t, db, "damaged body", qs)
}

// TestReachIndexSweep: Open removes index files that are out of date or
// not index files, and keeps the others.
func TestReachIndexSweep(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.duckdb")
	db, err := Open(path, Options{MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []admeter.Event
	for d := range 3 {
		for u := range 5 {
			evs = append(evs, storetest.Imp(start.Add(time.Duration(d)*24*time.Hour+time.Duration(u)*time.Minute), storetest.User(u+1)))
		}
	}
	storetest.Insert(t, db, 1, evs...)
	n, err := db.BuildReachIndex(ctx, start.Add(72*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("BuildReachIndex built %d, %v; want 3", n, err)
	}
	if n, err := db.BuildReachIndex(ctx, start.Add(72*time.Hour)); err != nil || n != 0 {
		t.Fatalf("BuildReachIndex again built %d, %v; want 0", n, err)
	}
	// Day 2 changes behind the index's back (as if the removal after a
	// deletion had not happened), and a stray file appears.
	storetest.Insert(t, db, 2, storetest.Imp(start.Add(24*time.Hour+time.Hour), storetest.User(9)))
	stray := filepath.Join(db.reachDir, "20260301.rix.123.tmp")
	if err := os.WriteFile(stray, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var left []string
	entries, _ := os.ReadDir(db.reachDir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"20260301.rix", "20260303.rix"}; fmt.Sprint(left) != fmt.Sprint(want) {
		t.Errorf("after reopening the index directory holds %v; want %v", left, want)
	}
	// The change sequence goes on above the kept files': a change to day
	// 1 after reopening makes its file out of date.
	q := store.ReachSetQuery{Tenants: []admeter.TenantID{storetest.DefaultTenant}, Campaigns: []admeter.CampaignID{storetest.DefaultCampaign},
		From: start, To: start.Add(72 * time.Hour), Groups: map[admeter.PlacementID]int{storetest.DefaultPlacement: 0}}
	for i, c := range []struct {
		insert     bool
		users      int64
		rebuilt    int64
		whatBefore string
	}{
		{false, 6, 1, "after reopening (day 2's file was swept)"},
		{true, 7, 1, "after an insert into day 1"},
	} {
		if c.insert {
			storetest.Insert(t, db, uint64(3+i), storetest.Imp(start.Add(time.Hour), storetest.User(8)))
		}
		before := db.reachBuilds.Load()
		res, err := db.ReachSets(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var users int64
		for _, s := range res.Sets {
			users += s.Users
		}
		if users != c.users || db.reachBuilds.Load()-before != c.rebuilt {
			t.Errorf("%s: %d users, %d files built; want %d and %d", c.whatBefore, users, db.reachBuilds.Load()-before, c.users, c.rebuilt)
		}
	}
}

// TestReachIndexConcurrent: queries that build and read the index while
// batches land on every day (late ones included) and verdicts change,
// then the index still answers as the raw events do.
func TestReachIndexConcurrent(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := storetest.NewGenerator(5, storetest.GenConfig{Campaigns: 2, Placements: 4, Users: 2000, Start: start, Step: 30 * time.Second})
	evs := make([]admeter.Event, 12_000) // 4.2 days
	g.Fill(evs)
	storetest.Insert(t, db, 1, evs[:4000]...)
	qs := reachQueries(start)
	done := make(chan struct{})
	errs := make(chan error, 3)
	go func() { // the loader: the rest in batches, every other one shifted a day back (late)
		next := uint64(2)
		for i := 4000; i < len(evs); i += 1000 {
			batch := append([]admeter.Event(nil), evs[i:i+1000]...)
			if next%2 == 0 {
				for j := range batch {
					batch[j].At = batch[j].At.Add(-24 * time.Hour)
					batch[j].Received = batch[j].At
				}
			}
			if err := db.Insert(ctx, batch, next); err != nil {
				errs <- err
				return
			}
			next++
			time.Sleep(50 * time.Millisecond) // let queries run in between
		}
		errs <- nil
	}()
	go func() { // verdicts on day 2
		rules := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: time.Hour, Max: 2}}}
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			if _, err := db.JudgeBehaviour(ctx, store.DateOf(start.Add(24*time.Hour)), rules); err != nil {
				errs <- err
				return
			}
		}
	}()
	var queries atomic.Int64
	go func() { // queries
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			for _, q := range qs {
				if _, err := db.ReachSets(ctx, q); err != nil {
					errs <- err
					return
				}
				queries.Add(1)
			}
		}
	}()
	if err := <-errs; err != nil { // the loader finishes first
		t.Fatal(err)
	}
	if queries.Load() < 4 {
		t.Errorf("only %d queries ran while loading", queries.Load())
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkReachIndex(t, db, "after concurrent changes", qs)
}

// TestReachMerge: the tournament tree yields the smallest (key, cursor)
// first, whatever the number of cursors, as a brute-force minimum does,
// while cursors advance and run out.
func TestReachMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := 1; k <= 40; k++ {
		items := make([]reachItem, k)
		left := make([]int, k) // runs each cursor still has
		for i := range items {
			items[i] = reachItem{k0: r.Uint64N(8), k1: r.Uint64N(4), c: int32(i)}
			left[i] = r.IntN(6)
		}
		m := newReachMerge(items)
		for !m.empty() {
			w := m.winner()
			for i := range items {
				if !items[i].done && items[i].less(items[w]) {
					t.Fatalf("k=%d: winner %d %+v, but %d %+v is smaller", k, w, items[w], i, items[i])
				}
			}
			if left[w] == 0 {
				items[w].done = true
			} else {
				left[w]--
				items[w].k0 += r.Uint64N(3) // a cursor's keys never go down
				items[w].k1 += r.Uint64N(4)
			}
			m.replay(w)
		}
		for i := range items {
			if !items[i].done {
				t.Fatalf("k=%d: cursor %d never ran out", k, i)
			}
		}
	}
}

// TestReachIndexBackfill: a late impression on a day with more than
// probeLaterMax later partitions (a backfill) is taken as possibly
// copying a later day's impression without a probe, and the later days'
// files are rebuilt: the later copy becomes a repeat.
func TestReachIndexBackfill(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "store.duckdb"))
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	days := probeLaterMax + 3
	var evs []admeter.Event
	for d := range days {
		evs = append(evs, storetest.Imp(start.AddDate(0, 0, d), storetest.User(1), storetest.VF(100+d)))
	}
	storetest.Insert(t, db, 1, evs...)
	q := store.ReachSetQuery{Tenants: []admeter.TenantID{storetest.DefaultTenant}, Campaigns: []admeter.CampaignID{storetest.DefaultCampaign},
		From: start.Add(-12 * time.Hour), To: start.AddDate(0, 0, days), Groups: map[admeter.PlacementID]int{storetest.DefaultPlacement: 0}}
	imps := func() int64 {
		t.Helper()
		res, err := db.ReachSets(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Sets) != 1 {
			t.Fatalf("sets %+v", res.Sets)
		}
		return res.Sets[0].Impressions
	}
	if n := imps(); n != int64(days) {
		t.Fatalf("%d impressions before the backfill; want %d", n, days)
	}
	// Day 1 gets an earlier copy of the last day's impression.
	storetest.Insert(t, db, 2, storetest.Imp(start.Add(-time.Hour), storetest.User(1), storetest.VF(100+days-1)))
	before := db.reachBuilds.Load()
	if n := imps(); n != int64(days) { // one more on day 1, one repeat on the last day
		t.Errorf("%d impressions after the backfill; want %d", n, days)
	}
	if n := db.reachBuilds.Load() - before; n != int64(days) {
		t.Errorf("%d files rebuilt; want all %d", n, days)
	}
	db.noReachIndex = true
	if n := imps(); n != int64(days) {
		t.Errorf("SQL: %d impressions; want %d", n, days)
	}
}
