package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// keepGeneral is the mask that keeps an event's verdict but its behavioural
// reasons.
var keepGeneral = strconv.FormatUint(uint64(^admeter.SophisticatedIVT), 10)

// judgedTable is the temporary table of the rows a JudgeBehaviour changes.
const judgedTable = "sivt_judged"

// JudgeBehaviour recomputes the behavioural verdicts of UTC day day's
// events under rules. The rules run in a read transaction, beside the
// loader: one query reads the day's partition and the neighbouring days'
// events within a day of it (so windows that cross midnight see both
// sides), deduplicated as reports deduplicate them, and yields each row of
// the day whose verdict changes (by rowid, with its times). Only writing
// them takes the writer: an UPDATE per chunk, matched by rowid and checked
// against the row's times. Should a row have moved meanwhile (a deletion
// came in between and a checkpoint compacted the table), the count of
// updated rows falls short, the transaction is rolled back, and the day is
// judged again with the writer held throughout (judgeLocked). Judgements
// are serialised.
func (db *DB) JudgeBehaviour(ctx context.Context, day store.Date, rules store.BehaviourRules) (store.Judged, error) {
	if err := rules.Validate(); err != nil {
		return store.Judged{}, err
	}
	d := epochDay(day)
	db.jmu.Lock()
	defer db.jmu.Unlock()
	var changes []judgedRow
	present := false
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx, d-1, d+1)
		if err != nil || !slices.Contains(days, d) {
			return err
		}
		present = true
		rows, err := tx.QueryContext(ctx, behaviourSQL(d, days, rules))
		if err != nil {
			return fmt.Errorf("apply rules to %s: %w", partitionName(d), err)
		}
		defer rows.Close()
		for rows.Next() {
			var r judgedRow
			if err := rows.Scan(&r.rid, &r.nv, &r.tenant, &r.campaign, &r.ts, &r.received); err != nil {
				return fmt.Errorf("apply rules to %s: %w", partitionName(d), err)
			}
			changes = append(changes, r)
		}
		return rows.Err()
	})
	if err != nil {
		return store.Judged{}, fmt.Errorf("judge behaviour of %s: %w", day, err)
	}
	if !present {
		return store.Judged{}, nil
	}
	if db.beforeJudgeWrite != nil {
		db.beforeJudgeWrite()
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return store.Judged{}, fmt.Errorf("judge behaviour: %w", errClosed)
	}
	var out store.Judged
	err = db.write(ctx, func(tx *sql.Tx) error {
		var applied int64
		for chunk := range slices.Chunk(changes, judgeChunk) {
			var b strings.Builder
			for i, r := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "(%d, %d, %d, %d)", r.rid, r.nv, r.ts, r.received)
			}
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s SET ivt = v.nv FROM (VALUES %[2]s) v(rid, nv, ts, received)
WHERE %[1]s.rowid = v.rid AND %[1]s.ts = v.ts AND %[1]s.received = v.received`, partitionName(d), b.String()))
			if err != nil {
				return fmt.Errorf("record verdicts in %s: %w", partitionName(d), err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			applied += n
		}
		if applied != int64(len(changes)) {
			return errRowsMoved
		}
		if len(changes) > 0 {
			if err := db.touch(ctx, tx, []int32{d}, nil); err != nil {
				return err
			}
		}
		var err error
		out, err = db.judged(ctx, tx, d, changes)
		return err
	})
	if errors.Is(err, errRowsMoved) {
		db.logger.Info("rows moved while judging; judging again with the writer held", "day", day.String())
		return db.judgeLocked(ctx, day, rules)
	}
	if err != nil {
		return store.Judged{}, fmt.Errorf("judge behaviour of %s: %w", day, err)
	}
	return out, nil
}

// judgeChunk is the number of rows one UPDATE of JudgeBehaviour writes.
const judgeChunk = 4096

// errRowsMoved says rows of a judged day changed place between the read
// and the write.
var errRowsMoved = errors.New("rows moved since they were judged")

// judgedRow is a row whose verdict a judgement changes: its rowid, new
// verdict, tenant and campaign ids, and times.
type judgedRow struct {
	rid              int64
	nv               uint32
	tenant, campaign uint32
	ts, received     int64
}

// judgeLocked judges day with the writer held from start to end: the rows
// cannot move, so they are updated by rowid from a temporary table. The
// caller holds wmu.
func (db *DB) judgeLocked(ctx context.Context, day store.Date, rules store.BehaviourRules) (store.Judged, error) {
	d := epochDay(day)
	var days []int32
	for _, n := range []int32{d - 1, d, d + 1} {
		if db.parts[n] {
			days = append(days, n)
		}
	}
	if !db.parts[d] {
		return store.Judged{}, nil
	}
	var out store.Judged
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", judgedTable, behaviourSQL(d, days, rules))); err != nil {
			return fmt.Errorf("apply rules to %s: %w", partitionName(d), err)
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+judgedTable) //nolint:errcheck // temporary: gone with the connection anyway
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %[1]s SET ivt = j.nv FROM %[2]s j WHERE %[1]s.rowid = j.rid", partitionName(d), judgedTable)); err != nil {
			return fmt.Errorf("record verdicts in %s: %w", partitionName(d), err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT rid, nv, tenant, campaign, ts, received FROM "+judgedTable)
		if err != nil {
			return fmt.Errorf("read changed rows: %w", err)
		}
		var changes []judgedRow
		for rows.Next() {
			var r judgedRow
			if err := rows.Scan(&r.rid, &r.nv, &r.tenant, &r.campaign, &r.ts, &r.received); err != nil {
				rows.Close()
				return fmt.Errorf("read changed rows: %w", err)
			}
			changes = append(changes, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read changed rows: %w", err)
		}
		if len(changes) > 0 {
			if err := db.touch(ctx, tx, []int32{d}, nil); err != nil {
				return err
			}
		}
		out, err = db.judged(ctx, tx, d, changes)
		return err
	})
	if err != nil {
		return store.Judged{}, fmt.Errorf("judge behaviour of %s: %w", day, err)
	}
	return out, nil
}

// judged sums up a judgement of day d that changed changes, inside its
// transaction: the day's events and flagged counts after it, and the span
// of the changed events per campaign.
func (db *DB) judged(ctx context.Context, tx *sql.Tx, d int32, changes []judgedRow) (store.Judged, error) {
	out := store.Judged{Changed: int64(len(changes)), Flagged: map[admeter.IVT]int64{}}
	type tc struct{ tenant, campaign uint32 }
	spans := map[tc]store.TimeSpan{}
	for _, r := range changes {
		k, t := tc{r.tenant, r.campaign}, time.UnixMilli(r.ts).UTC()
		sp, ok := spans[k]
		if !ok || t.Before(sp.From) {
			sp.From = t
		}
		if !ok || t.After(sp.To) {
			sp.To = t
		}
		spans[k] = sp
	}
	for k, sp := range spans {
		names := db.dict.labels([]uint32{k.tenant, k.campaign})
		out.Campaigns = append(out.Campaigns, store.CampaignSpan{Tenant: admeter.TenantID(names[0]), Campaign: admeter.CampaignID(names[1]), TimeSpan: sp})
	}
	slices.SortFunc(out.Campaigns, func(a, b store.CampaignSpan) int {
		return strings.Compare(string(a.Tenant)+"\x00"+string(a.Campaign), string(b.Tenant)+"\x00"+string(b.Campaign))
	})
	var counts []string
	var reasons []admeter.IVT
	for _, r := range admeter.IVTReasons() {
		if r&admeter.SophisticatedIVT != 0 {
			counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE ivt & %d <> 0)", r))
			reasons = append(reasons, r)
		}
	}
	vals := make([]int64, len(counts)+1)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), %s FROM %s WHERE kind IN (%d, %d)", strings.Join(counts, ", "),
		partitionName(d), sqlImpression, sqlClick)).Scan(dest...); err != nil {
		return store.Judged{}, fmt.Errorf("count verdicts of %s: %w", partitionName(d), err)
	}
	out.Events = vals[0]
	for i, r := range reasons {
		if vals[i+1] > 0 {
			out.Flagged[r] = vals[i+1]
		}
	}
	return out, nil
}

// behaviourCols are the columns the rules read.
const behaviourCols = "rowid AS rid, tenant, campaign, placement, kind, ts, received, user_key, user_type, impression, net, country, province"

// behaviourSQL returns the query whose rows are (rid, nv, tenant, campaign,
// ts, received) for each row of day d's partition whose verdict changes under rules;
// days are the partitions that exist among d-1, d and d+1.
func behaviourSQL(d int32, days []int32, r store.BehaviourRules) string {
	from, to := int64(d)*msPerDay, int64(d+1)*msPerDay
	var src []string
	for _, n := range days {
		where := "true"
		switch {
		case n < d:
			where = fmt.Sprintf("ts >= %d", from-msPerDay)
		case n > d:
			where = fmt.Sprintf("ts < %d", to+msPerDay)
		}
		src = append(src, fmt.Sprintf("SELECT %d AS part, %s FROM %s WHERE kind IN (%d, %d) AND %s", n, behaviourCols, partitionName(n), sqlImpression, sqlClick, where))
	}
	var b strings.Builder
	// raw: the events around the day; ev: deduplicated per tenant (retries
	// of one impression id count once, as in reports).
	fmt.Fprintf(&b, "WITH raw AS MATERIALIZED (%s),\n", strings.Join(src, "\n\tUNION ALL "))
	b.WriteString(`ev AS MATERIALIZED (
	SELECT * FROM raw WHERE impression IS NULL
	UNION ALL
	SELECT * FROM raw WHERE impression IS NOT NULL
	QUALIFY row_number() OVER (PARTITION BY tenant, placement, kind, impression ORDER BY ts, received) = 1)`)
	var rules []string // each a SELECT of (part, rid, bit)
	frequency := func(key string, limits []store.WindowLimit) {
		if len(limits) == 0 {
			return
		}
		// For each limit: n is the number of the key's events on the
		// placement in [ts, ts+W]; an event is flagged when some window
		// starting at most W before it (and so holding it) has more than
		// Max.
		part := "PARTITION BY tenant, placement, " + key + " ORDER BY ts"
		var counts, hits []string
		for i, l := range limits {
			w := l.Window.Milliseconds()
			counts = append(counts, fmt.Sprintf("count(*) OVER (%s RANGE BETWEEN CURRENT ROW AND %d FOLLOWING) AS n%d", part, w, i))
			hits = append(hits, fmt.Sprintf("bool_or(n%d > %d) OVER (%s RANGE BETWEEN %d PRECEDING AND CURRENT ROW)", i, l.Max, part, w))
		}
		rules = append(rules, fmt.Sprintf(`SELECT part, rid, %d AS bit FROM (
		SELECT part, rid, %s AS hit FROM (SELECT part, rid, tenant, placement, %s, ts, %s FROM ev WHERE %s IS NOT NULL))
	WHERE hit AND part = %d`, admeter.IVTFrequency, strings.Join(hits, " OR "), key, strings.Join(counts, ", "), key, d))
	}
	frequency("user_key", r.UserFrequency)
	frequency("net", r.NetFrequency)

	if r.OrphanLookback > 0 || r.MinClickDelay > 0 {
		// last: the user's latest impression on the placement at or before
		// the click; next: its first within the skew after it.
		part := "PARTITION BY tenant, placement, user_key ORDER BY ts"
		var conds []string
		if r.OrphanLookback > 0 {
			conds = append(conds, fmt.Sprintf("CASE WHEN user_type BETWEEN %d AND %d AND (last IS NULL OR last < ts - %d) AND next IS NULL THEN %d ELSE 0 END",
				admeter.IDOAID, admeter.IDCAID, r.OrphanLookback.Milliseconds(), admeter.IVTOrphanClick))
		}
		if r.MinClickDelay > 0 {
			conds = append(conds, fmt.Sprintf("CASE WHEN ts - last < %d THEN %d ELSE 0 END", r.MinClickDelay.Milliseconds(), admeter.IVTFastClick))
		}
		rules = append(rules, fmt.Sprintf(`SELECT part, rid, bit FROM (
		SELECT part, rid, %[1]s AS bit FROM (
			SELECT part, rid, kind, user_type, ts,
				max(CASE WHEN kind = %[2]d THEN ts END) OVER (%[3]s RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last,
				min(CASE WHEN kind = %[2]d THEN ts END) OVER (%[3]s RANGE BETWEEN CURRENT ROW AND %[4]d FOLLOWING) AS next
			FROM ev WHERE user_key IS NOT NULL)
		WHERE kind = %[5]d AND part = %[6]d)
	WHERE bit <> 0`, strings.Join(conds, " | "), sqlImpression, part, r.OrphanSkew.Milliseconds(), sqlClick, d))
	}

	ctr := func(key string, l store.CTRLimit) {
		if l.MinClicks == 0 && l.MaxCTR == 0 {
			return
		}
		rules = append(rules, fmt.Sprintf(`SELECT part, rid, %[1]d AS bit FROM ev SEMI JOIN (
		SELECT tenant, campaign, %[2]s FROM ev WHERE part = %[3]d AND %[2]s IS NOT NULL GROUP BY ALL
		HAVING count(*) FILTER (WHERE kind = %[4]d) >= greatest(%[5]d, 1)
			AND count(*) FILTER (WHERE kind = %[4]d) > %[6]s * count(*) FILTER (WHERE kind = %[7]d)) k
		USING (tenant, campaign, %[2]s)
	WHERE part = %[3]d AND kind = %[4]d`, admeter.IVTAbnormalCTR, key, d, sqlClick, l.MinClicks, strconv.FormatFloat(l.MaxCTR, 'g', -1, 64), sqlImpression))
	}
	ctr("user_key", r.UserCTR)
	ctr("net", r.NetCTR)

	if r.HopWindow > 0 && (r.MaxNets > 0 || r.MaxRegions > 0) {
		w := r.HopWindow.Milliseconds()
		var having []string
		if r.MaxNets > 0 {
			having = append(having, fmt.Sprintf("count(DISTINCT net) > %d", r.MaxNets))
		}
		if r.MaxRegions > 0 {
			having = append(having, fmt.Sprintf("count(DISTINCT CASE WHEN country = 0 AND province = 0 THEN NULL ELSE country::UBIGINT << 32 | province END) > %d", r.MaxRegions))
		}
		rules = append(rules, fmt.Sprintf(`SELECT part, rid, %[1]d AS bit FROM (SELECT part, rid, tenant, user_key, ts // %[2]d AS b FROM ev WHERE part = %[3]d AND user_key IS NOT NULL) e
	SEMI JOIN (SELECT tenant, user_key, ts // %[2]d AS b FROM ev WHERE user_key IS NOT NULL GROUP BY ALL HAVING %[4]s) h USING (tenant, user_key, b)`,
			admeter.IVTNetworkHopping, w, d, strings.Join(having, " OR ")))
	}

	concentration := func(key string, share float64) {
		if r.ConcentrationMin <= 0 || share <= 0 {
			return
		}
		rules = append(rules, fmt.Sprintf(`SELECT part, rid, %[1]d AS bit FROM ev SEMI JOIN (
		SELECT tenant, placement, %[6]s FROM ev JOIN (
			SELECT tenant, placement, count(*) AS total FROM ev WHERE part = %[2]d AND kind = %[3]d GROUP BY ALL HAVING count(*) >= %[4]d) p
		USING (tenant, placement)
		WHERE part = %[2]d AND kind = %[3]d AND %[6]s IS NOT NULL
		GROUP BY tenant, placement, %[6]s, total HAVING count(*) > %[5]s * total) u
	USING (tenant, placement, %[6]s)
	WHERE part = %[2]d`, admeter.IVTConcentration, d, sqlImpression, r.ConcentrationMin, strconv.FormatFloat(share, 'g', -1, 64), key))
	}
	concentration("user_key", r.ConcentrationShare)
	concentration("net", r.NetConcentrationShare)

	flags := "SELECT NULL::BIGINT AS rid, 0::UINTEGER AS bits WHERE false"
	if len(rules) > 0 {
		flags = fmt.Sprintf("SELECT rid, bit_or(bit)::UINTEGER AS bits FROM (\n\t%s) GROUP BY rid", strings.Join(rules, "\n\tUNION ALL "))
	}
	// A retry shares the verdict of the first event of its impression id
	// (dups maps the day's rows to that first row, when it is of the day).
	fmt.Fprintf(&b, `,
flags AS (%[1]s),
dups AS (SELECT rid, first_value(rid) OVER (PARTITION BY tenant, placement, kind, impression ORDER BY ts, received) AS frid
	FROM raw WHERE part = %[4]d AND impression IS NOT NULL)
SELECT rid, nv, tenant, campaign, ts, received FROM (
	SELECT e.rowid AS rid, (e.ivt & %[2]s) | coalesce(f.bits, 0) AS nv, e.ivt, e.tenant, e.campaign, e.ts, e.received
	FROM %[3]s e LEFT JOIN dups m ON m.rid = e.rowid LEFT JOIN flags f ON f.rid = coalesce(m.frid, e.rowid))
WHERE nv <> ivt`, flags, keepGeneral, partitionName(d), d)
	return b.String()
}

