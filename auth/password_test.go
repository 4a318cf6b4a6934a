package auth

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// testParams are cheap parameters so that tests run in microseconds.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestParamsHashVerify(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "x", "密码是一句很长的中文句子", strings.Repeat("€", 500)} {
		enc, err := testParams.Hash(pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if !phcRE.MatchString(enc) {
			t.Fatalf("Hash(%q) = %q, not PHC argon2id with the test parameters", pw, enc)
		}
		ok, rehash, err := testParams.Verify(enc, pw)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, _, err = testParams.Verify(enc, pw+"x")
		if err != nil || ok {
			t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
		}
		again, _ := testParams.Hash(pw)
		if again == enc {
			t.Fatalf("two hashes of %q are equal: salt is not random", pw)
		}
	}
}

// TestVerifyKnownAnswer checks Verify against hashes of "password" with salt
// "somesalt" from the argon2 reference implementation (the argon2id vectors
// of golang.org/x/crypto/argon2's tests, which match the reference CLI).
func TestVerifyKnownAnswer(t *testing.T) {
	for _, tc := range []struct{ params, hexHash string }{
		{"m=64,t=1,p=1", "655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb"},
		{"m=64,t=2,p=1", "068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7"},
		{"m=64,t=2,p=2", "350ac37222f436ccb5c0972f1ebd3bf6b958bf2071841362"},
		{"m=256,t=3,p=2", "4668d30ac4187e6878eedeacf0fd83c5a0a30db2cc16ef0b"},
	} {
		raw, _ := hex.DecodeString(tc.hexHash)
		enc := "$argon2id$v=19$" + tc.params + "$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(raw)
		ok, rehash, err := testParams.Verify(enc, "password")
		if err != nil || !ok {
			t.Errorf("Verify(%s) = %v, %v; want true, nil", enc, ok, err)
		}
		// The stored salt (8 bytes) and hash (24 bytes) are shorter than testParams'.
		if !rehash {
			t.Errorf("Verify(%s): needsRehash false for an 8-byte salt and 24-byte hash", enc)
		}
		if ok, _, _ := testParams.Verify(enc, "Password"); ok {
			t.Errorf("Verify(%s, Password) = true", enc)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	current := Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	for _, tc := range []struct {
		name   string
		stored Params
		want   bool
	}{
		{"same", current, false},
		{"stronger", Params{Memory: 512, Time: 3, Threads: 2, SaltLen: 32, KeyLen: 64}, false},
		{"more threads", Params{Memory: 256, Time: 2, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
		{"less memory", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"fewer passes", Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, true},
		{"shorter hash", Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}, true},
		{"more memory fewer passes", Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := tc.stored.Hash("hunter2hunter2")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := current.Verify(enc, "hunter2hunter2")
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if rehash != tc.want {
				t.Fatalf("needsRehash = %v, want %v", rehash, tc.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, err := testParams.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, tc := range []struct{ name, enc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"extra field", good + "$x"},
		{"trailing dollar", good + "$"},
		{"params order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"params extra", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key},
		{"time zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"threads zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads 256", "$argon2id$v=19$m=2048,t=1,p=256$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key},
		{"time 1000", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"newline in hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:20] + "\r\n" + key[20:]},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "!"},
		{"url base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key) + "-_"},
		{"non-canonical base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "F"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"empty hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := testParams.Verify(tc.enc, "pw")
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify(%q) error = %v, want ErrMalformedHash", tc.enc, err)
			}
			if ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v with an error", tc.enc, ok, rehash)
			}
		})
	}
}

func TestHashInvalid(t *testing.T) {
	if _, err := testParams.Hash(""); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("Hash(\"\") error = %v, want EINVALID", err)
	}
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 4, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		{Memory: 2 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := p.Hash("pw"); err == nil {
			t.Errorf("%+v.Hash succeeded, want an error", p)
		}
	}
}

// TestDefaultParams runs the production parameters once (about 0.2 s).
func TestDefaultParams(t *testing.T) {
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Fatalf("HashPassword = %q, want m=65536,t=2,p=1", enc)
	}
	ok, rehash, err := VerifyPassword(enc, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("VerifyPassword = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	// A hash made with the OWASP floor parameters must be upgraded.
	floor := Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	old, _ := floor.Hash("pw")
	if _, rehash, _ := VerifyPassword(old, "pw"); !rehash {
		t.Fatal("VerifyPassword of an m=19 MiB hash: needsRehash false, want true")
	}
}

// TestDummyHash checks that VerifyDummy costs what a real verification costs.
func TestDummyHash(t *testing.T) {
	h, err := decodeHash(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultParams()
	if h.params.Memory != d.Memory || h.params.Time != d.Time || h.params.Threads != d.Threads || h.params.KeyLen != d.KeyLen {
		t.Fatalf("dummyHash params %+v differ from DefaultParams %+v: regenerate it", h.params, d)
	}
}

func FuzzDecodeHash(f *testing.F) {
	good, _ := testParams.Hash("pw")
	for _, s := range []string{
		good, "", "$", "$$$$$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$Bo1ismRVk2qm6+YAYLCmWHDb+j3fjUH3",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := decodeHash(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decodeHash(%q) error %v does not wrap ErrMalformedHash", s, err)
			}
			return
		}
		// Only the canonical form is accepted, so it must round-trip.
		if got := encodeHash(h.params, h.salt, h.key); got != s {
			t.Fatalf("decodeHash(%q) re-encodes as %q", s, got)
		}
		if h.params.validate() != nil {
			t.Fatalf("decodeHash(%q) accepted invalid params %+v", s, h.params)
		}
		if h.params.Memory <= 1024 && h.params.Time <= 4 {
			if _, _, err := testParams.Verify(s, "pw"); err != nil {
				t.Fatalf("Verify(%q) = %v after decodeHash succeeded", s, err)
			}
		}
	})
}
