package clickhouse

// Loading batches exactly once with several writers: the rows of table
// loads, what they mean, the checks a writer makes around its commit, the
// resolver of overlapping batches and the clean-up. The package
// documentation explains the design; this file is its code.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/admeter/admeter"
)

// States of a row of loads. A batch has one intent row, then at most one
// done row (its commit) from its writer, and any number of void rows. A
// writer whose intent got the number of another's withdraws it.
const (
	stateIntent    = 1
	stateDone      = 2
	stateVoid      = 3
	stateWithdrawn = 4
)

// Batch numbers of schema version 3: newBatchBit, then the server's time
// of the intent row in Unix seconds (32 bits), then a nonce (31 random
// bits). The server computes the number as it writes the intent row, so
// that numbers grow with the time of their intents: a query can then
// tell a batch begun after it looked (see view). The batches of versions
// 1 and 2 are numbered below newBatchBit.
const (
	newBatchBit = 1 << 63
	nonceBits   = 31
	nonceMask   = 1<<nonceBits - 1
)

// firstBatchAt returns the lowest batch number of intents at server time t.
func firstBatchAt(t uint32) uint64 { return newBatchBit | uint64(t)<<nonceBits }

// nonces returns the nonces of a writer's batch numbers: consecutive from
// a random start, so that a writer never repeats one within 2^31 batches
// and two writers rarely share one (see writeIntent).
func nonces() func() uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32())
	return func() uint32 { return n.Add(1) & nonceMask }
}

// offsetPartition is the partition under which Insert records its offset:
// InsertFrom's partitions are not negative.
const offsetPartition int32 = -1

// loadHooks run between the steps of a load, with its batch number (tests
// only: a hook's error ends the load at once, as a crash would).
type loadHooks struct {
	afterIntent, afterSend, beforeDone, afterDone func(batch uint64) error
}

func runHook(h func(uint64) error, batch uint64) error {
	if h == nil {
		return nil
	}
	return h(batch)
}

// span is the range of positions [from, next) a batch loads of one
// partition.
type span struct{ from, next int64 }

func (s span) overlaps(t span) bool { return s.from < t.next && t.from < s.next }

// batchState is what the rows of loads say about one batch.
type batchState struct {
	id       uint64
	writer   uint64 // the writer of the intent row
	intentAt uint32 // server time of the intent row, Unix seconds
	ttl      uint32 // the writer's IntentTTL, seconds
	intent   bool   // the intent row is read
	spans    map[int32]span
	done     bool   // a done row is read
	doneAt   uint32 // server time of the done row
	void     bool   // a void row is read
}

// checkpoint is the positions of every batch whose intent is before
// settled (a server time), as the clean-up recorded them.
type checkpoint struct {
	settled   uint32
	positions map[int32]int64
}

// window is the batches whose intents are at or after a checkpoint, as
// read at one instant (now, the server's time then).
type window struct {
	now     uint32
	base    checkpoint
	batches map[uint64]*batchState
	byPart  map[int32][]*batchState
}

// validDone reports whether b has a done row stamped within its TTL: only
// such a row commits it.
func (w *window) validDone(b *batchState) bool { return b.done && b.doneAt <= b.intentAt+b.ttl }

// committed reports whether b's rows count, unless a rival beats it.
func (w *window) committed(b *batchState) bool { return b.intent && !b.void && w.validDone(b) }

// undecided reports whether b may still commit: its intent is read, it
// has no done or void row, and twice its TTL has not passed (its writer
// cannot commit after one TTL; the second covers the time a done row
// takes to be stamped and become visible).
func (w *window) undecided(b *batchState) bool {
	return b.intent && !b.void && !b.done && w.now <= b.intentAt+2*b.ttl
}

// higher reports whether a wins over b when both commit and overlap: the
// higher number, so the later intent (the owner of a partition after a
// rebalance wins over a stalled earlier one, and an abandoned intent
// never holds up a newer batch).
func higher(a, b *batchState) bool { return a.id > b.id }

