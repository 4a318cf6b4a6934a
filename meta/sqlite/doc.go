// Package sqlite is admeter's transactional metadata store: enterprise
// accounts and their registration data, users (argon2id password hashes,
// sealed second-factor secrets), sessions and API tokens (hashes only, with
// scopes), campaigns and their placements, the grants by which an advertiser
// lets an agency read or manage a campaign, end users' rights requests
// (pseudonyms only), and the audit record (a hash-chained, append-only
// table with signed checkpoints). It runs on SQLite through the pure-Go
// driver modernc.org/sqlite, so the binary needs no C toolchain.
//
// Nothing outside this package knows it is SQLite: the services and the API
// consume interfaces they declare, with domain types, and the SQL is plain
// (text times in a sortable fixed format, JSON text columns, no SQLite-only
// functions beyond json_valid in CHECKs), so that a PostgreSQL adapter can
// implement the same methods when admeter runs as a cluster.
//
// The schema lives in embedded migration/*.sql files, applied in name order,
// each in its own transaction and recorded in the migrations table, when a
// DB is opened.
//
// Connection discipline. SQLite allows one writer at a time; a second
// connection that tries to write waits up to busy_timeout and then fails with
// SQLITE_BUSY, and a deferred transaction that upgrades from read to write
// can fail at once. To make that impossible inside one process a DB keeps two
// pools on the same WAL-mode file: a write pool of exactly one connection,
// whose transactions begin IMMEDIATE, so concurrent writers queue in
// database/sql (honouring their contexts) instead of in SQLite; and a read
// pool of several query_only connections, which WAL lets run alongside the
// writer, each read transaction seeing one consistent snapshot. busy_timeout
// still covers another process (a CLI command) writing the same file.
//
// Every read of a campaign takes the tenant explicitly and treats a campaign
// of another tenant exactly like a missing one, so that no answer reveals
// whether another tenant's campaign exists.
package sqlite
