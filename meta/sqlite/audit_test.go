package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/sqlite"
)

// TestAudit runs the shared audit record suite against SQLite.
func TestAudit(t *testing.T) {
	metatest.RunAudit(t, openAuditDB)
}

// auditDB is a DB with the hooks metatest.RunAudit needs: raw connections
// to its file, as someone holding the file could open.
type auditDB struct {
	*sqlite.DB
	path string
}

// openAuditDB opens a new database in a temporary directory.
func openAuditDB(tb testing.TB) metatest.AuditDB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "meta.db")
	return auditDB{MustOpenDBAt(tb, path), path}
}

func (d auditDB) NewAuditLog(key ed25519.PrivateKey, every int) metatest.AuditLog {
	log := sqlite.NewAuditLog(d.DB, key)
	log.CheckpointEvery = every
	return log
}

func (d auditDB) Reopen(tb testing.TB) metatest.AuditDB {
	tb.Helper()
	return auditDB{MustOpenDBAt(tb, d.path), d.path}
}

// raw opens a connection of its own to the file.
func (d auditDB) raw(tb testing.TB) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", d.path+"?_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	raw.SetMaxOpenConns(1) // one connection, so TEMP tables last
	return raw
}

// placeholder matches the suite's $1, $2… placeholders.
var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// sqliteSQL rewrites the suite's placeholders as SQLite's ?1, ?2…
func sqliteSQL(query string) string {
	return placeholder.ReplaceAllString(query, "?$1")
}

func (d auditDB) Exec(tb testing.TB, query string, args ...any) error {
	_, err := d.raw(tb).Exec(sqliteSQL(query), args...)
	return err
}

