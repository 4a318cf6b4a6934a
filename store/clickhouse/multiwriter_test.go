package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store/storetest"
)

// errCrash is what a test hook returns to stop a load where it is, as if
// its process died.
var errCrash = errors.New("crash (test)")

// testTTL is the intent TTL, in seconds, of the tests that move the
// server's clock past it (a busy test machine may take a second or two
// between an intent and its commit).
const testTTL = 5

var shortTTL = Options{IntentTTL: testTTL * time.Second}

// testAt is the time of the tests' events; impressionsAround counts them.
var testAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// imps returns n impressions of distinct users, numbered from first, a
// second apart.
func imps(first, n int) []admeter.Event {
	evs := make([]admeter.Event, n)
	for i := range evs {
		evs[i] = storetest.Imp(testAt.Add(time.Duration(first+i)*time.Second), storetest.User(first+i))
	}
	return evs
}

// rawRows returns the number of rows of batch in events, visible or not.
func rawRows(t *testing.T, db *DB, batch uint64) uint64 {
	t.Helper()
	var n uint64
	if err := db.conn.QueryRow(context.Background(), fmt.Sprintf("SELECT count() FROM %s WHERE batch = %d", db.events, batch)).Scan(&n); err != nil {
		t.Fatalf("count rows of batch %d: %v", batch, err)
	}
	return n
}

// wantPositions fails t unless db's positions are want.
func wantPositions(t *testing.T, db *DB, want map[int32]int64) {
	t.Helper()
	if got, err := db.Positions(context.Background()); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Positions = %v, %v; want %v", got, err, want)
	}
}

// wantImpressions fails t unless db counts want impressions around testAt.
func wantImpressions(t *testing.T, db *DB, want int64) {
	t.Helper()
	if got := impressionsAround(t, db, testAt); got != want {
		t.Fatalf("impressions = %d, want %d", got, want)
	}
}

// cleanNow runs db's clean-up as a writer does.
func cleanNow(t *testing.T, db *DB) {
	t.Helper()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.cleanup(context.Background(), false); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
}

// TestConcurrentWriters: three DBs on one database (three loader
// processes) load disjoint partitions at once; every row counts once and
// each partition's position is its writer's last.
func TestConcurrentWriters(t *testing.T) { testConcurrentWriters(t, single) }

