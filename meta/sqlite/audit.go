package sqlite

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// DefaultAuditCheckpointEvery is how many records an AuditLog appends
// between two signed checkpoints unless told otherwise
// (admeter.DefaultAuditCheckpointEvery).
const DefaultAuditCheckpointEvery = admeter.DefaultAuditCheckpointEvery

// AuditLog appends to the audit record kept in a DB's audit_log table and
// signs its checkpoints. It is safe for concurrent use; set the exported
// fields before the first Record.
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
// audit record is not metadata that a cache holds.
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
	return a.DB.appendAudit(ctx, func(tx *sql.Tx, now time.Time) error {
		for i := range es {
			e := &es[i]
			if e.Time.IsZero() {
				e.Time = now
			}
			e.Time = e.Time.UTC().Truncate(time.Microsecond)
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
	err := a.DB.appendAudit(ctx, func(tx *sql.Tx, now time.Time) error {
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
func (a *AuditLog) checkpointIfDue(ctx context.Context, tx *sql.Tx, seq uint64, hash [32]byte, now time.Time) error {
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
func (a *AuditLog) writeCheckpoint(ctx context.Context, tx *sql.Tx, seq uint64, hash [32]byte, now time.Time) error {
	sig := ed25519.Sign(a.Key, admeter.AuditCheckpointMessage(seq, hash))
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, signature, time) VALUES (?, ?, ?, ?)`,
		int64(seq), hash[:], sig, formatTime(now)); err != nil {
		return fmt.Errorf("insert audit checkpoint: %w", err)
	}
	return nil
}

// appendAudit runs fn in a write transaction and commits. Unlike update it
// leaves the change counter alone. now is the transaction's time.
func (db *DB) appendAudit(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	if db.write == nil {
		return errors.New("metadata db is not open")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx, db.Now().UTC().Truncate(time.Microsecond)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// insertAuditRecord appends e, with details its canonical details and e.Time
// already truncated to the microsecond, after the last record in tx, and
// returns its sequence number and hash. tx must be a write transaction, so
// that no other writer appends between the read of the last record and the
// insert.
func insertAuditRecord(ctx context.Context, tx *sql.Tx, e *admeter.AuditEntry, details []byte) (uint64, [32]byte, error) {
	seq, prev, err := lastAuditRecord(ctx, tx)
	if err != nil {
		return 0, [32]byte{}, err
	}
	seq++
	hash := admeter.AuditChainHash(seq, prev, e, details)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO audit_log (seq, time, actor, action, tenant_id, target, ip, outcome, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(seq), formatTime(e.Time), e.Actor, e.Action, nullString(e.Tenant), e.Target, e.IP, e.Outcome,
		string(details), prev[:], hash[:]); err != nil {
		return 0, [32]byte{}, fmt.Errorf("insert audit record: %w", err)
	}
	return seq, hash, nil
}

// lastAuditRecord returns the sequence number and hash of the last record,
// or 0 and the zero hash if there is none.
func lastAuditRecord(ctx context.Context, tx *sql.Tx) (uint64, [32]byte, error) {
	var (
		seq  int64
		b    []byte
		hash [32]byte
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &b)
	if errors.Is(err, sql.ErrNoRows) {
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
func lastAuditCheckpoint(ctx context.Context, tx *sql.Tx) (uint64, error) {
	var seq sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_checkpoints`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read last audit checkpoint: %w", err)
	}
	return uint64(seq.Int64), nil
}

// nullString returns s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// The audit record's query, limits and verification results are domain
// types, shared with package postgres; these names keep them reachable
// from here.
type (
	// AuditQuery selects audit records (admeter.AuditQuery).
	AuditQuery = admeter.AuditQuery
	// AuditFault says how a record failed verification (admeter.AuditFault).
	AuditFault = admeter.AuditFault
	// AuditError is the first fault VerifyAudit found (admeter.AuditError).
	AuditError = admeter.AuditError
	// AuditVerification is the result of VerifyAudit
	// (admeter.AuditVerification).
	AuditVerification = admeter.AuditVerification
)

// Limits on the number of records AuditEntries returns at once
// (admeter.DefaultAuditLimit, admeter.MaxAuditLimit).
const (
	DefaultAuditLimit = admeter.DefaultAuditLimit
	MaxAuditLimit     = admeter.MaxAuditLimit
)

// The ways the audit record can fail verification (admeter.AuditRemoved…).
const (
	AuditRemoved       = admeter.AuditRemoved
	AuditReordered     = admeter.AuditReordered
	AuditEdited        = admeter.AuditEdited
	AuditRewritten     = admeter.AuditRewritten
	AuditBadCheckpoint = admeter.AuditBadCheckpoint
	AuditTruncated     = admeter.AuditTruncated
)

// AuditEntries returns the audit records q selects, with Seq set, in
// sequence order (oldest first, or newest first if q.Newest). Details come
// back as encoding/json decodes them into a map (numbers as float64).
func (db *DB) AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	if q.Tenant != "" {
		where, args = append(where, "tenant_id = ?"), append(args, string(q.Tenant))
	}
	if q.After > 0 {
		where, args = append(where, "seq > ?"), append(args, int64(min(q.After, 1<<63-1)))
	}
	if q.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, int64(min(q.Before, 1<<63-1)))
	}
	if q.Action != "" {
		where, args = append(where, "action >= ?"), append(args, q.Action)
		if end, ok := prefixEnd(q.Action); ok {
			where, args = append(where, "action < ?"), append(args, end)
		}
	}
	if !q.From.IsZero() {
		where, args = append(where, "time >= ?"), append(args, formatTime(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, "time < ?"), append(args, formatTime(q.To))
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
	query += " LIMIT ?"
	args = append(args, q.EffectiveLimit())

	var out []admeter.AuditEntry
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e       admeter.AuditEntry
				seq     int64
				t       string
				tenant  sql.NullString
				details []byte
			)
			if err := rows.Scan(&seq, &t, &e.Actor, &e.Action, &tenant, &e.Target, &e.IP, &e.Outcome, &details); err != nil {
				return err
			}
			e.Seq, e.Tenant = uint64(seq), tenant.String
			if e.Time, err = parseTime(t); err != nil {
				return fmt.Errorf("audit record %d: %w", seq, err)
			}
			if err := json.Unmarshal(details, &e.Details); err != nil {
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

// prefixEnd returns the least string greater than every string with prefix
// p, and false if there is none (p is all 0xff bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// VerifyAudit checks the whole audit record in one consistent snapshot, so
// it can run while a server appends. It walks every record in sequence
// order and checks that the sequence has no gap, that each stores the hash
// of the record before it, that its fields give its stored hash, and that
// each checkpoint is signed by pub and names the hash of its record. A nil
// pub skips the signature checks, with a warning.
//
// The checks are admeter.AuditVerifier's, as for every metadata store. It
// returns an *AuditError naming the first bad record and why, along with
// the records verified before it. Records after the last checkpoint verify,
// but cannot be proven against being cut off the end: Unproven counts them
// and a warning says so.
func (db *DB) VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (admeter.AuditVerification, error) {
	if _, err := admeter.NewAuditVerifier(pub, nil); err != nil {
		return admeter.AuditVerification{}, fmt.Errorf("verify audit record: %w", err)
	}
	var av *admeter.AuditVerifier
	err := db.view(ctx, func(tx *sql.Tx) error {
		cps, err := auditCheckpoints(ctx, tx)
		if err != nil {
			return err
		}
		if av, err = admeter.NewAuditVerifier(pub, cps); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT seq, time, actor, action, tenant_id, target, ip, outcome, details, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r      admeter.StoredAuditRecord
				seq    int64
				t      string
				tenant sql.NullString
			)
			if err := rows.Scan(&seq, &t, &r.Entry.Actor, &r.Entry.Action, &tenant, &r.Entry.Target, &r.Entry.IP, &r.Entry.Outcome,
				&r.Details, &r.PrevHash, &r.Hash); err != nil {
				return fmt.Errorf("read audit record after %d: %w", av.Verification().Records, err)
			}
			r.Seq, r.Entry.Tenant = uint64(max(seq, 0)), tenant.String
			var terr error
			if r.Entry.Time, terr = parseTime(t); terr != nil || formatTime(r.Entry.Time) != t || tenant.Valid && tenant.String == "" {
				r.Malformed = "a field is not as admeter writes it"
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
func auditCheckpoints(ctx context.Context, tx *sql.Tx) ([]admeter.AuditCheckpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq`)
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
