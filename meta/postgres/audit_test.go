package postgres_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/metatest"
	"github.com/admeter/admeter/meta/postgres"
)

// TestAudit runs the shared audit record suite against PostgreSQL.
func TestAudit(t *testing.T) {
	metatest.RunAudit(t, openAuditDB)
}

// auditDB is a DB with the hooks metatest.RunAudit needs: connections of
// their own to its schema, as any client of the database could open.
type auditDB struct {
	*postgres.DB
}

// openAuditDB opens a store in a fresh schema.
func openAuditDB(tb testing.TB) metatest.AuditDB {
	tb.Helper()
	return auditDB{openSchema(tb, newSchema(tb))}
}

func (d auditDB) NewAuditLog(key ed25519.PrivateKey, every int) metatest.AuditLog {
	log := postgres.NewAuditLog(d.DB, key)
	log.CheckpointEvery = every
	return log
}

func (d auditDB) Reopen(tb testing.TB) metatest.AuditDB {
	tb.Helper()
	return auditDB{openSchema(tb, d.Schema)}
}

// conn opens a connection of its own to the store's schema and closes it
// when tb ends.
func (d auditDB) conn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	if _, err := c.Exec(ctx, `SET search_path TO `+pgx.Identifier{d.Schema}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	return c
}

func (d auditDB) Exec(tb testing.TB, query string, args ...any) error {
	_, err := d.conn(tb).Exec(context.Background(), query, args...)
	return err
}

func (d auditDB) Query(tb testing.TB, query string, args ...any) [][]any {
	tb.Helper()
	rows, err := d.conn(tb).Query(context.Background(), query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}

// Tamper disables the append-only triggers in a transaction of its own
// (the tables' owner may), runs fn's statements and enables the triggers
// again before it commits.
func (d auditDB) Tamper(tb testing.TB, fn func(exec func(query string, args ...any))) {
	tb.Helper()
	ctx := context.Background()
	tx, err := d.conn(tb).Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback(ctx)
	exec := func(query string, args ...any) {
		tb.Helper()
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
	}
	exec(`ALTER TABLE audit_log DISABLE TRIGGER USER`)
	exec(`ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`)
	fn(exec)
	exec(`ALTER TABLE audit_log ENABLE TRIGGER USER`)
	exec(`ALTER TABLE audit_checkpoints ENABLE TRIGGER USER`)
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

func TestAuditLog_Truncate(t *testing.T) {
	// TRUNCATE fires no row or statement trigger for DELETE: it has its
	// own, and an empty UPDATE or DELETE is refused as well.
	db := openAuditDB(t).(auditDB)
	if err := db.NewAuditLog(nil, 0).Record(t.Context(), admeter.AuditEntry{Actor: "operator", Action: "tenant.create", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`TRUNCATE audit_log`,
		`TRUNCATE audit_checkpoints`,
		`DELETE FROM audit_checkpoints WHERE seq = 12345`,
		`UPDATE audit_log SET outcome = outcome WHERE false`,
	} {
		if err := db.Exec(t, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err %v, want append-only", q, err)
		}
	}
	if v, err := db.VerifyAudit(t.Context(), nil); err != nil || v.Records != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

func TestAuditLog_AppendLock(t *testing.T) {
	// Appends queue on an advisory lock keyed by class "audt" and the
	// audit_log table's oid: while another session holds it, Record waits;
	// a record in another schema has a lock of its own.
	a, b := openAuditDB(t).(auditDB), openAuditDB(t).(auditDB)
	ctx := t.Context()
	e := admeter.AuditEntry{Actor: "operator", Action: "tenant.create", Outcome: "ok"}
	holder, err := a.conn(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock(1635083380, 'audit_log'::regclass::oid::integer)`); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := a.NewAuditLog(nil, 0).Record(wait, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Record while another session holds the lock: err %v, want it to wait", err)
	}
	if err := b.NewAuditLog(nil, 0).Record(ctx, e); err != nil {
		t.Fatalf("Record in another schema: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.NewAuditLog(nil, 0).Record(ctx, e) }()
	time.Sleep(50 * time.Millisecond)
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Record once the lock is free: %v", err)
	}
	for _, db := range []auditDB{a, b} {
		if v, err := db.VerifyAudit(ctx, nil); err != nil || v.Records != 1 {
			t.Fatalf("schema %s: %+v, %v", db.Schema, v, err)
		}
	}
}
