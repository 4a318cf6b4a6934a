package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
	"github.com/admeter/admeter/report"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Sessions signs users in and out and finds the signed-in user: the API's
// rules, shared.
type Sessions interface {
	SignIn(r *http.Request, email, password, totp string) (*api.SignedIn, error)
	SessionOf(r *http.Request) (*api.Session, error)
	SignOut(r *http.Request, id string) error
	CheckCSRF(id, token string) bool
	AuditFor(r *http.Request, sess *api.Session, action, target, outcome string, details map[string]any)
}

// Campaigns stores campaigns; reads are scoped to one tenant.
type Campaigns interface {
	CreateCampaign(ctx context.Context, c *admeter.Campaign) error
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	Campaigns(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Campaign, error)
}

// Reports answers the dashboard's queries.
type Reports interface {
	Report(ctx context.Context, req report.Request) (*report.Report, error)
	Frequency(ctx context.Context, req report.Request) (*report.Frequency, error)
}

// Config holds the console's settings.
type Config struct {
	// PublicURL is the scheme and host the console is reached at, as in
	// api.Config.
	PublicURL string
	// CollectorURL is the base of the monitoring codes, as in api.Config;
	// empty means PublicURL.
	CollectorURL string
	// Secure marks the session cookie Secure (the console is served over
	// HTTPS).
	Secure bool
	// CampaignsChanged is called after a campaign is created.
	CampaignsChanged func(context.Context)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Server serves the console.
type Server struct {
	cfg       Config
	sessions  Sessions
	campaigns Campaigns
	reports   Reports
	accounts  Accounts
	requests  Requests
	audit     AuditTrail
	recent    Recent
	editor    CampaignEditor
	reach     Reach
	social    Social
	logger    *slog.Logger
	pages     map[string]*template.Template
}

// New returns a console Server. accounts, requests and audit may be nil
// (their screens then refuse); logger may be nil.
func New(cfg Config, sessions Sessions, campaigns Campaigns, reports Reports, accounts Accounts, requests Requests, audit AuditTrail, logger *slog.Logger) (*Server, error) {
	if sessions == nil || campaigns == nil || reports == nil {
		return nil, errors.New("new console: sessions, campaigns and reports are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CollectorURL == "" {
		cfg.CollectorURL = cfg.PublicURL
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("new console: %w", err)
	}
	return &Server{cfg: cfg, sessions: sessions, campaigns: campaigns, reports: reports, accounts: accounts, requests: requests, audit: audit,
		logger: logger, pages: pages}, nil
}

// parsePages parses each page's template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "campaigns", "campaign", "error", "account", "report", "edit", "reach", "social", "social_settings"} {
		t, err := template.New("layout").Funcs(template.FuncMap{}).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// SetEditor lets users edit campaigns (nil: campaigns are read-only).
func (s *Server) SetEditor(e CampaignEditor) { s.editor = e }

// SetRecent gives the codes screen its live check of the last events
// received (nil: no live check).
func (s *Server) SetRecent(r Recent) { s.recent = r }

// Register adds the console's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/campaigns", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/signin", s.signInPage)
	// Cross-site form posts are refused before anything else, including
	// sign-in (a login CSRF would sign the victim into another account).
	xo := http.NewCrossOriginProtection()
	if s.cfg.PublicURL != "" {
		_ = xo.AddTrustedOrigin(s.cfg.PublicURL)
	}
	mux.Handle("POST /console/signin", xo.Handler(http.HandlerFunc(s.signIn)))
	mux.Handle("POST /console/signout", xo.Handler(s.signed(s.signOut)))
	mux.HandleFunc("GET /console/campaigns", s.signed(s.campaignsPage))
	mux.Handle("POST /console/campaigns", xo.Handler(s.signed(s.createCampaign)))
	mux.HandleFunc("GET /console/campaigns/{id}", s.signed(s.dashboard))
	mux.HandleFunc("GET /console/campaigns/{id}/codes", s.signed(s.codesPage))
	mux.HandleFunc("GET /console/campaigns/{id}/report", s.signed(s.reportBuilder))
	mux.HandleFunc("GET /console/campaigns/{id}/reach", s.signed(s.reachPage))
	mux.HandleFunc("GET /console/reach", s.signed(s.reachSetPage))
	mux.HandleFunc("GET /console/campaigns/{id}/edit", s.signed(s.editCampaign))
	mux.Handle("POST /console/campaigns/{id}/edit", xo.Handler(s.signed(s.editCampaign)))
	for _, tab := range []string{"users", "tokens", "requests", "audit"} {
		mux.HandleFunc("GET /console/account/"+tab, s.signed(s.accountPage(tab)))
	}
	mux.Handle("POST /console/account/tokens", xo.Handler(s.signed(s.createToken)))
	mux.Handle("POST /console/account/tokens/{id}/revoke", xo.Handler(s.signed(s.revokeToken)))
	mux.Handle("POST /console/account/users", xo.Handler(s.signed(s.createUser)))
	s.registerSocial(mux, xo)
}

// page is what every template gets.
type page struct {
	Lang    string
	Title   string
	Session *api.Session
	Error   string
	Data    any
	// HasReach is set when the console has the reach page.
	HasReach bool
	// HasSocial is set when the console has the social insight pages.
	HasSocial bool
	// LangSwitch is the page's own query with the other language: the
	// language link keeps what the page shows (its range, its campaigns).
	LangSwitch string
	t          func(string) string
	now        time.Time
}

// T translates a label.
func (p *page) T(key string) string { return p.t(key) }

// Now is the page's time.
func (p *page) Now() time.Time { return p.now }

// DateTime formats an instant in China Standard Time, to the second.
func (p *page) DateTime(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04:05") }

// Num formats an integer with thousands separators.
func (p *page) Num(n int64) string { return groupDigits(n) }

// Date formats a time as a date in the page's conventions.
func (p *page) Date(t time.Time) string {
	if p.Lang == langEN {
		return t.In(chinaTime).Format("Jan 2, 2006")
	}
	return t.In(chinaTime).Format("2006年1月2日")
}

var chinaTime = time.FixedZone("CST", 8*3600)

// groupDigits writes n with a comma every three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// render writes a page. The language the user chose with ?lang= is kept in
// a cookie.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, sess *api.Session, data any, errMsg string) {
	lang := langOf(r)
	if q := r.URL.Query().Get("lang"); q == langZH || q == langEN {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/console/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure})
	}
	p := &page{Lang: lang, Session: sess, Data: data, Error: errMsg, HasReach: s.reach != nil, HasSocial: s.social != nil, t: translator(lang), now: s.cfg.Now()}
	p.Title = p.T(title)
	if d, ok := data.(interface{ PageTitle() string }); ok && d.PageTitle() != "" {
		p.Title += " · " + d.PageTitle()
	}
	q := r.URL.Query()
	if lang == langEN {
		q.Set("lang", langZH)
	} else {
		q.Set("lang", langEN)
	}
	p.LangSwitch = "?" + q.Encode()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		s.logger.Error("render console page", "page", name, "err", err)
	}
}

