package auth

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)

func TestLockoutFor(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{-1, 0}, {0, 0}, {1, 0}, {4, 0},
		{5, 15 * time.Minute}, {6, 30 * time.Minute}, {7, time.Hour}, {8, 2 * time.Hour},
		{9, 4 * time.Hour}, {10, 8 * time.Hour}, {11, 16 * time.Hour}, {12, 24 * time.Hour},
		{13, 24 * time.Hour}, {1000, 24 * time.Hour}, {1 << 62, 24 * time.Hour},
	} {
		if got := LockoutFor(tc.failures); got != tc.want {
			t.Errorf("LockoutFor(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	// Custom configs, including one whose doubling would overflow.
	c := ThrottleConfig{MaxFailures: 3, BaseLockout: time.Minute, MaxLockout: 5 * time.Minute}
	for n, want := range map[int]time.Duration{2: 0, 3: time.Minute, 4: 2 * time.Minute, 5: 4 * time.Minute, 6: 5 * time.Minute} {
		if got := c.LockoutFor(n); got != want {
			t.Errorf("%+v.LockoutFor(%d) = %v, want %v", c, n, got, want)
		}
	}
	huge := ThrottleConfig{BaseLockout: 1 << 61, MaxLockout: 1<<63 - 1}
	if got := huge.LockoutFor(100); got != 1<<63-1 {
		t.Errorf("huge.LockoutFor(100) = %v, want the cap", got)
	}
}

func TestLockedFor(t *testing.T) {
	c := DefaultThrottleConfig()
	for _, tc := range []struct {
		failures int
		since    time.Duration
		want     time.Duration
	}{
		{4, 0, 0},
		{5, 0, 15 * time.Minute},
		{5, 10 * time.Minute, 5 * time.Minute},
		{5, 15 * time.Minute, 0},
		{6, 20 * time.Minute, 10 * time.Minute},
		{12, 23 * time.Hour, time.Hour},
		{12, 48 * time.Hour, 0},
	} {
		if got := c.LockedFor(tc.failures, t0, t0.Add(tc.since)); got != tc.want {
			t.Errorf("LockedFor(%d, %v later) = %v, want %v", tc.failures, tc.since, got, tc.want)
		}
	}
}

// allow calls th.Allow and fails the test unless the result is as wanted.
func allow(t *testing.T, th *Throttle, account, ip string, now time.Time, wantOK bool, wantReason string) time.Duration {
	t.Helper()
	ok, retry, reason := th.Allow(account, netip.MustParseAddr(ip), now)
	if ok != wantOK || reason != wantReason {
		t.Fatalf("Allow(%s, %s, +%v) = %v, %v, %q; want %v, %q", account, ip, now.Sub(t0), ok, retry, reason, wantOK, wantReason)
	}
	if ok != (retry == 0) {
		t.Fatalf("Allow(%s, %s) = %v with retryAfter %v", account, ip, ok, retry)
	}
	return retry
}

func TestThrottleAccountLockout(t *testing.T) {
	th := NewThrottle(ThrottleConfig{NetAttempts: 1000})
	ip := netip.MustParseAddr("192.0.2.10")
	now := t0
	for i := 1; i <= 4; i++ {
		allow(t, th, "alice", "192.0.2.10", now, true, "")
		th.Fail("alice", ip, now)
		now = now.Add(time.Second)
	}
	allow(t, th, "alice", "192.0.2.10", now, true, "")
	th.Fail("alice", ip, now) // 5th failure: locked 15 min from now
	lockStart := now
	if retry := allow(t, th, "alice", "198.51.100.7", now.Add(time.Minute), false, ReasonAccountLocked); retry != 14*time.Minute {
		t.Fatalf("retryAfter = %v, want 14m", retry)
	}
	allow(t, th, "bob", "192.0.2.10", now.Add(time.Minute), true, "") // other accounts unaffected
	now = lockStart.Add(15 * time.Minute)
	allow(t, th, "alice", "192.0.2.10", now, true, "")
	th.Fail("alice", ip, now) // 6th: 30 min
	if retry := allow(t, th, "alice", "192.0.2.10", now, false, ReasonAccountLocked); retry != 30*time.Minute {
		t.Fatalf("retryAfter after 6th failure = %v, want 30m", retry)
	}
	now = now.Add(30 * time.Minute)
	allow(t, th, "alice", "192.0.2.10", now, true, "")
	th.Succeed("alice", now)
	for i := 1; i <= 4; i++ { // the count starts again
		allow(t, th, "alice", "192.0.2.10", now, true, "")
		th.Fail("alice", ip, now)
	}
	allow(t, th, "alice", "192.0.2.10", now, true, "")
	// Failures are forgotten after FailureWindow without any.
	now = now.Add(24 * time.Hour)
	th.Fail("alice", ip, now)
	allow(t, th, "alice", "192.0.2.10", now, true, "")
}

func TestThrottleNetworkRate(t *testing.T) {
	th := NewThrottle(ThrottleConfig{NetFailCost: -1}) // 20 a minute, failures cost no more
	for i := range 20 {
		allow(t, th, fmt.Sprint("user", i), fmt.Sprint("192.0.2.", i+1), t0, true, "")
	}
	// Same /24, another address and account: refused; 1 attempt every 3 s.
	if retry := allow(t, th, "other", "192.0.2.200", t0, false, ReasonNetworkRate); retry != 3*time.Second {
		t.Fatalf("retryAfter = %v, want 3s", retry)
	}
	allow(t, th, "other", "::ffff:192.0.2.201", t0, false, ReasonNetworkRate) // IPv4-mapped is the same network
	allow(t, th, "other", "192.0.3.1", t0, true, "")                          // next /24
	allow(t, th, "other", "192.0.2.200", t0.Add(3*time.Second), true, "")
	allow(t, th, "other", "192.0.2.200", t0.Add(3*time.Second), false, ReasonNetworkRate)
	// After a minute the bucket is full again, and no fuller than 20.
	now := t0.Add(10 * time.Minute)
	for range 20 {
		allow(t, th, "other", "192.0.2.9", now, true, "")
	}
	allow(t, th, "other", "192.0.2.9", now, false, ReasonNetworkRate)

	// IPv6 /48.
	for range 20 {
		allow(t, th, "v6", "2001:db8:1:2::1", t0, true, "")
	}
	allow(t, th, "v6", "2001:db8:1:ffff::99", t0, false, ReasonNetworkRate)
	allow(t, th, "v6", "2001:db8:2::1", t0, true, "")
}

func TestThrottleFailCost(t *testing.T) {
	th := NewThrottle(ThrottleConfig{NetAttempts: 20, MaxFailures: 1000})
	ip := netip.MustParseAddr("203.0.113.5")
	for i := range 10 {
		allow(t, th, fmt.Sprint("spray", i), "203.0.113.5", t0, true, "")
		th.Fail(fmt.Sprint("spray", i), ip, t0)
	}
	// 10 failed attempts cost 20 tokens.
	allow(t, th, "spray10", "203.0.113.6", t0, false, ReasonNetworkRate)
	// Debt is capped at one period: after 2 minutes the network is full again.
	for range 100 {
		th.Fail("spray", ip, t0)
	}
	allow(t, th, "x", "203.0.113.5", t0.Add(time.Minute), false, ReasonNetworkRate)
	allow(t, th, "x", "203.0.113.5", t0.Add(2*time.Minute), true, "")
}

func TestThrottleLockedAttemptCostsNetwork(t *testing.T) {
	th := NewThrottle(ThrottleConfig{NetAttempts: 3, NetFailCost: -1, MaxFailures: 1})
	ip := netip.MustParseAddr("192.0.2.1")
	th.Fail("alice", ip, t0)
	allow(t, th, "alice", "192.0.2.1", t0, false, ReasonAccountLocked)
	allow(t, th, "alice", "192.0.2.1", t0, false, ReasonAccountLocked)
	allow(t, th, "alice", "192.0.2.1", t0, false, ReasonAccountLocked)
	allow(t, th, "alice", "192.0.2.1", t0, false, ReasonNetworkRate)
}

func TestThrottleBoundedMemory(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxAccounts: 100, MaxNets: 50})
	now := t0
	for i := range 5000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		th.Allow(fmt.Sprint("acct", i), ip, now)
		th.Fail(fmt.Sprint("acct", i), ip, now)
		if a, n := th.size(); a > 100 || n > 50 {
			t.Fatalf("after %d: %d accounts, %d networks; want at most 100, 50", i, a, n)
		}
	}
	// Idle entries go at the next sweep: buckets once full, accounts once
	// FailureWindow has passed.
	th.Allow("late", netip.MustParseAddr("192.0.2.1"), now.Add(2*time.Minute))
	if a, n := th.size(); a != 100 || n != 1 {
		t.Fatalf("after 2 minutes: %d accounts, %d networks; want 100, 1", a, n)
	}
	th.Allow("late", netip.MustParseAddr("192.0.2.1"), now.Add(25*time.Hour))
	if a, n := th.size(); a != 0 || n != 1 {
		t.Fatalf("after 25 hours: %d accounts, %d networks; want 0, 1", a, n)
	}
}

