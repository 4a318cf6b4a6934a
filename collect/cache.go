package collect

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/shardcache"
	"github.com/admeter/admeter/useragent"
)

// The collector sees the same few thousand user agents and networks over and
// over; parsing a UA costs about a microsecond and an IP lookup half of one,
// so both are cached (package shardcache: bounded, in memory only, like the
// raw request).

// cacheShardMax is the number of entries per shard of each cache.
const cacheShardMax = 1024

// uaMaxCached is the longest user agent cached; longer ones are parsed
// every time.
const uaMaxCached = 512

// uaCache caches parsed user agents.
type uaCache struct {
	c *shardcache.Cache[string, useragent.Info]
}

func newUACache() *uaCache { return &uaCache{shardcache.New[string, useragent.Info](cacheShardMax)} }

// get returns the parsed ua, parsing it with p on a miss.
func (c *uaCache) get(p *useragent.Parser, ua string) useragent.Info {
	if ua == "" {
		return useragent.Info{}
	}
	if len(ua) > uaMaxCached {
		return p.Parse(ua)
	}
	return c.c.Get(ua, p.Parse)
}

// geoCache caches regions by network block (/24 or /48): the same unit the
// event keeps, so the cache holds nothing finer than what is stored.
//
// IPv4 blocks, nearly all of the traffic, go through a direct-mapped table
// of packed integers that a lookup reads with one atomic load and no lock:
// on a loaded collector the shared map this replaced cost more than a
// microsecond a request in hashing, locking and cache misses. Each slot
// holds a /24's number and the index of its region in an append-only
// table of the distinct regions seen (a few thousand cities), so the table
// holds no pointers for the garbage collector to scan. A slot taken by
// another /24 is simply overwritten. IPv6 blocks use a sharded map.
type geoCache struct {
	v4 []atomic.Uint64 // v4Slots; 0 is empty, else v4Entry

	mu      sync.Mutex                // guards index and the publishing of regions
	index   map[admeter.Region]uint32 // region → its index in regions
	regions [maxRegionChunks]atomic.Pointer[[regionChunk]admeter.Region]
	nreg    uint32 // regions in use
	maxReg  uint32 // most regions kept: regionChunk × maxRegionChunks, less in tests

	v6 *shardcache.Cache[admeter.NetBlock, admeter.Region]
}

const (
	// v4Slots is the number of IPv4 slots (8 bytes each, 1 MiB in all).
	v4Bits  = 17
	v4Slots = 1 << v4Bits
	// regionChunk × maxRegionChunks bounds the distinct regions cached; a
	// region past it is looked up every time (a database with that many
	// places is not a city database).
	regionChunk     = 1024
	maxRegionChunks = 256
)

func newGeoCache() *geoCache {
	return &geoCache{
		v4:     make([]atomic.Uint64, v4Slots),
		index:  make(map[admeter.Region]uint32),
		maxReg: regionChunk * maxRegionChunks,
		v6:     shardcache.New[admeter.NetBlock, admeter.Region](cacheShardMax),
	}
}

// v4Entry packs a /24's number (the address's first three bytes) and its
// region's index into a slot value; the 1<<63 bit makes it non-zero.
func v4Entry(block24 uint32, region uint32) uint64 {
	return 1<<63 | uint64(block24)<<32 | uint64(region)
}

// get returns the region of a, looking it up with l on a miss. Databases map
// whole /24s (IPv4) to one place in practice, so the block is the key.
func (c *geoCache) get(l Locator, a netip.Addr, b admeter.NetBlock) admeter.Region {
	a = a.Unmap()
	if !a.Is4() {
		return c.v6.Get(b, func(admeter.NetBlock) admeter.Region { return l.Lookup(a) })
	}
	ip := a.As4()
	block := uint32(ip[0])<<16 | uint32(ip[1])<<8 | uint32(ip[2])
	slot := &c.v4[v4Hash(block)]
	if e := slot.Load(); e != 0 && uint32(e>>32)&0xffffff == block {
		return c.region(uint32(e))
	}
	r := l.Lookup(a)
	if i, ok := c.intern(r); ok {
		slot.Store(v4Entry(block, i))
	}
	return r
}

// v4Hash spreads /24 numbers over the table: neighbouring blocks, which
// often share a region, land in different slots, and so do blocks that
// differ only in their first byte.
func v4Hash(block uint32) uint32 {
	return (block * 0x9E3779B1) >> (32 - v4Bits) // Fibonacci hashing: the top v4Bits bits
}

// region returns the region at index i, which a slot published.
func (c *geoCache) region(i uint32) admeter.Region {
	return c.regions[i/regionChunk].Load()[i%regionChunk]
}

// intern returns the index of r, adding it if it is new. It reports false
// when the table of regions is full.
func (c *geoCache) intern(r admeter.Region) (uint32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[r]; ok {
		return i, true
	}
	i := c.nreg
	if i == c.maxReg {
		return 0, false
	}
	chunk := c.regions[i/regionChunk].Load()
	if chunk == nil {
		chunk = new([regionChunk]admeter.Region)
	}
	// The region is written before the chunk is published (again) and
	// before any slot names its index, so a reader that sees the index
	// sees the region.
	chunk[i%regionChunk] = r
	c.regions[i/regionChunk].Store(chunk)
	c.index[r] = i
	c.nreg++
	return i, true
}
