package insight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/insight/dp"
	"github.com/admeter/admeter/store"
)

// Campaigns finds a tenant's campaign; another tenant's is ENOTFOUND.
type Campaigns interface {
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
}

// Store returns a campaign's audience as exact counts.
type Store interface {
	Audience(ctx context.Context, q store.AudienceQuery) (*store.AudienceResult, error)
}

// Categories returns the IAB content categories of every placement of every
// tenant (the metadata store's Placement.Categories, with those of their
// media).
type Categories interface {
	PlacementCategories(ctx context.Context) (map[admeter.PlacementID][]string, error)
}

// Ledger is the privacy ledger: every release of audience insight, kept in
// the metadata store. A release is an opaque record (JSON written by this
// package, holding the exact counts) filed under its campaign, a key that
// identical queries share, the instants [from, to) it covers and the
// privacy loss (epsilon, in thousandths) it was charged.
type Ledger interface {
	// AudienceRelease returns the record of the campaign's release with
	// key; ENOTFOUND if there is none.
	AudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string) ([]byte, error)
	// AudienceReleases returns the records of the campaign's releases
	// whose range overlaps [from, to), oldest first.
	AudienceReleases(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) ([][]byte, error)
	// RecordAudienceRelease files a release and charges epsilonMilli to
	// the campaign's budget, in one transaction. If a release with key is
	// already filed it returns that record and charges nothing; if the
	// charge would take the campaign's total past budgetMilli it returns
	// ECONFLICT and files nothing. Otherwise it returns record.
	RecordAudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string,
		from, to time.Time, epsilonMilli, budgetMilli int64, record []byte) ([]byte, error)
	// AudienceBudgetSpent returns the epsilon (in thousandths) charged to
	// the campaign so far.
	AudienceBudgetSpent(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID) (int64, error)
}

// Defaults and floors of the configuration.
const (
	// DefaultMinUsers is the aggregation threshold k: the fewest users a
	// published number may describe. It is also the floor: operators may
	// raise k, never lower it.
	DefaultMinUsers = 50
	// DefaultInterestDays, DefaultInterestLookback and
	// DefaultMaxInterests are the interest rules: a user holds an
	// interest when exposed to the category on at least 3 distinct days
	// in the range and the 30 days before it; at most 5 count per user.
	DefaultInterestDays     = 3
	DefaultInterestLookback = 30 * 24 * time.Hour
	DefaultMaxInterests     = 5
	// DefaultEpsilonMilli is the privacy loss of one noisy query (0.5)
	// and DefaultBudgetMilli a campaign's total (5), in thousandths.
	DefaultEpsilonMilli = 500
	DefaultBudgetMilli  = 5000
	// DefaultDelta is δ of the Gaussian mechanism.
	DefaultDelta = 1e-6
	// DefaultMaxDays is the longest range of one request.
	DefaultMaxDays = 400
)