func testConcurrentWriters(t *testing.T, e env) {
	ctx := context.Background()
	dsn := e.create(t)
	const writers, batches, size = 3, 8, 5
	dbs := make([]*DB, writers)
	for i := range dbs {
		dbs[i] = e.open(t, dsn, Options{})
	}
	var wg sync.WaitGroup
	for w, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				first := (w*batches + b) * size
				if err := db.InsertFrom(ctx, imps(first, size), map[int32]int64{int32(w): int64((b + 1) * size)}); err != nil {
					t.Errorf("writer %d batch %d: %v", w, b, err)
					return
				}
				if _, err := db.Positions(ctx); err != nil {
					t.Errorf("writer %d: Positions: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := map[int32]int64{}
	for w := range writers {
		want[int32(w)] = batches * size
	}
	for _, db := range append(dbs, e.open(t, dsn, Options{})) {
		wantImpressions(t, db, writers*batches*size)
		wantPositions(t, db, want)
	}
}

// TestOverlappingBatches: the zombie case. Writer 1 stalls between its
// checks and its commit while the partition's new owner (writer 2) loads
// the same records; then writer 1 commits too. The later batch wins:
// writer 1's batch is voided, by writer 1 itself right after its commit,
// or (if it dies right after committing) by the next Open. Either way the
// records count once and the position is writer 2's.
func TestOverlappingBatches(t *testing.T) { testOverlappingBatches(t, single) }

func testOverlappingBatches(t *testing.T, e env) {
	for _, tc := range []struct {
		name  string
		crash bool
	}{
		{"the loser voids itself", false},
		{"Open resolves", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.create(t)
			h1, h2 := e.open(t, dsn, Options{}), e.open(t, dsn, Options{})
			// Both batches may get their intents in the same second: the
			// nonces make writer 2's number the higher.
			n1, n2 := uint32(1), uint32(2)
			h1.newNonce = func() uint32 { n1 += 2; return n1 }
			h2.newNonce = func() uint32 { n2 += 2; return n2 }
			ready, resume := make(chan uint64), make(chan struct{})
			h1.hooks.beforeDone = func(batch uint64) error { ready <- batch; <-resume; return nil }
			if tc.crash {
				h1.hooks.afterDone = func(uint64) error { return errCrash }
			}
			errc := make(chan error, 1)
			// Writer 1 read records 0–11 before it stalled.
			go func() { errc <- h1.InsertFrom(ctx, imps(0, 6), map[int32]int64{0: 12}) }()
			loser := <-ready
			wantImpressions(t, h2, 0)
			// Writer 2, the new owner, loads records 0–9.
			storetest.InsertFrom(t, h2, map[int32]int64{0: 10}, imps(0, 5)...)
			wantImpressions(t, h2, 5)
			close(resume)
			err := <-errc
			if tc.crash {
				if !errors.Is(err, errCrash) {
					t.Fatalf("writer 1: %v, want the crash", err)
				}
				// Both committed: the duplicate shows until resolved, but
				// the position is already the winner's.
				wantImpressions(t, h2, 11)
				wantPositions(t, h2, map[int32]int64{0: 10})
				e.open(t, dsn, Options{})
			} else if admeter.ErrorCode(err) != admeter.ECONFLICT {
				t.Fatalf("writer 1: %v, want ECONFLICT", err)
			}
			for _, db := range []*DB{h1, h2} {
				wantImpressions(t, db, 5)
				wantPositions(t, db, map[int32]int64{0: 10})
			}
			if err := h2.waitEvents(ctx); err != nil {
				t.Fatal(err)
			}
			if n := rawRows(t, h2, loser); n != 0 {
				t.Errorf("%d rows of the void batch left", n)
			}
			// The owner goes on from its position; writer 1 learns it.
			storetest.InsertFrom(t, h2, map[int32]int64{0: 12}, imps(5, 1)...)
			wantImpressions(t, h1, 6)
			wantPositions(t, h1, map[int32]int64{0: 12})
		})
	}
}

// TestCrashBeforeCommit: a writer dies between its rows and its commit.
// The rows do not count and the positions stay; the batch loaded again
// (by another writer) counts once; once its intent is three TTLs old, the
// clean-up records it dead and deletes its rows, and rows of it arriving
// even later do not count either.
func TestCrashBeforeCommit(t *testing.T) { testCrashBeforeCommit(t, single) }

func testCrashBeforeCommit(t *testing.T, e env) {
	for _, tc := range []struct {
		name  string
		load  func(db *DB, events []admeter.Event, next int64) error
		check func(t *testing.T, db *DB, next int64)
	}{
		{"Insert",
			func(db *DB, events []admeter.Event, next int64) error {
				return db.Insert(context.Background(), events, uint64(next))
			},
			func(t *testing.T, db *DB, next int64) {
				t.Helper()
				if off, err := db.Offset(context.Background()); err != nil || off != uint64(next) {
					t.Fatalf("Offset = %d, %v; want %d", off, err, next)
				}
			}},
		{"InsertFrom",
			func(db *DB, events []admeter.Event, next int64) error {
				return db.InsertFrom(context.Background(), events, map[int32]int64{3: next})
			},
			func(t *testing.T, db *DB, next int64) {
				t.Helper()
				wantPositions(t, db, map[int32]int64{3: next})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := e.create(t)
			h1 := e.open(t, dsn, shortTTL)
			n1, n2 := uint32(0), uint32(1<<30)
			h1.newNonce = func() uint32 { n1++; return n1 }
			if err := tc.load(h1, imps(0, 1), 1); err != nil {
				t.Fatal(err)
			}
			var crashed uint64
			h1.hooks.afterSend = func(batch uint64) error { crashed = batch; return errCrash }
			if err := tc.load(h1, imps(1, 2), 3); !errors.Is(err, errCrash) {
				t.Fatalf("load: %v, want the crash", err)
			}
			if n := rawRows(t, h1, crashed); n != 2 {
				t.Fatalf("rows of the crashed batch = %d, want 2", n)
			}
			wantImpressions(t, h1, 1)
			tc.check(t, h1, 1)
			if days, err := h1.RawDays(ctx); err != nil || len(days) != 1 || days[0].Events != 1 {
				t.Fatalf("RawDays = %v, %v; want one day of 1 event", days, err)
			}

			h2 := e.open(t, dsn, shortTTL)
			// The batch loaded again may get its intent in the crashed
			// one's second: a higher nonce makes it the later, which does
			// not wait for the crashed one to expire.
			h2.newNonce = func() uint32 { n2++; return n2 }
			wantImpressions(t, h2, 1)
			if err := tc.load(h2, imps(1, 2), 3); err != nil {
				t.Fatalf("load again: %v", err)
			}
			wantImpressions(t, h2, 3)
			tc.check(t, h2, 3)

			// Three TTLs later (the server's clock, as h2 sees it).
			h2.skew.Store(3*testTTL + 2)
			cleanNow(t, h2)
			if n := rawRows(t, h2, crashed); n != 0 {
				t.Errorf("rows of the crashed batch after the clean-up = %d, want 0", n)
			}
			if dead, err := h2.deadSince(ctx, 0); err != nil || !dead[crashed] {
				t.Errorf("dead batches = %v, %v; want %d among them", dead, err, crashed)
			}
			if c, err := h2.checkpoint(ctx, true); err != nil || c.settled == 0 {
				t.Errorf("checkpoint = %+v, %v; want one", c, err)
			}
			wantImpressions(t, h2, 3)
			tc.check(t, h2, 3)
			// The crashed writer's rows arrive after all.
			if err := h2.send(ctx, imps(1, 2), crashed); err != nil {
				t.Fatal(err)
			}
			wantImpressions(t, h2, 3)
			h2.skew.Store(0)
			wantImpressions(t, e.open(t, dsn, shortTTL), 3)
			if n := rawRows(t, h2, crashed); n != 0 {
				t.Errorf("late rows of the dead batch after Open = %d, want 0", n)
			}
		})
	}
}

// TestRefuseLateCommit: a writer that stalls until its intent is a TTL
// old refuses to commit (before its done row), and a done row stamped
// after the TTL does not count (the writer finds out and voids its
// batch): either way the rows never count and the positions stay, and
// the batch loaded again counts once.
func TestRefuseLateCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(h *loadHooks, stall func(uint64) error)
	}{
		{"refused before the commit", func(h *loadHooks, stall func(uint64) error) { h.afterSend = stall }},
		{"commit stamped too late", func(h *loadHooks, stall func(uint64) error) { h.beforeDone = stall }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDBWith(t, createDatabase(t, ""), shortTTL)
			storetest.InsertFrom(t, db, map[int32]int64{0: 1}, imps(0, 1)...)
			var late uint64
			tc.set(&db.hooks, func(batch uint64) error { late = batch; db.skew.Add(testTTL + 1); return nil })
			err := db.InsertFrom(ctx, imps(1, 2), map[int32]int64{0: 3})
			if err == nil || admeter.ErrorCode(err) == admeter.ECONFLICT || !strings.Contains(err.Error(), "intent TTL") {
				t.Fatalf("late InsertFrom: %v, want the TTL error", err)
			}
			db.hooks = loadHooks{}
			db.skew.Store(0)
			wantImpressions(t, db, 1)
			wantPositions(t, db, map[int32]int64{0: 1})
			storetest.InsertFrom(t, db, map[int32]int64{0: 3}, imps(1, 2)...)
			wantImpressions(t, db, 3)
			wantPositions(t, db, map[int32]int64{0: 3})
			if err := db.waitEvents(ctx); err != nil {
				t.Fatal(err)
			}
			if n := rawRows(t, db, late); n != 0 {
				t.Errorf("%d rows of the late batch left", n)
			}
		})
	}
}

