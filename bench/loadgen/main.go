package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// config is what one run does.
type config struct {
	host     string  // host:port, loopback only
	rate     float64 // requests per second; 0: closed loop, as fast as answered
	duration time.Duration
	warmup   time.Duration
	conns    int
	timeout  time.Duration
	// serverPID, when positive, is the server's process id: its CPU time
	// during the measured window is reported (Linux /proc).
	serverPID int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of the server, e.g. http://127.0.0.1:8080 (loopback only)")
	campaignFile := fs.String("campaign", "", "file holding the campaign as the campaign API returns it (JSON with placements and their monitoring URL templates)")
	fs.Float64Var(&cfg.rate, "rate", 1000, "requests per second, constant (open loop); 0 sends as fast as the server answers (closed loop, --conns in flight)")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to measure")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	fs.IntVar(&cfg.conns, "conns", 64, "most connections (and requests in flight) at once")
	devices := fs.Int("devices", 0, "size of the simulated device population (0: derived from --requests, about 3 ad views each)")
	requests := fs.Int("requests", 0, "requests to generate before the run (0: rate × (warmup + duration) and 5% more; required with --rate 0)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "give up on a request after this long (counted as an error)")
	seed := fs.Int64("seed", 1, "simulator seed: the same seed, campaign and start time give the same traffic")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "report this process's CPU time (user + system clock ticks, Linux) during the measured window")
	dump := fs.String("dump-urls", "", "write the generated request targets to this file, one a line, and exit without sending")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, err := loopbackHost(*target)
	if err != nil {
		return err
	}
	cfg.host = host
	switch {
	case *campaignFile == "":
		return errors.New("--campaign is required")
	case !(cfg.rate >= 0 && cfg.rate <= 1e6):
		return fmt.Errorf("--rate must be in [0, 1e6], not %g", cfg.rate)
	case cfg.duration <= 0 || cfg.duration > time.Hour || cfg.warmup < 0:
		return errors.New("--duration must be in (0, 1h] and --warmup not negative")
	case cfg.conns < 1 || cfg.conns > 10000:
		return fmt.Errorf("--conns must be in [1, 10000], not %d", cfg.conns)
	case *devices < 0 || *devices > maxRequests:
		return fmt.Errorf("--devices must be in [0, %d], not %d", maxRequests, *devices)
	case *requests < 0 || *requests > maxRequests:
		return fmt.Errorf("--requests must be in [0, %d], not %d", maxRequests, *requests)
	case *requests == 0 && cfg.rate == 0:
		return errors.New("--requests is required with --rate 0: size it for the most the server can answer in --warmup + --duration")
	}
	n := *requests
	if n == 0 {
		f := cfg.rate * (cfg.warmup + cfg.duration).Seconds() * 1.05
		if f > maxRequests {
			return fmt.Errorf("--rate × (--warmup + --duration) is %.0f requests; keep it under %d", f, maxRequests)
		}
		n = max(1, int(f))
	}
	cp, err := readCampaign(*campaignFile)
	if err != nil {
		return err
	}

	began := time.Now()
	tcfg := trafficConfig(cp, n, *devices, *seed, began)
	p, err := buildPool(tcfg, n, host)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loadgen: generated %d requests (%d clicks; %d batch requests left out) for %d devices in %s\n",
		p.len(), p.clicks, p.skipped, tcfg.Devices, time.Since(began).Round(time.Millisecond))
	if *dump != "" {
		return dumpTargets(*dump, p)
	}
	r := load(ctx, cfg, p)
	r.print(out, cfg)
	return nil
}

// maxRequests bounds the pool: about 700 bytes a request in memory.
const maxRequests = 20_000_000

// loopbackHost returns host:port of a http:// base URL on a loopback address.
func loopbackHost(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("--target must be a base URL such as http://127.0.0.1:8080, not %q", target)
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !a.IsLoopback() || u.Port() == "" {
		return "", fmt.Errorf("--target must be a loopback address with a port, such as http://127.0.0.1:8080, not %q", target)
	}
	return u.Host, nil
}

