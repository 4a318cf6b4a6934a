package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// eventCols are the columns UserEvents and RecentEvents read, in the
// order of storedEvent.dest.
const eventCols = `campaign, placement, kind, ts, received, flags, user_key, user_type, key_version, impression,
	os, os_version, device, browser, model, network, app, app_package, net, country, province, city, lat, lon, risk, ivt,
	view, view_area, view_seconds, video_duration, video_play, video_progress, video_quartiles,
	conversion_id, conversion_type, value, currency, click_id`

// storedEvent is one row of eventCols.
type storedEvent struct {
	e                                   admeter.Event
	campaign, placement                 string
	kind, userType, os, device, network uint8
	risk                                uint8
	view, play, progress, quartiles     uint8
	videoMillis                         uint32
	ts, received                        int64
	flags                               uint16
	ivt                                 uint32
	net                                 *int64
	lat, lon                            *int32
}

func (r *storedEvent) dest() []any {
	e := &r.e
	return []any{&r.campaign, &r.placement, &r.kind, &r.ts, &r.received, &r.flags, (*[16]byte)(&e.User), &r.userType, &e.KeyVersion, (*[16]byte)(&e.ImpressionID),
		&r.os, &e.OSVersion, &r.device, &e.Browser, &e.Model, &r.network, &e.App, &e.AppPackage, &r.net,
		&e.Region.Country, &e.Region.Province, &e.Region.City, &r.lat, &r.lon, &r.risk, &r.ivt,
		&r.view, &e.ViewArea, &e.ViewSeconds, &r.videoMillis, &r.play, &r.progress, &r.quartiles,
		(*[16]byte)(&e.ConversionID), &e.ConversionType, &e.Value, &e.Currency, (*[16]byte)(&e.ClickID)}
}

// event returns the stored event of tenant.
func (r *storedEvent) event(tenant admeter.TenantID) admeter.Event {
	e := r.e
	e.Tenant, e.Campaign, e.Placement = tenant, admeter.CampaignID(r.campaign), admeter.PlacementID(r.placement)
	e.Kind, e.UserType, e.OS, e.DeviceType, e.Network = admeter.Kind(r.kind), admeter.IDType(r.userType), admeter.OS(r.os), admeter.DeviceType(r.device), admeter.Network(r.network)
	e.Risk, e.IVT, e.Flags = admeter.Risk(r.risk), admeter.IVT(r.ivt), admeter.Flags(r.flags)
	e.At, e.Received = time.UnixMilli(r.ts).UTC(), time.UnixMilli(r.received).UTC()
	e.View, e.VideoPlay, e.VideoProgress, e.VideoQuartiles = admeter.ViewResult(r.view), admeter.VideoPlay(r.play), admeter.VideoProgress(r.progress), admeter.Quartiles(r.quartiles)
	e.VideoDuration = time.Duration(r.videoMillis) * time.Millisecond
	if r.net != nil {
		e.Net = blockOf(*r.net)
	}
	if r.lat != nil && r.lon != nil {
		e.Area, _ = admeter.AreaFromGrid(*r.lat, *r.lon)
	}
	return e
}

// blockOf decodes a value of the net column (see netValue).
func blockOf(v int64) admeter.NetBlock {
	u := uint64(v)
	if u&net4 != 0 {
		return admeter.BlockOf(netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}))
	}
	var a [16]byte
	for i := range 6 {
		a[i] = byte(u >> (40 - 8*i))
	}
	return admeter.BlockOf(netip.AddrFrom16(a))
}

