package auth

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/admeter/admeter"
)

// Reasons Throttle.Allow gives for refusing an attempt.
const (
	ReasonAccountLocked = "account_locked" // too many consecutive failures for the account
	ReasonNetworkRate   = "network_rate"   // too many attempts from the client's /24 or /48
)

// ThrottleConfig configures a Throttle. The zero value of a field means its
// DefaultThrottleConfig value.
type ThrottleConfig struct {
	// MaxFailures is the number of consecutive failed logins that locks an
	// account (default 5).
	MaxFailures int
	// BaseLockout is how long the MaxFailures-th failure locks the account;
	// each further failure doubles it (default 15 minutes).
	BaseLockout time.Duration
	// MaxLockout caps the lockout (default 24 hours).
	MaxLockout time.Duration
	// FailureWindow is how long an account's failures are remembered after
	// its last failure once it is no longer locked; after that the count
	// starts again at zero (default 24 hours).
	FailureWindow time.Duration

	// NetAttempts is how many login attempts a client network (IPv4 /24,
	// IPv6 /48) may make per NetPeriod, and also its burst (default 20).
	NetAttempts int
	// NetPeriod is the period of NetAttempts (default 1 minute).
	NetPeriod time.Duration
	// NetFailCost is how many extra attempts a failed login costs its
	// network, so that guessing runs out sooner than the logins of many
	// users behind one office NAT (default 1; negative means 0).
	NetFailCost int

	// MaxAccounts and MaxNets cap the number of accounts and networks
	// tracked in memory (default 100000 each, a few MB). When a map is full,
	// idle entries are dropped first, then a sampled least-restricted one.
	MaxAccounts int
	MaxNets     int
}

// DefaultThrottleConfig returns the production throttling policy: 5
// consecutive failures lock an account for 15 minutes, each further failure
// doubles that up to 24 hours, and a network may make 20 attempts a minute.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{
		MaxFailures:   5,
		BaseLockout:   15 * time.Minute,
		MaxLockout:    24 * time.Hour,
		FailureWindow: 24 * time.Hour,
		NetAttempts:   20,
		NetPeriod:     time.Minute,
		NetFailCost:   1,
		MaxAccounts:   100_000,
		MaxNets:       100_000,
	}
}

// withDefaults returns c with zero fields set to their defaults.
func (c ThrottleConfig) withDefaults() ThrottleConfig {
	d := DefaultThrottleConfig()
	if c.MaxFailures <= 0 {
		c.MaxFailures = d.MaxFailures
	}
	if c.BaseLockout <= 0 {
		c.BaseLockout = d.BaseLockout
	}
	if c.MaxLockout <= 0 {
		c.MaxLockout = d.MaxLockout
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = d.FailureWindow
	}
	if c.NetAttempts <= 0 {
		c.NetAttempts = d.NetAttempts
	}
	if c.NetPeriod <= 0 {
		c.NetPeriod = d.NetPeriod
	}
	if c.NetFailCost == 0 {
		c.NetFailCost = d.NetFailCost
	} else if c.NetFailCost < 0 {
		c.NetFailCost = 0
	}
	if c.MaxAccounts <= 0 {
		c.MaxAccounts = d.MaxAccounts
	}
	if c.MaxNets <= 0 {
		c.MaxNets = d.MaxNets
	}
	return c
}

// LockoutFor returns how long an account is locked after its
// consecutiveFailures-th consecutive failed login: 0 below MaxFailures, then
// BaseLockout, doubling with each further failure, capped at MaxLockout. The
// lock runs from the time of that last failure. A store that persists failure
// counts uses it (or LockedFor) to give the same answer as Throttle.
func (c ThrottleConfig) LockoutFor(consecutiveFailures int) time.Duration {
	c = c.withDefaults()
	if consecutiveFailures < c.MaxFailures {
		return 0
	}
	d := c.BaseLockout
	for i := c.MaxFailures; i < consecutiveFailures; i++ {
		if d >= c.MaxLockout/2 {
			return c.MaxLockout
		}
		d *= 2
	}
	return min(d, c.MaxLockout)
}

