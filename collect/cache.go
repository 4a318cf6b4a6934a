package collect

import (
	"hash/maphash"
	"net/netip"
	"sync"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/useragent"
)

// The collector sees the same few thousand user agents and networks over and
// over; parsing a UA costs about a microsecond and an IP lookup half of one,
// so both are cached. The caches live in memory only, like the raw request,
// and are bounded: a full shard is emptied and refilled (cheaper than LRU
// bookkeeping, and the hot entries come straight back).

const (
	cacheShards   = 16
	cacheShardMax = 1024 // entries per shard
)

// uaCache caches parsed user agents.
type uaCache struct {
	seed   maphash.Seed
	shards [cacheShards]struct {
		mu sync.RWMutex
		m  map[string]useragent.Info
	}
}

func newUACache() *uaCache {
	c := &uaCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]useragent.Info)
	}
	return c
}

// get returns the parsed ua, parsing it with p on a miss. UAs longer than
// 512 bytes are parsed but not cached.
func (c *uaCache) get(p *useragent.Parser, ua string) useragent.Info {
	if ua == "" {
		return useragent.Info{}
	}
	if len(ua) > 512 {
		return p.Parse(ua)
	}
	s := &c.shards[maphash.String(c.seed, ua)%cacheShards]
	s.mu.RLock()
	info, ok := s.m[ua]
	s.mu.RUnlock()
	if ok {
		return info
	}
	info = p.Parse(ua)
	s.mu.Lock()
	if len(s.m) >= cacheShardMax {
		clear(s.m)
	}
	s.m[ua] = info
	s.mu.Unlock()
	return info
}

// geoCache caches regions by network block (/24 or /48): the same unit the
// event keeps, so the cache holds nothing finer than what is stored.
type geoCache struct {
	seed   maphash.Seed
	shards [cacheShards]struct {
		mu sync.RWMutex
		m  map[admeter.NetBlock]admeter.Region
	}
}

func newGeoCache() *geoCache {
	c := &geoCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[admeter.NetBlock]admeter.Region)
	}
	return c
}

// get returns the region of a, looking it up with l on a miss. Databases map
// whole /24s (IPv4) to one place in practice, so the block is the key.
func (c *geoCache) get(l Locator, a netip.Addr, b admeter.NetBlock) admeter.Region {
	s := &c.shards[maphash.Comparable(c.seed, b)%cacheShards]
	s.mu.RLock()
	r, ok := s.m[b]
	s.mu.RUnlock()
	if ok {
		return r
	}
	r = l.Lookup(a)
	s.mu.Lock()
	if len(s.m) >= cacheShardMax {
		clear(s.m)
	}
	s.m[b] = r
	s.mu.Unlock()
	return r
}
