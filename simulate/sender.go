package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SenderConfig holds a Sender's settings. Use DefaultSenderConfig and change
// what you need.
type SenderConfig struct {
	// Rate bounds the events sent per second (a batch request counts as
	// its events); 0 sends as fast as the server answers.
	Rate float64
	// Concurrency is the number of requests in flight, each on its own
	// kept-alive connection.
	Concurrency int
	// Timeout bounds one request. A request that times out may still have
	// been counted by the server; Stats.Errors says how many there were.
	Timeout time.Duration
	// CookieName is the server's browser id cookie, returned by browsers
	// that keep cookies.
	CookieName string
	// OptOutCookieName is the server's opt-out cookie, sent (with the value
	// 1) by browsers that have opted out.
	OptOutCookieName string
	// PixelTarget is the scheme and host monitoring URLs (/x, /r) are sent
	// to, such as admeter's pixel listener (serve --pixel-addr); empty:
	// the target, with everything else.
	PixelTarget string
	// Token is the tenant token conversion uploads are sent with
	// (Authorization: Bearer; the collect or manage scope). Without it
	// the server refuses them.
	Token string
	// ConsentRef is the consent reference sent with every conversion
	// upload (X-Admeter-Consent-Ref), for the rows without their own.
	ConsentRef string
	// Now is the clock; tests pin it.
	Now func() time.Time
}

// DefaultSenderConfig returns eight connections at no rate limit.
func DefaultSenderConfig() SenderConfig {
	return SenderConfig{Concurrency: 8, Timeout: 10 * time.Second, CookieName: "admeter_uid", OptOutCookieName: "admeter_optout",
		ConsentRef: "admeter-simulate-consent", Now: time.Now}
}

// Sender sends plans to a server over kept-alive connections, returning
// the cookies the server sets to the browsers that keep them. The browser
// cookie jars persist across Send calls, so that a Generator's successive
// plans (Next) keep their users. A Sender sends one plan at a time.
type Sender struct {
	base   *url.URL
	pixel  *url.URL // where monitoring URLs go
	cfg    SenderConfig
	client *http.Client
	logger *slog.Logger

	mu   sync.Mutex // held by Send: one plan at a time
	jars []map[int32]string

	// clickIDs holds the click ids the server appended to landing URLs,
	// by click key (the click event's nonce), across plans.
	clickMu  sync.Mutex
	clickIDs map[uint64]string

	progress struct{ requests, events, ok, failed, errors atomic.Int64 }
}

// NewSender returns a Sender to the server at target (scheme and host, such
// as http://127.0.0.1:8080; a path is ignored). logger may be nil.
func NewSender(target string, cfg SenderConfig, logger *slog.Logger) (*Sender, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new sender: target must be an http(s) URL such as http://127.0.0.1:8080, not %q", target)
	}
	pixel := &url.URL{Scheme: u.Scheme, Host: u.Host}
	if cfg.PixelTarget != "" {
		p, err := url.Parse(cfg.PixelTarget)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("new sender: pixel target must be an http(s) URL such as http://127.0.0.1:8081, not %q", cfg.PixelTarget)
		}
		pixel = &url.URL{Scheme: p.Scheme, Host: p.Host}
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("new sender: rate must not be negative, not %v", cfg.Rate)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "admeter_uid"
	}
	if cfg.OptOutCookieName == "" {
		cfg.OptOutCookieName = "admeter_optout"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.Concurrency,
		MaxIdleConnsPerHost: 2 * cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	s := &Sender{
		base:  &url.URL{Scheme: u.Scheme, Host: u.Host},
		pixel: pixel,
		cfg:   cfg,
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// A click answers 302 to the landing page: that is the answer,
			// not something to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger:   logger,
		jars:     make([]map[int32]string, cfg.Concurrency),
		clickIDs: map[uint64]string{},
	}
	for i := range s.jars {
		s.jars[i] = map[int32]string{}
	}
	return s, nil
}

