package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/admeter/admeter"
)

// CreateTenant validates t and stores it with the SHA-256 hash of its API
// token. It assigns t.ID ("t_" and 10 random base32 characters) and
// t.Created, and trims t.Name.
//
// Returns EINVALID if t is invalid and ECONFLICT if another tenant has the
// same token hash.
func (db *DB) CreateTenant(ctx context.Context, t *admeter.Tenant, tokenHash [32]byte) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if tokenHash == [32]byte{} {
		return errors.New("create tenant: zero token hash")
	}
	name := strings.TrimSpace(t.Name)
	var id admeter.TenantID
	var created = t.Created
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE token_hash = ?`, tokenHash[:]).Scan(&n); err != nil {
			return fmt.Errorf("check token hash: %w", err)
		} else if n != 0 {
			return admeter.Errorf(admeter.ECONFLICT, "The API token is already in use.")
		}
		created = tx.now
		s, err := insertWithRandomID("tenant id",
			func() string { return "t_" + db.randomString(base32Lower, 10) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO tenants (id, name, kind, token_hash, created)
					VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, name, string(t.Kind), tokenHash[:], formatTime(created))
				if err != nil {
					return false, fmt.Errorf("insert tenant: %w", err)
				}
				return insertedOne(res)
			})
		id = admeter.TenantID(s)
		return err
	})
	if err != nil {
		return wrap("create tenant", err)
	}
	t.ID, t.Name, t.Created = id, name, created
	return nil
}

// Tenant returns the tenant with the given id. Returns ENOTFOUND if there is
// none.
func (db *DB) Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error) {
	t, err := db.findTenant(ctx, `WHERE id = ?`, string(id))
	if err != nil {
		return nil, wrap("get tenant", err)
	}
	return t, nil
}

// TenantByTokenHash returns the tenant whose API token has the given SHA-256
// hash. Returns ENOTFOUND if there is none.
func (db *DB) TenantByTokenHash(ctx context.Context, hash [32]byte) (*admeter.Tenant, error) {
	t, err := db.findTenant(ctx, `WHERE token_hash = ?`, hash[:])
	if err != nil {
		return nil, wrap("get tenant by token", err)
	}
	return t, nil
}

// findTenant returns the one tenant that where selects, or ENOTFOUND.
func (db *DB) findTenant(ctx context.Context, where string, args ...any) (*admeter.Tenant, error) {
	var t admeter.Tenant
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT id, name, kind, created FROM tenants `+where, args...).
		Scan(&t.ID, &t.Name, &t.Kind, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
	} else if err != nil {
		return nil, fmt.Errorf("query tenant: %w", err)
	}
	if t.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	return &t, nil
}

// wrap returns an application error (*admeter.Error) as it is, so that its
// code and message reach the caller unchanged, and prefixes any other error
// with op. A nil error stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *admeter.Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("%s: %w", op, err)
}
