package optouthttp

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestFromAcceptLanguage(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", langZH},
		{"en", langEN},
		{"en-GB,en;q=0.9", langEN},
		{"zh-TW,zh;q=0.9,en;q=0.8", langZH},
		{"fr, en;q=0.1", langEN},
		{"en;q=0, zh;q=0", langZH},
		{"en;q=0.3, zh-Hans;q=0.7", langZH},
		{"zh;q=0.3, EN-us;q=0.7", langEN},
		{"en;q=abc", langZH},
		{"en;q=2", langZH},
		{"de,fr", langZH},
		{"*", langZH},
	}
	for _, tt := range tests {
		if got := fromAcceptLanguage(tt.header); got != tt.want {
			t.Errorf("fromAcceptLanguage(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	block := func(i int) netip.Prefix { return netip.MustParsePrefix("10.0." + strconv.Itoa(i) + ".0/24") }

	t.Run("burst then rate", func(t *testing.T) {
		l := newLimiter(30, 10, 100) // one token every 2 s
		for i := range 10 {
			if ok, _ := l.allow(block(1), t0); !ok {
				t.Fatalf("request %d of the burst refused", i)
			}
		}
		ok, wait := l.allow(block(1), t0)
		if ok || wait != 2*time.Second {
			t.Fatalf("11th: ok=%v wait=%v, want refused for 2s", ok, wait)
		}
		if ok, wait := l.allow(block(1), t0.Add(1500*time.Millisecond)); ok || wait != 500*time.Millisecond {
			t.Fatalf("after 1.5s: ok=%v wait=%v, want refused for 0.5s", ok, wait)
		}
		if ok, _ := l.allow(block(1), t0.Add(2*time.Second)); !ok {
			t.Fatal("after 2s: refused")
		}
		if ok, _ := l.allow(block(2), t0); !ok {
			t.Fatal("another block refused")
		}
	})

	t.Run("bounded", func(t *testing.T) {
		l := newLimiter(60, 2, 3) // idle after 2 s
		for i := range 10 {
			l.allow(block(i), t0)
		}
		if n := l.size(); n != 3 {
			t.Fatalf("%d blocks tracked, want the bound 3", n)
		}
		// Blocks past the bound share the overflow bucket: two tokens
		// between them all.
		if ok, _ := l.allow(block(20), t0); ok {
			t.Error("the overflow bucket allowed a third request in its burst of 2")
		}
		// Once the tracked buckets have refilled, they are swept.
		if ok, _ := l.allow(block(30), t0.Add(2*time.Second)); !ok {
			t.Error("a new block was refused after the sweep")
		}
		if n := l.size(); n != 1 {
			t.Errorf("%d blocks after the sweep, want 1", n)
		}
		// A busy block is kept.
		l.allow(block(30), t0.Add(2500*time.Millisecond))
		l.allow(block(31), t0.Add(4*time.Second))
		if n := l.size(); n != 2 {
			t.Errorf("%d blocks, want 2", n)
		}
	})
}
