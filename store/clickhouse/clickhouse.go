package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
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
	// IntentTTL bounds how long a batch may take from its intent row to
	// its commit row, both stamped by the server's clock (1 minute when
	// zero; whole seconds, at least 2). A writer refuses to commit a
	// batch whose intent is older, a commit stamped later does not count,
	// and other writers take a batch still uncommitted after twice the
	// TTL for abandoned. Each intent row records its writer's TTL, so
	// writers with different values agree on every batch.
	IntentTTL time.Duration
	// CleanupInterval is how often a writer runs the clean-up (which
	// settles batches older than three TTLs and deletes the rows of
	// abandoned and voided ones) besides at Open and after a failed load
	// (1 minute when zero). It runs at the start of a load, so a writer
	// that loads nothing does not run it.
	CleanupInterval time.Duration
	// Cluster, when set, is the name of a cluster in the servers'
	// remote_servers config: the store is sharded over its shards (see
	// the package documentation). The DSN's server is the coordinator,
	// which holds the coordination tables and the rollups; every shard
	// (every replica of each, as system.clusters lists them on the
	// coordinator) is reached with the DSN's credentials and database.
	// Shards with several replicas make the store replicated (see
	// Replication; the servers need ZooKeeper).
	Cluster string
}

// DefaultOptions returns the options used for zero fields.
func DefaultOptions() Options {
	return Options{MutationTimeout: 5 * time.Minute, MaxOpenConns: 8, DialTimeout: 10 * time.Second,
		IntentTTL: time.Minute, CleanupInterval: time.Minute}
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
	if o.IntentTTL <= 0 {
		o.IntentTTL = d.IntentTTL
	}
	o.IntentTTL = max(o.IntentTTL.Round(time.Second), 2*time.Second)
	if o.CleanupInterval <= 0 {
		o.CleanupInterval = d.CleanupInterval
	}
	return o
}

// Schema versions, recorded in meta (the largest row counts). Open
// refuses a database of a version later than schemaVersion, records it
// on a new one, and migrates an older one to it.
const (
	// baseVersion: rows become visible when meta's offset reaches their
	// batch (Insert only).
	baseVersion = 1
	// partitionedVersion: rows of batches recorded in table batches are
	// visible too (InsertFrom, one writer).
	partitionedVersion = 2
	// multiWriterVersion: batches of any number of writers, numbered at
	// random, committed and voided in table loads (see loads.go). Rows of
	// the batches of versions 1 and 2 keep their numbers, all below
	// newBatchBit, and stay visible.
	multiWriterVersion = 3
	// viewVersion: table events has the columns of viewability, video and
	// conversions (viewColumns).
	viewVersion = 4
	// socialVersion: table posts holds social records (postsSchema).
	// Open creates it on any version; recording the version makes older
	// programs, whose deletions would leave social records behind,
	// refuse the database.
	socialVersion = 5
	// schemaVersion is the latest version this program reads and writes.
	schemaVersion = socialVersion
)

// column is a column of table events added by a schema version.
type column struct{ name, typ string }

// viewColumns are the columns of table events that schema version 4
// added, last in the table (where ALTER TABLE … ADD COLUMN puts them):
// the viewability, video and conversion fields of admeter.Event.
// video_duration is in milliseconds; conversion_id and click_id are
// pseudonyms, sixteen zero bytes when absent, like user_key.
var viewColumns = []column{
	{"view", "UInt8"},
	{"view_area", "UInt8"},
	{"view_seconds", "UInt8"},
	{"video_duration", "UInt32"},
	{"video_play", "UInt8"},
	{"video_progress", "UInt8"},
	{"video_quartiles", "UInt8"},
	{"conversion_id", "FixedString(16)"},
	{"conversion_type", "String"},
	{"value", "Int64"},
	{"currency", "String"},
	{"click_id", "FixedString(16)"},
}

