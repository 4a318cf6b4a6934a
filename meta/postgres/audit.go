package postgres

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// DefaultAuditCheckpointEvery is how many records an AuditLog appends
// between two signed checkpoints unless told otherwise
// (admeter.DefaultAuditCheckpointEvery).
const DefaultAuditCheckpointEvery = admeter.DefaultAuditCheckpointEvery

// auditLockClass is the first key of the transaction-scoped advisory lock
// that serialises appends to the audit record; the second is the oid of the
// audit_log table, so that each schema's record has its own lock. Two-key
// advisory locks never collide with single-bigint ones (the migration lock,
// RunAsLeader's).
const auditLockClass = 0x61756474 // "audt"

// AuditLog appends to the audit record kept in a DB's audit_log table and
// signs its checkpoints, as package sqlite's AuditLog does, with the same
// chain and checkpoints. It is safe for concurrent use, and any number of
// processes may append to the same database at once: each append
// transaction takes an advisory lock on the record before it reads the last
// record, so appends extend the chain one after another, gapless and
// linear. Set the exported fields before the first Record.
//
// Each record is chained to the one before it by admeter.AuditChainHash.
// Once CheckpointEvery records have followed the last checkpoint, the same
// transaction that appends a record also stores an Ed25519 signature over
// its sequence number and hash (admeter.AuditCheckpointMessage), so that
// [DB.VerifyAudit] can tell a record rewritten along with every hash after
// it, or a log cut short, from the original.
type AuditLog struct {
	// DB is the open metadata store that holds the record.
	DB *DB
	// Key signs checkpoints. Nil means no checkpoints are written: the chain
	// still detects an edited, removed or reordered record, but not one
	// rewritten together with every hash after it, nor records cut off the
	// end.
	Key ed25519.PrivateKey
	// CheckpointEvery is the number of records after which a checkpoint is
	// written. Zero or less means DefaultAuditCheckpointEvery.
	CheckpointEvery int
}

// NewAuditLog returns an AuditLog that appends to db and signs checkpoints
// with key (nil for none) every DefaultAuditCheckpointEvery records.
func NewAuditLog(db *DB, key ed25519.PrivateKey) *AuditLog {
	return &AuditLog{DB: db, Key: key, CheckpointEvery: DefaultAuditCheckpointEvery}
}

// Record appends e to the audit record and makes it durable before
// returning. It assigns the next sequence number (e.Seq is ignored), sets
// e.Time to now if it is zero, and keeps it to the microsecond. Returns
// EINVALID if e fails admeter.AuditEntry.Validate or its details do not
// encode as JSON.
//
// Appending does not increase the change counter ([DB.Version]): the
// audit record is not metadata that a cache holds, and appends do not
// queue behind metadata writes.
func (a *AuditLog) Record(ctx context.Context, e admeter.AuditEntry) error {
	return wrap("record audit entry", a.record(ctx, []admeter.AuditEntry{e}))
}