// TestStalledWriter: a writer that read records before its partition went
// to another writer, and loads them after the other committed some, gets
// ECONFLICT from InsertFrom (the partition moved past where this writer
// left it) and from InsertRange (past the batch's start); after rereading
// Positions it loads the rest. Nothing counts twice.
func TestStalledWriter(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	old, owner := openDB(t, dsn), openDB(t, dsn)
	storetest.InsertFrom(t, old, map[int32]int64{0: 10}, imps(0, 10)...)
	wantPositions(t, owner, map[int32]int64{0: 10})
	storetest.InsertFrom(t, owner, map[int32]int64{0: 20}, imps(10, 10)...)

	if err := old.InsertFrom(ctx, imps(10, 20), map[int32]int64{0: 30}); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("stalled InsertFrom: %v, want ECONFLICT", err)
	}
	wantImpressions(t, old, 20)
	wantPositions(t, old, map[int32]int64{0: 20})
	storetest.InsertFrom(t, old, map[int32]int64{0: 30}, imps(20, 10)...)
	wantImpressions(t, old, 30)

	if err := owner.InsertRange(ctx, imps(25, 10), map[int32]int64{0: 25}, map[int32]int64{0: 35}); admeter.ErrorCode(err) != admeter.ECONFLICT {
		t.Fatalf("stalled InsertRange: %v, want ECONFLICT", err)
	}
	if err := owner.InsertRange(ctx, imps(30, 5), map[int32]int64{0: 30}, map[int32]int64{0: 35}); err != nil {
		t.Fatal(err)
	}
	wantImpressions(t, owner, 35)
	wantPositions(t, owner, map[int32]int64{0: 35})

	for name, from := range map[string]map[int32]int64{
		"a partition missing": {},
		"from at next":        {0: 36},
		"a negative from":     {0: -1},
	} {
		if err := owner.InsertRange(ctx, nil, from, map[int32]int64{0: 36}); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("InsertRange with %s: %v, want EINVALID", name, err)
		}
	}
}

