package ivt

import "github.com/admeter/admeter/internal/shardcache"

// A collector sees the same few thousand user agents over and over, and
// searching one in the crawler list costs 100–500 ns; a cache lookup costs
// a fraction of that (package shardcache: bounded, in memory only, like
// the request).
const (
	classShardMax = 1024 // entries per shard
	classMaxUA    = 512  // longer user agents are matched, not cached
)

// classCache caches the crawler-list class of user agents.
type classCache struct {
	c *shardcache.Cache[string, uaClass]
}

func newClassCache() classCache { return classCache{shardcache.New[string, uaClass](classShardMax)} }

// get returns the class of ua, computing it with match on a miss.
func (c classCache) get(ua string, match func(string) uaClass) uaClass {
	if len(ua) > classMaxUA || c.c == nil {
		return match(ua)
	}
	return c.c.Get(ua, match)
}
