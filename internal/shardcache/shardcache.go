// Package shardcache is a bounded, sharded, concurrent map for values that
// are cheap to keep and dear to compute (parsed user agents, regions of
// networks, crawler-list verdicts): the collector sees the same few
// thousand keys over and over. A full shard is emptied and refilled, which
// is cheaper than LRU bookkeeping, and the hot entries come straight back.
// Entries live in memory only, like the request they came from.
package shardcache

import (
	"hash/maphash"
	"sync"
)

// shards is the number of independently locked parts.
const shards = 16

// Cache maps keys to computed values. The zero Cache is not usable; make
// one with New. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	seed     maphash.Seed
	shardMax int
	shards   [shards]shard[K, V]
}

type shard[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// New returns a Cache of at most 16 × shardMax entries.
func New[K comparable, V any](shardMax int) *Cache[K, V] {
	c := &Cache[K, V]{seed: maphash.MakeSeed(), shardMax: max(shardMax, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[K]V)
	}
	return c
}

// Get returns the value of k, computing it with compute on a miss (without
// holding a lock, so two callers may compute the same value at once).
func (c *Cache[K, V]) Get(k K, compute func(K) V) V {
	s := &c.shards[maphash.Comparable(c.seed, k)%shards]
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	if ok {
		return v
	}
	v = compute(k)
	s.mu.Lock()
	if len(s.m) >= c.shardMax {
		clear(s.m)
	}
	s.m[k] = v
	s.mu.Unlock()
	return v
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
