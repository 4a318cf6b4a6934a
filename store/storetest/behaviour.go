package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Net sets the event's network to the /24 of 10.0.n.1.
func Net(n int) Opt {
	return func(e *admeter.Event) { e.Net = admeter.BlockOf(netip.AddrFrom4([4]byte{10, 0, byte(n), 1})) }
}

// Cookie makes the event's user a browser cookie rather than a device id.
func Cookie() Opt { return func(e *admeter.Event) { e.UserType = admeter.IDCookie } }

// judgeCase is events, the rules to judge them by, and the behavioural
// reasons each must carry afterwards.
type judgeCase struct {
	name   string
	day    store.Date
	rules  store.BehaviourRules
	events []admeter.Event
	want   []admeter.IVT // per event: its sophisticated reasons
}

// judgeCases are the rules one at a time, each in its own tenant and on
// its own UTC day: 2026-03-10 for the first, two days later for each next
// one (judgeDay).
func judgeCases() []judgeCase {
	t0 := utc("2026-03-10T10:00:00Z")
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const (
		freq   = admeter.IVTFrequency
		orphan = admeter.IVTOrphanClick
		fast   = admeter.IVTFastClick
		ctr    = admeter.IVTAbnormalCTR
		hop    = admeter.IVTNetworkHopping
		conc   = admeter.IVTConcentration
	)
	p2 := Placement("p2")
	var cs []judgeCase
	add := func(name string, rules store.BehaviourRules, pairs ...any) {
		c := judgeCase{name: name, rules: rules, day: store.DateOf(time.Date(2026, 3, 10+2*len(cs), 0, 0, 0, 0, time.UTC))}
		for i := 0; i < len(pairs); i += 2 {
			e := pairs[i].(admeter.Event)
			e.Tenant = admeter.TenantID("b-" + name)
			e.At = e.At.AddDate(0, 0, 2*len(cs))
			e.Received = e.At.Add(time.Duration(len(c.events)+1) * time.Millisecond) // a key to find it by
			c.events = append(c.events, e)
			c.want = append(c.want, pairs[i+1].(admeter.IVT))
		}
		cs = append(cs, c)
	}
	perHour := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: time.Hour, Max: 3}}}
	add("user-frequency", perHour,
		// Four events within half an hour: all flagged, whichever window.
		Imp(at(0), User(1)), freq, Imp(at(10*time.Minute), User(1)), freq,
		Click(at(20*time.Minute), User(1)), freq, Imp(at(30*time.Minute), User(1)), freq,
		// Three: at the limit.
		Imp(at(0), User(2)), admeter.IVT(0), Imp(at(time.Minute), User(2)), admeter.IVT(0), Imp(at(2*time.Minute), User(2)), admeter.IVT(0),
		// Four spread over hours.
		Imp(at(0), User(3)), admeter.IVT(0), Imp(at(2*time.Hour), User(3)), admeter.IVT(0),
		Imp(at(4*time.Hour), User(3)), admeter.IVT(0), Imp(at(6*time.Hour), User(3)), admeter.IVT(0),
		// Four within minutes, but on two placements.
		Imp(at(0), User(4)), admeter.IVT(0), Imp(at(time.Minute), User(4)), admeter.IVT(0),
		Imp(at(0), User(4), p2), admeter.IVT(0), Imp(at(time.Minute), User(4), p2), admeter.IVT(0),
		// A general verdict stays beside the behavioural one.
		Imp(at(0), User(5), crawler), admeter.IVTCrawler|freq, Imp(at(time.Second), User(5)), freq,
		Imp(at(2*time.Second), User(5)), freq, Imp(at(3*time.Second), User(5)), freq,
		// Retries of one impression id count once.
		Imp(at(0), User(6), VF(1)), admeter.IVT(0), Imp(at(time.Second), User(6), VF(1)), admeter.IVT(0),
		Imp(at(2*time.Second), User(6), VF(1)), admeter.IVT(0), Imp(at(3*time.Second), User(6), VF(1)), admeter.IVT(0),
		// A retry shares the verdict of the impression it repeats.
		Imp(at(0), User(7), VF(2)), freq, Imp(at(time.Second), User(7)), freq, Imp(at(2*time.Second), User(7)), freq,
		Imp(at(3*time.Second), User(7)), freq, Imp(at(4*time.Hour), User(7), VF(2)), freq,
	)
	add("across-midnight", perHour,
		// Two the evening before (another day: not judged) and two after
		// midnight: the window sees all four.
		Imp(utc("2026-03-09T23:50:00Z"), User(1)), admeter.IVT(0), Imp(utc("2026-03-09T23:55:00Z"), User(1)), admeter.IVT(0),
		Imp(utc("2026-03-10T00:05:00Z"), User(1)), freq, Imp(utc("2026-03-10T00:10:00Z"), User(1)), freq,
	)
	add("net-frequency", store.BehaviourRules{NetFrequency: []store.WindowLimit{{Window: time.Minute, Max: 2}}},
		Imp(at(0), User(1), Net(1)), freq, Imp(at(10*time.Second), User(2), Net(1)), freq, Imp(at(20*time.Second), Net(1)), freq,
		Imp(at(0), User(3), Net(2)), admeter.IVT(0), Imp(at(10*time.Second), User(4), Net(2)), admeter.IVT(0),
		Imp(at(0), User(5)), admeter.IVT(0), Imp(at(time.Second), User(6)), admeter.IVT(0), Imp(at(2*time.Second), User(7)), admeter.IVT(0),
	)
	add("orphan-click", store.BehaviourRules{OrphanLookback: time.Hour, OrphanSkew: time.Minute},
		Click(at(0), User(1)), orphan,
		Imp(at(-10*time.Minute), User(2)), admeter.IVT(0), Click(at(0), User(2)), admeter.IVT(0),
		Imp(at(-2*time.Hour), User(3)), admeter.IVT(0), Click(at(0), User(3)), orphan,
		Click(at(0), User(4)), admeter.IVT(0), Imp(at(30*time.Second), User(4)), admeter.IVT(0),
		Imp(at(-time.Minute), User(5), p2), admeter.IVT(0), Click(at(0), User(5)), orphan,
		Click(at(0), User(6), Cookie()), admeter.IVT(0),
		Click(at(0)), admeter.IVT(0),
	)
	add("fast-click", store.BehaviourRules{MinClickDelay: time.Second},
		Imp(at(0), User(1)), admeter.IVT(0), Click(at(500*time.Millisecond), User(1)), fast,
		Imp(at(0), User(2)), admeter.IVT(0), Click(at(2*time.Second), User(2)), admeter.IVT(0),
		Imp(at(0), User(3), Cookie()), admeter.IVT(0), Click(at(0), User(3), Cookie()), fast,
		Click(at(0), User(4)), admeter.IVT(0),
	)
	add("ctr", store.BehaviourRules{UserCTR: store.CTRLimit{MinClicks: 3, MaxCTR: 0.5}},
		Imp(at(0), User(1)), admeter.IVT(0), Imp(at(time.Minute), User(1)), admeter.IVT(0),
		Click(at(2*time.Minute), User(1)), ctr, Click(at(3*time.Minute), User(1)), ctr, Click(at(4*time.Minute), User(1)), ctr,
		Imp(at(0), User(2)), admeter.IVT(0), Imp(at(0), User(2)), admeter.IVT(0), Imp(at(0), User(2)), admeter.IVT(0),
		Imp(at(0), User(2)), admeter.IVT(0), Imp(at(0), User(2)), admeter.IVT(0), Imp(at(0), User(2)), admeter.IVT(0),
		Imp(at(0), User(2)), admeter.IVT(0), Click(at(time.Minute), User(2)), admeter.IVT(0),
		Click(at(2*time.Minute), User(2)), admeter.IVT(0), Click(at(3*time.Minute), User(2)), admeter.IVT(0),
		Click(at(0), User(3)), admeter.IVT(0), Click(at(time.Minute), User(3)), admeter.IVT(0),
	)
	add("network-hopping", store.BehaviourRules{HopWindow: 10 * time.Minute, MaxNets: 2, MaxRegions: 1},
		Imp(at(0), User(1), Net(1)), hop, Imp(at(time.Minute), User(1), Net(2)), hop, Imp(at(2*time.Minute), User(1), Net(3)), hop,
		Imp(at(15*time.Minute), User(1), Net(1)), admeter.IVT(0),
		Imp(at(0), User(2), Net(1)), admeter.IVT(0), Imp(at(time.Minute), User(2), Net(2)), admeter.IVT(0),
		Imp(at(0), User(3), Region("CN", "广东")), hop, Imp(at(time.Minute), User(3), Region("CN", "北京")), hop,
		Imp(at(0), User(4), Region("CN", "广东")), admeter.IVT(0), Imp(at(time.Minute), User(4)), admeter.IVT(0),
	)
	conc2 := []any{}
	for i := range 6 {
		conc2 = append(conc2, Imp(at(time.Duration(i)*time.Minute), User(10+i)), admeter.IVT(0))
	}
	add("concentration", store.BehaviourRules{ConcentrationMin: 10, ConcentrationShare: 0.3},
		append([]any{
			Imp(at(0), User(1)), conc, Imp(at(time.Minute), User(1)), conc, Imp(at(2*time.Minute), User(1)), conc,
			Imp(at(3*time.Minute), User(1)), conc, Click(at(4*time.Minute), User(1)), conc,
			// On a placement with too few impressions to judge.
			Imp(at(0), User(1), p2), admeter.IVT(0), Imp(at(time.Minute), User(1), p2), admeter.IVT(0),
		}, conc2...)...,
	)
	netConc := []any{
		// One network holds 6 of 10 impressions (other users, same /24).
		Imp(at(0), User(1), Net(9)), conc, Imp(at(time.Minute), User(2), Net(9)), conc, Imp(at(2*time.Minute), User(3), Net(9)), conc,
		Imp(at(3*time.Minute), User(4), Net(9)), conc, Imp(at(4*time.Minute), User(5), Net(9)), conc, Imp(at(5*time.Minute), Net(9)), conc,
	}
	for i := range 4 {
		netConc = append(netConc, Imp(at(time.Duration(i)*time.Minute), User(10+i), Net(20+i)), admeter.IVT(0))
	}
	add("net-concentration", store.BehaviourRules{ConcentrationMin: 10, NetConcentrationShare: 0.5}, netConc...)
	return cs
}

