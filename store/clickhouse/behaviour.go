package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// judgeChunk is the number of rows one ALTER … UPDATE of JudgeBehaviour
// names: each row is a tuple literal of its key, and a statement must stay
// under the server's max_query_size (256 KiB by default).
const judgeChunk = 500

// judgeRow is an event JudgeBehaviour reads: the columns the rules look at.
type judgeRow struct {
	tenant, campaign, placement string
	kind, userType              uint8
	ts, received                int64
	user, impression            [16]byte
	net                         *int64
	country, province           string
	ivt                         uint32
	day                         int64 // UTC day number
}

func (r *judgeRow) hasUser() bool { return r.user != [16]byte{} }

// JudgeBehaviour recomputes the behavioural verdicts of UTC day day's
// events under rules. ClickHouse 18.16 has no window functions, so the
// rules run in Go, as the DuckDB store's SQL defines them: one query reads
// the day's impressions and clicks and the neighbouring days' within a day
// of it (windows that cross midnight see both sides) and the day's other
// events; they are deduplicated as reports deduplicate them; the rules
// flag rows; and the rows of the day whose verdict changes are updated
// with ALTER … UPDATE mutations, one per new set of behavioural reasons
// and chunk of rows, each row named by (tenant, placement, kind, event
// time, receive time, user, impression id), which JudgeBehaviour waits
// for. Rows identical in all of those are one row to it. The writer lock
// is held throughout, so the loader waits meanwhile.
func (db *DB) JudgeBehaviour(ctx context.Context, day store.Date, rules store.BehaviourRules) (store.Judged, error) {
	if err := rules.Validate(); err != nil {
		return store.Judged{}, err
	}
	if err := db.lock("judge behaviour"); err != nil {
		return store.Judged{}, err
	}
	defer db.wmu.Unlock()
	out, err := db.judge(ctx, epochDay(day), rules)
	if err != nil {
		return store.Judged{}, fmt.Errorf("judge behaviour of %s: %w", day, err)
	}
	return out, nil
}

