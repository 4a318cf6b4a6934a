package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// maxUserName is the longest user name, in characters.
const maxUserName = 100

// normalizeUser trims u's email and name and returns an EINVALID error for
// the first problem found.
func normalizeUser(u *admeter.User) error {
	u.Email = strings.TrimSpace(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if err := admeter.CheckEmail(u.Email); err != nil {
		return err
	}
	return checkNameRole(u)
}

// checkNameRole returns EINVALID unless u has a name of at most 100
// characters and a defined role.
func checkNameRole(u *admeter.User) error {
	switch {
	case u.Name == "":
		return admeter.Errorf(admeter.EINVALID, "name is required: the person's name")
	case utf8.RuneCountInString(u.Name) > maxUserName:
		return admeter.Errorf(admeter.EINVALID, "name is longer than %d characters", maxUserName)
	case !u.Role.Valid():
		return admeter.Errorf(admeter.EINVALID, "role must be owner, admin, analyst or viewer, not %q", u.Role)
	}
	return nil
}

// CreateUser validates u and stores it in u.Tenant with the given password
// hash. It assigns u.ID ("u_" and 12 random base32 characters) and
// u.Created, trims u.Email and u.Name, and clears u.TOTP.
//
// Returns EINVALID if u is invalid, ENOTFOUND if its tenant does not exist
// and ECONFLICT if any user, of any tenant, has the same email (compared
// without ASCII case).
func (db *DB) CreateUser(ctx context.Context, u *admeter.User, passwordHash string) error {
	if u.Tenant == "" {
		return admeter.Errorf(admeter.EINVALID, "tenant is required")
	}
	if err := normalizeUser(u); err != nil {
		return err
	}
	if passwordHash == "" {
		return errors.New("create user: empty password hash")
	}
	nu := *u
	nu.TOTP = false
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE id = $1`, string(u.Tenant)).Scan(&n); err != nil {
			return fmt.Errorf("check tenant: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		}
		return db.insertUser(ctx, tx, &nu, passwordHash)
	})
	if err != nil {
		return wrap("create user", err)
	}
	*u = nu
	return nil
}

// insertUser checks that u.Email is free and inserts u, already validated,
// with a fresh random id; it sets u.ID and u.Created.
func (db *DB) insertUser(ctx context.Context, tx *writeTx, u *admeter.User, passwordHash string) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE ascii_lower(email) = ascii_lower($1)`, u.Email).Scan(&n); err != nil {
		return fmt.Errorf("check email: %w", err)
	} else if n != 0 {
		return admeter.Errorf(admeter.ECONFLICT, "A user with this email address already exists: sign in with it, or use another address.")
	}
	id, err := insertWithRandomID("user id",
		func() string { return "u_" + db.randomString(base32Lower, 12) },
		func(id string) (bool, error) {
			ok, err := execOne(ctx, tx, `
				INSERT INTO users (id, tenant_id, email, name, role, password_hash, disabled, created)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (id) DO NOTHING`,
				id, string(u.Tenant), u.Email, u.Name, string(u.Role), passwordHash, u.Disabled, tx.now)
			if err != nil {
				return false, fmt.Errorf("insert user: %w", err)
			}
			return ok, nil
		})
	if err != nil {
		return err
	}
	u.ID, u.Created = admeter.UserID(id), tx.now
	return nil
}

// userColumns are the columns scanUser reads, from users aliased u.
const userColumns = `u.id, u.tenant_id, u.email, u.name, u.role, u.totp_secret IS NOT NULL, u.disabled, u.created`