// record appends es in one transaction, in order.
func (a *AuditLog) record(ctx context.Context, es []admeter.AuditEntry) error {
	if err := a.checkKey(); err != nil {
		return err
	}
	details := make([][]byte, len(es))
	for i := range es {
		if err := es[i].Validate(); err != nil {
			return err
		}
		var err error
		if details[i], err = es[i].CanonicalDetails(); err != nil {
			return err
		}
	}
	return a.DB.appendAudit(ctx, func(tx pgx.Tx, now time.Time) error {
		for i := range es {
			e := &es[i]
			if e.Time.IsZero() {
				e.Time = now
			}
			e.Time = ts(e.Time)
			seq, hash, err := insertAuditRecord(ctx, tx, e, details[i])
			if err != nil {
				return err
			}
			if err := a.checkpointIfDue(ctx, tx, seq, hash, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Checkpoint signs the last record now, unless there is none, it already
// has a checkpoint or Key is nil. Call it before closing the DB, so that the
// records appended since the last checkpoint are proven too.
func (a *AuditLog) Checkpoint(ctx context.Context) error {
	if a.Key == nil {
		return nil
	}
	if err := a.checkKey(); err != nil {
		return err
	}
	err := a.DB.appendAudit(ctx, func(tx pgx.Tx, now time.Time) error {
		seq, hash, err := lastAuditRecord(ctx, tx)
		if err != nil || seq == 0 {
			return err
		}
		last, err := lastAuditCheckpoint(ctx, tx)
		if err != nil || last >= seq {
			return err
		}
		return a.writeCheckpoint(ctx, tx, seq, hash, now)
	})
	return wrap("checkpoint audit record", err)
}

// checkKey reports a Key of the wrong size, on which ed25519.Sign would
// panic.
func (a *AuditLog) checkKey() error {
	if a.Key != nil && len(a.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("audit checkpoint key is %d bytes, not an Ed25519 private key of %d: check the key file", len(a.Key), ed25519.PrivateKeySize)
	}
	return nil
}

// checkpointIfDue writes a checkpoint for record seq if Key is set and
// CheckpointEvery records have followed the last checkpoint.
func (a *AuditLog) checkpointIfDue(ctx context.Context, tx pgx.Tx, seq uint64, hash [32]byte, now time.Time) error {
	if a.Key == nil {
		return nil
	}
	every := uint64(DefaultAuditCheckpointEvery)
	if a.CheckpointEvery > 0 {
		every = uint64(a.CheckpointEvery)
	}
	last, err := lastAuditCheckpoint(ctx, tx)
	if err != nil {
		return err
	}
	if seq-last < every {
		return nil
	}
	return a.writeCheckpoint(ctx, tx, seq, hash, now)
}

// writeCheckpoint signs record seq, whose hash is hash.
func (a *AuditLog) writeCheckpoint(ctx context.Context, tx pgx.Tx, seq uint64, hash [32]byte, now time.Time) error {
	sig := ed25519.Sign(a.Key, admeter.AuditCheckpointMessage(seq, hash))
	if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, signature, time) VALUES ($1, $2, $3, $4)`,
		int64(seq), hash[:], sig, now); err != nil {
		return fmt.Errorf("insert audit checkpoint: %w", err)
	}
	return nil
}

// appendAudit runs fn in a transaction that holds the audit record's
// advisory lock, and commits. Unlike update it leaves the change counter
// alone. now, the transaction's time, is taken once the lock is held, so
// that the records of one database are in time order as far as the clocks
// of the processes appending agree.
//
// The lock is taken first, before fn reads the last record: at READ
// COMMITTED each statement sees every transaction committed before it
// began, so the read sees the append of whoever held the lock before.
func (db *DB) appendAudit(ctx context.Context, fn func(tx pgx.Tx, now time.Time) error) error {
	if db.pool == nil {
		return errors.New("metadata db is not open")
	}
	return db.pool.with(ctx, func(c *pgx.Conn) error {
		tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 'audit_log'::regclass::oid::integer)`, int32(auditLockClass)); err != nil {
			return fmt.Errorf("lock audit record: %w", err)
		}
		if err := fn(tx, ts(db.Now())); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// insertAuditRecord appends e, with details its canonical details and e.Time
// already truncated to the microsecond, after the last record in tx, and
// returns its sequence number and hash. tx must hold the audit record's
// lock (appendAudit), so that no other writer appends between the read of
// the last record and the insert.
func insertAuditRecord(ctx context.Context, tx pgx.Tx, e *admeter.AuditEntry, details []byte) (uint64, [32]byte, error) {
	seq, prev, err := lastAuditRecord(ctx, tx)
	if err != nil {
		return 0, [32]byte{}, err
	}
	seq++
	hash := admeter.AuditChainHash(seq, prev, e, details)
	if _, err := tx.Exec(ctx, `
		INSERT INTO audit_log (seq, time, actor, action, tenant_id, target, ip, outcome, details, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		int64(seq), e.Time, e.Actor, e.Action, nullIfEmpty(e.Tenant), e.Target, e.IP, e.Outcome,
		string(details), prev[:], hash[:]); err != nil {
		return 0, [32]byte{}, fmt.Errorf("insert audit record: %w", err)
	}
	return seq, hash, nil
}

// lastAuditRecord returns the sequence number and hash of the last record,
// or 0 and the zero hash if there is none.
func lastAuditRecord(ctx context.Context, tx pgx.Tx) (uint64, [32]byte, error) {
	var (
		seq  int64
		b    []byte
		hash [32]byte
	)
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &b)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, hash, nil
	} else if err != nil {
		return 0, hash, fmt.Errorf("read last audit record: %w", err)
	}
	if len(b) != len(hash) {
		return 0, hash, fmt.Errorf("audit record %d has a damaged hash: run admeter audit verify", seq)
	}
	copy(hash[:], b)
	return uint64(seq), hash, nil
}

// lastAuditCheckpoint returns the sequence number of the last checkpoint, or
// 0 if there is none.
func lastAuditCheckpoint(ctx context.Context, tx pgx.Tx) (uint64, error) {
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read last audit checkpoint: %w", err)
	}
	return uint64(seq), nil
}

// AuditEntries returns the audit records q selects, with Seq set, in
// sequence order (oldest first, or newest first if q.Newest). Details come
// back as encoding/json decodes them into a map (numbers as float64).
func (db *DB) AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	cond := func(format string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(format, fmt.Sprintf("$%d", len(args))))
	}
	if q.Tenant != "" {
		cond("tenant_id = %s", string(q.Tenant))
	}
	if q.After > 0 {
		cond("seq > %s", int64(min(q.After, 1<<63-1)))
	}
	if q.Before > 0 {
		cond("seq < %s", int64(min(q.Before, 1<<63-1)))
	}
	if q.Action != "" {
		cond("starts_with(action, %s)", q.Action)
	}
	if !q.From.IsZero() {
		cond("time >= %s", ts(q.From))
	}
	if !q.To.IsZero() {
		cond("time < %s", ts(q.To))
	}
	query := `SELECT seq, time, actor, action, tenant_id, target, ip, outcome, details FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Newest {
		query += " ORDER BY seq DESC"
	} else {
		query += " ORDER BY seq"
	}
	args = append(args, q.EffectiveLimit())
	query += fmt.Sprintf(" LIMIT $%d", len(args))

	var out []admeter.AuditEntry
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e       admeter.AuditEntry
				seq     int64
				tenant  *string
				details string
			)
			if err := rows.Scan(&seq, &e.Time, &e.Actor, &e.Action, &tenant, &e.Target, &e.IP, &e.Outcome, &details); err != nil {
				return err
			}
			e.Seq, e.Time = uint64(seq), e.Time.UTC()
			if tenant != nil {
				e.Tenant = *tenant
			}
			if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
				return fmt.Errorf("audit record %d: decode details: %w", seq, err)
			}
			if len(e.Details) == 0 {
				e.Details = nil
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	return out, nil
}

// VerifyAudit checks the whole audit record in one consistent snapshot (a
// REPEATABLE READ transaction), so it can run while servers append. It walks
// every record in sequence order and checks that the sequence has no gap,
// that each stores the hash of the record before it, that its fields give
// its stored hash, and that each checkpoint is signed by pub and names the
// hash of its record. A nil pub skips the signature checks, with a warning.
// The checks are admeter.AuditVerifier's, as for every metadata store.
//
// It returns an *admeter.AuditError naming the first bad record and why,
// along with the records verified before it. Records after the last
// checkpoint verify, but cannot be proven against being cut off the end:
// Unproven counts them and a warning says so.
func (db *DB) VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (admeter.AuditVerification, error) {
	if _, err := admeter.NewAuditVerifier(pub, nil); err != nil {
		return admeter.AuditVerification{}, fmt.Errorf("verify audit record: %w", err)
	}
	var av *admeter.AuditVerifier
	err := db.view(ctx, func(tx pgx.Tx) error {
		cps, err := auditCheckpoints(ctx, tx)
		if err != nil {
			return err
		}
		if av, err = admeter.NewAuditVerifier(pub, cps); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT seq, time, actor, action, tenant_id, target, ip, outcome, details, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r       admeter.StoredAuditRecord
				seq     int64
				tenant  *string
				details string
			)
			if err := rows.Scan(&seq, &r.Entry.Time, &r.Entry.Actor, &r.Entry.Action, &tenant, &r.Entry.Target, &r.Entry.IP, &r.Entry.Outcome,
				&details, &r.PrevHash, &r.Hash); err != nil {
				return fmt.Errorf("read audit record after %d: %w", av.Verification().Records, err)
			}
			r.Seq, r.Details = uint64(max(seq, 0)), []byte(details)
			if tenant != nil {
				if r.Entry.Tenant = *tenant; r.Entry.Tenant == "" {
					r.Malformed = "a field is not as admeter writes it"
				}
			}
			if err := av.Check(&r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		return av.End()
	})
	var v admeter.AuditVerification
	if av != nil {
		v = av.Verification()
	}
	var ae *admeter.AuditError
	if errors.As(err, &ae) {
		return v, ae
	} else if err != nil {
		return v, fmt.Errorf("verify audit record: %w", err)
	}
	return v, nil
}

// auditCheckpoints returns every checkpoint in sequence order.
func auditCheckpoints(ctx context.Context, tx pgx.Tx) ([]admeter.AuditCheckpoint, error) {
	rows, err := tx.Query(ctx, `SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []admeter.AuditCheckpoint
	for rows.Next() {
		var (
			cp  admeter.AuditCheckpoint
			seq int64
		)
		if err := rows.Scan(&seq, &cp.Hash, &cp.Signature); err != nil {
			return nil, fmt.Errorf("read audit checkpoints: %w", err)
		}
		cp.Seq = uint64(max(seq, 0)) // 0 or less: NewAuditVerifier reports it
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	return out, nil
}
