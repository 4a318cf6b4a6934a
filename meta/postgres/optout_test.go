package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/optout"
)

// The shared opt-out feed: DB.AppendOptOuts and DB.OptOutsSince, and
// optout.Shared on top of them, with real registries in temporary
// directories. Shared's tests live here because they need the PostgreSQL
// server this package's TestMain provides.

// Compile-time check that *postgres.DB is an opt-out feed.
var _ optout.Feed = (*postgres.DB)(nil)

// optOutLockClass is the first key of the advisory lock optouts'
// insert trigger takes (migration 0003); the second is the table's oid.
const optOutLockClass = 1869640752

// optP returns the i-th test pseudonym.
func optP(i int) admeter.Pseudonym {
	h := sha256.Sum256([]byte("optout test " + strconv.Itoa(i)))
	return admeter.Pseudonym(h[:16])
}

// optPs returns optP(from) .. optP(to-1).
func optPs(from, to int) []admeter.Pseudonym {
	var ps []admeter.Pseudonym
	for i := from; i < to; i++ {
		ps = append(ps, optP(i))
	}
	return ps
}

// optConn returns a connection of its own with schema on its
// search_path, closed when tb ends.
func optConn(tb testing.TB, schema string) *pgx.Conn {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	if _, err := c.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	return c
}

// readOptFeed returns the whole feed, asserting that positions increase.
func readOptFeed(tb testing.TB, db *postgres.DB) (ps []admeter.Pseudonym, last int64) {
	tb.Helper()
	for {
		batch, next, err := db.OptOutsSince(context.Background(), last, 1000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(batch) == 0 {
			if next != last {
				tb.Fatalf("OptOutsSince(%d) returned nothing but position %d", last, next)
			}
			return ps, last
		}
		if next <= last {
			tb.Fatalf("OptOutsSince(%d) returned position %d", last, next)
		}
		ps, last = append(ps, batch...), next
	}
}

// awaitOptAppend waits until the append that reports to done either waits
// for the insert lock of optouts (on the schema c is set to) or returns,
// and then returns a channel that gives its result.
func awaitOptAppend(tb testing.TB, c *pgx.Conn, done <-chan error) <-chan error {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			res := make(chan error, 1)
			res <- err
			return res
		default:
		}
		var n int
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objid = 'optouts'::regclass::oid`,
			optOutLockClass).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			return done
		}
		if time.Now().After(deadline) {
			tb.Fatal("the append neither returned nor waits for the insert lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAppendOptOuts(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	db := openSchema(t, schema)
	at := time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return at }

	steps := []struct {
		name   string
		append []admeter.Pseudonym
		want   []admeter.Pseudonym // the whole feed afterwards
	}{
		{"nothing", nil, nil},
		{"zero only", []admeter.Pseudonym{{}}, nil},
		{"two, a duplicate and a zero", []admeter.Pseudonym{optP(1), optP(2), optP(1), {}}, optPs(1, 3)},
		{"again", []admeter.Pseudonym{optP(2), optP(1)}, optPs(1, 3)},
		{"one new among old", []admeter.Pseudonym{optP(2), optP(3)}, optPs(1, 4)},
	}
	for _, s := range steps {
		if err := db.AppendOptOuts(ctx, s.append); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got, _ := readOptFeed(t, db); !slices.Equal(got, s.want) {
			t.Fatalf("%s: feed = %v, want %v", s.name, got, s.want)
		}
	}

	all, last := readOptFeed(t, db)
	var stored time.Time
	c := optConn(t, schema)
	if err := c.QueryRow(ctx, `SELECT at FROM optouts ORDER BY seq LIMIT 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond); !stored.Equal(want) {
		t.Errorf("at = %v, want %v", stored, want)
	}

	// Paging: limit is honoured, and each page resumes after the last.
	var paged []admeter.Pseudonym
	for after := int64(0); ; {
		ps, next, err := db.OptOutsSince(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) > 2 {
			t.Fatalf("limit 2 returned %d", len(ps))
		}
		if len(ps) == 0 {
			break
		}
		paged, after = append(paged, ps...), next
	}
	if !slices.Equal(paged, all) {
		t.Errorf("paged = %v, want %v", paged, all)
	}
	if ps, next, err := db.OptOutsSince(ctx, last+100, 10); err != nil || len(ps) != 0 || next != last+100 {
		t.Errorf("past the end: %v, %d, %v", ps, next, err)
	}
	if _, _, err := db.OptOutsSince(ctx, 0, 0); err == nil {
		t.Error("limit 0 accepted")
	}

	// The table refuses what is not a pseudonym.
	for _, bad := range [][]byte{{1, 2}, make([]byte, 16), make([]byte, 17)} {
		if _, err := c.Exec(ctx, `INSERT INTO optouts (pseudonym, at) VALUES ($1, now())`, bad); err == nil {
			t.Errorf("%x was stored", bad)
		}
	}
}

