package api

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/auth"
)

// Credentials are what signing in checks, as the account store keeps them.
type Credentials struct {
	PasswordHash string
	FailedLogins int
	LockedUntil  time.Time
	// TOTPSecret is the second factor's secret, sealed by the store's
	// caller (nil: no second factor). TOTPLastStep is the last time step a
	// code was accepted for, so a code cannot be used twice.
	TOTPSecret   []byte
	TOTPLastStep int64
}

// AccountService stores enterprise accounts, their users, sessions and API
// tokens. Reads scoped to a tenant return ENOTFOUND for another tenant's
// object.
type AccountService interface {
	Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error)
	Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error)
	RegisterTenant(ctx context.Context, t *admeter.Tenant, owner *admeter.User, passwordHash string) error
	SetTenantStatus(ctx context.Context, id admeter.TenantID, next admeter.TenantStatus, note string) (*admeter.Tenant, error)
	UpdateRegistration(ctx context.Context, id admeter.TenantID, r admeter.Registration) error

	CreateUser(ctx context.Context, u *admeter.User, passwordHash string) error
	User(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) (*admeter.User, error)
	Users(ctx context.Context, tenant admeter.TenantID) ([]*admeter.User, error)
	UpdateUser(ctx context.Context, u *admeter.User) error
	DeleteUser(ctx context.Context, tenant admeter.TenantID, id admeter.UserID) error
	Credentials(ctx context.Context, email string) (*admeter.User, Credentials, error)
	SetPassword(ctx context.Context, id admeter.UserID, hash string) error
	SetTOTPLastStep(ctx context.Context, id admeter.UserID, step int64) error
	SetTOTP(ctx context.Context, id admeter.UserID, sealedSecret []byte) error
	RecordLogin(ctx context.Context, id admeter.UserID, ok bool, lockedUntil time.Time) (failed int, err error)

	CreateSession(ctx context.Context, u *admeter.User, tokenHash [32]byte, expires time.Time, ip string) (id string, err error)
	Session(ctx context.Context, tokenHash [32]byte, now time.Time) (u *admeter.User, id string, err error)
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, id admeter.UserID) (int, error)

	CreateToken(ctx context.Context, t *admeter.APIToken, hash [32]byte) error
	TokenByHash(ctx context.Context, hash [32]byte) (*admeter.APIToken, *admeter.Tenant, error)
	Tokens(ctx context.Context, tenant admeter.TenantID) ([]*admeter.APIToken, error)
	RevokeToken(ctx context.Context, tenant admeter.TenantID, id admeter.TokenID) error
	TouchToken(ctx context.Context, id admeter.TokenID, at time.Time) error
}

// AuditLog appends to and reads the audit record.
type AuditLog interface {
	Record(ctx context.Context, e admeter.AuditEntry) error
	AuditEntries(ctx context.Context, q AuditQuery) ([]admeter.AuditEntry, error)
}

// AuditQuery selects audit entries: one tenant's ("" for all, operators
// only), after a sequence number, at most Limit.
type AuditQuery struct {
	Tenant admeter.TenantID
	After  uint64
	Limit  int
	Action string // prefix
}

// principal is who is calling: the operator, a signed-in user, or an API
// token. Tenant is nil for the operator.
type principal struct {
	operator  bool
	tenant    *admeter.Tenant
	user      *admeter.User
	token     *admeter.APIToken
	sessionID string
}

// allows reports whether p may act with permission perm within its tenant.
func (p *principal) allows(perm admeter.Permission) bool {
	switch {
	case p.operator:
		return false // operators act through /api/v1/admin, not as a tenant
	case p.user != nil:
		return p.user.Role.Allows(perm)
	case p.token != nil:
		return admeter.ScopesAllow(p.token.Scopes, perm)
	}
	return false
}

// actor names p in the audit record.
func (p *principal) actor() string {
	switch {
	case p.operator:
		return "operator"
	case p.user != nil:
		return "user:" + string(p.user.ID)
	case p.token != nil:
		return "token:" + string(p.token.ID)
	}
	return "anonymous"
}

const principalKey ctxKey = iota + 10

// principalFrom returns the authenticated caller of a request.
func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

// SessionCookie is the name of the signed-in user's session cookie.
const SessionCookie = "admeter_session"

// csrfHeader carries the session's CSRF token on every unsafe request made
// with the session cookie.
const csrfHeader = "X-CSRF-Token"

