package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 defaults, the only ones every authenticator app
// supports): HMAC-SHA-1, 6 digits, 30-second steps counted from the Unix epoch.
const (
	totpDigits = 6
	totpPeriod = 30 // seconds
	totpSkew   = 1  // steps accepted either side of the current one
)

// totpSecretLen is the length of a new secret: 160 bits, as RFC 4226 §4
// recommends for HMAC-SHA-1.
const totpSecretLen = 20

// minTOTPSecretLen is the shortest secret VerifyTOTP accepts: 128 bits, the
// RFC 4226 §4 minimum.
const minTOTPSecretLen = 16

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a new random 160-bit TOTP secret and its unpadded
// base32 form, which authenticator apps accept for manual entry. Store the
// secret encrypted (it is a shared key, not a verifier); show the base32 form
// or TOTPURI only once, at enrolment.
func NewTOTPSecret() (secret []byte, base32 string) {
	secret = make([]byte, totpSecretLen)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	return secret, b32.EncodeToString(secret)
}

// TOTPURI returns the otpauth:// key URI of secret for enrolling an
// authenticator app (usually shown as a QR code), in the format of Google
// Authenticator's "Key Uri Format": the label is "issuer:account", and
// algorithm, digits and period are spelled out. Spaces are encoded as %20 and
// colons in issuer or account are escaped so the label stays unambiguous.
func TOTPURI(issuer, account string, secret []byte) string {
	label := uriEscape(issuer) + ":" + uriEscape(account)
	if issuer == "" {
		label = uriEscape(account)
	}
	q := "secret=" + b32.EncodeToString(secret)
	if issuer != "" {
		q += "&issuer=" + uriEscape(issuer)
	}
	q += "&algorithm=SHA1&digits=6&period=30"
	return "otpauth://totp/" + label + "?" + q
}

// uriEscape percent-encodes s for a label or query value, with %20 for space
// (some apps show a literal + otherwise).
func uriEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// VerifyTOTP reports whether code is the 6-digit TOTP of secret at now, or at
// one 30-second step before or after (clock skew). Spaces in code are
// ignored ("123 456"). A step at or before lastUsedStep is refused, so a code
// cannot be replayed: on success, store the returned step as the account's
// new lastUsedStep (pass 0 when the account has never used a code). It also
// refuses secrets shorter than 128 bits and times before 1970. All candidate
// steps are computed and compared in constant time.
func VerifyTOTP(secret []byte, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(secret) < minTOTPSecretLen || len(code) != totpDigits || now.Unix() < 0 {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	cur := now.Unix() / totpPeriod
	var buf [10]byte
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want := hotp(buf[:0], secret, uint64(s), totpDigits)
		match := subtle.ConstantTimeCompare(want, []byte(code)) == 1
		if match && s > lastUsedStep {
			step, ok = s, true // the latest matching step, so replays stay refused
		}
	}
	return step, ok
}

// pow10 holds 10^n for the digit counts hotp supports.
var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// hotp appends to dst the RFC 4226 HOTP value of secret at counter, zero-padded
// to digits (1..9) decimal digits, and returns the extended slice.
func hotp(dst, secret []byte, counter uint64, digits int) []byte {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v := bin % pow10[digits]
	n := len(dst)
	dst = append(dst, "000000000"[:digits]...)
	for i := n + digits - 1; i >= n; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}