// TestAppendOptOuts_CommitOrder is the case a bare sequence gets wrong: a
// transaction draws seq 10 and has not committed when another draws 11
// and commits. A follower that read 11 and moved its cursor past 10 would
// never see 10. The insert trigger makes the second append wait for the
// first transaction, whoever inserts (here a raw INSERT), so nothing past
// an uncommitted row is ever visible.
func TestAppendOptOuts_CommitOrder(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	db := openSchema(t, schema)
	if err := db.AppendOptOuts(ctx, []admeter.Pseudonym{optP(0)}); err != nil {
		t.Fatal(err)
	}
	_, before := readOptFeed(t, db)

	first := optConn(t, schema)
	tx, err := first.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	p1 := optP(1)
	var seq1 int64
	if err := tx.QueryRow(ctx, `INSERT INTO optouts (pseudonym, at) VALUES ($1, now()) RETURNING seq`, p1[:]).Scan(&seq1); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- db.AppendOptOuts(ctx, []admeter.Pseudonym{optP(2)}) }()
	res := awaitOptAppend(t, optConn(t, schema), done)
	if ps, last, err := db.OptOutsSince(ctx, before, 10); err != nil || len(ps) != 0 || last != before {
		t.Fatalf("while seq %d is in flight, OptOutsSince(%d) = %v, %d, %v; want nothing (a follower would skip seq %d)",
			seq1, before, ps, last, err, seq1)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	ps, last, err := db.OptOutsSince(ctx, before, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []admeter.Pseudonym{p1, optP(2)}; !slices.Equal(ps, want) {
		t.Fatalf("after both commits: %v, want %v", ps, want)
	}
	if last <= seq1 {
		t.Errorf("the second append got seq %d, not after the first's %d", last, seq1)
	}
}

// optNode is one admeter process of a cluster: its own data directory and
// registry, and its own connection pool on the shared database.
type optNode struct {
	tb     testing.TB
	dir    string
	feed   optout.Feed
	reg    *optout.Registry
	sh     *optout.Shared
	prom   *prometheus.Registry
	logMu  sync.Mutex
	logBuf bytes.Buffer
}

// startOptNode opens a node in dir on feed.
func startOptNode(tb testing.TB, dir string, feed optout.Feed) *optNode {
	tb.Helper()
	n := &optNode{tb: tb, dir: dir, feed: feed}
	n.open()
	tb.Cleanup(func() { n.reg.Close() })
	return n
}

// Write captures the node's log.
func (n *optNode) Write(b []byte) (int, error) {
	n.logMu.Lock()
	defer n.logMu.Unlock()
	return n.logBuf.Write(b)
}

func (n *optNode) log() string {
	n.logMu.Lock()
	defer n.logMu.Unlock()
	return n.logBuf.String()
}

func (n *optNode) open() {
	n.tb.Helper()
	logger := slog.New(slog.NewTextHandler(n, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg, err := optout.Open(filepath.Join(n.dir, "optout.reg"), logger)
	if err != nil {
		n.tb.Fatal(err)
	}
	n.prom = prometheus.NewRegistry()
	sh, err := optout.NewShared(reg, n.feed, filepath.Join(n.dir, "optout.cursor"), logger, n.prom)
	if err != nil {
		reg.Close()
		n.tb.Fatal(err)
	}
	n.reg, n.sh = reg, sh
}

// restart closes the node's registry and opens it and its Shared again.
func (n *optNode) restart() {
	n.tb.Helper()
	if err := n.reg.Close(); err != nil {
		n.tb.Fatal(err)
	}
	n.open()
}

func (n *optNode) sync() {
	n.tb.Helper()
	if err := n.sh.Sync(context.Background()); err != nil {
		n.tb.Fatal(err)
	}
}

// hasAll fails the test unless the node reports every one of ps.
func (n *optNode) hasAll(what string, ps []admeter.Pseudonym) {
	n.tb.Helper()
	for i, p := range ps {
		if !n.sh.Contains(p) {
			n.tb.Fatalf("%s: pseudonym %d of %d (%v) missing", what, i, len(ps), p)
		}
	}
}

// metric returns the value of the node's metric name.
func (n *optNode) metric(name string) float64 {
	n.tb.Helper()
	mfs, err := n.prom.Gather()
	if err != nil {
		n.tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	n.tb.Fatalf("no metric %s", name)
	return 0
}

// optCluster opens a database schema and n nodes on it, each with its own
// connection pool.
func optCluster(t *testing.T, n int) (*postgres.DB, []*optNode) {
	t.Helper()
	schema := newSchema(t)
	db := openSchema(t, schema)
	nodes := make([]*optNode, n)
	for i := range nodes {
		nodes[i] = startOptNode(t, t.TempDir(), openSchema(t, schema))
	}
	return db, nodes
}

func TestShared_AddReachesOtherNodes(t *testing.T) {
	ctx := t.Context()
	db, nodes := optCluster(t, 2)
	a, b := nodes[0], nodes[1]
	a.sync()
	b.sync()

	added, err := a.sh.Add(ctx, optP(1), optP(2), admeter.Pseudonym{})
	if err != nil || added != 2 {
		t.Fatalf("A.Add = %d, %v; want 2", added, err)
	}
	a.hasAll("A after its Add", optPs(1, 3))
	if b.sh.Contains(optP(1)) || b.sh.Len() != 0 {
		t.Fatal("B reports the opt-out before it polled")
	}
	b.sync()
	b.hasAll("B after Sync", optPs(1, 3))
	_, last := readOptFeed(t, db)
	if b.sh.Cursor() != last || b.sh.Len() != 2 {
		t.Errorf("B: cursor %d, len %d; want %d, 2", b.sh.Cursor(), b.sh.Len(), last)
	}
	if got := b.metric("admeter_optout_feed_added_total"); got != 2 {
		t.Errorf("B added_total = %v, want 2", got)
	}
	if got := b.metric("admeter_optout_feed_position"); got != float64(last) {
		t.Errorf("B feed_position = %v, want %d", got, last)
	}
	if got := b.metric("admeter_optout_feed_last_sync_timestamp_seconds"); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("B last sync = %v", got)
	}

	// A reads back its own opt-outs from the feed; nothing new to it.
	a.sync()
	if got := a.metric("admeter_optout_feed_added_total"); got != 0 || a.sh.Cursor() != last {
		t.Errorf("A: added_total %v, cursor %d; want 0, %d", got, a.sh.Cursor(), last)
	}
	// Adding an opt-out a node already has still records it in the feed.
	if added, err := b.sh.Add(ctx, optP(2), optP(3)); err != nil || added != 1 {
		t.Fatalf("B.Add = %d, %v; want 1", added, err)
	}
	a.sync()
	a.hasAll("A after B's Add", optPs(1, 4))
	if ps, _ := readOptFeed(t, db); !slices.Equal(ps, optPs(1, 4)) {
		t.Errorf("feed = %v", ps)
	}
	for _, n := range nodes {
		if log := n.log(); strings.Contains(log, optP(1).Hex()) || strings.Contains(log, optP(1).String()) {
			t.Errorf("a optNode logged a pseudonym:\n%s", log)
		}
	}
}

func TestShared_Restart(t *testing.T) {
	cursorFile := func(content string) func(string) error {
		return func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "optout.cursor"), []byte(content), 0o600)
		}
	}
	for _, tc := range []struct {
		name        string
		damage      func(dir string) error // done while the node is down
		wantResumed bool                   // reads the feed from its cursor, not from the start
		wantRejoin  bool                   // finds that the feed does not match its cursor
	}{
		{"clean", func(string) error { return nil }, true, false},
		{"cursor deleted", func(dir string) error { return os.Remove(filepath.Join(dir, "optout.cursor")) }, false, false},
		{"cursor damaged", cursorFile("12x"), false, false},
		{"cursor without pseudonym", cursorFile("3\n"), false, false},
		{"cursor negative", cursorFile("-5 00000000000000000000000000000000\n"), false, false},
		{"cursor zero with a pseudonym", cursorFile("0 " + optP(1).Hex() + "\n"), false, false},
		{"cursor of another feed", cursorFile("3 " + optP(100).Hex() + "\n"), false, true},
		{"registry deleted", func(dir string) error { return os.Remove(filepath.Join(dir, "optout.reg")) }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			schema := newSchema(t)
			db := openSchema(t, schema)
			spy := &spyFeed{Feed: openSchema(t, schema)}
			a := startOptNode(t, t.TempDir(), db)
			b := startOptNode(t, t.TempDir(), spy)

			if _, err := a.sh.Add(ctx, optPs(0, 3)...); err != nil {
				t.Fatal(err)
			}
			b.sync()
			at := b.sh.Cursor()
			if at == 0 {
				t.Fatal("cursor did not move")
			}

			if err := b.reg.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := a.sh.Add(ctx, optPs(3, 5)...); err != nil { // while B is down
				t.Fatal(err)
			}
			if err := tc.damage(b.dir); err != nil {
				t.Fatal(err)
			}
			b.open()
			spy.reset()
			b.sync()
			b.hasAll("B after its restart", optPs(0, 5))
			if b.sh.Len() != 5 {
				t.Errorf("B has %d entries, want 5", b.sh.Len())
			}
			_, last := readOptFeed(t, db)
			if b.sh.Cursor() != last {
				t.Errorf("cursor %d, want %d", b.sh.Cursor(), last)
			}
			// Resuming, the first poll re-reads the record at the cursor;
			// otherwise some poll reads from the start.
			afters := spy.afters()
			resumed := len(afters) > 0 && afters[0] == at-1 && !slices.Contains(afters, 0)
			if resumed != tc.wantResumed || (!resumed && !slices.Contains(afters, 0)) {
				t.Errorf("polls after the restart read after %v; cursor was %d, want resumed=%v", afters, at, tc.wantResumed)
			}
			if got := b.metric("admeter_optout_feed_rejoins_total"); (got == 1) != tc.wantRejoin {
				t.Errorf("rejoins_total = %v, want rejoin=%v", got, tc.wantRejoin)
			}
			// And once more from the cursor it wrote.
			b.restart()
			if b.sh.Cursor() != last {
				t.Errorf("after a second restart the cursor is %d, want %d", b.sh.Cursor(), last)
			}
		})
	}
}

