package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/auth"
)

// totpEnrolments holds second-factor secrets shown to a user but not yet
// confirmed with a code, for ten minutes.
type totpEnrolments struct {
	mu sync.Mutex
	m  map[admeter.UserID]pendingTOTP
}

type pendingTOTP struct {
	secret  []byte
	expires time.Time
}

// startTOTP serves POST /api/v1/me/totp {"password"}: it makes a new
// second-factor secret and returns it (base32 and as an otpauth:// URI for
// an authenticator app). It takes effect once confirmed with a code.
func (s *Server) startTOTP(r *http.Request) (int, any, error) {
	p, err := s.passwordConfirmed(r)
	if err != nil {
		return 0, nil, err
	}
	secret, b32 := auth.NewTOTPSecret()
	s.totp.mu.Lock()
	if s.totp.m == nil {
		s.totp.m = map[admeter.UserID]pendingTOTP{}
	}
	s.totp.m[p.user.ID] = pendingTOTP{secret: secret, expires: s.now().Add(10 * time.Minute)}
	s.totp.mu.Unlock()
	return http.StatusOK, map[string]any{"secret": b32, "uri": auth.TOTPURI("admeter", p.user.Email, secret),
		"confirm": "POST /api/v1/me/totp/confirm with {\"code\": \"123456\"} within 10 minutes"}, nil
}

// confirmTOTP serves POST /api/v1/me/totp/confirm {"code"}.
func (s *Server) confirmTOTP(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	if p.user == nil {
		return 0, nil, admeter.Errorf(admeter.EFORBIDDEN, "a second factor belongs to a signed-in user, not a token")
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.totp.mu.Lock()
	pend, ok := s.totp.m[p.user.ID]
	s.totp.mu.Unlock()
	if !ok || s.now().After(pend.expires) {
		return 0, nil, admeter.Errorf(admeter.ECONFLICT, "no second factor is being set up: start with POST /api/v1/me/totp")
	}
	step, ok := auth.VerifyTOTP(pend.secret, in.Code, s.now(), 0)
	if !ok {
		return 0, nil, admeter.Errorf(admeter.EINVALID, "the code does not match: check the authenticator app's clock and try the current code")
	}
	if s.cfg.SealSecret == nil {
		return 0, nil, admeter.Errorf(admeter.EINTERNAL, "no key to seal second-factor secrets")
	}
	sealed, err := s.cfg.SealSecret(pend.secret)
	if err != nil {
		return 0, nil, err
	}
	if err := s.accounts.SetTOTP(r.Context(), p.user.ID, sealed); err != nil {
		return 0, nil, err
	}
	if err := s.accounts.SetTOTPLastStep(r.Context(), p.user.ID, step); err != nil {
		return 0, nil, err
	}
	s.totp.mu.Lock()
	delete(s.totp.m, p.user.ID)
	s.totp.mu.Unlock()
	s.audit(r, "user.totp.enable", string(p.user.ID), "ok", nil)
	return http.StatusOK, map[string]any{"totp": true}, nil
}

// reauthenticate checks a signed-in user's password again before a
// sensitive change.
func (s *Server) reauthenticate(r *http.Request, u *admeter.User, password string) error {
	_, cred, err := s.accounts.Credentials(r.Context(), u.Email)
	if err != nil {
		return err
	}
	s.hashing <- struct{}{}
	ok, _, err := auth.VerifyPassword(cred.PasswordHash, password)
	<-s.hashing
	if err != nil {
		return err
	}
	if !ok {
		s.audit(r, "user.reauthenticate", string(u.ID), "failed", nil)
		return admeter.Errorf(admeter.EUNAUTHORIZED, "the password is wrong; this change needs your current password")
	}
	return nil
}

// disableTOTP serves DELETE /api/v1/me/totp {"password"}: the signed-in user
// turns the second factor off, after giving the password again.
func (s *Server) disableTOTP(r *http.Request) (int, any, error) {
	p, err := s.passwordConfirmed(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.accounts.SetTOTP(r.Context(), p.user.ID, nil); err != nil {
		return 0, nil, err
	}
	s.audit(r, "user.totp.disable", string(p.user.ID), "ok", nil)
	return http.StatusOK, map[string]any{"totp": false}, nil
}

// passwordConfirmed returns the signed-in caller of a request whose body is
// {"password": …} with that user's current password: the check before a
// change to the sign-in itself.
func (s *Server) passwordConfirmed(r *http.Request) (*principal, error) {
	p := principalFrom(r.Context())
	if p.user == nil {
		return nil, admeter.Errorf(admeter.EFORBIDDEN, "a second factor belongs to a signed-in user, not a token")
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := s.decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.reauthenticate(r, p.user, in.Password); err != nil {
		return nil, err
	}
	return p, nil
}
