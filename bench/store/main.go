package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	duck "github.com/duckdb/duckdb-go/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

// config is what one run does.
type config struct {
	file     string
	events   int
	batch    int
	runs     int
	progress time.Duration
	pool     poolConfig
	// memProfile, if set, is where the Go heap profile is written after
	// the load.
	memProfile string
	phases     phases
}

// phases are the phases a run measures.
type phases struct {
	load, cluster, report, rollup, reach bool
}

// allPhases are the phases, in the order they run.
const allPhases = "load,cluster,report,rollup,reach"

// parsePhases parses a comma-separated list of phases of allPhases.
func parsePhases(s string) (phases, error) {
	var p phases
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "load":
			p.load = true
		case "cluster":
			p.cluster = true
		case "report":
			p.report = true
		case "rollup":
			p.rollup = true
		case "reach":
			p.reach = true
		default:
			return phases{}, fmt.Errorf("unknown phase %q in --phases %q: use some of %s", name, s, allPhases)
		}
	}
	return p, nil
}

// Targets of issue 3.
const (
	targetRatio = 1.2
	targetDaily = 50 * time.Millisecond
	targetRSS   = 2 << 30
)

// benchStart is the first local day of the simulated traffic.
var benchStart = time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai())

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600) // no DST in China since 1991
	}
	return loc
}

