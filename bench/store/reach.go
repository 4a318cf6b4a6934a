package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/mediaplan"
	"github.com/admeter/admeter/reach"
	"github.com/admeter/admeter/simulate"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	duck "github.com/duckdb/duckdb-go/v2"
)

// Settings of the reach phase (issue 12).
const (
	// reachWasteAbove is the frequency threshold of the waste counted.
	reachWasteAbove = 10
	// reachEffective is the effective frequency the media plan maximises.
	reachEffective = 3
	// reachCPM is the price every group is bought at: 30 yuan per thousand
	// impressions.
	reachCPM = 30 * admeter.MicroCNY
	// targetReach is how this benchmark reads issue 12's "in seconds":
	// ReachSets, Analyze and Recommend together in single-digit seconds.
	targetReach = 10 * time.Second
)

// Row kinds of the reach-sets statement (store/duckdb/reachsets.go).
const (
	rowSet = iota
	rowAnonymous
	rowFrequency
	rowGroup
)

// reachResults are the measurements of the reach phase.
type reachResults struct {
	ran                             bool
	campaigns, placements, groups   int
	loadBefore, loadAfter           string
	storeImps, anonImps, union      int64 // the store's answer: impressions counted (deduplicated, valid), those without a user, users
	sets                            int
	waste                           int64
	indexBuild                      time.Duration // building the reach index of the whole file from scratch
	indexFiles                      int
	storeRebuild                    time.Duration // S with one day's index file to rebuild
	store, analyze, recommend       []time.Duration
	total                           []time.Duration // ReachSets + Analyze + Recommend of each measured run
	storeHWM                        int64
	noDedup, distinct               []time.Duration
	noDedupImps, noDedupUnion       int64
	rawImps, invalidImps, distinctN int64 // baseline (b): impressions in range before dedup, of them invalid, distinct users
	baseHWM                         int64
	planNow, planRecommended        int64 // the plan's effective reach, measured and recommended (sanity figures)
}

// reachQuery returns the reach phase's query: all the bench tenant's
// campaigns over the 30 days, valid traffic, the waste above
// reachWasteAbove, one group per medium of benchMedia; and the groups of
// the report.
func reachQuery(cfg config) (store.ReachSetQuery, []reach.Group) {
	from, to := reportRange(cfg)
	q := store.ReachSetQuery{
		Tenants: []admeter.TenantID{benchTenant}, From: from, To: to,
		Groups: map[admeter.PlacementID]int{}, Filter: store.FilterValid, WasteAbove: reachWasteAbove,
	}
	big, rest := campaigns(cfg.pool.Campaigns)
	for _, c := range append([]simulate.Campaign{big}, rest...) {
		q.Campaigns = append(q.Campaigns, admeter.CampaignID(c.ID))
		for _, p := range c.Placements {
			q.Groups[admeter.PlacementID(p.ID)] = slices.Index(benchMedia, p.Media)
		}
	}
	groups := make([]reach.Group, len(benchMedia))
	for i, m := range benchMedia {
		groups[i] = reach.Group{Key: m, Name: m}
	}
	return q, groups
}