// Config holds the privacy rules. The zero value is not valid: start from
// DefaultConfig.
type Config struct {
	// MinUsers is k (at least DefaultMinUsers).
	MinUsers int
	// The interest rules (see store.AudienceQuery).
	InterestDays     int
	InterestLookback time.Duration
	MaxInterests     int
	// EpsilonMilli is the privacy loss of a noisy request that names none;
	// BudgetMilli the total a campaign may spend. Thousandths of ε.
	EpsilonMilli int64
	BudgetMilli  int64
	// Delta is δ of the Gaussian mechanism.
	Delta float64
	// ForceNoise, if set (dp.Laplace or dp.Gaussian), adds noise to every
	// release: a request without noise gets this mechanism.
	ForceNoise string
	// MaxDays is the longest range of one request.
	MaxDays int
	// CategoryName names an IAB category id (nil, or "" returned: the id
	// is shown).
	CategoryName func(id string) string
	// Sensitive reports whether an IAB category is sensitive category
	// data (health, religion…): exposures to it never make an interest.
	// nil: none is.
	Sensitive func(id string) bool
	// Random is the source of the noise (nil: crypto/rand).
	Random io.Reader
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// DefaultConfig returns the default rules.
func DefaultConfig() Config {
	return Config{
		MinUsers: DefaultMinUsers, InterestDays: DefaultInterestDays, InterestLookback: DefaultInterestLookback,
		MaxInterests: DefaultMaxInterests, EpsilonMilli: DefaultEpsilonMilli, BudgetMilli: DefaultBudgetMilli,
		Delta: DefaultDelta, MaxDays: DefaultMaxDays,
	}
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.MinUsers < DefaultMinUsers {
		errs = append(errs, fmt.Errorf("the audience threshold k must be at least %d (it may be raised, never lowered), not %d", DefaultMinUsers, c.MinUsers))
	}
	if c.InterestDays < 1 || c.InterestDays > 90 {
		errs = append(errs, fmt.Errorf("interest days must be from 1 to 90, not %d", c.InterestDays))
	}
	if c.InterestLookback < 0 || c.InterestLookback > admeter.MaxAttributionWindow {
		errs = append(errs, fmt.Errorf("interest lookback must be from 0 to 90 days, not %s", c.InterestLookback))
	}
	if c.MaxInterests < 1 || c.MaxInterests > 20 {
		errs = append(errs, fmt.Errorf("max interests per user must be from 1 to 20, not %d", c.MaxInterests))
	}
	if c.EpsilonMilli < MinEpsilonMilli || c.EpsilonMilli > c.BudgetMilli {
		errs = append(errs, fmt.Errorf("the default epsilon must be from 0.01 to the budget, not %s", FormatEpsilon(c.EpsilonMilli)))
	}
	if c.BudgetMilli < MinEpsilonMilli || c.BudgetMilli > MaxBudgetMilli {
		errs = append(errs, fmt.Errorf("the privacy budget must be from 0.01 to %s, not %s", FormatEpsilon(MaxBudgetMilli), FormatEpsilon(c.BudgetMilli)))
	}
	if !(c.Delta > 0 && c.Delta <= 1e-3) {
		errs = append(errs, fmt.Errorf("delta must be above 0 and at most 0.001, not %g", c.Delta))
	}
	if c.ForceNoise != "" && c.ForceNoise != dp.Laplace && c.ForceNoise != dp.Gaussian {
		errs = append(errs, fmt.Errorf("forced noise must be laplace or gaussian (or empty), not %q", c.ForceNoise))
	}
	if c.MaxDays < 1 {
		errs = append(errs, errors.New("the longest audience range must be at least 1 day"))
	}
	return errors.Join(errs...)
}

// Epsilon bounds, in thousandths.
const (
	MinEpsilonMilli = 10     // 0.01
	MaxBudgetMilli  = 100000 // 100
)

// ParseEpsilon parses a privacy loss written as a decimal number with at
// most three decimals ("0.5", "1", "0.125") into thousandths.
func ParseEpsilon(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	bad := admeter.Errorf(admeter.EINVALID, "epsilon must be a positive decimal number with at most three decimals, such as 0.5, not %q", s)
	if s == "" || len(frac) > 3 || (dot && frac == "") || len(whole) > 6 {
		return 0, bad
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "00")[:3], 10, 64)
	}
	return w*1000 + f, nil
}

// FormatEpsilon writes thousandths of epsilon as a decimal.
func FormatEpsilon(milli int64) string {
	s := strconv.FormatFloat(float64(milli)/1000, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Service answers audience insight requests.
type Service struct {
	cfg        Config
	campaigns  Campaigns
	store      Store
	ledger     Ledger
	categories Categories

	mu    sync.Mutex
	locks map[admeter.CampaignID]*campaignLock
}

// campaignLock serialises a campaign's releases in this process, so that
// two overlapping requests see each other in the ledger.
type campaignLock struct {
	sync.Mutex
	users int
}

// New returns a Service. categories may be nil: no interests then.
func New(cfg Config, campaigns Campaigns, st Store, ledger Ledger, categories Categories) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("audience insight: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, campaigns: campaigns, store: st, ledger: ledger, categories: categories,
		locks: map[admeter.CampaignID]*campaignLock{}}, nil
}

// Config returns the service's rules.
func (s *Service) Config() Config { return s.cfg }

// Request is an audience request as the API receives it.
type Request struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	From, To string // YYYY-MM-DD, inclusive, in the campaign's time zone
	// Placements, if not empty, limits the audience to those placements
	// (a media tenant's view, or a placement the caller chose).
	Placements []admeter.PlacementID
	// Noise is "", "none", "laplace" or "gaussian"; Epsilon the privacy
	// loss of a noisy request ("" for the default).
	Noise   string
	Epsilon string
}

