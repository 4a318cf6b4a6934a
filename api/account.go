package api

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/auth"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// accountJSON is a tenant as its own users and the operator see it.
type accountJSON struct {
	ID           admeter.TenantID     `json:"id"`
	Name         string               `json:"name"`
	Kind         admeter.TenantKind   `json:"kind"`
	Status       admeter.TenantStatus `json:"status"`
	StatusNote   string               `json:"status_note,omitempty"`
	Registration admeter.Registration `json:"registration"`
	Industry     admeter.Industry     `json:"industry"`
	Created      time.Time            `json:"created"`
}

func accountView(t *admeter.Tenant) accountJSON {
	return accountJSON{ID: t.ID, Name: t.Name, Kind: t.Kind, Status: t.Status, StatusNote: t.StatusNote, Registration: t.Registration,
		Industry: t.Industry, Created: t.Created}
}

// userJSON is a user as the API shows it: never a password or secret.
type userJSON struct {
	ID       admeter.UserID   `json:"id"`
	Tenant   admeter.TenantID `json:"tenant"`
	Email    string           `json:"email"`
	Name     string           `json:"name"`
	Role     admeter.Role     `json:"role"`
	TOTP     bool             `json:"totp"`
	Disabled bool             `json:"disabled"`
	Created  time.Time        `json:"created"`
}

func userView(u *admeter.User) userJSON {
	return userJSON{ID: u.ID, Tenant: u.Tenant, Email: u.Email, Name: u.Name, Role: u.Role, TOTP: u.TOTP, Disabled: u.Disabled, Created: u.Created}
}

// register serves POST /api/v1/register: an enterprise signs up with its
// registration data and its first user (the owner). The account is pending
// until an operator verifies and activates it.
func (s *Server) register(r *http.Request) (int, any, error) {
	if err := s.allowAttempt(r, ""); err != nil {
		return 0, nil, err
	}
	var in struct {
		Kind         admeter.TenantKind   `json:"kind"`
		Name         string               `json:"name"`
		Registration admeter.Registration `json:"registration"`
		Industry     admeter.Industry     `json:"industry"`
		Owner        struct {
			Email    string `json:"email"`
			Name     string `json:"name"`
			Password string `json:"password"`
		} `json:"owner"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Registration.Validate(); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = in.Registration.Company
	}
	t := &admeter.Tenant{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Registration: in.Registration, Industry: in.Industry}
	if err := t.Validate(); err != nil {
		return 0, nil, err
	}
	owner, hash, err := s.newUser(in.Owner.Email, in.Owner.Name, in.Owner.Password, admeter.RoleOwner, in.Registration.Company)
	if err != nil {
		return 0, nil, err
	}
	if err := s.accounts.RegisterTenant(r.Context(), t, owner, hash); err != nil {
		return 0, nil, err
	}
	s.auditFor(r, t.ID, "account.register", string(t.ID), "ok", map[string]any{"kind": string(t.Kind)})
	return http.StatusCreated, accountView(t), nil
}

// newUser validates a new user's fields and hashes the password.
func (s *Server) newUser(email, name, password string, role admeter.Role, company string) (*admeter.User, string, error) {
	u := &admeter.User{Email: strings.ToLower(strings.TrimSpace(email)), Name: strings.TrimSpace(name), Role: role}
	if err := admeter.CheckEmail(u.Email); err != nil {
		return nil, "", err
	}
	if u.Name == "" || len(u.Name) > 100 {
		return nil, "", admeter.Errorf(admeter.EINVALID, "name is required (at most 100 bytes)")
	}
	if !u.Role.Valid() {
		return nil, "", admeter.Errorf(admeter.EINVALID, "role must be owner, admin, analyst or viewer")
	}
	if err := auth.CheckPassword(password, u.Email, u.Name, company); err != nil {
		return nil, "", err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, "", err
	}
	return u, hash, nil
}

// adminTenants serves GET /api/v1/admin/tenants[?status=…] (operator).
func (s *Server) adminTenants(r *http.Request) (int, any, error) {
	st := admeter.TenantStatus(r.URL.Query().Get("status"))
	if st != "" && !st.Valid() {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "status must be pending, verified, active, suspended or closed")
	}
	ts, err := s.accounts.Tenants(r.Context(), st)
	if err != nil {
		return 0, nil, err
	}
	out := []accountJSON{}
	for _, t := range ts {
		out = append(out, accountView(t))
	}
	s.audit(r, "admin.tenants.list", "", "ok", map[string]any{"count": len(out)})
	return http.StatusOK, map[string]any{"tenants": out}, nil
}

// adminTenantStatus serves POST /api/v1/admin/tenants/{id}/status
// {"status": "verified", "note": "…"} (operator): verify, activate, suspend
// or close an account.
func (s *Server) adminTenantStatus(r *http.Request) (int, any, error) {
	var in struct {
		Status admeter.TenantStatus `json:"status"`
		Note   string               `json:"note"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if !in.Status.Valid() {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "status must be verified, active, suspended or closed")
	}
	if in.Status == admeter.TenantVerified && strings.TrimSpace(in.Note) == "" {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "a verification needs a note: what was checked (licence, credit code, contact)")
	}
	id := admeter.TenantID(r.PathValue("id"))
	t, err := s.accounts.SetTenantStatus(r.Context(), id, in.Status, strings.TrimSpace(in.Note))
	if err != nil {
		s.auditFor(r, id, "admin.tenant.status", string(id), "failed: "+admeter.ErrorCode(err), map[string]any{"status": string(in.Status)})
		return 0, nil, err
	}
	s.auditFor(r, id, "admin.tenant.status", string(id), "ok", map[string]any{"status": string(in.Status), "note": strings.TrimSpace(in.Note)})
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(r.Context()) // a suspended or closed tenant's campaigns stop collecting
	}
	return http.StatusOK, accountView(t), nil
}

