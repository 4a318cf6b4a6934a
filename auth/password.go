package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/admeter/admeter"
)

// Params are the argon2id cost parameters of a password hash. Every encoded
// hash carries its own parameters, so they can be raised later without
// invalidating stored hashes: VerifyPassword reports needsRehash for hashes made
// with weaker parameters, and the caller re-hashes on the next successful login.
type Params struct {
	Memory  uint32 // memory in KiB (argon2 m)
	Time    uint32 // passes over the memory (argon2 t)
	Threads uint8  // lanes (argon2 p)
	SaltLen uint32 // random salt length in bytes
	KeyLen  uint32 // derived hash length in bytes
}

// Limits on the parameters accepted from an encoded hash, so that a corrupted
// or hostile stored value cannot make a verification allocate gigabytes or run
// for minutes.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// DefaultParams returns the production parameters: argon2id with m=64 MiB, t=2,
// p=1, a 16-byte salt and a 32-byte hash. OWASP's floor for argon2id is
// m=19 MiB, t=2, p=1; 64 MiB costs about 100 ms of one core on the 2-core
// deployment machine (see BenchmarkHashPassword), which fits the 50–150 ms
// login budget and makes each guess more than three times as costly as the
// floor. p=1 because concurrent logins already use both cores.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// ErrMalformedHash is wrapped by the errors VerifyPassword returns for a stored
// value that is not an argon2id hash this package can verify.
var ErrMalformedHash = errors.New("malformed password hash")

// validate reports whether p can be used to hash a password.
func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d is outside 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2 threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2 memory %d KiB is outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d is outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("hash length %d is outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash returns the PHC-format argon2id hash of pw with a fresh random salt:
// $argon2id$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<hash>, salt and hash in
// unpadded standard base64. It returns an EINVALID error for an empty password
// and an error for unusable parameters.
func (p Params) Hash(pw string) (string, error) {
	if pw == "" {
		return "", admeter.Errorf(admeter.EINVALID, "Enter a password.")
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeHash(p, salt, key), nil
}

// Verify reports whether pw matches the encoded hash, comparing in constant
// time with the parameters stored in encoded. needsRehash is true when the
// stored parameters are weaker than p (less memory, fewer passes, shorter salt
// or hash); the caller should then store the result of p.Hash(pw) after a
// successful login. A malformed encoded value returns an error wrapping
// ErrMalformedHash and never panics.
func (p Params) Verify(encoded, pw string) (ok, needsRehash bool, err error) {
	h, err := decodeHash(encoded)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	return true, h.params.weakerThan(p), nil
}

// weakerThan reports whether a hash made with q should be upgraded to p.
func (q Params) weakerThan(p Params) bool {
	return q.Memory < p.Memory || q.Time < p.Time || q.SaltLen < p.SaltLen || q.KeyLen < p.KeyLen
}

// HashPassword returns the argon2id hash of pw with DefaultParams, in PHC
// format, for storage. It does not apply the password policy: call
// CheckPassword first when a user chooses a password.
func HashPassword(pw string) (string, error) { return DefaultParams().Hash(pw) }

// VerifyPassword reports whether pw matches the stored hash encoded, and
// whether the hash should be replaced because it was made with parameters
// weaker than DefaultParams. See Params.Verify.
func VerifyPassword(encoded, pw string) (ok, needsRehash bool, err error) {
	return DefaultParams().Verify(encoded, pw)
}

// dummyHash is a hash made with DefaultParams of a throwaway password, used by
// VerifyDummy. It is public and verifies nothing a user would type; a test
// checks that its parameters stay equal to DefaultParams.
const dummyHash = "$argon2id$v=19$m=65536,t=2,p=1$1LdS/LWGa6yL0kB/qLcO6w$VTQaKUDwiDKPLs8qsFu+Jh4aoY5P+jzMSdLTJovrTTU"

// VerifyDummy does the work of VerifyPassword against a fixed hash and
// discards the result. Call it when a login names an account that does not
// exist, so that such a login takes as long as one for a real account and the
// response time does not reveal which accounts exist.
func VerifyDummy(pw string) {
	_, _, _ = VerifyPassword(dummyHash, pw)
}

// phcHash is a parsed encoded hash.
type phcHash struct {
	params    Params
	salt, key []byte
}

const argon2Version = argon2.Version // 0x13 = 19

var b64 = base64.RawStdEncoding.Strict()

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeHash parses the canonical PHC form produced by encodeHash. It is
// strict: decodeHash(s) succeeds only if encodeHash of the result gives s
// back, and the parameters are within the limits of Params.validate.
func decodeHash(s string) (phcHash, error) {
	var h phcHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, fmt.Errorf("%w: want $argon2id$v=19$m=…,t=…,p=…$salt$hash", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return h, fmt.Errorf("%w: argon2 version is not %d", ErrMalformedHash, argon2Version)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return h, fmt.Errorf("%w: parameters are not m=…,t=…,p=…", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return h, fmt.Errorf("%w: parameters are not m=…,t=…,p=…", ErrMalformedHash)
		}
		v, err := parseDecimal(num)
		if err != nil {
			return h, fmt.Errorf("%w: parameter %s%s: %v", ErrMalformedHash, name, num, err)
		}
		vals[i] = v
	}
	if vals[0] > maxMemory || vals[1] > maxTime || vals[2] > 255 {
		return h, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	salt, err := decodeB64(parts[4])
	if err != nil {
		return h, fmt.Errorf("%w: salt is not unpadded base64", ErrMalformedHash)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return h, fmt.Errorf("%w: hash is not unpadded base64", ErrMalformedHash)
	}
	h.params = Params{
		Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key)),
	}
	if err := h.params.validate(); err != nil {
		return h, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	h.salt, h.key = salt, key
	return h, nil
}

// decodeB64 decodes canonical unpadded standard base64. The encoding package
// skips \r and \n, so the alphabet is checked first.
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, errors.New("not base64")
		}
	}
	return b64.DecodeString(s)
}

// parseDecimal parses a canonical unsigned decimal: ASCII digits, no sign, no
// leading zero, at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a canonical decimal number")
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not a canonical decimal number")
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}