func run(ctx context.Context, args []string, out io.Writer) error {
	cfg := config{pool: poolConfig{Start: benchStart, Days: 30, BigShare: 0.3}}
	fs := flag.NewFlagSet("storebench", flag.ContinueOnError)
	fs.StringVar(&cfg.file, "file", "", "DuckDB store file to build or reuse (required)")
	fs.IntVar(&cfg.events, "events", 100_000_000, "events in the store")
	fs.IntVar(&cfg.batch, "batch", 100_000, "events per Insert")
	fs.IntVar(&cfg.runs, "runs", 7, "rounds: measured runs of each query, each after a fresh open and one warm-up")
	fs.DurationVar(&cfg.progress, "progress", 5*time.Second, "interval of the load's progress lines")
	fs.IntVar(&cfg.pool.Events, "pool", 500_000, "simulated events, replicated to reach --events")
	fs.IntVar(&cfg.pool.Campaigns, "campaigns", 10, "simulated campaigns (one large)")
	fs.Int64Var(&cfg.pool.Seed, "seed", 1, "simulator seed")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write a Go heap profile to this file after the load")
	phaseList := fs.String("phases", allPhases, "phases to run, comma-separated; without load the file must already hold --events events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.phases, err = parsePhases(*phaseList); err != nil {
		return err
	}
	switch {
	case cfg.file == "":
		return errors.New("--file is required")
	case cfg.events <= 0 || cfg.batch <= 0 || cfg.runs <= 0 || cfg.pool.Events <= 0 || cfg.pool.Campaigns <= 0:
		return errors.New("--events, --batch, --runs, --pool and --campaigns must be positive")
	}
	fmt.Fprintf(out, "storebench: %d events in %s, %d CPUs, GOMAXPROCS %d, %s\n", cfg.events, cfg.file, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	var res results
	if cfg.phases.load {
		err = load(ctx, cfg, out, &res)
	} else {
		err = checkLoaded(ctx, cfg)
	}
	if err != nil {
		return err
	}
	if cfg.phases.cluster {
		if err := cluster(ctx, cfg, out, &res); err != nil {
			return err
		}
	}
	if cfg.phases.report {
		if err := measureReports(ctx, cfg, out, &res); err != nil {
			return err
		}
	}
	if cfg.phases.rollup {
		if err := measureRollups(ctx, cfg, out, &res); err != nil {
			return err
		}
	}
	if cfg.phases.reach {
		if err := measureReach(ctx, cfg, out, &res.reach); err != nil {
			return err
		}
	}
	if st, err := os.Stat(cfg.file); err == nil {
		res.fileSize = st.Size()
	}
	if cfg.phases.load || cfg.phases.cluster || cfg.phases.report || cfg.phases.rollup {
		res.print(out, cfg)
	}
	if cfg.phases.reach {
		res.reach.print(out, cfg)
	}
	return nil
}

// checkLoaded checks that the store file holds cfg.events events, for a
// run without the load phase.
func checkLoaded(ctx context.Context, cfg config) error {
	if _, err := os.Stat(cfg.file); err != nil {
		return fmt.Errorf("without the load phase the store file must exist: %w", err)
	}
	db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	have, err := db.Offset(ctx)
	if err != nil {
		return err
	}
	if have < uint64(cfg.events) {
		return fmt.Errorf("the store holds %d events, fewer than --events %d: add the load phase to --phases", have, cfg.events)
	}
	return db.Close()
}

// results are the measurements of a run.
type results struct {
	loaded         int64 // events inserted by this run (0: reused)
	loadTime       time.Duration
	poolTime       time.Duration
	poolEvents     int
	loadHWM        int64 // bytes; 0 when nothing was loaded
	fileSize       int64
	clustered      duckdb.ClusterResult
	clusterTime    time.Duration
	clusterHWM     int64
	reportEvts     int64 // the campaign's events in the range (impressions + clicks)
	report         []time.Duration
	frequency      []time.Duration
	both           []time.Duration
	refresh        time.Duration
	daily          []time.Duration
	dailyRows      int
	reportHWM      int64
	direct         []time.Duration // report + frequency, DuckDB defaults
	directStore    []time.Duration // report + frequency, the store's settings
	directHWM      int64
	directStoreHWM int64
	storeTotal     store.Counts
	storeFreq      *store.FrequencyResult
	reach          reachResults
}

// pseudonymizer returns a pseudonymizer under a fixed benchmark key.
func pseudonymizer() (*pseudo.Pseudonymizer, error) {
	return pseudo.New(pseudo.Key{Version: 1, Secret: []byte("admeter storebench fixed key, not a secret")})
}

// load fills the store up to cfg.events events, resuming from its offset:
// event i of the store is copy i/len(pool) of pool[i%len(pool)].
func load(ctx context.Context, cfg config, out io.Writer, res *results) error {
	db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	have, err := db.Offset(ctx)
	if err != nil {
		return err
	}
	if have >= uint64(cfg.events) {
		fmt.Fprintf(out, "load: the store already holds %d events (≥ %d): reusing it\n", have, cfg.events)
		return db.Close()
	}
	resetHWM()
	start := time.Now()
	ps, err := pseudonymizer()
	if err != nil {
		return err
	}
	pool, err := buildPool(cfg.pool, ps)
	if err != nil {
		return err
	}
	res.poolTime, res.poolEvents = time.Since(start), len(pool)
	fmt.Fprintf(out, "load: simulated %d events in %s; inserting %d more from offset %d\n", len(pool), res.poolTime.Round(time.Millisecond), uint64(cfg.events)-have, have)

	buf := make([]admeter.Event, cfg.batch)
	loadStart := time.Now()
	last, lastN := loadStart, have
	for next := have; next < uint64(cfg.events); {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uint64(cfg.batch), uint64(cfg.events)-next)
		for i := range n {
			replicate(&buf[i], pool, next+i)
		}
		if err := db.Insert(ctx, buf[:n], next+n); err != nil {
			return err
		}
		next += n
		res.loaded += int64(n)
		if now := time.Now(); now.Sub(last) >= cfg.progress || next == uint64(cfg.events) {
			rss, hwm := memStatus()
			heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
			metrics.Read(heap)
			fmt.Fprintf(out, "load: %11d / %d events  %7.0f events/s (last %7.0f)  RSS %5d MiB (Go heap %4d MiB, live %4d MiB)  peak %5d MiB  %s\n",
				next, cfg.events, float64(next-have)/now.Sub(loadStart).Seconds(), float64(next-lastN)/now.Sub(last).Seconds(),
				rss>>20, heap[0].Value.Uint64()>>20, heap[1].Value.Uint64()>>20, hwm>>20, now.Sub(loadStart).Round(time.Second))
			last, lastN = now, next
		}
	}
	if cfg.memProfile != "" {
		if err := writeHeapProfile(cfg.memProfile); err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	res.loadTime = time.Since(loadStart)
	_, res.loadHWM = memStatus()
	return nil
}

// replicate sets *dst to store event i: pool[i%len(pool)] with, for copy
// c = i/len(pool) > 0, its user and impression pseudonyms XORed with a
// mask of c (a bijection, so each copy has its own users and the same
// frequency shape) and its times moved by c·37 s modulo 10 minutes, so the
// copies are spread over the same days and do not repeat timestamps.
func replicate(dst *admeter.Event, pool []admeter.Event, i uint64) {
	p := uint64(len(pool))
	c := i / p
	*dst = pool[i%p]
	if c == 0 {
		return
	}
	var mask admeter.Pseudonym
	h1, h2 := mix64(c), mix64(c^0x9e3779b97f4a7c15)
	for k := range 8 {
		mask[k], mask[8+k] = byte(h1>>(8*k)), byte(h2>>(8*k))
	}
	if dst.User != (admeter.Pseudonym{}) {
		for k := range dst.User {
			dst.User[k] ^= mask[k]
		}
	}
	if dst.ImpressionID != (admeter.Pseudonym{}) {
		for k := range dst.ImpressionID {
			dst.ImpressionID[k] ^= bits.RotateLeft8(mask[k], 3)
		}
	}
	shift := time.Duration(c*37%600) * time.Second
	dst.At, dst.Received = dst.At.Add(shift), dst.Received.Add(shift)
}

// mix64 is SplitMix64's finaliser.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// reportRange is the 30 local days of the large campaign's report.
func reportRange(cfg config) (from, to time.Time) {
	return cfg.pool.Start, cfg.pool.Start.AddDate(0, 0, cfg.pool.Days)
}

// A contender runs the report and frequency once; open prepares it (and
// returns how to close it), run measures one report and frequency.
type contender struct {
	name string
	open func(ctx context.Context) (run func(ctx context.Context) (report, frequency time.Duration, err error), close func() error, err error)
	both *[]time.Duration // report + frequency of each measured run
	hwm  *int64           // the peak RSS of its turns
}

// measureReports times the large campaign's Report (totals) and Frequency
// through the store's Go API against the same SQL run directly in DuckDB,
// with DuckDB's defaults and with the store's settings. Each round gives
// every contender a turn in a rotating order: open the file afresh, one
// warm-up, one measured run, close. So each sees the same state (a warm OS
// page cache, its own warm buffer pool) and a busy machine slows all alike.
func measureReports(ctx context.Context, cfg config, out io.Writer, res *results) error {
	from, to := reportRange(cfg)
	loc := from.Location()
	rq := store.ReportQuery{Tenant: benchTenant, Campaign: benchCampaign, From: from, To: to, Location: loc}
	fq := store.FrequencyQuery{Tenant: benchTenant, Campaign: benchCampaign, From: from, To: to, Location: loc}
	storeAPI := contender{name: "store Go API", both: &res.both, hwm: &res.reportHWM}
	storeAPI.open = func(ctx context.Context) (func(context.Context) (time.Duration, time.Duration, error), func() error, error) {
		db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
		if err != nil {
			return nil, nil, err
		}
		run := func(ctx context.Context) (time.Duration, time.Duration, error) {
			t0 := time.Now()
			rep, err := db.Report(ctx, rq)
			if err != nil {
				return 0, 0, err
			}
			t1 := time.Now()
			freq, err := db.Frequency(ctx, fq)
			if err != nil {
				return 0, 0, err
			}
			t2 := time.Now()
			res.storeTotal, res.storeFreq = rep.Total, freq
			res.reportEvts = rep.Total.Impressions + rep.Total.Clicks
			return t1.Sub(t0), t2.Sub(t1), nil
		}
		return run, db.Close, nil
	}
	contenders := []contender{
		storeAPI,
		directContender(cfg, "direct, DuckDB defaults", nil, &res.direct, &res.directHWM, res),
		directContender(cfg, "direct, store's settings", storeSettings(), &res.directStore, &res.directStoreHWM, res),
	}
	for round := range cfg.runs {
		for k := range contenders {
			c := &contenders[(round+k)%len(contenders)]
			releaseMemory()
			resetHWM()
			run, closeFn, err := c.open(ctx)
			if err != nil {
				return err
			}
			var times [2][2]time.Duration
			for i := range times {
				if times[i][0], times[i][1], err = run(ctx); err != nil {
					closeFn()
					return err
				}
			}
			if err := closeFn(); err != nil {
				return err
			}
			_, hwm := memStatus()
			*c.hwm = max(*c.hwm, hwm)
			*c.both = append(*c.both, times[1][0]+times[1][1])
			if c.both == &res.both {
				res.report = append(res.report, times[1][0])
				res.frequency = append(res.frequency, times[1][1])
			}
			fmt.Fprintf(out, "round %d, %-24s warm-up %6s + %6s, measured: report %6s  frequency %6s  peak RSS %d MiB\n", round+1, c.name+":",
				times[0][0].Round(time.Millisecond), times[0][1].Round(time.Millisecond),
				times[1][0].Round(time.Millisecond), times[1][1].Round(time.Millisecond), hwm>>20)
		}
	}
	return nil
}

// directContender returns a contender that runs the store's SQL on a plain
// DuckDB connection to the file, after the setup statements, and checks
// that it gives the store's answers (measured before it in round 1).
func directContender(cfg config, name string, setup []string, both *[]time.Duration, hwm *int64, res *results) contender {
	c := contender{name: name, both: both, hwm: hwm}
	c.open = func(ctx context.Context) (func(context.Context) (time.Duration, time.Duration, error), func() error, error) {
		connector, err := duck.NewConnector(cfg.file, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("open DuckDB: %w", err)
		}
		sqldb := sql.OpenDB(connector)
		conn, err := sqldb.Conn(ctx)
		if err != nil {
			sqldb.Close()
			return nil, nil, fmt.Errorf("open DuckDB: %w", err)
		}
		closeFn := func() error {
			return errors.Join(conn.Close(), sqldb.Close())
		}
		for _, s := range setup {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				closeFn()
				return nil, nil, fmt.Errorf("configure DuckDB: %w", err)
			}
		}
		from, to := reportRange(cfg)
		q, err := buildDirectSQL(ctx, conn, benchTenant, benchCampaign, from, to, from.Location())
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		run := func(ctx context.Context) (time.Duration, time.Duration, error) {
			var r directResult
			t0 := time.Now()
			if err := runReport(ctx, conn, q.report, &r); err != nil {
				return 0, 0, err
			}
			t1 := time.Now()
			if err := runFrequency(ctx, conn, q.frequency, &r); err != nil {
				return 0, 0, err
			}
			t2 := time.Now()
			if f := res.storeFreq; f != nil && (r.total != res.storeTotal || r.reach != f.Reach || r.imps != f.Impressions || r.distribution != f.Distribution) {
				return 0, 0, fmt.Errorf("direct SQL (%s) disagrees with the store: totals %+v against %+v, reach %d against %d: bench/store/sql.go no longer matches store/duckdb/query.go",
					name, r.total, res.storeTotal, r.reach, f.Reach)
			}
			return t1.Sub(t0), t2.Sub(t1), nil
		}
		return run, closeFn, nil
	}
	return c
}

