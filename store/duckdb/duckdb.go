package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	duck "github.com/duckdb/duckdb-go/v2"
)

var _ store.Store = (*DB)(nil)

// Options tune a DB. The zero value gives the defaults.
type Options struct {
	// MemoryLimit caps the memory DuckDB uses, in DuckDB's notation
	// ("1GB", the default): larger sorts and aggregations spill to a
	// temporary directory beside the database file.
	MemoryLimit string
	// Threads is the number of DuckDB worker threads (runtime.NumCPU() when
	// zero).
	Threads int
	// CheckpointThreshold is the write-ahead log size that triggers a
	// checkpoint ("256MB" when empty). A larger one makes inserts cheaper
	// and reopening after a crash slower.
	CheckpointThreshold string
	// MaxReaders is the number of queries that may run at once (4 when
	// zero); more wait for a free connection.
	MaxReaders int
	// ClusterMinRows is the number of rows a day partition needs before
	// Cluster rewrites it (two row groups, 245 760, when zero: a smaller
	// one has nothing a scan could skip).
	ClusterMinRows int64
}

// DefaultOptions returns the options used for zero fields.
func DefaultOptions() Options {
	return Options{MemoryLimit: "1GB", Threads: runtime.NumCPU(), CheckpointThreshold: "256MB", MaxReaders: 4, ClusterMinRows: clusterMinRows}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MemoryLimit == "" {
		o.MemoryLimit = d.MemoryLimit
	}
	if o.Threads <= 0 {
		o.Threads = d.Threads
	}
	if o.CheckpointThreshold == "" {
		o.CheckpointThreshold = d.CheckpointThreshold
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = d.MaxReaders
	}
	if o.ClusterMinRows <= 0 {
		o.ClusterMinRows = d.ClusterMinRows
	}
	return o
}

// schemaVersion is the version of the tables below; Open refuses a file
// with a later one and migrates a file with an earlier one (see migrate).
// Version 2 added the invalid-traffic verdict: column ivt of the
// partitions and the invalid and mixed columns of daily. Version 3 added
// the viewability, video, conversion and click-id columns of the
// partitions (v3EventColumns). Older programs cannot write those tables,
// so they must refuse such a file. Version 4 added table social_posts
// (socialSchema, which Open creates): older programs would leave an
// author's social records behind when deleting a user's or a tenant's
// data, so they must refuse it too. Version 5 added table generations (see
// touch), which every change to a partition's rows must advance: an older
// program would change rows without it and leave
// the reach index out of date unnoticed, so it must refuse the file.
const schemaVersion = 5

