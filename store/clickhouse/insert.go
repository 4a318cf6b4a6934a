package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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
	os, os_version, device, browser, model, network, app, app_package, net, country, province, city, lat, lon, risk, ivt, batch,
	view, view_area, view_seconds, video_duration, video_play, video_progress, video_quartiles,
	conversion_id, conversion_type, value, currency, click_id`

// Insert stores events read from a single event log as one batch (see
// the package documentation), and records next as the offset: it loads
// them as InsertFrom does, under a partition of its own
// (offsetPartition), whose recorded position is the offset. It returns
// ECONFLICT, storing nothing, if next is not greater than the recorded
// offset, and EINVALID if an event is invalid (see admeter.Event.Validate)
// or older than 2000, or if next is above 2^63-1. Insert and InsertFrom
// record separate positions and may feed the same store.
func (db *DB) Insert(ctx context.Context, events []admeter.Event, next uint64) error {
	if next > math.MaxInt64 {
		return admeter.Errorf(admeter.EINVALID, "offset %d is above 2^63-1", next)
	}
	return db.load(ctx, events, batchSpec{
		op:   "insert events",
		next: map[int32]int64{offsetPartition: int64(next)},
		conflict: func(recorded map[int32]int64) error {
			if cur := recorded[offsetPartition]; int64(next) <= cur {
				return admeter.Errorf(admeter.ECONFLICT, "offset %d is not after the stored offset %d: the batch is already stored", next, cur)
			}
			return nil
		},
	})
}

// InsertFrom stores events read from a partitioned source as one batch
// and records next[p] as the position to resume partition p from, in
// one commit (see the package documentation): the batch's rows count,
// and its positions are recorded, when its done row is written, and
// never if it is not. Several writers (DBs, processes) may load the same
// database at once. It returns ECONFLICT, storing nothing, if a partition
// of next has a recorded position at or beyond its new one, and EINVALID
// for an empty next, a negative partition or position (see
// store.CheckPositions), or an invalid event (as Insert).
//
// The batch's range of partition p starts where this DB expects the
// caller's next batch of p to start: where its own last batch of p ended,
// else the position it last reported for p (Positions, or a conflict),
// else the recorded position. If another writer recorded p beyond that
// meanwhile, InsertFrom returns ECONFLICT, since the batch may hold
// records that writer loaded (a writer that stalled after reading them,
// while its partitions went to another): the caller rereads Positions
// and loads the rest. A caller that knows where its batch starts should
// use InsertRange. It also returns ECONFLICT when a writer loading the
// same positions at the same time commits first, or wins (see the
// package documentation).
func (db *DB) InsertFrom(ctx context.Context, events []admeter.Event, next map[int32]int64) error {
	if err := store.CheckPositions(nil, next); err != nil {
		return err
	}
	return db.load(ctx, events, batchSpec{
		op:       "insert events from partitions",
		next:     next,
		conflict: func(recorded map[int32]int64) error { return store.CheckPositions(positionsOnly(recorded), next) },
	})
}

// InsertRange is InsertFrom for a caller that knows where its batch
// starts: the events are those of positions [from[p], next[p]) of each
// partition p. It returns ECONFLICT, storing nothing, if a partition's
// recorded position is beyond from[p] (part of the batch is stored:
// reread Positions and load the rest), and EINVALID if from and next do
// not name the same partitions or from[p] is not below next[p], besides
// InsertFrom's errors.
func (db *DB) InsertRange(ctx context.Context, events []admeter.Event, from, next map[int32]int64) error {
	if err := store.CheckPositions(nil, next); err != nil {
		return err
	}
	if len(from) != len(next) {
		return admeter.Errorf(admeter.EINVALID, "the batch names %d partitions in from and %d in next: name the same ones", len(from), len(next))
	}
	for _, p := range slices.Sorted(maps.Keys(next)) {
		if f, ok := from[p]; !ok || f < 0 || f >= next[p] {
			return admeter.Errorf(admeter.EINVALID, "partition %d: from %d (given: %t) is not a position below next %d", p, f, ok, next[p])
		}
	}
	return db.load(ctx, events, batchSpec{
		op:       "insert events from partitions",
		next:     next,
		from:     from,
		conflict: func(recorded map[int32]int64) error { return store.CheckPositions(positionsOnly(recorded), next) },
	})
}

// positionsOnly returns the recorded positions without the offset.
func positionsOnly(recorded map[int32]int64) map[int32]int64 {
	out := maps.Clone(recorded)
	delete(out, offsetPartition)
	return out
}

// send appends the events, each row marked with batch, to the local
// events table of each one's shard: one native batch insert per shard
// with events, the shards at once.
func (db *DB) send(ctx context.Context, events []admeter.Event, batch uint64) error {
	if len(db.shards) == 1 && !db.replicated {
		return sendTo(ctx, db.shards[0], events, batch)
	}
	parts := make([][]admeter.Event, len(db.shards))
	for i := range events {
		s := shardOf(&events[i], len(db.shards))
		parts[s] = append(parts[s], events[i])
	}
	if db.replicated {
		return db.eachShard(func(i int) error {
			if len(parts[i]) == 0 {
				return nil
			}
			return db.sendReplicated(ctx, i, parts[i], batch)
		})
	}
	return db.onShards(func(i int, c driver.Conn) error {
		if len(parts[i]) == 0 {
			return nil
		}
		return sendTo(ctx, c, parts[i], batch)
	})
}

// sendTo appends the events to the local events table of conn's server
// as one native batch insert, each row marked with batch.
func sendTo(ctx context.Context, conn driver.Conn, events []admeter.Event, batch uint64) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+localEvents+" ("+insertColumns+")")
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
			e.Region.Country, e.Region.Province, e.Region.City, lat, lon, uint8(e.Risk), uint32(e.IVT), batch,
			uint8(e.View), e.ViewArea, e.ViewSeconds, uint32(e.VideoDuration/time.Millisecond), uint8(e.VideoPlay), uint8(e.VideoProgress), uint8(e.VideoQuartiles),
			string(e.ConversionID[:]), e.ConversionType, e.Value, e.Currency, string(e.ClickID[:])); err != nil {
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