// Close closes the Sender's idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Stats is the outcome of sending one plan.
type Stats struct {
	// Requests and Events were sent; the rest of the plan was not (the
	// context ended first).
	Requests int64
	Events   int64
	// OK requests were answered 2xx or 3xx, Failed ones with another
	// status; Errors got no answer (connection error or timeout).
	OK     int64
	Failed int64
	Errors int64
	// Rejected counts the reasons the server gave for not storing an event
	// (X-Admeter-Rejected: "duplicate" for a retry it recognised, ...) and
	// "batch" for events a batch answer rejected.
	Rejected map[string]int64
	// OptOuts counts the opt-out API calls the server confirmed.
	// OptOutLimited counts the 429 answers they got first, and OptOutWait
	// is the time spent waiting those out, during which nothing else was
	// sent.
	OptOuts       int64
	OptOutLimited int64
	OptOutWait    time.Duration
	Elapsed       time.Duration
	// Answered holds, for each request of the plan, when it was sent if it
	// was answered with success (Unix nanoseconds), or 0. Pass the Stats
	// to Tally.AddStats (or Answered to Tally.Add) so that the truth
	// counts what the server received.
	Answered []int64
	// ClickIDs counts the click ids captured from click redirects;
	// NoClickID the answered clicks on campaigns with a click-id parameter
	// whose Location header had none (the conversions reporting them go
	// without, see Tally.AddStats).
	ClickIDs, NoClickID int64
	// Conversion uploads: the rows sent, and what the server's answers
	// said of them (accepted, duplicates of an earlier row of the upload,
	// dropped for an opted-out user, rejected).
	ConversionRows, ConversionsAccepted, ConversionDuplicates, ConversionsOptedOut, ConversionsRejected int64

	captured map[uint64]bool // click keys whose id was captured in this plan
}

// Progress are a Sender's running totals over every plan it sent.
type Progress struct {
	Requests, Events, OK, Failed, Errors int64
}

// Progress returns the running totals; it is safe to call during Send.
func (s *Sender) Progress() Progress {
	p := &s.progress
	return Progress{p.requests.Load(), p.events.Load(), p.ok.Load(), p.failed.Load(), p.errors.Load()}
}

