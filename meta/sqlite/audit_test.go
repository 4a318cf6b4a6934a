package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
)

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

// auditHarness is an open DB with an AuditLog that checkpoints every
// `every` records, and the path of its file.
type auditHarness struct {
	path string
	db   *sqlite.DB
	log  *sqlite.AuditLog
	pub  ed25519.PublicKey
}

func newAuditHarness(tb testing.TB, every int) *auditHarness {
	tb.Helper()
	return openAuditHarness(tb, filepath.Join(tb.TempDir(), "meta.db"), every)
}

// openAuditHarness opens the database at path.
func openAuditHarness(tb testing.TB, path string, every int) *auditHarness {
	tb.Helper()
	db := MustOpenDBAt(tb, path)
	key := testAuditKey(7)
	log := sqlite.NewAuditLog(db, key)
	log.CheckpointEvery = every
	return &auditHarness{path: path, db: db, log: log, pub: key.Public().(ed25519.PublicKey)}
}

// testEntry returns the i-th record tests append: tenants, actions, IPs and
// details vary with i.
func testEntry(i int) admeter.AuditEntry {
	e := admeter.AuditEntry{
		Time:    auditT0.Add(time.Duration(i) * time.Minute),
		Actor:   fmt.Sprintf("user:u_%d", i%3),
		Action:  []string{"auth.signin", "report.read", "campaign.create", "auth.signin.failed"}[i%4],
		Tenant:  []string{"t_a", "t_b", ""}[i%3],
		Target:  fmt.Sprintf("c_%d", i),
		IP:      fmt.Sprintf("203.0.%d.0/24", i%256),
		Outcome: "ok",
		Details: map[string]any{"i": i, "rows": i * 10},
	}
	if e.Tenant == "" {
		e.Actor = "system"
	}
	return e
}

// seed appends n test records in one transaction.
func (h *auditHarness) seed(tb testing.TB, n int) {
	tb.Helper()
	es := make([]admeter.AuditEntry, n)
	for i := range es {
		es[i] = testEntry(i + 1)
	}
	if err := h.log.RecordAll(context.Background(), es); err != nil {
		tb.Fatal(err)
	}
}

// raw opens a separate connection to the file, behind the DB's back, with
// the append-only triggers dropped, as someone holding the file could.
func (h *auditHarness) raw(tb testing.TB) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", h.path+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	raw.SetMaxOpenConns(1) // one connection, so TEMP tables last
	for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
		if _, err := raw.Exec(`DROP TRIGGER ` + trg); err != nil {
			tb.Fatal(err)
		}
	}
	return raw
}

