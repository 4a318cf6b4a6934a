package duckdb

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The reach index keeps, beside the database file, one file per UTC day
// partition with the day's impressions in the order ReachSets needs them:
// grouped by user (sorted by user key) and, within a user, in event-time
// order, each with what ReachSets asks of it (its placement, its time,
// whether it is invalid traffic, and the time of the previous copy of its
// impression id, if any). ReachSets then merges the files of its range
// user by user in Go instead of sorting and aggregating the raw events in
// SQL: at 100 M stored events that is seconds instead of minutes. The
// files are derived data, rebuilt from the partitions whenever those
// change (see generations); a missing or out-of-date file is built by the
// query that needs it, and serve builds the ended days' in the background
// (BuildReachIndex).
//
// File layout (integers little-endian; uvarint as encoding/binary):
//
//	anonymous section: uvarint n, uvarint bytes, then the n events
//	  (impressions without a user) in that many bytes
//	user runs, by user key: key [16]byte, uvarint n, uvarint bytes, then
//	  the user's n events in that many bytes
//	footer (at footerOffset):
//	  uvarint placements, then per placement uvarint tenant, campaign,
//	    placement (dictionary ids): an event's placement is an index here
//	  uvarint index entries, then per entry the first 8 bytes of a run's
//	    key and uvarint its offset: every reachIndexStride-th run
//	  uvarint runs, uvarint events
//	trailer (reachTrailerSize bytes): footerOffset uint64, builtSeq
//	  uint64, day int32, CRC-32C of the footer uint32, magic [8]byte
//
// An event is uvarint placement index, uvarint time (milliseconds after
// the previous event of its run, the first after the start of the day), a
// flags byte (reachInvalid, reachHasPrev) and, with reachHasPrev, uvarint
// milliseconds from the previous copy's time to its own.
const (
	reachMagic       = "ADMRIX01"
	reachTrailerSize = 8 + 8 + 4 + 4 + 8
	reachIndexStride = 1024
	reachInvalid     = 1 << 0
	reachHasPrev     = 1 << 1
)

// reachIndexName returns the file name of day's reach index.
func reachIndexName(day int32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format("20060102") + ".rix"
}

// reachPlacement is a placement of a reach index file, by dictionary ids.
type reachPlacement struct{ tenant, campaign, placement uint32 }

// reachIndexEntry is an entry of a file's sparse index: the offset of a
// run and the first 8 bytes of its key, big-endian.
type reachIndexEntry struct {
	prefix uint64
	offset int64
}

// reachFile is an open reach index file, with its footer and trailer.
type reachFile struct {
	f            *os.File
	path         string
	day          int32
	builtSeq     uint64
	footerOffset int64
	placements   []reachPlacement
	index        []reachIndexEntry
	runs, events uint64
}

// openReachFile opens the reach index file at path and reads and checks
// its footer. The caller closes it.
func openReachFile(path string) (rf *reachFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < reachTrailerSize {
		return nil, fmt.Errorf("reach index %s: truncated", path)
	}
	var tr [reachTrailerSize]byte
	if _, err := f.ReadAt(tr[:], size-reachTrailerSize); err != nil {
		return nil, fmt.Errorf("reach index %s: %w", path, err)
	}
	if string(tr[24:]) != reachMagic {
		return nil, fmt.Errorf("reach index %s: not a reach index of this version", path)
	}
	rf = &reachFile{
		f:            f,
		path:         path,
		footerOffset: int64(binary.LittleEndian.Uint64(tr[0:])),
		builtSeq:     binary.LittleEndian.Uint64(tr[8:]),
		day:          int32(binary.LittleEndian.Uint32(tr[16:])),
	}
	sum := binary.LittleEndian.Uint32(tr[20:])
	if rf.footerOffset < 0 || rf.footerOffset > size-reachTrailerSize {
		return nil, fmt.Errorf("reach index %s: bad footer offset", path)
	}
	footer := make([]byte, size-reachTrailerSize-rf.footerOffset)
	if _, err := f.ReadAt(footer, rf.footerOffset); err != nil {
		return nil, fmt.Errorf("reach index %s: %w", path, err)
	}
	if crc32.Checksum(footer, castagnoli) != sum {
		return nil, fmt.Errorf("reach index %s: footer checksum mismatch", path)
	}
	d := decoder{b: footer}
	n := d.uvarint()
	if n > uint64(len(footer)) {
		return nil, fmt.Errorf("reach index %s: bad footer", path)
	}
	rf.placements = make([]reachPlacement, n)
	for i := range rf.placements {
		rf.placements[i] = reachPlacement{uint32(d.uvarint()), uint32(d.uvarint()), uint32(d.uvarint())}
	}
	n = d.uvarint()
	if n > uint64(len(footer)) {
		return nil, fmt.Errorf("reach index %s: bad footer", path)
	}
	rf.index = make([]reachIndexEntry, n)
	for i := range rf.index {
		rf.index[i] = reachIndexEntry{d.uint64be(), int64(d.uvarint())}
	}
	rf.runs, rf.events = d.uvarint(), d.uvarint()
	if d.err != nil || len(d.b) != 0 {
		return nil, fmt.Errorf("reach index %s: bad footer", path)
	}
	return rf, nil
}

