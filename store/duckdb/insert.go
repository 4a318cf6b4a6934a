package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
	duck "github.com/duckdb/duckdb-go/v2"
)

// minEventTime is the earliest event time Insert accepts: earlier ones are
// garbage, and day arithmetic can assume non-negative times.
var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// inserter holds the writer's reusable buffers. Guarded by DB.wmu.
type inserter struct {
	groups []dayGroup
	ids    []dictIDs
	// cols are the columns of batchFunction, threads the most DuckDB
	// threads that fill them; src the rows it returns while an INSERT of
	// Insert runs (nil otherwise).
	cols    []duck.ColumnInfo
	threads int
	src     *batchSource
}

// dayGroup is the indexes of a batch's events of one UTC day.
type dayGroup struct {
	day int32
	idx []int
}

// Insert stores events in the partitions of their UTC days and records
// next as the offset, in one transaction. It returns ECONFLICT, storing
// nothing, if next is not greater than the stored offset, and EINVALID if
// an event is invalid (see admeter.Event.Validate) or older than 2000.
func (db *DB) Insert(ctx context.Context, events []admeter.Event, next uint64) error {
	return db.insert(ctx, "insert events", events, mark{
		conflict: func() error {
			if cur := db.offset.Load(); next <= cur {
				return admeter.Errorf(admeter.ECONFLICT, "offset %d is not after the stored offset %d: the batch is already stored", next, cur)
			}
			return nil
		},
		record: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'offset'`, next); err != nil {
				return fmt.Errorf("record offset: %w", err)
			}
			return nil
		},
		committed: func() { db.offset.Store(next) },
	})
}

// InsertFrom stores events read from a partitioned source in the
// partitions of their UTC days and records next in table positions (one
// row per source partition, upserted), in one transaction. It returns
// ECONFLICT, storing nothing, if a partition of next already has a
// position at or beyond its new one, and EINVALID for an empty next, a
// negative partition or position (see store.CheckPositions), or an
// invalid event (as Insert). The offset is left as it is: a store is fed
// by Insert or by InsertFrom, and switching it once from one to the other
// is harmless (each records its own kind of position).
func (db *DB) InsertFrom(ctx context.Context, events []admeter.Event, next map[int32]int64) error {
	if err := store.CheckPositions(nil, next); err != nil {
		return err
	}
	return db.insert(ctx, "insert events from partitions", events, mark{
		conflict: func() error { return store.CheckPositions(*db.positions.Load(), next) },
		record: func(ctx context.Context, tx *sql.Tx) error {
			parts := slices.Sorted(maps.Keys(next))
			var b strings.Builder
			b.WriteString(`INSERT INTO positions VALUES `)
			for i, p := range parts {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "(%d, %d)", p, next[p])
			}
			b.WriteString(` ON CONFLICT (partition) DO UPDATE SET next = excluded.next`)
			if _, err := tx.ExecContext(ctx, b.String()); err != nil {
				return fmt.Errorf("record partition positions: %w", err)
			}
			return nil
		},
		committed: func() {
			pos := maps.Clone(*db.positions.Load())
			maps.Copy(pos, next)
			db.positions.Store(&pos)
		},
	})
}

// Positions returns the partition positions InsertFrom recorded (an empty
// map if none).
func (db *DB) Positions(ctx context.Context) (map[int32]int64, error) {
	return maps.Clone(*db.positions.Load()), nil
}

// mark is what a batch records beside its events, in the same
// transaction: the position of its source that loading resumes from.
type mark struct {
	// conflict returns an error (ECONFLICT, or EINVALID) if the batch may
	// not be stored; it runs holding the writer lock, before anything is
	// written.
	conflict func() error
	// record writes the position in the batch's transaction.
	record func(ctx context.Context, tx *sql.Tx) error
	// committed updates the in-memory copy once the transaction is
	// committed.
	committed func()
}

// insert validates events and stores them, and m's position, in one
// transaction on the writer: the shared body of Insert and InsertFrom.
// op names the operation in errors.
func (db *DB) insert(ctx context.Context, op string, events []admeter.Event, m mark) error {
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return admeter.Errorf(admeter.EINVALID, "event %d: %s", i, admeter.ErrorMessage(err))
		}
		if e.At.Before(minEventTime) || e.Received.Before(minEventTime) {
			return admeter.Errorf(admeter.EINVALID, "event %d: time before 2000", i)
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return fmt.Errorf("%s: %w", op, errClosed)
	}
	if err := m.conflict(); err != nil {
		return err
	}

	ins := &db.ins
	ins.group(events)
	var created []int32
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, g := range ins.groups {
			if !db.parts[g.day] {
				if err := createPartition(ctx, tx, g.day); err != nil {
					return err
				}
				created = append(created, g.day)
			}
		}
		var memo memos
		for _, g := range ins.groups {
			if err := ins.insertDay(ctx, tx, g, events, &memo, db.dict); err != nil {
				return err
			}
		}
		if err := db.touchInserted(ctx, tx, ins.groups, events, created); err != nil {
			return err
		}
		if err := db.wconn.Raw(func(dc any) error {
			conn, ok := dc.(driver.Conn)
			if !ok {
				return errors.New("writer connection is not a driver.Conn")
			}
			return appendStrings(ctx, conn, db.dict)
		}); err != nil {
			return err
		}
		if db.afterAppend != nil {
			if err := db.afterAppend(); err != nil {
				return err
			}
		}
		return m.record(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	db.dict.committed()
	for _, day := range created {
		db.parts[day] = true
		db.logger.Debug("partition created", "table", partitionName(day))
	}
	m.committed()
	return nil
}

// group sorts the indexes of events into ins.groups by UTC day, reusing
// the buffers of the previous batch.
func (ins *inserter) group(events []admeter.Event) {
	ins.groups = ins.groups[:0]
	cur := -1
	for i := range events {
		d := int32(events[i].At.Unix() / 86400)
		if cur < 0 || ins.groups[cur].day != d {
			cur = -1
			for j := range ins.groups {
				if ins.groups[j].day == d {
					cur = j
					break
				}
			}
			if cur < 0 {
				cur = len(ins.groups)
				if cur < cap(ins.groups) {
					ins.groups = ins.groups[:cur+1]
					ins.groups[cur].day, ins.groups[cur].idx = d, ins.groups[cur].idx[:0]
				} else {
					ins.groups = append(ins.groups, dayGroup{day: d})
				}
			}
		}
		ins.groups[cur].idx = append(ins.groups[cur].idx, i)
	}
}

// insertDay inserts the events of one day into its partition, in tx:
// their strings are interned first, then one INSERT … SELECT reads them
// from batchFunction.
func (ins *inserter) insertDay(ctx context.Context, tx *sql.Tx, g dayGroup, events []admeter.Event, m *memos, d *dict) error {
	ins.ids = ins.ids[:0]
	for _, i := range g.idx {
		ins.ids = append(ins.ids, m.resolve(&events[i], d))
	}
	ins.src = &batchSource{threads: ins.threads, cols: ins.cols, events: events, idx: g.idx, ids: ins.ids, boxed: d.boxed}
	defer func() { ins.src = nil }()
	res, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM %s()", partitionName(g.day), batchFunction))
	if err != nil {
		return fmt.Errorf("insert into %s: %w", partitionName(g.day), err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(g.idx)) {
		return fmt.Errorf("insert into %s: %d rows of %d inserted (%v)", partitionName(g.day), n, len(g.idx), err)
	}
	return nil
}

// registerBatchFunction registers batchFunction on the writer's
// connection.
func (db *DB) registerBatchFunction() error {
	cols, err := eventColumnInfos()
	if err != nil {
		return fmt.Errorf("register %s: %w", batchFunction, err)
	}
	db.ins.cols, db.ins.threads = cols, db.opts.Threads
	err = duck.RegisterTableUDF(db.wconn, batchFunction, duck.ParallelChunkTableFunction{
		BindArguments: func(map[string]any, ...any) (duck.ParallelChunkTableSource, error) {
			if db.ins.src == nil {
				return nil, fmt.Errorf("%s is Insert's: it has no rows outside an Insert", batchFunction)
			}
			return db.ins.src, nil
		},
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", batchFunction, err)
	}
	return nil
}

// appendStrings writes the dictionary's pending strings to strs.
func appendStrings(ctx context.Context, conn driver.Conn, d *dict) error {
	ids, strs := d.pendingRows()
	if len(ids) == 0 {
		return nil
	}
	a, err := duck.NewAppenderFromConn(conn, "", "strs")
	if err != nil {
		return fmt.Errorf("open strings appender: %w", err)
	}
	for i, id := range ids {
		if err := a.AppendRow(id, strs[i]); err != nil {
			_ = a.Close()
			return fmt.Errorf("append string: %w", err)
		}
	}
	if err := a.CloseWithCancel(ctx); err != nil {
		return fmt.Errorf("flush strings: %w", err)
	}
	return nil
}

// memos remembers the last string of each string field.
type memos struct {
	tenant, campaign, placement, osVersion, browser, model, app, appPackage, country, province, city, convType, currency memo
}

// noUUID is a NULL UUID column value.
var noUUID *duck.UUID

// Indexes in a dictIDs of the string fields of an event.
const (
	idTenant = iota
	idCampaign
	idPlacement
	idOSVersion
	idBrowser
	idModel
	idApp
	idAppPackage
	idCountry
	idProvince
	idCity
	idConvType
	idCurrency
	numDictFields
)

// dictIDs are the dictionary ids of an event's string fields, by the id*
// indexes: resolved by the writer before the rows are filled, so that
// filling (on DuckDB's threads, see batchSource) never changes the
// dictionary.
type dictIDs [numDictFields]uint32

// resolve returns the dictionary ids of e's string fields, interning new
// strings. Writer only.
func (m *memos) resolve(e *admeter.Event, d *dict) dictIDs {
	id := func(v driver.Value) uint32 { return v.(uint32) }
	return dictIDs{
		idTenant:     id(m.tenant.get(d, string(e.Tenant))),
		idCampaign:   id(m.campaign.get(d, string(e.Campaign))),
		idPlacement:  id(m.placement.get(d, string(e.Placement))),
		idOSVersion:  id(m.osVersion.get(d, e.OSVersion)),
		idBrowser:    id(m.browser.get(d, e.Browser)),
		idModel:      id(m.model.get(d, e.Model)),
		idApp:        id(m.app.get(d, e.App)),
		idAppPackage: id(m.appPackage.get(d, e.AppPackage)),
		idCountry:    id(m.country.get(d, e.Region.Country)),
		idProvince:   id(m.province.get(d, e.Region.Province)),
		idCity:       id(m.city.get(d, e.Region.City)),
		idConvType:   id(m.convType.get(d, e.ConversionType)),
		idCurrency:   id(m.currency.get(d, e.Currency)),
	}
}

// fill sets row to the columns of e, in eventColumns order, interning its
// strings. Writer only.
func (m *memos) fill(row []driver.Value, e *admeter.Event, d *dict) {
	ids := m.resolve(e, d)
	fillRow(row, e, &ids, d.boxed)
}

// fillRow sets row to the columns of e, in eventColumns order, with ids
// its resolved strings and boxed the dictionary's boxed ids (dict.boxed,
// so that no id is boxed again). It only reads its arguments.
func fillRow(row []driver.Value, e *admeter.Event, ids *dictIDs, boxed []driver.Value) {
	row[0] = boxed[ids[idTenant]]
	row[1] = boxed[ids[idCampaign]]
	row[2] = boxed[ids[idPlacement]]
	row[3] = uint8(e.Kind)
	row[4] = e.At.UnixMilli()
	row[5] = e.Received.UnixMilli()
	row[6] = uint16(e.Flags)
	row[7] = uuidValue(&e.User)
	row[8] = uint8(e.UserType)
	row[9] = e.KeyVersion
	row[10] = uuidValue(&e.ImpressionID)
	// Values without a name are stored as unknown (0), so that a report
	// never has two rows named "unknown".
	os := e.OS
	if os.String() == "unknown" {
		os = 0
	}
	row[11] = uint8(os)
	row[12] = boxed[ids[idOSVersion]]
	dev := e.DeviceType
	if dev.String() == "unknown" {
		dev = 0
	}
	row[13] = uint8(dev)
	row[14] = boxed[ids[idBrowser]]
	row[15] = boxed[ids[idModel]]
	row[16] = uint8(e.Network)
	row[17] = boxed[ids[idApp]]
	row[18] = boxed[ids[idAppPackage]]
	row[19] = netValue(e.Net)
	row[20] = boxed[ids[idCountry]]
	row[21] = boxed[ids[idProvince]]
	row[22] = boxed[ids[idCity]]
	if e.Area.IsZero() {
		row[23], row[24] = nil, nil
	} else {
		lat, lon := e.Area.Grid()
		row[23], row[24] = lat, lon
	}
	row[25] = uint8(e.Risk)
	row[26] = uint32(e.IVT)
	row[27], row[28], row[29] = uint8(e.View), e.ViewArea, e.ViewSeconds
	row[30] = uint32(e.VideoDuration.Milliseconds())
	row[31], row[32], row[33] = uint8(e.VideoPlay), uint8(e.VideoProgress), uint8(e.VideoQuartiles)
	row[34] = uuidValue(&e.ConversionID)
	row[35] = boxed[ids[idConvType]]
	row[36] = e.Value
	row[37] = boxed[ids[idCurrency]]
	row[38] = uuidValue(&e.ClickID)
}

// uuidValue returns p for a UUID column: NULL when zero.
func uuidValue(p *admeter.Pseudonym) driver.Value {
	if p.IsZero() {
		return noUUID
	}
	return (*duck.UUID)(p)
}

// net4 marks an IPv4 network in the net column.
const net4 = 1 << 48

// netValue encodes a network block for the net column: an IPv4 /24 as
// 2^48 plus its network address as a 32-bit number, an IPv6 /48 as its top
// 48 bits, unknown as NULL.
func netValue(b admeter.NetBlock) driver.Value {
	if b.IsZero() {
		return nil
	}
	a := b.Prefix().Addr()
	if a.Is4() {
		v := a.As4()
		return int64(net4 | uint64(v[0])<<24 | uint64(v[1])<<16 | uint64(v[2])<<8 | uint64(v[3]))
	}
	v := a.As16()
	return int64(uint64(v[0])<<40 | uint64(v[1])<<32 | uint64(v[2])<<24 | uint64(v[3])<<16 | uint64(v[4])<<8 | uint64(v[5]))
}

// touchInserted records the change of the days of groups, in tx (see
// touch). A day's change counts as one that can alter later days' reach
// index (dep) only when some impression id inserted into it is also in a
// later partition: then a row there may have just got an earlier copy.
// Events of the newest day, the usual case, have no later partition to
// look in; late ones (SDK retries, delayed uploads: the collector keeps
// event times of the last 7 days) cost one probe of the later partitions'
// impression ids, the ids passed as one list parameter (not thousands of
// literals in the statement's text). A day with more
// than probeLaterMax later partitions (a backfill) counts as dep without
// a probe: its later days' files are rebuilt instead of every batch
// scanning them.
func (db *DB) touchInserted(ctx context.Context, tx *sql.Tx, groups []dayGroup, events []admeter.Event, created []int32) error {
	all := maps.Clone(db.parts)
	for _, d := range created {
		all[d] = true
	}
	days := sortedDays(all)
	var plain, dep []int32
	for _, g := range groups {
		i := sort.Search(len(days), func(i int) bool { return days[i] > g.day })
		later := days[i:]
		var ids []string
		if len(later) > 0 {
			seen := map[admeter.Pseudonym]bool{}
			for _, j := range g.idx {
				e := &events[j]
				if e.Kind == admeter.KindImpression && !e.ImpressionID.IsZero() && !seen[e.ImpressionID] {
					seen[e.ImpressionID] = true
					ids = append(ids, uuidString(e.ImpressionID))
				}
			}
		}
		switch {
		case len(ids) == 0:
			plain = append(plain, g.day)
			continue
		case len(later) > probeLaterMax:
			dep = append(dep, g.day)
			continue
		}
		var found bool
		where := fmt.Sprintf("kind = %d AND impression IN (SELECT unnest($1::VARCHAR[])::UUID)", sqlImpression)
		if err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) > 0 FROM (%s)", unionAll(later, "1", where, false)), ids).Scan(&found); err != nil {
			return fmt.Errorf("look for later copies of late impressions: %w", err)
		}
		if found {
			dep = append(dep, g.day)
		} else {
			plain = append(plain, g.day)
		}
	}
	return db.touch(ctx, tx, plain, dep)
}

// probeLaterMax is the most later partitions touchInserted probes for
// copies of a day's late impressions: a week's, and a day to spare.
const probeLaterMax = 8
