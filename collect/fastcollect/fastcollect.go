// Package fastcollect serves a collector's monitoring URLs (/x, /r) over
// fasthttp, an HTTP/1.1 server that reuses its request and response values
// instead of allocating them per request. On this project's benchmark
// machine a bare fasthttp server takes about 16 µs of CPU a request where a
// bare net/http one takes 27 µs: the difference is more than the collector's
// own handler costs (docs/benchmarks.md). It also takes a path-form
// monitoring URL with a stray percent sign (an unreplaced %%TS%% macro),
// which net/http refuses with 400 before any handler runs.
//
// It is a second front door for the same collect.Collector: every decision
// (parsing, de-identification, opt-out, the log append, the answer) is made
// by Collector.Monitor, exactly as for the net/http listener. This package
// only translates requests and answers. It serves nothing else but
// /healthz and the few static assets it is given (Config.Assets, such as
// the viewability tag): the API, the console, the batch API and /metrics stay
// on net/http.
package fastcollect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/internal/redact"
)

// Config holds the server's limits. Use DefaultConfig and change what you
// need.
type Config struct {
	// ReadTimeout bounds reading one request, headers and body;
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection; WriteTimeout bounds writing one answer.
	ReadTimeout  time.Duration
	IdleTimeout  time.Duration
	WriteTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers together (it is
	// the size of each connection's read buffer). A larger request gets
	// 431.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body: a pixel's is ignored (a
	// sendBeacon POST), so it only has to be read.
	MaxBodyBytes int
	// Assets are small static files served at their exact paths: what
	// loads next to the pixels, such as the viewability tag, so that one
	// host serves a web tag whole.
	Assets map[string]Asset
}

// Asset is a static file the listener serves to GET and HEAD, answering a
// request that already has it (If-None-Match with its ETag) with 304.
type Asset struct {
	Body []byte
	// ETag is the quoted entity tag, also sent in Header.
	ETag string
	// Header holds the answer's headers, Content-Type included.
	Header [][2]string
}

// DefaultConfig returns the limits admeter runs with.
func DefaultConfig() Config {
	return Config{
		ReadTimeout:    10 * time.Second,
		IdleTimeout:    120 * time.Second,
		WriteTimeout:   30 * time.Second,
		MaxHeaderBytes: 16 << 10,
		MaxBodyBytes:   64 << 10,
	}
}

// Server answers monitoring URLs for one Collector.
type Server struct {
	col    *collect.Collector
	ready  func() bool
	logger *slog.Logger
	srv    *fasthttp.Server
	assets map[string]Asset
	// tooLarge is the answer to a request whose headers do not fit.
	tooLarge string
}

// New returns a server for col. ready reports whether /healthz should say
// so; reg, when not nil, gets a gauge of open connections.
func New(cfg Config, col *collect.Collector, ready func() bool, logger *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{col: col, ready: ready, logger: logger,
		tooLarge: fmt.Sprintf("request line and headers over %d bytes: a monitoring URL must be shorter", cfg.MaxHeaderBytes)}
	for path, a := range cfg.Assets {
		if len(path) == 0 || path[0] != '/' || isMonitoringPath([]byte(path)) || path == "/healthz" {
			return nil, fmt.Errorf("new pixel listener: cannot serve an asset at %q: give a path of its own that starts with /", path)
		}
		if s.assets == nil {
			s.assets = map[string]Asset{}
		}
		s.assets[path] = a
	}
	s.srv = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: s.handleError,
		Logger:       printfLogger{logger},
		// The request line holds raw device identifiers: fasthttp must
		// never put a request into a log message.
		SecureErrorLogMessage: true,
		ReadTimeout:           cfg.ReadTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		MaxRequestBodySize:    cfg.MaxBodyBytes,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		// A pixel's body is never parsed.
		DisablePreParseMultipartForm: true,
	}
	if reg != nil {
		open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "admeter_pixel_open_connections",
			Help: "Connections open on the fasthttp monitoring-URL listener (--pixel-addr).",
		}, func() float64 { return float64(s.srv.GetOpenConnectionsCount()) })
		if err := reg.Register(open); err != nil {
			return nil, fmt.Errorf("register pixel listener metrics: %w", err)
		}
	}
	return s, nil
}

// Serve answers requests on ln until Shutdown is called; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil {
		return fmt.Errorf("serve monitoring URLs: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections, lets the requests in flight finish
// (their events are logged before they are answered) and closes idle
// connections. It returns ctx's error if they have not finished in time.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shut down monitoring-URL listener: %w", err)
	}
	return nil
}

// handle serves one request.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		// net/http survives a handler's panic and so must this server: the
		// collector should never panic, but one bad request must not take
		// the process and every other request with it.
		if v := recover(); v != nil {
			s.logger.Error("monitoring request panicked", "panic", panicText(v))
			textError(ctx, fasthttp.StatusInternalServerError, "internal error")
		}
	}()
	hdr := &ctx.Request.Header
	uri := hdr.RequestURI()
	path := routePath(ctx, uri)
	switch {
	case isMonitoringPath(path):
		s.monitor(ctx, uri)
	case string(path) == "/healthz":
		if !s.ready() {
			textError(ctx, fasthttp.StatusServiceUnavailable, "starting")
			return
		}
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
	default:
		if a, ok := s.assets[string(path)]; ok {
			serveAsset(ctx, &a)
			return
		}
		textError(ctx, fasthttp.StatusNotFound, "this address serves only monitoring URLs (/x, /r), their assets and /healthz: the API, the console and /metrics are on --addr")
	}
}

