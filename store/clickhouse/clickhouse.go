package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

var _ store.Store = (*DB)(nil)

// Options tune a DB. The zero value gives the defaults.
type Options struct {
	// MutationTimeout is how long a deletion waits for its ALTER … DELETE
	// (or UPDATE) mutation to finish before it gives up with an error
	// (5 minutes when zero). The mutation keeps running on the server.
	MutationTimeout time.Duration
	// MaxOpenConns is the size of the connection pool (8 when zero).
	MaxOpenConns int
	// DialTimeout bounds connecting to the server (10 seconds when zero).
	DialTimeout time.Duration
}

// DefaultOptions returns the options used for zero fields.
func DefaultOptions() Options {
	return Options{MutationTimeout: 5 * time.Minute, MaxOpenConns: 8, DialTimeout: 10 * time.Second}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MutationTimeout <= 0 {
		o.MutationTimeout = d.MutationTimeout
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = d.MaxOpenConns
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = d.DialTimeout
	}
	return o
}

// Schema versions, recorded in meta (the largest row counts). Open
// refuses a database of a version later than schemaVersion, and records
// baseVersion on a new one.
const (
	// baseVersion: rows become visible when meta's offset reaches their
	// batch. A database loaded with Insert only stays at it, so that
	// older programs still open it.
	baseVersion = 1
	// partitionedVersion: rows of batches recorded in table batches are
	// visible too. InsertFrom records it before its first rows, since a
	// program of baseVersion would take them for rows of unrecorded
	// batches and delete them.
	partitionedVersion = 2
	// schemaVersion is the latest version this program reads and writes.
	schemaVersion = partitionedVersion
)