// signIn serves POST /api/v1/session {"email","password","totp"}: it sets
// the session cookie and returns the user and the CSRF token that unsafe
// requests made with the cookie must carry in X-CSRF-Token.
func (s *Server) signIn(r *http.Request) (int, any, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	si, err := s.SignIn(r, in.Email, in.Password, in.TOTP)
	if err != nil {
		return 0, nil, err
	}
	s.setSessionCookie(r, si.Token, SessionTTL)
	return http.StatusOK, map[string]any{"user": userView(si.User), "csrf_token": si.CSRF, "expires": si.Expires}, nil
}

// SignedIn is a successful sign-in: the user, the session token for the
// cookie (never stored: only its hash is), the session's CSRF token and its
// expiry.
type SignedIn struct {
	User    *admeter.User
	Token   string
	CSRF    string
	Expires time.Time
}

// SignIn checks a user's credentials with every rule of the API (throttling,
// lockout, second factor, account status) and starts a session, recording
// the attempt in the audit record. The console signs users in through it.
func (s *Server) SignIn(r *http.Request, email, password, totp string) (*SignedIn, error) {
	in := struct{ Email, Password, TOTP string }{email, password, totp}
	email = strings.ToLower(strings.TrimSpace(in.Email))
	if err := s.allowAttempt(r, email); err != nil {
		s.audit(r, "session.signin", email, "refused: locked or rate limited", nil)
		return nil, err
	}
	ctx := r.Context()
	now := s.now()
	fail := func(u *admeter.User, failed int) error {
		s.throttle.Fail(email, clientAddr(r), now)
		outcome := "failed"
		var details map[string]any
		if u != nil {
			until := now.Add(auth.LockoutFor(failed + 1))
			if auth.LockoutFor(failed+1) == 0 {
				until = time.Time{}
			}
			n, _ := s.accounts.RecordLogin(context.WithoutCancel(ctx), u.ID, false, until)
			details = map[string]any{"failed_in_a_row": n}
		}
		s.auditAs(r, "session.signin", email, outcome, u, details)
		return admeter.Errorf(admeter.EUNAUTHORIZED, "wrong email or password (邮箱或密码错误)")
	}
	u, cred, err := s.accounts.Credentials(ctx, email)
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		// Spend the same time as a real check, so timing does not say which
		// emails have accounts.
		s.hashing <- struct{}{}
		auth.VerifyDummy(in.Password)
		<-s.hashing
		return nil, fail(nil, 0)
	} else if err != nil {
		return nil, err
	}
	if now.Before(cred.LockedUntil) {
		s.auditAs(r, "session.signin", email, "refused: locked", u, nil)
		return nil, admeter.Errorf(admeter.ERATELIMITED, "too many wrong passwords: the account is locked until %s (账户已临时锁定)", cred.LockedUntil.UTC().Format(time.RFC3339))
	}
	// Each check takes 64 MiB for about 0.1 s: a few at a time, so a flood
	// of sign-ins cannot exhaust memory.
	s.hashing <- struct{}{}
	ok, rehash, err := auth.VerifyPassword(cred.PasswordHash, in.Password)
	<-s.hashing
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, fail(u, cred.FailedLogins)
	}
	if rehash {
		if h, err := auth.HashPassword(in.Password); err == nil {
			_ = s.accounts.SetPassword(ctx, u.ID, h)
		}
	}
	if len(cred.TOTPSecret) > 0 {
		secret, err := s.openSecret(cred.TOTPSecret)
		if err != nil {
			return nil, err
		}
		if in.TOTP == "" {
			return nil, admeter.Errorf(admeter.EUNAUTHORIZED, "this account has a second factor: send the 6-digit code from the authenticator app as totp")
		}
		step, ok := auth.VerifyTOTP(secret, in.TOTP, now, cred.TOTPLastStep)
		if !ok {
			return nil, fail(u, cred.FailedLogins)
		}
		// Remember the step, so the same code cannot sign in twice.
		if err := s.accounts.SetTOTPLastStep(ctx, u.ID, step); err != nil {
			return nil, err
		}
	}
	tenant, err := s.accounts.Tenant(ctx, u.Tenant)
	if err != nil {
		return nil, err
	}
	if tenant.Status != admeter.TenantActive {
		s.auditAs(r, "session.signin", email, "refused: account "+string(tenant.Status), u, nil)
		return nil, admeter.Errorf(admeter.EFORBIDDEN, "the account is %s; an operator must activate it before you can sign in", tenant.Status)
	}
	if _, err := s.accounts.RecordLogin(ctx, u.ID, true, time.Time{}); err != nil {
		return nil, err
	}
	s.throttle.Succeed(email, now)
	token, hash := auth.NewSessionToken()
	id, err := s.accounts.CreateSession(ctx, u, hash, now.Add(SessionTTL), clientBlock(r))
	if err != nil {
		return nil, err
	}
	s.auditAs(r, "session.signin", email, "ok", u, nil)
	return &SignedIn{User: u, Token: token, CSRF: auth.CSRFToken(s.csrfKey, id), Expires: now.Add(SessionTTL)}, nil
}