// LockedFor returns how much longer an account with consecutiveFailures
// failures, the last at lastFailure, stays locked at now; 0 means it may try.
// It is the persisted-state form of the check Throttle.Allow makes.
func (c ThrottleConfig) LockedFor(consecutiveFailures int, lastFailure, now time.Time) time.Duration {
	return max(lastFailure.Add(c.LockoutFor(consecutiveFailures)).Sub(now), 0)
}

// LockoutFor returns DefaultThrottleConfig().LockoutFor(consecutiveFailures):
// 0 for fewer than 5 failures, 15 minutes for 5, 30 for 6, 1 hour for 7, …,
// and 24 hours from 12 on.
func LockoutFor(consecutiveFailures int) time.Duration {
	return DefaultThrottleConfig().LockoutFor(consecutiveFailures)
}

// Throttle limits login attempts in memory: it locks an account after
// consecutive failures and rate-limits each client network with a token
// bucket. It is safe for concurrent use, its memory is bounded by
// ThrottleConfig.MaxAccounts and MaxNets, and it keeps neither account names
// (only a keyed 64-bit hash) nor full addresses (only the /24 or /48), and
// logs nothing. Its state is lost on restart, so the API should also persist
// account failure counts and check them with ThrottleConfig.LockedFor.
//
// Use: call Allow before checking a password; if it refuses, answer
// admeter.ERATELIMITED with the retry delay and do not check the password.
// Then call Fail or Succeed with the outcome.
type Throttle struct {
	cfg  ThrottleConfig
	seed maphash.Seed

	mu        sync.Mutex
	accounts  map[uint64]*accountState
	nets      map[netip.Prefix]*bucket
	lastSweep time.Time
}

type accountState struct {
	failures    int
	lastFail    time.Time
	lockedUntil time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery is the least time between two full sweeps of idle entries.
const sweepEvery = time.Minute

// evictSample is how many entries are looked at to choose one to evict from a
// full map.
const evictSample = 8

// NewThrottle returns a Throttle with cfg (zero fields take their defaults).
func NewThrottle(cfg ThrottleConfig) *Throttle {
	return &Throttle{
		cfg:      cfg.withDefaults(),
		seed:     maphash.MakeSeed(),
		accounts: make(map[uint64]*accountState),
		nets:     make(map[netip.Prefix]*bucket),
	}
}

func (t *Throttle) accountKey(account string) uint64 { return maphash.String(t.seed, account) }

// rate is the network refill rate in tokens per second.
func (t *Throttle) rate() float64 { return float64(t.cfg.NetAttempts) / t.cfg.NetPeriod.Seconds() }

// refill brings b up to date at now.
func (t *Throttle) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.tokens+el.Seconds()*t.rate(), float64(t.cfg.NetAttempts))
		b.last = now
	}
}