// fail renders an error page with a message the user can act on; internal
// errors are logged and shown only as "something went wrong".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *api.Session, err error) {
	status := http.StatusInternalServerError
	msg := translator(langOf(r))("error")
	switch admeter.ErrorCode(err) {
	case admeter.ENOTFOUND:
		status, msg = http.StatusNotFound, admeter.ErrorMessage(err)
	case admeter.EFORBIDDEN:
		status, msg = http.StatusForbidden, translator(langOf(r))("forbidden")
	case admeter.EINVALID, admeter.ECONFLICT:
		status, msg = http.StatusBadRequest, admeter.ErrorMessage(err)
	default:
		s.logger.Error("console", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "error", "error", sess, map[string]string{"Message": msg}, "")
}

// signed wraps h so that it runs only for a signed-in user, whose POSTs must
// carry the session's CSRF token; others are sent to the sign-in page.
func (s *Server) signed(h func(http.ResponseWriter, *http.Request, *api.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.SessionOf(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if sess == nil {
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !s.sessions.CheckCSRF(sess.ID, r.PostFormValue("csrf")) {
			s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "the form is stale; reload the page and try again"))
			return
		}
		h(w, r, sess)
	}
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if sess, _ := s.sessions.SessionOf(r); sess != nil {
		http.Redirect(w, r, "/console/campaigns", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin", "signin", nil, map[string]string{"Email": ""}, "")
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	si, err := s.sessions.SignIn(r, email, r.PostFormValue("password"), r.PostFormValue("totp"))
	if err != nil {
		status := http.StatusUnauthorized
		if admeter.ErrorCode(err) == admeter.ERATELIMITED {
			status = http.StatusTooManyRequests
		} else if admeter.ErrorCode(err) == admeter.EFORBIDDEN {
			status = http.StatusForbidden
		}
		s.render(w, r, status, "signin", "signin", nil, map[string]string{"Email": email}, admeter.ErrorMessage(err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: api.SessionCookie, Value: si.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.Secure, MaxAge: int(time.Until(si.Expires) / time.Second)})
	http.Redirect(w, r, "/console/campaigns", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if err := s.sessions.SignOut(r, sess.ID); err != nil {
		s.fail(w, r, sess, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: api.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure})
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermReadCampaigns) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	cs, err := s.campaigns.Campaigns(r.Context(), sess.Tenant.ID)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaigns", "campaigns", sess, map[string]any{
		"Campaigns": cs, "CanCreate": sess.User.Role.Allows(admeter.PermManageCampaigns), "CanCompare": s.canCompare(sess)}, "")
}

// canCompare says whether the campaigns list offers the reach report of
// the campaigns picked (GET /console/reach).
func (s *Server) canCompare(sess *api.Session) bool {
	return s.reach != nil && sess.User.Role.Allows(admeter.PermReadReports)
}

// createCampaign takes the new-campaign form: a name, a landing URL and one
// placement per line ("name, media").
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, sess *api.Session) {
	if !sess.User.Role.Allows(admeter.PermManageCampaigns) {
		s.fail(w, r, sess, admeter.Errorf(admeter.EFORBIDDEN, "forbidden"))
		return
	}
	c := &admeter.Campaign{Tenant: sess.Tenant.ID, Name: r.PostFormValue("name"), LandingURL: strings.TrimSpace(r.PostFormValue("landing_url")),
		Placements: parsePlacements(r.PostFormValue("placements"))}
	err := c.Validate()
	if err == nil {
		err = s.campaigns.CreateCampaign(r.Context(), c)
	}
	if err == nil {
		if s.cfg.CampaignsChanged != nil {
			s.cfg.CampaignsChanged(r.Context())
		}
		s.sessions.AuditFor(r, sess, "campaign.create", string(c.ID), "ok", map[string]any{"via": "console"})
		http.Redirect(w, r, "/console/campaigns/"+string(c.ID)+"/codes", http.StatusSeeOther)
		return
	}
	if code := admeter.ErrorCode(err); code != admeter.EINVALID && code != admeter.ECONFLICT {
		s.fail(w, r, sess, err)
		return
	}
	cs, _ := s.campaigns.Campaigns(r.Context(), sess.Tenant.ID)
	s.render(w, r, http.StatusBadRequest, "campaigns", "campaigns", sess, map[string]any{"Campaigns": cs, "CanCreate": true, "CanCompare": s.canCompare(sess)},
		admeter.ErrorMessage(err))
}