func (d auditDB) Query(tb testing.TB, query string, args ...any) [][]any {
	tb.Helper()
	rows, err := d.raw(tb).Query(sqliteSQL(query), args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Tamper drops the append-only triggers in a transaction of its own, runs
// fn's statements and creates the triggers again before it commits.
func (d auditDB) Tamper(tb testing.TB, fn func(exec func(query string, args ...any))) {
	tb.Helper()
	tx, err := d.raw(tb).Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(query string, args ...any) {
		tb.Helper()
		if _, err := tx.Exec(sqliteSQL(query), args...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
	}
	rows, err := tx.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_checkpoints')`)
	if err != nil {
		tb.Fatal(err)
	}
	var triggers [][2]string
	for rows.Next() {
		var t [2]string
		if err := rows.Scan(&t[0], &t[1]); err != nil {
			tb.Fatal(err)
		}
		triggers = append(triggers, t)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(triggers) != 4 {
		tb.Fatalf("%d append-only triggers, want 4", len(triggers))
	}
	for _, t := range triggers {
		exec(`DROP TRIGGER ` + t[0])
	}
	fn(exec)
	for _, t := range triggers {
		exec(t[1])
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// auditT0 is the time of the first record tests append.
var auditT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testAuditKey returns a fixed Ed25519 key, so that failures reproduce.
func testAuditKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

// testEntry returns the i-th record tests append.
func testEntry(i int) admeter.AuditEntry {
	return admeter.AuditEntry{
		Time:    auditT0.Add(time.Duration(i) * time.Minute),
		Actor:   fmt.Sprintf("user:u_%d", i%3),
		Action:  []string{"auth.signin", "report.read", "campaign.create", "auth.signin.failed"}[i%4],
		Tenant:  []string{"t_a", "t_b"}[i%2],
		Target:  fmt.Sprintf("c_%d", i),
		IP:      fmt.Sprintf("203.0.%d.0/24", i%256),
		Outcome: "ok",
		Details: map[string]any{"i": i, "rows": i * 10},
	}
}

// seedAudit appends n test records with log in one transaction.
func seedAudit(tb testing.TB, log *sqlite.AuditLog, n int) {
	tb.Helper()
	es := make([]admeter.AuditEntry, n)
	for i := range es {
		es[i] = testEntry(i + 1)
	}
	if err := log.RecordAll(context.Background(), es); err != nil {
		tb.Fatal(err)
	}
}

func TestVerifyAudit_TimeForm(t *testing.T) {
	// SQLite keeps times as text: the same instant written in another form
	// reads back alike and hashes alike, but is not what admeter wrote.
	db := openAuditDB(t).(auditDB)
	key := testAuditKey(7)
	log := sqlite.NewAuditLog(db.DB, key)
	log.CheckpointEvery = 10
	seedAudit(t, log, 25)
	db.Tamper(t, func(exec func(string, ...any)) {
		exec(`UPDATE audit_log SET time = replace(time, 'Z', '+00:00') WHERE seq = 24`)
	})
	v, err := db.VerifyAudit(t.Context(), key.Public().(ed25519.PublicKey))
	var ae *sqlite.AuditError
	if !errors.As(err, &ae) || ae.Seq != 24 || ae.Fault != sqlite.AuditEdited || v.Records != 23 {
		t.Fatalf("VerifyAudit = %+v, %v; want record 24 edited", v, err)
	}
}

func TestAuditAliases(t *testing.T) {
	// The names kept in this package are the domain's.
	var q sqlite.AuditQuery = admeter.AuditQuery{Limit: sqlite.MaxAuditLimit}
	if q.EffectiveLimit() != admeter.MaxAuditLimit || sqlite.DefaultAuditLimit != admeter.DefaultAuditLimit ||
		sqlite.DefaultAuditCheckpointEvery != admeter.DefaultAuditCheckpointEvery {
		t.Fatal("sqlite's audit names differ from admeter's")
	}
}

func TestAuditChainHash_Golden(t *testing.T) {
	e := admeter.AuditEntry{
		Seq:     99, // ignored
		Time:    time.Date(2026, 3, 1, 8, 30, 15, 123456000, time.FixedZone("CST", 8*3600)),
		Actor:   "user:u_1",
		Action:  "report.read",
		Tenant:  "t_a",
		Target:  "c_9",
		IP:      "203.0.113.0/24",
		Outcome: "ok",
		Details: map[string]any{"rows": 12, "campaign": "c_9", "range": map[string]any{"to": "2026-02-28", "from": "2026-02-01"}},
	}
	var prev [32]byte
	for i := range prev {
		prev[i] = byte(i)
	}
	details, err := e.CanonicalDetails()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"campaign":"c_9","range":{"from":"2026-02-01","to":"2026-02-28"},"rows":12}`; string(details) != want {
		t.Errorf("canonical details %s, want %s", details, want)
	}
	h, err := e.ChainHash(42, prev)
	if err != nil {
		t.Fatal(err)
	}
	// If this changes, every stored chain stops verifying: change the
	// encoding only with a new tag and a migration.
	const golden = "1b5f02d7f5ad08bb3c4dad8eaa40b66fee41ac25308a7a0135e60e82d9210da7"
	if got := hex.EncodeToString(h[:]); got != golden {
		t.Errorf("ChainHash = %s, want %s", got, golden)
	}
	if h2 := admeter.AuditChainHash(42, prev, &e, details); h2 != h {
		t.Error("AuditChainHash over the canonical details differs from ChainHash")
	}
	e.Seq = 1
	if h2, _ := e.ChainHash(42, prev); h2 != h {
		t.Error("ChainHash depends on e.Seq")
	}
	if got := hex.EncodeToString(admeter.AuditCheckpointMessage(42, h)); got != hex.EncodeToString([]byte("admeter.audit.checkpoint.v1\x00"))+"000000000000002a"+golden {
		t.Errorf("AuditCheckpointMessage = %s", got)
	}
}

func TestAuditChainHash_Distinct(t *testing.T) {
	// Every variant, including ones that move bytes across a field
	// boundary, hashes differently from every other.
	base := admeter.AuditEntry{Time: auditT0, Actor: "ab", Action: "c", Outcome: "ok"}
	type variant struct {
		name string
		e    admeter.AuditEntry
		seq  uint64
		prev [32]byte
	}
	vs := []variant{{name: "base", e: base, seq: 1}}
	add := func(name string, seq uint64, prev [32]byte, edit func(e *admeter.AuditEntry)) {
		e := base
		edit(&e)
		vs = append(vs, variant{name, e, seq, prev})
	}
	same := func(*admeter.AuditEntry) {}
	add("actor/action boundary", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Actor, e.Action = "a", "bc" })
	add("action into tenant", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Action, e.Tenant = "", "c" })
	add("tenant", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Tenant = "x" })
	add("target", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Target = "x" })
	add("ip", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.IP = "x" })
	add("outcome into ip", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.IP, e.Outcome = "ok", "" })
	add("outcome", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Outcome = "failed" })
	add("details", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Details = map[string]any{"n": 1} })
	add("details value", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Details = map[string]any{"n": 2} })
	add("time ns", 1, [32]byte{}, func(e *admeter.AuditEntry) { e.Time = e.Time.Add(time.Nanosecond) })
	add("seq", 2, [32]byte{}, same)
	add("prev", 1, [32]byte{1}, same)
	seen := map[[32]byte]string{}
	for _, v := range vs {
		h, err := v.e.ChainHash(v.seq, v.prev)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("%s and %s hash alike", v.name, other)
		}
		seen[h] = v.name
	}
	// The same instant in another zone is the same record.
	h0, _ := base.ChainHash(1, [32]byte{})
	e := base
	e.Time = auditT0.In(time.FixedZone("CST", 8*3600))
	if h, _ := e.ChainHash(1, [32]byte{}); h != h0 {
		t.Error("the time's zone changes the hash")
	}
}

func TestAuditEntry_CanonicalDetails(t *testing.T) {
	type pair struct {
		Z int    `json:"z"`
		A string `json:"a"`
	}
	for _, tc := range []struct {
		name    string
		details map[string]any
		want    string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"struct keys sorted", map[string]any{"p": pair{Z: 1, A: "x"}}, `{"p":{"a":"x","z":1}}`},
		{"big integer kept", map[string]any{"n": uint64(math.MaxUint64)}, `{"n":18446744073709551615}`},
		{"html escaped", map[string]any{"s": "<a&b>"}, `{"s":"\u003ca\u0026b\u003e"}`},
		{"time", map[string]any{"t": auditT0}, `{"t":"2026-03-01T08:00:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := admeter.AuditEntry{Details: tc.details}
			b, err := e.CanonicalDetails()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
	e := admeter.AuditEntry{Details: map[string]any{"x": math.NaN()}}
	if _, err := e.CanonicalDetails(); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("NaN: err %v, want EINVALID", err)
	}
}

func TestAuditEntry_Validate(t *testing.T) {
	ok := admeter.AuditEntry{Actor: "operator", Action: "tenant.create", Outcome: "ok"}
	for _, tc := range []struct {
		ip    string
		valid bool
	}{
		{"", true},
		{"203.0.113.0/24", true},
		{"10.0.0.0/8", true},
		{"2001:db8:1234::/48", true},
		{"203.0.113.7", false},
		{"203.0.113.7/32", false},
		{"203.0.113.0/25", false},
		{"203.0.113.5/24", false},
		{"2001:db8:1234:5678::/64", false},
		{"2001:db8::1", false},
		{"::ffff:203.0.113.0/120", false},
		{"localhost", false},
	} {
		e := ok
		e.IP = tc.ip
		if err := e.Validate(); (err == nil) != tc.valid {
			t.Errorf("IP %q: err %v, want valid %v", tc.ip, err, tc.valid)
		} else if err != nil && admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("IP %q: err %v, want EINVALID", tc.ip, err)
		}
	}
	for _, e := range []admeter.AuditEntry{{Action: "a", Outcome: "ok"}, {Actor: "a", Outcome: "ok"}, {Actor: "a", Action: "a"}} {
		if err := e.Validate(); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("%+v: err %v, want EINVALID", e, err)
		}
	}
}

func BenchmarkAuditLog_Record(b *testing.B) {
	log := sqlite.NewAuditLog(MustOpenDB(b), testAuditKey(7))
	ctx := context.Background()
	e := testEntry(1)
	for b.Loop() {
		if err := log.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAudit(b *testing.B) {
	db := MustOpenDB(b)
	key := testAuditKey(7)
	const n = 10000
	seedAudit(b, sqlite.NewAuditLog(db, key), n)
	ctx := context.Background()
	for b.Loop() {
		v, err := db.VerifyAudit(ctx, key.Public().(ed25519.PublicKey))
		if err != nil || v.Records != n {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}
