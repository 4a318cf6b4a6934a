package metatest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// AuditStore reads and verifies a metadata store's audit record.
type AuditStore interface {
	Versioner
	AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error)
	VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (admeter.AuditVerification, error)
}

// AuditLog appends to a metadata store's audit record: the store's AuditLog
// type.
type AuditLog interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
	Checkpoint(ctx context.Context) error
}

// AuditDB is a store opened for one audit test, with the hooks the suite
// needs into its database. SQL given to the hooks is written for both SQLite
// and PostgreSQL: placeholders are $1, $2…, and the tables are those of the
// stores' audit migrations (audit_log, audit_checkpoints).
type AuditDB interface {
	AuditStore
	// NewAuditLog returns the store's AuditLog appending to this handle,
	// signing a checkpoint with key (nil: none) every `every` records. If
	// the log also has a method RecordAll(ctx, []admeter.AuditEntry) error
	// that appends the entries in one transaction (a test hook), the suite
	// uses it to build a long record fast.
	NewAuditLog(key ed25519.PrivateKey, every int) AuditLog
	// Reopen opens a second handle on the same database, as another admeter
	// process would, and closes it when tb ends.
	Reopen(tb testing.TB) AuditDB
	// Exec runs one statement on a connection of its own, as any client of
	// the database would, with the append-only protection in force, and
	// returns its error.
	Exec(tb testing.TB, query string, args ...any) error
	// Query runs a query on a connection of its own and returns its rows:
	// integers as int64, blobs (bytea) as []byte. It calls tb.Fatal if the
	// query fails.
	Query(tb testing.TB, query string, args ...any) [][]any
	// Tamper calls fn with exec, which runs one statement, on a single
	// connection of its own on which the append-only protection is
	// bypassed, as someone with direct access to the database could, and
	// commits once fn returns. exec calls tb.Fatal if the statement fails.
	Tamper(tb testing.TB, fn func(exec func(query string, args ...any)))
}

// AuditOpener opens a new, empty store for one audit test and closes it
// when tb ends. It calls tb.Fatal if it cannot.
type AuditOpener func(tb testing.TB) AuditDB

// RunAudit tests the audit record: the hash chain and its signed
// checkpoints under concurrent appenders from two handles, validation,
// append-only enforcement, detection of every kind of tampering, and
// AuditEntries' filters and limits.
func RunAudit(t *testing.T, open AuditOpener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, open AuditOpener)
	}{
		{"RecordConcurrent", testAudit_RecordConcurrent},
		{"Checkpoints", testAudit_Checkpoints},
		{"RecordInvalid", testAudit_RecordInvalid},
		{"AppendOnly", testAudit_AppendOnly},
		{"Tamper", testAudit_Tamper},
		{"VerifyWhileAppending", testAudit_VerifyWhileAppending},
		{"AuditEntries", testAudit_AuditEntries},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// auditT0 is the time of the first record the tests append.
var auditT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// auditKey returns a fixed Ed25519 key, so that failures reproduce.
func auditKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// publicKey returns key's public key.
func publicKey(key ed25519.PrivateKey) ed25519.PublicKey {
	return key.Public().(ed25519.PublicKey)
}

// auditEntry returns the i-th record tests append: tenants, actions, IPs
// and details vary with i.
func auditEntry(i int) admeter.AuditEntry {
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

// seedAudit appends auditEntry(from) to auditEntry(from+n-1) with log.
func seedAudit(tb testing.TB, log AuditLog, from, n int) {
	tb.Helper()
	for i := range n {
		if err := log.Record(context.Background(), auditEntry(from+i)); err != nil {
			tb.Fatal(err)
		}
	}
}

// seedAuditFast appends auditEntry(from) to auditEntry(from+n-1) with log,
// in one transaction if log has RecordAll.
func seedAuditFast(tb testing.TB, log AuditLog, from, n int) {
	tb.Helper()
	all, ok := log.(interface {
		RecordAll(ctx context.Context, es []admeter.AuditEntry) error
	})
	if !ok {
		seedAudit(tb, log, from, n)
		return
	}
	es := make([]admeter.AuditEntry, n)
	for i := range es {
		es[i] = auditEntry(from + i)
	}
	if err := all.RecordAll(context.Background(), es); err != nil {
		tb.Fatal(err)
	}
}

// checkpointSeqs returns the sequence numbers of the stored checkpoints,
// comma-separated.
func checkpointSeqs(tb testing.TB, db AuditDB) string {
	tb.Helper()
	var s []string
	for _, row := range db.Query(tb, `SELECT seq FROM audit_checkpoints ORDER BY seq`) {
		s = append(s, fmt.Sprint(row[0]))
	}
	return strings.Join(s, ",")
}

// seqs returns the sequence numbers of es, comma-separated.
func seqs(es []admeter.AuditEntry) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = fmt.Sprint(e.Seq)
	}
	return strings.Join(s, ",")
}

