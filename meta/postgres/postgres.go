package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/admeter/admeter"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// Session is a signed-in user's session (admeter.Session, which both
// metadata stores share).
type Session = admeter.Session

// Credentials are what signing in checks, as the store keeps them
// (admeter.Credentials).
type Credentials = admeter.Credentials

// maxIDAttempts bounds the retries when a random id is already taken.
const maxIDAttempts = 32

// migrationLock is the advisory lock key that serialises migrations of
// every admeter process on the same database.
const migrationLock = 0x61646d6d6967 // "admmig"

// DB is the metadata store in a PostgreSQL database. Set the exported fields
// before calling Open.
type DB struct {
	// DSN is the connection string: a URL
	// ("postgres://admeter@db.internal/admeter?sslmode=verify-full") or
	// key=value pairs ("host=/run/postgresql dbname=admeter").
	DSN string
	// Schema, if not empty, is the schema that holds the tables: Open
	// creates it if needed and every connection puts it first on its
	// search_path. Empty means the search_path the DSN or the server gives
	// (normally "public").
	Schema string
	// Now returns the current time; creation times come from it. Defaults
	// to time.Now.
	Now func() time.Time
	// Logger receives migration notices. Defaults to discarding.
	Logger *slog.Logger
	// MaxConns is the size of the connection pool. Defaults to
	// max(4, GOMAXPROCS).
	MaxConns int

	pool *pool

	// intn returns a random int in [0, n). Tests replace it to force id
	// collisions.
	intn func(n int) int
}

// NewDB returns a DB for the database dsn names. Call Open to use it.
func NewDB(dsn string) *DB {
	return &DB{
		DSN:      dsn,
		Now:      time.Now,
		Logger:   slog.New(slog.DiscardHandler),
		MaxConns: max(4, runtime.GOMAXPROCS(0)),
		intn:     rand.IntN,
	}
}

// Open connects to the database and applies any pending migrations.
func (db *DB) Open() (err error) {
	if db.DSN == "" {
		return errors.New("open metadata db: postgres DSN required")
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
	cfg, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		// The error may quote the DSN, password included: do not wrap it.
		return errors.New("open metadata db: cannot parse the postgres DSN: give a postgres:// URL or key=value pairs")
	}
	if db.Schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{db.Schema}.Sanitize()
	}
	// Times are read back in UTC whatever the server's TimeZone.
	cfg.RuntimeParams["timezone"] = "UTC"
	db.pool = newPool(cfg, max(1, db.MaxConns))
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()

	ctx := context.Background()
	if db.Schema != "" {
		err := db.pool.with(ctx, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.Schema}.Sanitize())
			return err
		})
		if err != nil {
			return fmt.Errorf("open metadata db: create schema %s: %w", db.Schema, err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate metadata db: %w", err)
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.close()
		db.pool = nil
	}
	return nil
}

// Version returns the change counter: a number that every write increases.
// A caller that caches metadata (the collector's campaign catalog) reloads
// when it differs from the value it loaded with.
func (db *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT version FROM change_counter WHERE id = 1`).Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("read change counter: %w", err)
	}
	return v, nil
}

// migrate applies the embedded migrations that schema_migrations does not
// list, in name order, each in its own transaction under an advisory lock.
// It refuses a database that lists a migration this binary does not have.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	return db.pool.with(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version text COLLATE "C" PRIMARY KEY,
			applied timestamptz NOT NULL
		)`); err != nil {
			var pgErr *pgconn.PgError
			// Two processes creating the table at once: one loses, harmlessly.
			if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
		}
		for _, name := range names {
			if err := db.migrateFile(ctx, c, names, name); err != nil {
				return fmt.Errorf("apply %s: %w", name, err)
			}
		}
		return nil
	})
}