// serveAsset answers a request for a static asset.
func serveAsset(ctx *fasthttp.RequestCtx, a *Asset) {
	hdr := &ctx.Request.Header
	if !hdr.IsGet() && !hdr.IsHead() {
		textError(ctx, fasthttp.StatusMethodNotAllowed, "use GET")
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		return
	}
	for _, kv := range a.Header {
		ctx.Response.Header.Set(kv[0], kv[1])
	}
	if inm := hdr.Peek("If-None-Match"); len(inm) > 0 && a.ETag != "" && etagMatch(inm, a.ETag) {
		// As net/http's ServeContent: a 304 carries no body and no
		// Content-Type.
		ctx.Response.Header.Del("Content-Type")
		ctx.Response.SkipBody = true
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	// fasthttp sends the length but no body for a HEAD request.
	ctx.Response.SetBodyRaw(a.Body)
}

// etagMatch reports whether an If-None-Match value names etag: "*", or a
// comma-separated list holding it, weak (W/) or not, as the weak comparison
// of RFC 9110 section 13.1.2 has it.
func etagMatch(inm []byte, etag string) bool {
	for part := range bytes.SplitSeq(inm, []byte(",")) {
		part = bytes.TrimSpace(part)
		part = bytes.TrimPrefix(part, []byte("W/"))
		if string(part) == "*" || string(part) == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// routePath returns the path a request is routed by: the request target up
// to its query for the usual origin form, the parsed path otherwise. It
// shares the request's memory.
func routePath(ctx *fasthttp.RequestCtx, uri []byte) []byte {
	if len(uri) > 0 && uri[0] == '/' {
		if i := bytes.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		return uri
	}
	return ctx.Path()
}

// isMonitoringPath is collect.IsMonitoringPath without copying the path, a
// Miaozhen-form monitoring URL's whole target: only its first three bytes
// decide.
func isMonitoringPath(path []byte) bool {
	if len(path) > 3 {
		path = path[:3]
	}
	return collect.IsMonitoringPath(string(path))
}

// monitor hands a monitoring URL to the collector and writes its answer.
func (s *Server) monitor(ctx *fasthttp.RequestCtx, uri []byte) {
	hdr := &ctx.Request.Header
	req := collect.MonitoringRequest{
		Method: method(hdr),
		// Copies: the collector may keep these strings, and fasthttp
		// reuses the bytes for the connection's next request.
		URI:            string(uri),
		Peer:           remoteAddr(ctx),
		TLS:            ctx.IsTLS(),
		UserAgent:      string(hdr.UserAgent()),
		ForwardedFor:   values(hdr, "X-Forwarded-For", nil),
		ForwardedProto: string(hdr.Peek("X-Forwarded-Proto")),
		GPC:            string(hdr.Peek("Sec-Gpc")) == "1",
	}
	// Every Cookie line as it came, as net/http sees them (Peek would give
	// the first only).
	req.Cookies = values(hdr, "Cookie", nil)
	for _, name := range collect.PurposeHeaders {
		req.Purpose = values(hdr, name, req.Purpose)
	}
	var ans collect.MonitoringAnswer
	s.col.Monitor(&req, &ans)

	resp := &ctx.Response
	resp.SetStatusCode(ans.Status)
	for _, f := range ans.Header() {
		resp.Header.Add(f.Key, f.Value)
	}
	switch {
	case ans.GIF:
		resp.Header.SetContentType("image/gif")
		resp.Header.Set("Cache-Control", collect.GIFCacheControl)
		// fasthttp sends the length but no body for a HEAD request. The
		// GIF is never written to, so the response may share it.
		resp.SetBodyRaw(collect.GIF())
	case ans.Body != "":
		resp.Header.SetContentType("text/plain; charset=utf-8")
		resp.SetBodyString(ans.Body)
	}
}

// method returns the request method without allocating for the usual ones.
func method(hdr *fasthttp.RequestHeader) string {
	switch {
	case hdr.IsGet():
		return fasthttp.MethodGet
	case hdr.IsHead():
		return fasthttp.MethodHead
	case hdr.IsPost():
		return fasthttp.MethodPost
	}
	return string(hdr.Method())
}

// values appends copies of every value of the header name to dst.
func values(hdr *fasthttp.RequestHeader, name string, dst []string) []string {
	for _, v := range hdr.PeekAll(name) {
		dst = append(dst, string(v))
	}
	return dst
}

// remoteAddr returns the connection's address.
func remoteAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr()
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a
}

// handleError answers a request fasthttp could not read.
func (s *Server) handleError(ctx *fasthttp.RequestCtx, err error) {
	var tooLarge *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &tooLarge):
		textError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, s.tooLarge)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		textError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large: a monitoring URL needs none")
	default:
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			textError(ctx, fasthttp.StatusRequestTimeout, "request timed out")
			return
		}
		textError(ctx, fasthttp.StatusBadRequest, "malformed HTTP request")
	}
}

// panicText describes a recovered panic for the log without its value, which
// might hold part of the request (raw identifiers): a runtime error's text
// (an index out of range, a nil dereference) carries no request data, any
// other panic is named by its type only.
func panicText(v any) string {
	if err, ok := v.(runtime.Error); ok {
		return err.Error()
	}
	return fmt.Sprintf("a panic of type %T", v)
}

// textError answers with a plain-text error, as net/http's http.Error does.
func textError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg + "\n")
}

// printfLogger sends fasthttp's own messages to slog. They name the
// client's address ("error when serving connection …<->…"), which privacy
// invariant 1 keeps out of every log: it is redacted.
type printfLogger struct{ l *slog.Logger }

func (p printfLogger) Printf(format string, args ...any) {
	p.l.Warn("pixel listener: " + redact.IPs(fmt.Sprintf(format, args...)))
}