// close closes rf's file; rf may be nil.
func (rf *reachFile) close() {
	if rf != nil {
		rf.f.Close()
	}
}

// closeReachFiles closes files.
func closeReachFiles(files []*reachFile) {
	for _, rf := range files {
		rf.close()
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decoder reads the footer's fields; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64be() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.err = errors.New("short footer")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// reachWriter writes a reach index file from its events in file order.
type reachWriter struct {
	f   *os.File
	w   *bufio.Writer
	off int64
	day int32
	rf  reachFile
	buf []byte

	// The run being written: its key, and its events encoded in run.
	key     [16]byte
	inRun   bool
	anon    bool
	run     []byte
	runN    uint64
	lastTS  int64
	lastKey [16]byte
	anonN   uint64
	anonBuf []byte
	anonTS  int64
}

func newReachWriter(f *os.File, day int32, placements []reachPlacement) *reachWriter {
	return &reachWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), day: day, rf: reachFile{day: day, placements: placements}}
}

// add appends an impression: of user key (nil for none), on placement
// pi (an index in the file's placement table), at ts (in the writer's
// day), invalid or not, and back milliseconds after the previous copy of
// its impression id (hasPrev false if none). Events come anonymous first,
// then by user key, and by time within a user.
func (w *reachWriter) add(key []byte, pi uint64, ts int64, invalid bool, back int64, hasPrev bool) error {
	dayStart := int64(w.day) * msPerDay
	if ts < dayStart || ts >= dayStart+msPerDay {
		return fmt.Errorf("event time %d outside day %d", ts, w.day)
	}
	if pi >= uint64(len(w.rf.placements)) {
		return fmt.Errorf("placement %d of %d", pi, len(w.rf.placements))
	}
	var flags byte
	if invalid {
		flags |= reachInvalid
	}
	if hasPrev {
		if back < 0 {
			return fmt.Errorf("previous copy %d ms after the event", -back)
		}
		flags |= reachHasPrev
	}
	if key == nil {
		if w.inRun || w.rf.runs > 0 {
			return errors.New("an impression without a user after the users'")
		}
		if w.anonN == 0 {
			w.anonTS = dayStart
		}
		if ts < w.anonTS {
			return errors.New("impressions without a user out of time order")
		}
		w.anonBuf = appendReachEvent(w.anonBuf, pi, ts-w.anonTS, flags, back)
		w.anonTS = ts
		w.anonN++
		return nil
	}
	if len(key) != 16 {
		return fmt.Errorf("user key of %d bytes", len(key))
	}
	if !w.inRun || string(key) != string(w.key[:]) {
		if err := w.endRun(); err != nil {
			return err
		}
		if w.rf.runs > 0 && string(key) <= string(w.lastKey[:]) {
			return errors.New("user keys out of order")
		}
		copy(w.key[:], key)
		w.inRun, w.lastTS = true, dayStart
	}
	if ts < w.lastTS {
		return errors.New("a user's impressions out of time order")
	}
	w.run = appendReachEvent(w.run, pi, ts-w.lastTS, flags, back)
	w.lastTS = ts
	w.runN++
	return nil
}