// planInput returns the media plan's input for res: one unit per group
// that reached a user, bought at reachCPM.
func planInput(groups []reach.Group, res *store.ReachSetResult) mediaplan.Input {
	in := mediaplan.Input{UnionFrequency: res.Frequency, Effective: reachEffective}
	for i, g := range groups {
		gr, ok := res.Groups[i]
		if !ok || gr.Users == 0 {
			continue
		}
		in.Units = append(in.Units, mediaplan.Unit{
			Key: g.Key, Name: g.Name, Impressions: gr.Impressions, Users: gr.Users, Frequency: gr.Frequency,
			Model: admeter.CPM, Cost: gr.Impressions * reachCPM / 1000, Costed: true,
		})
	}
	for _, s := range res.Sets {
		in.Union += s.Users
	}
	return in
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// measureReach times the reach phase: building the store's reach index
// from scratch, the store's ReachSets over all the tenant's campaigns
// (reading that index), reach.Analyze and mediaplan.Recommend of its
// answer, then two direct-DuckDB baselines on the same file with the store's
// settings: (a) the same statement without the impression-id dedup and
// (b) count(DISTINCT user_key) of the range's impressions. Each runs one
// warm-up and cfg.runs measured runs on one open file, the store first,
// so each contender's peak RSS is its own.
func measureReach(ctx context.Context, cfg config, out io.Writer, res *reachResults) error {
	q, groups := reachQuery(cfg)
	res.ran, res.campaigns, res.placements, res.groups = true, len(q.Campaigns), len(q.Groups), len(groups)
	res.loadBefore = loadAverage()
	fmt.Fprintf(out, "reach: %d campaigns, %d placements in %d media groups, %s – %s, valid traffic, waste above %d; load average %s\n",
		res.campaigns, res.placements, res.groups, q.From.Format(time.DateOnly), q.To.AddDate(0, 0, -1).Format(time.DateOnly), reachWasteAbove, res.loadBefore)

	releaseMemory()
	resetHWM()
	// The reach index is built from scratch, as serve's job builds it when
	// days end, and timed apart from the queries that read it.
	if err := os.RemoveAll(cfg.file + ".reach"); err != nil {
		return err
	}
	db, err := duckdb.Open(cfg.file, duckdb.Options{}, nil)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res.indexFiles, err = db.BuildReachIndex(ctx, q.To)
	if err != nil {
		db.Close()
		return err
	}
	res.indexBuild = time.Since(t0)
	_, hwm := memStatus()
	fmt.Fprintf(out, "reach: index built: %d day files in %s (%s a file)  peak RSS %d MiB\n", res.indexFiles, res.indexBuild.Round(time.Millisecond),
		(res.indexBuild / time.Duration(max(1, res.indexFiles))).Round(time.Millisecond), hwm>>20)
	var sets *store.ReachSetResult
	for i := range cfg.runs + 1 {
		t0 := time.Now()
		r, err := db.ReachSets(ctx, q)
		if err != nil {
			db.Close()
			return err
		}
		t1 := time.Now()
		rep, err := reach.Analyze(reach.Input{Groups: groups, Sets: r, WasteAbove: reachWasteAbove})
		if err != nil {
			db.Close()
			return err
		}
		t2 := time.Now()
		plan, err := mediaplan.Recommend(planInput(groups, r))
		if err != nil {
			db.Close()
			return fmt.Errorf("recommend a media plan: %w", err)
		}
		t3 := time.Now()
		if rep.Totals.Reach == nil {
			db.Close()
			return errors.New("the reach report withheld the union reach, though it has no aggregation threshold")
		}
		sets, res.planNow, res.planRecommended = r, plan.Current.EffectiveReach, plan.Recommended.EffectiveReach
		name := "warm-up"
		if i > 0 {
			name = fmt.Sprintf("run %d", i)
			res.store = append(res.store, t1.Sub(t0))
			res.analyze = append(res.analyze, t2.Sub(t1))
			res.recommend = append(res.recommend, t3.Sub(t2))
			res.total = append(res.total, t3.Sub(t0))
		}
		_, hwm := memStatus()
		fmt.Fprintf(out, "reach: store %-7s ReachSets %8s (%d sets, union reach %d)  Analyze %8s  Recommend %8s  peak RSS %d MiB\n", name+":",
			t1.Sub(t0).Round(time.Millisecond), len(r.Sets), *rep.Totals.Reach, t2.Sub(t1).Round(10*time.Microsecond), t3.Sub(t2).Round(10*time.Microsecond), hwm>>20)
	}
	// As when the open day's events change: its file is rebuilt by the
	// query that reads it.
	last := q.To.Add(-time.Millisecond).UTC().Format("20060102") + ".rix"
	if err := os.Remove(filepath.Join(cfg.file+".reach", last)); err != nil {
		db.Close()
		return fmt.Errorf("remove the last day's reach index file: %w", err)
	}
	t0 = time.Now()
	if _, err := db.ReachSets(ctx, q); err != nil {
		db.Close()
		return err
	}
	res.storeRebuild = time.Since(t0)
	fmt.Fprintf(out, "reach: store ReachSets with the last day's index file to rebuild: %s\n", res.storeRebuild.Round(time.Millisecond))
	if err := db.Close(); err != nil {
		return err
	}
	_, res.storeHWM = memStatus()
	res.sets, res.anonImps = len(sets.Sets), sets.AnonymousImpressions
	res.storeImps = sets.AnonymousImpressions
	for _, s := range sets.Sets {
		res.union += s.Users
		res.storeImps += s.Impressions
	}
	for _, w := range sets.Waste {
		res.waste += w
	}

	releaseMemory()
	resetHWM()
	if err := measureReachDirect(ctx, cfg, out, q, sets, res); err != nil {
		return err
	}
	_, res.baseHWM = memStatus()
	res.loadAfter = loadAverage()
	return nil
}

// measureReachDirect runs the two baselines of measureReach on a plain
// DuckDB connection with the store's settings, and checks that baseline
// (a) finds the store's users in every combination of groups and (b) its
// union reach, which holds when the range has no invalid impression: the
// dedup only drops retried copies of an impression, which have the
// copy's user and placement, so no user gains or loses a group. (With
// invalid impressions, FilterValid can differ: the store counts an
// impression with its first copy's verdict, baseline (a) every valid
// copy.)
func measureReachDirect(ctx context.Context, cfg config, out io.Writer, q store.ReachSetQuery, want *store.ReachSetResult, res *reachResults) error {
	connector, err := duck.NewConnector(cfg.file, nil)
	if err != nil {
		return fmt.Errorf("open DuckDB: %w", err)
	}
	sqldb := sql.OpenDB(connector)
	defer sqldb.Close()
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open DuckDB: %w", err)
	}
	defer conn.Close()
	for _, s := range storeSettings() {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("configure DuckDB: %w", err)
		}
	}
	rq, err := buildReachSQL(ctx, conn, q)
	if err != nil {
		return err
	}
	for i := range cfg.runs + 1 {
		t0 := time.Now()
		a, err := runReachSets(ctx, conn, rq)
		if err != nil {
			return err
		}
		t1 := time.Now()
		if err := conn.QueryRowContext(ctx, rq.distinct).Scan(&res.distinctN, &res.rawImps, &res.invalidImps); err != nil {
			return fmt.Errorf("run distinct-users SQL: %w", err)
		}
		t2 := time.Now()
		name := "warm-up"
		if i > 0 {
			name = fmt.Sprintf("run %d", i)
			res.noDedup = append(res.noDedup, t1.Sub(t0))
			res.distinct = append(res.distinct, t2.Sub(t1))
		}
		res.noDedupImps, res.noDedupUnion = a.imps, a.union
		_, hwm := memStatus()
		fmt.Fprintf(out, "reach: direct %-7s (a) no dedup %8s (union reach %d)  (b) count(DISTINCT user_key) %8s (%d users of %d impressions)  peak RSS %d MiB\n", name+":",
			t1.Sub(t0).Round(time.Millisecond), a.union, t2.Sub(t1).Round(time.Millisecond), res.distinctN, res.rawImps, hwm>>20)
		if i == 0 && res.invalidImps == 0 {
			if err := sameUsers(want, a.users, res.distinctN); err != nil {
				return err
			}
			fmt.Fprintf(out, "reach: checked: (a) finds the store's users in each of its %d combinations of media, (b) its union reach; no impression in range is invalid\n", len(want.Sets))
		}
	}
	if res.invalidImps > 0 {
		fmt.Fprintf(out, "reach: %d of the range's impressions are invalid: baseline (a) may count users the store does not (see measureReachDirect)\n", res.invalidImps)
	}
	return nil
}

