package console

import (
	"context"
	"net/http"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/rights"
)

// Accounts lists a tenant's users and tokens.
type Accounts interface {
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
	Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error)
}

// Requests lists a tenant's end-user requests and where each stands.
type Requests interface {
	List(ctx context.Context, tenant admeter.TenantID) ([]*admeter.RightsRequest, error)
	Deadline(r *admeter.RightsRequest) rights.Deadline
}

// AuditTrail reads the audit record.
type AuditTrail interface {
	AuditEntries(ctx context.Context, q api.AuditQuery) ([]admeter.AuditEntry, error)
}

// requestRow is an end-user request as the queue shows it.
type requestRow struct {
	*admeter.RightsRequest
	Due      string
	DaysLeft int
	Overdue  bool
}

// accountPage serves the account screens: users, tokens, the end-user
// request queue and the audit trail, each for the roles that may see it.
func (s *Server) accountPage(tab string) func(http.ResponseWriter, *http.Request, *api.Session) {
	perm := map[string]admeter.Permission{"users": admeter.PermManageUsers, "tokens": admeter.PermManageTokens,
		"requests": admeter.PermRights, "audit": admeter.PermReadAudit}[tab]
	return func(w http.ResponseWriter, r *http.Request, sess *api.Session) {
		if !sess.User.Role.Allows(perm) || s.accounts == nil {
			s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
			return
		}
		ctx := r.Context()
		data := map[string]any{"Tab": tab}
		var err error
		switch tab {
		case "users":
			data["Users"], err = s.accounts.Users(ctx, sess.Tenant.ID)
		case "tokens":
			data["Tokens"], err = s.accounts.Tokens(ctx, sess.Tenant.ID)
		case "requests":
			var rs []*admeter.RightsRequest
			if s.requests != nil {
				rs, err = s.requests.List(ctx, sess.Tenant.ID)
			}
			var rows []requestRow
			for _, req := range rs {
				d := s.requests.Deadline(req)
				rows = append(rows, requestRow{RightsRequest: req, Due: req.Due.Format(time.DateOnly), DaysLeft: d.DaysLeft, Overdue: d.Overdue})
			}
			data["Requests"] = rows
		case "audit":
			if s.audit != nil {
				data["Audit"], err = s.audit.AuditEntries(ctx, api.AuditQuery{Tenant: sess.Tenant.ID, Limit: 200})
			}
		}
		if err != nil {
			s.fail(w, r, sess, err)
			return
		}
		s.render(w, r, http.StatusOK, "account", tab, sess, data, "")
	}
}
