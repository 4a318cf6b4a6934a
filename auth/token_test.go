package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestNewSessionToken(t *testing.T) {
	tok, hash := NewSessionToken()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 || len(tok) != 43 {
		t.Fatalf("token %q: want 43 characters of unpadded base64url for 32 bytes (%v)", tok, err)
	}
	if hash != sha256.Sum256([]byte(tok)) || hash != HashSessionToken(tok) {
		t.Fatal("hash is not the SHA-256 of the token")
	}
	tok2, hash2 := NewSessionToken()
	if tok == tok2 || hash == hash2 {
		t.Fatal("two session tokens are equal")
	}
}

func TestCSRF(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210")
	tok := CSRFToken(secret, "session-a")
	if len(tok) != 43 {
		t.Fatalf("CSRFToken = %q, want 43 characters", tok)
	}
	if CSRFToken(secret, "session-a") != tok {
		t.Fatal("CSRFToken is not deterministic")
	}
	flipped := []byte(tok)
	flipped[10] ^= 1
	for _, tc := range []struct {
		name    string
		secret  []byte
		session string
		token   string
		want    bool
	}{
		{"valid", secret, "session-a", tok, true},
		{"other session", secret, "session-b", tok, false},
		{"other secret", other, "session-a", tok, false},
		{"tampered", secret, "session-a", string(flipped), false},
		{"truncated", secret, "session-a", tok[:42], false},
		{"padded", secret, "session-a", tok + "=", false},
		{"empty token", secret, "session-a", "", false},
		{"empty session", secret, "", CSRFToken(secret, ""), false},
		{"short secret", secret[:15], "session-a", base64.RawURLEncoding.EncodeToString(csrfMAC(secret[:15], "session-a")), false},
		{"nil secret", nil, "session-a", base64.RawURLEncoding.EncodeToString(csrfMAC(nil, "session-a")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckCSRF(tc.secret, tc.session, tc.token); got != tc.want {
				t.Fatalf("CheckCSRF = %v, want %v", got, tc.want)
			}
		})
	}
	if CSRFToken(secret[:15], "s") != "" || CSRFToken(secret, "") != "" {
		t.Fatal("CSRFToken with a short secret or empty session is not empty")
	}
}