// columnsSQL returns the column definitions of cols, each after a comma
// and a new line, as in a CREATE TABLE.
func columnsSQL(cols []column) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, ",\n\t%-16s%s", c.name, c.typ)
	}
	return b.String()
}

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
	batch       UInt64` + columnsSQL(viewColumns) + `
) ENGINE = MergeTree() PARTITION BY day ORDER BY (tenant, campaign, placement, kind, ts)`,
	`CREATE TABLE IF NOT EXISTS meta (
	key   String,
	value UInt64,
	at    DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY key`,
	// batches: the batches of schema version 2, read by the migration.
	`CREATE TABLE IF NOT EXISTS batches (
	batch      UInt64,
	partitions Array(Int32),
	nexts      Array(Int64),
	at         DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY batch`,
	// loads: intent, done and void rows of the batches (see loads.go).
	// Every row of a batch carries its intent's time and TTL, so that
	// reading the rows of recent intents reads whole batches.
	`CREATE TABLE IF NOT EXISTS loads (
	batch      UInt64,
	state      UInt8,
	intent_at  UInt32,
	ttl        UInt32,
	writer     UInt64,
	partitions Array(Int32),
	froms      Array(Int64),
	nexts      Array(Int64),
	at         UInt32
) ENGINE = MergeTree() ORDER BY (intent_at, batch)`,
	// checkpoints: the positions of every batch whose intent is before
	// settled, each row complete (the latest one counts).
	`CREATE TABLE IF NOT EXISTS checkpoints (
	settled    UInt32,
	partitions Array(Int32),
	nexts      Array(Int64),
	at         DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY settled`,
	// dead: batches settled uncommitted or voided, whose rows are never
	// visible, however late they arrive.
	`CREATE TABLE IF NOT EXISTS dead (
	batch     UInt64,
	intent_at UInt32,
	at        DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY (intent_at, batch)`,
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
	metaVersion = "schema_version"
	// metaOffset is the offset Insert recorded under schema versions 1
	// and 2; the migration copies it into the first checkpoint.
	metaOffset   = "offset"
	metaRetained = "retained_before"
)

// DB is the ClickHouse analytical store. It is safe for concurrent use:
// writers (Insert, InsertFrom, RefreshRollups, the deletions,
// JudgeBehaviour) take turns within a DB, queries run beside them. Any
// number of processes may load one database at once (see the package
// documentation for what is guaranteed between them).
type DB struct {
	logger *slog.Logger
	opts   Options
	conn   driver.Conn
	// shards are the connections to every shard's local events table,
	// in shard order: conn alone unless sharded.
	shards []driver.Conn
	// replicas are the connections to every replica of each shard, in
	// shard and replica order (replicas[i][0] is shards[i]), and
	// replicated is set when some shard has more than one, its events
	// table a ReplicatedMergeTree (see Replication).
	replicas   [][]driver.Conn
	replicated bool
	// events is the table queries read events from: events, or the
	// Distributed table over the shards when sharded; posts likewise for
	// social records.
	events string
	posts  string
	// writer identifies this DB in the rows of table loads (random).
	writer uint64
	// ttl is Options.IntentTTL in seconds.
	ttl uint32

	// wmu serialises the writers; the fields below it are theirs.
	wmu    sync.Mutex
	closed bool
	// dirty is set when a load failed after writing its intent: the
	// next one runs the clean-up first.
	dirty bool
	// postSeq is the stored value of the last InsertPosts.
	postSeq uint64
	// cleaned is when the clean-up last ran.
	cleaned time.Time

	// smu guards starts.
	smu sync.Mutex
	// starts is, per partition (offsetPartition for Insert), where this
	// DB expects its caller's next batch of the partition to start: the
	// next position of its last batch of it, else the position it last
	// reported (Positions, or a conflict). See InsertFrom.
	starts map[int32]int64

	// cmu guards ckpt, the latest checkpoint read and when.
	cmu    sync.Mutex
	ckpt   checkpoint
	ckptAt time.Time

	// Test hooks: newNonce draws the random part of batch numbers, skew
	// (seconds) is added to the server's clock in every time this DB
	// stamps or compares, and hooks run between the steps of a load.
	newNonce func() uint32
	skew     atomic.Int64
	hooks    loadHooks
}

// Open connects to the ClickHouse server of dsn over the native protocol
// (clickhouse://user:password@host:9000/database?dial_timeout=10s…, as
// clickhouse-go parses it), creates the tables if needed, migrates a
// database of an older schema version, and runs the clean-up (which
// resolves overlapping batches and deletes the rows of abandoned ones).
// The database must exist. A nil logger discards.
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
	db := &DB{logger: logger, opts: opts, conn: conn, shards: []driver.Conn{conn}, events: localEvents, posts: localPosts, writer: rand.Uint64(),
		ttl: uint32(opts.IntentTTL / time.Second), starts: map[int32]int64{}, newNonce: nonces()}
	if err := db.init(ctx, co); err != nil {
		_ = db.closeConns()
		return nil, fmt.Errorf("open store: %w", err)
	}
	logger.Info("store opened", "backend", "clickhouse", "database", co.Auth.Database, "cluster", opts.Cluster, "shards", len(db.shards),
		"settled", db.ckpt.settled, "source_partitions", len(db.ckpt.positions))
	return db, nil
}

func (db *DB) init(ctx context.Context, co *clickhouse.Options) error {
	if err := db.conn.Ping(ctx); err != nil {
		return fmt.Errorf("reach ClickHouse (is the server running, and the database created?): %w", err)
	}
	tables := append(slices.Clone(schema), postsSchema)
	if db.opts.Cluster != "" {
		// openShards creates events and posts, replicated if the
		// cluster is.
		tables = schema[1:]
	}
	for _, s := range tables {
		if err := db.conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if db.opts.Cluster != "" {
		db.shards = nil
		if err := db.openShards(ctx, co); err != nil {
			return err
		}
		if db.replicated {
			if err := db.reopenForReplicas(co); err != nil {
				return err
			}
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
		if err := db.setMeta(ctx, metaVersion, schemaVersion); err != nil {
			return err
		}
	case version < schemaVersion:
		if err := db.migrate(ctx, version); err != nil {
			return fmt.Errorf("migrate schema version %d to %d: %w", version, schemaVersion, err)
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.cleanup(ctx, true); err != nil {
		return fmt.Errorf("clean up: %w", err)
	}
	return nil
}

// migrate brings a database of an older schema version to
// schemaVersion: one of version 1 or 2 to version 3 (migrateBatches), one
// of version 3 or older to 4 (addViewColumns); version 5's table posts
// is already created (init creates it at every Open). Then it records
// schemaVersion, after which older programs refuse the database. Every
// step may run again (a crash, or two processes migrating at once).
func (db *DB) migrate(ctx context.Context, version uint64) error {
	if version < multiWriterVersion {
		if err := db.migrateBatches(ctx); err != nil {
			return err
		}
	}
	if version < viewVersion {
		if err := db.addViewColumns(ctx); err != nil {
			return err
		}
	}
	db.logger.Info("store schema migrated", "from", version, "to", schemaVersion)
	return db.setMeta(ctx, metaVersion, schemaVersion)
}

// migrateBatches brings the batches of schema version 1 or 2 to version
// 3. The rows of batches version 1 or 2 never recorded (their numbers are above
// the latest recorded one: meta's offset, or the largest batch of table
// batches) are deleted, as those versions did at Open; the rows of
// recorded ones stay visible, since the rows a version-3 reader hides are
// those of the batches in table loads and dead only. The recorded offset
// and partition positions become the first checkpoint (settled 0), from
// which every later one starts. No step touches rows of version-3
// batches (numbered from newBatchBit up).
func (db *DB) migrateBatches(ctx context.Context) error {
	var last uint64
	if err := db.conn.QueryRow(ctx, `SELECT greatest((SELECT max(value) FROM meta WHERE key = `+quote(metaOffset)+`), (SELECT max(batch) FROM batches))`).Scan(&last); err != nil {
		return fmt.Errorf("read the latest recorded batch: %w", err)
	}
	cond := fmt.Sprintf("batch > %d AND batch < %d", last, uint64(newBatchBit))
	var n uint64
	if err := db.conn.QueryRow(ctx, `SELECT count() FROM `+db.events+` WHERE `+cond).Scan(&n); err != nil {
		return fmt.Errorf("look for rows of unrecorded batches: %w", err)
	}
	if n > 0 {
		if err := db.mutateEvents(ctx, "DELETE WHERE "+cond); err != nil {
			return fmt.Errorf("delete %d rows of unrecorded batches: %w", n, err)
		}
		db.logger.Warn("rows of an interrupted insert deleted", "rows", n, "batch", last)
	}
	pos, err := db.legacyPositions(ctx)
	if err != nil {
		return err
	}
	off, err := db.meta(ctx, metaOffset)
	if err != nil {
		return err
	}
	if off > 0 {
		pos[offsetPartition] = int64(off)
	}
	if len(pos) > 0 {
		if err := db.writeCheckpoint(ctx, checkpoint{settled: 0, positions: pos}); err != nil {
			return err
		}
	}
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

// legacyPositions returns the partition positions schema version 2
// recorded: for each partition, its position in the latest batch of table
// batches that names it.
func (db *DB) legacyPositions(ctx context.Context) (map[int32]int64, error) {
	rows, err := db.conn.Query(ctx, `SELECT p, argMax(n, batch) FROM batches ARRAY JOIN partitions AS p, nexts AS n GROUP BY p`)
	if err != nil {
		return nil, fmt.Errorf("read partition positions of schema version 2: %w", err)
	}
	defer rows.Close()
	pos := map[int32]int64{}
	for rows.Next() {
		var p int32
		var next int64
		if err := rows.Scan(&p, &next); err != nil {
			return nil, fmt.Errorf("read partition positions of schema version 2: %w", err)
		}
		pos[p] = next
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partition positions of schema version 2: %w", err)
	}
	return pos, nil
}

// Positions returns, per partition, the position to resume it from: the
// furthest next position of the committed batches that nothing can void
// any more (see the package documentation), read from the database, so
// that a writer taking over a partition resumes where its previous owner
// committed (an empty map if none).
func (db *DB) Positions(ctx context.Context) (map[int32]int64, error) {
	pos, err := db.recorded(ctx)
	if err != nil {
		return nil, fmt.Errorf("read partition positions: %w", err)
	}
	delete(pos, offsetPartition)
	db.reported(pos)
	return pos, nil
}

// Offset returns the event-log offset loading should resume from: the
// position Insert recorded, read from the database.
func (db *DB) Offset(ctx context.Context) (uint64, error) {
	pos, err := db.recorded(ctx)
	if err != nil {
		return 0, fmt.Errorf("read offset: %w", err)
	}
	off, ok := pos[offsetPartition]
	if ok {
		db.reported(map[int32]int64{offsetPartition: off})
	}
	return uint64(off), nil
}

// reported notes positions this DB reported: where its caller may start
// its next batches. A partition's expected start only moves back here
// (a caller that has it expects no later start), so that a writer that
// loaded a partition still notices another writer loading it meanwhile.
func (db *DB) reported(pos map[int32]int64) {
	db.smu.Lock()
	defer db.smu.Unlock()
	for p, next := range pos {
		if s, ok := db.starts[p]; !ok || next < s {
			db.starts[p] = next
		}
	}
}

// mutate runs ALTER TABLE table cmd (a DELETE or UPDATE mutation) on
// the coordinator and waits until it has applied every mutation of the
// table (mutateEvents does so for table events on every shard).
func (db *DB) mutate(ctx context.Context, table, cmd string) error {
	return db.mutateOn(ctx, db.conn, table, cmd)
}

// mutateOn runs ALTER TABLE table cmd on the server of conn and waits
// until it has applied every mutation of the table. It polls
// system.mutations rather than using mutations_sync, which ClickHouse
// 18.16 lacks.
func (db *DB) mutateOn(ctx context.Context, conn driver.Conn, table, cmd string) error {
	if err := conn.Exec(ctx, "ALTER TABLE "+table+" "+cmd); err != nil {
		return fmt.Errorf("alter %s: %w", table, err)
	}
	return db.waitMutations(ctx, conn, table)
}

// waitMutations waits until the server of conn has applied every
// mutation of table, or Options.MutationTimeout has passed.
func (db *DB) waitMutations(ctx context.Context, conn driver.Conn, table string) error {
	deadline := time.Now().Add(db.opts.MutationTimeout)
	wait := 5 * time.Millisecond
	for {
		var pending uint64
		if err := conn.QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = `+quote(table)+` AND is_done = 0`).Scan(&pending); err != nil {
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
	if err := db.closeConns(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	db.logger.Info("store closed", "backend", "clickhouse")
	return nil
}

// closeConns closes the coordinator's and the shards' connections.
func (db *DB) closeConns() error {
	errs := []error{db.conn.Close()}
	seen := map[driver.Conn]bool{db.conn: true}
	for _, c := range db.shards {
		if !seen[c] {
			seen[c] = true
			errs = append(errs, c.Close())
		}
	}
	for _, rs := range db.replicas {
		for _, c := range rs {
			if !seen[c] {
				seen[c] = true
				errs = append(errs, c.Close())
			}
		}
	}
	return errors.Join(errs...)
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