// Audience is a released audience insight. It holds aggregates only: no
// user key, no user-level row, and no number describing fewer than
// MinUsers users.
type Audience struct {
	Campaign   admeter.CampaignID    `json:"campaign"`
	From       string                `json:"from"`
	To         string                `json:"to"`
	Timezone   string                `json:"timezone"`
	Placements []admeter.PlacementID `json:"placements,omitempty"`
	// MinUsers is the threshold k in force.
	MinUsers int `json:"min_users"`
	// Reach is the campaign's distinct users (noisy with noise).
	Reach      int64       `json:"reach"`
	Dimensions []Dimension `json:"dimensions"`
	// Noise describes the noise added, nil without.
	Noise *NoiseInfo `json:"noise,omitempty"`
	// Budget is the campaign's privacy budget after this request.
	Budget *Budget `json:"budget,omitempty"`
	// Released is when this answer was first released; Repeated is true
	// when this request was identical to an earlier one and got its answer
	// again.
	Released time.Time `json:"released"`
	Repeated bool      `json:"repeated"`
	// Notes explain what was suppressed and why.
	Notes []string `json:"notes,omitempty"`
}

// Dimension is one breakdown of the audience.
type Dimension struct {
	Name  string `json:"dimension"` // interest, region, os, device
	Cells []Cell `json:"cells"`
	// Other is the values folded together (each below k, or suppressed
	// against an earlier release), nil when none were folded or when it
	// was suppressed itself (OtherSuppressed).
	Other           *Cell `json:"other,omitempty"`
	Folded          int   `json:"folded"`
	OtherSuppressed bool  `json:"other_suppressed,omitempty"`
}

// Cell is one value of a dimension.
type Cell struct {
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
	// Users is the number of the campaign's users with this value (noisy
	// with noise); always at least MinUsers.
	Users int64 `json:"users"`
	// Share is Users over Reach.
	Share float64 `json:"share"`
	// Index is Share over the platform's share of the value, times 100,
	// rounded; nil when the platform's cell is below k (or suppressed).
	Index *int64 `json:"index"`
}

// NoiseInfo describes the noise of a release.
type NoiseInfo struct {
	Mechanism string  `json:"mechanism"`
	Epsilon   float64 `json:"epsilon"`
	Delta     float64 `json:"delta,omitempty"`
	// Sensitivity is the L1 (laplace) or L2 (gaussian) sensitivity of the
	// released counts; StdDev the standard deviation of each count's
	// noise.
	Sensitivity float64 `json:"sensitivity"`
	StdDev      float64 `json:"stddev"`
}

// Budget is a campaign's privacy budget.
type Budget struct {
	Total     float64 `json:"total"`
	Spent     float64 `json:"spent"`
	Remaining float64 `json:"remaining"`
}