// result is what a run measured. Only requests scheduled after the warm-up
// count.
type result struct {
	latencies []time.Duration // of 2xx answers, sorted
	ok        int
	non2xx    int
	errors    int
	unsent    int // still queued when the run's hard deadline passed
	repeated  int // sent after the pool ran out and started again
	// serverTicks is the server's CPU time in the measured window, in
	// clock ticks, or -1 when not measured.
	serverTicks int64
	firstErr    error
}

// workerResult is one worker's share of a result.
type workerResult struct {
	latencies []time.Duration
	ok        int
	non2xx    int
	errors    int
	firstErr  error
}

// load runs the pool against the server with cfg.conns workers, each with
// one keep-alive connection, taking the pool's requests in order.
//
// Open loop (cfg.rate > 0): request i is due at start + i/rate. A scheduler
// queues each request when it is due, with its due time, and latency is
// measured from the due time, so time spent waiting for a free connection
// counts.
//
// Closed loop (cfg.rate = 0): each worker sends its next request as soon as
// it has the answer to the last, until warm-up + duration have passed;
// latency is measured from the moment the request is written.
func load(ctx context.Context, cfg config, p *pool) result {
	total := cfg.warmup + cfg.duration
	// Hard deadline: the run, then at most two timeouts to drain.
	ctx, cancel := context.WithTimeout(ctx, total+2*cfg.timeout+time.Second)
	defer cancel()

	start := time.Now().Add(10 * time.Millisecond)
	measureFrom := start.Add(cfg.warmup)
	stopAt := start.Add(total)
	var next atomic.Int64 // the pool's next request
	var queue chan time.Time
	if cfg.rate > 0 {
		queue = make(chan time.Time, max(1024, int(cfg.rate)))
	}

	var wg sync.WaitGroup
	ticks := int64(-1)
	if cfg.serverPID > 0 {
		wg.Go(func() { ticks = serverTicks(ctx, cfg.serverPID, measureFrom, stopAt) })
	}
	parts := make([]workerResult, cfg.conns)
	for i := range cfg.conns {
		wg.Go(func() {
			w := worker{cfg: cfg, pool: p, next: &next}
			if queue != nil {
				parts[i] = w.open(ctx, queue, measureFrom)
			} else {
				parts[i] = w.closed(ctx, start, measureFrom, stopAt)
			}
			w.close()
		})
	}

	var r result
	if queue != nil {
		n := int(cfg.rate * total.Seconds())
		interval := float64(time.Second) / cfg.rate
	schedule:
		for i := range n {
			due := start.Add(time.Duration(float64(i) * interval))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					break schedule
				}
			}
			select {
			case queue <- due:
			case <-ctx.Done():
				break schedule
			}
		}
		close(queue)
	}
	wg.Wait()
	if queue != nil {
		for due := range queue {
			if !due.Before(measureFrom) {
				r.unsent++
			}
		}
	}

	lats := make([][]time.Duration, len(parts))
	for i, p := range parts {
		lats[i] = p.latencies
		r.ok += p.ok
		r.non2xx += p.non2xx
		r.errors += p.errors
		if r.firstErr == nil {
			r.firstErr = p.firstErr
		}
	}
	r.latencies = merge(lats)
	r.repeated = max(0, int(next.Load())-p.len())
	r.serverTicks = ticks
	return r
}

// worker sends requests over one keep-alive connection, redialling after an
// error or a "Connection: close".
type worker struct {
	cfg  config
	pool *pool
	next *atomic.Int64
	conn net.Conn
	br   *bufio.Reader
	r    workerResult
}

// open sends the requests the scheduler queues, charging each its wait.
func (w *worker) open(ctx context.Context, queue <-chan time.Time, measureFrom time.Time) workerResult {
	for {
		var due time.Time
		select {
		case d, ok := <-queue:
			if !ok {
				return w.r
			}
			due = d
		case <-ctx.Done():
			return w.r
		}
		status, err := w.do(ctx)
		if !due.Before(measureFrom) {
			w.count(status, err, time.Since(due))
		}
	}
}

// closed sends requests back to back from start until stopAt.
func (w *worker) closed(ctx context.Context, start, measureFrom, stopAt time.Time) workerResult {
	if d := time.Until(start); d > 0 {
		time.Sleep(d)
	}
	for ctx.Err() == nil {
		sent := time.Now()
		if !sent.Before(stopAt) {
			break
		}
		status, err := w.do(ctx)
		if !sent.Before(measureFrom) {
			w.count(status, err, time.Since(sent))
		}
	}
	return w.r
}