// auditAs records an entry for user u (not yet a principal: signing in).
func (s *Server) auditAs(r *http.Request, action, target, outcome string, u *admeter.User, details map[string]any) {
	if u == nil {
		s.audit(r, action, target, outcome, details)
		return
	}
	p := &principal{user: u, tenant: &admeter.Tenant{ID: u.Tenant}}
	s.audit(r.WithContext(context.WithValue(r.Context(), principalKey, p)), action, target, outcome, details)
}

// signOut serves DELETE /api/v1/session; with ?everywhere=1 every session of
// the user ends.
func (s *Server) signOut(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	if p.user == nil {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "sign-out is for signed-in users; revoke a token with DELETE /api/v1/tokens/{id}")
	}
	n := 1
	var err error
	if everywhere, _ := strconv.ParseBool(r.URL.Query().Get("everywhere")); everywhere {
		n, err = s.accounts.DeleteUserSessions(r.Context(), p.user.ID)
	} else {
		err = s.accounts.DeleteSession(r.Context(), p.sessionID)
	}
	if err != nil {
		return 0, nil, err
	}
	s.setSessionCookie(r, "", -1)
	s.audit(r, "session.signout", string(p.user.ID), "ok", map[string]any{"sessions": n})
	return http.StatusOK, map[string]any{"signed_out": n}, nil
}