// authenticate finds who is calling: the operator or an API token in
// Authorization: Bearer, or a session cookie. It returns nil and no error
// for an anonymous request.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	if tok := bearer(r); tok != "" {
		h := HashToken(tok)
		if subtle.ConstantTimeCompare(h[:], s.operatorHash[:]) == 1 {
			return &principal{operator: true}, nil
		}
		if s.accounts == nil {
			return nil, admeter.Errorf(admeter.EUNAUTHORIZED, "the token is not valid")
		}
		t, tenant, err := s.accounts.TokenByHash(ctx, h)
		if admeter.ErrorCode(err) == admeter.ENOTFOUND {
			return nil, admeter.Errorf(admeter.EUNAUTHORIZED, "the token is not valid: it is unknown or was revoked")
		} else if err != nil {
			return nil, err
		}
		if tenant.Status != admeter.TenantActive {
			return nil, admeter.Errorf(admeter.EFORBIDDEN, "the account is %s; an operator must activate it first", tenant.Status)
		}
		if now := s.now(); now.Sub(t.LastUsed) > time.Minute {
			_ = s.accounts.TouchToken(context.WithoutCancel(ctx), t.ID, now)
		}
		return &principal{tenant: tenant, token: t}, nil
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || s.accounts == nil {
		return nil, nil
	}
	u, id, err := s.accounts.Session(ctx, HashToken(ck.Value), s.now())
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		return nil, admeter.Errorf(admeter.EUNAUTHORIZED, "the session has expired or was signed out; sign in again")
	} else if err != nil {
		return nil, err
	}
	tenant, err := s.accounts.Tenant(ctx, u.Tenant)
	if err != nil {
		return nil, err
	}
	if tenant.Status != admeter.TenantActive {
		return nil, admeter.Errorf(admeter.EFORBIDDEN, "the account is %s; an operator must activate it first", tenant.Status)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		if got := r.Header.Get(csrfHeader); got == "" || !s.checkCSRF(id, got) {
			return nil, admeter.Errorf(admeter.EFORBIDDEN, "send the session's CSRF token (from POST /api/v1/session) in the X-CSRF-Token header")
		}
	}
	return &principal{tenant: tenant, user: u, sessionID: id}, nil
}

// require wraps h so that the caller must be a tenant's user or token with
// permission perm; the tenant is then available through tenantFrom.
func (s *Server) require(perm admeter.Permission, h apiFunc) apiFunc {
	return func(r *http.Request) (int, any, error) {
		p, err := s.authenticate(r)
		if err != nil {
			return 0, nil, err
		}
		if p == nil {
			return 0, nil, admeter.Errorf(admeter.EUNAUTHORIZED, "sign in, or send an API token as Authorization: Bearer <token>")
		}
		if p.operator {
			return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "the operator token manages tenants; act on a tenant's data with that tenant's token")
		}
		if !p.allows(perm) {
			denied := r.WithContext(context.WithValue(r.Context(), principalKey, p))
			s.audit(denied, "access.denied", r.Method+" "+r.URL.Path, "refused", map[string]any{"needs": string(perm)})
			return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "%s may not do this (needs %s)", p.describe(), perm)
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		ctx = context.WithValue(ctx, tenantKey, p.tenant)
		return h(r.WithContext(ctx))
	}
}

// describe names the caller's kind in an error message.
func (p *principal) describe() string {
	switch {
	case p.user != nil:
		return "the " + string(p.user.Role) + " role"
	case p.token != nil:
		scopes := make([]string, len(p.token.Scopes))
		for i, sc := range p.token.Scopes {
			scopes[i] = string(sc)
		}
		return "a token with scopes " + strings.Join(scopes, ",")
	}
	return "this caller"
}

// clientBlock returns the caller's network block (/24 or /48) for the audit
// record: never the full address.
func clientBlock(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	return admeter.BlockOf(a).String()
}

// audit appends an entry for the request's caller. A failure is logged: the
// action itself already happened.
func (s *Server) audit(r *http.Request, action, target, outcome string, details map[string]any) {
	s.auditFor(r, "", action, target, outcome, details)
}

