package optouthttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

// Registry is the durable set of opted-out pseudonyms (package optout). The
// collector asks the same registry, so an opt-out takes effect as soon as Add
// returns.
type Registry interface {
	// Add records the pseudonyms and returns how many were new. It returns
	// only once they are durable.
	Add(ctx context.Context, ps ...admeter.Pseudonym) (added int, err error)
	// Contains reports whether p has opted out.
	Contains(p admeter.Pseudonym) bool
}

// Config holds the page's and API's settings. Use DefaultConfig and change
// what you need; New fills zero fields with their defaults.
type Config struct {
	// CookieName is the opt-out cookie; the collector drops every request
	// that carries it (collect.Config.OptOutCookieName).
	CookieName string
	// IDCookieName is the collector's browser id cookie
	// (collect.Config.CookieName), which opting out expires.
	IDCookieName string
	// CookieMaxAge is the life of the opt-out cookie. Browsers may cap it
	// (Chrome keeps no cookie longer than 400 days).
	CookieMaxAge time.Duration
	// PublicURL is the scheme and host the page is reached at, e.g.
	// https://t.example.com. When it is https, the opt-out cookie is Secure
	// and SameSite=None, so that the collector's pixel, loaded from other
	// sites, receives it. A request that arrives over TLS gets the same.
	PublicURL string
	// RatePerMinute and Burst bound the opt-out and status requests of one
	// client network block (/24 or /48); RatePerMinute < 0 turns the limit
	// off. MaxClients bounds the number of blocks tracked at once.
	RatePerMinute int
	Burst         int
	MaxClients    int
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// HonorGPC says that the collector drops requests that carry Global
	// Privacy Control (Sec-GPC: 1). Only then does the page tell end users
	// that GPC opts them out: set it to collect.Config.HonorGPC.
	HonorGPC bool
	// ClientIP returns the end user's address; wire the collector's
	// trusted-proxy-aware function. The default is the connection's
	// address. Requests whose address is invalid share one bucket.
	ClientIP func(*http.Request) netip.Addr
	// Now is the clock; tests pin it.
	Now func() time.Time
}

// DefaultConfig returns the settings the opt-out page runs with unless told
// otherwise.
func DefaultConfig() Config {
	return Config{
		CookieName:    "admeter_optout",
		IDCookieName:  "admeter_uid",
		CookieMaxAge:  5 * 365 * 24 * time.Hour,
		RatePerMinute: 30,
		Burst:         10,
		MaxClients:    10_000,
		MaxBodyBytes:  4 << 10,
		ClientIP:      RemoteAddr,
		Now:           time.Now,
	}
}

// RemoteAddr returns the address of the connection r came on.
func RemoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Handler serves the opt-out page and API.
type Handler struct {
	cfg     Config
	reg     Registry
	ps      *pseudo.Pseudonymizer
	logger  *slog.Logger
	m       *metrics
	limit   *limiter // nil: no limit
	secure  bool     // PublicURL is https
	csrf    *http.CrossOriginProtection
	maxBody int64
}

// New returns a Handler that records opt-outs in reg under the pseudonyms ps
// makes: ps must be the pseudonymizer whose pseudonyms the collector looks up
// in the same registry. logger may be nil; prom may be nil to skip metrics
// registration.
func New(cfg Config, reg Registry, ps *pseudo.Pseudonymizer, logger *slog.Logger, prom prometheus.Registerer) (*Handler, error) {
	if reg == nil || ps == nil {
		return nil, errors.New("new opt-out handler: the registry and the pseudonymizer are required")
	}
	def := DefaultConfig()
	if cfg.CookieName == "" {
		cfg.CookieName = def.CookieName
	}
	if cfg.IDCookieName == "" {
		cfg.IDCookieName = def.IDCookieName
	}
	if cfg.CookieMaxAge <= 0 {
		cfg.CookieMaxAge = def.CookieMaxAge
	}
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = def.RatePerMinute
	}
	if cfg.Burst <= 0 {
		cfg.Burst = def.Burst
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = def.MaxClients
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = def.ClientIP
	}
	if cfg.Now == nil {
		cfg.Now = def.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, n := range []string{cfg.CookieName, cfg.IDCookieName} {
		if err := (&http.Cookie{Name: n, Value: "1"}).Valid(); err != nil {
			return nil, fmt.Errorf("new opt-out handler: cookie name %q: %w", n, err)
		}
	}
	if cfg.CookieName == cfg.IDCookieName {
		return nil, fmt.Errorf("new opt-out handler: the opt-out cookie and the id cookie are both named %q; they must differ", cfg.CookieName)
	}
	h := &Handler{cfg: cfg, reg: reg, ps: ps, logger: logger, m: newMetrics(), csrf: http.NewCrossOriginProtection(), maxBody: cfg.MaxBodyBytes}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("new opt-out handler: public URL %q is not an http(s)://host URL", cfg.PublicURL)
		}
		h.secure = u.Scheme == "https"
		if err := h.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("new opt-out handler: public URL %q: %w", cfg.PublicURL, err)
		}
	}
	if cfg.RatePerMinute > 0 {
		h.limit = newLimiter(cfg.RatePerMinute, cfg.Burst, cfg.MaxClients)
	}
	if prom != nil {
		if err := h.m.register(prom); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Paths served by Register.
const (
	PagePath   = "/optout"
	APIPath    = "/api/v1/optout"
	StatusPath = "/api/v1/optout/status"
)

// Register adds the page and API routes to mux. The routes take every
// method and answer 405 themselves, so that a catch-all such as "/api/" on
// the same mux cannot turn a wrong method into a 404.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc(PagePath, h.servePage)
	mux.HandleFunc(APIPath, h.serveOptOut)
	mux.HandleFunc(StatusPath, h.serveStatus)
}