// count adds one measured request to the worker's result. A redirect is a
// success: a click is answered 302 to the landing page.
func (w *worker) count(status int, err error, lat time.Duration) {
	r := &w.r
	switch {
	case err != nil:
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
	case status >= 200 && status < 400:
		r.ok++
		r.latencies = append(r.latencies, lat)
	default:
		r.non2xx++
		if r.firstErr == nil {
			r.firstErr = fmt.Errorf("HTTP status %d", status)
		}
	}
}

// do sends the pool's next request and reads its answer.
func (w *worker) do(ctx context.Context) (status int, err error) {
	if w.conn == nil {
		d := net.Dialer{Timeout: w.cfg.timeout}
		if w.conn, err = d.DialContext(ctx, "tcp", w.cfg.host); err != nil {
			w.conn = nil
			return 0, fmt.Errorf("dial %s: %w", w.cfg.host, err)
		}
		w.br = bufio.NewReaderSize(w.conn, 4096)
	}
	req := w.pool.request(int(w.next.Add(1) - 1))
	_ = w.conn.SetDeadline(time.Now().Add(w.cfg.timeout))
	if _, err = w.conn.Write(req); err != nil {
		w.close()
		return 0, fmt.Errorf("send request: %w", err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.close()
		return 0, fmt.Errorf("read response: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		w.close()
		return 0, fmt.Errorf("read response body: %w", err)
	}
	if resp.Close {
		w.close()
	}
	return resp.StatusCode, nil
}

func (w *worker) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn, w.br = nil, nil
	}
}

// print writes the human summary and the RESULT line.
func (r result) print(out io.Writer, cfg config) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	n := r.ok + r.non2xx + r.errors
	achieved := float64(r.ok+r.non2xx) / cfg.duration.Seconds()
	l := r.latencies
	mode, from := fmt.Sprintf("open loop at %.0f/s", cfg.rate), "intended send time"
	if cfg.rate == 0 {
		mode, from = "closed loop", "send time"
	}
	fmt.Fprintf(out, "loadgen: %s %s for %s (after %s warm-up), %d connections\n",
		cfg.host, mode, cfg.duration, cfg.warmup, cfg.conns)
	fmt.Fprintf(out, "  requests %d: ok %d, non-2xx/3xx %d, errors %d, unsent %d; answered %.1f/s\n",
		n, r.ok, r.non2xx, r.errors, r.unsent, achieved)
	fmt.Fprintf(out, "  latency from %s (2xx/3xx): p50 %sms p90 %sms p99 %sms p99.9 %sms max %sms\n",
		from, ms(quantile(l, .5)), ms(quantile(l, .9)), ms(quantile(l, .99)), ms(quantile(l, .999)), ms(quantile(l, 1)))
	if r.repeated > 0 {
		fmt.Fprintf(out, "  WARNING: the pool ran out: %d requests were sent a second time (the collector drops repeated impression ids as duplicates); raise --requests\n", r.repeated)
	}
	if r.firstErr != nil {
		fmt.Fprintf(out, "  first problem: %v\n", r.firstErr)
	}
	cpu := "-"
	if r.serverTicks >= 0 {
		cpu = strconv.FormatInt(r.serverTicks, 10)
	}
	fmt.Fprintf(out, "RESULT rate=%.0f requests=%d ok=%d non2xx=%d errors=%d unsent=%d repeated=%d achieved=%.1f p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s server_ticks=%s\n",
		cfg.rate, n, r.ok, r.non2xx, r.errors, r.unsent, r.repeated, achieved,
		ms(quantile(l, .5)), ms(quantile(l, .9)), ms(quantile(l, .99)), ms(quantile(l, .999)), ms(quantile(l, 1)), cpu)
}

// dumpTargets writes the pool's request targets and User-Agents, one
// request a line: the target, a tab, the User-Agent.
func dumpTargets(path string, p *pool) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create url file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close url file: %w", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	for i := range p.len() {
		target, ua := p.fields(i)
		_, _ = bw.WriteString(target)
		_ = bw.WriteByte('\t')
		_, _ = bw.WriteString(ua)
		_ = bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write url file: %w", err)
	}
	return nil
}