func appendReachEvent(b []byte, pi uint64, delta int64, flags byte, back int64) []byte {
	b = binary.AppendUvarint(b, pi)
	b = binary.AppendUvarint(b, uint64(delta))
	b = append(b, flags)
	if flags&reachHasPrev != 0 {
		b = binary.AppendUvarint(b, uint64(back))
	}
	return b
}

// writeAnon writes the anonymous section; it runs before the first run.
func (w *reachWriter) writeAnon() error {
	if w.anon {
		return nil
	}
	w.anon = true
	w.buf = binary.AppendUvarint(w.buf[:0], w.anonN)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(w.anonBuf)))
	if err := w.write(w.buf); err != nil {
		return err
	}
	w.rf.events += w.anonN
	err := w.write(w.anonBuf)
	w.anonBuf = nil
	return err
}

func (w *reachWriter) endRun() error {
	if err := w.writeAnon(); err != nil {
		return err
	}
	if !w.inRun {
		return nil
	}
	if w.rf.runs%reachIndexStride == 0 {
		w.rf.index = append(w.rf.index, reachIndexEntry{binary.BigEndian.Uint64(w.key[:8]), w.off})
	}
	w.buf = append(w.buf[:0], w.key[:]...)
	w.buf = binary.AppendUvarint(w.buf, w.runN)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(w.run)))
	if err := w.write(w.buf); err != nil {
		return err
	}
	if err := w.write(w.run); err != nil {
		return err
	}
	w.rf.runs++
	w.rf.events += w.runN
	w.lastKey = w.key
	w.run, w.runN, w.inRun = w.run[:0], 0, false
	return nil
}

func (w *reachWriter) write(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	return err
}

// finish writes the footer and trailer, with builtSeq, and flushes.
func (w *reachWriter) finish(builtSeq uint64) error {
	if err := w.endRun(); err != nil {
		return err
	}
	footerOffset := w.off
	b := binary.AppendUvarint(nil, uint64(len(w.rf.placements)))
	for _, p := range w.rf.placements {
		b = binary.AppendUvarint(b, uint64(p.tenant))
		b = binary.AppendUvarint(b, uint64(p.campaign))
		b = binary.AppendUvarint(b, uint64(p.placement))
	}
	b = binary.AppendUvarint(b, uint64(len(w.rf.index)))
	for _, e := range w.rf.index {
		b = binary.BigEndian.AppendUint64(b, e.prefix)
		b = binary.AppendUvarint(b, uint64(e.offset))
	}
	b = binary.AppendUvarint(b, w.rf.runs)
	b = binary.AppendUvarint(b, w.rf.events)
	sum := crc32.Checksum(b, castagnoli)
	b = binary.LittleEndian.AppendUint64(b, uint64(footerOffset))
	b = binary.LittleEndian.AppendUint64(b, builtSeq)
	b = binary.LittleEndian.AppendUint32(b, uint32(w.day))
	b = binary.LittleEndian.AppendUint32(b, sum)
	b = append(b, reachMagic...)
	if err := w.write(b); err != nil {
		return err
	}
	return w.w.Flush()
}