// allow applies the rate limit to r. When it refuses, it sets Retry-After
// and returns a problem.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request) *inputError {
	if h.limit == nil {
		return nil
	}
	ok, wait := h.limit.allow(admeter.BlockOf(h.cfg.ClientIP(r)).Prefix(), h.cfg.Now())
	if ok {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return &inputError{prob: probLimited, msg: fmt.Sprintf("too many opt-out requests from your network; try again in %s", time.Duration(secs)*time.Second)}
}

// optOut records the device's pseudonyms.
func (h *Handler) optOut(ctx context.Context, d device) (added int, err error) {
	added, err = h.reg.Add(ctx, d.ps...)
	if err != nil {
		// The error comes from the registry, which holds pseudonyms only.
		h.logger.Error("record opt-out", "id_type", d.typ.String(), "err", err)
		return 0, err
	}
	h.logger.Debug("opt-out recorded", "id_type", d.typ.String(), "new", added)
	return added, nil
}

// optedOut reports whether any pseudonym of d has opted out.
func (h *Handler) optedOut(d device) bool {
	for _, p := range d.ps {
		if h.reg.Contains(p) {
			return true
		}
	}
	return false
}

// setOptOutCookies sets the opt-out cookie and expires the id cookie. They
// are Secure and SameSite=None over HTTPS, so that the collector's pixel,
// loaded from other sites, receives the opt-out cookie; plain HTTP cannot
// have SameSite=None, so there they are Lax.
func (h *Handler) setOptOutCookies(w http.ResponseWriter, r *http.Request) {
	secure := h.secure || r.TLS != nil
	same := http.SameSiteLaxMode
	if secure {
		same = http.SameSiteNoneMode
	}
	now := h.cfg.Now()
	http.SetCookie(w, &http.Cookie{
		Name: h.cfg.CookieName, Value: "1", Path: "/",
		MaxAge: int(h.cfg.CookieMaxAge / time.Second), Expires: now.Add(h.cfg.CookieMaxAge).UTC(),
		HttpOnly: true, Secure: secure, SameSite: same,
	})
	http.SetCookie(w, &http.Cookie{
		Name: h.cfg.IDCookieName, Value: "", Path: "/",
		MaxAge: -1, Expires: time.Unix(1, 0).UTC(),
		HttpOnly: true, Secure: secure, SameSite: same,
	})
}

// hasOptOutCookie reports whether r carries the opt-out cookie.
func (h *Handler) hasOptOutCookie(r *http.Request) bool {
	_, err := r.Cookie(h.cfg.CookieName)
	return err == nil
}

// apiHeaders sets the headers every API answer carries: open CORS without
// credentials, and no caching, sniffing or referrer.
func apiHeaders(w http.ResponseWriter, methods string) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", methods)
	hd.Set("Access-Control-Allow-Headers", "Content-Type")
	hd.Set("Access-Control-Expose-Headers", "Retry-After")
	hd.Set("Access-Control-Max-Age", "86400")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}

