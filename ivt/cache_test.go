package ivt

import (
	"fmt"
	"strings"
	"testing"
)

// TestClassCache: cached classes are the matcher's, first time and again,
// when shards overflow and are refilled, and for user agents too long to
// cache.
func TestClassCache(t *testing.T) {
	m, err := crawlers()
	if err != nil {
		t.Fatal(err)
	}
	c := newClassCache()
	uas := []string{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"python-requests/2.31.0",
		"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
		strings.Repeat("Mozilla/5.0 Baiduspider ", 30), // longer than classMaxUA
	}
	for i := range 3 * 16 * classShardMax {
		uas = append(uas, fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) Firefox/%d.0", i))
	}
	for round := range 2 {
		for _, ua := range uas {
			if got, want := c.get(ua, m.match), m.match(ua); got != want {
				t.Fatalf("round %d: class of %.60q = %d, want %d", round, ua, got, want)
			}
		}
	}
	if n := c.c.Len(); n > 16*classShardMax {
		t.Errorf("the cache holds %d entries, more than %d", n, 16*classShardMax)
	}
	if c.get(uas[0], m.match) != uaCrawler || c.get(uas[3], m.match) != uaCrawler {
		t.Error("crawlers not classed as crawlers")
	}
}
