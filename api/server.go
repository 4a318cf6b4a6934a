package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/auth"
)

// TenantService stores tenants and finds them by token hash.
type TenantService interface {
	CreateTenant(ctx context.Context, t *admeter.Tenant, tokenHash [32]byte) error
	TenantByTokenHash(ctx context.Context, hash [32]byte) (*admeter.Tenant, error)
}

// CampaignService stores campaigns. Reads are scoped to one tenant and return
// ENOTFOUND for another tenant's campaign.
type CampaignService interface {
	CreateCampaign(ctx context.Context, c *admeter.Campaign) error
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	Campaigns(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Campaign, error)
	UpdateCampaign(ctx context.Context, c *admeter.Campaign) error
}

// Config holds the API's settings.
type Config struct {
	// PublicURL is the scheme and host that clients reach this server at,
	// e.g. https://t.example.com.
	PublicURL string
	// CollectorURL is the scheme and host that media reach the collector's
	// monitoring URLs at: the base of the impression and click URLs handed
	// out. Empty means PublicURL.
	CollectorURL string
	// OperatorTokenHash is HashToken of the operator token.
	OperatorTokenHash [32]byte
	// CampaignsChanged is called after a campaign is created, so that the
	// collector's catalog is refreshed. It may be nil.
	CampaignsChanged func(context.Context)
	// MaxBodyBytes bounds a request body (default 1 MiB).
	MaxBodyBytes int64
	// Rights carries out end users' rights requests; nil leaves the
	// /api/v1/requests endpoints out.
	Rights RightsService
	// Retention runs the retention job for the operator; nil leaves
	// /api/v1/admin/retention out.
	Retention RetentionService
	// Accounts stores enterprise accounts, users, sessions and tokens; nil
	// leaves the account endpoints out (tenant tokens still work through
	// TenantService).
	Accounts AccountService
	// Audit is the audit record; nil records nothing.
	Audit AuditLog
	// CSRFKey keys the CSRF tokens of sessions (32 random bytes, kept
	// secret); SealSecret and OpenSecret protect second-factor secrets at
	// rest.
	CSRFKey    []byte
	SealSecret func([]byte) ([]byte, error)
	OpenSecret func([]byte) ([]byte, error)
	// Grants stores advertisers' grants to agencies; nil: no grants.
	Grants GrantService
	// Media finds the campaigns with placements on a media tenant; nil:
	// media tenants see only their own campaigns.
	Media MediaService
	// RetentionFloor is how long a closed account's data is kept before it
	// is deleted (the raw-data retention).
	RetentionFloor time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Benchmarks publishes and answers industry benchmarks; nil leaves
	// the benchmark endpoints out. Industries sets tenants' industries;
	// nil leaves the operator's industry endpoint out.
	Benchmarks BenchmarkService
	Industries IndustryService
	// Audience answers audience insight; nil leaves the audience
	// endpoint out.
	Audience AudienceService
	// Reach answers cross-media reach reports and placement plans; nil
	// leaves their endpoints out.
	Reach ReachService
	// Social ingests partner social feeds and answers social insight
	// reports; nil leaves the social endpoints out.
	Social SocialService
	// Incidents records security incidents and announcements and notifies
	// tenants; nil leaves the incident, announcement and notice endpoints
	// out.
	Incidents IncidentService
}

// Server serves the management API.
type Server struct {
	cfg          Config
	operatorHash [32]byte
	tenants      TenantService
	campaigns    CampaignService
	reports      ReportService
	accounts     AccountService
	grants       GrantService
	media        MediaService
	auditLog     AuditLog
	throttle     *auth.Throttle
	csrfKey      []byte
	hashing      chan struct{} // bounds concurrent password checks
	totp         totpEnrolments
	logger       *slog.Logger
}