// sameUsers checks that users (per mask, from baseline (a)) and distinct
// (baseline (b)) agree with the store's answer want.
func sameUsers(want *store.ReachSetResult, users map[uint64]int64, distinct int64) error {
	var union int64
	for _, s := range want.Sets {
		union += s.Users
		if users[s.Mask] != s.Users {
			return fmt.Errorf("baseline (a) finds %d users in groups %#x, the store %d: bench/store/reach.go no longer matches store/duckdb/reachsets.go", users[s.Mask], s.Mask, s.Users)
		}
	}
	if len(users) != len(want.Sets) {
		return fmt.Errorf("baseline (a) finds %d combinations of groups, the store %d: bench/store/reach.go no longer matches store/duckdb/reachsets.go", len(users), len(want.Sets))
	}
	if distinct != union {
		return fmt.Errorf("baseline (b) counts %d distinct users, the store's union reach is %d", distinct, union)
	}
	return nil
}

// storeSettings are the statements that give a plain DuckDB connection the
// store's settings.
func storeSettings() []string {
	return []string{
		fmt.Sprintf("SET memory_limit = '%s'", duckdb.DefaultOptions().MemoryLimit),
		fmt.Sprintf("SET threads = %d", duckdb.DefaultOptions().Threads),
		"SET preserve_insertion_order = false",
	}
}