// TestThrottleEvictsIdleFirst fills the account map with a locked account
// and two unlocked ones: a new account must evict an unlocked one.
func TestThrottleEvictsIdleFirst(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxAccounts: 3, NetAttempts: 1000})
	ip := netip.MustParseAddr("192.0.2.1")
	for range 5 {
		th.Fail("locked", ip, t0)
	}
	th.Fail("one", ip, t0)
	th.Fail("two", ip, t0)
	th.Fail("three", ip, t0.Add(time.Second)) // map full: one of the unlocked entries goes
	allow(t, th, "locked", "192.0.2.1", t0.Add(time.Second), false, ReasonAccountLocked)
	if a, _ := th.size(); a != 3 {
		t.Fatalf("%d accounts, want 3", a)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxAccounts: 64, MaxNets: 64})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				now := t0.Add(time.Duration(i) * 50 * time.Millisecond)
				ip := netip.AddrFrom4([4]byte{10, byte(g), byte(i % 200), 1})
				acct := fmt.Sprint("u", i%100)
				if ok, _, _ := th.Allow(acct, ip, now); ok {
					if i%3 == 0 {
						th.Succeed(acct, now)
					} else {
						th.Fail(acct, ip, now)
					}
				}
			}
		})
	}
	wg.Wait()
	if a, n := th.size(); a > 64 || n > 64 {
		t.Fatalf("%d accounts, %d networks; want at most 64 each", a, n)
	}
}