// schema creates the tables other than the day partitions of raw events
// (see eventColumns). Open runs it on every file, so a row or table added
// here later (as retained_before was) appears in older files at their next
// opening without a new schema version, as long as older programs can
// ignore it. A new file gets schema_version = schemaVersion; an older
// file keeps its version until migrate has brought it up to date.
//
// meta holds schema_version; offset, the event-log offset; and
// retained_before, the latest DeleteBefore cut in Unix milliseconds (0 for
// none), before which RefreshRollups leaves days alone.
//
// positions holds, per partition of a partitioned source (Kafka), the
// position InsertFrom recorded to resume it from. It was added without a
// new schema version: older programs ignore it (they load with Insert,
// whose offset it does not touch), and Open creates it in older files.
//
// clustered holds, per day partition that Cluster has rewritten in
// (tenant, campaign, ts) order, the rows it held then; rows appended since
// are the partition's unclustered tail. It was added without a new schema
// version: older programs ignore it (a partition they drop leaves a row
// that only delays its day's next clustering should the day come back).
//
// generations holds, per day partition, the change sequence numbers (see
// touch) of the latest change to its rows and of the latest that
// added or removed copies of an impression id (see touch); the reach
// index compares them with those it was built at. A day with no row has
// not changed since version 5.
//
// daily holds, per placement and local day, the counts of valid traffic
// (impressions … anon_clicks, the columns of version 1, whose rows then
// counted every event: nothing was flagged), of invalid traffic
// (invalid_*), and mixed_uv and mixed_click_uv, the users counted in both
// uv and invalid_uv (click_uv and invalid_click_uv): the users of all
// traffic are uv + invalid_uv - mixed_uv. Each new column is 0 for a
// version-1 row, which is exact for it.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   VARCHAR PRIMARY KEY,
	value UBIGINT NOT NULL
);
INSERT INTO meta VALUES ('schema_version', 5), ('offset', 0), ('retained_before', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS strs (
	id UINTEGER PRIMARY KEY,
	s  VARCHAR NOT NULL
);
INSERT INTO strs VALUES (0, '') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS partitions (
	day  DATE PRIMARY KEY,
	name VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
	partition INTEGER PRIMARY KEY,
	next      BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS clustered (
	day  DATE PRIMARY KEY,
	rows BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS generations (
	day DATE PRIMARY KEY,
	gen UBIGINT NOT NULL,
	dep UBIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS daily (
	tenant                   UINTEGER NOT NULL,
	campaign                 UINTEGER NOT NULL,
	placement                UINTEGER NOT NULL,
	day                      DATE NOT NULL,
	impressions              BIGINT NOT NULL,
	clicks                   BIGINT NOT NULL,
	uv                       BIGINT NOT NULL,
	click_uv                 BIGINT NOT NULL,
	anon_impressions         BIGINT NOT NULL,
	anon_clicks              BIGINT NOT NULL,
	invalid_impressions      BIGINT NOT NULL DEFAULT 0,
	invalid_clicks           BIGINT NOT NULL DEFAULT 0,
	invalid_uv               BIGINT NOT NULL DEFAULT 0,
	invalid_click_uv         BIGINT NOT NULL DEFAULT 0,
	invalid_anon_impressions BIGINT NOT NULL DEFAULT 0,
	invalid_anon_clicks      BIGINT NOT NULL DEFAULT 0,
	mixed_uv                 BIGINT NOT NULL DEFAULT 0,
	mixed_click_uv           BIGINT NOT NULL DEFAULT 0
);
`

// dailyV2Columns are the columns of daily that schema version 2 added, in
// table order.
var dailyV2Columns = []string{"invalid_impressions", "invalid_clicks", "invalid_uv", "invalid_click_uv",
	"invalid_anon_impressions", "invalid_anon_clicks", "mixed_uv", "mixed_click_uv"}

// DB is the DuckDB analytical store. It is safe for concurrent use: one
// writer at a time (Insert, RefreshRollups and the deletions take turns),
// and up to Options.MaxReaders queries beside it, each on its own snapshot.
type DB struct {
	logger *slog.Logger
	opts   Options
	sqldb  *sql.DB // owns the connector

	// jmu serialises JudgeBehaviour (whose reading and writing phases
	// must not interleave with another judgement's).
	jmu sync.Mutex
	// wmu serialises the writers; the fields below it are theirs.
	wmu    sync.Mutex
	wconn  *sql.Conn
	parts  map[int32]bool // committed partitions, by UTC day number
	closed bool
	// retainedBefore is the latest DeleteBefore cut, Unix milliseconds:
	// raw events before it are gone, so rollups of days that begin
	// before it are no longer recomputed.
	retainedBefore int64
	ins            inserter
	// afterAppend, if set, runs inside Insert's transaction after the
	// events are appended and before the offset is recorded: tests inject
	// faults with it.
	afterAppend func() error
	// beforeJudgeWrite, if set, runs in JudgeBehaviour between judging
	// and writing, before the writer is taken (tests only).
	beforeJudgeWrite func()

	offset atomic.Uint64 // committed event-log offset
	// positions is the committed partition positions (InsertFrom),
	// never nil; replaced whole, never changed in place.
	positions atomic.Pointer[map[int32]int64]
	dict      *dict
	// materializeAbove is the partition count above which queries
	// materialize their events first; tests change it.
	materializeAbove int
	// streamAbove is the row count above which reports and frequencies
	// stream their events (see scope.streamAbove); tests change it.
	streamAbove int64
	// clusterMinRows and clusterMinTail are Cluster's thresholds: the
	// rows a partition needs to be clustered the first time, and the
	// rows appended since that make it worth clustering again (with
	// clusterTailShare); tests lower them.
	clusterMinRows, clusterMinTail int64

	// reachDir is the directory of the reach index (see reachindex.go):
	// beside the database file, or a temporary one (reachTemp) for an
	// in-memory store. rmu serialises the building of its files.
	reachDir  string
	reachTemp bool
	rmu       sync.Mutex
	// reachBuilds counts the reach index files built.
	reachBuilds atomic.Int64
	// genSeq is the latest change sequence number taken (see touch);
	// guarded by wmu once the store is open.
	genSeq uint64
	// noReachIndex makes ReachSets run reachSetsSQL over the raw events
	// instead of reading the reach index (tests compare the two).
	noReachIndex bool
}

// Open opens (creating if needed) the store in the DuckDB file at path, or
// an in-memory store when path is "" or ":memory:". A nil logger discards.
func Open(path string, opts Options, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts = opts.withDefaults()
	if path == ":memory:" {
		path = ""
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store: path %q may not contain ? or #", path)
	}
	connector, err := duck.NewConnector(path, nil)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db := &DB{
		logger: logger,
		opts:   opts,
		sqldb:  sql.OpenDB(connector),
		parts:  map[int32]bool{},
		dict:   newDict(),

		materializeAbove: materializeAbove,
		streamAbove:      streamAbove,
		clusterMinRows:   opts.ClusterMinRows,
		clusterMinTail:   rowGroupRows,
	}
	db.sqldb.SetMaxOpenConns(opts.MaxReaders + 1) // + the writer's
	db.sqldb.SetMaxIdleConns(opts.MaxReaders + 1)
	if path == "" {
		db.reachDir, err = os.MkdirTemp("", "admeter-reach-")
		db.reachTemp = true
	} else {
		db.reachDir = path + ".reach"
		err = os.MkdirAll(db.reachDir, 0o700)
	}
	if err != nil {
		db.sqldb.Close()
		return nil, fmt.Errorf("open store: create the reach index directory: %w", err)
	}
	if err := db.init(context.Background()); err != nil {
		db.sqldb.Close()
		db.removeTempReachDir()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.sweepReachIndex(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	logger.Info("store opened", "path", path, "offset", db.offset.Load(), "source_partitions", len(*db.positions.Load()), "partitions", len(db.parts), "strings", len(db.dict.strs))
	return db, nil
}

func (db *DB) init(ctx context.Context) error {
	o := db.opts
	for _, s := range []string{
		fmt.Sprintf("SET GLOBAL memory_limit = %s", quote(o.MemoryLimit)),
		fmt.Sprintf("SET GLOBAL threads = %d", o.Threads),
		fmt.Sprintf("SET GLOBAL checkpoint_threshold = %s", quote(o.CheckpointThreshold)),
		// Results are ordered explicitly where order matters; this lets
		// DuckDB insert and aggregate in parallel without keeping order.
		"SET GLOBAL preserve_insertion_order = false",
	} {
		if _, err := db.sqldb.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("configure database: %w", err)
		}
	}
	conn, err := db.sqldb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect writer: %w", err)
	}
	db.wconn = conn
	if err := db.registerBatchFunction(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, schema+socialSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var version, offset uint64
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("store schema version %d is newer than this program's %d: open it with a newer admeter", version, schemaVersion)
	}
	if version < schemaVersion {
		if err := db.migrate(ctx, version); err != nil {
			return fmt.Errorf("migrate store from schema version %d to %d: %w", version, schemaVersion, err)
		}
	}
	if err := db.initSocial(ctx); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'offset'`).Scan(&offset); err != nil {
		return fmt.Errorf("read offset: %w", err)
	}
	db.offset.Store(offset)
	pos, err := readPositions(ctx, conn)
	if err != nil {
		return err
	}
	db.positions.Store(&pos)
	var retained uint64
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'retained_before'`).Scan(&retained); err != nil {
		return fmt.Errorf("read retention cut: %w", err)
	}
	db.retainedBefore = int64(retained)

	rows, err := conn.QueryContext(ctx, `SELECT id, s FROM strs ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load strings: %w", err)
	}
	for rows.Next() {
		var id uint32
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			rows.Close()
			return fmt.Errorf("load strings: %w", err)
		}
		db.dict.load(id, s)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("load strings: %w", err)
	}

	days, err := partitionDays(ctx, conn)
	if err != nil {
		return err
	}
	for _, d := range days {
		db.parts[d] = true
	}
	return nil
}