// maxExamples is the most example users InvalidSamples gives per reason.
const maxExamples = 20

// InvalidSamples returns each reason's invalid events of a campaign (or some
// placements of it) in [q.From, q.To), deduplicated as reports are, with the
// users that made the most of them as examples: one query, which unnests
// each event's reasons (an event counts once per reason).
func (db *DB) InvalidSamples(ctx context.Context, q store.SampleQuery) ([]store.ReasonSample, error) {
	switch {
	case q.Tenant == "" || q.Campaign == "":
		return nil, invalid("invalid-traffic samples need a tenant and a campaign")
	case q.Examples < 0 || q.Examples > maxExamples:
		return nil, invalid("examples must be between 0 and %d, not %d", maxExamples, q.Examples)
	case !q.From.Before(q.To):
		return nil, invalid("the range must not be empty: %s is not before %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	sc, ok := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, time.UTC)
	if !ok {
		return nil, nil
	}
	out := []store.ReasonSample{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		src, err := sc.source(ctx, tx, "kind, impression, placement, ts, received, user_key, ivt", fmt.Sprintf("%d, %d", sqlImpression, sqlClick))
		if err != nil || src.from == "" {
			return err
		}
		with := "WITH "
		if src.with != "" {
			with = strings.TrimSuffix(src.with, "\n") + ",\n"
		}
		query := fmt.Sprintf(`%[1]sev AS (%[2]s),
r AS (SELECT unnest(%[3]s) AS reason, kind, placement, ts, user_key FROM ev WHERE ivt <> 0),
totals AS (SELECT reason, count(*) FILTER (WHERE kind = %[4]d) AS imps, count(*) FILTER (WHERE kind = %[5]d) AS clicks,
	count(DISTINCT user_key) AS users FROM r GROUP BY reason),
ex AS (SELECT reason, user_key, placement, count(*) FILTER (WHERE kind = %[4]d) AS imps, count(*) FILTER (WHERE kind = %[5]d) AS clicks,
	min(ts) AS first, max(ts) AS last FROM r WHERE user_key IS NOT NULL GROUP BY reason, user_key, placement
	QUALIFY row_number() OVER (PARTITION BY reason ORDER BY imps + clicks DESC, user_key, placement) <= %[6]d)
SELECT t.reason, t.imps, t.clicks, t.users, ex.user_key, ex.placement, ex.imps, ex.clicks, ex.first, ex.last
FROM totals t LEFT JOIN ex USING (reason)
ORDER BY t.imps + t.clicks DESC, t.reason, ex.imps + ex.clicks DESC, ex.user_key, ex.placement`,
			with, dedup(src.from, ", user_key, ivt", ""), reasonList, sqlImpression, sqlClick, q.Examples)
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("query invalid-traffic samples: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var reason uint32
			var s store.ReasonSample
			var user []byte
			var placement sql.NullInt64
			var imps, clicks, first, last sql.NullInt64
			if err := rows.Scan(&reason, &s.Impressions, &s.Clicks, &s.Users, &user, &placement, &imps, &clicks, &first, &last); err != nil {
				return fmt.Errorf("read invalid-traffic samples: %w", err)
			}
			s.Reason = admeter.IVT(reason)
			if n := len(out); n == 0 || out[n-1].Reason != s.Reason {
				s.Examples = []store.UserSample{}
				out = append(out, s)
			}
			if len(user) != len(admeter.Pseudonym{}) || !placement.Valid {
				continue
			}
			e := store.UserSample{Placement: admeter.PlacementID(db.dict.labels([]uint32{uint32(placement.Int64)})[0]),
				Impressions: imps.Int64, Clicks: clicks.Int64, First: time.UnixMilli(first.Int64).UTC(), Last: time.UnixMilli(last.Int64).UTC()}
			copy(e.User[:], user)
			cur := &out[len(out)-1]
			cur.Examples = append(cur.Examples, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("invalid-traffic samples of campaign %s: %w", q.Campaign, err)
	}
	slices.SortStableFunc(out, func(a, b store.ReasonSample) int {
		return int((b.Impressions + b.Clicks) - (a.Impressions + a.Clicks))
	})
	return out, nil
}
