package admeter

import "time"

// Session is a signed-in user's session. The session token itself is never
// stored, only its SHA-256 hash.
type Session struct {
	// ID identifies the session, for signing it out ("se_" and 16 base32
	// characters). It is not the session token.
	ID     string
	User   UserID
	Tenant TenantID
	// Created is when the user signed in; Expires when the session ends
	// whatever its activity; LastSeen when it was last used.
	Created, Expires, LastSeen time.Time
	// IP is the client's network block when it signed in, as
	// BlockOf gives it ("203.0.113.0/24", "2001:db8:1::/48"), or
	// "": never an address.
	IP string
	// UserAgentFamily is the client's browser family ("Chrome", "Safari"),
	// at most 64 bytes, or "": never the User-Agent header.
	UserAgentFamily string
}

// Credentials are what signing in checks, as the metadata store keeps them.
// They never leave the store inside a User.
type Credentials struct {
	// PasswordHash is the self-describing hash string the caller stored
	// (algorithm, parameters, salt and hash).
	PasswordHash string
	// TOTPSecret is the second factor's secret, sealed by the caller (the
	// API seals it with a key store key) and opaque here; nil when the user
	// has no second factor.
	TOTPSecret []byte
	// TOTPLastStep is the last TOTP time step a code was accepted for, so
	// that a code cannot be used twice.
	TOTPLastStep int64
	// FailedLogins counts failed sign-ins since the last successful one.
	FailedLogins int
	// LockedUntil is until when sign-in is refused (zero: not locked).
	LockedUntil time.Time
}