// testJudgeBehaviour: each rule flags what it must and nothing else, keeps
// general reasons, and says which campaigns changed; a second run changes
// nothing; rules turned off clear the verdicts they had set.
func testJudgeBehaviour(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, c := range judgeCases() {
		Insert(t, s, uint64(i+1), c.events...)
		got, err := s.JudgeBehaviour(ctx, c.day, c.rules)
		if err != nil {
			t.Fatalf("%s: JudgeBehaviour: %v", c.name, err)
		}
		tenant := c.events[0].Tenant
		checkVerdicts(t, s, c.name, tenant, c.events, c.want)
		var flagged int64
		for i, e := range c.events {
			if c.want[i] != 0 && !e.At.Before(c.day.In(time.UTC)) {
				flagged++
			}
		}
		if got.Changed != flagged {
			t.Errorf("%s: Changed = %d, want %d", c.name, got.Changed, flagged)
		}
		if len(got.Campaigns) != 1 || got.Campaigns[0].Tenant != tenant || got.Campaigns[0].Campaign != DefaultCampaign {
			t.Errorf("%s: Campaigns = %+v, want one span of %s/%s", c.name, got.Campaigns, tenant, DefaultCampaign)
		}
		var sum int64
		for _, n := range got.Flagged {
			sum += n
		}
		if sum != flagged {
			t.Errorf("%s: Flagged = %v, want %d in all", c.name, got.Flagged, flagged)
		}
		again, err := s.JudgeBehaviour(ctx, c.day, c.rules)
		if err != nil || again.Changed != 0 || len(again.Campaigns) != 0 {
			t.Errorf("%s: second run changed %d (%v), want nothing", c.name, again.Changed, err)
		}
		// With every rule off, only the general verdicts are left.
		off, err := s.JudgeBehaviour(ctx, c.day, store.BehaviourRules{})
		if err != nil || off.Changed != flagged {
			t.Errorf("%s: rules off changed %d (%v), want %d", c.name, off.Changed, err, flagged)
		}
		checkVerdicts(t, s, c.name+" (rules off)", tenant, c.events, make([]admeter.IVT, len(c.want)))
	}
	// A day without events judges nothing; bad rules are refused.
	if got, err := s.JudgeBehaviour(ctx, store.Date{Year: 2020, Month: 1, Day: 1}, judgeCases()[0].rules); err != nil || got.Events != 0 {
		t.Errorf("empty day: %+v, %v", got, err)
	}
	bad := store.BehaviourRules{UserFrequency: []store.WindowLimit{{Window: 48 * time.Hour, Max: 1}}}
	if _, err := s.JudgeBehaviour(ctx, judgeCases()[0].day, bad); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("a 48h window: %v, want EINVALID", err)
	}
}