// auditFor is audit for an action on tenant's account taken by someone who
// is not its user (a registration, an operator's change): the entry goes to
// that tenant's trail.
func (s *Server) auditFor(r *http.Request, tenant admeter.TenantID, action, target, outcome string, details map[string]any) {
	if s.auditLog == nil {
		return
	}
	e := admeter.AuditEntry{Action: action, Target: target, Outcome: outcome, Details: details, IP: clientBlock(r)}
	if p := principalFrom(r.Context()); p != nil {
		e.Actor = p.actor()
		if p.tenant != nil {
			e.Tenant = string(p.tenant.ID)
		}
		// Access through a grant is recorded in the trail of the tenant
		// whose data it is, naming the caller's tenant.
		if owner, ok := r.Context().Value(ownerKey).(admeter.TenantID); ok && p.tenant != nil && owner != p.tenant.ID {
			if e.Details == nil {
				e.Details = map[string]any{}
			}
			e.Details["via_grant_to"] = string(p.tenant.ID)
			e.Tenant = string(owner)
		}
	} else {
		e.Actor = "anonymous"
	}
	if tenant != "" {
		e.Tenant = string(tenant)
	}
	if err := s.auditLog.Record(context.WithoutCancel(r.Context()), e); err != nil {
		s.logger.Error("write audit record", "action", action, "err", err)
	}
}

// audited wraps h so that every call is written to the audit record: the
// action, the object (the {id} of the path), and the outcome.
func (s *Server) audited(action string, h apiFunc) apiFunc {
	return func(r *http.Request) (int, any, error) {
		status, body, err := h(r)
		outcome := "ok"
		if err != nil {
			outcome = "failed: " + admeter.ErrorCode(err)
		}
		var details map[string]any
		if q := r.URL.RawQuery; q != "" && r.Method == http.MethodGet {
			details = map[string]any{"query": q}
		}
		s.audit(r, action, r.PathValue("id"), outcome, details)
		return status, body, err
	}
}

// CollectAuth wraps the batch events handler: a request without
// credentials passes as it is (the MMA SDKs send events without any); one
// with Authorization: Bearer must carry a token with the collect scope (or
// manage) of an active account, and withTenant then tells the collector
// which tenant's campaigns it may send to.
func (s *Server) CollectAuth(next http.Handler, withTenant func(context.Context, admeter.TenantID) context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer(r) == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err == nil && (p == nil || p.token == nil || !p.allows(admeter.PermCollect)) {
			err = admeter.Errorf(admeter.EFORBIDDEN, "this token may not send events: it needs the collect or manage scope")
		}
		if err != nil {
			writeError(w, r, s.logger, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), p.tenant.ID)))
	})
}

// Session is a signed-in user as the console sees it.
type Session struct {
	User   *admeter.User
	Tenant *admeter.Tenant
	// ID names the session; CSRF is the token its forms must carry.
	ID   string
	CSRF string
}

// SessionOf returns the signed-in user of a request's session cookie, or nil
// without one. It does not check CSRF: the console checks its forms' token
// with CheckCSRF.
func (s *Server) SessionOf(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || s.accounts == nil {
		return nil, nil
	}
	u, id, err := s.accounts.Session(r.Context(), HashToken(ck.Value), s.now())
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	t, err := s.accounts.Tenant(r.Context(), u.Tenant)
	if err != nil {
		return nil, err
	}
	if t.Status != admeter.TenantActive {
		return nil, nil
	}
	return &Session{User: u, Tenant: t, ID: id, CSRF: auth.CSRFToken(s.csrfKey, id)}, nil
}

// CheckCSRF reports whether token is the CSRF token of session id.
func (s *Server) CheckCSRF(id, token string) bool { return s.checkCSRF(id, token) }

// SignOut ends a session.
func (s *Server) SignOut(r *http.Request, id string) error {
	if err := s.accounts.DeleteSession(r.Context(), id); err != nil && admeter.ErrorCode(err) != admeter.ENOTFOUND {
		return err
	}
	s.audit(r, "session.signout", id, "ok", map[string]any{"via": "console"})
	return nil
}

// AuditFor lets another front door (the console) record an action of a
// signed-in user in the audit record.
func (s *Server) AuditFor(r *http.Request, sess *Session, action, target, outcome string, details map[string]any) {
	p := &principal{user: sess.User, tenant: sess.Tenant, sessionID: sess.ID}
	s.audit(r.WithContext(context.WithValue(r.Context(), principalKey, p)), action, target, outcome, details)
}
