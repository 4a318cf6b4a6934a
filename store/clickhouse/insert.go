package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// minEventTime is the earliest event time Insert accepts: earlier ones are
// garbage, and day arithmetic can assume non-negative times.
var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// insertColumns are the columns of events an Insert names, in the order
// of row's values. ClickHouse 18.16 takes a batch insert from
// clickhouse-go only when it names its columns.
const insertColumns = `tenant, campaign, placement, kind, ts, received, day, flags, user_key, user_type, key_version, impression,
	os, os_version, device, browser, model, network, app, app_package, net, country, province, city, lat, lon, risk, ivt, batch`

// Insert stores events, each row marked with next as its batch, then
// records next as the offset. Queries read only the rows of recorded
// batches, so the batch becomes visible whole when its offset is
// recorded, and a batch whose offset was not recorded is invisible and
// deleted before the next Insert (or at Open after a crash). It returns
// ECONFLICT, storing nothing, if next is not greater than the recorded
// offset (or, in a store loaded with InsertFrom, than its latest batch),
// and EINVALID if an event is invalid (see admeter.Event.Validate) or
// older than 2000.
func (db *DB) Insert(ctx context.Context, events []admeter.Event, next uint64) error {
	return db.load(ctx, "insert events", events, mark{
		begin: func(context.Context) (uint64, error) {
			if cur := db.offset.Load(); next <= cur {
				return 0, admeter.Errorf(admeter.ECONFLICT, "offset %d is not after the stored offset %d: the batch is already stored", next, cur)
			}
			if next <= db.batch {
				return 0, admeter.Errorf(admeter.ECONFLICT, "offset %d is not after the store's latest batch %d, recorded by InsertFrom: a store is fed by one kind of source", next, db.batch)
			}
			return next, nil
		},
		record: func(ctx context.Context, _ uint64) error { return db.setMeta(ctx, metaOffset, next) },
		committed: func() {
			db.offset.Store(next)
		},
	})
}