func mustExec(tb testing.TB, db *sql.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// checkpointSeqs returns the sequence numbers of the stored checkpoints.
func checkpointSeqs(tb testing.TB, path string) string {
	tb.Helper()
	return rawQueryString(tb, path, `SELECT COALESCE(group_concat(seq, ','), '') FROM (SELECT seq FROM audit_checkpoints ORDER BY seq)`)
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

func TestAuditLog_RecordConcurrent(t *testing.T) {
	h := newAuditHarness(t, 10)
	ctx := context.Background()
	v0 := MustVersion(t, h.db)
	const writers, each = 4, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := testEntry(w*each + i)
				e.Time = time.Time{}
				if err := h.log.Record(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	v, err := h.db.VerifyAudit(ctx, h.pub)
	if err != nil {
		t.Fatal(err)
	}
	if v.Records != writers*each || v.Checkpoints != writers*each/10 || v.LastCheckpoint != writers*each || v.Unproven != 0 || len(v.Warnings) != 0 {
		t.Fatalf("VerifyAudit = %+v", v)
	}
	if got := MustVersion(t, h.db); got != v0 {
		t.Errorf("change counter went from %d to %d: audit records are not cached metadata", v0, got)
	}
	es, err := h.db.AuditEntries(ctx, sqlite.AuditQuery{Limit: sqlite.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.Seq != uint64(i+1) || e.Time.IsZero() || e.Time.Location() != time.UTC {
			t.Fatalf("record %d: seq %d, time %v", i+1, e.Seq, e.Time)
		}
	}
}

func TestAuditLog_Checkpoints(t *testing.T) {
	h := newAuditHarness(t, 5)
	ctx := context.Background()
	h.seed(t, 12)
	if got := checkpointSeqs(t, h.path); got != "5,10" {
		t.Fatalf("checkpoints at %s, want 5,10", got)
	}
	v, err := h.db.VerifyAudit(ctx, h.pub)
	if err != nil || v.Records != 12 || v.Checkpoints != 2 || v.LastCheckpoint != 10 || v.Unproven != 2 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	// A forced checkpoint proves the tail; the cadence counts from it.
	for range 2 {
		if err := h.log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h.seed(t, 6)
	if got := checkpointSeqs(t, h.path); got != "5,10,12,17" {
		t.Fatalf("checkpoints at %s, want 5,10,12,17", got)
	}
	if err := h.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	v, err = h.db.VerifyAudit(ctx, h.pub)
	if err != nil || v.Records != 18 || v.Checkpoints != 5 || v.Unproven != 0 || len(v.Warnings) != 0 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	// Without a public key the chain is still checked, with a warning.
	if v, err := h.db.VerifyAudit(ctx, nil); err != nil || v.Records != 18 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit(nil) = %+v, %v", v, err)
	}
	if _, err := h.db.VerifyAudit(ctx, h.pub[:16]); err == nil {
		t.Error("VerifyAudit accepted a short public key")
	}

	// Without a key, no checkpoints; an empty record checkpoints nothing.
	h = newAuditHarness(t, 5)
	if err := h.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	h.log.Key = nil
	h.seed(t, 7)
	if err := h.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got := checkpointSeqs(t, h.path); got != "" {
		t.Fatalf("checkpoints at %s without a key", got)
	}
	v, err = h.db.VerifyAudit(ctx, h.pub)
	if err != nil || v.Records != 7 || v.Unproven != 7 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	h.log.Key = testAuditKey(1)[:10]
	if err := h.log.Record(ctx, testEntry(1)); err == nil {
		t.Error("Record accepted a malformed key")
	}
}

func TestAuditLog_RecordInvalid(t *testing.T) {
	h := newAuditHarness(t, 5)
	ctx := context.Background()
	for _, e := range []admeter.AuditEntry{
		{Actor: "operator", Action: "tenant.create", Outcome: "ok", IP: "203.0.113.7"},
		{Actor: "operator", Action: "tenant.create", Outcome: "ok", Details: map[string]any{"f": math.Inf(1)}},
		{Action: "tenant.create", Outcome: "ok"},
	} {
		if err := h.log.Record(ctx, e); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("%+v: err %v, want EINVALID", e, err)
		}
	}
	if n := rawQueryInt(t, h.path, `SELECT COUNT(*) FROM audit_log`); n != 0 {
		t.Errorf("%d records stored", n)
	}
}

func TestAuditLog_AppendOnly(t *testing.T) {
	h := newAuditHarness(t, 5)
	h.seed(t, 5)
	raw, err := sql.Open("sqlite", h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`UPDATE audit_log SET outcome = 'failed' WHERE seq = 2`,
		`DELETE FROM audit_log WHERE seq = 5`,
		`UPDATE audit_checkpoints SET time = '' WHERE seq = 5`,
		`DELETE FROM audit_checkpoints`,
	} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err %v, want append-only", q, err)
		}
	}
}

// rehash recomputes the prev_hash and hash of every record up to seq upTo
// (all if 0) from its fields, as someone who rewrote a record and knows the
// encoding would.
func rehash(tb testing.TB, raw *sql.DB, upTo uint64) {
	tb.Helper()
	type rec struct {
		seq     uint64
		e       admeter.AuditEntry
		details []byte
	}
	rows, err := raw.Query(`SELECT seq, time, actor, action, COALESCE(tenant_id, ''), target, ip, outcome, details FROM audit_log ORDER BY seq`)
	if err != nil {
		tb.Fatal(err)
	}
	var rs []rec
	for rows.Next() {
		var (
			r rec
			t string
		)
		if err := rows.Scan(&r.seq, &t, &r.e.Actor, &r.e.Action, &r.e.Tenant, &r.e.Target, &r.e.IP, &r.e.Outcome, &r.details); err != nil {
			tb.Fatal(err)
		}
		if r.e.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			tb.Fatal(err)
		}
		rs = append(rs, r)
	}
	rows.Close()
	var prev [32]byte
	for _, r := range rs {
		if upTo != 0 && r.seq > upTo {
			break
		}
		h := admeter.AuditChainHash(r.seq, prev, &r.e, r.details)
		mustExec(tb, raw, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?`, prev[:], h[:], r.seq)
		prev = h
	}
}

func TestVerifyAudit_Tamper(t *testing.T) {
	// 25 records, checkpoints at 10 and 20, records 21-25 unproven. Each
	// case tampers with its own copy of this file.
	template := filepath.Join(t.TempDir(), "template.db")
	func() {
		db := sqlite.NewDB(template)
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		h := &auditHarness{path: template, db: db, log: sqlite.NewAuditLog(db, testAuditKey(7))}
		h.log.CheckpointEvery = 10
		h.seed(t, 25)
	}()
	image, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	swap := func(cols string) func(tb testing.TB, raw *sql.DB) {
		return func(tb testing.TB, raw *sql.DB) {
			mustExec(tb, raw, `CREATE TEMP TABLE r AS SELECT * FROM audit_log WHERE seq IN (7, 8)`)
			set := []string{}
			for c := range strings.SplitSeq(cols, ",") {
				set = append(set, fmt.Sprintf("%s = (SELECT %s FROM r WHERE r.seq = 15 - audit_log.seq)", c, c))
			}
			mustExec(tb, raw, `UPDATE audit_log SET `+strings.Join(set, ", ")+` WHERE seq IN (7, 8)`)
		}
	}
	const fields = "time,actor,action,tenant_id,target,ip,outcome,details"
	for _, tc := range []struct {
		name      string
		tamper    func(tb testing.TB, raw *sql.DB)
		wrongKey  bool
		wantSeq   uint64
		wantFault sqlite.AuditFault
		wantRecs  uint64 // when wantFault is "": records verified
	}{
		{name: "edit outcome", wantSeq: 7, wantFault: sqlite.AuditEdited,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)
			}},
		{name: "edit ip", wantSeq: 13, wantFault: sqlite.AuditEdited,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET ip = '198.51.100.0/24' WHERE seq = 13`)
			}},
		{name: "clear tenant", wantSeq: 1, wantFault: sqlite.AuditEdited,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET tenant_id = NULL WHERE seq = 1`)
			}},
		{name: "details whitespace", wantSeq: 7, wantFault: sqlite.AuditEdited,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET details = '{"i": 7,"rows":70}' WHERE seq = 7`)
			}},
		{name: "same time other form", wantSeq: 24, wantFault: sqlite.AuditEdited,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET time = replace(time, 'Z', '+00:00') WHERE seq = 24`)
			}},
		{name: "delete middle", wantSeq: 7, wantFault: sqlite.AuditRemoved,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log WHERE seq = 7`)
			}},
		{name: "delete first", wantSeq: 1, wantFault: sqlite.AuditRemoved,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log WHERE seq = 1`)
			}},
		{name: "swap records", wantSeq: 7, wantFault: sqlite.AuditReordered,
			tamper: swap(fields + ",prev_hash,hash")},
		{name: "swap fields", wantSeq: 7, wantFault: sqlite.AuditEdited,
			tamper: swap(fields)},
		{name: "renumber", wantSeq: 7, wantFault: sqlite.AuditReordered,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log WHERE seq = 7`)
				mustExec(tb, raw, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 7`)
			}},
		{name: "edit and rehash chain", wantSeq: 10, wantFault: sqlite.AuditRewritten,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)
				rehash(tb, raw, 0)
			}},
		{name: "edit and rehash record", wantSeq: 8, wantFault: sqlite.AuditReordered,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)
				rehash(tb, raw, 7)
			}},
		{name: "checkpoint signature", wantSeq: 20, wantFault: sqlite.AuditBadCheckpoint,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 20`)
			}},
		{name: "checkpoint hash", wantSeq: 10, wantFault: sqlite.AuditBadCheckpoint,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_log WHERE seq = 9) WHERE seq = 10`)
			}},
		{name: "other key", wrongKey: true, wantSeq: 10, wantFault: sqlite.AuditBadCheckpoint},
		{name: "truncate after last checkpoint", wantRecs: 22,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log WHERE seq > 22`)
			}},
		{name: "truncate before last checkpoint", wantSeq: 16, wantFault: sqlite.AuditTruncated,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log WHERE seq > 15`)
			}},
		{name: "truncate all", wantSeq: 1, wantFault: sqlite.AuditTruncated,
			tamper: func(tb testing.TB, raw *sql.DB) {
				mustExec(tb, raw, `DELETE FROM audit_log`)
			}},
		{name: "untouched", wantRecs: 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			if err := os.WriteFile(path, image, 0o600); err != nil {
				t.Fatal(err)
			}
			h := openAuditHarness(t, path, 10)
			ctx := context.Background()
			if v, err := h.db.VerifyAudit(ctx, h.pub); err != nil || v.Records != 25 {
				t.Fatalf("before tampering: %+v, %v", v, err)
			}
			if tc.tamper != nil {
				tc.tamper(t, h.raw(t))
			}
			pub := h.pub
			if tc.wrongKey {
				pub = testAuditKey(8).Public().(ed25519.PublicKey)
			}
			v, err := h.db.VerifyAudit(ctx, pub)
			if tc.wantFault == "" {
				if err != nil || v.Records != tc.wantRecs || v.LastCheckpoint != 20 || v.Unproven != tc.wantRecs-20 || len(v.Warnings) != 1 {
					t.Fatalf("VerifyAudit = %+v, %v; want %d records, ok", v, err, tc.wantRecs)
				}
				return
			}
			var ae *sqlite.AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("VerifyAudit = %+v, %v; want an *AuditError", v, err)
			}
			if ae.Seq != tc.wantSeq || ae.Fault != tc.wantFault {
				t.Fatalf("VerifyAudit failed at %d (%s), want %d (%s): %v", ae.Seq, ae.Fault, tc.wantSeq, tc.wantFault, err)
			}
			if v.Records != tc.wantSeq-1 {
				t.Errorf("Records %d, want %d: every record before the bad one", v.Records, tc.wantSeq-1)
			}
			t.Log(err)
		})
	}
}

func TestVerifyAudit_WhileAppending(t *testing.T) {
	h := newAuditHarness(t, 10)
	ctx := context.Background()
	h.seed(t, 20)
	// A second DB on the same file, as `admeter audit verify` opens it
	// while the server runs.
	other := MustOpenDBAt(t, h.path)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 30 {
			if err := h.log.Record(ctx, testEntry(100+i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var last uint64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		v, err := other.VerifyAudit(ctx, h.pub)
		if err != nil {
			t.Fatal(err)
		}
		if v.Records < last {
			t.Fatalf("verified %d records after %d", v.Records, last)
		}
		last = v.Records
	}
	if v, err := other.VerifyAudit(ctx, h.pub); err != nil || v.Records != 50 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

func TestAuditEntries(t *testing.T) {
	h := newAuditHarness(t, 10)
	ctx := context.Background()
	h.seed(t, 30)
	extra := admeter.AuditEntry{Time: auditT0.Add(time.Hour), Actor: "operator", Action: "authx", Tenant: "t_a", Outcome: "ok"}
	if err := h.log.Record(ctx, extra); err != nil {
		t.Fatal(err)
	}
	seqs := func(es []admeter.AuditEntry) string {
		s := make([]string, len(es))
		for i, e := range es {
			s[i] = fmt.Sprint(e.Seq)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		q    sqlite.AuditQuery
		want string
	}{
		{"tenant", sqlite.AuditQuery{Tenant: "t_a", Limit: 5}, "3,6,9,12,15"},
		{"tenant page 2", sqlite.AuditQuery{Tenant: "t_a", Limit: 5, After: 15}, "18,21,24,27,30"},
		{"tenant last page", sqlite.AuditQuery{Tenant: "t_a", Limit: 5, After: 30}, "31"},
		{"tenant newest", sqlite.AuditQuery{Tenant: "t_b", Limit: 3, Newest: true}, "28,25,22"},
		{"tenant newest page 2", sqlite.AuditQuery{Tenant: "t_b", Limit: 3, Newest: true, Before: 22}, "19,16,13"},
		{"unknown tenant", sqlite.AuditQuery{Tenant: "t_zz"}, ""},
		{"all", sqlite.AuditQuery{Limit: 4, After: 2}, "3,4,5,6"},
		{"action prefix", sqlite.AuditQuery{Action: "auth.", Limit: 5}, "3,4,7,8,11"},
		{"action exact", sqlite.AuditQuery{Action: "auth.signin.failed", Tenant: "t_a"}, "3,15,27"},
		{"action prefix with dot excludes authx", sqlite.AuditQuery{Action: "auth.", Tenant: "t_a", After: 20}, "24,27"},
		{"action prefix includes authx", sqlite.AuditQuery{Action: "auth", Tenant: "t_a", After: 20}, "24,27,31"},
		{"time window", sqlite.AuditQuery{From: auditT0.Add(10 * time.Minute), To: auditT0.Add(13 * time.Minute)}, "10,11,12"},
		{"window and tenant", sqlite.AuditQuery{Tenant: "t_a", From: auditT0.Add(30 * time.Minute)}, "30,31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := h.db.AuditEntries(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(es); got != tc.want {
				t.Fatalf("seqs %s, want %s", got, tc.want)
			}
			for _, e := range es {
				if tc.q.Tenant != "" && e.Tenant != string(tc.q.Tenant) {
					t.Errorf("record %d of tenant %q", e.Seq, e.Tenant)
				}
			}
		})
	}
	es, err := h.db.AuditEntries(ctx, sqlite.AuditQuery{})
	if err != nil || len(es) != 31 {
		t.Fatalf("all: %d entries, %v", len(es), err)
	}
	// Every field reads back as recorded, and the read-back record hashes
	// to what Record chained (its details are small integers).
	var prev [32]byte
	for _, got := range es {
		want := testEntry(int(got.Seq))
		if got.Seq == 31 {
			want = extra
		}
		want.Seq = got.Seq
		if fmt.Sprint(got) != fmt.Sprint(normalized(want)) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", got.Seq, got, normalized(want))
		}
		h, err := got.ChainHash(got.Seq, prev)
		if err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	if want := rawQueryString(t, h.path, `SELECT hex(hash) FROM audit_log WHERE seq = 31`); strings.ToLower(want) != hex.EncodeToString(prev[:]) {
		t.Errorf("read-back records hash to %x, the stored chain ends in %s", prev, want)
	}
}

// normalized returns e as it reads back: details decoded from JSON.
func normalized(e admeter.AuditEntry) admeter.AuditEntry {
	if len(e.Details) == 0 {
		e.Details = nil
		return e
	}
	d := map[string]any{}
	for k, v := range e.Details {
		if i, ok := v.(int); ok {
			d[k] = float64(i)
		} else {
			d[k] = v
		}
	}
	e.Details = d
	return e
}

func BenchmarkAuditLog_Record(b *testing.B) {
	h := newAuditHarness(b, sqlite.DefaultAuditCheckpointEvery)
	ctx := context.Background()
	e := testEntry(1)
	for b.Loop() {
		if err := h.log.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAudit(b *testing.B) {
	h := newAuditHarness(b, sqlite.DefaultAuditCheckpointEvery)
	const n = 10000
	h.seed(b, n)
	ctx := context.Background()
	for b.Loop() {
		v, err := h.db.VerifyAudit(ctx, h.pub)
		if err != nil || v.Records != n {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}
