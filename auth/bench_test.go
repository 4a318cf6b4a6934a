package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkHashPassword measures the production parameters: this is the cost
// of every login and of every guess an attacker with the hashes makes.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, _ := HashPassword("correct horse battery staple")
	for b.Loop() {
		if ok, _, _ := VerifyPassword(enc, "correct horse battery staple"); !ok {
			b.Fatal("not verified")
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	commonPasswords() // build the list outside the loop
	for _, pw := range []string{"purple-elephant-42-river", "P@ssw0rd2024!", "1234567890!@#$%^&*()1234567890"} {
		b.Run(pw, func(b *testing.B) {
			for b.Loop() {
				_ = CheckPassword(pw, "zhangwei@acme.com", "Acme Technology")
			}
		})
	}
}

func BenchmarkBuildCommonList(b *testing.B) {
	for b.Loop() {
		buildCommonList()
	}
}

func BenchmarkVerifyTOTP(b *testing.B) {
	secret, _ := NewTOTPSecret()
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	code := string(hotp(nil, secret, uint64(now.Unix()/30), 6))
	for b.Loop() {
		if _, ok := VerifyTOTP(secret, code, now, 0); !ok {
			b.Fatal("not verified")
		}
	}
}

// BenchmarkThrottleAllow measures Allow on a throttle tracking many networks
// and accounts, from parallel goroutines.
func BenchmarkThrottleAllow(b *testing.B) {
	th := NewThrottle(ThrottleConfig{NetAttempts: 1 << 30})
	const n = 10000
	ips := make([]netip.Addr, n)
	accts := make([]string, n)
	for i := range n {
		ips[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		accts[i] = fmt.Sprint("user", i, "@example.com")
		th.Fail(accts[i], ips[i], time.Unix(0, 0))
	}
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			th.Allow(accts[i%n], ips[i%n], now)
			i++
		}
	})
}