// InsertFrom stores events read from a partitioned source as batch b,
// the next of the store's own sequence (one more than the latest recorded
// batch, whether Insert's offset or InsertFrom's), each row marked with
// b, then records the batch: one row of table batches holding b and the
// positions of next. That row is the commit: queries read the rows of
// recorded batches only, Positions reads the rows of batches, and the
// rows of a batch never recorded are deleted before the next insert (or
// at Open after a crash). The first InsertFrom of a database records
// schema version 2 first (see partitionedVersion). It returns ECONFLICT,
// storing nothing, if a partition of next already has a position at or
// beyond its new one, and EINVALID for an empty next, a negative
// partition or position (see store.CheckPositions), or an invalid event
// (as Insert). The offset is left as it is.
func (db *DB) InsertFrom(ctx context.Context, events []admeter.Event, next map[int32]int64) error {
	if err := store.CheckPositions(nil, next); err != nil {
		return err
	}
	const op = "insert events from partitions"
	return db.load(ctx, op, events, mark{
		begin: func(ctx context.Context) (uint64, error) {
			if err := store.CheckPositions(db.positions, next); err != nil {
				return 0, err
			}
			if db.version < partitionedVersion {
				if err := db.setMeta(ctx, metaVersion, partitionedVersion); err != nil {
					return 0, fmt.Errorf("%s: %w", op, err)
				}
				db.version = partitionedVersion
			}
			return db.batch + 1, nil
		},
		record: func(ctx context.Context, batch uint64) error {
			parts := slices.Sorted(maps.Keys(next))
			ps, ns := make([]string, len(parts)), make([]string, len(parts))
			for i, p := range parts {
				ps[i] = "toInt32(" + itoa(p) + ")"
				ns[i] = "toInt64(" + itoa(next[p]) + ")"
			}
			if err := db.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO batches (batch, partitions, nexts) SELECT toUInt64(%d), [%s], [%s]`,
				batch, strings.Join(ps, ", "), strings.Join(ns, ", "))); err != nil {
				return fmt.Errorf("record batch %d: %w", batch, err)
			}
			return nil
		},
		committed: func() {
			pos := maps.Clone(db.positions)
			if pos == nil {
				pos = map[int32]int64{}
			}
			maps.Copy(pos, next)
			db.positions = pos
		},
	})
}

// mark is how a batch is numbered and recorded: the part of loading that
// differs between Insert and InsertFrom.
type mark struct {
	// begin checks that the batch may be stored (an ECONFLICT error if it
	// is already) and returns its batch number; it runs holding the
	// writer lock, after any clean-up, before anything is sent.
	begin func(ctx context.Context) (uint64, error)
	// record makes the batch visible, writing one row: after it the
	// batch is stored, before it (or if it fails) the batch's rows are
	// invisible and deleted by the next clean-up.
	record func(ctx context.Context, batch uint64) error
	// committed updates the in-memory copy once the batch is recorded.
	committed func()
}

// load validates events, sends them marked with the batch number m.begin
// returns, then records the batch with m.record: the shared body of
// Insert and InsertFrom. op names the operation in errors.
func (db *DB) load(ctx context.Context, op string, events []admeter.Event, m mark) error {
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return admeter.Errorf(admeter.EINVALID, "event %d: %s", i, admeter.ErrorMessage(err))
		}
		if e.At.Before(minEventTime) || e.Received.Before(minEventTime) {
			return admeter.Errorf(admeter.EINVALID, "event %d: time before 2000", i)
		}
	}
	if err := db.lock(op); err != nil {
		return err
	}
	defer db.wmu.Unlock()
	if db.dirty {
		if err := db.recover(ctx); err != nil {
			return fmt.Errorf("%s: clean up after a failed insert: %w", op, err)
		}
	}
	batch, err := m.begin(ctx)
	if err != nil {
		return err
	}
	if len(events) > 0 {
		db.dirty = true // until the batch is recorded
		if err := db.send(ctx, events, batch); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	db.dirty = true
	if err := m.record(ctx, batch); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	db.dirty = false
	db.batch = batch
	m.committed()
	return nil
}

// send appends the events as one native batch insert, each row marked
// with batch.
func (db *DB) send(ctx context.Context, events []admeter.Event, batch uint64) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO events ("+insertColumns+")")
	if err != nil {
		return fmt.Errorf("prepare batch: %w", err)
	}
	for i := range events {
		e := &events[i]
		ts := e.At.UnixMilli()
		// Values without a name are stored as unknown (0), so that a
		// report never has two rows named "unknown".
		os, dev := e.OS, e.DeviceType
		if os.String() == "unknown" {
			os = 0
		}
		if dev.String() == "unknown" {
			dev = 0
		}
		var lat, lon *int32
		if !e.Area.IsZero() {
			la, lo := e.Area.Grid()
			lat, lon = &la, &lo
		}
		if err := b.Append(string(e.Tenant), string(e.Campaign), string(e.Placement), uint8(e.Kind), ts, e.Received.UnixMilli(),
			uint32(floorDiv(ts, msPerDay)), uint16(e.Flags), string(e.User[:]), uint8(e.UserType), e.KeyVersion, string(e.ImpressionID[:]),
			uint8(os), e.OSVersion, uint8(dev), e.Browser, e.Model, uint8(e.Network), e.App, e.AppPackage, netValue(e.Net),
			e.Region.Country, e.Region.Province, e.Region.City, lat, lon, uint8(e.Risk), uint32(e.IVT), batch); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append event %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send batch: %w", err)
	}
	return nil
}

// net4 marks an IPv4 network in the net column.
const net4 = 1 << 48

// netValue encodes a network block for the net column: an IPv4 /24 as
// 2^48 plus its network address as a 32-bit number, an IPv6 /48 as its top
// 48 bits, unknown as NULL (as the DuckDB store does).
func netValue(b admeter.NetBlock) *int64 {
	if b.IsZero() {
		return nil
	}
	a := b.Prefix().Addr()
	var v int64
	if a.Is4() {
		x := a.As4()
		v = int64(net4 | uint64(x[0])<<24 | uint64(x[1])<<16 | uint64(x[2])<<8 | uint64(x[3]))
	} else {
		x := a.As16()
		v = int64(uint64(x[0])<<40 | uint64(x[1])<<32 | uint64(x[2])<<24 | uint64(x[3])<<16 | uint64(x[4])<<8 | uint64(x[5]))
	}
	return &v
}
