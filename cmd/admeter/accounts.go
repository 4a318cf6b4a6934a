package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/meta/postgres"
	"github.com/admeter/admeter/meta/sqlite"
)

// accountStore adapts the metadata store to api.AccountService: sessions
// and credentials cross as domain and api types.
type accountStore struct{ metadata }

func (a accountStore) Credentials(ctx context.Context, email string) (*admeter.User, api.Credentials, error) {
	u, c, err := a.UserCredentials(ctx, email)
	if err != nil {
		return nil, api.Credentials{}, err
	}
	return u, api.Credentials{PasswordHash: c.PasswordHash, FailedLogins: c.FailedLogins, LockedUntil: c.LockedUntil,
		TOTPSecret: c.TOTPSecret, TOTPLastStep: c.TOTPLastStep}, nil
}

func (a accountStore) CreateSession(ctx context.Context, u *admeter.User, tokenHash [32]byte, expires time.Time, ip string) (string, error) {
	s := &admeter.Session{User: u.ID, Tenant: u.Tenant, Expires: expires, IP: ip}
	if err := a.metadata.CreateSession(ctx, s, tokenHash); err != nil {
		return "", err
	}
	return s.ID, nil
}

func (a accountStore) Session(ctx context.Context, tokenHash [32]byte, now time.Time) (*admeter.User, string, error) {
	s, u, err := a.SessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return nil, "", err
	}
	return u, s.ID, nil
}

// auditLog is the audit record of the metadata store (meta/sqlite or
// meta/postgres): appending, signing checkpoints and reading.
type auditLog interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
	Checkpoint(ctx context.Context) error
	AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error)
}

// auditStore adapts the audit record to api.AuditLog.
type auditStore struct{ auditLog }

func (a auditStore) AuditEntries(ctx context.Context, q api.AuditQuery) ([]admeter.AuditEntry, error) {
	return a.auditLog.AuditEntries(ctx, admeter.AuditQuery{Tenant: q.Tenant, After: q.After, Limit: q.Limit, Action: q.Action})
}

// sqliteAudit and postgresAudit are the audit records of the two
// metadata stores, with their reads.
type sqliteAudit struct{ *sqlite.AuditLog }

func (a sqliteAudit) AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error) {
	return a.DB.AuditEntries(ctx, q)
}

type postgresAudit struct{ *postgres.AuditLog }

func (a postgresAudit) AuditEntries(ctx context.Context, q admeter.AuditQuery) ([]admeter.AuditEntry, error) {
	return a.DB.AuditEntries(ctx, q)
}

// derivedKey returns a 32-byte key for one purpose, derived from the master
// key, so that secrets the server needs across restarts (the CSRF key, the
// key that seals second-factor secrets) never sit on disk.
func derivedKey(master []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("admeter/" + purpose))
	return mac.Sum(nil)
}

// secretSealer seals small secrets (second-factor seeds) with AES-256-GCM.
type secretSealer struct{ aead cipher.AEAD }

func newSecretSealer(key []byte) (secretSealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return secretSealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return secretSealer{}, err
	}
	return secretSealer{aead}, nil
}

func (s secretSealer) Seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte("admeter totp secret")), nil
}

func (s secretSealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte("admeter totp secret"))
	if err != nil {
		return nil, fmt.Errorf("open second-factor secret: %w (was the master key changed?)", err)
	}
	return plain, nil
}
