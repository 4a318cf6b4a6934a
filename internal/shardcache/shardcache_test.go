package shardcache

import (
	"fmt"
	"sync"
	"testing"
)

func TestCache(t *testing.T) {
	c := New[string, int](4)
	calls := 0
	length := func(s string) int { calls++; return len(s) }
	for range 2 {
		if got := c.Get("hello", length); got != 5 {
			t.Fatalf("Get = %d, want 5", got)
		}
	}
	if calls != 1 {
		t.Errorf("computed %d times, want once", calls)
	}
	// Far more keys than fit: every answer is still right, and the cache
	// stays bounded.
	for i := range 1000 {
		k := fmt.Sprint(i)
		if got := c.Get(k, length); got != len(k) {
			t.Fatalf("Get(%q) = %d", k, got)
		}
	}
	if n := c.Len(); n > 16*4 {
		t.Errorf("Len = %d, want at most %d", n, 16*4)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := New[int, int](8)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i * (g + 1)) % 300
				if got := c.Get(k, func(k int) int { return k * k }); got != k*k {
					t.Errorf("Get(%d) = %d", k, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkGet(b *testing.B) {
	c := New[string, int](1024)
	const ua = "Mozilla/5.0 (Linux; Android 11; Redmi Note 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
	f := func(s string) int { return len(s) }
	for b.Loop() {
		c.Get(ua, f)
	}
}
