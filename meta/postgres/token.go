package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// touchInterval is how stale a token's last use or a session's last activity
// must be before TouchToken or TouchSession writes it again.
const touchInterval = time.Minute

// maxTokenName is the longest token name, in characters.
const maxTokenName = 100

// allScopes returns every token scope: those of a bootstrap token.
func allScopes() []admeter.TokenScope {
	return []admeter.TokenScope{admeter.ScopeCollect, admeter.ScopeReportsRead, admeter.ScopeManage}
}

// CreateToken validates t and stores it with the SHA-256 hash of its secret.
// It assigns t.ID ("tk_" and 12 random base32 characters) and t.Created,
// trims t.Name, drops repeated scopes and clears t.LastUsed and t.Revoked.
// t.Tenant, a name of at most 100 characters, at least one scope and
// t.CreatedBy are required.
//
// Returns EINVALID if t is invalid, ENOTFOUND if its tenant does not exist
// and ECONFLICT if a token has the same hash.
func (db *DB) CreateToken(ctx context.Context, t *admeter.APIToken, hash [32]byte) error {
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.Tenant == "":
		return admeter.Errorf(admeter.EINVALID, "tenant is required")
	case t.Name == "":
		return admeter.Errorf(admeter.EINVALID, "name is required: say where the token is used, such as \"app backend\"")
	case utf8.RuneCountInString(t.Name) > maxTokenName:
		return admeter.Errorf(admeter.EINVALID, "name is longer than %d characters", maxTokenName)
	case len(t.Scopes) == 0:
		return admeter.Errorf(admeter.EINVALID, "scopes are required: one or more of collect, reports:read, manage")
	case t.CreatedBy == "":
		return errors.New("create token: created_by required")
	case hash == [32]byte{}:
		return errors.New("create token: zero token hash")
	}
	var scopes []admeter.TokenScope
	for i, s := range t.Scopes {
		if !s.Valid() {
			return admeter.Errorf(admeter.EINVALID, "scopes[%d] must be collect, reports:read or manage, not %q", i, s)
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	tok := *t
	tok.Scopes, tok.LastUsed, tok.Revoked = scopes, time.Time{}, time.Time{}
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE id = $1`, string(t.Tenant)).Scan(&n); err != nil {
			return fmt.Errorf("check tenant: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		}
		if err := checkTokenHashFree(ctx, tx, hash); err != nil {
			return err
		}
		return db.insertToken(ctx, tx, &tok, hash)
	})
	if err != nil {
		return wrap("create token", err)
	}
	*t = tok
	return nil
}

// checkTokenHashFree returns ECONFLICT if a token, live or revoked, has the
// given hash.
func checkTokenHashFree(ctx context.Context, tx *writeTx, hash [32]byte) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1`, hash[:]).Scan(&n); err != nil {
		return fmt.Errorf("check token hash: %w", err)
	} else if n != 0 {
		return admeter.Errorf(admeter.ECONFLICT, "The API token is already in use.")
	}
	return nil
}

// insertToken inserts t, already validated, with a fresh random id, and sets
// t.ID and t.Created.
func (db *DB) insertToken(ctx context.Context, tx *writeTx, t *admeter.APIToken, hash [32]byte) error {
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return fmt.Errorf("encode scopes: %w", err)
	}
	id, err := insertWithRandomID("token id",
		func() string { return "tk_" + db.randomString(base32Lower, 12) },
		func(id string) (bool, error) {
			ok, err := execOne(ctx, tx, `
				INSERT INTO api_tokens (id, tenant_id, name, scopes, token_hash, created, created_by, expires)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (id) DO NOTHING`,
				id, string(t.Tenant), t.Name, string(scopes), hash[:], tx.now, t.CreatedBy, nullTime(t.Expires))
			if err != nil {
				return false, fmt.Errorf("insert token: %w", err)
			}
			return ok, nil
		})
	if err != nil {
		return err
	}
	t.ID, t.Created = admeter.TokenID(id), tx.now
	return nil
}

