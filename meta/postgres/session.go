package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// maxUserAgentFamily is the longest user agent family stored with a session:
// a family name, never a User-Agent header.
const maxUserAgentFamily = 64

// checkBlock returns an error unless ip is "" or exactly a /24 or /48 network
// block. The error does not quote ip, which might be a full address.
func checkBlock(ip string) error {
	if ip == "" {
		return nil
	}
	p, err := netip.ParsePrefix(ip)
	if err != nil || admeter.BlockOf(p.Addr()).Prefix() != p {
		return errors.New("session ip must be the client's /24 (IPv4) or /48 (IPv6) network block from admeter.BlockOf, never an address")
	}
	return nil
}

// CreateSession stores a session for s.User with the SHA-256 hash of its
// token. s.Tenant may be empty and is then set to the user's tenant;
// s.Expires must be after now. It assigns s.ID, s.Created and s.LastSeen.
// s.IP must be a network block: a full address is refused.
//
// Returns ENOTFOUND if s.Tenant has no user s.User, EFORBIDDEN if the user is
// disabled and ECONFLICT if a session has the same token hash.
func (db *DB) CreateSession(ctx context.Context, s *Session, tokenHash [32]byte) error {
	switch {
	case tokenHash == [32]byte{}:
		return errors.New("create session: zero token hash")
	case len(s.UserAgentFamily) > maxUserAgentFamily:
		return fmt.Errorf("create session: user agent family longer than %d bytes: store the family, not the header", maxUserAgentFamily)
	}
	if err := checkBlock(s.IP); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	ns := *s
	err := db.update(ctx, func(tx *writeTx) error {
		var tenant admeter.TenantID
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT tenant_id, disabled FROM users WHERE id = $1`, string(s.User)).Scan(&tenant, &disabled)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && s.Tenant != "" && s.Tenant != tenant {
			return userNotFound(string(s.User))
		} else if err != nil {
			return fmt.Errorf("find user: %w", err)
		} else if disabled {
			return admeter.Errorf(admeter.EFORBIDDEN, "This user is disabled: ask an administrator of the account.")
		}
		if !s.Expires.After(tx.now) {
			return errors.New("session expires before it starts")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE token_hash = $1`, tokenHash[:]).Scan(&n); err != nil {
			return fmt.Errorf("check token hash: %w", err)
		} else if n != 0 {
			return admeter.Errorf(admeter.ECONFLICT, "The session token is already in use.")
		}
		ns.Tenant, ns.Created, ns.LastSeen = tenant, tx.now, tx.now
		ns.Expires = ts(s.Expires)
		ns.ID, err = insertWithRandomID("session id",
			func() string { return "se_" + db.randomString(base32Lower, 16) },
			func(id string) (bool, error) {
				ok, err := execOne(ctx, tx, `
					INSERT INTO sessions (id, token_hash, user_id, tenant_id, created, expires, last_seen, ip, user_agent_family)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
					ON CONFLICT (id) DO NOTHING`,
					id, tokenHash[:], string(ns.User), string(ns.Tenant), ns.Created, ns.Expires,
					ns.LastSeen, ns.IP, ns.UserAgentFamily)
				if err != nil {
					return false, fmt.Errorf("insert session: %w", err)
				}
				return ok, nil
			})
		return err
	})
	if err != nil {
		return wrap("create session", err)
	}
	*s = ns
	return nil
}

// SessionByTokenHash returns the session with the given token hash and its
// user, if at now the session has not expired, the user is enabled and the
// tenant is active. It does not record the use; see TouchSession.
//
// Returns ENOTFOUND otherwise: the caller asks the user to sign in.
func (db *DB) SessionByTokenHash(ctx context.Context, hash [32]byte, now time.Time) (*Session, *admeter.User, error) {
	var s Session
	var u *admeter.User
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		u, err = scanUser(tx.QueryRow(ctx, `
			SELECT `+userColumns+`, s.id, s.tenant_id, s.created, s.expires, s.last_seen, s.ip, s.user_agent_family
			FROM sessions s
			JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
			JOIN tenants t ON t.id = s.tenant_id
			WHERE s.token_hash = $1 AND s.expires > $2 AND NOT u.disabled AND t.status = 'active'`,
			hash[:], ts(now)),
			"", &s.ID, &s.Tenant, &s.Created, &s.Expires, &s.LastSeen, &s.IP, &s.UserAgentFamily)
		return err
	})
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		return nil, nil, admeter.Errorf(admeter.ENOTFOUND, "Session not found or expired: please sign in.")
	} else if err != nil {
		return nil, nil, wrap("get session", err)
	}
	s.User = u.ID
	s.Created, s.Expires, s.LastSeen = s.Created.UTC(), s.Expires.UTC(), s.LastSeen.UTC()
	return &s, u, nil
}

// TouchSession records that session id was used at at. It writes only when
// the stored last activity is more than a minute before at.
//
// Returns ENOTFOUND if there is no such session.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	var last time.Time
	err := db.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT last_seen FROM sessions WHERE id = $1`, id).Scan(&last)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return admeter.Errorf(admeter.ENOTFOUND, "Session not found.")
	} else if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	cutoff := ts(at.Add(-touchInterval))
	if !last.Before(cutoff) {
		return nil
	}
	err = db.update(ctx, func(tx *writeTx) error {
		_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen = $1 WHERE id = $2 AND last_seen < $3`, ts(at), id, cutoff)
		return err
	})
	return wrap("touch session", err)
}

// DeleteSession deletes session id: signing out. Returns ENOTFOUND if there
// is no such session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	err := db.update(ctx, func(tx *writeTx) error {
		ok, err := execOne(ctx, tx, `DELETE FROM sessions WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete session: %w", err)
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Session not found.")
		}
		return nil
	})
	return wrap("delete session", err)
}

// DeleteUserSessions deletes every session of user: signing out everywhere.
// It returns how many there were.
func (db *DB) DeleteUserSessions(ctx context.Context, user admeter.UserID) (int, error) {
	return db.deleteSessions(ctx, "delete user sessions", `DELETE FROM sessions WHERE user_id = $1`, string(user))
}

// DeleteExpiredSessions deletes the sessions that expired at or before now,
// for housekeeping, and returns how many there were.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return db.deleteSessions(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires <= $1`, ts(now))
}

// deleteSessions runs the DELETE query with arg and returns the number of
// sessions deleted.
func (db *DB) deleteSessions(ctx context.Context, op, query string, arg any) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *writeTx) error {
		tag, err := tx.Exec(ctx, query, arg)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
