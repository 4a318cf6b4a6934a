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

// maxStatusNote is the longest note on a status change, in characters.
const maxStatusNote = 1000

// RegisterTenant stores a company's self-service registration: tenant t,
// pending, and its first user owner, an owner, with the given password hash,
// in one transaction. See the SQLite store's method of the same name.
//
// Returns EINVALID if t or owner is invalid, and ECONFLICT if an open tenant
// is registered with the same credit code or a user has the same email.
func (db *DB) RegisterTenant(ctx context.Context, t *admeter.Tenant, owner *admeter.User, passwordHash string) error {
	if err := t.ValidateRegistration(); err != nil {
		return err
	}
	o := *owner
	o.Role, o.Disabled, o.TOTP = admeter.RoleOwner, false, false
	if strings.TrimSpace(o.Name) == "" {
		o.Name = t.Registration.Contact
	}
	if err := normalizeUser(&o); err != nil {
		return err
	}
	if passwordHash == "" {
		return errors.New("register tenant: empty password hash")
	}
	name := strings.TrimSpace(t.Name)
	var id admeter.TenantID
	err := db.update(ctx, func(tx *writeTx) error {
		if err := checkCreditCodeFree(ctx, tx, t.Registration.CreditCode, ""); err != nil {
			return err
		}
		var err error
		if id, err = db.insertTenant(ctx, tx, t, name, admeter.TenantPending); err != nil {
			return err
		}
		o.Tenant = id
		return db.insertUser(ctx, tx, &o, passwordHash)
	})
	if err != nil {
		return wrap("register tenant", err)
	}
	t.ID, t.Name, t.Status, t.StatusNote, t.Created, t.Closed = id, name, admeter.TenantPending, "", o.Created, time.Time{}
	*owner = o
	return nil
}

// SetTenantStatus moves tenant id to next, if admeter.TenantStatus.CanMoveTo
// allows it, and records the operator's note (at most 1000 characters).
// Closing sets Closed. It returns the tenant as it now is.
//
// Returns EINVALID if the note is too long, ENOTFOUND if there is no such
// tenant and ECONFLICT if the move is not allowed.
func (db *DB) SetTenantStatus(ctx context.Context, id admeter.TenantID, next admeter.TenantStatus, note string) (*admeter.Tenant, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxStatusNote {
		return nil, admeter.Errorf(admeter.EINVALID, "note is longer than %d characters", maxStatusNote)
	}
	var t *admeter.Tenant
	err := db.update(ctx, func(tx *writeTx) error {
		cur, err := txTenant(ctx, tx, id)
		if err != nil {
			return err
		}
		if !cur.Status.CanMoveTo(next) {
			return admeter.Errorf(admeter.ECONFLICT, "A %s account cannot become %q: pending accounts are verified, then activated; active and suspended ones swap; any open account may be closed.", cur.Status, next)
		}
		var closed any
		if next == admeter.TenantClosed {
			closed = tx.now
		}
		if _, err := tx.Exec(ctx, `
			UPDATE tenants SET status = $1, status_note = $2, closed = COALESCE($3::timestamptz, closed) WHERE id = $4`,
			string(next), note, closed, string(id)); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		t, err = txTenant(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap("set tenant status", err)
	}
	return t, nil
}

// UpdateRegistration validates r (normalising it) and replaces tenant id's
// registration data with it.
//
// Returns EINVALID if r is invalid, ENOTFOUND if there is no such tenant and
// ECONFLICT if the tenant is closed or another open tenant is registered
// with r's credit code.
func (db *DB) UpdateRegistration(ctx context.Context, id admeter.TenantID, r admeter.Registration) error {
	if err := r.Validate(); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *writeTx) error {
		cur, err := txTenant(ctx, tx, id)
		if err != nil {
			return err
		} else if cur.Status == admeter.TenantClosed {
			return admeter.Errorf(admeter.ECONFLICT, "The account is closed: its registration can no longer change.")
		}
		if err := checkCreditCodeFree(ctx, tx, r.CreditCode, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE tenants SET company = $1, credit_code = $2, licence_ref = $3, contact = $4, phone = $5, email = $6
			WHERE id = $7`,
			r.Company, r.CreditCode, r.LicenceRef, r.Contact, r.Phone, r.Email, string(id))
		if err != nil {
			return fmt.Errorf("update registration: %w", err)
		}
		return nil
	})
	return wrap("update registration", err)
}

// Tenants returns the tenants with the given status, or all of them if
// status is "", oldest first. It is for operators.
//
// Returns EINVALID if status is not a defined status.
func (db *DB) Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error) {
	if status != "" && !status.Valid() {
		return nil, admeter.Errorf(admeter.EINVALID, "status must be pending, verified, active, suspended or closed, not %q", status)
	}
	var out []*admeter.Tenant
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+tenantColumns+` FROM tenants t
			WHERE $1 = '' OR t.status = $1
			ORDER BY t.created, t.seq`, string(status))
		if err != nil {
			return fmt.Errorf("query tenants: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTenant(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	return out, nil
}

// txTenant returns tenant id as tx sees it, or ENOTFOUND.
func txTenant(ctx context.Context, tx *writeTx, id admeter.TenantID) (*admeter.Tenant, error) {
	return scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.id = $1`, string(id)))
}

// ClosedTenants returns the tenants closed before t: those whose data the
// retention job deletes once the retention floor has passed.
func (db *DB) ClosedTenants(ctx context.Context, before time.Time) ([]admeter.TenantID, error) {
	var ids []admeter.TenantID
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM tenants WHERE status = 'closed' AND closed IS NOT NULL AND closed < $1 ORDER BY closed`, ts(before))
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[admeter.TenantID])
		return err
	})
	return ids, wrap("list closed tenants", err)
}

// DeleteTenant deletes a closed tenant and everything the metadata store
// holds of it. The audit record, which names it, stays. Returns ECONFLICT
// unless the tenant is closed.
func (db *DB) DeleteTenant(ctx context.Context, id admeter.TenantID) error {
	err := db.update(ctx, func(tx *writeTx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM tenants WHERE id = $1`, string(id)).Scan(&status); errors.Is(err, pgx.ErrNoRows) {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		} else if err != nil {
			return err
		}
		if status != string(admeter.TenantClosed) {
			return admeter.Errorf(admeter.ECONFLICT, "tenant %s is %s: only a closed account's data is deleted", id, status)
		}
		_, err := tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, string(id))
		return err
	})
	return wrap("delete tenant", err)
}