// TokenByHash returns the live API token with the given SHA-256 hash and its
// tenant, whatever the tenant's status. It does not record the use; see
// TouchToken.
//
// Returns ENOTFOUND if no token has the hash, or it was revoked or has
// expired.
func (db *DB) TokenByHash(ctx context.Context, hash [32]byte) (*admeter.APIToken, *admeter.Tenant, error) {
	var tok *admeter.APIToken
	var t *admeter.Tenant
	err := db.view(ctx, func(tx pgx.Tx) error {
		toks, err := queryTokens(ctx, tx, `WHERE token_hash = $1 AND revoked IS NULL AND (expires IS NULL OR expires > $2)`, hash[:], ts(db.Now()))
		if err != nil {
			return err
		} else if len(toks) == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "API token not found.")
		}
		tok = toks[0]
		t, err = scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants t WHERE t.id = $1`, string(tok.Tenant)))
		return err
	})
	if err != nil {
		return nil, nil, wrap("get token by hash", err)
	}
	return tok, t, nil
}

// Tokens returns the API tokens of tenant, revoked ones included, oldest
// first.
func (db *DB) Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error) {
	var toks []*admeter.APIToken
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		toks, err = queryTokens(ctx, tx, `WHERE tenant_id = $1 ORDER BY created, seq`, string(tenant))
		return err
	})
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	return toks, nil
}

// RevokeToken revokes tenant's token id at once. Revoking a revoked token
// keeps its first revocation time.
//
// Returns ENOTFOUND if tenant has no such token.
func (db *DB) RevokeToken(ctx context.Context, tenant admeter.TenantID, id admeter.TokenID) error {
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND tenant_id = $2`,
			string(id), string(tenant)).Scan(&n); err != nil {
			return fmt.Errorf("find token: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "API token %s not found.", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL`,
			tx.now, string(id)); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		return nil
	})
	return wrap("revoke token", err)
}

// TouchToken records that token id authenticated a request at at. It writes
// only when the stored last use is more than a minute before at.
//
// Returns ENOTFOUND if there is no such token.
func (db *DB) TouchToken(ctx context.Context, id admeter.TokenID, at time.Time) error {
	var last *time.Time
	err := db.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT last_used FROM api_tokens WHERE id = $1`, string(id)).Scan(&last)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return admeter.Errorf(admeter.ENOTFOUND, "API token %s not found.", id)
	} else if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	cutoff := ts(at.Add(-touchInterval))
	if last != nil && !last.Before(cutoff) {
		return nil
	}
	err = db.update(ctx, func(tx *writeTx) error {
		_, err := tx.Exec(ctx, `
			UPDATE api_tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
			ts(at), string(id), cutoff)
		return err
	})
	return wrap("touch token", err)
}

// queryTokens returns the tokens that where (a constant of this package)
// selects.
func queryTokens(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]*admeter.APIToken, error) {
	rows, err := tx.Query(ctx, `
		SELECT id, tenant_id, name, scopes::text, created, created_by, last_used, revoked, expires
		FROM api_tokens `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query tokens: %w", err)
	}
	defer rows.Close()
	var out []*admeter.APIToken
	for rows.Next() {
		var t admeter.APIToken
		var scopes string
		var lastUsed, revoked, expires *time.Time
		if err := rows.Scan(&t.ID, &t.Tenant, &t.Name, &scopes, &t.Created, &t.CreatedBy, &lastUsed, &revoked, &expires); err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
			return nil, fmt.Errorf("decode scopes of token %s: %w", t.ID, err)
		}
		t.Created, t.LastUsed, t.Revoked, t.Expires = t.Created.UTC(), fromNull(lastUsed), fromNull(revoked), fromNull(expires)
		out = append(out, &t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query tokens: %w", err)
	}
	return out, nil
}