// TestShared_FeedRestored: the database is restored from a backup taken
// before the last opt-outs, and a new opt-out takes a position that a node
// has already passed. The node notices that the record at its cursor is
// gone, gives the feed back what it lost and reads the new opt-out.
func TestShared_FeedRestored(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	db := openSchema(t, schema)
	a := startOptNode(t, t.TempDir(), openSchema(t, schema))
	b := startOptNode(t, t.TempDir(), openSchema(t, schema))
	if _, err := a.sh.Add(ctx, optPs(0, 5)...); err != nil {
		t.Fatal(err)
	}
	b.sync()

	// The backup held optP(0) .. optP(2) only.
	c := optConn(t, schema)
	var seq3 int64
	p3 := optP(3)
	if err := c.QueryRow(ctx, `SELECT seq FROM optouts WHERE pseudonym = $1`, p3[:]).Scan(&seq3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `DELETE FROM optouts WHERE seq >= $1`, seq3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `ALTER TABLE optouts ALTER COLUMN seq RESTART WITH `+strconv.FormatInt(seq3, 10)); err != nil {
		t.Fatal(err)
	}
	// A node that joins now, and a new opt-out at a position B has passed.
	fresh := startOptNode(t, t.TempDir(), openSchema(t, schema))
	if _, err := fresh.sh.Add(ctx, optP(9)); err != nil {
		t.Fatal(err)
	}

	b.sync()
	b.hasAll("B after the restore", append(optPs(0, 5), optP(9)))
	if got := b.metric("admeter_optout_feed_rejoins_total"); got != 1 {
		t.Errorf("rejoins_total = %v, want 1", got)
	}
	if !strings.Contains(b.log(), "lost records") {
		t.Errorf("the rejoin was not logged:\n%s", b.log())
	}
	if ps, _ := readOptFeed(t, db); len(ps) != 6 {
		t.Errorf("the feed holds %d opt-outs after B gave it back its own, want 6", len(ps))
	}
	fresh.sync()
	fresh.hasAll("a node that joined after the restore", append(optPs(0, 5), optP(9)))

	// And that was once: the next poll finds its cursor.
	b.sync()
	if got := b.metric("admeter_optout_feed_rejoins_total"); got != 1 {
		t.Errorf("rejoins_total = %v after another poll, want 1", got)
	}
}

