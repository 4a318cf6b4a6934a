package collect

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/admeter/admeter"
)

// blockLocator places each /24 (or /48) in a region named after the
// block's first bytes, and counts its look-ups.
type blockLocator struct{ calls atomic.Int64 }

func (l *blockLocator) Lookup(a netip.Addr) admeter.Region {
	l.calls.Add(1)
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return admeter.Region{Country: "CN", Province: fmt.Sprint(b[0]), City: fmt.Sprint(b[1], ".", b[2])}
	}
	b := a.As16()
	return admeter.Region{Country: "v6", Province: fmt.Sprintf("%x", b[:4]), City: fmt.Sprintf("%x", b[4:6])}
}

func (l *blockLocator) want(a netip.Addr) admeter.Region {
	defer l.calls.Add(-1)
	return l.Lookup(a)
}

func TestGeoCache(t *testing.T) {
	l := &blockLocator{}
	c := newGeoCache()
	get := func(s string) admeter.Region {
		t.Helper()
		a := netip.MustParseAddr(s)
		got := c.get(l, a, admeter.BlockOf(a))
		if want := l.want(a); got != want {
			t.Fatalf("get(%s) = %+v, want %+v", s, got, want)
		}
		return got
	}
	tests := []struct {
		addr      string
		wantCalls int64 // look-ups so far
	}{
		{"202.96.128.86", 1},
		{"202.96.128.1", 1},        // same /24: cached
		{"202.96.129.86", 2},       // next /24
		{"::ffff:202.96.128.9", 2}, // IPv4-mapped: the same /24
		{"2408:8000:1:2::1", 3},
		{"2408:8000:1:ffff::2", 3}, // same /48
		{"2408:8000:2::1", 4},
	}
	for _, tc := range tests {
		get(tc.addr)
		if got := l.calls.Load(); got != tc.wantCalls {
			t.Errorf("after %s: %d look-ups, want %d", tc.addr, got, tc.wantCalls)
		}
	}

	// Far more /24s than slots: every answer is still right, and regions
	// shared by many blocks are stored once.
	for i := range 3 * v4Slots {
		get(netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 7}).String())
	}
	c.mu.Lock()
	n, distinct := c.nreg, len(c.index)
	c.mu.Unlock()
	if int(n) != distinct {
		t.Errorf("%d regions kept for %d distinct ones", n, distinct)
	}
}

func TestGeoCacheFull(t *testing.T) {
	l := &blockLocator{}
	c := newGeoCache()
	c.maxReg = 3
	for round := range 2 {
		for i := range 10 {
			a := netip.AddrFrom4([4]byte{10, byte(i), 0, 1})
			if got, want := c.get(l, a, admeter.BlockOf(a)), l.want(a); got != want {
				t.Fatalf("round %d: get(%s) = %+v, want %+v", round, a, got, want)
			}
		}
	}
	// The first three regions are cached; the other seven are looked up
	// every time.
	if got := l.calls.Load(); got != 10+7 {
		t.Errorf("%d look-ups, want %d", got, 10+7)
	}
}

func TestGeoCacheConcurrent(t *testing.T) {
	l := &blockLocator{}
	c := newGeoCache()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20000 {
				n := (i*7919 + g*104729) % 50000
				a := netip.AddrFrom4([4]byte{byte(n >> 12), byte(n >> 4), byte(n), 1})
				if got, want := c.get(l, a, admeter.BlockOf(a)), l.want(a); got != want {
					t.Errorf("get(%s) = %+v, want %+v", a, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkGeoCache(b *testing.B) {
	l := &blockLocator{}
	c := newGeoCache()
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{byte(36 + i%64), byte(i * 37), byte(i), 9})
	}
	i := 0
	for b.Loop() {
		a := addrs[i%len(addrs)]
		c.get(l, a, admeter.BlockOf(a))
		i++
	}
}