// cluster runs the store's Cluster over every day of the file, as serve
// does for the days that have ended (a file clustered before has nothing
// left to do).
func cluster(ctx context.Context, cfg config, out io.Writer, res *results) error {
	releaseMemory()
	resetHWM()
	db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	res.clustered, err = db.Cluster(ctx, time.Now().AddDate(100, 0, 0))
	res.clusterTime = time.Since(start)
	if err := errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	_, res.clusterHWM = memStatus()
	fmt.Fprintf(out, "cluster: %d partitions, %d events in %s\n", res.clustered.Partitions, res.clustered.Rows, res.clusterTime.Round(time.Millisecond))
	return nil
}

// measureRollups times RefreshRollups of the large campaign's 30 days, then
// Daily over them, through the store's Go API.
func measureRollups(ctx context.Context, cfg config, out io.Writer, res *results) error {
	releaseMemory()
	resetHWM()
	db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	from, to := reportRange(cfg)
	first, last := store.DateOf(from), store.DateOf(to.Add(-time.Nanosecond))
	var days []store.Date
	for d := first; !last.Before(d); d = d.AddDays(1) {
		days = append(days, d)
	}
	t0 := time.Now()
	if err := db.RefreshRollups(ctx, benchTenant, benchCampaign, from.Location(), days); err != nil {
		return err
	}
	res.refresh = time.Since(t0)
	fmt.Fprintf(out, "rollups: RefreshRollups of %d days %s\n", len(days), res.refresh.Round(time.Millisecond))
	dq := store.DailyQuery{Tenant: benchTenant, Campaign: benchCampaign, From: first, To: last}
	for i := range cfg.runs + 1 {
		t0 := time.Now()
		rows, err := db.Daily(ctx, dq)
		if err != nil {
			return err
		}
		d := time.Since(t0)
		res.dailyRows = len(rows)
		name := "warm-up"
		if i > 0 {
			name = fmt.Sprintf("run %d", i)
			res.daily = append(res.daily, d)
		}
		fmt.Fprintf(out, "rollups: daily %s %s (%d rows)\n", name, d.Round(10*time.Microsecond), len(rows))
	}
	if err := db.Close(); err != nil {
		return err
	}
	_, hwm := memStatus()
	res.reportHWM = max(res.reportHWM, hwm)
	return nil
}

