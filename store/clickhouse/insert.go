package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/admeter/admeter"
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
// records next as the offset. Queries read only the rows of batches up to
// the recorded offset, so the batch becomes visible whole when its offset
// is recorded, and a batch whose offset was not recorded is invisible and
// deleted before the next Insert (or at Open after a crash). It returns
// ECONFLICT, storing nothing, if next is not greater than the recorded
// offset, and EINVALID if an event is invalid (see
// admeter.Event.Validate) or older than 2000.
func (db *DB) Insert(ctx context.Context, events []admeter.Event, next uint64) error {
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return admeter.Errorf(admeter.EINVALID, "event %d: %s", i, admeter.ErrorMessage(err))
		}
		if e.At.Before(minEventTime) || e.Received.Before(minEventTime) {
			return admeter.Errorf(admeter.EINVALID, "event %d: time before 2000", i)
		}
	}
	if err := db.lock("insert events"); err != nil {
		return err
	}
	defer db.wmu.Unlock()
	if db.dirty {
		if err := db.recover(ctx); err != nil {
			return fmt.Errorf("insert events: clean up after a failed insert: %w", err)
		}
	}
	if cur := db.offset.Load(); next <= cur {
		return admeter.Errorf(admeter.ECONFLICT, "offset %d is not after the stored offset %d: the batch is already stored", next, cur)
	}
	if len(events) > 0 {
		db.dirty = true // until the offset is recorded
		if err := db.send(ctx, events, next); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
	}
	db.dirty = true
	if err := db.setMeta(ctx, metaOffset, next); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	db.dirty = false
	db.offset.Store(next)
	return nil
}

// send appends the events as one native batch insert.
func (db *DB) send(ctx context.Context, events []admeter.Event, next uint64) error {
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
			e.Region.Country, e.Region.Province, e.Region.City, lat, lon, uint8(e.Risk), uint32(e.IVT), next); err != nil {
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
