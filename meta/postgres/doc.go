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
// Not yet here: the audit record (AuditLog, AuditEntries, VerifyAudit).
package postgres
