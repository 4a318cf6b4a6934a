package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/admeter/admeter"
)

// maxUserAgentFamily is the longest user agent family stored with a session:
// a family name, never a User-Agent header.
const maxUserAgentFamily = 64

// Session is a signed-in user's session (admeter.Session).
type Session = admeter.Session

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
// s.IP must be a network block (see Session.IP): a full address is refused,
// so none reaches the disk.
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
		err := tx.QueryRowContext(ctx, `SELECT tenant_id, disabled FROM users WHERE id = ?`, string(s.User)).Scan(&tenant, &disabled)
		if errors.Is(err, sql.ErrNoRows) || err == nil && s.Tenant != "" && s.Tenant != tenant {
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
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, tokenHash[:]).Scan(&n); err != nil {
			return fmt.Errorf("check token hash: %w", err)
		} else if n != 0 {
			return admeter.Errorf(admeter.ECONFLICT, "The session token is already in use.")
		}
		ns.Tenant, ns.Created, ns.LastSeen = tenant, tx.now, tx.now
		ns.Expires = s.Expires.UTC().Truncate(time.Microsecond)
		ns.ID, err = insertWithRandomID("session id",
			func() string { return "se_" + db.randomString(base32Lower, 16) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO sessions (id, token_hash, user_id, tenant_id, created, expires, last_seen, ip, user_agent_family)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, tokenHash[:], string(ns.User), string(ns.Tenant), formatTime(ns.Created), formatTime(ns.Expires),
					formatTime(ns.LastSeen), ns.IP, ns.UserAgentFamily)
				if err != nil {
					return false, fmt.Errorf("insert session: %w", err)
				}
				return insertedOne(res)
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
	var created, expires, lastSeen string
	u, err := scanUser(db.read.QueryRowContext(ctx, `
		SELECT `+userColumns+`, s.id, s.tenant_id, s.created, s.expires, s.last_seen, s.ip, s.user_agent_family
		FROM sessions s
		JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
		JOIN tenants t ON t.id = s.tenant_id
		WHERE s.token_hash = ? AND s.expires > ? AND u.disabled = 0 AND t.status = 'active'`,
		hash[:], formatTime(now)),
		"", &s.ID, &s.Tenant, &created, &expires, &lastSeen, &s.IP, &s.UserAgentFamily)
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		return nil, nil, admeter.Errorf(admeter.ENOTFOUND, "Session not found or expired: please sign in.")
	} else if err != nil {
		return nil, nil, wrap("get session", err)
	}
	s.User = u.ID
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&s.Created, created}, {&s.Expires, expires}, {&s.LastSeen, lastSeen}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, nil, wrap("get session", err)
		}
	}
	return &s, u, nil
}

// TouchSession records that session id was used at at. It writes only when
// the stored last activity is more than a minute before at.
//
// Returns ENOTFOUND if there is no such session.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	var last string
	err := db.read.QueryRowContext(ctx, `SELECT last_seen FROM sessions WHERE id = ?`, id).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return admeter.Errorf(admeter.ENOTFOUND, "Session not found.")
	} else if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	cutoff := formatTime(at.Add(-touchInterval))
	if last >= cutoff {
		return nil
	}
	err = db.update(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen < ?`,
			formatTime(at), id, cutoff)
		return err
	})
	return wrap("touch session", err)
}

// DeleteSession deletes session id: signing out. Returns ENOTFOUND if there
// is no such session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	err := db.update(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		if ok, err := insertedOne(res); err != nil {
			return err
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Session not found.")
		}
		return nil
	})
	return wrap("delete session", err)
}

// DeleteUserSessions deletes every session of user: signing out everywhere.
// It returns how many there were. The caller checks first that the user is
// in its tenant (User).
func (db *DB) DeleteUserSessions(ctx context.Context, user admeter.UserID) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, string(user))
		if err != nil {
			return fmt.Errorf("delete sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("delete user sessions", err)
	}
	return int(n), nil
}

// DeleteExpiredSessions deletes the sessions that expired at or before now,
// for housekeeping, and returns how many there were.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, formatTime(now))
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return int(n), nil
}
