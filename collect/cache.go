package collect

import (
	"net/netip"

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
type geoCache struct {
	c *shardcache.Cache[admeter.NetBlock, admeter.Region]
}

func newGeoCache() *geoCache {
	return &geoCache{shardcache.New[admeter.NetBlock, admeter.Region](cacheShardMax)}
}

// get returns the region of a, looking it up with l on a miss. Databases map
// whole /24s (IPv4) to one place in practice, so the block is the key.
func (c *geoCache) get(l Locator, a netip.Addr, b admeter.NetBlock) admeter.Region {
	return c.c.Get(b, func(admeter.NetBlock) admeter.Region { return l.Lookup(a) })
}