// TestRacingLoaders: two writers load the same partition of one source at
// once, each from the positions it reads, in batches of random sizes, as
// two loaders owning it by mistake would: every record counts once.
func TestRacingLoaders(t *testing.T) { testRacingLoaders(t, single) }

func testRacingLoaders(t *testing.T, e env) {
	for _, tc := range []struct {
		name string
		load func(db *DB, events []admeter.Event, from, next int64) error
	}{
		{"InsertFrom", func(db *DB, events []admeter.Event, _, next int64) error {
			return db.InsertFrom(context.Background(), events, map[int32]int64{0: next})
		}},
		{"InsertRange", func(db *DB, events []admeter.Event, from, next int64) error {
			return db.InsertRange(context.Background(), events, map[int32]int64{0: from}, map[int32]int64{0: next})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := e.create(t)
			const n = 100
			src := imps(0, n)
			var wg sync.WaitGroup
			var mu sync.Mutex
			conflicts := 0
			for w := range 2 {
				db := e.open(t, dsn, Options{})
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						pos, err := db.Positions(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						from := pos[0]
						if from >= n {
							return
						}
						next := min(from+1+rng.Int64N(12), n)
						switch err := tc.load(db, src[from:next], from, next); {
						case admeter.ErrorCode(err) == admeter.ECONFLICT:
							mu.Lock()
							conflicts++
							mu.Unlock()
						case err != nil:
							t.Errorf("writer %d [%d, %d): %v", w, from, next, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			db := e.open(t, dsn, Options{})
			wantImpressions(t, db, n)
			wantPositions(t, db, map[int32]int64{0: n})
			t.Logf("%d conflicts", conflicts)
		})
	}
}

// TestViewHidesLaterBatches: a query's view, read before a batch began,
// does not count that batch's rows, sent before the query's statements
// run, even once it has committed.
func TestViewHidesLaterBatches(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, createDatabase(t, ""))
	storetest.InsertFrom(t, db, map[int32]int64{0: 1}, imps(0, 1)...)
	count := func(v view) uint64 {
		t.Helper()
		var n uint64
		if err := db.conn.QueryRow(ctx, "SELECT count() FROM events WHERE 1"+v.and()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, err := db.view(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inFlight view
	db.hooks.afterSend = func(uint64) error {
		var err error
		inFlight, err = db.view(ctx)
		return err
	}
	storetest.InsertFrom(t, db, map[int32]int64{0: 3}, imps(1, 2)...)
	after, err := db.view(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		v    view
		want uint64
	}{{"before", before, 1}, {"in flight", inFlight, 1}, {"after", after, 3}} {
		if got := count(c.v); got != c.want {
			t.Errorf("rows counted by the view read %s the batch = %d, want %d (view %+v)", c.name, got, c.want, c.v)
		}
	}
}

// TestBatchNumberTaken: two writers whose intents get the same number
// (the same second and nonce): the second withdraws its intent before
// sending any row and takes another number; both batches count.
func TestBatchNumberTaken(t *testing.T) {
	ctx := context.Background()
	dsn := createDatabase(t, "")
	h1, h2 := openDB(t, dsn), openDB(t, dsn)
	for attempt := range 5 {
		// A nonce of its own per attempt: an attempt's intent may fall in
		// the second of the previous one's.
		nonce := uint32(7 + 10*attempt)
		h1.newNonce = func() uint32 { return nonce }
		nonces := []uint32{nonce, nonce + 1}
		h2.newNonce = func() uint32 { n := nonces[0]; nonces = nonces[1:]; return n }
		var first uint64
		h1.hooks.afterIntent = func(batch uint64) error {
			first = batch
			return h2.InsertFrom(ctx, imps(100*attempt+50, 1), map[int32]int64{1: int64(attempt + 1)})
		}
		storetest.InsertFrom(t, h1, map[int32]int64{0: int64(attempt + 1)}, imps(100*attempt, 1)...)
		h1.hooks = loadHooks{}
		wantImpressions(t, h1, int64(2*(attempt+1)))
		var withdrawn uint64
		if err := h1.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM loads WHERE state = %d AND batch = %d", stateWithdrawn, first)).Scan(&withdrawn); err != nil {
			t.Fatal(err)
		}
		if withdrawn == 1 {
			return
		}
		t.Logf("attempt %d: the intents fell in different seconds", attempt)
	}
	t.Fatal("no two intents in the same second in five attempts")
}

// TestMigrate: a database of schema version 1 (Insert) or 2 (InsertFrom)
// opens: the rows of its recorded batches count, those of a batch it
// never recorded are deleted, its offset and positions carry over, and it
// loads on at version 3.
func TestMigrate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint64
		// legacy writes the old program's rows with send and setMeta.
		legacy          func(t *testing.T, db *DB)
		offset          uint64
		positions       map[int32]int64
		counted, ghosts int64
	}{
		{"version 1", baseVersion, func(t *testing.T, db *DB) {
			ctx := context.Background()
			for b, evs := range [][]admeter.Event{imps(0, 2), imps(2, 1), imps(3, 4)} {
				if err := db.send(ctx, evs, uint64(b+1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.setMeta(ctx, metaOffset, 2); err != nil {
				t.Fatal(err)
			}
		}, 2, map[int32]int64{}, 3, 4},
		{"version 2", partitionedVersion, func(t *testing.T, db *DB) {
			ctx := context.Background()
			for b, evs := range [][]admeter.Event{imps(0, 2), imps(2, 1), imps(3, 2), imps(5, 3)} {
				if err := db.send(ctx, evs, uint64(b+1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.setMeta(ctx, metaOffset, 1); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{
				`INSERT INTO batches (batch, partitions, nexts) SELECT toUInt64(2), [toInt32(0), toInt32(1)], [toInt64(5), toInt64(7)]`,
				`INSERT INTO batches (batch, partitions, nexts) SELECT toUInt64(3), [toInt32(1)], [toInt64(9)]`,
			} {
				if err := db.conn.Exec(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
		}, 1, map[int32]int64{0: 5, 1: 9}, 5, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := createDatabase(t, "")
			conn, err := connect(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			legacy := &DB{conn: conn, shards: []driver.Conn{conn}, events: localEvents}
			for _, s := range schema {
				if err := conn.Exec(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if err := legacy.setMeta(ctx, metaVersion, tc.version); err != nil {
				t.Fatal(err)
			}
			tc.legacy(t, legacy)
			var all uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&all); err != nil || int64(all) != tc.counted+tc.ghosts {
				t.Fatalf("rows before = %d, %v; want %d", all, err, tc.counted+tc.ghosts)
			}

			check := func(db *DB, offset uint64, positions map[int32]int64, counted int64) {
				t.Helper()
				if v, err := db.meta(ctx, metaVersion); err != nil || v != schemaVersion {
					t.Fatalf("schema version %d, %v; want %d", v, err, schemaVersion)
				}
				if off, err := db.Offset(ctx); err != nil || off != offset {
					t.Fatalf("Offset = %d, %v; want %d", off, err, offset)
				}
				wantPositions(t, db, positions)
				wantImpressions(t, db, counted)
			}
			db := openDB(t, dsn)
			check(db, tc.offset, tc.positions, tc.counted)
			var rows uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&rows); err != nil || int64(rows) != tc.counted {
				t.Fatalf("rows after Open = %d, %v; want %d (those of the unrecorded batch deleted)", rows, err, tc.counted)
			}
			if err := db.Insert(ctx, nil, tc.offset); admeter.ErrorCode(err) != admeter.ECONFLICT {
				t.Fatalf("Insert at the migrated offset: %v, want ECONFLICT", err)
			}
			storetest.Insert(t, db, tc.offset+1, imps(20, 1)...)
			storetest.InsertFrom(t, db, map[int32]int64{1: 20}, imps(21, 1)...)
			positions := map[int32]int64{1: 20}
			for p, n := range tc.positions {
				positions[p] = max(positions[p], n)
			}
			check(openDB(t, dsn), tc.offset+1, positions, tc.counted+2)
		})
	}
}
