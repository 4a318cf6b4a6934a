package duckdb

import (
	"database/sql/driver"
	"sync"
)

// dict is the string dictionary: every string field of an event is stored
// as the id of its string in table strs, which keeps event rows fixed-width
// (fast to append, scan and compare) and stores each distinct app name,
// model or campaign id once. Id 0 is the empty string.
//
// Queries read it under mu. Only the writer (holding DB.wmu) adds strings.
// A new string gets its id at once, in memory, before the transaction that
// first uses it commits, so a query whose snapshot has the new rows can
// always name them. Ids are never reused: a string whose transaction failed
// keeps its id and stays pending, and the next transaction writes it to
// strs. (A query that looked up a string in that window finds no rows with
// its id, and can never find another string's.)
type dict struct {
	mu   sync.RWMutex
	ids  map[string]uint32
	strs []string

	// Writer-only: boxed[id] is the id as a driver.Value, so appending a
	// row allocates nothing for its string fields; pending are the ids not
	// yet in table strs.
	boxed   []driver.Value
	pending []uint32
}

func newDict() *dict {
	return &dict{ids: map[string]uint32{"": 0}, strs: []string{""}, boxed: []driver.Value{uint32(0)}}
}

// load adds a committed string read from the database at open.
func (d *dict) load(id uint32, s string) {
	for uint32(len(d.strs)) <= id {
		d.strs = append(d.strs, "")
		d.boxed = append(d.boxed, uint32(len(d.boxed)))
	}
	d.strs[id] = s
	d.ids[s] = id
}

// lookup returns the id of s, for queries.
func (d *dict) lookup(s string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.ids[s]
	return id, ok
}

// lookupAll returns the ids of the strings of ss that have one, in order,
// under one lock, for queries.
func (d *dict) lookupAll(ss []string) []uint32 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var ids []uint32
	for _, s := range ss {
		if id, ok := d.ids[s]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// labels returns the strings with the given ids, for labelling query
// results.
func (d *dict) labels(ids []uint32) []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, len(ids))
	for i, id := range ids {
		if int(id) < len(d.strs) {
			out[i] = d.strs[id]
		}
	}
	return out
}

// intern returns the boxed id of s, giving s a new pending id if it has
// none. Writer only.
func (d *dict) intern(s string) driver.Value {
	// The writer is the only one that changes ids, so it may read them
	// without the lock.
	if id, ok := d.ids[s]; ok {
		return d.boxed[id]
	}
	d.mu.Lock()
	id := uint32(len(d.strs))
	d.ids[s] = id
	d.strs = append(d.strs, s)
	d.mu.Unlock()
	d.boxed = append(d.boxed, id)
	d.pending = append(d.pending, id)
	return d.boxed[id]
}

// pendingRows returns the (id, string) rows still to be written to strs.
// Writer only.
func (d *dict) pendingRows() (ids []uint32, strs []string) {
	return d.pending, d.labels(d.pending)
}

// committed records that the pending strings are in strs. Writer only.
func (d *dict) committed() { d.pending = d.pending[:0] }

// memo caches the boxed id of the last string seen in one field: events of
// a batch mostly repeat their neighbours' tenant, campaign and region.
type memo struct {
	s string
	v driver.Value
}

func (m *memo) get(d *dict, s string) driver.Value {
	if m.v != nil && m.s == s {
		return m.v
	}
	m.s, m.v = s, d.intern(s)
	return m.v
}