// New returns a Server. reports may be nil on a node that serves no reports;
// logger may be nil.
func New(cfg Config, tenants TenantService, campaigns CampaignService, reports ReportService, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.CollectorURL = strings.TrimRight(cfg.CollectorURL, "/")
	if cfg.CollectorURL == "" {
		cfg.CollectorURL = cfg.PublicURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, operatorHash: cfg.OperatorTokenHash, tenants: tenants, campaigns: campaigns, reports: reports,
		accounts: cfg.Accounts, grants: cfg.Grants, media: cfg.Media, auditLog: cfg.Audit, csrfKey: cfg.CSRFKey, logger: logger,
		throttle: auth.NewThrottle(auth.DefaultThrottleConfig())}
	if len(s.csrfKey) == 0 {
		s.csrfKey = make([]byte, 32)
		_, _ = rand.Read(s.csrfKey)
	}
	s.hashing = make(chan struct{}, 2)
	return s
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// checkCSRF reports whether token is the CSRF token of session id.
func (s *Server) checkCSRF(id, token string) bool { return auth.CheckCSRF(s.csrfKey, id, token) }

// openSecret unseals a second-factor secret.
func (s *Server) openSecret(b []byte) ([]byte, error) {
	if s.cfg.OpenSecret == nil {
		return nil, errors.New("no key to open second-factor secrets")
	}
	return s.cfg.OpenSecret(b)
}

// writerKey carries the ResponseWriter in a request's context, so that
// handlers that set cookies (signing in and out) can.
const writerKey ctxKey = iota + 20

// apiFunc is a handler that returns its status and body, or an error.
type apiFunc func(r *http.Request) (status int, body any, err error)

// wrap turns an apiFunc into an http.Handler.
func (s *Server) wrap(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), writerKey, w))
		status, body, err := h(r)
		if err != nil {
			writeError(w, r, s.logger, err)
			return
		}
		if c, ok := body.(csvBody); ok {
			ct := c.contentType
			if ct == "" {
				ct = "text/csv; charset=utf-8"
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.name))
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			_, _ = w.Write(c.data)
			return
		}
		writeJSON(w, status, body)
	})
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/tenants", s.wrap(s.requireOperator(s.audited("admin.tenant.create", s.createTenant))))
	mux.Handle("POST /api/v1/campaigns", s.wrap(s.require(admeter.PermManageCampaigns, s.audited("campaign.create", s.createCampaign))))
	mux.Handle("GET /api/v1/campaigns", s.wrap(s.require(admeter.PermReadCampaigns, s.listCampaigns)))
	mux.Handle("GET /api/v1/campaigns/{id}", s.wrap(s.require(admeter.PermReadCampaigns, s.onCampaign(admeter.PermReadCampaigns, s.showCampaign))))
	mux.Handle("PATCH /api/v1/campaigns/{id}", s.wrap(s.require(admeter.PermManageCampaigns, s.onCampaign(admeter.PermManageCampaigns, s.audited("campaign.update", s.updateCampaign)))))
	if s.reports != nil {
		mux.Handle("GET /api/v1/campaigns/{id}/report", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.read", s.report)))))
		mux.Handle("GET /api/v1/campaigns/{id}/frequency", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.frequency", s.frequency)))))
		mux.Handle("GET /api/v1/campaigns/{id}/invalid", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.invalid", s.invalidTraffic)))))
		mux.Handle("GET /api/v1/campaigns/{id}/daily", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.daily", s.daily)))))
		mux.Handle("GET /api/v1/campaigns/{id}/conversions", s.wrap(s.require(admeter.PermReadReports, s.onCampaign(admeter.PermReadReports, s.audited("report.conversions", s.conversions)))))
	}
	if s.grants != nil {
		mux.Handle("GET /api/v1/grants", s.wrap(s.require(admeter.PermReadCampaigns, s.listGrants)))
		mux.Handle("POST /api/v1/grants", s.wrap(s.require(admeter.PermManageGrants, s.createGrant)))
		mux.Handle("DELETE /api/v1/grants/{id}", s.wrap(s.require(admeter.PermManageGrants, s.revokeGrant)))
	}
	if s.cfg.Rights != nil {
		mux.Handle("POST /api/v1/requests", s.wrap(s.require(admeter.PermRights, s.audited("rights.request.api.submit", s.submitRequest))))
		mux.Handle("GET /api/v1/requests", s.wrap(s.require(admeter.PermRights, s.listRequests)))
		mux.Handle("GET /api/v1/requests/{id}", s.wrap(s.require(admeter.PermRights, s.showRequest)))
		mux.Handle("GET /api/v1/requests/{id}/export", s.wrap(s.require(admeter.PermRights, s.audited("rights.export.read", s.exportRequest))))
	}
	if s.cfg.Retention != nil {
		mux.Handle("POST /api/v1/admin/retention", s.wrap(s.requireOperator(s.audited("admin.retention.run", s.runRetention))))
	}
	if s.accounts != nil {
		mux.Handle("POST /api/v1/register", s.wrap(s.register))
		mux.Handle("POST /api/v1/session", s.wrap(s.signIn))
		mux.Handle("DELETE /api/v1/session", s.wrap(s.require(admeter.PermReadCampaigns, s.signOut)))
		mux.Handle("GET /api/v1/me", s.wrap(s.require(admeter.PermReadCampaigns, s.me)))
		mux.Handle("POST /api/v1/me/totp", s.wrap(s.require(admeter.PermReadCampaigns, s.startTOTP)))
		mux.Handle("POST /api/v1/me/totp/confirm", s.wrap(s.require(admeter.PermReadCampaigns, s.confirmTOTP)))
		mux.Handle("DELETE /api/v1/me/totp", s.wrap(s.require(admeter.PermReadCampaigns, s.disableTOTP)))
		mux.Handle("POST /api/v1/account/close", s.wrap(s.require(admeter.PermCloseAccount, s.closeAccount)))
		mux.Handle("PATCH /api/v1/account", s.wrap(s.require(admeter.PermManageAccount, s.updateAccount)))
		mux.Handle("GET /api/v1/users", s.wrap(s.require(admeter.PermManageUsers, s.listUsers)))
		mux.Handle("POST /api/v1/users", s.wrap(s.require(admeter.PermManageUsers, s.createUser)))
		mux.Handle("PATCH /api/v1/users/{id}", s.wrap(s.require(admeter.PermManageUsers, s.updateUser)))
		mux.Handle("DELETE /api/v1/users/{id}", s.wrap(s.require(admeter.PermManageUsers, s.deleteUser)))
		mux.Handle("GET /api/v1/tokens", s.wrap(s.require(admeter.PermManageTokens, s.listTokens)))
		mux.Handle("POST /api/v1/tokens", s.wrap(s.require(admeter.PermManageTokens, s.createToken)))
		mux.Handle("DELETE /api/v1/tokens/{id}", s.wrap(s.require(admeter.PermManageTokens, s.revokeToken)))
		mux.Handle("GET /api/v1/admin/tenants", s.wrap(s.requireOperator(s.adminTenants)))
		mux.Handle("POST /api/v1/admin/tenants/{id}/status", s.wrap(s.requireOperator(s.adminTenantStatus)))
	}
	if s.cfg.Incidents != nil {
		s.registerIncidents(mux)
	}
	if s.auditLog != nil {
		mux.Handle("GET /api/v1/audit", s.wrap(s.require(admeter.PermReadAudit, s.auditTrail(false))))
		mux.Handle("GET /api/v1/admin/audit", s.wrap(s.requireOperator(s.auditTrail(true))))
	}
	s.registerBenchmarks(mux)
	s.registerAudience(mux)
	s.registerReach(mux)
	s.registerSocial(mux)
	mux.Handle("/api/", s.wrap(func(r *http.Request) (int, any, error) {
		return 0, nil, admeter.Errorf(admeter.ENOTFOUND, "no API endpoint %s %s; see docs/api.md", r.Method, r.URL.Path)
	}))
}

// decode reads a JSON request body into v, refusing unknown fields, trailing
// data and bodies over the limit, with messages that say what to fix.
func (s *Server) decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return admeter.Errorf(admeter.EINVALID, "send the body as JSON with Content-Type: application/json, not %q", ct)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return admeter.Errorf(admeter.EINVALID, "the request body is empty; send a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return admeter.Errorf(admeter.EINVALID, "the request body is not complete JSON (or is larger than %d bytes)", s.cfg.MaxBodyBytes)
		}
		return admeter.Errorf(admeter.EINVALID, "the request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return admeter.Errorf(admeter.EINVALID, "the request body holds more than one JSON value")
	}
	return nil
}

// tenantJSON is a tenant as the API shows it; Token is set only at creation.
type tenantJSON struct {
	ID       admeter.TenantID   `json:"id"`
	Name     string             `json:"name"`
	Kind     admeter.TenantKind `json:"kind"`
	Industry admeter.Industry   `json:"industry,omitempty"`
	Token    string             `json:"token,omitempty"`
}

func (s *Server) createTenant(r *http.Request) (int, any, error) {
	var in struct {
		Name     string             `json:"name"`
		Kind     admeter.TenantKind `json:"kind"`
		Industry admeter.Industry   `json:"industry"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	t := &admeter.Tenant{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Industry: in.Industry}
	if err := t.Validate(); err != nil {
		return 0, nil, err
	}
	token := NewToken(TenantTokenPrefix)
	if err := s.tenants.CreateTenant(r.Context(), t, HashToken(token)); err != nil {
		return 0, nil, fmt.Errorf("create tenant: %w", err)
	}
	s.logger.Info("tenant created", "tenant", t.ID, "kind", t.Kind)
	return http.StatusCreated, tenantJSON{ID: t.ID, Name: t.Name, Kind: t.Kind, Industry: t.Industry, Token: token}, nil
}