// Send sends the plan and returns what happened. A device's requests go
// through one worker, in plan order, so a browser returns the cookie its
// first request was given. An opt-out call (Request.OptOutAPI) is a
// barrier: Send waits until every earlier request has been answered, makes
// the call, waiting out 429 answers as Retry-After says, and starts no
// later request before the server has answered it. So the collector sees
// the device's earlier events before the opt-out and its later ones after,
// whatever the concurrency. A call the server refuses otherwise is
// counted as failed and the plan goes on: the truth then counts that
// device's later events (Tally.Add). When ctx ends, no further request is
// started and those in flight are finished; Send then returns the stats so
// far and ctx's error.
func (s *Sender) Send(ctx context.Context, p *Plan) (*Stats, error) {
	if p == nil {
		return nil, errors.New("send plan: no plan")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.cfg.Concurrency
	st := &Stats{Rejected: map[string]int64{}, Answered: make([]int64, len(p.Requests)), captured: map[uint64]bool{}}
	start := s.cfg.Now()
	queues := make([]chan int, n)
	results := make([]workerStats, n+1) // the last one: the opt-out calls
	// pending counts the requests queued and not yet done, for the
	// opt-out barrier. Only this goroutine calls Add and Wait.
	var wg, pending sync.WaitGroup
	for w := range n {
		queues[w] = make(chan int, 256)
		wg.Go(func() { s.work(ctx, p, w, queues[w], &results[w], st.Answered, &pending) })
	}
	calls := &results[n]
	var events float64
	interval := 0.0
	if s.cfg.Rate > 0 {
		interval = float64(time.Second) / s.cfg.Rate
	}
	var err error
dispatch:
	for i := range p.Requests {
		r := &p.Requests[i]
		if interval > 0 {
			due := start.Add(time.Duration(events * interval))
			if wait := due.Sub(s.cfg.Now()); wait > time.Millisecond {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					err = ctx.Err()
					break dispatch
				}
			}
		}
		if r.OptOutAPI {
			// A barrier: the rate's schedule does not move, so the
			// requests held back catch up after it, as after a slow answer.
			pending.Wait()
			if ctx.Err() != nil {
				err = ctx.Err()
				break dispatch
			}
			if !s.optOut(ctx, r, i, calls, st) && ctx.Err() != nil {
				// Not confirmed: the device's later requests must not go.
				err = ctx.Err()
				break dispatch
			}
			continue
		}
		if r.Conversions {
			// A barrier too: the clicks whose ids it reports have been
			// answered, and their ids captured.
			pending.Wait()
			if ctx.Err() != nil {
				err = ctx.Err()
				break dispatch
			}
			s.upload(context.WithoutCancel(ctx), p, r, i, calls, st)
			events += float64(r.Events)
			continue
		}
		w := i % n
		if r.Device >= 0 {
			w = int(r.Device) % n
		}
		pending.Add(1)
		select {
		case queues[w] <- i:
		case <-ctx.Done():
			pending.Done()
			err = ctx.Err()
			break dispatch
		}
		events += float64(r.Events)
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	st.OptOuts = calls.ok
	for _, r := range results {
		st.Requests += r.requests
		st.Events += r.events
		st.OK += r.ok
		st.Failed += r.failed
		st.Errors += r.errors
		for k, v := range r.rejected {
			st.Rejected[k] += v
		}
		for k := range r.captured {
			st.captured[k] = true
		}
		st.NoClickID += r.noClickID
	}
	st.OptOuts -= calls.uploads
	st.ClickIDs = int64(len(st.captured))
	st.Elapsed = s.cfg.Now().Sub(start)
	if err == nil && ctx.Err() != nil && st.Requests < int64(len(p.Requests)) {
		err = ctx.Err()
	}
	if st.Errors > 0 {
		s.logger.Warn("some requests got no answer", "errors", st.Errors, "requests", st.Requests)
	}
	return st, err
}

type workerStats struct {
	requests, events, ok, failed, errors int64
	rejected                             map[string]int64
	captured                             map[uint64]bool
	noClickID                            int64
	uploads                              int64 // conversion uploads answered (the barrier worker's)
}

// work sends the requests queued for worker w, in order, marking each done
// in pending.
func (s *Sender) work(ctx context.Context, p *Plan, w int, queue <-chan int, ws *workerStats, answered []int64, pending *sync.WaitGroup) {
	ws.rejected, ws.captured = map[string]int64{}, map[uint64]bool{}
	jar := s.jars[w]
	// In-flight requests are finished even when ctx ends: an abandoned
	// request may still be counted by the server, and the truth would not
	// know.
	reqCtx := context.WithoutCancel(ctx)
	for i := range queue {
		if ctx.Err() != nil {
			pending.Done()
			continue // drain: not sent
		}
		r := &p.Requests[i]
		sent := s.cfg.Now()
		var click uint64
		if r.ClickIDParam != "" && r.Events == 1 {
			click = p.events[r.first].nonce
		}
		ok, err := s.do(reqCtx, r, jar, ws, click)
		s.record(r, i, sent, ok, err, ws, answered)
		pending.Done()
	}
}

// record counts the outcome of request i, sent at sent.
func (s *Sender) record(r *Request, i int, sent time.Time, ok bool, err error, ws *workerStats, answered []int64) {
	ws.requests++
	ws.events += int64(r.Events)
	s.progress.requests.Add(1)
	s.progress.events.Add(int64(r.Events))
	switch {
	case err != nil:
		ws.errors++
		s.progress.errors.Add(1)
		// A *url.Error names the URL, which holds (fake) device
		// identifiers: log only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		s.logger.Debug("send request", "err", err, "method", r.Method)
	case ok:
		ws.ok++
		s.progress.ok.Add(1)
		answered[i] = sent.UnixNano()
	default:
		ws.failed++
		s.progress.failed.Add(1)
	}
}

// maxRetryAfter bounds one wait for the opt-out API's rate limit.
const maxRetryAfter = time.Minute

// optOut makes the opt-out call r (request i of the plan), waiting out 429
// answers until ctx ends, and reports whether the server confirmed it. It
// records the outcome in ws, answered and st.
func (s *Sender) optOut(ctx context.Context, r *Request, i int, ws *workerStats, st *Stats) bool {
	reqCtx := context.WithoutCancel(ctx)
	for {
		sent := s.cfg.Now()
		status, confirmed, retry, err := s.callOptOut(reqCtx, r)
		if status == http.StatusTooManyRequests {
			st.OptOutLimited++
			t := time.NewTimer(retry)
			select {
			case <-t.C:
				st.OptOutWait += retry
				continue
			case <-ctx.Done():
				t.Stop()
				// Not sent as far as the truth goes: the server refused it.
				s.progress.requests.Add(1)
				ws.requests++
				ws.failed++
				s.progress.failed.Add(1)
				return false
			}
		}
		ok := err == nil && confirmed
		if err == nil && !ok {
			// The status says why; the body could only repeat the
			// identifier's type.
			s.logger.Warn("the opt-out API did not confirm a call; that device's later events will count", "status", status)
		}
		s.record(r, i, sent, ok, err, ws, st.Answered)
		return ok
	}
}

// callOptOut sends the opt-out call once. It returns the status, whether
// the answer confirms the opt-out (200 with "opted_out": true) and, for a
// 429, how long to wait.
func (s *Sender) callOptOut(ctx context.Context, r *Request) (status int, confirmed bool, retry time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, s.base.String()+r.Target, bytes.NewReader(r.Body))
	if err != nil {
		return 0, false, 0, fmt.Errorf("build opt-out request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", r.UserAgent)
	if r.ClientIP != "" {
		req.Header.Set("X-Forwarded-For", r.ClientIP)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, false, 0, err
	}
	defer resp.Body.Close()
	defer func() { _, _ = io.Copy(io.Discard, resp.Body) }()
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return resp.StatusCode, false, retryAfter(resp.Header.Get("Retry-After"), s.cfg.Now()), nil
	case http.StatusOK:
		var res struct {
			OptedOut bool `json:"opted_out"`
		}
		err := json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, err == nil && res.OptedOut, 0, nil
	}
	return resp.StatusCode, false, 0, nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) into a