// checkVerdicts reads events back (they all have users but for anonymous
// ones, which it skips) and compares their verdicts: general reasons as
// inserted, behavioural ones as want.
func checkVerdicts(t *testing.T, s store.Store, name string, tenant admeter.TenantID, events []admeter.Event, want []admeter.IVT) {
	t.Helper()
	var users []admeter.Pseudonym
	for _, e := range events {
		users = append(users, e.User)
	}
	got, _, err := s.UserEvents(context.Background(), tenant, users, 1000)
	if err != nil {
		t.Fatalf("%s: UserEvents: %v", name, err)
	}
	type key struct {
		user     admeter.Pseudonym
		received int64
	}
	verdict := map[key]admeter.IVT{}
	for _, e := range got {
		verdict[key{e.User, e.Received.UnixMilli()}] = e.IVT
	}
	for i, e := range events {
		if e.User.IsZero() {
			continue
		}
		v, ok := verdict[key{e.User, e.Received.UnixMilli()}]
		w := e.IVT&admeter.GeneralIVT | want[i]
		if !ok || v != w {
			t.Errorf("%s: event %d (%s of user %x at %s): verdict %s (found %v), want %s", name, i, e.Kind, e.User[15], e.At.Format(time.TimeOnly), v, ok, w)
		}
	}
}

