package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/admeter/admeter"
)

// userEventCols are the columns UserEvents reads, in the order of
// storedEvent's fields: every column but the tenant.
const userEventCols = `campaign, placement, kind, ts, received, flags, user_key, user_type, key_version, impression,
	os, os_version, device, browser, model, network, app, app_package, net, country, province, city, lat, lon, risk, ivt,
	view, view_area, view_seconds, video_duration, video_play, video_progress, video_quartiles,
	conversion, conversion_type, value, currency, click_id`

// numStoredStrs is the number of string columns in userEventCols.
const numStoredStrs = 12

// storedEvent is one row of userEventCols; strs are dictionary ids, in the
// order campaign, placement, os_version, browser, model, app, app_package,
// country, province, city, conversion_type, currency.
type storedEvent struct {
	strs                                [numStoredStrs]uint32
	kind, userType, os, device, network uint8
	risk                                uint8
	ts, received                        int64
	flags                               uint16
	keyVersion, ivt                     uint32
	user, impression                    []byte
	net                                 sql.NullInt64
	lat, lon                            sql.NullInt32
	view, viewArea, viewSeconds         uint8
	videoPlay, progress, quartiles      uint8
	videoDuration                       uint32
	conversion, clickID                 []byte
	value                               int64
}

func (r *storedEvent) dest() []any {
	s := &r.strs
	return []any{&s[0], &s[1], &r.kind, &r.ts, &r.received, &r.flags, &r.user, &r.userType, &r.keyVersion, &r.impression,
		&r.os, &s[2], &r.device, &s[3], &s[4], &r.network, &s[5], &s[6], &r.net, &s[7], &s[8], &s[9], &r.lat, &r.lon, &r.risk, &r.ivt,
		&r.view, &r.viewArea, &r.viewSeconds, &r.videoDuration, &r.videoPlay, &r.progress, &r.quartiles,
		&r.conversion, &s[10], &r.value, &s[11], &r.clickID}
}

// UserEvents returns the raw events of tenant whose user is one of users,
// ordered by event time then receive time, at most limit of them, and
// whether there are more. Each chunk of users is one query over every
// partition, keeping the first limit+1 rows; the chunks' rows are merged
// in Go. It returns EINVALID for an empty tenant or a limit below 1.
func (db *DB) UserEvents(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym, limit int) ([]admeter.Event, bool, error) {
	switch {
	case tenant == "":
		return nil, false, invalid("an access request needs a tenant")
	case limit < 1:
		return nil, false, invalid("the limit of events must be at least 1, not %d", limit)
	}
	chunks := userKeys(users)
	t, ok := db.dict.lookup(string(tenant))
	if !ok || len(chunks) == 0 {
		return nil, false, nil
	}
	keep := int64(limit)
	if keep < math.MaxInt64 {
		keep++ // one more tells whether there are more
	}
	var found []storedEvent
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil || len(days) == 0 {
			return err
		}
		found, err = scanChunks(ctx, tx, len(chunks), func(i int) string {
			return fmt.Sprintf("SELECT * FROM (%s)\nORDER BY ts, received LIMIT %d", unionAll(days, userEventCols, userWhere(t, chunks[i]), false), keep)
		}, (*storedEvent).dest)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read user events: %w", err)
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
	return db.events(tenant, found), truncated, nil
}

// events turns stored rows of tenant into events.
func (db *DB) events(tenant admeter.TenantID, rows []storedEvent) []admeter.Event {
	ids := make([]uint32, 0, len(rows)*numStoredStrs)
	for i := range rows {
		ids = append(ids, rows[i].strs[:]...)
	}
	strs := db.dict.labels(ids)
	out := make([]admeter.Event, len(rows))
	for i := range rows {
		r, s := &rows[i], strs[i*numStoredStrs:]
		e := admeter.Event{
			Kind:       admeter.Kind(r.kind),
			Tenant:     tenant,
			Campaign:   admeter.CampaignID(s[0]),
			Placement:  admeter.PlacementID(s[1]),
			At:         time.UnixMilli(r.ts).UTC(),
			Received:   time.UnixMilli(r.received).UTC(),
			Flags:      admeter.Flags(r.flags),
			UserType:   admeter.IDType(r.userType),
			KeyVersion: r.keyVersion,
			OS:         admeter.OS(r.os),
			OSVersion:  s[2],
			DeviceType: admeter.DeviceType(r.device),
			Browser:    s[3],
			Model:      s[4],
			Network:    admeter.Network(r.network),
			App:        s[5],
			AppPackage: s[6],
			Region:     admeter.Region{Country: s[7], Province: s[8], City: s[9]},
			Risk:       admeter.Risk(r.risk),
			IVT:        admeter.IVT(r.ivt),

			View:           admeter.ViewResult(r.view),
			ViewArea:       r.viewArea,
			ViewSeconds:    r.viewSeconds,
			VideoDuration:  time.Duration(r.videoDuration) * time.Millisecond,
			VideoPlay:      admeter.VideoPlay(r.videoPlay),
			VideoProgress:  admeter.VideoProgress(r.progress),
			VideoQuartiles: admeter.Quartiles(r.quartiles),
			ConversionType: s[10],
			Value:          r.value,
			Currency:       s[11],
		}
		copy(e.User[:], r.user)
		copy(e.ImpressionID[:], r.impression)
		copy(e.ConversionID[:], r.conversion)
		copy(e.ClickID[:], r.clickID)
		if r.net.Valid {
			e.Net = blockOf(r.net.Int64)
		}
		if r.lat.Valid && r.lon.Valid {
			e.Area, _ = admeter.AreaFromGrid(r.lat.Int32, r.lon.Int32)
		}
		out[i] = e
	}
	return out
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