// reachSQL are the baselines of the reach phase and the list parameters of
// the first.
type reachSQL struct {
	noDedup, distinct string
	pids              []uint32
	groups            []int32
}

// buildReachSQL builds, on conn, the baselines for q: noDedup is the
// statement store/duckdb's ReachSets runs (reachsets.go) with the
// impression-id dedup left out, reading only the columns it then needs;
// distinct counts the distinct users, the impressions and the invalid
// impressions of the same events. Both read the same partitions with the
// same conditions as the store.
func buildReachSQL(ctx context.Context, conn *sql.Conn, q store.ReachSetQuery) (reachSQL, error) {
	var rq reachSQL
	id := func(what, s string) (uint32, bool, error) {
		var v uint32
		err := conn.QueryRowContext(ctx, `SELECT id FROM strs WHERE s = ?`, s).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		} else if err != nil {
			return 0, false, fmt.Errorf("look up %s: %w", what, err)
		}
		return v, true, nil
	}
	if len(q.Tenants) != 1 {
		return rq, errors.New("build reach SQL: one tenant only")
	}
	t, ok, err := id("tenant", string(q.Tenants[0]))
	if err != nil || !ok {
		return rq, errors.Join(err, errors.New("build reach SQL: the store has no event of the tenant"))
	}
	var cs []string
	for _, c := range q.Campaigns {
		v, ok, err := id("campaign", string(c))
		if err != nil {
			return rq, err
		} else if ok {
			cs = append(cs, strconv.FormatUint(uint64(v), 10))
		}
	}
	type pair struct {
		pid   uint32
		group int32
	}
	var pairs []pair
	for p, g := range q.Groups {
		v, ok, err := id("placement", string(p))
		if err != nil {
			return rq, err
		} else if ok {
			pairs = append(pairs, pair{v, int32(g)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.pid, b.pid) })
	var ps []string
	for _, p := range pairs {
		rq.pids, rq.groups = append(rq.pids, p.pid), append(rq.groups, p.group)
		ps = append(ps, strconv.FormatUint(uint64(p.pid), 10))
	}
	if len(cs) == 0 || len(ps) == 0 {
		return rq, errors.New("build reach SQL: the store has no event of the campaigns or placements")
	}
	r := [2]int64{ceilMillis(q.From), ceilMillis(q.To)}
	rows, err := conn.QueryContext(ctx, `SELECT (day - DATE '1970-01-01')::INTEGER FROM partitions WHERE day BETWEEN DATE '1970-01-01' + ?::INTEGER AND DATE '1970-01-01' + ?::INTEGER ORDER BY day`,
		int32(floorDiv(r[0], msPerDay)), int32(floorDiv(r[1]-1, msPerDay)))
	if err != nil {
		return rq, fmt.Errorf("list partitions: %w", err)
	}
	var days []int32
	for rows.Next() {
		var d int32
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return rq, fmt.Errorf("list partitions: %w", err)
		}
		days = append(days, d)
	}
	if err := rows.Close(); err != nil {
		return rq, fmt.Errorf("list partitions: %w", err)
	}
	where := fmt.Sprintf("tenant = %d AND campaign IN (%s) AND kind IN (%d) AND placement IN (%s)", t, strings.Join(cs, ", "), sqlImpression, strings.Join(ps, ", "))
	var b strings.Builder
	n := 0
	for _, d := range days {
		dayFrom, dayTo := int64(d)*msPerDay, int64(d+1)*msPerDay
		if r[0] >= dayTo || r[1] <= dayFrom {
			continue
		}
		cond := ""
		switch lo, hi := r[0] > dayFrom, r[1] < dayTo; {
		case lo && hi:
			cond = fmt.Sprintf(" AND ts >= %d AND ts < %d", r[0], r[1])
		case lo:
			cond = fmt.Sprintf(" AND ts >= %d", r[0])
		case hi:
			cond = fmt.Sprintf(" AND ts < %d", r[1])
		}
		n++
		if b.Len() > 0 {
			b.WriteString("\n\tUNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT placement, ts, received, user_key, ivt FROM %s WHERE %s%s", partitionName(d), where, cond)
	}
	if n == 0 {
		return rq, errors.New("build reach SQL: no partition in the range")
	}
	with, src := "WITH ", "("+b.String()+")"
	if n > materializeAbove {
		with, src = "WITH src AS MATERIALIZED ("+b.String()+"),\n", "src"
	}
	filter := ""
	if q.Filter == store.FilterValid {
		filter = "\n\tWHERE ivt = 0"
	}
	rank, waste := "", "0"
	if q.WasteAbove > 0 {
		rank = ",\n\t\tCASE WHEN user_key IS NOT NULL THEN row_number() OVER (PARTITION BY user_key ORDER BY ts, received) END AS rank"
		waste = fmt.Sprintf("count(*) FILTER (WHERE rank > %d)", q.WasteAbove)
	}
	rq.noDedup = fmt.Sprintf(`%[1]sev AS (
	SELECT user_key, g%[2]s
	FROM %[3]s d
	JOIN (SELECT unnest($1::UINTEGER[]) AS pid, unnest($2::INTEGER[]) AS g) groups ON groups.pid = d.placement%[4]s
),
ug AS MATERIALIZED (
	SELECT user_key, g, count(*) AS n, %[5]s AS waste FROM ev GROUP BY user_key, g
)
SELECT CASE WHEN grouping(mask) = 0 THEN %[6]d ELSE %[7]d END AS kind, coalesce(mask, 0) AS key, coalesce(f, 0) AS freq,
	count(*) AS users, sum(n)::BIGINT AS impressions, 0::BIGINT AS waste
FROM (SELECT bit_or(1::UBIGINT << g) AS mask, sum(n) AS n, least(sum(n), %[10]d)::INTEGER AS f FROM ug WHERE user_key IS NOT NULL GROUP BY user_key)
GROUP BY GROUPING SETS ((mask), (f))
UNION ALL
SELECT CASE WHEN user_key IS NULL THEN %[8]d ELSE %[9]d END, g::UBIGINT, CASE WHEN user_key IS NULL THEN 0 ELSE least(n, %[10]d)::INTEGER END,
	count(*), sum(n)::BIGINT, sum(waste)::BIGINT
FROM ug
GROUP BY ALL`, with, rank, src, filter, waste, rowSet, rowFrequency, rowAnonymous, rowGroup, store.MaxReachFrequency)
	rq.distinct = fmt.Sprintf(`SELECT count(DISTINCT user_key), count(*), count(*) FILTER (WHERE ivt <> 0) FROM (%s)`, b.String())
	return rq, nil
}