// migrateFile runs migration name and records it, in one transaction that
// holds the migration lock. It is a no-op if the migration was applied. It
// checks first that every recorded migration is one of names.
func (db *DB) migrateFile(ctx context.Context, c *pgx.Conn, names []string, name string) error {
	version := strings.TrimSuffix(strings.TrimPrefix(name, "migration/"), ".sql")
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("list applied migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list applied migrations: %w", err)
	}
	for _, v := range applied {
		if !slices.Contains(names, "migration/"+v+".sql") {
			return fmt.Errorf("database has migration %q that this binary lacks: it was written by a newer admeter", v)
		}
	}
	if slices.Contains(applied, version) {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return fmt.Errorf("read migration: %w", err)
	}
	// Exec without arguments uses the simple protocol, which runs several
	// statements.
	if _, err := tx.Exec(ctx, string(buf)); err != nil {
		return fmt.Errorf("run migration: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`,
		version, ts(db.Now())); err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.Logger.Info("applied metadata migration", "name", name)
	return nil
}

// writeTx is a write transaction with the time it began, which every row it
// creates carries.
type writeTx struct {
	pgx.Tx
	now time.Time
}

// update runs fn in a write transaction and commits; if fn fails, nothing is
// written. The transaction first increments the change counter: the row
// lock that takes queues every writer behind the one before, as SQLite's
// single writer does, so that the checks fn makes (a free email, a live
// grant) still hold when it commits. The transaction's time is taken once
// the lock is held.
func (db *DB) update(ctx context.Context, fn func(tx *writeTx) error) error {
	return db.pool.with(ctx, func(c *pgx.Conn) error {
		pgTx, err := c.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer pgTx.Rollback(context.WithoutCancel(ctx))
		if _, err := pgTx.Exec(ctx, `UPDATE change_counter SET version = version + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("bump change counter: %w", err)
		}
		tx := &writeTx{Tx: pgTx, now: ts(db.Now())}
		if err := fn(tx); err != nil {
			return err
		}
		if err := pgTx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// view runs fn in a read-only REPEATABLE READ transaction: every query in fn
// sees the same snapshot.
func (db *DB) view(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.pool.with(ctx, func(c *pgx.Conn) error {
		tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
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

// execOne runs an INSERT ... ON CONFLICT DO NOTHING, UPDATE or DELETE and
// reports whether it touched exactly one row.
func execOne(ctx context.Context, tx pgx.Tx, query string, args ...any) (bool, error) {
	tag, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
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

// ts returns t as stored: UTC, truncated (not rounded, as PostgreSQL
// would) to the microsecond, as the SQLite store keeps it.
func ts(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime returns nil (NULL) for the zero time and ts(t) otherwise.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// fromNull returns the time a nullable column held, in UTC, or the zero
// time for NULL.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullIfEmpty returns nil (NULL) for "" and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// wrap returns an application error (*admeter.Error) as it is, so that its
// code and message reach the caller unchanged, turns a unique violation
// (which the serialised writers make rare: a row written by hand, say) into
// ECONFLICT, and prefixes any other error with op. A nil error stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *admeter.Error
	if errors.As(err, &e) {
		return e
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return admeter.Errorf(admeter.ECONFLICT, "The change conflicts with data stored meanwhile: reload and try again.")
	}
	return fmt.Errorf("%s: %w", op, err)
}

// pool is a small pool of connections. (pgxpool would do, but needs
// github.com/jackc/puddle/v2, which the module does not require yet.)
type pool struct {
	cfg *pgx.ConnConfig
	sem chan struct{} // one token per open or opening connection in use

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

// newPool returns a pool of at most n connections made with cfg.
func newPool(cfg *pgx.ConnConfig, n int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, n)}
}

// with runs fn with a connection of its own, waiting for one if all are in
// use.
func (p *pool) with(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(c)
	return fn(c)
}

// acquire returns an idle connection or a new one.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, errors.New("metadata db is closed")
		}
		var c *pgx.Conn
		if n := len(p.idle); n > 0 {
			c, p.idle = p.idle[n-1], p.idle[:n-1]
		}
		p.mu.Unlock()
		if c == nil {
			break
		}
		if !c.IsClosed() {
			return c, nil
		}
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.sem
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return c, nil
}

// release returns c to the pool, or closes it if it is broken, inside a
// transaction, or the pool is closed.
func (p *pool) release(c *pgx.Conn) {
	defer func() { <-p.sem }()
	p.mu.Lock()
	if !p.closed && !c.IsClosed() && c.PgConn().TxStatus() == 'I' {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}
}

// close closes the idle connections; those in use close when released.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range idle {
		_ = c.Close(ctx)
	}
}
