package optout

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"

	"github.com/admeter/admeter"
)

// The in-memory index is an insert-only open-addressing hash table with
// linear probing. A slot holds a pseudonym's 64-bit fingerprint, or 0 for an
// empty slot. Pseudonyms are HMAC outputs, uniformly random, so the
// fingerprint needs no further hashing.
//
// Slots come in buckets of 8 (one 64-byte cache line). A fingerprint's probe
// starts at the first slot of its home bucket, picked by multiplying the
// fingerprint by the bucket count and keeping the high 64 bits, so the slot
// count need not be a power of two. Starting at a line boundary means that a
// lookup, and above all a miss (which must reach an empty slot), seldom
// needs a second cache line; and a slot count that is any multiple of 8 lets
// the table hold its load between 0.52 and 0.7 instead of a power of two's
// 0.4 to 0.8: 11.4 to 15.4 bytes per entry, and short probes.
//
// Readers never lock: they load the current *table through an
// atomic.Pointer and read slots with atomic loads. The single writer (holding
// Registry.writeMu) stores slots with atomic stores. Because a slot goes from
// 0 to a fingerprint once and never changes again, a reader that runs into an
// insertion sees either 0 (the entry is not there yet) or the complete
// fingerprint. Growth builds a new table with plain stores, while nobody else
// can see it, and publishes it with one atomic pointer store.
const (
	// bucketSlots is the number of slots in a bucket: one cache line.
	bucketSlots = 8
	// minCapacity is the slot count of an empty registry (2 KiB).
	minCapacity = 256
	// maxPresize bounds the slot count Open allocates up front from the file
	// length (2 GiB, 214 M entries); a longer file still loads, by growing.
	maxPresize = 1 << 28
)

type table struct {
	slots []uint64 // len is a multiple of bucketSlots
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

// full reports whether a table of capacity slots must grow before it holds
// n entries: above a load of 0.7, misses start to probe long runs.
func full(n, capacity int) bool { return 10*n > 7*capacity }

// capacityFor returns the slot count, a multiple of bucketSlots and at least
// minCapacity, for n entries at a load of 0.52.
func capacityFor(n int) int {
	c := n * 25 / 13
	c = (c + bucketSlots - 1) / bucketSlots * bucketSlots
	return max(c, minCapacity)
}

func newTable(capacity int) *table {
	t := &table{slots: make([]uint64, capacity)}
	adviseHugePages(t.slots)
	return t
}

// home returns the first slot of fp's home bucket in a table of n slots.
func home(fp uint64, n int) int {
	b, _ := bits.Mul64(fp, uint64(n/bucketSlots))
	return int(b) * bucketSlots
}

// contains reports whether fp is in t. Safe with a concurrent insert.
func (t *table) contains(fp uint64) bool {
	s := t.slots
	for i := home(fp, len(s)); ; {
		v := atomic.LoadUint64(&s[i])
		if v == fp {
			return true
		}
		if v == 0 {
			return false
		}
		if i++; i == len(s) {
			i = 0
		}
	}
}

// insert adds fp and reports whether it was new. Only the writer calls it, on
// a table with room (see Registry.commit). With shared set, the table may
// have readers and the slot is stored atomically; otherwise the table is
// still private to the writer.
func (t *table) insert(fp uint64, shared bool) bool {
	s := t.slots
	for i := home(fp, len(s)); ; {
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
		if i++; i == len(s) {
			i = 0
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