// reachAnswer is what reachSQL's noDedup returns that the checks and the
// table need.
type reachAnswer struct {
	users       map[uint64]int64 // per mask
	union, imps int64
}

// runReachSets runs rq.noDedup and reads its rows.
func runReachSets(ctx context.Context, conn *sql.Conn, rq reachSQL) (reachAnswer, error) {
	a := reachAnswer{users: map[uint64]int64{}}
	rows, err := conn.QueryContext(ctx, rq.noDedup, rq.pids, rq.groups)
	if err != nil {
		return a, fmt.Errorf("run reach-sets SQL: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, freq int
		var key uint64
		var users, imps, waste int64
		if err := rows.Scan(&kind, &key, &freq, &users, &imps, &waste); err != nil {
			return a, fmt.Errorf("run reach-sets SQL: %w", err)
		}
		switch kind {
		case rowSet:
			a.users[key] = users
			a.union += users
			a.imps += imps
		case rowAnonymous:
			a.imps += imps
		}
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("run reach-sets SQL: %w", err)
	}
	return a, nil
}

// minMax returns the smallest and largest of ds.
func minMax(ds []time.Duration) (lo, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	return slices.Min(ds), slices.Max(ds)
}

// spread formats the median of ds with its range.
func spread(ds []time.Duration) string {
	lo, hi := minMax(ds)
	return fmt.Sprintf("%s (%s – %s)", ms(median(ds)), ms(lo), ms(hi))
}

// print writes the reach phase's table (Markdown).
func (r *reachResults) print(out io.Writer, cfg config) {
	from, to := reportRange(cfg)
	fmt.Fprintf(out, "\n## Cross-media reach (issue 12): %d events, %d campaigns, %d media, %s – %s (Asia/Shanghai)\n\n", cfg.events, r.campaigns, r.groups,
		from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	fmt.Fprintf(out, "Command: `%s`  \n", commandLine())
	fmt.Fprintf(out, "Load average %s before the phase, %s after; medians (min – max) of %d runs after one warm-up, on one open file per contender; baselines with the store's settings (memory_limit %s, %d threads).\n\n",
		r.loadBefore, r.loadAfter, cfg.runs, duckdb.DefaultOptions().MemoryLimit, duckdb.DefaultOptions().Threads)
	store, a, b, total := median(r.store), median(r.noDedup), median(r.distinct), median(r.total)
	ratio := func(x, y time.Duration) string {
		if y <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", float64(x)/float64(y))
	}
	fmt.Fprintln(out, "| measure | value | target | verdict |")
	fmt.Fprintln(out, "|---|---|---|---|")
	fmt.Fprintf(out, "| impressions in range (raw / counted: deduplicated, valid) | %d / %d (%d without a user; %d invalid) | | |\n", r.rawImps, r.storeImps, r.anonImps, r.invalidImps)
	fmt.Fprintf(out, "| union reach; combinations of media; waste above %d | %d; %d; %d impressions | | |\n", reachWasteAbove, r.union, r.sets, r.waste)
	fmt.Fprintf(out, "| reach index built from scratch (%d day files; serve builds each day's once it ends) | %s (%s a file) | | |\n", r.indexFiles,
		r.indexBuild.Round(time.Millisecond), (r.indexBuild / time.Duration(max(1, r.indexFiles))).Round(time.Millisecond))
	fmt.Fprintf(out, "| store `ReachSets` (S), reading the index | %s | | |\n", spread(r.store))
	fmt.Fprintf(out, "| S with the last day's file to rebuild first (as when the open day's events changed; one run) | %s | | |\n", r.storeRebuild.Round(time.Millisecond))
	fmt.Fprintf(out, "| `reach.Analyze` | %s | | |\n", spread(r.analyze))
	fmt.Fprintf(out, "| `mediaplan.Recommend` (effective frequency %d: effective reach now %d, recommended %d) | %s | | |\n", reachEffective, r.planNow, r.planRecommended, spread(r.recommend))
	fmt.Fprintf(out, "| **overlap matrix + plan: S + Analyze + Recommend** | **%s** | < %s | %s |\n", spread(r.total), targetReach, verdict(total < targetReach))
	fmt.Fprintf(out, "| (a) same statement without the impression-id dedup (union reach %d, %d impressions) | %s | | |\n", r.noDedupUnion, r.noDedupImps, spread(r.noDedup))
	fmt.Fprintf(out, "| (b) `count(DISTINCT user_key)` of the range's impressions (%d users) | %s | | |\n", r.distinctN, spread(r.distinct))
	fmt.Fprintf(out, "| S / (a): the index against SQL spared the dedup (ratio of medians) | %s | | |\n", ratio(store, a))
	fmt.Fprintf(out, "| S / (b): against the bare distinct count | %s | | |\n", ratio(store, b))
	fmt.Fprintf(out, "| peak RSS, store (MemoryLimit default %s) | %s | < 2048 MiB | %s |\n", duckdb.DefaultOptions().MemoryLimit, mib(r.storeHWM), verdict(r.storeHWM < targetRSS))
	fmt.Fprintf(out, "| peak RSS, baselines | %s | | |\n", mib(r.baseHWM))
}
