package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// CreateRequest stores a new rights request, assigning r.ID ("rq_" and 12
// random base32 characters). r.Tenant must exist.
func (db *DB) CreateRequest(ctx context.Context, r *admeter.RightsRequest) error {
	if !r.Type.Valid() || r.Tenant == "" || r.Fingerprint == "" {
		return admeter.Errorf(admeter.EINVALID, "a rights request needs a type, a tenant and a device")
	}
	outcome, err := json.Marshal(r.Outcome)
	if err != nil {
		return fmt.Errorf("create request: %w", err)
	}
	var id string
	err = db.update(ctx, func(tx *writeTx) error {
		var err error
		id, err = insertWithRandomID("request id",
			func() string { return "rq_" + db.randomString(base32Lower, 12) },
			func(id string) (bool, error) {
				ok, err := execOne(ctx, tx, `
					INSERT INTO rights_requests (id, tenant_id, type, id_type, minor, note, actor, status,
						received, due, due_exact, completed, outcome, error, fingerprint, optout, users)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
					ON CONFLICT (id) DO NOTHING`,
					id, string(r.Tenant), string(r.Type), r.IDType.String(), r.Minor, r.Note, r.Actor, string(r.Status),
					ts(r.Received), ts(r.Due), r.DueExact, nullTime(r.Completed), string(outcome), r.Error,
					r.Fingerprint, joinPseudonyms(r.OptOut), joinPseudonyms(r.Users))
				if err != nil {
					return false, fmt.Errorf("insert request: %w", err)
				}
				return ok, nil
			})
		return err
	})
	if err != nil {
		return wrap("create request", err)
	}
	r.ID = id
	return nil
}

// UpdateRequest saves the status, completion time, outcome and error of r.
// Returns ENOTFOUND if there is no such request.
func (db *DB) UpdateRequest(ctx context.Context, r *admeter.RightsRequest) error {
	outcome, err := json.Marshal(r.Outcome)
	if err != nil {
		return fmt.Errorf("update request: %w", err)
	}
	err = db.update(ctx, func(tx *writeTx) error {
		ok, err := execOne(ctx, tx, `
			UPDATE rights_requests SET status = $1, completed = $2, outcome = $3, error = $4
			WHERE id = $5 AND tenant_id = $6`,
			string(r.Status), nullTime(r.Completed), string(outcome), r.Error, r.ID, string(r.Tenant))
		if err != nil {
			return fmt.Errorf("update request: %w", err)
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Rights request %s not found.", r.ID)
		}
		return nil
	})
	return wrap("update request", err)
}

// Request returns a tenant's request by id. Returns ENOTFOUND if there is
// none, or it belongs to another tenant.
func (db *DB) Request(ctx context.Context, tenant admeter.TenantID, id string) (*admeter.RightsRequest, error) {
	rs, err := db.queryRequests(ctx, `WHERE id = $1 AND tenant_id = $2`, id, string(tenant))
	if err != nil {
		return nil, wrap("get request", err)
	}
	if len(rs) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Rights request %s not found.", id)
	}
	return rs[0], nil
}

// Requests returns a tenant's requests, newest first.
func (db *DB) Requests(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error) {
	rs, err := db.queryRequests(ctx, `WHERE tenant_id = $1 ORDER BY received DESC, id`, string(tenant))
	return rs, wrap("list requests", err)
}

// DeviceRequests returns a tenant's requests about the device with the given
// fingerprint, oldest first.
func (db *DB) DeviceRequests(ctx context.Context, tenant admeter.TenantID, fingerprint string) ([]*admeter.RightsRequest, error) {
	rs, err := db.queryRequests(ctx, `WHERE tenant_id = $1 AND fingerprint = $2 ORDER BY received, id`, string(tenant), fingerprint)
	return rs, wrap("list device requests", err)
}

// OpenRequests returns every request still to be carried out, across
// tenants, in the order to carry them out: minors' first, then oldest first.
func (db *DB) OpenRequests(ctx context.Context) ([]*admeter.RightsRequest, error) {
	rs, err := db.queryRequests(ctx, `WHERE status IN ('pending', 'processing') ORDER BY minor DESC, received, id`)
	return rs, wrap("list open requests", err)
}

// AllRequests returns every request, across tenants, oldest first.
func (db *DB) AllRequests(ctx context.Context) ([]*admeter.RightsRequest, error) {
	rs, err := db.queryRequests(ctx, `ORDER BY received, id`)
	return rs, wrap("list all requests", err)
}

func (db *DB) queryRequests(ctx context.Context, where string, args ...any) ([]*admeter.RightsRequest, error) {
	var out []*admeter.RightsRequest
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id, tenant_id, type, id_type, minor, note, actor, status, received, due, due_exact,
				completed, outcome::text, error, fingerprint, optout, users
			FROM rights_requests `+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r admeter.RightsRequest
			var typ, idType, status, outcome string
			var completed *time.Time
			var optout, users []byte
			if err := rows.Scan(&r.ID, &r.Tenant, &typ, &idType, &r.Minor, &r.Note, &r.Actor, &status,
				&r.Received, &r.Due, &r.DueExact, &completed, &outcome, &r.Error, &r.Fingerprint, &optout, &users); err != nil {
				return err
			}
			r.Type, r.Status = admeter.RequestType(typ), admeter.RequestStatus(status)
			r.IDType, _ = admeter.ParseIDType(idType)
			r.Received, r.Due, r.Completed = r.Received.UTC(), r.Due.UTC(), fromNull(completed)
			if err := json.Unmarshal([]byte(outcome), &r.Outcome); err != nil {
				return fmt.Errorf("request %s outcome: %w", r.ID, err)
			}
			if r.OptOut, err = splitPseudonyms(optout); err != nil {
				return err
			}
			if r.Users, err = splitPseudonyms(users); err != nil {
				return err
			}
			out = append(out, &r)
		}
		return rows.Err()
	})
	return out, err
}

func joinPseudonyms(ps []admeter.Pseudonym) []byte {
	b := make([]byte, 0, 16*len(ps))
	for _, p := range ps {
		b = append(b, p[:]...)
	}
	return b
}

func splitPseudonyms(b []byte) ([]admeter.Pseudonym, error) {
	if len(b)%16 != 0 {
		return nil, errors.New("stored pseudonym list is not a multiple of 16 bytes")
	}
	out := make([]admeter.Pseudonym, len(b)/16)
	for i := range out {
		copy(out[i][:], b[16*i:])
	}
	return out, nil
}