// me serves GET /api/v1/me.
func (s *Server) me(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	out := map[string]any{"account": accountView(p.tenant)}
	if p.user != nil {
		out["user"] = userView(p.user)
		out["csrf_token"] = auth.CSRFToken(s.csrfKey, p.sessionID)
	}
	if p.token != nil {
		out["token"] = tokenView(p.token)
	}
	return http.StatusOK, out, nil
}

// updateAccount serves PATCH /api/v1/account: correct or supplement the
// registration data, and set the industry ({"industry": …}, alone or with
// the registration fields).
func (s *Server) updateAccount(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	in := struct {
		admeter.Registration
		Industry *admeter.Industry `json:"industry"`
	}{Registration: p.tenant.Registration}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Industry != nil {
		if err := admeter.CheckIndustry(*in.Industry); err != nil {
			return 0, nil, err
		}
	}
	if reg := in.Registration; in.Industry == nil || reg != p.tenant.Registration {
		if err := reg.Validate(); err != nil {
			return 0, nil, err
		}
		if err := s.accounts.UpdateRegistration(r.Context(), p.tenant.ID, reg); err != nil {
			return 0, nil, err
		}
		s.audit(r, "account.update", string(p.tenant.ID), "ok", nil)
	}
	if in.Industry != nil {
		if err := s.setOwnIndustry(r, p.tenant.ID, *in.Industry); err != nil {
			return 0, nil, err
		}
	}
	t, err := s.accounts.Tenant(r.Context(), p.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, accountView(t), nil
}

// listUsers serves GET /api/v1/users.
func (s *Server) listUsers(r *http.Request) (int, any, error) {
	us, err := s.accounts.Users(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	out := []userJSON{}
	for _, u := range us {
		out = append(out, userView(u))
	}
	return http.StatusOK, map[string]any{"users": out}, nil
}

// createUser serves POST /api/v1/users {"email","name","role","password"}.
// Admins may not create owners.
func (s *Server) createUser(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	var in struct {
		Email    string       `json:"email"`
		Name     string       `json:"name"`
		Role     admeter.Role `json:"role"`
		Password string       `json:"password"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Role == admeter.RoleOwner && !p.allows(admeter.PermCloseAccount) {
		return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "only an owner may make another owner")
	}
	u, hash, err := s.newUser(in.Email, in.Name, in.Password, in.Role, p.tenant.Registration.Company)
	if err != nil {
		return 0, nil, err
	}
	u.Tenant = p.tenant.ID
	if err := s.accounts.CreateUser(r.Context(), u, hash); err != nil {
		return 0, nil, err
	}
	s.audit(r, "user.create", string(u.ID), "ok", map[string]any{"role": string(u.Role)})
	return http.StatusCreated, userView(u), nil
}

// updateUser serves PATCH /api/v1/users/{id} {"name","role","disabled"}.
func (s *Server) updateUser(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	u, err := s.accounts.User(r.Context(), p.tenant.ID, admeter.UserID(r.PathValue("id")))
	if err != nil {
		return 0, nil, err
	}
	if (u.Role == admeter.RoleOwner) && !p.allows(admeter.PermCloseAccount) {
		return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "only an owner may change an owner")
	}
	var in struct {
		Name     *string       `json:"name"`
		Role     *admeter.Role `json:"role"`
		Disabled *bool         `json:"disabled"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
	}
	if in.Role != nil {
		if !in.Role.Valid() || (*in.Role == admeter.RoleOwner && !p.allows(admeter.PermCloseAccount)) {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "role must be admin, analyst or viewer (owner: owners only)")
		}
		u.Role = *in.Role
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	if err := s.accounts.UpdateUser(r.Context(), u); err != nil {
		return 0, nil, err
	}
	if u.Disabled {
		_, _ = s.accounts.DeleteUserSessions(r.Context(), u.ID)
	}
	s.audit(r, "user.update", string(u.ID), "ok", map[string]any{"role": string(u.Role), "disabled": u.Disabled})
	return http.StatusOK, userView(u), nil
}

// tokenJSON is an API token as the API shows it; Token (the secret) only at
// creation.
type tokenJSON struct {
	ID       admeter.TokenID      `json:"id"`
	Name     string               `json:"name"`
	Scopes   []admeter.TokenScope `json:"scopes"`
	Created  time.Time            `json:"created"`
	LastUsed *time.Time           `json:"last_used,omitempty"`
	Revoked  *time.Time           `json:"revoked,omitempty"`
	Expires  *time.Time           `json:"expires,omitempty"`
	Token    string               `json:"token,omitempty"`
}

func tokenView(t *admeter.APIToken) tokenJSON {
	v := tokenJSON{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Created: t.Created}
	if !t.LastUsed.IsZero() {
		lu := t.LastUsed
		v.LastUsed = &lu
	}
	if !t.Revoked.IsZero() {
		rv := t.Revoked
		v.Revoked = &rv
	}
	if !t.Expires.IsZero() {
		ex := t.Expires
		v.Expires = &ex
	}
	return v
}

// listTokens serves GET /api/v1/tokens.
func (s *Server) listTokens(r *http.Request) (int, any, error) {
	ts, err := s.accounts.Tokens(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	out := []tokenJSON{}
	for _, t := range ts {
		out = append(out, tokenView(t))
	}
	return http.StatusOK, map[string]any{"tokens": out}, nil
}

// createToken serves POST /api/v1/tokens {"name","scopes":[…]}: the secret
// is in the answer once and never again.
func (s *Server) createToken(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	var in struct {
		Name   string               `json:"name"`
		Scopes []admeter.TokenScope `json:"scopes"`
		// ExpiresInDays, if not 0, makes the token stop working after that
		// many days.
		ExpiresInDays int `json:"expires_in_days"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Scopes) == 0 {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "scopes is required: any of collect, reports:read, manage")
	}
	for _, sc := range in.Scopes {
		if !sc.Valid() {
			return 0, nil, admeter.Errorf(admeter.EINVALID, "scope %q is not one of collect, reports:read, manage", sc)
		}
	}
	secret := NewToken(TenantTokenPrefix)
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 3650 {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "expires_in_days must be between 1 and 3650, or 0 for a token that does not expire")
	}
	t := &admeter.APIToken{Tenant: p.tenant.ID, Name: strings.TrimSpace(in.Name), Scopes: in.Scopes, CreatedBy: p.actor()}
	if in.ExpiresInDays > 0 {
		t.Expires = s.now().Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour).UTC()
	}
	if t.Name == "" {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "name is required: what the token is for")
	}
	if err := s.accounts.CreateToken(r.Context(), t, HashToken(secret)); err != nil {
		return 0, nil, err
	}
	s.audit(r, "token.create", string(t.ID), "ok", map[string]any{"scopes": in.Scopes})
	v := tokenView(t)
	v.Token = secret
	return http.StatusCreated, v, nil
}

// revokeToken serves DELETE /api/v1/tokens/{id}.
func (s *Server) revokeToken(r *http.Request) (int, any, error) {
	id := admeter.TokenID(r.PathValue("id"))
	if err := s.accounts.RevokeToken(r.Context(), tenantFrom(r.Context()).ID, id); err != nil {
		return 0, nil, err
	}
	s.audit(r, "token.revoke", string(id), "ok", nil)
	return http.StatusOK, map[string]any{"revoked": id}, nil
}

// auditTrail serves GET /api/v1/audit[?after=seq&limit=n&action=prefix]:
// a tenant's own trail, or every tenant's for the operator (/api/v1/admin/audit).
func (s *Server) auditTrail(operator bool) apiFunc {
	return func(r *http.Request) (int, any, error) {
		q := AuditQuery{Limit: 100, Action: r.URL.Query().Get("action")}
		if v := r.URL.Query().Get("after"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, nil, admeter.Errorf(admeter.EINVALID, "after must be a sequence number from a previous page")
			}
			q.After = n
		}
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return 0, nil, admeter.Errorf(admeter.EINVALID, "limit must be between 1 and 1000")
			}
			q.Limit = n
		}
		if !operator {
			q.Tenant = tenantFrom(r.Context()).ID
		}
		es, err := s.auditLog.AuditEntries(r.Context(), q)
		if err != nil {
			return 0, nil, err
		}
		if es == nil {
			es = []admeter.AuditEntry{}
		}
		return http.StatusOK, map[string]any{"entries": es}, nil
	}
}

// setSessionCookie sets (or with maxAge < 0 clears) the session cookie:
// HttpOnly, SameSite=Lax, Secure over HTTPS.
func (s *Server) setSessionCookie(r *http.Request, value string, maxAge time.Duration) {
	w, _ := r.Context().Value(writerKey).(http.ResponseWriter)
	if w == nil {
		return
	}
	ck := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, ck)
}

// allowAttempt applies the sign-in throttle to a request (per client network
// and, when given, per email).
func (s *Server) allowAttempt(r *http.Request, email string) error {
	ok, retry, reason := s.throttle.Allow(email, clientAddr(r), s.now())
	if ok {
		return nil
	}
	if reason == auth.ReasonAccountLocked {
		return admeter.Errorf(admeter.ERATELIMITED, "too many wrong passwords: the account is locked; try again in %s (密码错误次数过多,账户已临时锁定)", retry.Round(time.Second))
	}
	return admeter.Errorf(admeter.ERATELIMITED, "too many attempts from this network; try again in %s (尝试次数过多,请稍后再试)", retry.Round(time.Second))
}

// clientAddr returns the connection's address.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// closeAccount serves POST /api/v1/account/close {"password", "confirm"}:
// the owner closes the enterprise account. It asks for the password again
// and for the company name as confirmation; every campaign stops
// collecting, every token and session ends, and the account's data is
// deleted once the retention floor has passed (raw events age out with the
// retention; the rest goes with the account then).
func (s *Server) closeAccount(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	if p.user == nil {
		return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "closing the account needs a signed-in owner, not a token")
	}
	var in struct {
		Password string `json:"password"`
		Confirm  string `json:"confirm"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := s.reauthenticate(r, p.user, in.Password); err != nil {
		return 0, nil, err
	}
	want := p.tenant.Registration.Company
	if want == "" {
		want = p.tenant.Name
	}
	if strings.TrimSpace(in.Confirm) != want {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "to confirm, send the company name exactly as registered in confirm")
	}
	ctx := r.Context()
	t, err := s.accounts.SetTenantStatus(ctx, p.tenant.ID, admeter.TenantClosed, "closed by its owner")
	if err != nil {
		return 0, nil, err
	}
	tokens, err := s.accounts.Tokens(ctx, p.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	for _, tk := range tokens {
		if tk.Revoked.IsZero() {
			if err := s.accounts.RevokeToken(ctx, p.tenant.ID, tk.ID); err != nil {
				return 0, nil, err
			}
		}
	}
	users, err := s.accounts.Users(ctx, p.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	for _, u := range users {
		if _, err := s.accounts.DeleteUserSessions(ctx, u.ID); err != nil {
			return 0, nil, err
		}
	}
	if s.cfg.CampaignsChanged != nil {
		s.cfg.CampaignsChanged(ctx)
	}
	deletion := t.Closed.Add(s.cfg.RetentionFloor)
	s.audit(r, "account.close", string(t.ID), "ok", map[string]any{"tokens_revoked": len(tokens), "deletion_after": deletion})
	s.setSessionCookie(r, "", -1)
	return http.StatusOK, map[string]any{"account": accountView(t), "data_deleted_after": deletion}, nil
}

// deleteUser serves DELETE /api/v1/users/{id}: the user and its sessions go.
// Admins may not delete owners; the last enabled owner cannot be deleted.
func (s *Server) deleteUser(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	u, err := s.accounts.User(r.Context(), p.tenant.ID, admeter.UserID(r.PathValue("id")))
	if err != nil {
		return 0, nil, err
	}
	if u.Role == admeter.RoleOwner && !p.allows(admeter.PermCloseAccount) {
		return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "only an owner may delete an owner")
	}
	if err := s.accounts.DeleteUser(r.Context(), p.tenant.ID, u.ID); err != nil {
		return 0, nil, err
	}
	s.audit(r, "user.delete", string(u.ID), "ok", map[string]any{"role": string(u.Role)})
	return http.StatusOK, map[string]any{"deleted": u.ID}, nil
}