// TestShared_Join: a node whose registry holds opt-outs from before it
// joined the feed (a single-node deployment) publishes them when it first
// syncs, so that every other node gets them. Enough of them to take several
// batches each way.
func TestShared_Join(t *testing.T) {
	ctx := t.Context()
	const n = 25_000
	dir := t.TempDir()
	old := optPs(0, n)
	reg, err := optout.Open(filepath.Join(dir, "optout.reg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Add(ctx, old...); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}

	db, nodes := optCluster(t, 1)
	if _, err := nodes[0].sh.Add(ctx, optP(n)); err != nil { // an opt-out already in the feed
		t.Fatal(err)
	}
	veteran := startOptNode(t, dir, db)
	veteran.sync()
	got, _ := readOptFeed(t, db)
	if len(got) != n+1 {
		t.Fatalf("feed holds %d opt-outs after the join, want %d", len(got), n+1)
	}
	veteran.hasAll("the joined node", optPs(0, n+1))
	nodes[0].sync()
	nodes[0].hasAll("the other node", optPs(0, n+1))
	if !strings.Contains(veteran.log(), "published the opt-out registry") {
		t.Errorf("the join was not logged:\n%s", veteran.log())
	}

	// Published once: a restart does not publish again.
	veteran.restart()
	spy := &spyFeed{Feed: db}
	sh, err := optout.NewShared(veteran.reg, spy, filepath.Join(dir, "optout.cursor"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if spy.appended() != 0 {
		t.Errorf("a restarted optNode appended %d opt-outs again", spy.appended())
	}
}

func TestShared_Concurrent(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	db, nodes := optCluster(t, 2)

	// Followers poll all along.
	var follow sync.WaitGroup
	for _, n := range nodes {
		follow.Go(func() {
			if err := n.sh.Follow(ctx, time.Millisecond); err != nil {
				t.Error(err)
			}
		})
	}
	const writers, each = 4, 15
	var wg sync.WaitGroup
	for ni, n := range nodes {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					k := w*each + i
					if k%3 != 0 { // every third opt-out is made on both nodes
						k += (ni + 1) * 1000
					}
					if _, err := n.sh.Add(ctx, optP(k)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	cancel()
	follow.Wait()

	var want []admeter.Pseudonym
	for k := range writers * each {
		if k%3 == 0 {
			want = append(want, optP(k))
		} else {
			want = append(want, optP(k+1000), optP(k+2000))
		}
	}
	feed, _ := readOptFeed(t, db)
	if len(feed) != len(want) {
		t.Errorf("feed holds %d opt-outs, want %d", len(feed), len(want))
	}
	for _, n := range nodes {
		n.sync()
		n.hasAll("after concurrent adds", want)
		if n.sh.Len() != len(want) {
			t.Errorf("a optNode has %d entries, want %d", n.sh.Len(), len(want))
		}
	}
}

// TestShared_CommitOrder: a follower polling while an earlier insert is
// still in flight neither skips it nor sees anything after it.
func TestShared_CommitOrder(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	a := startOptNode(t, t.TempDir(), openSchema(t, schema))
	b := startOptNode(t, t.TempDir(), openSchema(t, schema))
	if _, err := a.sh.Add(ctx, optP(0)); err != nil {
		t.Fatal(err)
	}
	b.sync()
	at := b.sh.Cursor()

	tx, err := optConn(t, schema).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	p1 := optP(1)
	if _, err := tx.Exec(ctx, `INSERT INTO optouts (pseudonym, at) VALUES ($1, now())`, p1[:]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.sh.Add(ctx, optP(2))
		done <- err
	}()
	res := awaitOptAppend(t, optConn(t, schema), done)
	b.sync()
	if b.sh.Cursor() != at || b.sh.Contains(optP(2)) {
		t.Fatalf("B moved to %d (from %d) while an earlier insert was in flight", b.sh.Cursor(), at)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	b.sync()
	b.hasAll("B after both commits", optPs(0, 3))
}

func TestShared_FeedUnreachable(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		// cut makes the feed unreachable and returns the context for Add
		// and a function that makes it reachable again.
		cut func(t *testing.T, schema string, px *optProxy) (context.Context, func())
	}{
		{"connection lost", func(t *testing.T, _ string, px *optProxy) (context.Context, func()) {
			px.setDown(true)
			return ctx, func() { px.setDown(false) }
		}},
		{"stalled", func(t *testing.T, schema string, _ *optProxy) (context.Context, func()) {
			// Another transaction holds the insert lock and does not end.
			tx, err := optConn(t, schema).Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			p := optP(99)
			if _, err := tx.Exec(ctx, `INSERT INTO optouts (pseudonym, at) VALUES ($1, now())`, p[:]); err != nil {
				t.Fatal(err)
			}
			c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			return c, func() { cancel(); tx.Rollback(context.Background()) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := newSchema(t)
			db := openSchema(t, schema)
			px := startOptProxy(t)
			a := startOptNode(t, t.TempDir(), px.openSchema(t, schema))
			a.sync()
			if _, err := a.sh.Add(ctx, optP(0)); err != nil {
				t.Fatal(err)
			}

			addCtx, restore := tc.cut(t, schema, px)
			added, err := a.sh.Add(addCtx, optP(1))
			if err == nil || !strings.Contains(err.Error(), "not acknowledged") {
				t.Fatalf("Add with the feed unreachable = %d, %v; want an error saying it is not acknowledged", added, err)
			}
			if strings.Contains(err.Error(), optP(1).Hex()) || strings.Contains(err.Error(), optP(1).String()) {
				t.Errorf("the error quotes the pseudonym: %v", err)
			}
			if a.sh.Contains(optP(1)) || a.sh.Len() != 1 {
				t.Fatal("the local registry took an opt-out the feed did not")
			}
			// Polls fail while the connection is lost; a stalled insert does
			// not hold them up.
			if err := a.sh.Sync(ctx); (err == nil) != (tc.name == "stalled") {
				t.Errorf("Sync with the feed %s: %v", tc.name, err)
			}
			restore()

			a.restart()
			if a.sh.Contains(optP(1)) || a.sh.Len() != 1 {
				t.Fatal("the registry file holds an opt-out the feed did not take")
			}
			if ps, _ := readOptFeed(t, db); !slices.Equal(ps, optPs(0, 1)) {
				t.Fatalf("feed = %v", ps)
			}
			// Reachable again: the retry goes through.
			if added, err := a.sh.Add(ctx, optP(1)); err != nil || added != 1 {
				t.Fatalf("Add once the feed is back = %d, %v", added, err)
			}
			if ps, _ := readOptFeed(t, db); !slices.Equal(ps, optPs(0, 2)) {
				t.Fatalf("feed = %v", ps)
			}
		})
	}
}

// TestShared_Follow: a follower cut off from the database keeps retrying,
// logs the failure once, and catches up as soon as it is back.
func TestShared_Follow(t *testing.T) {
	schema := newSchema(t)
	a := startOptNode(t, t.TempDir(), openSchema(t, schema))
	px := startOptProxy(t)
	b := startOptNode(t, t.TempDir(), px.openSchema(t, schema))
	b.sync()
	px.setDown(true)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.sh.Follow(ctx, 5*time.Millisecond) }()

	p := optP(7)
	if _, err := a.sh.Add(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	optWaitFor(t, "failed polls", func() bool { return b.metric("admeter_optout_feed_sync_failures_total") >= 3 })
	if b.sh.Contains(p) {
		t.Fatal("B has the opt-out while cut off")
	}
	px.setDown(false)
	optWaitFor(t, "B to pick up the opt-out", func() bool { return b.sh.Contains(p) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v", err)
	}

	log := b.log()
	if n := strings.Count(log, "level=ERROR"); n != 1 {
		t.Errorf("%d error lines, want 1 (then quiet while it goes on):\n%s", n, log)
	}
	if !strings.Contains(log, "feed polled again") {
		t.Errorf("no recovery line:\n%s", log)
	}
	if strings.Contains(log, p.Hex()) || strings.Contains(log, p.String()) {
		t.Errorf("the log holds the pseudonym:\n%s", log)
	}

	// Follow with the default interval stops at once when asked.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if err := b.sh.Follow(ctx, 0); err != nil {
		t.Errorf("Follow after cancel = %v", err)
	}
}

// optWaitFor polls cond until it holds, failing tb after 10 s.
func optWaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewShared_Errors(t *testing.T) {
	schema := newSchema(t)
	feed := openSchema(t, schema)
	dir := t.TempDir()
	reg, err := optout.Open(filepath.Join(dir, "optout.reg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	cursor := filepath.Join(dir, "optout.cursor")
	for _, tc := range []struct {
		name   string
		reg    *optout.Registry
		feed   optout.Feed
		cursor string
	}{
		{"no registry", nil, feed, cursor},
		{"no feed", reg, nil, cursor},
		{"no cursor path", reg, feed, ""},
	} {
		if _, err := optout.NewShared(tc.reg, tc.feed, tc.cursor, nil, nil); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	prom := prometheus.NewRegistry()
	if _, err := optout.NewShared(reg, feed, cursor, nil, prom); err != nil {
		t.Fatal(err)
	}
	if _, err := optout.NewShared(reg, feed, cursor, nil, prom); err == nil || !strings.Contains(err.Error(), "register") {
		t.Errorf("registering the metrics twice: %v", err)
	}
	// A cursor that cannot be read (a directory in its place) is an error,
	// not a silent restart.
	if err := os.Mkdir(cursor, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := optout.NewShared(reg, feed, cursor, nil, nil); err == nil {
		t.Error("an unreadable cursor was accepted")
	}
}

// spyFeed wraps a real feed to record calls.
type spyFeed struct {
	optout.Feed

	mu    sync.Mutex
	after []int64
	added int
}

func (f *spyFeed) OptOutsSince(ctx context.Context, after int64, limit int) ([]admeter.Pseudonym, int64, error) {
	f.mu.Lock()
	f.after = append(f.after, after)
	f.mu.Unlock()
	return f.Feed.OptOutsSince(ctx, after, limit)
}

func (f *spyFeed) AppendOptOuts(ctx context.Context, ps []admeter.Pseudonym) error {
	f.mu.Lock()
	f.added += len(ps)
	f.mu.Unlock()
	return f.Feed.AppendOptOuts(ctx, ps)
}

func (f *spyFeed) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.after, f.added = nil, 0
}

// afters returns the positions the polls since reset read after.
func (f *spyFeed) afters() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.after)
}

func (f *spyFeed) appended() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.added
}

// optProxy forwards connections from a unix socket of its own to the test
// server, and can cut them: a database that becomes unreachable, then
// comes back.
type optProxy struct {
	dir             string
	network, target string
	ln              net.Listener

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// startOptProxy starts a proxy to the test server, stopped when tb ends.
func startOptProxy(tb testing.TB) *optProxy {
	tb.Helper()
	cfg, err := pgx.ParseConfig(testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	p := &optProxy{network: "tcp", target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), conns: map[net.Conn]struct{}{}}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.target = "unix", filepath.Join(cfg.Host, ".s.PGSQL."+strconv.Itoa(int(cfg.Port)))
	}
	if p.dir, err = os.MkdirTemp("", "admpx"); err != nil { // short: socket paths are limited
		tb.Fatal(err)
	}
	if p.ln, err = net.Listen("unix", filepath.Join(p.dir, ".s.PGSQL.5432")); err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			up, err := net.Dial(p.network, p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			wg.Go(func() { pipe(up, c) })
			wg.Go(func() { pipe(c, up) })
		}
	})
	tb.Cleanup(func() {
		p.ln.Close()
		p.setDown(true)
		wg.Wait()
		os.RemoveAll(p.dir)
	})
	return p
}

// setDown cuts every connection and refuses new ones (true), or accepts
// them again (false).
func (p *optProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// openOptFeed opens a DB on schema that connects through the proxy.
func (p *optProxy) openSchema(tb testing.TB, schema string) *postgres.DB {
	tb.Helper()
	dsn := testDSN + " host=" + p.dir + " port=5432"
	if u, err := url.Parse(testDSN); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("host", p.dir)
		q.Set("port", "5432")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db := postgres.NewDB(dsn)
	db.Schema = schema
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