// scanUser scans userColumns and then extra. It returns ENOTFOUND, naming
// id, for pgx.ErrNoRows.
func scanUser(row pgx.Row, id string, extra ...any) (*admeter.User, error) {
	var u admeter.User
	err := row.Scan(append([]any{&u.ID, &u.Tenant, &u.Email, &u.Name, &u.Role, &u.TOTP, &u.Disabled, &u.Created}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, userNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("query user: %w", err)
	}
	u.Created = u.Created.UTC()
	return &u, nil
}

// userNotFound is the error for a user that does not exist or belongs to
// another tenant: the two cannot be told apart.
func userNotFound(id string) error {
	if id == "" {
		return admeter.Errorf(admeter.ENOTFOUND, "User not found.")
	}
	return admeter.Errorf(admeter.ENOTFOUND, "User %s not found.", id)
}

// User returns tenant's user id. Returns ENOTFOUND if there is none or it
// belongs to another tenant.
func (db *DB) User(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) (*admeter.User, error) {
	var u *admeter.User
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 AND u.tenant_id = $2`,
			string(id), string(tenant)), string(id))
		return err
	})
	if err != nil {
		return nil, wrap("get user", err)
	}
	return u, nil
}

// Users returns the users of tenant, oldest first.
func (db *DB) Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error) {
	var out []*admeter.User
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.tenant_id = $1 ORDER BY u.created, u.seq`, string(tenant))
		if err != nil {
			return fmt.Errorf("query users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows, "")
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list users", err)
	}
	return out, nil
}

// UpdateUser saves u's name, role and disabled flag. It trims u.Name.
//
// Returns EINVALID if the name or role is invalid, ENOTFOUND if u.Tenant has
// no user u.ID, and ECONFLICT if the change would leave the tenant without
// an enabled owner.
func (db *DB) UpdateUser(ctx context.Context, u *admeter.User) error {
	u.Name = strings.TrimSpace(u.Name)
	if err := checkNameRole(u); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *writeTx) error {
		if u.Role != admeter.RoleOwner || u.Disabled {
			if err := checkOtherOwner(ctx, tx, u.Tenant, u.ID); err != nil {
				return err
			}
		}
		ok, err := execOne(ctx, tx, `UPDATE users SET name = $1, role = $2, disabled = $3 WHERE id = $4 AND tenant_id = $5`,
			u.Name, string(u.Role), u.Disabled, string(u.ID), string(u.Tenant))
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		} else if !ok {
			return userNotFound(string(u.ID))
		}
		return nil
	})
	return wrap("update user", err)
}

// checkOtherOwner returns ECONFLICT if user id is an enabled owner of tenant
// and no other enabled owner exists: a tenant always keeps one.
func checkOtherOwner(ctx context.Context, tx *writeTx, tenant admeter.TenantID, id admeter.UserID) error {
	var self, others int
	if err := tx.QueryRow(ctx, `
		SELECT COUNT(*) FILTER (WHERE id = $1), COUNT(*) FILTER (WHERE id <> $1)
		FROM users WHERE tenant_id = $2 AND role = 'owner' AND NOT disabled`,
		string(id), string(tenant)).Scan(&self, &others); err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if self == 1 && others == 0 {
		return admeter.Errorf(admeter.ECONFLICT, "This is the account's only enabled owner: make another user owner first.")
	}
	return nil
}

// DeleteUser deletes tenant's user id and, with it, the user's sessions.
//
// Returns ENOTFOUND if tenant has no such user and ECONFLICT if it is the
// tenant's only enabled owner.
func (db *DB) DeleteUser(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) error {
	err := db.update(ctx, func(tx *writeTx) error {
		if err := checkOtherOwner(ctx, tx, tenant, id); err != nil {
			return err
		}
		ok, err := execOne(ctx, tx, `DELETE FROM users WHERE id = $1 AND tenant_id = $2`, string(id), string(tenant))
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		} else if !ok {
			return userNotFound(string(id))
		}
		return nil
	})
	return wrap("delete user", err)
}

