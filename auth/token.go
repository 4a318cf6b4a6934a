package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// NewSessionToken returns a new session token, 32 random bytes in unpadded
// base64url (43 characters, cookie-safe), and its SHA-256 hash. Send the token
// to the browser and store only the hash: the token carries 256 bits of
// randomness, so a fast hash is enough and a leaked session table yields no
// usable sessions. Look sessions up with HashSessionToken.
func NewSessionToken() (token string, hash [32]byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashSessionToken(token)
}

// HashSessionToken returns the SHA-256 of a session token as presented by the
// browser, the form in which NewSessionToken's hash is stored.
func HashSessionToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// csrfContext separates CSRF MACs from any other use of the same key.
const csrfContext = "admeter csrf v1\x00"

// minCSRFSecretLen is the shortest session secret CSRFToken and CheckCSRF
// accept (128 bits).
const minCSRFSecretLen = 16

// CSRFToken returns the anti-CSRF token of a session: the unpadded base64url
// HMAC-SHA-256 of sessionID under sessionSecret (a server-wide key of at
// least 16 bytes, kept in the key store). sessionID should be a stable,
// non-secret name of the session, such as the hex of its stored hash. Put the
// token in forms (or a header) and check it with CheckCSRF on every
// state-changing request. It returns "" if the secret is too short or
// sessionID is empty, which CheckCSRF never accepts.
func CSRFToken(sessionSecret []byte, sessionID string) string {
	if len(sessionSecret) < minCSRFSecretLen || sessionID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(csrfMAC(sessionSecret, sessionID))
}

// CheckCSRF reports, in constant time, whether token is CSRFToken(sessionSecret,
// sessionID). It is false for an empty token, a short secret or an empty
// sessionID.
func CheckCSRF(sessionSecret []byte, sessionID, token string) bool {
	if len(sessionSecret) < minCSRFSecretLen || sessionID == "" {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(got, csrfMAC(sessionSecret, sessionID)) == 1
}

func csrfMAC(secret []byte, sessionID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(csrfContext))
	m.Write([]byte(sessionID))
	return m.Sum(nil)
}