func testAudit_RecordConcurrent(t *testing.T, open AuditOpener) {
	// Two handles on one database stand for two admeter processes; each
	// runs several appenders at once.
	db := open(t)
	other := db.Reopen(t)
	ctx := t.Context()
	key := auditKey(7)
	logs := []AuditLog{db.NewAuditLog(key, 10), other.NewAuditLog(key, 10)}
	v0, err := db.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		log := logs[w%len(logs)]
		wg.Go(func() {
			for i := range each {
				e := auditEntry(w*each + i)
				e.Time = time.Time{}
				if err := log.Record(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, h := range []AuditDB{db, other} {
		v, err := h.VerifyAudit(ctx, publicKey(key))
		if err != nil {
			t.Fatalf("VerifyAudit = %+v, %v", v, err)
		}
		if v.Records != writers*each || v.Checkpoints != writers*each/10 || v.LastCheckpoint != writers*each || v.Unproven != 0 || len(v.Warnings) != 0 {
			t.Fatalf("VerifyAudit = %+v", v)
		}
	}
	if got := checkpointSeqs(t, db); got != "10,20,30,40,50,60,70,80,90,100,110,120" {
		t.Errorf("checkpoints at %s, want every 10th record", got)
	}
	if v, err := db.Version(ctx); err != nil || v != v0 {
		t.Errorf("change counter went from %d to %d (%v): audit records are not cached metadata", v0, v, err)
	}
	es, err := db.AuditEntries(ctx, admeter.AuditQuery{Limit: admeter.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != writers*each {
		t.Fatalf("%d entries, want %d", len(es), writers*each)
	}
	targets := map[string]bool{}
	for i, e := range es {
		if e.Seq != uint64(i+1) || e.Time.IsZero() || e.Time.Location() != time.UTC {
			t.Fatalf("record %d: seq %d, time %v", i+1, e.Seq, e.Time)
		}
		if i > 0 && e.Time.Before(es[i-1].Time) {
			t.Errorf("record %d is timed %v, before record %d (%v)", e.Seq, e.Time, e.Seq-1, es[i-1].Time)
		}
		targets[e.Target] = true
	}
	if len(targets) != writers*each {
		t.Errorf("%d distinct records of %d appended", len(targets), writers*each)
	}
}

func testAudit_Checkpoints(t *testing.T, open AuditOpener) {
	db := open(t)
	ctx := t.Context()
	key := auditKey(7)
	pub := publicKey(key)
	log := db.NewAuditLog(key, 5)
	seedAudit(t, log, 1, 12)
	if got := checkpointSeqs(t, db); got != "5,10" {
		t.Fatalf("checkpoints at %s, want 5,10", got)
	}
	v, err := db.VerifyAudit(ctx, pub)
	if err != nil || v.Records != 12 || v.Checkpoints != 2 || v.LastCheckpoint != 10 || v.Unproven != 2 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	// A forced checkpoint proves the tail; the cadence counts from it.
	for range 2 {
		if err := log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	seedAudit(t, log, 13, 6)
	if got := checkpointSeqs(t, db); got != "5,10,12,17" {
		t.Fatalf("checkpoints at %s, want 5,10,12,17", got)
	}
	if err := log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	v, err = db.VerifyAudit(ctx, pub)
	if err != nil || v.Records != 18 || v.Checkpoints != 5 || v.LastCheckpoint != 18 || v.Unproven != 0 || len(v.Warnings) != 0 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	// Without a public key the chain is still checked, with a warning.
	if v, err := db.VerifyAudit(ctx, nil); err != nil || v.Records != 18 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit(nil) = %+v, %v", v, err)
	}
	if _, err := db.VerifyAudit(ctx, pub[:16]); err == nil {
		t.Error("VerifyAudit accepted a short public key")
	}

	// Without a key, no checkpoints; an empty record checkpoints nothing.
	db = open(t)
	if err := db.NewAuditLog(key, 5).Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	seedAudit(t, db.NewAuditLog(nil, 5), 1, 7)
	if err := db.NewAuditLog(nil, 5).Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got := checkpointSeqs(t, db); got != "" {
		t.Fatalf("checkpoints at %s without a key", got)
	}
	v, err = db.VerifyAudit(ctx, pub)
	if err != nil || v.Records != 7 || v.Unproven != 7 || len(v.Warnings) != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	bad := db.NewAuditLog(auditKey(1)[:10], 5)
	if err := bad.Record(ctx, auditEntry(8)); err == nil {
		t.Error("Record accepted a malformed key")
	}
	if err := bad.Checkpoint(ctx); err == nil {
		t.Error("Checkpoint accepted a malformed key")
	}
	if v, err := db.VerifyAudit(ctx, pub); err != nil || v.Records != 7 {
		t.Fatalf("after the refused record: VerifyAudit = %+v, %v", v, err)
	}
}

func testAudit_RecordInvalid(t *testing.T, open AuditOpener) {
	db := open(t)
	log := db.NewAuditLog(auditKey(7), 5)
	for _, e := range []admeter.AuditEntry{
		{Actor: "operator", Action: "tenant.create", Outcome: "ok", IP: "203.0.113.7"},
		{Actor: "operator", Action: "tenant.create", Outcome: "ok", Details: map[string]any{"f": math.Inf(1)}},
		{Action: "tenant.create", Outcome: "ok"},
	} {
		if err := log.Record(t.Context(), e); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("%+v: err %v, want EINVALID", e, err)
		}
	}
	if rows := db.Query(t, `SELECT COUNT(*) FROM audit_log`); rows[0][0] != int64(0) {
		t.Errorf("%v records stored", rows[0][0])
	}
}

func testAudit_AppendOnly(t *testing.T, open AuditOpener) {
	db := open(t)
	seedAudit(t, db.NewAuditLog(auditKey(7), 5), 1, 5)
	for _, q := range []string{
		`UPDATE audit_log SET outcome = 'failed' WHERE seq = 2`,
		`DELETE FROM audit_log WHERE seq = 5`,
		`UPDATE audit_checkpoints SET hash = hash WHERE seq = 5`,
		`DELETE FROM audit_checkpoints`,
	} {
		if err := db.Exec(t, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err %v, want append-only", q, err)
		}
	}
	if v, err := db.VerifyAudit(t.Context(), publicKey(auditKey(7))); err != nil || v.Records != 5 || v.Checkpoints != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

// rehash recomputes the prev_hash and hash of every record up to seq upTo
// (all if 0) from its fields, as someone who rewrote a record and knows the
// encoding would.
func rehash(tb testing.TB, db AuditDB, upTo uint64) {
	tb.Helper()
	es, err := db.AuditEntries(context.Background(), admeter.AuditQuery{Limit: admeter.MaxAuditLimit})
	if err != nil {
		tb.Fatal(err)
	}
	db.Tamper(tb, func(exec func(string, ...any)) {
		var prev [32]byte
		for _, e := range es {
			if upTo != 0 && e.Seq > upTo {
				break
			}
			h, err := e.ChainHash(e.Seq, prev)
			if err != nil {
				tb.Fatal(err)
			}
			exec(`UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, prev[:], h[:], int64(e.Seq))
			prev = h
		}
	})
}

// tamperSQL returns a tamper that runs stmts.
func tamperSQL(stmts ...string) func(tb testing.TB, db AuditDB) {
	return func(tb testing.TB, db AuditDB) {
		db.Tamper(tb, func(exec func(string, ...any)) {
			for _, s := range stmts {
				exec(s)
			}
		})
	}
}

func testAudit_Tamper(t *testing.T, open AuditOpener) {
	// 25 records, checkpoints at 10 and 20, records 21-25 unproven. Each
	// case tampers with a store of its own, in parallel: open must be safe
	// for concurrent use.
	swap := func(cols string) func(tb testing.TB, db AuditDB) {
		set := []string{}
		for c := range strings.SplitSeq(cols, ",") {
			set = append(set, fmt.Sprintf("%s = (SELECT %s FROM r WHERE r.seq = 15 - audit_log.seq)", c, c))
		}
		return tamperSQL(
			`CREATE TEMP TABLE r AS SELECT * FROM audit_log WHERE seq IN (7, 8)`,
			`UPDATE audit_log SET `+strings.Join(set, ", ")+` WHERE seq IN (7, 8)`,
			`DROP TABLE r`,
		)
	}
	const fields = "time,actor,action,tenant_id,target,ip,outcome,details"
	for _, tc := range []struct {
		name      string
		tamper    func(tb testing.TB, db AuditDB)
		wrongKey  bool
		wantSeq   uint64
		wantFault admeter.AuditFault
		wantRecs  uint64 // when wantFault is "": records verified
	}{
		{name: "edit outcome", wantSeq: 7, wantFault: admeter.AuditEdited,
			tamper: tamperSQL(`UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)},
		{name: "edit ip", wantSeq: 13, wantFault: admeter.AuditEdited,
			tamper: tamperSQL(`UPDATE audit_log SET ip = '198.51.100.0/24' WHERE seq = 13`)},
		{name: "clear tenant", wantSeq: 1, wantFault: admeter.AuditEdited,
			tamper: tamperSQL(`UPDATE audit_log SET tenant_id = NULL WHERE seq = 1`)},
		{name: "move time", wantSeq: 4, wantFault: admeter.AuditEdited,
			tamper: tamperSQL(`UPDATE audit_log SET time = (SELECT time FROM audit_log WHERE seq = 5) WHERE seq = 4`)},
		{name: "details whitespace", wantSeq: 7, wantFault: admeter.AuditEdited,
			tamper: tamperSQL(`UPDATE audit_log SET details = '{"i": 7,"rows":70}' WHERE seq = 7`)},
		{name: "delete middle", wantSeq: 7, wantFault: admeter.AuditRemoved,
			tamper: tamperSQL(`DELETE FROM audit_log WHERE seq = 7`)},
		{name: "delete first", wantSeq: 1, wantFault: admeter.AuditRemoved,
			tamper: tamperSQL(`DELETE FROM audit_log WHERE seq = 1`)},
		{name: "swap records", wantSeq: 7, wantFault: admeter.AuditReordered,
			tamper: swap(fields + ",prev_hash,hash")},
		{name: "swap fields", wantSeq: 7, wantFault: admeter.AuditEdited,
			tamper: swap(fields)},
		{name: "renumber", wantSeq: 7, wantFault: admeter.AuditReordered,
			tamper: func(tb testing.TB, db AuditDB) {
				db.Tamper(tb, func(exec func(string, ...any)) {
					exec(`DELETE FROM audit_log WHERE seq = 7`)
					for seq := 8; seq <= 25; seq++ {
						exec(`UPDATE audit_log SET seq = $1 WHERE seq = $2`, int64(seq-1), int64(seq))
					}
				})
			}},
		{name: "edit and rehash chain", wantSeq: 10, wantFault: admeter.AuditRewritten,
			tamper: func(tb testing.TB, db AuditDB) {
				tamperSQL(`UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)(tb, db)
				rehash(tb, db, 0)
			}},
		{name: "edit and rehash record", wantSeq: 8, wantFault: admeter.AuditReordered,
			tamper: func(tb testing.TB, db AuditDB) {
				tamperSQL(`UPDATE audit_log SET outcome = 'failed' WHERE seq = 7`)(tb, db)
				rehash(tb, db, 7)
			}},
		{name: "checkpoint signature", wantSeq: 20, wantFault: admeter.AuditBadCheckpoint,
			tamper: func(tb testing.TB, db AuditDB) {
				db.Tamper(tb, func(exec func(string, ...any)) {
					exec(`UPDATE audit_checkpoints SET signature = $1 WHERE seq = 20`, make([]byte, ed25519.SignatureSize))
				})
			}},
		{name: "checkpoint hash", wantSeq: 10, wantFault: admeter.AuditBadCheckpoint,
			tamper: tamperSQL(`UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_log WHERE seq = 9) WHERE seq = 10`)},
		{name: "other key", wrongKey: true, wantSeq: 10, wantFault: admeter.AuditBadCheckpoint},
		{name: "truncate after last checkpoint", wantRecs: 22,
			tamper: tamperSQL(`DELETE FROM audit_log WHERE seq > 22`)},
		{name: "truncate before last checkpoint", wantSeq: 16, wantFault: admeter.AuditTruncated,
			tamper: tamperSQL(`DELETE FROM audit_log WHERE seq > 15`)},
		{name: "truncate all", wantSeq: 1, wantFault: admeter.AuditTruncated,
			tamper: tamperSQL(`DELETE FROM audit_log`)},
		{name: "untouched", wantRecs: 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx := t.Context()
			key := auditKey(7)
			seedAudit(t, db.NewAuditLog(key, 10), 1, 25)
			if v, err := db.VerifyAudit(ctx, publicKey(key)); err != nil || v.Records != 25 {
				t.Fatalf("before tampering: %+v, %v", v, err)
			}
			if tc.tamper != nil {
				tc.tamper(t, db)
			}
			pub := publicKey(key)
			if tc.wrongKey {
				pub = publicKey(auditKey(8))
			}
			v, err := db.VerifyAudit(ctx, pub)
			if tc.wantFault == "" {
				if err != nil || v.Records != tc.wantRecs || v.LastCheckpoint != 20 || v.Unproven != tc.wantRecs-20 || len(v.Warnings) != 1 {
					t.Fatalf("VerifyAudit = %+v, %v; want %d records, ok", v, err, tc.wantRecs)
				}
				return
			}
			var ae *admeter.AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("VerifyAudit = %+v, %v; want an *AuditError", v, err)
			}
			if ae.Seq != tc.wantSeq || ae.Fault != tc.wantFault {
				t.Fatalf("VerifyAudit failed at %d (%s), want %d (%s): %v", ae.Seq, ae.Fault, tc.wantSeq, tc.wantFault, err)
			}
			if v.Records != tc.wantSeq-1 {
				t.Errorf("Records %d, want %d: every record before the bad one", v.Records, tc.wantSeq-1)
			}
			// The tampered record stays readable: the damage is reported,
			// not hidden.
			if _, err := db.AuditEntries(ctx, admeter.AuditQuery{Limit: admeter.MaxAuditLimit}); err != nil {
				t.Errorf("AuditEntries after tampering: %v", err)
			}
		})
	}
}

func testAudit_VerifyWhileAppending(t *testing.T, open AuditOpener) {
	db := open(t)
	ctx := t.Context()
	key := auditKey(7)
	log := db.NewAuditLog(key, 10)
	seedAudit(t, log, 1, 20)
	// A second handle, as `admeter audit verify` opens the database while
	// the server runs.
	other := db.Reopen(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 30 {
			if err := log.Record(ctx, auditEntry(100+i)); err != nil {
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
		v, err := other.VerifyAudit(ctx, publicKey(key))
		if err != nil {
			<-done
			t.Fatal(err)
		}
		if v.Records < last {
			<-done
			t.Fatalf("verified %d records after %d", v.Records, last)
		}
		last = v.Records
	}
	if v, err := other.VerifyAudit(ctx, publicKey(key)); err != nil || v.Records != 50 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

func testAudit_AuditEntries(t *testing.T, open AuditOpener) {
	db := open(t)
	ctx := t.Context()
	log := db.NewAuditLog(auditKey(7), 10)
	seedAudit(t, log, 1, 30)
	extra := admeter.AuditEntry{Time: auditT0.Add(time.Hour), Actor: "operator", Action: "authx", Tenant: "t_a", Outcome: "ok"}
	if err := log.Record(ctx, extra); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    admeter.AuditQuery
		want string
	}{
		{"tenant", admeter.AuditQuery{Tenant: "t_a", Limit: 5}, "3,6,9,12,15"},
		{"tenant page 2", admeter.AuditQuery{Tenant: "t_a", Limit: 5, After: 15}, "18,21,24,27,30"},
		{"tenant last page", admeter.AuditQuery{Tenant: "t_a", Limit: 5, After: 30}, "31"},
		{"tenant newest", admeter.AuditQuery{Tenant: "t_b", Limit: 3, Newest: true}, "28,25,22"},
		{"tenant newest page 2", admeter.AuditQuery{Tenant: "t_b", Limit: 3, Newest: true, Before: 22}, "19,16,13"},
		{"unknown tenant", admeter.AuditQuery{Tenant: "t_zz"}, ""},
		{"all", admeter.AuditQuery{Limit: 4, After: 2}, "3,4,5,6"},
		{"after and before", admeter.AuditQuery{After: 2, Before: 6}, "3,4,5"},
		{"huge cursors", admeter.AuditQuery{After: math.MaxUint64}, ""},
		{"huge before", admeter.AuditQuery{Before: math.MaxUint64, After: 29}, "30,31"},
		{"action prefix", admeter.AuditQuery{Action: "auth.", Limit: 5}, "3,4,7,8,11"},
		{"action exact", admeter.AuditQuery{Action: "auth.signin.failed", Tenant: "t_a"}, "3,15,27"},
		{"action prefix with dot excludes authx", admeter.AuditQuery{Action: "auth.", Tenant: "t_a", After: 20}, "24,27"},
		{"action prefix includes authx", admeter.AuditQuery{Action: "auth", Tenant: "t_a", After: 20}, "24,27,31"},
		{"action no match", admeter.AuditQuery{Action: "auth.signin.failedx"}, ""},
		{"action wildcard is literal", admeter.AuditQuery{Action: "auth%"}, ""},
		{"action underscore is literal", admeter.AuditQuery{Action: "auth_signin"}, ""},
		{"time window", admeter.AuditQuery{From: auditT0.Add(10 * time.Minute), To: auditT0.Add(13 * time.Minute)}, "10,11,12"},
		{"time window other zone", admeter.AuditQuery{From: auditT0.Add(10 * time.Minute).In(time.FixedZone("CST", 8*3600)), To: auditT0.Add(12 * time.Minute)}, "10,11"},
		{"window and tenant", admeter.AuditQuery{Tenant: "t_a", From: auditT0.Add(30 * time.Minute)}, "30,31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := db.AuditEntries(ctx, tc.q)
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
	es, err := db.AuditEntries(ctx, admeter.AuditQuery{})
	if err != nil || len(es) != 31 {
		t.Fatalf("all: %d entries, %v", len(es), err)
	}
	// Every field reads back as recorded, and the read-back record hashes
	// to what Record chained (its details are small integers).
	var prev [32]byte
	for _, got := range es {
		want := auditEntry(int(got.Seq))
		if got.Seq == 31 {
			want = extra
		}
		want.Seq = got.Seq
		if fmt.Sprint(got) != fmt.Sprint(normalizedAudit(want)) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", got.Seq, got, normalizedAudit(want))
		}
		h, err := got.ChainHash(got.Seq, prev)
		if err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	if stored := db.Query(t, `SELECT hash FROM audit_log WHERE seq = $1`, int64(31)); len(stored) != 1 || !bytes.Equal(stored[0][0].([]byte), prev[:]) {
		t.Errorf("read-back records hash to %x, the stored chain ends in %x", prev, stored)
	}

	// The limits.
	seedAuditFast(t, db.NewAuditLog(nil, 0), 32, admeter.MaxAuditLimit+10-31)
	for _, tc := range []struct {
		limit, want int
	}{
		{0, admeter.DefaultAuditLimit},
		{-1, admeter.DefaultAuditLimit},
		{7, 7},
		{admeter.MaxAuditLimit, admeter.MaxAuditLimit},
		{admeter.MaxAuditLimit + 1, admeter.MaxAuditLimit},
	} {
		es, err := db.AuditEntries(ctx, admeter.AuditQuery{Limit: tc.limit})
		if err != nil || len(es) != tc.want {
			t.Errorf("Limit %d: %d entries, %v; want %d", tc.limit, len(es), err, tc.want)
		}
	}
	if es, err := db.AuditEntries(ctx, admeter.AuditQuery{Newest: true, Limit: 1}); err != nil || seqs(es) != fmt.Sprint(admeter.MaxAuditLimit+10) {
		t.Errorf("newest: %s, %v", seqs(es), err)
	}
}

// normalizedAudit returns e as it reads back: details decoded from JSON.
func normalizedAudit(e admeter.AuditEntry) admeter.AuditEntry {
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