// UserCredentials returns the user who signs in with email (compared without
// ASCII case) and the credentials to check, whatever the user's or its
// tenant's state: the caller checks the password first.
//
// Returns ENOTFOUND if no user has the email.
func (db *DB) UserCredentials(ctx context.Context, email string) (*admeter.User, *Credentials, error) {
	var c Credentials
	var locked *time.Time
	var u *admeter.User
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		u, err = scanUser(tx.QueryRow(ctx, `
			SELECT `+userColumns+`, u.password_hash, u.totp_secret, u.totp_last_step, u.failed_logins, u.locked_until
			FROM users u WHERE ascii_lower(u.email) = ascii_lower($1)`, strings.TrimSpace(email)),
			"", &c.PasswordHash, &c.TOTPSecret, &c.TOTPLastStep, &c.FailedLogins, &locked)
		return err
	})
	if err != nil {
		return nil, nil, wrap("get user credentials", err)
	}
	c.LockedUntil = fromNull(locked)
	return u, &c, nil
}

// SetPassword replaces user id's password hash. It does not end the user's
// sessions: call DeleteUserSessions for that.
//
// Returns ENOTFOUND if there is no such user.
func (db *DB) SetPassword(ctx context.Context, id admeter.UserID, hash string) error {
	if hash == "" {
		return errors.New("set password: empty password hash")
	}
	return wrap("set password", db.updateUser(ctx, id, `password_hash = $1`, hash))
}

// SetTOTP sets user id's second factor secret, sealed by the caller and
// stored as opaque bytes; nil or empty removes the second factor. The last
// accepted time step is kept.
//
// Returns ENOTFOUND if there is no such user.
func (db *DB) SetTOTP(ctx context.Context, id admeter.UserID, secret []byte) error {
	var v any
	if len(secret) > 0 {
		v = secret
	}
	return wrap("set totp", db.updateUser(ctx, id, `totp_secret = $1::bytea`, v))
}

// SetTOTPLastStep records that a code for TOTP time step step was accepted
// for user id. It only moves forward, atomically.
//
// Returns ENOTFOUND if there is no such user and ECONFLICT if step is not
// after the recorded one: the code was already used.
func (db *DB) SetTOTPLastStep(ctx context.Context, id admeter.UserID, step int64) error {
	err := db.update(ctx, func(tx *writeTx) error {
		var last int64
		err := tx.QueryRow(ctx, `SELECT totp_last_step FROM users WHERE id = $1`, string(id)).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			return userNotFound(string(id))
		} else if err != nil {
			return fmt.Errorf("read totp step: %w", err)
		}
		if step <= last {
			return admeter.Errorf(admeter.ECONFLICT, "This code was already used: wait for the next one.")
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2`, step, string(id)); err != nil {
			return fmt.Errorf("update totp step: %w", err)
		}
		return nil
	})
	return wrap("set totp step", err)
}

// RecordLogin records a sign-in attempt of user id and returns the failures
// since the last success. A success (ok) resets the count and the lock; a
// failure increments the count and stores lockedUntil (zero: not locked).
//
// Returns ENOTFOUND if there is no such user.
func (db *DB) RecordLogin(ctx context.Context, id admeter.UserID, ok bool, lockedUntil time.Time) (failed int, err error) {
	err = db.update(ctx, func(tx *writeTx) error {
		var row pgx.Row
		if ok {
			row = tx.QueryRow(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING failed_logins`, string(id))
		} else {
			row = tx.QueryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1, locked_until = $1 WHERE id = $2 RETURNING failed_logins`,
				nullTime(lockedUntil), string(id))
		}
		err := row.Scan(&failed)
		if errors.Is(err, pgx.ErrNoRows) {
			return userNotFound(string(id))
		} else if err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, wrap("record login", err)
	}
	return failed, nil
}

// updateUser sets columns (a constant of this package, "col = $1") of user
// id to arg, or returns ENOTFOUND.
func (db *DB) updateUser(ctx context.Context, id admeter.UserID, set string, arg any) error {
	return db.update(ctx, func(tx *writeTx) error {
		ok, err := execOne(ctx, tx, `UPDATE users SET `+set+` WHERE id = $2`, arg, string(id))
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		} else if !ok {
			return userNotFound(string(id))
		}
		return nil
	})
}
