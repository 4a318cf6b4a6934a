package auth

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
)

var rfcSecret = []byte("12345678901234567890")

// TestHOTPRFC4226 checks the generator against RFC 4226 Appendix D.
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		if got := string(hotp(nil, rfcSecret, uint64(c), 6)); got != w {
			t.Errorf("HOTP(counter %d) = %s, want %s", c, got, w)
		}
	}
}

// TestTOTPRFC6238 checks the generator against the SHA-1 rows of RFC 6238
// Appendix B (8 digits), and VerifyTOTP against their last 6 digits.
func TestTOTPRFC6238(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		step := tc.unix / 30
		if got := string(hotp(nil, rfcSecret, uint64(step), 8)); got != tc.want {
			t.Errorf("TOTP(%d) = %s, want %s", tc.unix, got, tc.want)
		}
		// Truncating to 6 digits is the same value mod 10^6.
		got, ok := VerifyTOTP(rfcSecret, tc.want[2:], time.Unix(tc.unix, 0), 0)
		if !ok || got != step {
			t.Errorf("VerifyTOTP(%s at %d) = %d, %v; want %d, true", tc.want[2:], tc.unix, got, ok, step)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	now := time.Date(2026, 3, 15, 9, 30, 10, 0, time.UTC)
	cur := now.Unix() / 30
	code := func(step int64) string { return string(hotp(nil, rfcSecret, uint64(step), 6)) }
	for _, tc := range []struct {
		name     string
		secret   []byte
		code     string
		now      time.Time
		lastUsed int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", rfcSecret, code(cur), now, 0, cur, true},
		{"one step behind", rfcSecret, code(cur - 1), now, 0, cur - 1, true},
		{"one step ahead", rfcSecret, code(cur + 1), now, 0, cur + 1, true},
		{"two steps behind", rfcSecret, code(cur - 2), now, 0, 0, false},
		{"two steps ahead", rfcSecret, code(cur + 2), now, 0, 0, false},
		{"end of the step", rfcSecret, code(cur), now.Truncate(30 * time.Second).Add(29 * time.Second), 0, cur, true},
		{"replay of the same step", rfcSecret, code(cur), now, cur, 0, false},
		{"older than the last used step", rfcSecret, code(cur - 1), now, cur, 0, false},
		{"after an older step", rfcSecret, code(cur), now, cur - 1, cur, true},
		{"next step after use", rfcSecret, code(cur + 1), now, cur, cur + 1, true},
		{"spaces", rfcSecret, code(cur)[:3] + " " + code(cur)[3:], now, 0, cur, true},
		{"wrong code", rfcSecret, "000000", now, 0, 0, false},
		{"five digits", rfcSecret, code(cur)[:5], now, 0, 0, false},
		{"seven digits", rfcSecret, code(cur) + "0", now, 0, 0, false},
		{"eight-digit form", rfcSecret, string(hotp(nil, rfcSecret, uint64(cur), 8)), now, 0, 0, false},
		{"full-width digits", rfcSecret, "１２３４５６", now, 0, 0, false},
		{"letters", rfcSecret, "12345a", now, 0, 0, false},
		{"empty", rfcSecret, "", now, 0, 0, false},
		{"short secret", rfcSecret[:15], string(hotp(nil, rfcSecret[:15], uint64(cur), 6)), now, 0, 0, false},
		{"before 1970", rfcSecret, code(-1), time.Unix(-20, 0), -100, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := VerifyTOTP(tc.secret, tc.code, tc.now, tc.lastUsed)
			if ok != tc.wantOK || step != tc.wantStep {
				t.Fatalf("VerifyTOTP(%q) = %d, %v; want %d, %v", tc.code, step, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
}

// TestVerifyTOTPReplaySequence logs in twice within one step: the second use
// of the same code must fail, and the code of the next step must pass.
func TestVerifyTOTPReplaySequence(t *testing.T) {
	secret, _ := NewTOTPSecret()
	now := time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)
	c := string(hotp(nil, secret, uint64(now.Unix()/30), 6))
	last := int64(0)
	step, ok := VerifyTOTP(secret, c, now, last)
	if !ok {
		t.Fatal("first use refused")
	}
	last = step
	if _, ok := VerifyTOTP(secret, c, now.Add(10*time.Second), last); ok {
		t.Fatal("replay in the same step accepted")
	}
	if _, ok := VerifyTOTP(secret, c, now.Add(40*time.Second), last); ok {
		t.Fatal("replay one step later (within skew) accepted")
	}
	next := string(hotp(nil, secret, uint64(now.Unix()/30+1), 6))
	if _, ok := VerifyTOTP(secret, next, now.Add(30*time.Second), last); !ok {
		t.Fatal("code of the next step refused")
	}
}

func TestNewTOTPSecret(t *testing.T) {
	s1, b1 := NewTOTPSecret()
	s2, _ := NewTOTPSecret()
	if len(s1) != 20 || len(b1) != 32 || strings.ContainsAny(b1, "=") {
		t.Fatalf("secret %d bytes, base32 %q; want 20 bytes, 32 unpadded characters", len(s1), b1)
	}
	dec, err := b32.DecodeString(b1)
	if err != nil || !bytes.Equal(dec, s1) {
		t.Fatalf("base32 %q does not decode to the secret: %v", b1, err)
	}
	if bytes.Equal(s1, s2) {
		t.Fatal("two secrets are equal")
	}
}

func TestTOTPURI(t *testing.T) {
	for _, tc := range []struct {
		name, issuer, account string
		wantPath, wantIssuer  string
	}{
		{"plain", "Admeter", "alice@example.com", "/Admeter:alice%40example.com", "Admeter"},
		{"space and colon escaped", "Ad Meter:CN", "bob:x@example.com", "/Ad%20Meter%3ACN:bob%3Ax%40example.com", "Ad Meter:CN"},
		{"Chinese", "广告监测", "张伟", "/" + url.PathEscape("广告监测") + ":" + url.PathEscape("张伟"), "广告监测"},
		{"query characters", "A&B=C", "d?e#f", "/A%26B%3DC:d%3Fe%23f", "A&B=C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := TOTPURI(tc.issuer, tc.account, rfcSecret)
			if strings.Contains(uri, "+") {
				t.Errorf("URI %q contains +; spaces must be %%20", uri)
			}
			u, err := url.Parse(uri)
			if err != nil {
				t.Fatal(err)
			}
			if u.Scheme != "otpauth" || u.Host != "totp" {
				t.Errorf("URI %q: want otpauth://totp/", uri)
			}
			// The label must contain exactly one unescaped colon, between issuer and account.
			if got := u.EscapedPath(); got != tc.wantPath {
				t.Errorf("label %q, want %q", got, tc.wantPath)
			}
			q := u.Query()
			want := map[string]string{
				"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "issuer": tc.wantIssuer,
				"algorithm": "SHA1", "digits": "6", "period": "30",
			}
			for k, v := range want {
				if q.Get(k) != v {
					t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
}

func FuzzVerifyTOTP(f *testing.F) {
	f.Add("287082", int64(59), int64(0))
	f.Add("123 456", int64(1111111111), int64(37037036))
	f.Add("１２３４５６", int64(-5), int64(-1))
	f.Fuzz(func(t *testing.T, code string, unix, lastUsed int64) {
		step, ok := VerifyTOTP(rfcSecret, code, time.Unix(unix, 0), lastUsed)
		if !ok {
			return
		}
		cur := unix / 30
		if step <= lastUsed || step < cur-1 || step > cur+1 {
			t.Fatalf("VerifyTOTP(%q, %d, %d) accepted step %d", code, unix, lastUsed, step)
		}
		if got := string(hotp(nil, rfcSecret, uint64(step), 6)); got != strings.ReplaceAll(code, " ", "") {
			t.Fatalf("VerifyTOTP(%q) accepted step %d whose code is %s", code, step, got)
		}
	})
}