// lock takes the campaign's lock; the returned func releases it.
func (s *Service) lock(id admeter.CampaignID) func() {
	s.mu.Lock()
	l := s.locks[id]
	if l == nil {
		l = &campaignLock{}
		s.locks[id] = l
	}
	l.users++
	s.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.mu.Lock()
		if l.users--; l.users == 0 {
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

// query is a resolved request.
type query struct {
	campaign   *admeter.Campaign
	from, to   store.Date
	start, end time.Time
	placements []admeter.PlacementID
	noise      string
	epsMilli   int64
	key        string
}

// resolve checks a request and resolves the campaign (ENOTFOUND for
// another tenant's), its range and the noise.
func (s *Service) resolve(ctx context.Context, req Request) (*query, error) {
	c, err := s.campaigns.Campaign(ctx, req.Tenant, req.Campaign)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("load campaign time zone %q: %w", c.Timezone, err)
	}
	f, t, err := store.ParseDateRange(req.From, req.To, s.cfg.MaxDays, "the campaign's time zone "+c.Timezone)
	if err != nil {
		return nil, err
	}
	q := &query{campaign: c, from: f, to: t, start: f.In(loc).UTC(), end: t.AddDays(1).In(loc).UTC()}
	for _, p := range req.Placements {
		if !slices.ContainsFunc(c.Placements, func(cp admeter.Placement) bool { return cp.ID == p }) {
			return nil, admeter.Errorf(admeter.ENOTFOUND, "placement %s is not a placement of campaign %s", p, c.ID)
		}
		if !slices.Contains(q.placements, p) {
			q.placements = append(q.placements, p)
		}
	}
	slices.Sort(q.placements)
	switch req.Noise {
	case "", "none":
		q.noise = s.cfg.ForceNoise
	case dp.Laplace, dp.Gaussian:
		q.noise = req.Noise
	default:
		return nil, admeter.Errorf(admeter.EINVALID, "noise must be laplace or gaussian (or left out), not %q", req.Noise)
	}
	if q.noise == "" && req.Epsilon != "" {
		return nil, admeter.Errorf(admeter.EINVALID, "epsilon applies only with noise=laplace or noise=gaussian")
	}
	if req.Noise == "none" && s.cfg.ForceNoise != "" {
		return nil, admeter.Errorf(admeter.EINVALID, "this server adds %s noise to every audience release; leave noise out or choose laplace or gaussian", s.cfg.ForceNoise)
	}
	if q.noise != "" {
		q.epsMilli = s.cfg.EpsilonMilli
		if req.Epsilon != "" {
			if q.epsMilli, err = ParseEpsilon(req.Epsilon); err != nil {
				return nil, err
			}
		}
		if q.epsMilli < MinEpsilonMilli || q.epsMilli > s.cfg.BudgetMilli {
			return nil, admeter.Errorf(admeter.EINVALID, "epsilon must be from 0.01 to the campaign's budget of %s, not %s",
				FormatEpsilon(s.cfg.BudgetMilli), FormatEpsilon(q.epsMilli))
		}
	}
	ps := make([]string, len(q.placements))
	for i, p := range q.placements {
		ps[i] = string(p)
	}
	canon := strings.Join([]string{"v1", string(req.Tenant), string(c.ID), strings.Join(ps, ","), q.start.Format(time.RFC3339), q.end.Format(time.RFC3339),
		q.noise, strconv.FormatInt(q.epsMilli, 10), strconv.Itoa(s.cfg.MinUsers), strconv.Itoa(s.cfg.InterestDays),
		strconv.FormatInt(int64(s.cfg.InterestLookback/time.Second), 10), strconv.Itoa(s.cfg.MaxInterests), strconv.FormatFloat(s.cfg.Delta, 'g', -1, 64)}, "\x00")
	sum := sha256.Sum256([]byte(canon))
	q.key = hex.EncodeToString(sum[:])
	return q, nil
}

// Audience answers an audience request: from the ledger if an identical
// one was answered before, else from the store through the privacy rules,
// recording the release. Returns ENOTFOUND for another tenant's campaign,
// EINVALID for a malformed request, EFORBIDDEN when the audience is below
// the threshold, and ECONFLICT when the campaign's privacy budget cannot
// pay for the request.
func (s *Service) Audience(ctx context.Context, req Request) (*Audience, error) {
	q, err := s.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	unlock := s.lock(q.campaign.ID)
	defer unlock()

	if rec, err := s.ledger.AudienceRelease(ctx, req.Tenant, q.campaign.ID, q.key); err == nil {
		return s.replay(ctx, req.Tenant, q, rec)
	} else if admeter.ErrorCode(err) != admeter.ENOTFOUND {
		return nil, fmt.Errorf("read privacy ledger: %w", err)
	}
	if q.epsMilli > 0 {
		spent, err := s.ledger.AudienceBudgetSpent(ctx, req.Tenant, q.campaign.ID)
		if err != nil {
			return nil, fmt.Errorf("read privacy budget: %w", err)
		}
		if spent+q.epsMilli > s.cfg.BudgetMilli {
			return nil, budgetError(q, spent, s.cfg.BudgetMilli)
		}
	}

	sq := store.AudienceQuery{Tenant: req.Tenant, Campaign: q.campaign.ID, From: q.start, To: q.end, Placements: q.placements,
		InterestDays: s.cfg.InterestDays, InterestLookback: s.cfg.InterestLookback, MaxInterests: s.cfg.MaxInterests}
	var notes []string
	if s.categories != nil {
		if sq.Categories, err = s.categories.PlacementCategories(ctx); err != nil {
			return nil, fmt.Errorf("read placement categories: %w", err)
		}
	}
	sq.Categories = s.withoutSensitive(sq.Categories)
	if len(sq.Categories) == 0 {
		notes = append(notes, "No placement carries content categories yet, so there are no interests to show.")
	}
	exact, err := s.store.Audience(ctx, sq)
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}

	// The earlier overlapping releases: without noise every published
	// count is checked against them, with noise the baselines behind the
	// indices are.
	raws, err := s.ledger.AudienceReleases(ctx, req.Tenant, q.campaign.ID, q.start, q.end)
	if err != nil {
		return nil, fmt.Errorf("read privacy ledger: %w", err)
	}
	var earlier []*record
	for _, raw := range raws {
		r, err := decodeRecord(raw)
		if err != nil {
			return nil, err
		}
		earlier = append(earlier, r)
	}
	rec, err := s.release(q, exact, earlier)
	if err != nil {
		return nil, err
	}
	if rec.Answer != nil {
		rec.Answer.Notes = append(notes, rec.Answer.Notes...)
	}
	if rec.Refused == "" || q.noise != "" {
		// A noisy refusal spent privacy too: it is filed and charged,
		// and an identical request gets the same refusal.
		raw, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("encode release: %w", err)
		}
		stored, err := s.ledger.RecordAudienceRelease(ctx, req.Tenant, q.campaign.ID, q.key, q.start, q.end, q.epsMilli, s.cfg.BudgetMilli, raw)
		if admeter.ErrorCode(err) == admeter.ECONFLICT {
			spent, _ := s.ledger.AudienceBudgetSpent(ctx, req.Tenant, q.campaign.ID)
			return nil, budgetError(q, spent, s.cfg.BudgetMilli)
		} else if err != nil {
			return nil, fmt.Errorf("record release in the privacy ledger: %w", err)
		}
		if rec, err = decodeRecord(stored); err != nil {
			return nil, err
		}
	}
	return s.answer(ctx, req.Tenant, q, rec, false)
}

