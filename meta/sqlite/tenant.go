package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// CreateTenant validates t and stores it, active, with a bootstrap API token
// (named "bootstrap", with every scope, created by "operator") whose SHA-256
// hash is tokenHash. It assigns t.ID ("t_" and 10 random base32
// characters), t.Created and t.Status, and trims t.Name. It is how the
// operator creates a tenant directly; a company registering itself goes
// through RegisterTenant.
//
// Returns EINVALID if t is invalid and ECONFLICT if a token has the same
// hash or t.Registration's credit code belongs to another open tenant.
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
		if err := checkTokenHashFree(ctx, tx, tokenHash); err != nil {
			return err
		}
		if err := checkCreditCodeFree(ctx, tx, t.Registration.CreditCode, ""); err != nil {
			return err
		}
		created = tx.now
		var err error
		id, err = db.insertTenant(ctx, tx, t, name, admeter.TenantActive)
		if err != nil {
			return err
		}
		tok := admeter.APIToken{Tenant: id, Name: "bootstrap", Scopes: allScopes(), CreatedBy: "operator"}
		return db.insertToken(ctx, tx, &tok, tokenHash)
	})
	if err != nil {
		return wrap("create tenant", err)
	}
	t.ID, t.Name, t.Created, t.Status = id, name, created, admeter.TenantActive
	return nil
}

// insertTenant inserts t, named name, with the given status and a fresh
// random id, which it returns. The vestigial tenants.token_hash gets random
// bytes (see migration 0004).
func (db *DB) insertTenant(ctx context.Context, tx *writeTx, t *admeter.Tenant, name string, status admeter.TenantStatus) (admeter.TenantID, error) {
	r := t.Registration
	s, err := insertWithRandomID("tenant id",
		func() string { return "t_" + db.randomString(base32Lower, 10) },
		func(id string) (bool, error) {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO tenants (id, name, kind, token_hash, created, status, status_note,
					company, credit_code, licence_ref, contact, phone, email, industry)
				VALUES (?, ?, ?, randomblob(32), ?, ?, '', ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO NOTHING`,
				id, name, string(t.Kind), formatTime(tx.now), string(status),
				r.Company, r.CreditCode, r.LicenceRef, r.Contact, r.Phone, r.Email, string(t.Industry))
			if err != nil {
				return false, fmt.Errorf("insert tenant: %w", err)
			}
			return insertedOne(res)
		})
	return admeter.TenantID(s), err
}

// checkCreditCodeFree returns ECONFLICT if an open tenant other than except
// is registered with code. An empty code is always free.
func checkCreditCodeFree(ctx context.Context, tx *writeTx, code string, except admeter.TenantID) error {
	if code == "" {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM tenants WHERE credit_code = ? AND status <> 'closed' AND id <> ?`,
		code, string(except)).Scan(&n); err != nil {
		return fmt.Errorf("check credit code: %w", err)
	} else if n != 0 {
		return admeter.Errorf(admeter.ECONFLICT, "An account is already registered for this unified social credit code: ask its owner to invite you, or contact the operator.")
	}
	return nil
}

// Tenant returns the tenant with the given id, whatever its status. Returns
// ENOTFOUND if there is none.
func (db *DB) Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error) {
	t, err := scanTenant(db.read.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.id = ?`, string(id)))
	if err != nil {
		return nil, wrap("get tenant", err)
	}
	return t, nil
}

// TenantByTokenHash returns the tenant of the live API token with the given
// SHA-256 hash, if the tenant is active and the token has the manage scope.
// It is the tenant-wide authentication of the API before scoped tokens; a
// token with narrower scopes is refused here, so that it cannot act with
// the whole tenant's rights, and must be checked with TokenByHash instead.
// Returns ENOTFOUND otherwise.
func (db *DB) TenantByTokenHash(ctx context.Context, hash [32]byte) (*admeter.Tenant, error) {
	t, err := scanTenant(db.read.QueryRowContext(ctx, `
		SELECT `+tenantColumns+`
		FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id
		WHERE k.token_hash = ? AND k.revoked IS NULL AND t.status = 'active'
			AND EXISTS (SELECT 1 FROM json_each(k.scopes) WHERE value = 'manage')`, hash[:]))
	if err != nil {
		return nil, wrap("get tenant by token", err)
	}
	return t, nil
}

// tenantColumns are the columns scanTenant reads, from tenants aliased t.
const tenantColumns = `t.id, t.name, t.kind, t.status, t.status_note, t.company, t.credit_code,
	t.licence_ref, t.contact, t.phone, t.email, t.created, t.closed, t.industry`

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanTenant scans tenantColumns. It returns ENOTFOUND for sql.ErrNoRows.
func scanTenant(row rowScanner) (*admeter.Tenant, error) {
	var t admeter.Tenant
	var created string
	var closed sql.NullString
	r := &t.Registration
	err := row.Scan(&t.ID, &t.Name, &t.Kind, &t.Status, &t.StatusNote, &r.Company, &r.CreditCode,
		&r.LicenceRef, &r.Contact, &r.Phone, &r.Email, &created, &closed, &t.Industry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
	} else if err != nil {
		return nil, fmt.Errorf("query tenant: %w", err)
	}
	if t.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	if t.Closed, err = parseNullTime(closed); err != nil {
		return nil, err
	}
	return &t, nil
}

// parseNullTime parses a stored time that may be NULL (the zero time).
func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
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