// migrate brings a file of schema version from up to schemaVersion, in
// one transaction on the writer connection, and records the new version
// in it: an interrupted migration leaves the file as it was, and a
// finished one never runs again. The steps of each version after from run
// in order.
//
// From 1 to 2: every partition listed in the catalog gets column ivt (0,
// valid: version 1 recorded no verdicts), and daily gets dailyV2Columns
// (0, exact for rows that counted no invalid traffic). From 2 to 3: every
// partition gets v3EventColumns (0 or NULL: the events stored before had
// none of those fields). From 3 to 4 nothing changes but the version:
// Open has created social_posts; nor from 4 to 5, whose generations Open
// has created empty (no day has changed since). DuckDB fills the default into every
// existing row, so the migration takes a moment on a large file.
func (db *DB) migrate(ctx context.Context, from uint64) error {
	if from < 1 || from >= schemaVersion {
		return fmt.Errorf("no migration from schema version %d", from)
	}
	start := time.Now()
	var parts int
	err := db.write(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil {
			return err
		}
		parts = len(days)
		var added []string // columns each partition gets, in order
		if from < 2 {
			added = append(added, "ivt UINTEGER DEFAULT 0")
			for _, c := range dailyV2Columns {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE daily ADD COLUMN IF NOT EXISTS `+c+` BIGINT DEFAULT 0`); err != nil {
					return fmt.Errorf("add column %s to daily: %w", c, err)
				}
			}
		}
		if from < 3 {
			added = append(added, v3EventColumns...)
		}
		for _, d := range days {
			for _, c := range added {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE `+partitionName(d)+` ADD COLUMN IF NOT EXISTS `+c); err != nil {
					return fmt.Errorf("add column %s to %s: %w", c, partitionName(d), err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'schema_version'`, schemaVersion); err != nil {
			return fmt.Errorf("record schema version: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.logger.Info("store migrated", "from", from, "to", schemaVersion, "partitions", parts, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// readPositions returns the partition positions recorded in table
// positions.
func readPositions(ctx context.Context, conn *sql.Conn) (map[int32]int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT partition, next FROM positions`)
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

// Offset returns the event-log offset loading should resume from.
func (db *DB) Offset(ctx context.Context) (uint64, error) {
	return db.offset.Load(), nil
}

// Close checkpoints the database file and closes it. Calling it again
// does nothing.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	var errs []error
	if _, err := db.wconn.ExecContext(context.Background(), "CHECKPOINT"); err != nil {
		errs = append(errs, fmt.Errorf("checkpoint: %w", err))
	}
	if err := db.wconn.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close writer: %w", err))
	}
	if err := db.sqldb.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	if err := db.removeTempReachDir(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	db.logger.Info("store closed")
	return nil
}

// errClosed is returned by writers after Close.
var errClosed = errors.New("store is closed")

// write runs fn in a transaction on the writer connection, holding wmu.
// The transaction is begun without ctx's cancellation: database/sql
// discards the connection of a transaction whose context ends, and the
// writer connection must outlive any one caller (Close checkpoints through
// it). The statements fn runs take ctx, so cancelling still interrupts
// them, and the transaction is then rolled back.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.wconn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			db.logger.Error("rollback failed", "err", rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// read runs fn in a read transaction, so that every statement in it sees
// the same snapshot (the partition list and the events it names). As in
// write, the transaction is begun without ctx's cancellation, so that it
// ends (synchronously, in the deferred Rollback) before read returns:
// database/sql would otherwise roll it back later, from another goroutine,
// and a Close right after a cancelled query could find it still open and
// fail to checkpoint.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sqldb.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// quote returns s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// epochDay returns the day number (days since 1970-01-01) of d.
func epochDay(d store.Date) int32 { return int32(d.In(time.UTC).Unix() / 86400) }

// dateOfDay returns the date of day number n.
func dateOfDay(n int64) store.Date { return store.DateOf(time.Unix(n*86400, 0).UTC()) }

// sortedDays returns the keys of set in order.
func sortedDays(set map[int32]bool) []int32 {
	days := make([]int32, 0, len(set))
	for d := range set {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days
}

// invalid returns an EINVALID error.
func invalid(format string, args ...any) error {
	return admeter.Errorf(admeter.EINVALID, format, args...)
}
