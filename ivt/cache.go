package ivt

import (
	"hash/maphash"
	"sync"
)

// A collector sees the same few thousand user agents over and over, and
// searching one in the crawler list costs 100–500 ns; a map lookup costs a
// fraction of that. The cache lives in memory only, like the request, and is
// bounded: a full shard is emptied and refilled (the hot entries come
// straight back).
const (
	classShards   = 16
	classShardMax = 1024 // entries per shard
	classMaxUA    = 512  // longer user agents are matched, not cached
)

// classCache caches the crawler-list class of user agents.
type classCache struct {
	seed   maphash.Seed
	shards *[classShards]classShard
}

type classShard struct {
	mu sync.RWMutex
	m  map[string]uaClass
}

func newClassCache() classCache {
	c := classCache{seed: maphash.MakeSeed(), shards: new([classShards]classShard)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]uaClass)
	}
	return c
}

// get returns the class of ua, computing it with match on a miss.
func (c classCache) get(ua string, match func(string) uaClass) uaClass {
	if len(ua) > classMaxUA || c.shards == nil {
		return match(ua)
	}
	s := &c.shards[maphash.String(c.seed, ua)%classShards]
	s.mu.RLock()
	class, ok := s.m[ua]
	s.mu.RUnlock()
	if ok {
		return class
	}
	class = match(ua)
	s.mu.Lock()
	if len(s.m) >= classShardMax {
		clear(s.m)
	}
	s.m[ua] = class
	s.mu.Unlock()
	return class
}