// statusOf maps a problem to an HTTP status.
func statusOf(prob string) int {
	switch prob {
	case probTooLarge:
		return http.StatusRequestEntityTooLarge
	case probLimited:
		return http.StatusTooManyRequests
	case probCrossSite:
		return http.StatusForbidden
	case probInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// codeOf maps a problem to the application error code of package api's
// error shape.
func codeOf(prob string) string {
	switch prob {
	case probTooLarge:
		return admeter.ETOOLARGE
	case probLimited:
		return admeter.ERATELIMITED
	case probCrossSite:
		return admeter.EFORBIDDEN
	case probInternal:
		return admeter.EINTERNAL
	}
	return admeter.EINVALID
}

// resultOf maps a problem to the result label of the requests metric.
func resultOf(e *inputError) string {
	switch {
	case e == nil:
		return resOK
	case e.prob == probLimited:
		return resLimited
	case e.prob == probInternal:
		return resError
	}
	return resInvalid
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeAPIError writes e in package api's error shape.
func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// internalError is the problem for a registry failure.
var internalError = &inputError{prob: probInternal, msg: "Internal error: the opt-out was not saved; please try again in a minute."}

// readJSON reads a bounded JSON request body.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request) (idRequest, *inputError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		// text/plain lets a page call the API without a CORS preflight.
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			return idRequest{}, &inputError{prob: probBody, msg: "send the body as JSON with Content-Type: application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return idRequest{}, &inputError{prob: probTooLarge, msg: fmt.Sprintf("the request body is larger than %d bytes; send one small JSON object", h.maxBody)}
		}
		return idRequest{}, &inputError{prob: probBody, msg: "the request body could not be read"}
	}
	return decodeIDRequest(body)
}

// optOutResponse is the answer to POST /api/v1/optout.
type optOutResponse struct {
	OptedOut bool   `json:"opted_out"`
	IDType   string `json:"id_type"`
	// Added is false when the identifier had already opted out.
	Added bool `json:"added"`
}

// serveOptOut answers POST /api/v1/optout.
func (h *Handler) serveOptOut(w http.ResponseWriter, r *http.Request) {
	apiHeaders(w, "POST, OPTIONS")
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		writeAPIError(w, http.StatusMethodNotAllowed, admeter.EINVALID, "use POST with a JSON body such as {\"id_type\":\"idfa\",\"id\":\"…\"}")
		return
	}
	resp, prob := h.apiOptOut(w, r)
	h.m.count(chanAPI, kindDevice, resultOf(prob))
	if prob != nil {
		writeAPIError(w, statusOf(prob.prob), codeOf(prob.prob), prob.msg)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) apiOptOut(w http.ResponseWriter, r *http.Request) (optOutResponse, *inputError) {
	if prob := h.allow(w, r); prob != nil {
		return optOutResponse{}, prob
	}
	req, prob := h.readJSON(w, r)
	if prob != nil {
		return optOutResponse{}, prob
	}
	d, prob := parseDevice(h.ps, req.IDType, req.ID, req.Form)
	if prob != nil {
		return optOutResponse{}, prob
	}
	added, err := h.optOut(r.Context(), d)
	if err != nil {
		return optOutResponse{}, internalError
	}
	return optOutResponse{OptedOut: true, IDType: d.typ.String(), Added: added > 0}, nil
}

// statusResponse is the answer to /api/v1/optout/status.
type statusResponse struct {
	OptedOut bool `json:"opted_out"`
	// Scope is "device" for an identifier and "browser" for the asking
	// browser's opt-out cookie.
	Scope  string `json:"scope"`
	IDType string `json:"id_type,omitempty"`
}

// serveStatus answers GET and POST /api/v1/optout/status.
func (h *Handler) serveStatus(w http.ResponseWriter, r *http.Request) {
	apiHeaders(w, "GET, POST, OPTIONS")
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		writeAPIError(w, http.StatusMethodNotAllowed, admeter.EINVALID, "use GET with id_type and id in the query, or POST with a JSON body")
		return
	}
	resp, prob := h.status(w, r)
	h.m.count(chanAPI, kindStatus, resultOf(prob))
	if prob != nil {
		writeAPIError(w, statusOf(prob.prob), codeOf(prob.prob), prob.msg)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) (statusResponse, *inputError) {
	if prob := h.allow(w, r); prob != nil {
		return statusResponse{}, prob
	}
	var req idRequest
	if r.Method == http.MethodPost {
		var prob *inputError
		if req, prob = h.readJSON(w, r); prob != nil {
			return statusResponse{}, prob
		}
	} else {
		q := r.URL.Query()
		for k := range q {
			switch k {
			case "id_type", "id", "form":
			default:
				return statusResponse{}, &inputError{prob: probBody, msg: "the query has a parameter admeter does not know; the parameters are id_type, id and form (or none, to ask about this browser)"}
			}
		}
		req = idRequest{IDType: q.Get("id_type"), ID: q.Get("id"), Form: q.Get("form")}
		if req.IDType == "" && req.ID == "" && req.Form == "" {
			return statusResponse{OptedOut: h.hasOptOutCookie(r), Scope: "browser"}, nil
		}
	}
	d, prob := parseDevice(h.ps, req.IDType, req.ID, req.Form)
	if prob != nil {
		return statusResponse{}, prob
	}
	return statusResponse{OptedOut: h.optedOut(d), Scope: "device", IDType: d.typ.String()}, nil
}