// readEvents runs query, which selects eventCols, and returns its rows.
func (db *DB) readEvents(ctx context.Context, query string) ([]storedEvent, error) {
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var r storedEvent
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserEvents returns the raw events of tenant whose user is one of users,
// ordered by event time then receive time, at most limit of them, and
// whether there are more. Each chunk of users is one query keeping the
// first limit+1 rows; the chunks' rows are merged in Go. It returns
// EINVALID for an empty tenant or a limit below 1.
func (db *DB) UserEvents(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym, limit int) ([]admeter.Event, bool, error) {
	switch {
	case tenant == "":
		return nil, false, invalid("an access request needs a tenant")
	case limit < 1:
		return nil, false, invalid("the limit of events must be at least 1, not %d", limit)
	}
	chunks := userKeys(users)
	if len(chunks) == 0 {
		return nil, false, nil
	}
	keep := int64(limit)
	if keep < math.MaxInt64 {
		keep++ // one more tells whether there are more
	}
	v, err := db.view(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read user events: %w", err)
	}
	var found []storedEvent
	for _, keys := range chunks {
		rows, err := db.readEvents(ctx, fmt.Sprintf("SELECT %s FROM "+db.events+" WHERE %s%s ORDER BY ts, received LIMIT %d",
			eventCols, userWhere(tenant, keys), v.and(), keep))
		if err != nil {
			return nil, false, fmt.Errorf("read user events: %w", err)
		}
		found = append(found, rows...)
	}
	if len(chunks) > 1 {
		slices.SortStableFunc(found, func(a, b storedEvent) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.received, b.received))
		})
	}
	truncated := int64(len(found)) > int64(limit)
	if truncated {
		found = found[:limit]
	}
	out := make([]admeter.Event, len(found))
	for i := range found {
		out[i] = found[i].event(tenant)
	}
	return out, truncated, nil
}

// recentDays is how many of the campaign's latest UTC days RecentEvents
// reads.
const recentDays = 3

// RecentEvents returns the latest events of a campaign by receive time,
// newest first, at most limit, from the campaign's last few UTC days of
// events: the live check that shows a trafficker a placement's code
// works. It is not a report (an event whose client time is days older
// than the campaign's latest is not looked for).
func (db *DB) RecentEvents(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, limit int) ([]admeter.Event, error) {
	if tenant == "" || campaign == "" || limit < 1 {
		return nil, invalid("recent events need a tenant, a campaign and a limit of at least 1")
	}
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("read recent events: %w", err)
	}
	owner := fmt.Sprintf("tenant = %s AND campaign = %s", quote(string(tenant)), quote(string(campaign))) + v.and()
	found, err := db.readEvents(ctx, fmt.Sprintf(`SELECT %s FROM `+db.events+`
WHERE %s AND day + %d > (SELECT max(day) FROM `+db.events+` WHERE %s)
ORDER BY received DESC, ts DESC LIMIT %d`, eventCols, owner, recentDays, owner, limit))
	if err != nil {
		return nil, fmt.Errorf("read recent events: %w", err)
	}
	out := make([]admeter.Event, len(found))
	for i := range found {
		out[i] = found[i].event(tenant)
	}
	return out, nil
}

// RawDays returns each UTC day that holds raw events, with their number,
// in order, from one aggregation by the partition column.
func (db *DB) RawDays(ctx context.Context) ([]store.DayCount, error) {
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("count raw events by day: %w", err)
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT toInt64(day), toInt64(count()) FROM `+db.events+` WHERE 1%s GROUP BY day ORDER BY day`, v.and()))
	if err != nil {
		return nil, fmt.Errorf("count raw events by day: %w", err)
	}
	defer rows.Close()
	var out []store.DayCount
	for rows.Next() {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			return nil, fmt.Errorf("count raw events by day: %w", err)
		}
		out = append(out, store.DayCount{Day: dateOfDay(day), Events: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count raw events by day: %w", err)
	}
	return out, nil
}

// KeyVersions returns, per key version that raw events or social records
// name, their number, the number with a pseudonym and the latest event
// time, in ascending order of version, from one aggregation of each
// table (every social record counts as one with a pseudonym).
func (db *DB) KeyVersions(ctx context.Context) ([]store.KeyVersionUse, error) {
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("count raw events by key version: %w", err)
	}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT key_version, toInt64(count()), toInt64(countIf(user_key != %[1]s OR impression != %[1]s OR conversion_id != %[1]s OR click_id != %[1]s)), max(ts)
FROM `+db.events+` WHERE 1%[2]s GROUP BY key_version ORDER BY key_version`, noKey, v.and()))
	if err != nil {
		return nil, fmt.Errorf("count raw events by key version: %w", err)
	}
	defer rows.Close()
	var out []store.KeyVersionUse
	for rows.Next() {
		var u store.KeyVersionUse
		var latest int64
		if err := rows.Scan(&u.Version, &u.Events, &u.Pseudonymous, &latest); err != nil {
			return nil, fmt.Errorf("count raw events by key version: %w", err)
		}
		u.Latest = time.UnixMilli(latest).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count raw events by key version: %w", err)
	}
	if out, err = db.postKeyVersions(ctx, out); err != nil {
		return nil, fmt.Errorf("count social records by key version: %w", err)
	}
	return out, nil
}