// wait between 10 ms and maxRetryAfter; one second when it says nothing.
func retryAfter(v string, now time.Time) time.Duration {
	d := time.Second
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 10*time.Millisecond), maxRetryAfter)
}

// do sends one request and reports whether it was answered with success.
// For a click on a campaign with a click-id parameter, it captures the id
// from the answer's Location under click.
func (s *Sender) do(ctx context.Context, r *Request, jar map[int32]string, ws *workerStats, click uint64) (bool, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	base := s.base
	if isMonitoringTarget(r.Target) {
		base = s.pixel
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, base.String(), body)
	if err != nil {
		return false, fmt.Errorf("build request: %w", err)
	}
	// Opaque puts the target on the request line exactly as the plan built
	// it: Miaozhen parameters follow the path without a '?', and a click's
	// o= value is not to be re-escaped.
	req.URL.Opaque = r.Target
	req.Header.Set("User-Agent", r.UserAgent)
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Cookies {
		if v, ok := jar[r.Device]; ok {
			req.AddCookie(&http.Cookie{Name: s.cfg.CookieName, Value: v})
		}
	}
	if r.OptOut {
		req.AddCookie(&http.Cookie{Name: s.cfg.OptOutCookieName, Value: "1"})
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if r.Cookies {
		for _, c := range resp.Cookies() {
			if c.Name == s.cfg.CookieName && c.Value != "" {
				jar[r.Device] = c.Value
			}
		}
	}
	if reason := resp.Header.Get("X-Admeter-Rejected"); reason != "" {
		ws.rejected[reason]++
	}
	if r.ClickIDParam != "" && resp.StatusCode >= 200 && resp.StatusCode < 400 {
		if id, ok := clickIDFrom(resp.Header.Get("Location"), r.ClickIDParam); ok {
			s.clickMu.Lock()
			s.clickIDs[click] = id
			s.clickMu.Unlock()
			ws.captured[click] = true
		} else {
			ws.noClickID++
		}
	}
	if r.Body != nil && resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var res struct {
			Rejected []json.RawMessage `json:"rejected"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&res); err == nil && len(res.Rejected) > 0 {
			ws.rejected["batch"] += int64(len(res.Rejected))
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode >= 200 && resp.StatusCode < 400, nil
}

// clickIDFrom returns the click id a redirect's Location carries under
// param: the last value of the parameter (the one the redirect appended,
// should the landing URL have had one already), percent-decoded. It
// reports false for no Location, one that is not a URL, or no non-empty
// value.
func clickIDFrom(location, param string) (string, bool) {
	if location == "" {
		return "", false
	}
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil {
		return "", false
	}
	vs, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// A malformed pair elsewhere in the landing URL: read the pairs
		// one by one.
		vs = url.Values{}
		for _, kv := range strings.Split(u.RawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k, err := url.QueryUnescape(k); err == nil {
				if v, err := url.QueryUnescape(v); err == nil {
					vs[k] = append(vs[k], v)
				}
			}
		}
	}
	list := vs[param]
	for i := len(list) - 1; i >= 0; i-- {
		if id := strings.TrimSpace(list[i]); id != "" {
			return id, true
		}
	}
	return "", false
}

// upload sends conversion upload r (request i of p), writing its body
// with the click ids captured so far, and records the outcome: in ws (the
// barrier worker's stats), st.Answered and the conversion counts.
func (s *Sender) upload(ctx context.Context, p *Plan, r *Request, i int, ws *workerStats, st *Stats) {
	s.clickMu.Lock()
	body, sent := conversionBody(p, p.eventsOf(i), r.NDJSON, func(k uint64) (string, bool) {
		id, ok := s.clickIDs[k]
		return id, ok
	})
	s.clickMu.Unlock()
	rows := 0
	for _, ok := range sent {
		if ok {
			rows++
		}
	}
	start := s.cfg.Now()
	if rows == 0 {
		// Nothing to send: every row named a click whose id never came.
		ws.uploads++
		s.record(r, i, start, true, nil, ws, st.Answered)
		return
	}
	ok, err := s.sendUpload(ctx, r, body, st)
	if ok {
		ws.uploads++
		st.ConversionRows += int64(rows)
	}
	s.record(r, i, start, ok, err, ws, st.Answered)
}

// sendUpload posts one conversion upload and reads the server's account of
// its rows.
func (s *Sender) sendUpload(ctx context.Context, r *Request, body []byte, st *Stats) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, s.base.String()+r.Target, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("build conversion upload: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.NDJSON {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	req.Header.Set("User-Agent", r.UserAgent)
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	if s.cfg.ConsentRef != "" {
		req.Header.Set(consentRefHeader, s.cfg.ConsentRef)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	defer func() { _, _ = io.Copy(io.Discard, resp.Body) }()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		s.logger.Warn("the conversion API refused an upload; its conversions are left out of the truth",
			"status", resp.StatusCode, "code", e.Error.Code, "message", e.Error.Message)
		return false, nil
	}
	var res struct {
		Accepted   int64             `json:"accepted"`
		Duplicates []json.RawMessage `json:"duplicates"`
		OptedOut   int64             `json:"opted_out"`
		Rejected   []struct {
			Index  int    `json:"index"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return true, nil // stored all the same; the account is lost
	}
	st.ConversionsAccepted += res.Accepted
	st.ConversionDuplicates += int64(len(res.Duplicates))
	st.ConversionsOptedOut += res.OptedOut
	st.ConversionsRejected += int64(len(res.Rejected))
	return true, nil
}

// isMonitoringTarget reports whether a request target is a monitoring URL:
// a path the collector routes as one (/x, /r, /x/…, /x.gif) with or without
// a query. It is collect.IsMonitoringPath for a whole target, written out so
// that the simulator, a client, does not depend on the collector;
// FuzzIsMonitoringTarget holds the two together.
func isMonitoringTarget(target string) bool {
	if len(target) < 2 || target[0] != '/' || (target[1] != 'x' && target[1] != 'r') {
		return false
	}
	return len(target) == 2 || strings.IndexByte("/.?", target[2]) >= 0
}