// rivals returns the other batches of the window whose range overlaps
// b's in some partition.
func (w *window) rivals(b *batchState) []*batchState {
	var out []*batchState
	seen := map[uint64]bool{b.id: true}
	for p, s := range b.spans {
		for _, c := range w.byPart[p] {
			if !seen[c.id] && s.overlaps(c.spans[p]) {
				seen[c.id] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// beaten reports whether a committed rival wins over b: b is then voided.
func (w *window) beaten(b *batchState) bool {
	for _, c := range w.rivals(b) {
		if higher(c, b) && w.committed(c) {
			return true
		}
	}
	return false
}

// atRisk reports whether a rival that wins over b has committed or may
// still commit: b's positions are not reported until that is decided.
func (w *window) atRisk(b *batchState) bool {
	for _, c := range w.rivals(b) {
		if higher(c, b) && (w.committed(c) || w.undecided(c)) {
			return true
		}
	}
	return false
}

// positions returns the recorded positions (offsetPartition included):
// the checkpoint's, advanced by each committed batch of the window that
// is not at risk.
func (w *window) positions() map[int32]int64 {
	pos := maps.Clone(w.base.positions)
	if pos == nil {
		pos = map[int32]int64{}
	}
	for _, b := range w.batches {
		if !w.committed(b) || w.atRisk(b) {
			continue
		}
		for p, s := range b.spans {
			if cur, ok := pos[p]; !ok || s.next > cur {
				pos[p] = s.next
			}
		}
	}
	return pos
}

// nowSQL is the server's time in Unix seconds (plus the test skew).
func (db *DB) nowSQL() string {
	return "toUInt32(toUInt32(now()) + " + strconv.FormatInt(db.skew.Load(), 10) + ")"
}

// serverNow reads the server's time (see nowSQL).
func (db *DB) serverNow(ctx context.Context) (uint32, error) {
	var now uint32
	if err := db.conn.QueryRow(ctx, "SELECT "+db.nowSQL()).Scan(&now); err != nil {
		return 0, fmt.Errorf("read the server's time: %w", err)
	}
	return now, nil
}

// checkpoint returns the latest checkpoint: the one last read, unless it
// was read more than a clean-up interval ago or fresh is set. An older
// checkpoint is always safe to use (its window is only longer).
func (db *DB) checkpoint(ctx context.Context, fresh bool) (checkpoint, error) {
	db.cmu.Lock()
	c, at := db.ckpt, db.ckptAt
	db.cmu.Unlock()
	if !fresh && !at.IsZero() && time.Since(at) < db.opts.CleanupInterval {
		return c, nil
	}
	read := time.Now()
	rows, err := db.conn.Query(ctx, `SELECT settled, partitions, nexts FROM checkpoints ORDER BY settled DESC LIMIT 1`)
	if err != nil {
		return checkpoint{}, fmt.Errorf("read the latest checkpoint: %w", err)
	}
	defer rows.Close()
	c = checkpoint{positions: map[int32]int64{}}
	for rows.Next() {
		var parts []int32
		var nexts []int64
		if err := rows.Scan(&c.settled, &parts, &nexts); err != nil {
			return checkpoint{}, fmt.Errorf("read the latest checkpoint: %w", err)
		}
		for i, p := range parts {
			c.positions[p] = nexts[i]
		}
	}
	if err := rows.Err(); err != nil {
		return checkpoint{}, fmt.Errorf("read the latest checkpoint: %w", err)
	}
	db.noteCheckpoint(c, read)
	return c, nil
}

// noteCheckpoint caches c if it is not older than the cached one.
func (db *DB) noteCheckpoint(c checkpoint, at time.Time) {
	db.cmu.Lock()
	defer db.cmu.Unlock()
	if c.settled >= db.ckpt.settled || db.ckptAt.IsZero() {
		db.ckpt, db.ckptAt = c, at
	}
}

// writeCheckpoint records c.
func (db *DB) writeCheckpoint(ctx context.Context, c checkpoint) error {
	parts := slices.Sorted(maps.Keys(c.positions))
	ps, ns := make([]string, len(parts)), make([]string, len(parts))
	for i, p := range parts {
		ps[i] = "toInt32(" + itoa(p) + ")"
		ns[i] = "toInt64(" + itoa(c.positions[p]) + ")"
	}
	if err := db.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO checkpoints (settled, partitions, nexts) SELECT toUInt32(%d), %s, %s`,
		c.settled, arrayOr(ps, "emptyArrayInt32()"), arrayOr(ns, "emptyArrayInt64()"))); err != nil {
		return fmt.Errorf("record checkpoint: %w", err)
	}
	return nil
}

// arrayOr returns the array literal of elems, or empty when there are none.
func arrayOr(elems []string, empty string) string {
	if len(elems) == 0 {
		return empty
	}
	return "[" + strings.Join(elems, ", ") + "]"
}

// window reads the rows of loads of the intents at or after the cached
// checkpoint.
func (db *DB) window(ctx context.Context) (*window, error) {
	c, err := db.checkpoint(ctx, false)
	if err != nil {
		return nil, err
	}
	return db.readWindow(ctx, c)
}

func (db *DB) readWindow(ctx context.Context, c checkpoint) (*window, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT batch, writer, state, intent_at, ttl, partitions, froms, nexts, at, %s FROM loads WHERE intent_at >= %d`,
		db.nowSQL(), c.settled))
	if err != nil {
		return nil, fmt.Errorf("read recent batches: %w", err)
	}
	defer rows.Close()
	w := &window{base: c, batches: map[uint64]*batchState{}, byPart: map[int32][]*batchState{}}
	// The rows of an intent, done or withdrawal are its writer's; a void
	// row applies to the batch whoever wrote it.
	type key struct{ id, writer uint64 }
	intents := map[key]*batchState{}
	withdrawn := map[key]bool{}
	voids := map[uint64]uint32{}
	for rows.Next() {
		var (
			id, writer        uint64
			state             uint8
			intentAt, ttl, at uint32
			parts             []int32
			froms, nexts      []int64
		)
		if err := rows.Scan(&id, &writer, &state, &intentAt, &ttl, &parts, &froms, &nexts, &at, &w.now); err != nil {
			return nil, fmt.Errorf("read recent batches: %w", err)
		}
		k := key{id, writer}
		b := intents[k]
		if b == nil && (state == stateIntent || state == stateDone) {
			b = &batchState{id: id, writer: writer, intentAt: intentAt, ttl: ttl}
			intents[k] = b
		}
		switch state {
		case stateIntent:
			b.intent, b.intentAt, b.ttl = true, intentAt, ttl
			b.spans = make(map[int32]span, len(parts))
			for i, p := range parts {
				if i < len(froms) && i < len(nexts) {
					b.spans[p] = span{froms[i], nexts[i]}
				}
			}
		case stateDone:
			if !b.done || at < b.doneAt {
				b.done, b.doneAt = true, at
			}
		case stateVoid:
			voids[id] = intentAt
		case stateWithdrawn:
			withdrawn[k] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent batches: %w", err)
	}
	// A batch is its writer's intent; should two writers' intents have
	// got the same number and one not withdrawn it yet, the one with a
	// done row, else the first writer's (only one of them sent rows).
	for _, k := range slices.SortedFunc(maps.Keys(intents), func(a, b key) int {
		if a.id != b.id {
			return cmp.Compare(a.id, b.id)
		}
		return cmp.Compare(a.writer, b.writer)
	}) {
		b := intents[k]
		if withdrawn[k] || !b.intent {
			continue
		}
		if cur := w.batches[k.id]; cur == nil || (b.done && !cur.done) {
			w.batches[k.id] = b
		}
	}
	for id, intentAt := range voids {
		if b := w.batches[id]; b != nil {
			b.void = true
		} else {
			w.batches[id] = &batchState{id: id, intentAt: intentAt, void: true}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.batches)) {
		b := w.batches[id]
		for p := range b.spans {
			w.byPart[p] = append(w.byPart[p], b)
		}
	}
	return w, nil
}

// recorded returns the recorded positions, offsetPartition included.
func (db *DB) recorded(ctx context.Context) (map[int32]int64, error) {
	w, err := db.window(ctx)
	if err != nil {
		return nil, err
	}
	return w.positions(), nil
}

// view is what a query may read, read once per call so that a call's
// statements agree: the rows of the batches numbered below bound, except
// the hidden ones, and of the recent ones. Batches from bound up are those
// of intents within a TTL of the time the view was read, or later (and
// not settled): a batch begun after the view was read is not in it, and
// its rows (sent after its intent) must not count, so that a positive
// list is needed for them. Below bound, a batch's intent was visible when
// the view was read (the one assumption: the server commits a one-row
// insert within a TTL of stamping it), so the few that do not count can
// be listed.
type view struct {
	bound  uint64
	recent []uint64
	hidden []uint64
}

// and returns the condition on column batch to append to a WHERE clause.
func (v view) and() string {
	var b strings.Builder
	b.WriteString(" AND (batch < ")
	b.WriteString(strconv.FormatUint(v.bound, 10))
	if len(v.recent) > 0 {
		b.WriteString(" OR batch IN (")
		writeIDs(&b, v.recent)
		b.WriteString(")")
	}
	b.WriteString(")")
	if len(v.hidden) > 0 {
		b.WriteString(" AND batch NOT IN (")
		writeIDs(&b, v.hidden)
		b.WriteString(")")
	}
	return b.String()
}

func writeIDs(b *strings.Builder, ids []uint64) {
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
}

// view reads what queries count, in one round trip: the dead batches, and
// for each batch of the window whether it counts (committed by its
// writer, not void), with the server's time.
func (db *DB) view(ctx context.Context) (view, error) {
	c, err := db.checkpoint(ctx, false)
	if err != nil {
		return view{}, err
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT batch, toUInt8(0) FROM dead
UNION ALL
SELECT batch, toUInt8(max(v) = 0 AND max(c) = 1) FROM (
	SELECT batch, writer, toUInt8(countIf(state = %[1]d) > 0) AS v,
		toUInt8(countIf(state = %[2]d) > 0 AND countIf(state = %[3]d) = 0 AND countIf(state = %[4]d AND at <= intent_at + ttl) > 0) AS c
	FROM loads WHERE intent_at >= %[5]d GROUP BY batch, writer)
GROUP BY batch
UNION ALL
SELECT toUInt64(%[6]s), toUInt8(2)`, stateVoid, stateIntent, stateWithdrawn, stateDone, c.settled, db.nowSQL()))
	if err != nil {
		return view{}, fmt.Errorf("read the batches to count: %w", err)
	}
	defer rows.Close()
	var now uint64
	counts := map[uint64]bool{}
	for rows.Next() {
		var id uint64
		var kind uint8
		if err := rows.Scan(&id, &kind); err != nil {
			return view{}, fmt.Errorf("read the batches to count: %w", err)
		}
		switch kind {
		case 0:
			counts[id] = false
		case 1:
			if _, dead := counts[id]; !dead {
				counts[id] = true
			}
		case 2:
			now = id
		}
	}
	if err := rows.Err(); err != nil {
		return view{}, fmt.Errorf("read the batches to count: %w", err)
	}
	// Batches below the window's start are settled: they count unless
	// dead, whatever the server's clock says now.
	v := view{bound: firstBatchAt(c.settled)}
	if now > uint64(db.ttl) {
		v.bound = max(v.bound, firstBatchAt(uint32(now)-db.ttl))
	}
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		switch ok := counts[id]; {
		case id >= v.bound && ok:
			v.recent = append(v.recent, id)
		case id < v.bound && !ok:
			v.hidden = append(v.hidden, id)
		}
	}
	return v, nil
}

// batchSpec is a batch to load: the part of loading that differs between
// Insert, InsertFrom and InsertRange.
type batchSpec struct {
	op   string
	next map[int32]int64
	// from is each partition's first position, nil to infer it (see
	// spans).
	from map[int32]int64
	// conflict returns the ECONFLICT error of the contract, if any,
	// given the recorded positions.
	conflict func(recorded map[int32]int64) error
}

// load validates events and loads them as one batch: intent row, rows,
// checks, done row, checks (see the package documentation). It holds the
// writer lock throughout.
func (db *DB) load(ctx context.Context, events []admeter.Event, b batchSpec) error {
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return admeter.Errorf(admeter.EINVALID, "event %d: %s", i, admeter.ErrorMessage(err))
		}
		if e.At.Before(minEventTime) || e.Received.Before(minEventTime) {
			return admeter.Errorf(admeter.EINVALID, "event %d: time before 2000", i)
		}
	}
	if err := db.lock(b.op); err != nil {
		return err
	}
	defer db.wmu.Unlock()
	if db.dirty || time.Since(db.cleaned) >= db.opts.CleanupInterval {
		if err := db.cleanup(ctx, false); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: clean up: %w", b.op, err)
			}
			db.logger.Warn("clean-up before a load failed; loading all the same", "err", err)
		}
	}
	w, err := db.window(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", b.op, err)
	}
	recorded := w.positions()
	if err := b.conflict(recorded); err != nil {
		db.learn(b.next, recorded)
		return err
	}
	spans, err := db.spans(b, recorded)
	if err != nil {
		db.learn(b.next, recorded)
		return err
	}
	me := &batchState{writer: db.writer, ttl: db.ttl, spans: spans}
	if err := db.writeIntent(ctx, me); err != nil {
		db.dirty = true // it may have been written: the clean-up settles it
		return fmt.Errorf("%s: %w", b.op, err)
	}
	if err := runHook(db.hooks.afterIntent, me.id); err != nil {
		return err
	}
	if len(events) > 0 {
		if err := db.send(ctx, events, me.id); err != nil {
			db.abandon(ctx, me)
			return fmt.Errorf("%s: %w", b.op, err)
		}
	}
	if err := runHook(db.hooks.afterSend, me.id); err != nil {
		return err
	}
	if err := db.precheck(ctx, me, b); err != nil {
		if admeter.ErrorCode(err) != admeter.ECONFLICT {
			db.dirty = true
		}
		db.abandon(ctx, me)
		return fmt.Errorf("%s: %w", b.op, err)
	}
	if err := runHook(db.hooks.beforeDone, me.id); err != nil {
		return err
	}
	if err := db.writeMark(ctx, me, stateDone); err != nil {
		// It may have been written, and then it counts: a retry gets
		// ECONFLICT. It is not voided, since a reader may have seen it.
		db.dirty = true
		return fmt.Errorf("%s: commit batch: %w", b.op, err)
	}
	if err := runHook(db.hooks.afterDone, me.id); err != nil {
		return err
	}
	if err := db.postcheck(ctx, me, b); err != nil {
		if admeter.ErrorCode(err) != admeter.ECONFLICT {
			db.dirty = true
		}
		return fmt.Errorf("%s: %w", b.op, err)
	}
	db.smu.Lock()
	maps.Copy(db.starts, b.next)
	db.smu.Unlock()
	return nil
}

// spans returns the range of each partition of the batch. With explicit
// from positions, a partition whose recorded position is beyond its from
// is ECONFLICT (part of the batch is stored). Otherwise a partition
// starts where this DB expects its caller's next batch of it to start
// (the next of its last batch of it, or what it last reported), or at the
// recorded position if it expects nothing; a partition recorded beyond
// where this DB expects it is ECONFLICT, since another writer loaded it
// meanwhile and the batch may start before (a stalled writer's batch read
// before a rebalance): the caller rereads Positions and loads the rest.
func (db *DB) spans(b batchSpec, recorded map[int32]int64) (map[int32]span, error) {
	db.smu.Lock()
	defer db.smu.Unlock()
	out := make(map[int32]span, len(b.next))
	for _, p := range slices.Sorted(maps.Keys(b.next)) {
		next := b.next[p]
		rec, ok := recorded[p]
		var from int64
		switch start, known := db.starts[p]; {
		case b.from != nil:
			from = b.from[p]
			if ok && rec > from {
				return nil, admeter.Errorf(admeter.ECONFLICT, "%s %d from %d: the recorded position is %d, so part of the batch is stored: reread Positions and load the rest", partName(p), p, from, rec)
			}
		case known:
			if ok && rec > start {
				return nil, admeter.Errorf(admeter.ECONFLICT, "%s %d was loaded to %d by another writer since this one expected %d: reread Positions and load the rest", partName(p), p, rec, start)
			}
			from = start
		case ok:
			from = rec
		}
		if from >= next {
			return nil, admeter.Errorf(admeter.ECONFLICT, "%s %d position %d is not after %d, where this writer's previous batch ended: the batch is already stored", partName(p), p, next, from)
		}
		out[p] = span{from, next}
	}
	return out, nil
}

// partName names a partition in errors.
func partName(p int32) string {
	if p == offsetPartition {
		return "event log (offset)"
	}
	return "partition"
}

// learn notes the recorded positions of the partitions of next as where
// the caller's next batches start: it returns ECONFLICT and the caller
// rereads Positions.
func (db *DB) learn(next, recorded map[int32]int64) {
	db.smu.Lock()
	defer db.smu.Unlock()
	for p := range next {
		if rec, ok := recorded[p]; ok {
			db.starts[p] = rec
		} else {
			delete(db.starts, p)
		}
	}
}

// writeIntent appends the intent row of b, numbered and stamped by the
// server, and reads back its number and time. Should another intent have
// got the same number (the same second and nonce), it withdraws its own
// (before sending any row) and tries again with another nonce.
func (db *DB) writeIntent(ctx context.Context, b *batchState) error {
	parts := slices.Sorted(maps.Keys(b.spans))
	ps, fs, ns := make([]string, len(parts)), make([]string, len(parts)), make([]string, len(parts))
	for i, p := range parts {
		ps[i] = "toInt32(" + itoa(p) + ")"
		fs[i] = "toInt64(" + itoa(b.spans[p].from) + ")"
		ns[i] = "toInt64(" + itoa(b.spans[p].next) + ")"
	}
	for range 5 {
		nonce := uint64(db.newNonce() & nonceMask)
		if err := db.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO loads (batch, state, intent_at, ttl, writer, partitions, froms, nexts, at)
SELECT bitOr(toUInt64(%d), bitOr(bitShiftLeft(toUInt64(n), %d), toUInt64(%d))), toUInt8(%d), n, toUInt32(%d), toUInt64(%d), [%s], [%s], [%s], n
FROM (SELECT %s AS n)`,
			uint64(newBatchBit), nonceBits, nonce, stateIntent, b.ttl, db.writer, strings.Join(ps, ", "), strings.Join(fs, ", "), strings.Join(ns, ", "), db.nowSQL())); err != nil {
			return fmt.Errorf("record the intent of a batch: %w", err)
		}
		var n, mine uint64
		if err := db.conn.QueryRow(ctx, fmt.Sprintf(`SELECT batch, any(intent_at), count(), countIf(writer = %[5]d) FROM loads
WHERE state = %[1]d AND intent_at + %[2]d >= %[3]s AND bitAnd(batch, %[4]d) = %[6]d
GROUP BY batch HAVING countIf(writer = %[5]d) > 0 ORDER BY batch DESC LIMIT 1`,
			stateIntent, b.ttl, db.nowSQL(), uint64(nonceMask), db.writer, nonce)).Scan(&b.id, &b.intentAt, &n, &mine); err != nil {
			return fmt.Errorf("read back the intent of a batch: %w", err)
		}
		switch {
		case mine > 1:
			// Withdrawing would withdraw this writer's earlier batch.
			return fmt.Errorf("record the intent of a batch: writer %d used nonce %d twice in a second", db.writer, nonce)
		case n == 1:
			return nil
		}
		if err := db.writeMark(ctx, b, stateWithdrawn); err != nil {
			return err
		}
		db.logger.Warn("batch number taken by another writer's batch; trying another", "batch", b.id)
	}
	return fmt.Errorf("record the intent of a batch: five batch numbers in a row were taken (is the writer id %d shared?)", db.writer)
}

// writeMark appends a done or void row of b, stamped by the server. A
// batch whose intent time is unknown gets the current time: its rows of
// loads are then in the window as long as its intent's.
func (db *DB) writeMark(ctx context.Context, b *batchState, state uint8) error {
	intentAt := db.nowSQL()
	if b.intentAt != 0 {
		intentAt = "toUInt32(" + strconv.FormatUint(uint64(b.intentAt), 10) + ")"
	}
	if err := db.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO loads (batch, state, intent_at, ttl, writer, partitions, froms, nexts, at)
SELECT toUInt64(%d), toUInt8(%d), %s, toUInt32(%d), toUInt64(%d), emptyArrayInt32(), emptyArrayInt64(), emptyArrayInt64(), %s`,
		b.id, state, intentAt, b.ttl, db.writer, db.nowSQL())); err != nil {
		return fmt.Errorf("record batch %d as %s: %w", b.id, map[uint8]string{stateDone: "done", stateVoid: "void", stateWithdrawn: "withdrawn"}[state], err)
	}
	return nil
}

// void appends a void row for each batch, so that queries stop counting
// them at once, then deletes their rows with a mutation it does not wait
// for (the clean-up deletes whatever remains once they are settled).
func (db *DB) void(ctx context.Context, bs ...*batchState) error {
	ids := make([]string, len(bs))
	for i, b := range bs {
		if err := db.writeMark(ctx, b, stateVoid); err != nil {
			return err
		}
		ids[i] = strconv.FormatUint(b.id, 10)
	}
	if len(bs) > 0 {
		if err := db.alterEvents(ctx, "DELETE WHERE batch IN ("+strings.Join(ids, ", ")+")"); err != nil {
			return fmt.Errorf("delete the rows of void batches: %w", err)
		}
		db.logger.Warn("void batches", "batches", len(bs))
	}
	return nil
}

// abandon voids this writer's batch, which did not commit, best effort
// (its rows are invisible either way, and the clean-up settles it).
func (db *DB) abandon(ctx context.Context, b *batchState) {
	if err := db.void(context.WithoutCancel(ctx), b); err != nil {
		db.dirty = true
		db.logger.Warn("void an uncommitted batch", "err", err)
	}
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// errTooSlow is returned for a batch not committed within its TTL.
func errTooSlow(b *batchState) error {
	return fmt.Errorf("batch %d was not committed within the intent TTL of %ds after its intent row, so it does not count: retry (and raise Options.IntentTTL if batches take that long)", b.id, b.ttl)
}

// precheck runs after the rows are sent, before the done row. It reads
// the window until the batch may commit, and returns an error if it may
// not: its intent is a TTL old (the done row would not count), or a rival
// has committed (ECONFLICT: that batch may have been reported and must
// stay). While a rival that would win is undecided, it waits. It sets
// me.intentAt.
func (db *DB) precheck(ctx context.Context, me *batchState, b batchSpec) error {
	pause := 5 * time.Millisecond
	for {
		w, err := db.window(ctx)
		if err != nil {
			return err
		}
		m := w.batches[me.id]
		if m == nil || !m.intent {
			return fmt.Errorf("the intent row of batch %d is not found (is the server's clock going back?)", me.id)
		}
		me.intentAt = m.intentAt
		if w.now+1 > m.intentAt+m.ttl {
			return errTooSlow(m)
		}
		wait := false
		for _, c := range w.rivals(m) {
			if w.committed(c) {
				db.learn(b.next, w.positions())
				return admeter.Errorf(admeter.ECONFLICT, "another writer committed batch %d over the same positions meanwhile: reread Positions and load the rest", c.id)
			}
			wait = wait || (higher(c, m) && w.undecided(c))
		}
		if !wait {
			return nil
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// postcheck runs after the done row. It reads the window until no rival
// that would win is undecided; then the batch has lost if such a rival
// committed (it voids itself: ECONFLICT), and has won otherwise, voiding
// the rivals it wins over. A done row stamped after the TTL does not
// count: the batch voids itself and returns an error.
func (db *DB) postcheck(ctx context.Context, me *batchState, b batchSpec) error {
	pause := 5 * time.Millisecond
	for {
		w, err := db.window(ctx)
		if err != nil {
			return err
		}
		m := w.batches[me.id]
		switch {
		case m == nil || !m.intent || !m.done:
			return fmt.Errorf("the commit row of batch %d is not found", me.id)
		case !w.validDone(m):
			db.abandon(ctx, me)
			return errTooSlow(m)
		case m.void:
			db.learn(b.next, w.positions())
			return admeter.Errorf(admeter.ECONFLICT, "another writer committed a batch over the same positions, and it counts instead: reread Positions and load the rest")
		}
		wait := false
		var losers []*batchState
		for _, c := range w.rivals(m) {
			switch {
			case higher(c, m) && w.committed(c):
				db.abandon(ctx, me)
				m.void = true
				db.learn(b.next, w.positions())
				return admeter.Errorf(admeter.ECONFLICT, "another writer committed batch %d over the same positions, and it counts instead: reread Positions and load the rest", c.id)
			case higher(c, m) && w.undecided(c):
				wait = true
			case !higher(c, m) && w.committed(c):
				losers = append(losers, c)
			}
		}
		if !wait {
			if len(losers) > 0 {
				if err := db.void(ctx, losers...); err != nil {
					db.dirty = true // the clean-up resolves them
					db.logger.Warn("void batches that lost to this one", "err", err)
				}
			}
			return nil
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// cleanup resolves and settles (see the package documentation): it voids
// every committed batch of the window a committed rival beats; then, if
// the oldest intents are three TTLs old, it records as dead the batches
// among them that did not commit (or were voided), records a checkpoint
// of the positions of the others, and deletes the rows of dead batches.
// With purge, it deletes the rows of dead batches even if none is new
// (at Open: rows that arrived after their batch was settled). Any writer
// may run it at any time, concurrently with others.
func (db *DB) cleanup(ctx context.Context, purge bool) error {
	c, err := db.checkpoint(ctx, true)
	if err != nil {
		return err
	}
	w, err := db.readWindow(ctx, c)
	if err != nil {
		return err
	}
	if w.now == 0 {
		if w.now, err = db.serverNow(ctx); err != nil {
			return err
		}
	}
	var losers []*batchState
	for _, id := range slices.Sorted(maps.Keys(w.batches)) {
		if b := w.batches[id]; w.committed(b) && w.beaten(b) {
			losers = append(losers, b)
		}
	}
	if len(losers) > 0 {
		if err := db.void(ctx, losers...); err != nil {
			return err
		}
		for _, b := range losers {
			b.void = true
		}
	}
	ttl := db.ttl
	for _, b := range w.batches {
		ttl = max(ttl, b.ttl)
	}
	if horizon := 3 * ttl; w.now > horizon && w.now-horizon > c.settled {
		n, err := db.settle(ctx, w, w.now-horizon)
		if err != nil {
			return err
		}
		purge = purge || n > 0
	}
	if purge {
		if err := db.purge(ctx); err != nil {
			return err
		}
	}
	db.cleaned = time.Now()
	db.dirty = false
	return nil
}

// settle records the outcome of the batches of w whose intents are
// before cut: the dead ones in table dead, then a checkpoint at cut with
// the positions of the committed ones. By then every batch that could
// void one of them is decided (a rival that wins began before the loser
// committed, within a TTL of its intent, and was decided a TTL later). It
// returns the number of batches recorded dead.
func (db *DB) settle(ctx context.Context, w *window, cut uint32) (int, error) {
	pos := maps.Clone(w.base.positions)
	if pos == nil {
		pos = map[int32]int64{}
	}
	var dead []*batchState
	found := false
	for _, id := range slices.Sorted(maps.Keys(w.batches)) {
		b := w.batches[id]
		if b.intentAt >= cut {
			continue
		}
		found = true
		if !w.committed(b) {
			dead = append(dead, b)
			continue
		}
		for p, s := range b.spans {
			if cur, ok := pos[p]; !ok || s.next > cur {
				pos[p] = s.next
			}
		}
	}
	if !found {
		return 0, nil
	}
	known, err := db.deadSince(ctx, w.base.settled)
	if err != nil {
		return 0, err
	}
	dead = slices.DeleteFunc(dead, func(b *batchState) bool { return known[b.id] })
	if len(dead) > 0 {
		bt, err := db.conn.PrepareBatch(ctx, "INSERT INTO dead (batch, intent_at)")
		if err != nil {
			return 0, fmt.Errorf("record dead batches: %w", err)
		}
		for _, b := range dead {
			if err := bt.Append(b.id, b.intentAt); err != nil {
				_ = bt.Abort()
				return 0, fmt.Errorf("record dead batches: %w", err)
			}
		}
		if err := bt.Send(); err != nil {
			return 0, fmt.Errorf("record dead batches: %w", err)
		}
		db.logger.Info("batches settled as dead", "batches", len(dead))
	}
	c := checkpoint{settled: cut, positions: pos}
	if err := db.writeCheckpoint(ctx, c); err != nil {
		return 0, err
	}
	db.noteCheckpoint(c, time.Now())
	return len(dead), nil
}

// deadSince returns the dead batches whose intents are at or after t.
func (db *DB) deadSince(ctx context.Context, t uint32) (map[uint64]bool, error) {
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT batch FROM dead WHERE intent_at >= %d`, t))
	if err != nil {
		return nil, fmt.Errorf("read dead batches: %w", err)
	}
	defer rows.Close()
	out := map[uint64]bool{}
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read dead batches: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// purge deletes the rows of every dead batch (a mutation, waited for),
// after counting them: nothing when there are none.
func (db *DB) purge(ctx context.Context) error {
	rows, err := db.conn.Query(ctx, `SELECT DISTINCT batch FROM dead ORDER BY batch`)
	if err != nil {
		return fmt.Errorf("read dead batches: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("read dead batches: %w", err)
		}
		ids = append(ids, strconv.FormatUint(id, 10))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read dead batches: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	cond := "batch IN (" + strings.Join(ids, ", ") + ")"
	var n uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+db.events+" WHERE "+cond).Scan(&n); err != nil {
		return fmt.Errorf("count the rows of dead batches: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := db.mutateEvents(ctx, "DELETE WHERE "+cond); err != nil {
		return fmt.Errorf("delete %d rows of dead batches: %w", n, err)
	}
	db.logger.Warn("rows of uncommitted or void batches deleted", "rows", n)
	return nil
}
