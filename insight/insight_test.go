package insight_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/insight"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/store"
)

// exposure is one valid impression of a fake user.
type exposure struct {
	campaign               admeter.CampaignID
	placement              admeter.PlacementID
	at                     time.Time
	region, os, deviceType string
}

// fakeUser is a user of the fake store: its impressions and the interests
// it holds.
type fakeUser struct {
	exposures []exposure
	interests []string
}

// fakeStore answers store.AudienceQuery from a list of users, by the
// contract's rules (latest impression gives region, OS and device; at most
// MaxInterests interests). It stands in for the DuckDB and ClickHouse
// stores, whose Audience lands separately; the privacy layer under test is
// real, and so is its ledger (SQLite).
type fakeStore struct {
	mu      sync.Mutex
	users   []fakeUser
	queries int
}

func (f *fakeStore) add(u fakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users = append(f.users, u)
}

func (f *fakeStore) Audience(_ context.Context, q store.AudienceQuery) (*store.AudienceResult, error) {
	if err := store.CheckAudience(q); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	type key struct{ dim, value string }
	cells := map[key]*store.AudienceCell{}
	cell := func(dim, value string) *store.AudienceCell {
		c := cells[key{dim, value}]
		if c == nil {
			c = &store.AudienceCell{Dimension: dim, Value: value}
			cells[key{dim, value}] = c
		}
		return c
	}
	res := &store.AudienceResult{}
	for _, u := range f.users {
		var camp, base *exposure
		for i, e := range u.exposures {
			if e.at.Before(q.From) || !e.at.Before(q.To) {
				continue
			}
			if base == nil || e.at.After(base.at) {
				base = &u.exposures[i]
			}
			if e.campaign == q.Campaign && (len(q.Placements) == 0 || slices.Contains(q.Placements, e.placement)) {
				if camp == nil || e.at.After(camp.at) {
					camp = &u.exposures[i]
				}
			}
		}
		interests := u.interests[:min(len(u.interests), q.MaxInterests)]
		if base != nil {
			res.Baseline++
			cell(store.AudienceRegion, base.region).BaselineUsers++
			cell(store.AudienceOS, base.os).BaselineUsers++
			cell(store.AudienceDevice, base.deviceType).BaselineUsers++
			for _, in := range interests {
				cell(store.AudienceInterest, in).BaselineUsers++
			}
		}
		if camp != nil {
			res.Reach++
			cell(store.AudienceRegion, camp.region).Users++
			cell(store.AudienceOS, camp.os).Users++
			cell(store.AudienceDevice, camp.deviceType).Users++
			for _, in := range interests {
				cell(store.AudienceInterest, in).Users++
			}
		}
	}
	for _, c := range cells {
		res.Cells = append(res.Cells, *c)
	}
	slices.SortFunc(res.Cells, func(a, b store.AudienceCell) int {
		if c := strings.Compare(a.Dimension, b.Dimension); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return res, nil
}

// env is a test's world: a real SQLite metadata store with an advertiser,
// its campaign (two placements) and a media tenant, and a fake event store.
type env struct {
	meta     *sqlite.DB
	store    *fakeStore
	adv      *admeter.Tenant
	campaign *admeter.Campaign
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "meta.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := t.Context()
	adv := &admeter.Tenant{Name: "Advertiser", Kind: admeter.TenantAdvertiser}
	if err := db.CreateTenant(ctx, adv, sha256.Sum256([]byte("adv"))); err != nil {
		t.Fatal(err)
	}
	c := &admeter.Campaign{Tenant: adv.ID, Name: "Spring", LandingURL: "https://shop.example.com/", Timezone: "UTC",
		Placements: []admeter.Placement{{Name: "news banner", Media: "news.example.com"}, {Name: "video pre-roll", Media: "video.example.com"}}}
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	return &env{meta: db, store: &fakeStore{}, adv: adv, campaign: c}
}

// service returns the service under test with cfg changed by edit.
func (e *env) service(t *testing.T, edit func(*insight.Config)) *insight.Service {
	t.Helper()
	cfg := insight.DefaultConfig()
	cfg.Random = mrand.NewChaCha8([32]byte{7})
	if edit != nil {
		edit(&cfg)
	}
	s, err := insight.New(cfg, e.meta, e.store, e.meta, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// march returns noon UTC of 2026-03-d.
func march(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }

// addUsers adds n users of the campaign's placement p on day d with the
// given region, OS, device and interests; also seen on other campaigns'
// placements when baseline is true.
func (e *env) addUsers(n int, p int, d int, region, os, dev string, interests ...string) {
	for range n {
		e.store.add(fakeUser{exposures: []exposure{{campaign: e.campaign.ID, placement: e.campaign.Placements[p].ID, at: march(d),
			region: region, os: os, deviceType: dev}}, interests: interests})
	}
}

// addPlatform adds n users of other campaigns on day d: the baseline.
func (e *env) addPlatform(n int, d int, region, os, dev string, interests ...string) {
	for range n {
		e.store.add(fakeUser{exposures: []exposure{{campaign: "c_other", placement: "p_other", at: march(d),
			region: region, os: os, deviceType: dev}}, interests: interests})
	}
}

func (e *env) request(from, to int) insight.Request {
	return insight.Request{Tenant: e.adv.ID, Campaign: e.campaign.ID,
		From: fmt.Sprintf("2026-03-%02d", from), To: fmt.Sprintf("2026-03-%02d", to)}
}

// dim returns a's dimension name.
func dim(t *testing.T, a *insight.Audience, name string) insight.Dimension {
	t.Helper()
	for _, d := range a.Dimensions {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no dimension %s in %+v", name, a.Dimensions)
	return insight.Dimension{}
}

// checkThreshold fails if any published number of a describes fewer than k
// users.
func checkThreshold(t *testing.T, a *insight.Audience) {
	t.Helper()
	k := int64(a.MinUsers)
	if a.Reach < k {
		t.Errorf("reach %d published below k = %d", a.Reach, k)
	}
	for _, d := range a.Dimensions {
		for _, c := range d.Cells {
			if c.Users < k {
				t.Errorf("%s %q published with %d users, below k = %d", d.Name, c.Value, c.Users, k)
			}
		}
		if d.Other != nil && d.Other.Users < k {
			t.Errorf("%s other published with %d users, below k = %d", d.Name, d.Other.Users, k)
		}
	}
}

// differences returns every count an attacker can work out by subtracting
// answer b from answer a: the difference of each value published in both,
// of "other" where both publish the same values, and, for the dimensions
// where each user has one value, of what the reach less the published
// values leaves.
func differences(a, b *insight.Audience) map[string]int64 {
	out := map[string]int64{"reach": a.Reach - b.Reach}
	for _, da := range a.Dimensions {
		for _, db := range b.Dimensions {
			if da.Name != db.Name {
				continue
			}
			pa, pb := map[string]int64{}, map[string]int64{}
			var sa, sb int64
			for _, c := range da.Cells {
				pa[c.Value], sa = c.Users, sa+c.Users
			}
			for _, c := range db.Cells {
				pb[c.Value], sb = c.Users, sb+c.Users
			}
			for v, n := range pa {
				if m, ok := pb[v]; ok {
					out[da.Name+"/"+v] = n - m
				}
			}
			same := len(pa) == len(pb)
			for v := range pa {
				if _, ok := pb[v]; !ok {
					same = false
				}
			}
			if !same {
				continue
			}
			if da.Other != nil && db.Other != nil {
				out[da.Name+"/other"] = da.Other.Users - db.Other.Users
			}
			// With no value published, the rest is the reach: no
			// attribute is learnt.
			if da.Name != store.AudienceInterest && len(pa) > 0 {
				out[da.Name+"/rest"] = (a.Reach - sa) - (b.Reach - sb)
			}
		}
	}
	return out
}

// checkDifferences fails if subtracting one answer from the other
// describes between 1 and k-1 people anywhere but in the reach.
func checkDifferences(t *testing.T, a, b *insight.Audience) {
	t.Helper()
	k := int64(a.MinUsers)
	for what, d := range differences(a, b) {
		if d < 0 {
			d = -d
		}
		if what != "reach" && d >= 1 && d < k {
			t.Errorf("the two answers differ by %d users in %s: a difference attack singles them out", d, what)
		}
	}
}

func TestAudience_Publishes(t *testing.T) {
	e := newEnv(t)
	// 300 users: regions 广东 150, 北京 90, 上海 40, 西藏 1 (and 19
	// unknown), one OS, two device types.
	e.addUsers(150, 0, 2, "广东", "android", "phone", "1", "483")
	e.addUsers(90, 0, 3, "北京", "ios", "phone", "1")
	e.addUsers(40, 1, 3, "上海", "ios", "tablet", "1")
	e.addUsers(1, 1, 4, "西藏", "android", "phone", "999")
	e.addUsers(19, 1, 4, "", "android", "phone")
	e.addPlatform(700, 3, "广东", "android", "phone", "483")
	a, err := e.service(t, nil).Audience(t.Context(), e.request(1, 10))
	if err != nil {
		t.Fatal(err)
	}
	checkThreshold(t, a)
	if a.Reach != 300 || a.MinUsers != 50 || a.Noise != nil || a.Repeated {
		t.Errorf("reach %d, k %d, noise %v, repeated %v; want 300, 50, none, false", a.Reach, a.MinUsers, a.Noise, a.Repeated)
	}
	region := dim(t, a, store.AudienceRegion)
	if len(region.Cells) != 2 || region.Cells[0].Value != "广东" || region.Cells[1].Value != "北京" {
		t.Fatalf("region cells = %+v, want 广东 and 北京", region.Cells)
	}
	if region.Other == nil || region.Other.Users != 60 || region.Folded != 3 {
		t.Errorf("region other = %+v, folded %d; want 60 users of 3 values", region.Other, region.Folded)
	}
	g := region.Cells[0]
	// 广东: 150 of 300 users, against 850 of 1000 on the platform.
	if g.Users != 150 || g.Share != 0.5 || g.Index == nil || *g.Index != 59 {
		t.Errorf("广东 = %+v (index %v), want 150 users, share 0.5, index 59", g, g.Index)
	}
	// 北京's baseline is its 90 campaign users only: 9% of the platform.
	if b := region.Cells[1]; b.Index == nil || *b.Index != 333 {
		t.Errorf("北京 index = %v, want 333", b.Index)
	}
	interest := dim(t, a, store.AudienceInterest)
	if len(interest.Cells) != 2 || interest.Cells[0].Value != "1" || interest.Cells[0].Users != 280 {
		t.Errorf("interest cells = %+v, want 1 (280) and 483 (150)", interest.Cells)
	}
	// The one user with interest 999 is folded, and "other" (1) is not
	// shown: it would describe one person.
	if interest.Other != nil || !interest.OtherSuppressed {
		t.Errorf("interest other = %+v, suppressed %v; want it suppressed", interest.Other, interest.OtherSuppressed)
	}
	// Complementary folding: device "tablet" (40) is below k, so "other"
	// would be 40 = reach − phone; phone is folded too, leaving nothing
	// but "other" (300).
	device := dim(t, a, store.AudienceDevice)
	if len(device.Cells) != 0 || device.Other == nil || device.Other.Users != 300 {
		t.Errorf("device = %+v, want everything folded into other (300)", device)
	}
	b, _ := json.Marshal(a)
	if strings.Contains(string(b), "西藏") || strings.Contains(string(b), `"999"`) {
		t.Errorf("a value of one user appears in the answer: %s", b)
	}
}

func TestAudience_Refusals(t *testing.T) {
	e := newEnv(t)
	e.addUsers(49, 0, 2, "广东", "android", "phone")
	e.addUsers(60, 1, 2, "广东", "android", "phone")
	s := e.service(t, nil)
	ctx := t.Context()

	// The campaign reaches 109 users; placement 0 alone 49: below k.
	small := e.request(1, 10)
	small.Placements = []admeter.PlacementID{e.campaign.Placements[0].ID}
	_, err := s.Audience(ctx, small)
	if admeter.ErrorCode(err) != admeter.EFORBIDDEN {
		t.Fatalf("audience of 49 users: %v, want EFORBIDDEN", err)
	}
	if strings.Contains(admeter.ErrorMessage(err), "49") {
		t.Errorf("the refusal gives the exact reach away: %s", admeter.ErrorMessage(err))
	}
	if _, err := s.Audience(ctx, e.request(1, 10)); err != nil {
		t.Errorf("the whole campaign (109 users): %v", err)
	}

	other := &admeter.Tenant{Name: "Other", Kind: admeter.TenantAdvertiser}
	if err := e.meta.CreateTenant(ctx, other, sha256.Sum256([]byte("other"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*insight.Request)
		code string
	}{
		{"another tenant's campaign", func(r *insight.Request) { r.Tenant = other.ID }, admeter.ENOTFOUND},
		{"a placement of another campaign", func(r *insight.Request) { r.Placements = []admeter.PlacementID{"p_other"} }, admeter.ENOTFOUND},
		{"no range", func(r *insight.Request) { r.From = "" }, admeter.EINVALID},
		{"range backwards", func(r *insight.Request) { r.From, r.To = r.To, r.From }, admeter.EINVALID},
		{"unknown noise", func(r *insight.Request) { r.Noise = "uniform" }, admeter.EINVALID},
		{"epsilon without noise", func(r *insight.Request) { r.Epsilon = "1" }, admeter.EINVALID},
		{"epsilon with noise=none", func(r *insight.Request) { r.Noise, r.Epsilon = "none", "1" }, admeter.EINVALID},
		{"epsilon too precise", func(r *insight.Request) { r.Noise, r.Epsilon = "laplace", "0.0001" }, admeter.EINVALID},
		{"epsilon above the budget", func(r *insight.Request) { r.Noise, r.Epsilon = "laplace", "6" }, admeter.EINVALID},
		{"epsilon zero", func(r *insight.Request) { r.Noise, r.Epsilon = "gaussian", "0" }, admeter.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request(1, 10)
			tt.edit(&r)
			if _, err := s.Audience(ctx, r); admeter.ErrorCode(err) != tt.code {
				t.Errorf("%v, want %s", err, tt.code)
			}
		})
	}
}

func TestConfig_ThresholdOnlyUpward(t *testing.T) {
	for _, k := range []int{0, 1, 10, 49} {
		cfg := insight.DefaultConfig()
		cfg.MinUsers = k
		if cfg.Validate() == nil {
			t.Errorf("k = %d accepted: the threshold may only be raised", k)
		}
	}
	cfg := insight.DefaultConfig()
	cfg.MinUsers = 100
	if err := cfg.Validate(); err != nil {
		t.Errorf("k = 100: %v", err)
	}
	if err := insight.DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestAttack_OverlappingRanges is the difference attack: one user appears
// only on the last day, with a region, OS and interest no one else has;
// the attacker asks for days 1–7 and then 1–8 and subtracts.
func TestAttack_OverlappingRanges(t *testing.T) {
	e := newEnv(t)
	e.addUsers(120, 0, 2, "广东", "android", "phone", "1")
	e.addUsers(80, 0, 5, "北京", "android", "phone", "1")
	e.addPlatform(500, 3, "广东", "android", "phone", "1")
	// The target: only on day 8, 西藏, a Harmony phone, interest 7.
	e.addUsers(1, 0, 8, "西藏", "harmonyos", "phone", "7")
	s := e.service(t, nil)
	ctx := t.Context()
	week, err := s.Audience(ctx, e.request(1, 7))
	if err != nil {
		t.Fatal(err)
	}
	if got := dim(t, week, store.AudienceRegion); len(got.Cells) != 2 {
		t.Fatalf("days 1–7: regions %+v, want 广东 and 北京 published", got.Cells)
	}
	eight, err := s.Audience(ctx, e.request(1, 8))
	if err != nil {
		t.Fatal(err)
	}
	checkThreshold(t, eight)
	checkDifferences(t, eight, week)
	b, _ := json.Marshal(eight)
	if strings.Contains(string(b), "西藏") || strings.Contains(string(b), "harmonyos") {
		t.Errorf("the target's values appear: %s", b)
	}
	if !slices.ContainsFunc(eight.Notes, func(n string) bool { return strings.Contains(n, "earlier release") }) {
		t.Errorf("notes %q do not say why cells were folded", eight.Notes)
	}
	// The other order: days 1–8 first, then 1–7.
	e2 := newEnv(t)
	e2.store = e.store
	for _, u := range e.store.users {
		for i := range u.exposures {
			if u.exposures[i].campaign == e.campaign.ID {
				u.exposures[i].campaign = e2.campaign.ID
				u.exposures[i].placement = e2.campaign.Placements[0].ID
			}
		}
	}
	s2 := e2.service(t, nil)
	eight2, err := s2.Audience(ctx, e2.request(1, 8))
	if err != nil {
		t.Fatal(err)
	}
	week2, err := s2.Audience(ctx, e2.request(1, 7))
	if err != nil {
		t.Fatal(err)
	}
	checkDifferences(t, eight2, week2)
	// A range that does not overlap is free of the check: days 9–10 on
	// their own (no users) is simply refused, days 2–2 answered.
	if _, err := s2.Audience(ctx, e2.request(2, 2)); err != nil {
		t.Errorf("day 2 alone: %v", err)
	}
}

// TestAudience_Identical proves that an identical request gets the stored
// answer, even after the data changed, and that the store is not asked.
func TestAudience_Identical(t *testing.T) {
	e := newEnv(t)
	e.addUsers(100, 0, 2, "广东", "android", "phone")
	s := e.service(t, nil)
	ctx := t.Context()
	first, err := s.Audience(ctx, e.request(1, 7))
	if err != nil {
		t.Fatal(err)
	}
	e.addUsers(1, 0, 3, "广东", "android", "phone") // a late event
	queries := e.store.queries
	again, err := s.Audience(ctx, e.request(1, 7))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Repeated || again.Reach != first.Reach || !again.Released.Equal(first.Released) {
		t.Errorf("identical request: reach %d repeated %v, want the stored answer (reach %d)", again.Reach, again.Repeated, first.Reach)
	}
	if e.store.queries != queries {
		t.Errorf("the store was asked again for an identical request")
	}
}

// TestAttack_NoisyAveraging asks the same noisy question many times: the
// answer never changes, so averaging learns nothing, and the budget is
// charged once.
func TestAttack_NoisyAveraging(t *testing.T) {
	e := newEnv(t)
	e.addUsers(400, 0, 2, "广东", "android", "phone", "1")
	e.addUsers(101, 0, 2, "北京", "ios", "phone", "1")
	s := e.service(t, nil)
	ctx := t.Context()
	req := e.request(1, 7)
	req.Noise = "laplace"
	first, err := s.Audience(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Noise == nil || first.Noise.Mechanism != "laplace" || first.Noise.Sensitivity != 9 || first.Noise.Epsilon != 0.5 {
		t.Fatalf("noise = %+v, want laplace, L1 sensitivity 9, epsilon 0.5", first.Noise)
	}
	checkThreshold(t, first)
	for range 30 {
		a, err := s.Audience(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if a.Reach != first.Reach || !a.Repeated {
			t.Fatalf("repeated noisy request gave reach %d, first %d: the noise can be averaged away", a.Reach, first.Reach)
		}
		if a.Budget.Spent != 0.5 {
			t.Fatalf("budget spent %v after repeats, want 0.5 (charged once)", a.Budget.Spent)
		}
	}
}

// TestAttack_BudgetExhaustion asks different noisy questions until the
// budget is spent: the next is refused with ECONFLICT, and a repeat of an
// earlier one still answers.
func TestAttack_BudgetExhaustion(t *testing.T) {
	e := newEnv(t)
	e.addUsers(300, 0, 2, "广东", "android", "phone")
	s := e.service(t, nil)
	ctx := t.Context()
	reach := map[int64]int{}
	for i := range 10 {
		req := e.request(1, 10+i)
		req.Noise = "gaussian"
		a, err := s.Audience(ctx, req)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		reach[a.Reach]++
		checkThreshold(t, a)
	}
	req := e.request(1, 25)
	req.Noise = "laplace"
	_, err := s.Audience(ctx, req)
	if admeter.ErrorCode(err) != admeter.ECONFLICT || !strings.Contains(admeter.ErrorMessage(err), "budget") {
		t.Fatalf("query past the budget: %v, want ECONFLICT about the budget", err)
	}
	again := e.request(1, 10)
	again.Noise = "gaussian"
	if a, err := s.Audience(ctx, again); err != nil || !a.Repeated || a.Budget.Remaining != 0 {
		t.Errorf("repeat after the budget is spent: %+v, %v; want the stored answer", a, err)
	}
	if len(reach) < 3 {
		t.Errorf("ten noisy reaches took only %d values: is there noise?", len(reach))
	}
}

// TestAudience_ForcedNoise: an operator forces noise on every release.
func TestAudience_ForcedNoise(t *testing.T) {
	e := newEnv(t)
	e.addUsers(300, 0, 2, "广东", "android", "phone")
	s := e.service(t, func(c *insight.Config) { c.ForceNoise = "gaussian"; c.MinUsers = 60 })
	ctx := t.Context()
	a, err := s.Audience(ctx, e.request(1, 7))
	if err != nil {
		t.Fatal(err)
	}
	if a.Noise == nil || a.Noise.Mechanism != "gaussian" || a.Noise.Delta != 1e-6 || a.MinUsers != 60 {
		t.Errorf("noise %+v, k %d; want gaussian forced, k 60", a.Noise, a.MinUsers)
	}
	checkThreshold(t, a)
	req := e.request(1, 7)
	req.Noise = "none"
	if _, err := s.Audience(ctx, req); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("noise=none with forced noise: %v, want EINVALID", err)
	}
}

// TestAttack_NoisySmallCampaign: noise does not let a tiny campaign
// through: with 3 users the noisy reach is below k (or, rarely, the cells
// are), and the refusal is charged and repeated.
func TestAttack_NoisySmallCampaign(t *testing.T) {
	e := newEnv(t)
	e.addUsers(3, 0, 2, "广东", "android", "phone")
	e.addPlatform(500, 2, "广东", "android", "phone")
	s := e.service(t, nil)
	req := e.request(1, 7)
	req.Noise = "laplace"
	_, err := s.Audience(t.Context(), req)
	if admeter.ErrorCode(err) != admeter.EFORBIDDEN {
		t.Fatalf("3 users with noise: %v, want EFORBIDDEN", err)
	}
	_, err2 := s.Audience(t.Context(), req)
	if admeter.ErrorMessage(err2) != admeter.ErrorMessage(err) {
		t.Errorf("repeated refusal differs: %v then %v", err, err2)
	}
	spent, _ := e.meta.AudienceBudgetSpent(t.Context(), e.adv.ID, e.campaign.ID)
	if spent != 500 {
		t.Errorf("spent %d, want 500: a noisy refusal spends privacy too", spent)
	}
}

// TestAudience_Concurrent runs overlapping requests at once: each sees the
// others in the ledger, so no pair can be subtracted.
func TestAudience_Concurrent(t *testing.T) {
	e := newEnv(t)
	e.addUsers(120, 0, 2, "广东", "android", "phone")
	e.addUsers(80, 0, 5, "北京", "android", "phone")
	for d := 6; d <= 9; d++ {
		e.addUsers(1, 0, d, "西藏", "android", "phone")
	}
	s := e.service(t, nil)
	var wg sync.WaitGroup
	answers := make([]*insight.Audience, 4)
	for i := range answers {
		wg.Go(func() {
			a, err := s.Audience(t.Context(), e.request(1, 6+i))
			if err != nil {
				t.Error(err)
			}
			answers[i] = a
		})
	}
	wg.Wait()
	for i := range answers {
		for j := range answers {
			if i != j && answers[i] != nil && answers[j] != nil {
				checkDifferences(t, answers[i], answers[j])
			}
		}
	}
}

func FuzzParseEpsilon(f *testing.F) {
	for _, s := range []string{"0.5", "1", "0.125", ".5", "5.", "-1", "1e3", "0.0001", "99999999", " 2 ", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := insight.ParseEpsilon(s)
		if err != nil {
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("ParseEpsilon(%q): %v, want EINVALID", s, err)
			}
			return
		}
		if m < 0 {
			t.Fatalf("ParseEpsilon(%q) = %d, negative", s, m)
		}
		back, err := insight.ParseEpsilon(insight.FormatEpsilon(m))
		if err != nil || back != m {
			t.Fatalf("ParseEpsilon(FormatEpsilon(%d)) = %d, %v", m, back, err)
		}
	})
}
