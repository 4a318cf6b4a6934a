package optouthttp

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// limiter is a token bucket per client network block. It holds at most max
// buckets: a bucket idle long enough to be full again is the same as no
// bucket and is dropped, and when the map is full of busy buckets, new blocks
// share one overflow bucket until a sweep frees room. Keys are network
// blocks, kept in memory only; nothing here is logged or written anywhere.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int
	idle  time.Duration // time for an empty bucket to fill: burst/rate

	mu        sync.Mutex
	buckets   map[netip.Prefix]*bucket
	overflow  bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter returns a limiter allowing perMinute requests a minute per
// block with bursts of burst, tracking at most max blocks.
func newLimiter(perMinute, burst, max int) *limiter {
	rate := float64(perMinute) / 60
	return &limiter{
		rate:    rate,
		burst:   float64(burst),
		max:     max,
		idle:    time.Duration(float64(burst) / rate * float64(time.Second)),
		buckets: make(map[netip.Prefix]*bucket),
	}
}

// allow takes a token for block at now. When there is none it reports false
// and how long until there will be one.
func (l *limiter) allow(block netip.Prefix, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.sweep(now)
	}
	b, ok := l.buckets[block]
	if !ok {
		if len(l.buckets) >= l.max {
			b = &l.overflow
		} else {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[block] = b
		}
	}
	return b.take(now, l.rate, l.burst)
}

// sweep drops the buckets that have refilled: they allow exactly what a new
// bucket would.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.idle {
			delete(l.buckets, k)
		}
	}
}

// size returns the number of blocks tracked.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// take refills b for the time since its last use and takes one token.
func (b *bucket) take(now time.Time, rate, burst float64) (bool, time.Duration) {
	if b.last.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(burst, b.tokens+d.Seconds()*rate)
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, wait
}
