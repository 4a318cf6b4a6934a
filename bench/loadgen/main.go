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
	"sync"
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
	host     string // host:port, loopback only
	k, p     string
	rate     float64
	duration time.Duration
	warmup   time.Duration
	conns    int
	devices  uint
	timeout  time.Duration
	seed     uint64
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of the server, e.g. http://127.0.0.1:8080 (loopback only)")
	fs.StringVar(&cfg.k, "k", "", "campaign id (k=)")
	fs.StringVar(&cfg.p, "p", "", "placement id (p=)")
	fs.Float64Var(&cfg.rate, "rate", 1000, "requests per second, constant")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to measure")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load at the same rate before measuring, not counted")
	fs.IntVar(&cfg.conns, "conns", 64, "most connections (and requests in flight) at once")
	fs.UintVar(&cfg.devices, "devices", 100000, "size of the synthetic device population")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "give up on a request after this long (counted as an error)")
	fs.Uint64Var(&cfg.seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, err := loopbackHost(*target)
	if err != nil {
		return err
	}
	cfg.host = host
	switch {
	case cfg.k == "" || cfg.p == "":
		return errors.New("--k and --p are required")
	case cfg.rate <= 0 || cfg.rate > 1e6:
		return fmt.Errorf("--rate must be in (0, 1e6], not %g", cfg.rate)
	case cfg.duration <= 0 || cfg.duration > time.Hour || cfg.warmup < 0:
		return errors.New("--duration must be in (0, 1h] and --warmup not negative")
	case cfg.conns < 1 || cfg.conns > 10000:
		return fmt.Errorf("--conns must be in [1, 10000], not %d", cfg.conns)
	case cfg.devices < 1 || cfg.devices > 1<<31:
		return fmt.Errorf("--devices must be in [1, 2^31], not %d", cfg.devices)
	}
	if n := cfg.rate * cfg.duration.Seconds(); n > 50e6 {
		return fmt.Errorf("--rate × --duration is %.0f requests; keep it under 50 million", n)
	}

	r := load(ctx, cfg)
	r.print(out, cfg)
	return nil
}

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
	firstErr  error
}

// workerResult is one worker's share of a result.
type workerResult struct {
	latencies []time.Duration
	ok        int
	non2xx    int
	errors    int
	firstErr  error
}

// load runs the schedule: request i is due at start + i/rate. A scheduler
// queues each request when it is due, with its due time; cfg.conns workers,
// each with one keep-alive connection, send them. Latency is measured from
// the due time, so time spent waiting for a free connection counts.
func load(ctx context.Context, cfg config) result {
	total := cfg.warmup + cfg.duration
	// Hard deadline: the schedule, then at most two timeouts to drain.
	ctx, cancel := context.WithTimeout(ctx, total+2*cfg.timeout+time.Second)
	defer cancel()

	n := int(cfg.rate * total.Seconds())
	interval := float64(time.Second) / cfg.rate
	queue := make(chan time.Time, max(1024, int(cfg.rate)))
	start := time.Now().Add(10 * time.Millisecond)
	measureFrom := start.Add(cfg.warmup)

	parts := make([]workerResult, cfg.conns)
	var wg sync.WaitGroup
	for i := range cfg.conns {
		wg.Go(func() {
			w := worker{cfg: cfg, gen: newURLGen(cfg.k, cfg.p, uint32(cfg.devices), cfg.seed+uint64(i))}
			parts[i] = w.work(ctx, queue, measureFrom)
			w.close()
		})
	}

	var r result
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
	wg.Wait()
	for due := range queue {
		if !due.Before(measureFrom) {
			r.unsent++
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
	return r
}

// worker sends requests over one keep-alive connection, redialling after an
// error or a "Connection: close".
type worker struct {
	cfg  config
	gen  *urlGen
	conn net.Conn
	br   *bufio.Reader
	buf  []byte
}

func (w *worker) work(ctx context.Context, queue <-chan time.Time, measureFrom time.Time) workerResult {
	var r workerResult
	for {
		var due time.Time
		select {
		case d, ok := <-queue:
			if !ok {
				return r
			}
			due = d
		case <-ctx.Done():
			return r
		}
		status, err := w.do(ctx, due)
		lat := time.Since(due)
		if due.Before(measureFrom) {
			continue
		}
		switch {
		case err != nil:
			r.errors++
			if r.firstErr == nil {
				r.firstErr = err
			}
		case status/100 == 2:
			r.ok++
			r.latencies = append(r.latencies, lat)
		default:
			r.non2xx++
			if r.firstErr == nil {
				r.firstErr = fmt.Errorf("HTTP status %d", status)
			}
		}
	}
}

// do sends one request and reads its answer.
func (w *worker) do(ctx context.Context, now time.Time) (status int, err error) {
	if w.conn == nil {
		d := net.Dialer{Timeout: w.cfg.timeout}
		if w.conn, err = d.DialContext(ctx, "tcp", w.cfg.host); err != nil {
			w.conn = nil
			return 0, fmt.Errorf("dial %s: %w", w.cfg.host, err)
		}
		w.br = bufio.NewReaderSize(w.conn, 4096)
	}
	target, ua := w.gen.next(now)
	w.buf = append(w.buf[:0], "GET "...)
	w.buf = append(w.buf, target...)
	w.buf = append(w.buf, " HTTP/1.1\r\nHost: "...)
	w.buf = append(w.buf, w.cfg.host...)
	w.buf = append(w.buf, "\r\nUser-Agent: "...)
	w.buf = append(w.buf, ua...)
	w.buf = append(w.buf, "\r\nAccept: */*\r\n\r\n"...)

	_ = w.conn.SetDeadline(time.Now().Add(w.cfg.timeout))
	if _, err = w.conn.Write(w.buf); err != nil {
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
	fmt.Fprintf(out, "loadgen: %s rate %.0f/s for %s (after %s warm-up), %d connections, %d devices\n",
		cfg.host, cfg.rate, cfg.duration, cfg.warmup, cfg.conns, cfg.devices)
	fmt.Fprintf(out, "  requests %d: ok %d, non-2xx %d, errors %d, unsent %d; answered %.1f/s\n",
		n, r.ok, r.non2xx, r.errors, r.unsent, achieved)
	fmt.Fprintf(out, "  latency from intended send time (2xx): p50 %sms p90 %sms p99 %sms p99.9 %sms max %sms\n",
		ms(quantile(l, .5)), ms(quantile(l, .9)), ms(quantile(l, .99)), ms(quantile(l, .999)), ms(quantile(l, 1)))
	if r.firstErr != nil {
		fmt.Fprintf(out, "  first problem: %v\n", r.firstErr)
	}
	fmt.Fprintf(out, "RESULT rate=%.0f requests=%d ok=%d non2xx=%d errors=%d unsent=%d achieved=%.1f p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s\n",
		cfg.rate, n, r.ok, r.non2xx, r.errors, r.unsent, achieved,
		ms(quantile(l, .5)), ms(quantile(l, .9)), ms(quantile(l, .99)), ms(quantile(l, .999)), ms(quantile(l, 1)))
}