// generations reads, in tx's snapshot, the generations of the days (see
// touch): gen[d] is the change sequence number of the latest change to
// day d's events, dep[d] of the latest change that can alter a later
// day's reach index (a new or deleted copy of an impression id); seq is
// the latest of them, which every change committed after the snapshot
// exceeds.
func generations(ctx context.Context, tx *sql.Tx) (seq uint64, gen, dep map[int32]uint64, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT (day - DATE '1970-01-01')::INTEGER, gen, dep FROM generations`)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read generations: %w", err)
	}
	defer rows.Close()
	gen, dep = map[int32]uint64{}, map[int32]uint64{}
	for rows.Next() {
		var d int32
		var g, p uint64
		if err := rows.Scan(&d, &g, &p); err != nil {
			return 0, nil, nil, fmt.Errorf("read generations: %w", err)
		}
		gen[d], dep[d] = g, p
		seq = max(seq, g)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, nil, fmt.Errorf("read generations: %w", err)
	}
	return seq, gen, dep, nil
}

// touch records, in tx, a change to the events of days and deps: it
// takes the next change sequence number and sets the days' gen to it, and
// the dep of deps too (changes that added or removed copies of impression
// ids, so that the reach index of later days, whose dedup looks back at
// earlier days, is out of date as well). Every statement that changes a
// partition's rows must be followed by a touch of its day in the same
// transaction; Cluster, which only reorders them, needs none. The caller
// holds wmu. The sequence lives in memory (genSeq): it starts above every
// generation and every index file's when the store opens, and a number
// taken by a transaction that rolls back is simply never seen.
func (db *DB) touch(ctx context.Context, tx *sql.Tx, days, deps []int32) error {
	if len(days)+len(deps) == 0 {
		return nil
	}
	db.genSeq++
	g := db.genSeq
	var b strings.Builder
	b.WriteString("INSERT INTO generations VALUES ")
	for i, d := range append(days, deps...) {
		if i > 0 {
			b.WriteString(", ")
		}
		p := uint64(0)
		if i >= len(days) {
			p = g
		}
		fmt.Fprintf(&b, "(DATE '1970-01-01' + %d, %d, %d)", d, g, p)
	}
	b.WriteString(" ON CONFLICT (day) DO UPDATE SET gen = excluded.gen, dep = greatest(generations.dep, excluded.dep)")
	if _, err := tx.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("record the change of %d partitions: %w", len(days)+len(deps), err)
	}
	return nil
}

// reachFresh reports whether rf, day d's reach index built at sequence
// rf.builtSeq, is up to date in a snapshot whose generations are gen and
// dep: no change to d since, and no change to an earlier day that could
// alter its dedup.
func reachFresh(rf *reachFile, d int32, gen, dep map[int32]uint64) bool {
	if rf == nil || rf.day != d || gen[d] > rf.builtSeq {
		return false
	}
	for e, g := range dep {
		if e < d && g > rf.builtSeq {
			return false
		}
	}
	return true
}

// buildReachFile writes day d's reach index from tx's snapshot, whose
// partitions up to d are days (in order) and whose change sequence is seq,
// into the index directory, replacing any older one, and returns it.
func (db *DB) buildReachFile(ctx context.Context, tx *sql.Tx, d int32, days []int32, seq uint64) (*reachFile, error) {
	start := time.Now()
	path := filepath.Join(db.reachDir, reachIndexName(d))
	tmp, err := os.CreateTemp(db.reachDir, reachIndexName(d)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename anyway
	defer tmp.Close()
	var places []reachPlacement
	prows, err := tx.QueryContext(ctx, reachPlacementsSQL(d))
	if err != nil {
		return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
	}
	for prows.Next() {
		var p reachPlacement
		if err := prows.Scan(&p.tenant, &p.campaign, &p.placement); err != nil {
			prows.Close()
			return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
		}
		places = append(places, p)
	}
	if err := errors.Join(prows.Err(), prows.Close()); err != nil {
		return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
	}
	w := newReachWriter(tmp, d, places)
	rows, err := tx.QueryContext(ctx, reachBuildSQL(d, days))
	if err != nil {
		return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
	}
	defer rows.Close()
	var (
		key  []byte
		pi   uint32
		tf   int64 // time in the day × 2 + invalid
		back sql.NullInt64
	)
	dayStart := int64(d) * msPerDay
	for rows.Next() {
		if err := rows.Scan(&key, &pi, &tf, &back); err != nil {
			return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
		}
		if err := w.add(key, uint64(pi), dayStart+tf>>1, tf&1 != 0, back.Int64, back.Valid); err != nil {
			return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("build reach index of %s: %w", partitionName(d), err)
	}
	if err := w.finish(seq); err != nil {
		return nil, fmt.Errorf("write reach index of %s: %w", partitionName(d), err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("write reach index of %s: %w", partitionName(d), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("write reach index of %s: %w", partitionName(d), err)
	}
	db.reachBuilds.Add(1)
	db.logger.Debug("reach index built", "day", dateOfDay(int64(d)).String(), "impressions", w.rf.events, "users", w.rf.runs, "elapsed", time.Since(start).Round(time.Millisecond))
	return openReachFile(path)
}

// reachBuildSQL returns the statement whose rows are day d's reach index
// events in file order: (user key, placement index (see
// reachPlacementsSQL), milliseconds into the day × 2 + 1 if invalid,
// milliseconds since the previous copy of the impression id or NULL),
// four columns because reading each value into Go costs more than
// computing it in SQL. The
// previous copy is looked for in every partition up to d (days, in
// order), among the rows whose impression id some row of d has (one
// semi-join on the id over the earlier partitions: a fifth of the time of
// hashing the whole key of every earlier row), ordered as the reports' dedup orders them (time,
// then receive time; ties in d by rowid), within the full key (tenant,
// campaign, placement, impression id).
func reachBuildSQL(d int32, days []int32) string {
	part := partitionName(d)
	imp := fmt.Sprintf("kind = %d AND impression IS NOT NULL", sqlImpression)
	var earlier []int32
	for _, e := range days {
		if e < d {
			earlier = append(earlier, e)
		}
	}
	// early: the rows of earlier days with an impression id of d, in one
	// scan; multi: the ids of d that another row, in d or earlier, has.
	with := "WITH "
	multi := fmt.Sprintf("SELECT impression FROM %s WHERE %s GROUP BY impression HAVING count(*) > 1", part, imp)
	cand := fmt.Sprintf("SELECT 1 AS mine, tenant, campaign, placement, impression, ts, received, rowid AS rid FROM %s WHERE %s AND impression IN (SELECT impression FROM multi)", part, imp)
	if len(earlier) > 0 {
		with = fmt.Sprintf("WITH early AS MATERIALIZED (SELECT * FROM (%s) WHERE impression IN (SELECT impression FROM %s WHERE %s)),\n",
			unionAll(earlier, "tenant, campaign, placement, impression, ts, received", imp, false), part, imp)
		multi += "\n\tUNION SELECT impression FROM early"
		cand += "\n\tUNION ALL SELECT 0, tenant, campaign, placement, impression, ts, received, 0 FROM early"
	}
	return fmt.Sprintf(`%[1]smulti AS MATERIALIZED (%[2]s),
prev AS (
	SELECT rid, lag(ts) OVER (PARTITION BY tenant, campaign, placement, impression ORDER BY ts, received, mine, rid) AS prev, mine
	FROM (%[3]s)
	QUALIFY mine = 1
)
SELECT e.user_key, pl.pi, (e.ts - %[6]d) * 2 + (e.ivt <> 0)::BIGINT, e.ts - p.prev
FROM %[4]s e JOIN (SELECT *, (row_number() OVER (ORDER BY tenant, campaign, placement) - 1)::UINTEGER AS pi FROM (%[7]s)) pl USING (tenant, campaign, placement)
LEFT JOIN prev p ON p.rid = e.rowid
WHERE e.kind = %[5]d
ORDER BY e.user_key NULLS FIRST, e.ts, e.received`, with, multi, cand, part, sqlImpression, int64(d)*msPerDay, reachPlacementsSQL(d))
}

// reachPlacementsSQL returns the statement whose rows are the placements
// (tenant, campaign, placement) of day d's impressions, in order: the
// placement table of its reach index, which reachBuildSQL numbers the
// same way.
func reachPlacementsSQL(d int32) string {
	return fmt.Sprintf("SELECT DISTINCT tenant, campaign, placement FROM %s WHERE kind = %d ORDER BY tenant, campaign, placement", partitionName(d), sqlImpression)
}

// removeTempReachDir removes the reach index directory of an in-memory
// store.
func (db *DB) removeTempReachDir() error {
	if !db.reachTemp {
		return nil
	}
	if err := os.RemoveAll(db.reachDir); err != nil {
		return fmt.Errorf("remove the reach index: %w", err)
	}
	return nil
}

// removeReachFiles removes the reach index files of days (all when days
// is nil): their events changed in a way that must not outlive the
// change on disk (a deletion), not only made them out of date.
func (db *DB) removeReachFiles(days []int32) error {
	var errs []error
	if days == nil {
		names, err := filepath.Glob(filepath.Join(db.reachDir, "*.rix"))
		if err != nil {
			return fmt.Errorf("list reach index files: %w", err)
		}
		for _, n := range names {
			if err := os.Remove(n); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	for _, d := range days {
		if err := os.Remove(filepath.Join(db.reachDir, reachIndexName(d))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove reach index files: %w", err)
	}
	return nil
}

// sweepReachIndex removes, when the store opens, every file of the reach
// index directory that is not an up-to-date index of an existing
// partition: left over from a crash between a deletion's commit and the
// removal of its files, or from an interrupted build. It starts the
// change sequence (genSeq) at the latest generation or kept file's.
func (db *DB) sweepReachIndex(ctx context.Context) error {
	entries, err := os.ReadDir(db.reachDir)
	if err != nil {
		return fmt.Errorf("read the reach index directory: %w", err)
	}
	return db.read(ctx, func(tx *sql.Tx) error {
		seq, gen, dep, err := generations(ctx, tx)
		if err != nil {
			return err
		}
		db.genSeq = seq
		for _, e := range entries {
			path := filepath.Join(db.reachDir, e.Name())
			rf, err := openReachFile(path)
			keep := err == nil && db.parts[rf.day] && reachIndexName(rf.day) == e.Name() && reachFresh(rf, rf.day, gen, dep)
			rf.close()
			if keep {
				db.genSeq = max(db.genSeq, rf.builtSeq)
				continue
			}
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove stale reach index file: %w", err)
			}
		}
		return nil
	})
}

// reachFiles returns the up-to-date reach index files of the partitions
// in tx's snapshot from day first to last, in order, building those that
// are missing or out of date; built reports how many it built.
func (db *DB) reachFiles(ctx context.Context, tx *sql.Tx, first, last int32) (files []*reachFile, built int, err error) {
	defer func() {
		if err != nil {
			closeReachFiles(files)
			files = nil
		}
	}()
	days, err := partitionDays(ctx, tx, 0, last)
	if err != nil {
		return nil, 0, err
	}
	seq, gen, dep, err := generations(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	for _, d := range days {
		if d < first {
			continue
		}
		path := filepath.Join(db.reachDir, reachIndexName(d))
		rf, err := openReachFile(path)
		if err == nil && reachFresh(rf, d, gen, dep) {
			files = append(files, rf)
			continue
		}
		rf.close()
		db.rmu.Lock()
		// Another query may have built it meanwhile.
		if rf, err = openReachFile(path); err != nil || !reachFresh(rf, d, gen, dep) {
			rf.close()
			rf, err = db.buildReachFile(ctx, tx, d, days, seq)
			built++
		}
		db.rmu.Unlock()
		if err != nil {
			return files, built, err
		}
		files = append(files, rf)
	}
	return files, built, nil
}

// BuildReachIndex builds the missing or out-of-date reach index files of
// the days that ended before before (as serve does in the background, so
// that ReachSets finds them ready), one day per read transaction, and
// returns how many it built.
func (db *DB) BuildReachIndex(ctx context.Context, before time.Time) (int, error) {
	last := int32(floorDiv(before.UnixMilli(), msPerDay)) - 1
	var days []int32
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		days, err = partitionDays(ctx, tx, 0, last)
		return err
	})
	built := 0
	for _, d := range days {
		if err != nil {
			break
		}
		err = db.read(ctx, func(tx *sql.Tx) error {
			files, n, err := db.reachFiles(ctx, tx, d, d)
			built += n
			closeReachFiles(files)
			return err
		})
	}
	if err != nil {
		return built, fmt.Errorf("build the reach index: %w", err)
	}
	return built, nil
}