// testInvalidSamples: the evidence per reason, most events first, with the
// users that made the most as examples and the span of their events.
func testInvalidSamples(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := utc("2026-03-10T10:00:00Z")
	p2 := Placement("p2")
	var evs []admeter.Event
	for i := range 5 {
		evs = append(evs, Imp(t0.Add(time.Duration(i)*time.Minute), User(1), IVT(admeter.IVTFrequency)))
	}
	evs = append(evs,
		Click(t0.Add(5*time.Minute), User(1), IVT(admeter.IVTFrequency|admeter.IVTFastClick)),
		Imp(t0, User(2), IVT(admeter.IVTFrequency)),
		Imp(t0, User(3), crawler, p2), Imp(t0, crawler),
		Imp(t0, User(4)), // valid
		Imp(t0, User(1), IVT(admeter.IVTFrequency), Campaign("other")),
		Imp(t0, User(1), IVT(admeter.IVTFrequency), Tenant("t2")),
	)
	Insert(t, s, 1, evs...)
	q := store.SampleQuery{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Examples: 5}
	got, err := s.InvalidSamples(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ReasonSample{
		{Reason: admeter.IVTFrequency, Impressions: 6, Clicks: 1, Users: 2, Examples: []store.UserSample{
			{User: UserID(1), Placement: DefaultPlacement, Impressions: 5, Clicks: 1, First: t0, Last: t0.Add(5 * time.Minute)},
			{User: UserID(2), Placement: DefaultPlacement, Impressions: 1, First: t0, Last: t0},
		}},
		{Reason: admeter.IVTCrawler, Impressions: 2, Users: 1, Examples: []store.UserSample{
			{User: UserID(3), Placement: "p2", Impressions: 1, First: t0, Last: t0},
		}},
		{Reason: admeter.IVTFastClick, Clicks: 1, Users: 1, Examples: []store.UserSample{
			{User: UserID(1), Placement: DefaultPlacement, Clicks: 1, First: t0.Add(5 * time.Minute), Last: t0.Add(5 * time.Minute)},
		}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("InvalidSamples:\n got %v\nwant %v", got, want)
	}
	q.Placements, q.Examples = []admeter.PlacementID{"p2", "nowhere"}, 0
	got, err = s.InvalidSamples(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Reason != admeter.IVTCrawler || got[0].Impressions != 1 || len(got[0].Examples) != 0 {
		t.Errorf("placement p2 without examples: %v", got)
	}
	for _, bad := range []store.SampleQuery{
		{Campaign: DefaultCampaign, From: q.From, To: q.To},
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: q.To, To: q.From},
		{Tenant: DefaultTenant, Campaign: DefaultCampaign, From: q.From, To: q.To, Examples: 21},
	} {
		if _, err := s.InvalidSamples(ctx, bad); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("InvalidSamples(%+v) = %v, want EINVALID", bad, err)
		}
	}
	if got, err := s.InvalidSamples(ctx, store.SampleQuery{Tenant: "nobody", Campaign: DefaultCampaign, From: q.From, To: q.To}); err != nil || len(got) != 0 {
		t.Errorf("unknown tenant: %v, %v", got, err)
	}
}