// median returns the median of ds (the mean of the middle two for an even
// count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// roundRatio returns the median over rounds of a[i]/b[i]: each round's
// turns run minutes apart at most, so their ratio is less affected by a
// machine whose load drifts than the ratio of the medians.
func roundRatio(a, b []time.Duration) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			rs = append(rs, float64(a[i])/float64(b[i]))
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

// print writes the results table (Markdown) of the load, report and rollup
// phases that ran, and their targets.
func (r *results) print(out io.Writer, cfg config) {
	from, to := reportRange(cfg)
	rep, freq, both, direct, directStore, daily := median(r.report), median(r.frequency), median(r.both), median(r.direct), median(r.directStore), median(r.daily)
	ratio, ratioStore := roundRatio(r.both, r.direct), roundRatio(r.both, r.directStore)
	fmt.Fprintf(out, "\n## Store benchmark: %d events, campaign %q, %s – %s (Asia/Shanghai)\n\n", cfg.events, benchCampaign,
		from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	fmt.Fprintf(out, "Command: `%s`  \n", commandLine())
	fmt.Fprintf(out, "Machine: %d CPUs, Go %s, %s/%s; medians of %d rounds; each round opens the file afresh for each contender, one warm-up, one measured run.\n\n", runtime.NumCPU(), strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, cfg.runs)
	fmt.Fprintln(out, "| measure | value | target | verdict |")
	fmt.Fprintln(out, "|---|---|---|---|")
	switch {
	case r.loaded > 0:
		fmt.Fprintf(out, "| load: %d events (pool of %d simulated in %s) | %s, %.0f events/s | | |\n", r.loaded, r.poolEvents,
			r.poolTime.Round(time.Second), r.loadTime.Round(time.Second), float64(r.loaded)/r.loadTime.Seconds())
		fmt.Fprintf(out, "| peak RSS during load | %s | < 2048 MiB | %s |\n", mib(r.loadHWM), verdict(r.loadHWM < targetRSS))
	case cfg.phases.load:
		fmt.Fprintln(out, "| load | reused an existing file | | |")
		fmt.Fprintln(out, "| peak RSS during load | not measured (file reused) | < 2048 MiB | – |")
	}
	fmt.Fprintf(out, "| store file size | %s (%.1f bytes/event) | | |\n", mib(r.fileSize), float64(r.fileSize)/float64(cfg.events))
	if cfg.phases.cluster {
		fmt.Fprintf(out, "| Cluster: %d day partitions rewritten in campaign order, %d events | %s; peak RSS %s | | |\n",
			r.clustered.Partitions, r.clustered.Rows, r.clusterTime.Round(time.Second), mib(r.clusterHWM))
	}
	if cfg.phases.report {
		fmt.Fprintf(out, "| campaign events in range (impressions + clicks, deduplicated) | %d; reach %d | | |\n", r.reportEvts, r.storeFreq.Reach)
		fmt.Fprintf(out, "| store Report (totals) | %s | | |\n", ms(rep))
		fmt.Fprintf(out, "| store Frequency | %s | | |\n", ms(freq))
		fmt.Fprintf(out, "| store Report + Frequency (A) | %s | | |\n", ms(both))
		fmt.Fprintf(out, "| same SQL direct, DuckDB defaults (B) | %s | | |\n", ms(direct))
		fmt.Fprintf(out, "| A / B, median of the rounds' ratios (ratio of medians %.2f×) | %.2f× | ≤ %.1f× | %s |\n", float64(both)/float64(direct), ratio, targetRatio, verdict(ratio <= targetRatio))
		fmt.Fprintf(out, "| peak RSS of B's turns (DuckDB default memory_limit: 80%% of RAM) | %s | | |\n", mib(r.directHWM))
		fmt.Fprintf(out, "| same SQL direct, store's settings (C) | %s | | |\n", ms(directStore))
		fmt.Fprintf(out, "| A / C, median of the rounds' ratios (ratio of medians %.2f×): the Go API's own overhead | %.2f× | | |\n", float64(both)/float64(directStore), ratioStore)
	}
	if cfg.phases.rollup {
		fmt.Fprintf(out, "| RefreshRollups, 30 days | %s | | |\n", ms(r.refresh))
		fmt.Fprintf(out, "| Daily (rollups), 30 days, %d rows | %s | < 50 ms | %s |\n", r.dailyRows, ms(daily), verdict(daily < targetDaily))
	}
	if cfg.phases.report || cfg.phases.rollup {
		fmt.Fprintf(out, "| peak RSS during reports (store, MemoryLimit default %s) | %s | < 2048 MiB | %s |\n", duckdb.DefaultOptions().MemoryLimit, mib(r.reportHWM), verdict(r.reportHWM < targetRSS))
	}
}

// commandLine returns how the run can be repeated.
func commandLine() string {
	if c := os.Getenv("BENCH_COMMAND"); c != "" {
		return c
	}
	return strings.Join(os.Args, " ")
}

// writeHeapProfile writes the Go heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("write heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	return nil
}

// releaseMemory returns the Go heap's free memory to the OS, so that the
// next phase's peak RSS is its own.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}