// Allow reports whether a login attempt for account from ip may go ahead at
// now. If not, retryAfter says when to try again and reason is
// ReasonNetworkRate or ReasonAccountLocked. An allowed attempt, and one
// refused because the account is locked, costs the network one attempt. An
// invalid ip shares one bucket with all other invalid ones.
func (t *Throttle) Allow(account string, ip netip.Addr, now time.Time) (ok bool, retryAfter time.Duration, reason string) {
	key := admeter.BlockOf(ip).Prefix()
	acct := t.accountKey(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.maybeSweep(now)

	b := t.nets[key]
	if b != nil {
		t.refill(b, now)
		if b.tokens < 1 {
			wait := time.Duration((1 - b.tokens) / t.rate() * float64(time.Second))
			return false, max(wait, time.Second), ReasonNetworkRate
		}
	} else {
		b = t.newBucket(key, now)
	}
	b.tokens--

	if a := t.accounts[acct]; a != nil && now.Before(a.lockedUntil) {
		return false, a.lockedUntil.Sub(now), ReasonAccountLocked
	}
	return true, 0, ""
}

// Fail records a failed login for account from ip at now: it counts towards
// the account's lockout (see LockoutFor) and costs the network
// NetFailCost more attempts.
func (t *Throttle) Fail(account string, ip netip.Addr, now time.Time) {
	key := admeter.BlockOf(ip).Prefix()
	acct := t.accountKey(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.maybeSweep(now)

	if cost := float64(t.cfg.NetFailCost); cost > 0 {
		b := t.nets[key]
		if b == nil {
			b = t.newBucket(key, now)
		}
		t.refill(b, now)
		// Let the debt reach one period's worth of attempts at most, so that
		// a network is never blocked for longer than NetPeriod after it stops.
		b.tokens = max(b.tokens-cost, -float64(t.cfg.NetAttempts))
	}

	a := t.accounts[acct]
	if a == nil {
		if len(t.accounts) >= t.cfg.MaxAccounts {
			t.evictAccount(now)
		}
		a = &accountState{}
		t.accounts[acct] = a
	}
	a.failures++
	a.lastFail = now
	a.lockedUntil = now.Add(t.cfg.LockoutFor(a.failures))
}

// Succeed records a successful login for account: its failure count and any
// lockout are cleared. The network's attempt was already counted by Allow.
func (t *Throttle) Succeed(account string, now time.Time) {
	acct := t.accountKey(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, acct)
	t.maybeSweep(now)
}

// newBucket adds a full bucket for key, making room first if needed.
// t.mu must be held.
func (t *Throttle) newBucket(key netip.Prefix, now time.Time) *bucket {
	if len(t.nets) >= t.cfg.MaxNets {
		t.evictNet(now)
	}
	b := &bucket{tokens: float64(t.cfg.NetAttempts), last: now}
	t.nets[key] = b
	return b
}

// accountIdle reports whether a can be forgotten at now.
func (t *Throttle) accountIdle(a *accountState, now time.Time) bool {
	return !now.Before(a.lockedUntil) && now.Sub(a.lastFail) >= t.cfg.FailureWindow
}

// netIdle reports whether b would be full at now, so forgetting it changes
// nothing.
func (t *Throttle) netIdle(b *bucket, now time.Time) bool {
	missing := float64(t.cfg.NetAttempts) - b.tokens
	return now.Sub(b.last).Seconds()*t.rate() >= missing
}

// maybeSweep drops idle entries if the last sweep was at least sweepEvery
// ago. t.mu must be held.
func (t *Throttle) maybeSweep(now time.Time) {
	// Times from concurrent callers arrive slightly out of order; only a
	// large backward jump of the clock restarts the schedule.
	if d := now.Sub(t.lastSweep); d < sweepEvery && d > -sweepEvery {
		return
	}
	t.lastSweep = now
	for k, a := range t.accounts {
		if t.accountIdle(a, now) {
			delete(t.accounts, k)
		}
	}
	for k, b := range t.nets {
		if t.netIdle(b, now) {
			delete(t.nets, k)
		}
	}
}

// evictAccount makes room in a full accounts map: it sweeps if allowed, and
// otherwise drops the least restricted of a few sampled entries (the one
// whose lock ends first, then the one whose last failure is oldest).
// t.mu must be held.
func (t *Throttle) evictAccount(now time.Time) {
	t.maybeSweep(now)
	if len(t.accounts) < t.cfg.MaxAccounts {
		return
	}
	var victim uint64
	var best *accountState
	n := 0
	for k, a := range t.accounts {
		if best == nil || a.lockedUntil.Before(best.lockedUntil) ||
			(a.lockedUntil.Equal(best.lockedUntil) && a.lastFail.Before(best.lastFail)) {
			victim, best = k, a
		}
		if n++; n >= evictSample {
			break
		}
	}
	delete(t.accounts, victim)
}

// evictNet makes room in a full networks map: it sweeps if allowed, and
// otherwise drops the fullest of a few sampled buckets. t.mu must be held.
func (t *Throttle) evictNet(now time.Time) {
	t.maybeSweep(now)
	if len(t.nets) < t.cfg.MaxNets {
		return
	}
	var victim netip.Prefix
	var best *bucket
	n := 0
	for k, b := range t.nets {
		t.refill(b, now)
		if best == nil || b.tokens > best.tokens {
			victim, best = k, b
		}
		if n++; n >= evictSample {
			break
		}
	}
	delete(t.nets, victim)
}

// size returns the number of tracked accounts and networks (for tests).
func (t *Throttle) size() (accounts, nets int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.accounts), len(t.nets)
}
