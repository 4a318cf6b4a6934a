package optout

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/admeter/admeter"
)

// The in-memory index is an insert-only open-addressing hash table with
// linear probing. A slot holds a pseudonym's 64-bit fingerprint, or 0 for an
// empty slot. Pseudonyms are HMAC outputs, uniformly random, so the
// fingerprint needs no further hashing: its low bits pick the home slot.
//
// Readers never lock: they load the current *table through an
// atomic.Pointer and read slots with atomic loads. The single writer (holding
// Registry.writeMu) stores slots with atomic stores. Because a slot goes from
// 0 to a fingerprint once and never changes again, a reader that runs into an
// insertion sees either 0 (the entry is not there yet) or the complete
// fingerprint. Growth builds a new table with plain stores, while nobody else
// can see it, and publishes it with one atomic pointer store.
const (
	// minCapacity is the slot count of an empty registry (2 KiB).
	minCapacity = 256
	// maxPresize bounds the slot count Open allocates up front from the file
	// length (2 GiB, 214 M entries); a longer file still loads, by growing.
	maxPresize = 1 << 28
)

type table struct {
	slots []uint64 // len is a power of two
}

// fingerprint returns the table key of p: its first 8 bytes, little-endian,
// with 0 (the empty-slot marker) mapped to 1.
func fingerprint(p *admeter.Pseudonym) uint64 {
	fp := binary.LittleEndian.Uint64(p[:8])
	if fp == 0 {
		fp = 1
	}
	return fp
}

// capacityFor returns the smallest power-of-two slot count, at least
// minCapacity, that holds n entries at a load factor of at most 0.8.
func capacityFor(n int) int {
	c := minCapacity
	for 5*n > 4*c {
		c <<= 1
	}
	return c
}

func newTable(capacity int) *table {
	t := &table{slots: make([]uint64, capacity)}
	adviseHugePages(t.slots)
	return t
}

// contains reports whether fp is in t. Safe with a concurrent insert.
func (t *table) contains(fp uint64) bool {
	s := t.slots
	m := uint64(len(s) - 1)
	for i := fp & m; ; i = (i + 1) & m {
		v := atomic.LoadUint64(&s[i])
		if v == fp {
			return true
		}
		if v == 0 {
			return false
		}
	}
}

// insert adds fp and reports whether it was new. Only the writer calls it, on
// a table with room (see Registry.commit). With shared set, the table may
// have readers and the slot is stored atomically; otherwise the table is
// still private to the writer.
func (t *table) insert(fp uint64, shared bool) bool {
	s := t.slots
	m := uint64(len(s) - 1)
	for i := fp & m; ; i = (i + 1) & m {
		switch s[i] { // only the writer stores slots: a plain load is enough
		case fp:
			return false
		case 0:
			if shared {
				atomic.StoreUint64(&s[i], fp)
			} else {
				s[i] = fp
			}
			return true
		}
	}
}

// grown returns a private copy of t with capacity slots.
func (t *table) grown(capacity int) *table {
	nt := newTable(capacity)
	for _, fp := range t.slots {
		if fp != 0 {
			nt.insert(fp, false)
		}
	}
	return nt
}