// schema creates the tables; see the package documentation. Every
// statement is accepted by ClickHouse 18.16 and by current releases.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS events (
	tenant      String,
	campaign    String,
	placement   String,
	kind        UInt8,
	ts          Int64,
	received    Int64,
	day         UInt32,
	flags       UInt16,
	user_key    FixedString(16),
	user_type   UInt8,
	key_version UInt32,
	impression  FixedString(16),
	os          UInt8,
	os_version  String,
	device      UInt8,
	browser     String,
	model       String,
	network     UInt8,
	app         String,
	app_package String,
	net         Nullable(Int64),
	country     String,
	province    String,
	city        String,
	lat         Nullable(Int32),
	lon         Nullable(Int32),
	risk        UInt8,
	ivt         UInt32,
	batch       UInt64
) ENGINE = MergeTree() PARTITION BY day ORDER BY (tenant, campaign, placement, kind, ts)`,
	`CREATE TABLE IF NOT EXISTS meta (
	key   String,
	value UInt64,
	at    DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY key`,
	`CREATE TABLE IF NOT EXISTS batches (
	batch      UInt64,
	partitions Array(Int32),
	nexts      Array(Int64),
	at         DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY batch`,
	`CREATE TABLE IF NOT EXISTS daily (
	tenant                   String,
	campaign                 String,
	placement                String,
	day                      UInt32,
	impressions              Int64,
	clicks                   Int64,
	uv                       Int64,
	click_uv                 Int64,
	anon_impressions         Int64,
	anon_clicks              Int64,
	invalid_impressions      Int64,
	invalid_clicks           Int64,
	invalid_uv               Int64,
	invalid_click_uv         Int64,
	invalid_anon_impressions Int64,
	invalid_anon_clicks      Int64,
	mixed_uv                 Int64,
	mixed_click_uv           Int64
) ENGINE = MergeTree() ORDER BY (tenant, campaign, day, placement)`,
}

// Keys of meta. Every one only grows, so its value is max(value).
const (
	metaVersion  = "schema_version"
	metaOffset   = "offset"
	metaRetained = "retained_before"
)

// DB is the ClickHouse analytical store. It is safe for concurrent use:
// writers (Insert, RefreshRollups, the deletions, JudgeBehaviour) take
// turns, queries run beside them. One process loads a database: the
// exactly-once scheme assumes a single writer.
type DB struct {
	logger *slog.Logger
	opts   Options
	conn   driver.Conn

	// wmu serialises the writers; the fields below it are theirs.
	wmu    sync.Mutex
	closed bool
	// dirty is set when an Insert or InsertFrom failed after sending
	// rows: the next one rereads what is recorded and deletes the rows of
	// unrecorded batches first.
	dirty bool
	// version is the schema version recorded in meta.
	version uint64
	// batch is the latest recorded batch: the larger of the offset and
	// the largest batch of table batches. Rows of later batches are not
	// visible.
	batch uint64
	// positions is the recorded partition positions (InsertFrom).
	positions map[int32]int64

	offset atomic.Uint64 // the offset recorded by this process
}

// Open connects to the ClickHouse server of dsn over the native protocol
// (clickhouse://user:password@host:9000/database?dial_timeout=10s…, as
// clickhouse-go parses it), creates the tables if needed, and removes the
// rows of a batch whose offset was never recorded (an Insert interrupted
// by a crash). The database must exist. A nil logger discards.
func Open(ctx context.Context, dsn string, opts Options, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts = opts.withDefaults()
	co, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: parse ClickHouse DSN: %w", err)
	}
	if co.Protocol != clickhouse.Native {
		return nil, errors.New("open store: the ClickHouse store speaks the native protocol (clickhouse://host:9000/db), not HTTP")
	}
	co.MaxOpenConns = opts.MaxOpenConns
	co.MaxIdleConns = opts.MaxOpenConns
	if co.DialTimeout == 0 || co.DialTimeout == 30*time.Second {
		co.DialTimeout = opts.DialTimeout
	}
	conn, err := clickhouse.Open(co)
	if err != nil {
		return nil, fmt.Errorf("open store: connect to ClickHouse: %w", err)
	}
	db := &DB{logger: logger, opts: opts, conn: conn}
	if err := db.init(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	logger.Info("store opened", "backend", "clickhouse", "database", co.Auth.Database, "offset", db.offset.Load(), "batch", db.batch, "source_partitions", len(db.positions))
	return db, nil
}

func (db *DB) init(ctx context.Context) error {
	if err := db.conn.Ping(ctx); err != nil {
		return fmt.Errorf("reach ClickHouse (is the server running, and the database created?): %w", err)
	}
	for _, s := range schema {
		if err := db.conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	version, err := db.meta(ctx, metaVersion)
	if err != nil {
		return err
	}
	switch {
	case version > schemaVersion:
		return fmt.Errorf("store schema version %d is newer than this program's %d: open it with a newer admeter", version, schemaVersion)
	case version < baseVersion:
		if err := db.setMeta(ctx, metaVersion, baseVersion); err != nil {
			return err
		}
		version = baseVersion
	}
	db.version = version
	return db.recover(ctx)
}

// recover rereads the recorded offset, batch and positions, and deletes
// the rows of batches beyond the latest recorded one: rows an Insert or
// InsertFrom sent before failing (or crashing) without recording its
// batch. Readers never saw them (they read recorded batches only); the
// retried batch will send them again.
func (db *DB) recover(ctx context.Context) error {
	off, err := db.meta(ctx, metaOffset)
	if err != nil {
		return err
	}
	last, err := db.visible(ctx)
	if err != nil {
		return err
	}
	pos, err := db.readPositions(ctx)
	if err != nil {
		return err
	}
	var n uint64
	if err := db.conn.QueryRow(ctx, fmt.Sprintf(`SELECT count() FROM events WHERE batch > %d`, last)).Scan(&n); err != nil {
		return fmt.Errorf("look for rows of unrecorded batches: %w", err)
	}
	if n > 0 {
		if err := db.mutate(ctx, "events", fmt.Sprintf(`DELETE WHERE batch > %d`, last)); err != nil {
			return fmt.Errorf("delete %d rows of unrecorded batches: %w", n, err)
		}
		db.logger.Warn("rows of an interrupted insert deleted", "rows", n, "batch", last)
	}
	db.offset.Store(off)
	db.batch = last
	db.positions = pos
	db.dirty = false
	return nil
}

// meta returns the value of key in meta: the largest recorded, 0 if none.
func (db *DB) meta(ctx context.Context, key string) (uint64, error) {
	var v uint64
	if err := db.conn.QueryRow(ctx, `SELECT max(value) FROM meta WHERE key = `+quote(key)).Scan(&v); err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// setMeta records value for key (an INSERT … SELECT, which clickhouse-go
// runs on the server alone).
func (db *DB) setMeta(ctx context.Context, key string, value uint64) error {
	if err := db.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO meta (key, value) SELECT %s, toUInt64(%d)`, quote(key), value)); err != nil {
		return fmt.Errorf("record %s: %w", key, err)
	}
	return nil
}

// visible returns the latest recorded batch, up to which batches are
// complete: the larger of meta's offset (Insert) and the largest batch of
// table batches (InsertFrom). Queries read the rows of those batches only
// (batch <= visible), so a reader never sees part of a batch. It reads
// the database, so that a process that only queries sees what the loader
// recorded.
func (db *DB) visible(ctx context.Context) (uint64, error) {
	var v uint64
	if err := db.conn.QueryRow(ctx, `SELECT greatest((SELECT max(value) FROM meta WHERE key = `+quote(metaOffset)+`), (SELECT max(batch) FROM batches))`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the latest recorded batch: %w", err)
	}
	return v, nil
}

