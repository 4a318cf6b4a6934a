package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/auth"
	"github.com/admeter/admeter/rights"
)

// Accounts lists and manages a tenant's users and tokens.
type Accounts interface {
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
	Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error)
	CreateUser(ctx context.Context, u *admeter.User, passwordHash string) error
	CreateToken(ctx context.Context, t *admeter.APIToken, hash [32]byte) error
	RevokeToken(ctx context.Context, tenant admeter.TenantID, id admeter.TokenID) error
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

// createToken takes the new-token form and shows the secret once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageTokens) || s.accounts == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	t := &admeter.APIToken{Tenant: sess.Tenant.ID, Name: strings.TrimSpace(r.PostFormValue("name")), CreatedBy: "user:" + string(sess.User.ID)}
	for _, sc := range r.PostForm["scope"] {
		t.Scopes = append(t.Scopes, admeter.TokenScope(sc))
	}
	if days, err := strconv.Atoi(r.PostFormValue("expires_in_days")); err == nil && days > 0 && days <= 3650 {
		t.Expires = s.cfg.Now().Add(time.Duration(days) * 24 * time.Hour).UTC()
	}
	secret := api.NewToken(api.TenantTokenPrefix)
	err := s.accounts.CreateToken(r.Context(), t, api.HashToken(secret))
	if err != nil && admeter.ErrorCode(err) != admeter.EINVALID {
		s.fail(w, r, sess, err)
		return
	}
	toks, lerr := s.accounts.Tokens(r.Context(), sess.Tenant.ID)
	if lerr != nil {
		s.fail(w, r, sess, lerr)
		return
	}
	data := map[string]any{"Tab": "tokens", "Tokens": toks}
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "account", "tokens", sess, data, admeter.ErrorMessage(err))
		return
	}
	s.sessions.AuditFor(r, sess, "token.create", string(t.ID), "ok", map[string]any{"via": "console", "scopes": t.Scopes})
	data["NewSecret"] = secret
	s.render(w, r, http.StatusOK, "account", "tokens", sess, data, "")
}

// revokeToken takes a token's revoke button.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageTokens) || s.accounts == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	id := admeter.TokenID(r.PathValue("id"))
	if err := s.accounts.RevokeToken(r.Context(), sess.Tenant.ID, id); err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.sessions.AuditFor(r, sess, "token.revoke", string(id), "ok", map[string]any{"via": "console"})
	http.Redirect(w, r, "/console/account/tokens", http.StatusSeeOther)
}

// createUser takes the new-user form. Admins may not make owners.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageUsers) || s.accounts == nil {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	u := &admeter.User{Tenant: sess.Tenant.ID, Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))),
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: admeter.Role(r.PostFormValue("role"))}
	password := r.PostFormValue("password")
	err := admeter.CheckEmail(u.Email)
	switch {
	case err != nil:
	case !u.Role.Valid():
		err = admeter.Errorf(admeter.EINVALID, "choose a role")
	case u.Role == admeter.RoleOwner && !sess.User.Role.Allows(admeter.PermCloseAccount):
		err = admeter.Errorf(admeter.EINVALID, "only an owner may make another owner")
	case u.Name == "":
		err = admeter.Errorf(admeter.EINVALID, "name is required")
	default:
		err = auth.CheckPassword(password, u.Email, u.Name, sess.Tenant.Registration.Company)
	}
	if err == nil {
		var hash string
		if hash, err = auth.HashPassword(password); err == nil {
			err = s.accounts.CreateUser(r.Context(), u, hash)
		}
	}
	if err != nil {
		if code := admeter.ErrorCode(err); code != admeter.EINVALID && code != admeter.ECONFLICT {
			s.fail(w, r, sess, err)
			return
		}
		us, _ := s.accounts.Users(r.Context(), sess.Tenant.ID)
		s.render(w, r, http.StatusBadRequest, "account", "users", sess, map[string]any{"Tab": "users", "Users": us}, admeter.ErrorMessage(err))
		return
	}
	s.sessions.AuditFor(r, sess, "user.create", string(u.ID), "ok", map[string]any{"via": "console", "role": string(u.Role)})
	http.Redirect(w, r, "/console/account/users", http.StatusSeeOther)
}