// withoutSensitive returns cats without the sensitive categories.
func (s *Service) withoutSensitive(cats map[admeter.PlacementID][]string) map[admeter.PlacementID][]string {
	if s.cfg.Sensitive == nil || len(cats) == 0 {
		return cats
	}
	out := make(map[admeter.PlacementID][]string, len(cats))
	for p, ids := range cats {
		for _, id := range ids {
			if !s.cfg.Sensitive(id) {
				out[p] = append(out[p], id)
			}
		}
	}
	return out
}

// replay answers an identical request from its stored record.
func (s *Service) replay(ctx context.Context, tenant admeter.TenantID, q *query, raw []byte) (*Audience, error) {
	rec, err := decodeRecord(raw)
	if err != nil {
		return nil, err
	}
	return s.answer(ctx, tenant, q, rec, true)
}

// answer turns a record into the response: its refusal, or its answer with
// the campaign's budget as it stands.
func (s *Service) answer(ctx context.Context, tenant admeter.TenantID, q *query, rec *record, repeated bool) (*Audience, error) {
	if rec.Refused != "" {
		return nil, admeter.Errorf(admeter.EFORBIDDEN, "%s", rec.Refused)
	}
	a := *rec.Answer
	a.Repeated = repeated
	spent, err := s.ledger.AudienceBudgetSpent(ctx, tenant, q.campaign.ID)
	if err != nil {
		return nil, fmt.Errorf("read privacy budget: %w", err)
	}
	a.Budget = &Budget{Total: float64(s.cfg.BudgetMilli) / 1000, Spent: float64(spent) / 1000,
		Remaining: float64(max(0, s.cfg.BudgetMilli-spent)) / 1000}
	return &a, nil
}

// budgetError is the refusal of a request the budget cannot pay for.
func budgetError(q *query, spent, budget int64) error {
	return admeter.Errorf(admeter.ECONFLICT, "the privacy budget of campaign %s is spent: %s of %s used, and this request needs %s. "+
		"Repeat an earlier request exactly (it costs nothing), ask with a smaller epsilon, or ask an operator to raise --audience-budget.",
		q.campaign.ID, FormatEpsilon(spent), FormatEpsilon(budget), FormatEpsilon(q.epsMilli))
}

// noise returns the noise of q.
func (s *Service) noise(q *query) (dp.Noise, *NoiseInfo, error) {
	eps := big.NewRat(q.epsMilli, 1000)
	l1 := int64(4 + s.cfg.MaxInterests)
	info := &NoiseInfo{Mechanism: q.noise, Epsilon: float64(q.epsMilli) / 1000}
	switch q.noise {
	case dp.Laplace:
		n, err := dp.NewLaplace(eps, l1, s.cfg.Random)
		if err != nil {
			return nil, nil, err
		}
		info.Sensitivity = float64(l1)
		info.StdDev = sqrt(n.Variance())
		return n, info, nil
	default:
		n, err := dp.NewGaussian(eps, s.cfg.Delta, l1, s.cfg.Random)
		if err != nil {
			return nil, nil, err
		}
		info.Delta = s.cfg.Delta
		info.Sensitivity = sqrt(float64(l1))
		info.StdDev = sqrt(n.Sigma2())
		return n, info, nil
	}
}