func (db *DB) judge(ctx context.Context, d int64, rules store.BehaviourRules) (store.Judged, error) {
	v, err := db.view(ctx)
	if err != nil {
		return store.Judged{}, err
	}
	from, to := d*msPerDay, (d+1)*msPerDay
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT tenant, campaign, placement, kind, user_type, ts, received, user_key, impression, net, country, province, ivt, toInt64(day)
FROM `+db.events+`
WHERE day >= %[1]d AND day <= %[2]d%[3]s AND (day = %[4]d OR (kind IN (%[5]d, %[6]d) AND ts >= %[7]d AND ts < %[8]d))`,
		d-1, d+1, v.and(), d, sqlImpression, sqlClick, from-msPerDay, to+msPerDay))
	if err != nil {
		return store.Judged{}, fmt.Errorf("read events: %w", err)
	}
	var raw []judgeRow
	for rows.Next() {
		var r judgeRow
		if err := rows.Scan(&r.tenant, &r.campaign, &r.placement, &r.kind, &r.userType, &r.ts, &r.received, &r.user, &r.impression,
			&r.net, &r.country, &r.province, &r.ivt, &r.day); err != nil {
			rows.Close()
			return store.Judged{}, fmt.Errorf("read events: %w", err)
		}
		raw = append(raw, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return store.Judged{}, fmt.Errorf("read events: %w", err)
	}
	if !slices.ContainsFunc(raw, func(r judgeRow) bool { return r.day == d }) {
		return store.Judged{}, nil
	}
	flags := judgeRules(raw, d, rules)
	first := firstOfDay(raw, d)

	type change struct {
		row  int
		bits uint32
	}
	var changes []change
	out := store.Judged{Flagged: map[admeter.IVT]int64{}}
	for i := range raw {
		r := &raw[i]
		if r.day != d {
			continue
		}
		bits := flags[first[i]]
		nv := r.ivt&^uint32(admeter.SophisticatedIVT) | bits
		if r.kind == sqlImpression || r.kind == sqlClick {
			out.Events++
			for _, reason := range admeter.IVTReasons() {
				if reason&admeter.SophisticatedIVT != 0 && nv&uint32(reason) != 0 {
					out.Flagged[reason]++
				}
			}
		}
		if nv != r.ivt {
			changes = append(changes, change{i, bits})
		}
	}
	out.Changed = int64(len(changes))
	if len(changes) == 0 {
		return out, nil
	}

	// One mutation per new set of behavioural bits and chunk of rows.
	slices.SortFunc(changes, func(a, b change) int { return cmp.Compare(a.bits, b.bits) })
	for len(changes) > 0 {
		n := 1
		for n < len(changes) && n < judgeChunk && changes[n].bits == changes[0].bits {
			n++
		}
		keys := make([]string, n)
		for j, c := range changes[:n] {
			r := &raw[c.row]
			keys[j] = fmt.Sprintf("(%s, %s, %d, %d, %d, %s, %s)", quote(r.tenant), quote(r.placement), r.kind, r.ts, r.received,
				keyLiteral(r.user), keyLiteral(r.impression))
			db.addSpan(&out, r)
		}
		cmd := fmt.Sprintf("UPDATE ivt = bitOr(bitAnd(ivt, %d), %d) WHERE day = %d AND (tenant, placement, kind, ts, received, user_key, impression) IN (%s)",
			^uint32(admeter.SophisticatedIVT), changes[0].bits, d, strings.Join(keys, ", "))
		if err := db.alterEvents(ctx, cmd); err != nil {
			return store.Judged{}, fmt.Errorf("record verdicts: %w", err)
		}
		changes = changes[n:]
	}
	if err := db.waitEvents(ctx); err != nil {
		return store.Judged{}, err
	}
	slices.SortFunc(out.Campaigns, func(a, b store.CampaignSpan) int {
		return cmp.Or(strings.Compare(string(a.Tenant), string(b.Tenant)), strings.Compare(string(a.Campaign), string(b.Campaign)))
	})
	return out, nil
}

// addSpan widens out's span of r's campaign to r's event time.
func (db *DB) addSpan(out *store.Judged, r *judgeRow) {
	t := time.UnixMilli(r.ts).UTC()
	for i := range out.Campaigns {
		c := &out.Campaigns[i]
		if c.Tenant == admeter.TenantID(r.tenant) && c.Campaign == admeter.CampaignID(r.campaign) {
			if t.Before(c.From) {
				c.From = t
			}
			if t.After(c.To) {
				c.To = t
			}
			return
		}
	}
	out.Campaigns = append(out.Campaigns, store.CampaignSpan{Tenant: admeter.TenantID(r.tenant), Campaign: admeter.CampaignID(r.campaign),
		TimeSpan: store.TimeSpan{From: t, To: t}})
}

// byTime orders row indexes by event time, then receive time.
func byTime(raw []judgeRow) func(a, b int) int {
	return func(a, b int) int {
		return cmp.Or(cmp.Compare(raw[a].ts, raw[b].ts), cmp.Compare(raw[a].received, raw[b].received))
	}
}

// firstOfDay maps each row of day d to the row whose verdict it takes: a
// retry (a row of the day with an impression id) takes that of the first
// of the day's rows of its (tenant, placement, kind, impression id), by
// event time then receive time; any other row its own.
func firstOfDay(raw []judgeRow, d int64) []int {
	type key struct {
		tenant, placement string
		kind              uint8
		vf                [16]byte
	}
	first := make([]int, len(raw))
	seen := map[key]int{}
	for i := range raw {
		first[i] = i
		r := &raw[i]
		if r.day != d || r.impression == [16]byte{} || (r.kind != sqlImpression && r.kind != sqlClick) {
			continue
		}
		k := key{r.tenant, r.placement, r.kind, r.impression}
		if j, ok := seen[k]; !ok || byTime(raw)(i, j) < 0 {
			seen[k] = i
		}
	}
	for i := range raw {
		r := &raw[i]
		if r.day == d && r.impression != [16]byte{} && (r.kind == sqlImpression || r.kind == sqlClick) {
			first[i] = seen[key{r.tenant, r.placement, r.kind, r.impression}]
		}
	}
	return first
}

// judgeRules returns the behavioural bits the rules set on each row: rows
// of day d among the deduplicated impressions and clicks (a retry of an
// impression id gets none of its own; see firstOfDay).
func judgeRules(raw []judgeRow, d int64, rules store.BehaviourRules) []uint32 {
	flags := make([]uint32, len(raw))
	// ev: impressions and clicks, of those sharing (tenant, placement,
	// kind, impression id) the first by event time, then receive time.
	type vfKey struct {
		tenant, placement string
		kind              uint8
		vf                [16]byte
	}
	firsts := map[vfKey]int{}
	var ev []int
	for i := range raw {
		r := &raw[i]
		if r.kind != sqlImpression && r.kind != sqlClick {
			continue
		}
		if r.impression == [16]byte{} {
			ev = append(ev, i)
			continue
		}
		k := vfKey{r.tenant, r.placement, r.kind, r.impression}
		if j, ok := firsts[k]; !ok || byTime(raw)(i, j) < 0 {
			firsts[k] = i
		}
	}
	for _, i := range firsts {
		ev = append(ev, i)
	}
	slices.SortFunc(ev, func(a, b int) int { return cmp.Or(byTime(raw)(a, b), cmp.Compare(a, b)) })

	// groups returns ev's rows with a key, grouped by it, each in time
	// order.
	groups := func(key func(r *judgeRow) (string, bool)) map[string][]int {
		m := map[string][]int{}
		for _, i := range ev {
			if k, ok := key(&raw[i]); ok {
				m[k] = append(m[k], i)
			}
		}
		return m
	}
	userKey := func(r *judgeRow) (string, bool) { return string(r.user[:]), r.hasUser() }
	netKey := func(r *judgeRow) (string, bool) {
		if r.net == nil {
			return "", false
		}
		return fmt.Sprint(*r.net), true
	}
	sep := "\x00"

	// Frequency: n(i) is the key's events on the placement in [ts_i,
	// ts_i+W]; an event is flagged when a window starting at most W before
	// it (so holding it) has more than Max.
	frequency := func(key func(*judgeRow) (string, bool), limits []store.WindowLimit) {
		if len(limits) == 0 {
			return
		}
		g := groups(func(r *judgeRow) (string, bool) {
			k, ok := key(r)
			return r.tenant + sep + r.placement + sep + k, ok
		})
		for _, rows := range g {
			ts := make([]int64, len(rows))
			for j, i := range rows {
				ts[j] = raw[i].ts
			}
			for _, l := range limits {
				w := l.Window.Milliseconds()
				over := make([]int, len(rows)+1) // prefix counts of windows over the limit
				for j := range rows {
					lo := sort.Search(len(ts), func(k int) bool { return ts[k] >= ts[j] })
					hi := sort.Search(len(ts), func(k int) bool { return ts[k] > ts[j]+w })
					over[j+1] = over[j]
					if hi-lo > l.Max {
						over[j+1]++
					}
				}
				for j, i := range rows {
					lo := sort.Search(len(ts), func(k int) bool { return ts[k] >= ts[j]-w })
					hi := sort.Search(len(ts), func(k int) bool { return ts[k] > ts[j] })
					if over[hi]-over[lo] > 0 && raw[i].day == d {
						flags[i] |= uint32(admeter.IVTFrequency)
					}
				}
			}
		}
	}
	frequency(userKey, rules.UserFrequency)
	frequency(netKey, rules.NetFrequency)

	// Orphan and fast clicks: a click's latest impression of the user on
	// the placement at or before it, and its first within the skew after.
	if rules.OrphanLookback > 0 || rules.MinClickDelay > 0 {
		g := groups(func(r *judgeRow) (string, bool) {
			return r.tenant + sep + r.placement + sep + string(r.user[:]), r.hasUser()
		})
		lookback, skew, delay := rules.OrphanLookback.Milliseconds(), rules.OrphanSkew.Milliseconds(), rules.MinClickDelay.Milliseconds()
		for _, rows := range g {
			for _, i := range rows {
				c := &raw[i]
				if c.kind != sqlClick || c.day != d {
					continue
				}
				hasLast, hasNext := false, false
				var last int64
				for _, j := range rows {
					if raw[j].kind != sqlImpression {
						continue
					}
					if t := raw[j].ts; t <= c.ts {
						if !hasLast || t > last {
							last, hasLast = t, true
						}
					} else if t <= c.ts+skew {
						hasNext = true
					}
					if raw[j].ts == c.ts {
						hasNext = true // RANGE BETWEEN CURRENT ROW … includes peers
					}
				}
				if rules.OrphanLookback > 0 && c.userType >= uint8(admeter.IDOAID) && c.userType <= uint8(admeter.IDCAID) &&
					(!hasLast || last < c.ts-lookback) && !hasNext {
					flags[i] |= uint32(admeter.IVTOrphanClick)
				}
				if rules.MinClickDelay > 0 && hasLast && c.ts-last < delay {
					flags[i] |= uint32(admeter.IVTFastClick)
				}
			}
		}
	}

	// CTR: the clicks of day d of a key on a campaign with at least
	// MinClicks (and 1) clicks that day and more than MaxCTR per
	// impression.
	ctr := func(key func(*judgeRow) (string, bool), l store.CTRLimit) {
		if l.MinClicks == 0 && l.MaxCTR == 0 {
			return
		}
		g := groups(func(r *judgeRow) (string, bool) {
			k, ok := key(r)
			return r.tenant + sep + r.campaign + sep + k, ok && r.day == d
		})
		for _, rows := range g {
			var imps, clicks int
			for _, i := range rows {
				if raw[i].kind == sqlClick {
					clicks++
				} else {
					imps++
				}
			}
			if clicks < max(l.MinClicks, 1) || !(float64(clicks) > l.MaxCTR*float64(imps)) {
				continue
			}
			for _, i := range rows {
				if raw[i].kind == sqlClick {
					flags[i] |= uint32(admeter.IVTAbnormalCTR)
				}
			}
		}
	}
	ctr(userKey, rules.UserCTR)
	ctr(netKey, rules.NetCTR)

	// Network hopping: a user on too many networks or regions within one
	// bucket of HopWindow of event time.
	if rules.HopWindow > 0 && (rules.MaxNets > 0 || rules.MaxRegions > 0) {
		w := rules.HopWindow.Milliseconds()
		g := groups(func(r *judgeRow) (string, bool) {
			return fmt.Sprintf("%s%s%s%s%d", r.tenant, sep, r.user[:], sep, r.ts/w), r.hasUser()
		})
		for _, rows := range g {
			nets, regions := map[int64]bool{}, map[string]bool{}
			for _, i := range rows {
				r := &raw[i]
				if r.net != nil {
					nets[*r.net] = true
				}
				if r.country != "" || r.province != "" {
					regions[r.country+sep+r.province] = true
				}
			}
			if !(rules.MaxNets > 0 && len(nets) > rules.MaxNets) && !(rules.MaxRegions > 0 && len(regions) > rules.MaxRegions) {
				continue
			}
			for _, i := range rows {
				if raw[i].day == d {
					flags[i] |= uint32(admeter.IVTNetworkHopping)
				}
			}
		}
	}

	// Concentration: on a placement with at least ConcentrationMin
	// impressions on day d, a key holding more than the share of them has
	// its events of the day there flagged.
	concentration := func(key func(*judgeRow) (string, bool), share float64) {
		if rules.ConcentrationMin <= 0 || share <= 0 {
			return
		}
		totals := map[string]int{}
		for _, i := range ev {
			if r := &raw[i]; r.day == d && r.kind == sqlImpression {
				totals[r.tenant+sep+r.placement]++
			}
		}
		g := groups(func(r *judgeRow) (string, bool) {
			k, ok := key(r)
			return r.tenant + sep + r.placement + sep + k, ok && r.day == d
		})
		for _, rows := range g {
			p := &raw[rows[0]]
			total := totals[p.tenant+sep+p.placement]
			if total < rules.ConcentrationMin {
				continue
			}
			imps := 0
			for _, i := range rows {
				if raw[i].kind == sqlImpression {
					imps++
				}
			}
			if !(float64(imps) > share*float64(total)) {
				continue
			}
			for _, i := range rows {
				flags[i] |= uint32(admeter.IVTConcentration)
			}
		}
	}
	concentration(userKey, rules.ConcentrationShare)
	concentration(netKey, rules.NetConcentrationShare)
	return flags
}
