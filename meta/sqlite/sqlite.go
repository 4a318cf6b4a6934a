package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migration/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a connection waits for a lock held by another
// process before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// timeLayout is how times are stored: UTC with microseconds and a fixed
// width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// maxIDAttempts bounds the retries when a random id is already taken. With
// the id spaces used here a single retry is already rare.
const maxIDAttempts = 32

// DB is the metadata store: one SQLite database file. Set the exported fields
// before calling Open.
type DB struct {
	// Path is the database file. Its directory is created if needed.
	Path string
	// Now returns the current time; creation times come from it. Defaults
	// to time.Now.
	Now func() time.Time
	// Logger receives migration notices. Defaults to discarding.
	Logger *slog.Logger
	// ReadConns is the size of the read pool. Defaults to
	// max(4, GOMAXPROCS).
	ReadConns int

	write *sql.DB // exactly one connection; transactions begin IMMEDIATE
	read  *sql.DB // query_only connections

	// intn returns a random int in [0, n). Tests replace it to force id
	// collisions.
	intn func(n int) int
}

// NewDB returns a DB for the database file at path. Call Open to use it.
func NewDB(path string) *DB {
	return &DB{
		Path:      path,
		Now:       time.Now,
		Logger:    slog.New(slog.DiscardHandler),
		ReadConns: max(4, runtime.GOMAXPROCS(0)),
		intn:      rand.IntN,
	}
}

// Open opens the database file, creating it (mode 0600) if needed, switches
// it to WAL mode and applies any pending migrations.
func (db *DB) Open() (err error) {
	if db.Path == "" {
		return errors.New("open metadata db: path required")
	} else if db.Path == ":memory:" || strings.HasPrefix(db.Path, "file:") || strings.Contains(db.Path, "?") {
		return fmt.Errorf("open metadata db: %q must be a plain file path", db.Path)
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.New(slog.DiscardHandler)
	}
	if db.intn == nil {
		db.intn = rand.IntN
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()

	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("open metadata db: create directory: %w", err)
	}
	// Create the file ourselves so that it, and the -wal and -shm files
	// SQLite derives from it, are private: they hold token hashes.
	f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	}

	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	// FULL: a committed campaign survives power loss. Metadata writes are
	// rare, so the extra fsync per commit costs nothing that matters.
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	if db.write, err = sql.Open("sqlite", db.Path+"?"+q.Encode()); err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)

	var mode string
	if err := db.write.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	} else if mode != "wal" {
		return fmt.Errorf("open metadata db: journal mode is %q, not wal: is %s on a network file system?", mode, db.Path)
	}
	if err := db.migrate(context.Background()); err != nil {
		return fmt.Errorf("migrate metadata db: %w", err)
	}

	q = url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_query_only", "1")
	if db.read, err = sql.Open("sqlite", db.Path+"?"+q.Encode()); err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	}
	n := max(1, db.ReadConns)
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.read.SetConnMaxLifetime(0)
	db.read.SetConnMaxIdleTime(0)
	if err := db.read.Ping(); err != nil {
		return fmt.Errorf("open metadata db: %w", err)
	}
	return nil
}

// Close closes the database. It runs PRAGMA optimize first, as SQLite
// advises for long-lived connections.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
		db.read = nil
	}
	if db.write != nil {
		if _, err := db.write.Exec(`PRAGMA optimize`); err != nil {
			errs = append(errs, fmt.Errorf("optimize: %w", err))
		}
		errs = append(errs, db.write.Close())
		db.write = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close metadata db: %w", err)
	}
	return nil
}

// Version returns the change counter: a number that every write increases.
// A caller that caches metadata (the collector's campaign catalog) reloads
// when it differs from the value it loaded with.
func (db *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := db.read.QueryRowContext(ctx, `SELECT version FROM change_counter WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read change counter: %w", err)
	}
	return v, nil
}

// migrate applies the embedded migrations that the migrations table does not
// list, in name order, each in its own transaction. It refuses a database that
// lists a migration this binary does not have: the schema is newer than the
// code.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name    TEXT PRIMARY KEY,
		applied TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)

	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for name := range applied {
		if !slices.Contains(names, name) {
			return fmt.Errorf("database has migration %q that this binary lacks: it was written by a newer admeter", name)
		}
	}
	for _, name := range names {
		if applied[name] {
			continue
		}
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("apply %s: %w", name, err)
		}
		db.Logger.Info("applied metadata migration", "name", name)
	}
	return nil
}

// appliedMigrations returns the names the migrations table lists.
func (db *DB) appliedMigrations(ctx context.Context) (map[string]bool, error) {
	rows, err := db.write.QueryContext(ctx, `SELECT name FROM migrations`)
	if err != nil {
		return nil, fmt.Errorf("list applied migrations: %w", err)
	}
	defer rows.Close()
	applied := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list applied migrations: %w", err)
		}
		applied[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list applied migrations: %w", err)
	}
	return applied, nil
}

// migrateFile runs one migration and records it, in one transaction. It is a
// no-op if another process applied it meanwhile.
func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("check migration: %w", err)
	} else if n != 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return fmt.Errorf("read migration: %w", err)
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return fmt.Errorf("run migration: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied) VALUES (?, ?)`,
		name, formatTime(db.Now())); err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeTx is a write transaction with the time it began, which every row it
// creates carries.
type writeTx struct {
	*sql.Tx
	now time.Time
}

// update runs fn in a write transaction, increments the change counter and
// commits; if fn fails, nothing is written. Writers queue for the single
// write connection, so they never meet SQLITE_BUSY from each other.
func (db *DB) update(ctx context.Context, fn func(tx *writeTx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	tx := &writeTx{Tx: sqlTx, now: db.Now().UTC().Truncate(time.Microsecond)}
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE change_counter SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump change counter: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// view runs fn in a read-only transaction on the read pool: every query in
// fn sees the same snapshot.
func (db *DB) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// insertWithRandomID runs insert with fresh ids from newID until one is not
// taken (insert reports false when its row conflicted on the id), and returns
// the id used. what names the id in errors.
func insertWithRandomID(what string, newID func() string, insert func(id string) (bool, error)) (string, error) {
	for range maxIDAttempts {
		id := newID()
		ok, err := insert(id)
		if err != nil {
			return "", err
		} else if ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("allocate %s: every one of %d random ids was taken", what, maxIDAttempts)
}

// insertedOne reports whether res, of an INSERT ... ON CONFLICT DO NOTHING,
// inserted its row.
func insertedOne(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("rows affected: %w", err)
	}
	return n == 1, nil
}

// Alphabets of the random ids.
const (
	base32Lower = "abcdefghijklmnopqrstuvwxyz234567"
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// randomString returns n characters drawn uniformly from alphabet.
func (db *DB) randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[db.intn(len(alphabet))]
	}
	return string(b)
}

// formatTime returns t as stored.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// parseTime parses a stored time.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time: %w", err)
	}
	return t.UTC(), nil
}
