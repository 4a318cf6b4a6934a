// Package postgres is admeter's metadata store on PostgreSQL: the same
// methods, with the same semantics and errors, as package sqlite's DB, for
// running admeter as a cluster whose collectors, API servers and workers
// share one metadata database. Package metatest's suite runs against both.
//
// It uses github.com/jackc/pgx/v5 directly, with a small connection pool of
// its own (pgxpool needs a module the build does not require yet).
//
// # Schema
//
// The schema lives in embedded migration/*.sql files, applied in name order
// by Open, each in its own transaction holding an advisory lock (so that
// processes starting together migrate once), and recorded in the
// schema_migrations table. Open refuses a database that records a migration
// the binary does not have. DB.Schema, if set, puts the tables in that
// schema (created if needed) instead of the search_path's first.
//
// SQL features used: timestamptz (kept to the microsecond, truncated in Go
// as SQLite's store does, and read back in UTC), jsonb for JSON arrays and
// objects (with jsonb_typeof CHECKs and the @> containment operator),
// bytea, boolean, identity columns (the insertion-order tie-break SQLite's
// rowid gives), partial unique indexes, a composite foreign key, an
// expression index on an IMMUTABLE SQL function (ascii_lower: emails are
// unique ignoring ASCII case only, like SQLite's NOCASE), COLLATE "C" on
// identifiers (byte order whatever the database's collation), INSERT ... ON
// CONFLICT DO NOTHING, UPDATE ... RETURNING, COUNT(*) FILTER, and advisory
// locks. Any supported PostgreSQL (12 or later) will do.
//
// # Concurrency
//
// Every write transaction begins by incrementing the change counter
// (Version), at READ COMMITTED: the row lock that takes queues writers one
// behind the other, across every process, as SQLite's single writer does,
// so that the checks a write makes before it inserts (a free email, one live
// grant per agency and campaign, a free credit code) hold when it commits,
// and a failed write leaves the counter alone. Metadata writes are rare, so
// the serialisation costs nothing that matters. Reads run in READ ONLY
// REPEATABLE READ transactions: each sees one snapshot.
//
// Collectors poll Version to know when to reload their campaign catalog, as
// with SQLite. LISTEN/NOTIFY on the counter could replace the polling later.
//
// Every read of a campaign takes the tenant explicitly and treats a campaign
// of another tenant exactly like a missing one.
//
// # Audit record
//
// The audit record (AuditLog, DB.AuditEntries, DB.VerifyAudit) is the one
// package sqlite keeps, with the same hash chain (admeter.AuditChainHash),
// the same signed checkpoints (admeter.AuditCheckpointMessage) and the same
// verification (admeter.AuditVerifier), so that a record verifies alike
// wherever it is kept; the query and result types are the domain's
// (admeter.AuditQuery, admeter.AuditVerification, *admeter.AuditError).
// Details are stored as text, the canonical JSON byte for byte, not as
// jsonb, which would respell what was hashed.
//
// Appends are serialised across every process that shares the database:
// each append transaction first takes a transaction-scoped advisory lock
// keyed by the class "audt" and the oid of the schema's audit_log table,
// then reads the last record and inserts the next one chained to it, and
// its commit releases the lock. So sequence numbers stay gapless and the
// chain linear however many collectors and API servers append at once, and
// the primary key on seq turns any append that bypassed the lock into a
// conflict rather than a fork. Appends do not touch the change counter and
// do not queue behind metadata writes; VerifyAudit reads in one REPEATABLE
// READ snapshot and never blocks them. Because the lock is advisory, the
// role admeter connects as needs only SELECT and INSERT on the audit
// tables.
//
// The tables are append-only: statement-level triggers refuse every UPDATE,
// DELETE and TRUNCATE of audit_log and audit_checkpoints. The tables' owner
// can still disable the triggers; the chain and the checkpoints are what
// detect what was then done.
//
// # Shared state of a cluster
//
// The key store document (DB.KeystoreBackend, for keystore.OpenBackend)
// is one row per document name in keystore_documents (migration 0004),
// replaced whole by compare-and-swap on its rev column (UPDATE ... WHERE rev
// = the revision loaded; INSERT ... ON CONFLICT DO NOTHING to create it), so
// that every node pseudonymises with the same keys and of two nodes that
// rotate at once one saves and the other reloads and retries. Its secrets
// are sealed under the master key, which stays on the nodes. No history
// rows are kept, so that a destroyed key's sealed secret leaves the table;
// the replaced row version remains until VACUUM, and in WAL archives and
// backups. Saves do not touch the change counter; nodes poll the document.
//
// The opt-out record (AppendOptOuts, OptOutsSince; migration 0003) is the
// feed every node's optout.Shared follows: appends commit in the order of
// their sequence numbers (a trigger takes a transaction-level advisory lock
// before one is drawn), so a follower never skips a row that commits late.
//
// RunAsLeader elects one process for a piece of work with a session-level
// advisory lock on a connection of its own (admeter's background jobs).
package postgres
