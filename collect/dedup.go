package collect

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/admeter/admeter"
)

// dedup remembers recently logged impression ids per placement so that an
// SDK retry of an impression already logged is answered but not logged again.
// It is a bounded two-generation set: ids live for between one and two
// windows, or less when a generation fills up. It saves log volume; the
// exact rule "one impression per impression id and placement" over the SDK's
// whole 7-day retry window is applied again when events are counted.
type dedup struct {
	mu      sync.Mutex
	cur     map[dedupKey]struct{}
	prev    map[dedupKey]struct{}
	rotated time.Time
	window  time.Duration
	max     int
	seed    maphash.Seed
}

// dedupKey holds no pointers, so the garbage collector never scans the
// maps' hundreds of thousands of entries: the placement is a 64-bit hash
// (a collision between two placements' ids would need both a 64-bit and a
// 128-bit coincidence).
type dedupKey struct {
	placement uint64
	id        admeter.Pseudonym
	kind      admeter.Kind
	// sub tells apart events of one kind that are not retries of each
	// other: the result of a viewability event, the point of a video ping.
	sub uint8
}

func newDedup(window time.Duration, max int) *dedup {
	return &dedup{cur: make(map[dedupKey]struct{}), prev: map[dedupKey]struct{}{}, window: window, max: max, seed: maphash.MakeSeed()}
}

// key returns the key of an impression id on a placement.
func (d *dedup) key(placement admeter.PlacementID, kind admeter.Kind, id admeter.Pseudonym) dedupKey {
	return dedupKey{placement: maphash.String(d.seed, string(placement)), id: id, kind: kind}
}

// seen reports whether the key was recorded recently, and records it.
func (d *dedup) seen(k dedupKey, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rotated.IsZero() {
		d.rotated = now
	}
	if now.Sub(d.rotated) >= d.window || len(d.cur) >= d.max {
		d.prev, d.cur, d.rotated = d.cur, make(map[dedupKey]struct{}, len(d.cur)), now
	}
	if _, ok := d.cur[k]; ok {
		return true
	}
	if _, ok := d.prev[k]; ok {
		d.cur[k] = struct{}{}
		return true
	}
	d.cur[k] = struct{}{}
	return false
}

// forget removes a key recorded by seen, for an event that was then not
// logged (the log failed), so that the client's retry is not mistaken for a
// duplicate.
func (d *dedup) forget(k dedupKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.cur, k)
	delete(d.prev, k)
}