// readPositions returns the recorded partition positions: for each
// partition, its position in the latest batch that names it.
func (db *DB) readPositions(ctx context.Context) (map[int32]int64, error) {
	rows, err := db.conn.Query(ctx, `SELECT p, argMax(n, batch) FROM batches ARRAY JOIN partitions AS p, nexts AS n GROUP BY p`)
	if err != nil {
		return nil, fmt.Errorf("read partition positions: %w", err)
	}
	defer rows.Close()
	pos := map[int32]int64{}
	for rows.Next() {
		var p int32
		var next int64
		if err := rows.Scan(&p, &next); err != nil {
			return nil, fmt.Errorf("read partition positions: %w", err)
		}
		pos[p] = next
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partition positions: %w", err)
	}
	return pos, nil
}

// Positions returns the partition positions InsertFrom recorded (an empty
// map if none). Like Offset, it reads the database.
func (db *DB) Positions(ctx context.Context) (map[int32]int64, error) {
	return db.readPositions(ctx)
}

// Offset returns the event-log offset loading should resume from.
func (db *DB) Offset(ctx context.Context) (uint64, error) {
	off, err := db.meta(ctx, metaOffset)
	if err != nil {
		return 0, fmt.Errorf("read offset: %w", err)
	}
	return off, nil
}

// mutate runs ALTER TABLE table cmd (a DELETE or UPDATE mutation) and
// waits until the server has applied every mutation of the table. It
// polls system.mutations rather than using mutations_sync, which
// ClickHouse 18.16 lacks.
func (db *DB) mutate(ctx context.Context, table, cmd string) error {
	if err := db.conn.Exec(ctx, "ALTER TABLE "+table+" "+cmd); err != nil {
		return fmt.Errorf("alter %s: %w", table, err)
	}
	return db.waitMutations(ctx, table)
}

// waitMutations waits until the server has applied every mutation of
// table, or Options.MutationTimeout has passed.
func (db *DB) waitMutations(ctx context.Context, table string) error {
	deadline := time.Now().Add(db.opts.MutationTimeout)
	wait := 5 * time.Millisecond
	for {
		var pending uint64
		if err := db.conn.QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = `+quote(table)+` AND is_done = 0`).Scan(&pending); err != nil {
			return fmt.Errorf("wait for mutation of %s: %w", table, err)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mutation of %s not done after %s: see system.mutations on the server", table, db.opts.MutationTimeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mutation of %s: %w", table, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// Close closes the connections. Calling it again does nothing.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	if err := db.conn.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	db.logger.Info("store closed", "backend", "clickhouse")
	return nil
}

// errClosed is returned by writers after Close.
var errClosed = errors.New("store is closed")

// lock takes the writer lock; it fails after Close.
func (db *DB) lock(op string) error {
	db.wmu.Lock()
	if db.closed {
		db.wmu.Unlock()
		return fmt.Errorf("%s: %w", op, errClosed)
	}
	return nil
}

// quote returns s as a ClickHouse string literal: quote and backslash
// escaped, control bytes and bytes outside ASCII kept as they are except
// for the controls, written as \xHH.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// keyLiteral returns a pseudonym as a FixedString(16) literal.
func keyLiteral(p admeter.Pseudonym) string {
	var b strings.Builder
	b.WriteString("toFixedString('")
	for _, c := range p {
		fmt.Fprintf(&b, `\x%02X`, c)
	}
	b.WriteString("', 16)")
	return b.String()
}

// noKey is the stored value of an absent pseudonym: sixteen zero bytes.
const noKey = "toFixedString('', 16)"

// stringList returns the literals of ss joined by commas.
func stringList[S ~string](ss []S) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(string(s))
	}
	return strings.Join(out, ", ")
}

const (
	msPerDay  = 86_400_000
	msPerHour = 3_600_000
)

// epochDay returns the day number (days since 1970-01-01) of d.
func epochDay(d store.Date) int64 { return d.In(time.UTC).Unix() / 86400 }

// dateOfDay returns the date of day number n.
func dateOfDay(n int64) store.Date { return store.DateOf(time.Unix(n*86400, 0).UTC()) }

// ceilMillis returns t in Unix milliseconds, rounded up: an event at
// millisecond m is before t exactly when m < ceilMillis(t).
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// invalid returns an EINVALID error.
func invalid(format string, args ...any) error {
	return admeter.Errorf(admeter.EINVALID, format, args...)
}

// itoa formats an integer for SQL.
func itoa[I ~int | ~int32 | ~int64 | ~uint8 | ~uint32 | ~uint64](i I) string {
	return strconv.FormatInt(int64(i), 10)
}
