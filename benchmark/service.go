package benchmark

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Store is what benchmarks read from the event store (store.Store has it).
type Store interface {
	Report(ctx context.Context, q store.ReportQuery) (*store.ReportResult, error)
	Viewability(ctx context.Context, q store.ReportQuery) (*store.ViewReport, error)
	Frequency(ctx context.Context, q store.FrequencyQuery) (*store.FrequencyResult, error)
}

// Meta is what benchmarks read and write in the metadata store: tenants
// with their industries, every campaign, and the published snapshots.
type Meta interface {
	Tenant(ctx context.Context, id admeter.TenantID) (*admeter.Tenant, error)
	Tenants(ctx context.Context, status admeter.TenantStatus) ([]*admeter.Tenant, error)
	AllCampaigns(ctx context.Context) ([]*admeter.Campaign, error)
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	// SaveBenchmarks stores a snapshot, assigning its ID and Published.
	SaveBenchmarks(ctx context.Context, s *admeter.BenchmarkSnapshot) error
	// Benchmarks returns the latest snapshot of the period [from, to], or
	// the latest of any period when both are zero; ENOTFOUND if none.
	Benchmarks(ctx context.Context, from, to time.Time) (*admeter.BenchmarkSnapshot, error)
	// BenchmarkSnapshots lists the snapshots, newest first, without cells.
	BenchmarkSnapshots(ctx context.Context) ([]*admeter.BenchmarkSnapshot, error)
}

// Config holds the service's settings.
type Config struct {
	// Rules are the aggregation rules (DefaultRules or stricter); a
	// publish request may tighten them further, never loosen them.
	Rules Rules
	// MaxDays is the longest period (default DefaultMaxDays).
	MaxDays int
	// RawFrom returns the instant from which raw events are kept; a
	// period starting before it is refused (reach and viewability need raw
	// events). Nil: all are kept.
	RawFrom func() time.Time
}

// DefaultMaxDays is the default longest benchmark period: a quarter.
const DefaultMaxDays = 92

// DefaultConfig returns the default settings.
func DefaultConfig() Config { return Config{Rules: DefaultRules(), MaxDays: DefaultMaxDays} }

// Service computes, publishes and compares against benchmarks.
type Service struct {
	cfg    Config
	meta   Meta
	store  Store
	logger *slog.Logger
}

// New returns a Service, or an EINVALID error if cfg's rules are looser
// than the defaults allow. logger may be nil.
func New(cfg Config, meta Meta, st Store, logger *slog.Logger) (*Service, error) {
	if err := cfg.Rules.Validate(); err != nil {
		return nil, fmt.Errorf("benchmark rules: %w", err)
	}
	if cfg.MaxDays <= 0 {
		cfg.MaxDays = DefaultMaxDays
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, meta: meta, store: st, logger: logger}, nil
}

// PublishRequest asks to publish the benchmarks of a period. Zero rule
// fields keep the configured rules; others may only make them stricter.
type PublishRequest struct {
	From, To string // YYYY-MM-DD, inclusive
	Rules    Rules
}

// Publish computes the benchmarks of a period over every tenant with an
// industry (closed accounts aside) and stores them as a new snapshot,
// which it returns.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (*admeter.BenchmarkSnapshot, error) {
	from, to, err := s.period(req.From, req.To)
	if err != nil {
		return nil, err
	}
	rules := s.cfg.Rules.Stricter(req.Rules)
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	snap, err := s.Compute(ctx, from, to, rules)
	if err != nil {
		return nil, err
	}
	if err := s.meta.SaveBenchmarks(ctx, snap); err != nil {
		return nil, fmt.Errorf("save benchmark snapshot: %w", err)
	}
	s.logger.Info("benchmarks published", "snapshot", snap.ID, "from", req.From, "to", req.To,
		"cells", len(snap.Cells), "withheld", snap.Withheld)
	return snap, nil
}

// period parses and checks a period.
func (s *Service) period(from, to string) (store.Date, store.Date, error) {
	var zero store.Date
	f, t, err := store.ParseDateRange(from, to, s.cfg.MaxDays, "")
	if err != nil {
		return zero, zero, err
	}
	if s.cfg.RawFrom != nil {
		// The earliest zone starts its day 14 hours before UTC.
		if raw := s.cfg.RawFrom(); !raw.IsZero() && f.In(time.UTC).Add(-14*time.Hour).Before(raw) {
			return zero, zero, admeter.Errorf(admeter.EINVALID, "the period starts before %s, past the raw-data retention: reach and viewability need raw events; choose a later period", raw.UTC().Format(time.DateOnly))
		}
	}
	return f, t, nil
}

// cellKey identifies a cell.
type cellKey struct {
	industry admeter.Industry
	media    string
}

// Compute returns the benchmarks of the days [from, to] under rules,
// without storing them (ID and Published are zero).
func (s *Service) Compute(ctx context.Context, from, to store.Date, rules Rules) (*admeter.BenchmarkSnapshot, error) {
	tenants, err := s.meta.Tenants(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	industry := map[admeter.TenantID]admeter.Industry{}
	for _, t := range tenants {
		if t.Industry != "" && t.Status != admeter.TenantClosed {
			industry[t.ID] = t.Industry
		}
	}
	campaigns, err := s.meta.AllCampaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	cells := map[cellKey][]Contribution{}
	for _, c := range campaigns {
		ind, ok := industry[c.Tenant]
		if !ok {
			continue
		}
		byMedia, err := s.campaign(ctx, c, from, to, nil)
		if err != nil {
			return nil, err
		}
		for media, contrib := range byMedia {
			k := cellKey{ind, media}
			cells[k] = append(cells[k], contrib)
		}
	}
	snap := &admeter.BenchmarkSnapshot{From: from.In(time.UTC), To: to.In(time.UTC),
		MinTenants: rules.MinTenants, MinUsers: rules.MinUsers, MaxShare: rules.MaxShare}
	for k, cs := range cells {
		cell, why := Cell(rules, k.industry, k.media, cs)
		if why != "" {
			snap.Withheld++
			continue
		}
		snap.Cells = append(snap.Cells, cell)
	}
	admeter.SortBenchmarkCells(snap.Cells)
	return snap, nil
}

// campaign returns a campaign's contributions over local days [from, to]
// in its zone: one per media key with traffic, and the all-media one under
// "". With only, the campaign's other placements are left out.
func (s *Service) campaign(ctx context.Context, c *admeter.Campaign, from, to store.Date, only []admeter.PlacementID) (map[string]Contribution, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("load campaign time zone %q: %w", c.Timezone, err)
	}
	mediaOf := map[admeter.PlacementID]string{}
	for _, p := range c.Placements {
		if len(only) == 0 || slices.Contains(only, p.ID) {
			mediaOf[p.ID] = MediaKey(p.Media)
		}
	}
	q := store.ReportQuery{Tenant: c.Tenant, Campaign: c.ID, From: from.In(loc), To: to.AddDays(1).In(loc), Location: loc,
		By: []store.Dimension{store.ByPlacement}, Placements: only}
	rep, err := s.store.Report(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query campaign report: %w", err)
	}
	out := map[string]Contribution{}
	add := func(p admeter.PlacementID, c Contribution) {
		media, ok := mediaOf[p]
		if !ok {
			return // a placement since removed, or not the caller's
		}
		for _, k := range []string{media, ""} {
			cur := out[k]
			cur.Add(c)
			out[k] = cur
		}
	}
	for _, row := range rep.Rows {
		add(admeter.PlacementID(row.Dims[0]), Contribution{Impressions: row.Impressions, Clicks: row.Clicks, InvalidImpressions: row.InvalidImpressions})
	}
	if len(out) == 0 {
		return out, nil
	}
	view, err := s.store.Viewability(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query campaign viewability: %w", err)
	}
	for _, row := range view.Rows {
		add(admeter.PlacementID(row.Dims[0]), Contribution{Measurable: row.Measurable, Viewable: row.Viewable})
	}
	for media := range out {
		var ps []admeter.PlacementID
		for p, m := range mediaOf {
			if media == "" || m == media {
				ps = append(ps, p)
			}
		}
		slices.Sort(ps)
		f, err := s.store.Frequency(ctx, store.FrequencyQuery{Tenant: c.Tenant, Campaign: c.ID, From: q.From, To: q.To, Location: loc, Placements: ps})
		if err != nil {
			return nil, fmt.Errorf("query campaign frequency: %w", err)
		}
		cur := out[media]
		cur.Tenant = c.Tenant
		cur.Reach, cur.ReachImpressions, cur.MaxReach = f.Reach, f.Impressions, f.Reach
		out[media] = cur
	}
	return out, nil
}

// Snapshot returns the latest snapshot, or with period "FROM/TO" (dates
// YYYY-MM-DD) the latest of that period. Returns ENOTFOUND if there is
// none.
func (s *Service) Snapshot(ctx context.Context, period string) (*admeter.BenchmarkSnapshot, error) {
	var from, to time.Time
	if period != "" {
		a, b, ok := strings.Cut(period, "/")
		if !ok {
			return nil, admeter.Errorf(admeter.EINVALID, "period must be FROM/TO, two dates YYYY-MM-DD, not %q", period)
		}
		f, t, err := s.period(a, b)
		if err != nil {
			return nil, err
		}
		from, to = f.In(time.UTC), t.In(time.UTC)
	}
	snap, err := s.meta.Benchmarks(ctx, from, to)
	if admeter.ErrorCode(err) == admeter.ENOTFOUND {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "no benchmarks are published for %s yet; the operator publishes them with POST /api/v1/admin/benchmarks", cmp.Or(period, "any period"))
	}
	return snap, err
}

// Snapshots lists the published snapshots, newest first, without cells.
func (s *Service) Snapshots(ctx context.Context) ([]*admeter.BenchmarkSnapshot, error) {
	return s.meta.BenchmarkSnapshots(ctx)
}

// CompareRequest asks where one campaign stands.
type CompareRequest struct {
	// Tenant owns the campaign; its industry picks the cells.
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	// From and To (YYYY-MM-DD, both or neither) are the campaign's days;
	// neither: the snapshot's period.
	From, To string
	// Period picks the snapshot as Snapshot does ("": the latest).
	Period string
	// Placements, if not empty, limits the campaign to those placements
	// (a media partner's view).
	Placements []admeter.PlacementID
}

// Comparison is a campaign's measures beside its industry's benchmarks.
type Comparison struct {
	Campaign admeter.CampaignID `json:"campaign"`
	Industry admeter.Industry   `json:"industry"`
	// From and To are the campaign's days compared.
	From string `json:"from"`
	To   string `json:"to"`
	// Snapshot is the benchmark snapshot compared against (without its
	// cells).
	Snapshot SnapshotInfo `json:"snapshot"`
	// Rows are per media with traffic, the all-media row ("") first.
	Rows []ComparisonRow `json:"rows"`
	// Note says why there is nothing to compare against, if so.
	Note string `json:"note,omitempty"`
}

// SnapshotInfo describes a snapshot without its cells.
type SnapshotInfo struct {
	ID         int64     `json:"id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Published  time.Time `json:"published"`
	MinTenants int       `json:"min_tenants"`
	MinUsers   int64     `json:"min_users"`
	MaxShare   float64   `json:"max_share"`
	CellCount  int       `json:"cell_count"`
	Withheld   int       `json:"withheld"`
}

// Info returns the description of snap.
func Info(snap *admeter.BenchmarkSnapshot) SnapshotInfo {
	return SnapshotInfo{ID: snap.ID, From: snap.From.Format(time.DateOnly), To: snap.To.Format(time.DateOnly), Published: snap.Published,
		MinTenants: snap.MinTenants, MinUsers: snap.MinUsers, MaxShare: snap.MaxShare, CellCount: len(snap.Cells), Withheld: snap.Withheld}
}

// ComparisonRow is the campaign on one media (or all media: "").
type ComparisonRow struct {
	Media string `json:"media"`
	// Benchmarked is true when the industry has a published cell for the
	// media.
	Benchmarked bool                `json:"benchmarked"`
	Tenants     int                 `json:"tenants,omitempty"`
	Measures    []MeasureComparison `json:"measures"`
}

// MeasureComparison is one measure of the campaign beside its benchmark.
type MeasureComparison struct {
	Measure string `json:"measure"`
	// Value is the campaign's own value, nil without a denominator (no
	// measured impression, say).
	Value *float64 `json:"value"`
	// Benchmark is the cell's value, nil when withheld or absent.
	Benchmark *admeter.BenchmarkValue `json:"benchmark"`
	// Position is where Value stands, "" when either is missing.
	Position Position `json:"position,omitempty"`
}

// Compare returns a campaign's CTR, viewable rate, IVT rate and average
// frequency per media and over all media, beside the published cells of
// its tenant's industry and its position among them. Only published cells
// are shown (they passed the aggregation rules); the campaign's own values
// are its tenant's own data.
func (s *Service) Compare(ctx context.Context, req CompareRequest) (*Comparison, error) {
	c, err := s.meta.Campaign(ctx, req.Tenant, req.Campaign)
	if err != nil {
		return nil, err
	}
	if (req.From == "") != (req.To == "") {
		return nil, admeter.Errorf(admeter.EINVALID, "give both from and to (YYYY-MM-DD), or neither for the benchmark's own period")
	}
	snap, err := s.Snapshot(ctx, req.Period)
	if err != nil {
		return nil, err
	}
	from, to := store.DateOf(snap.From), store.DateOf(snap.To)
	if req.From != "" {
		if from, to, err = s.period(req.From, req.To); err != nil {
			return nil, err
		}
	}
	t, err := s.meta.Tenant(ctx, req.Tenant)
	if err != nil {
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	out := &Comparison{Campaign: c.ID, Industry: t.Industry, From: from.String(), To: to.String(), Snapshot: Info(snap), Rows: []ComparisonRow{}}
	if t.Industry == "" {
		out.Note = "Your account has no industry set, so there is no benchmark to compare against: an owner sets it with PATCH /api/v1/account {\"industry\": …}. / 账户尚未设置行业,无可比较的行业基准:所有者可通过 PATCH /api/v1/account 设置。"
	}
	byMedia, err := s.campaign(ctx, c, from, to, req.Placements)
	if err != nil {
		return nil, err
	}
	cells := map[string]admeter.BenchmarkCell{}
	for _, cell := range snap.Cells {
		if cell.Industry == t.Industry {
			cells[cell.Media] = cell
		}
	}
	for _, media := range slices.Sorted(maps.Keys(byMedia)) {
		own := byMedia[media]
		cell, ok := cells[media]
		row := ComparisonRow{Media: media, Benchmarked: ok, Tenants: cell.Tenants}
		for _, m := range admeter.BenchmarkMeasures {
			mc := MeasureComparison{Measure: m}
			if v, ok := own.Value(m); ok {
				mc.Value = &v
			}
			if b := cell.Value(m); ok && b.Published() {
				bv := *b
				mc.Benchmark = &bv
				if mc.Value != nil {
					mc.Position = PositionOf(*mc.Value, bv)
				}
			}
			row.Measures = append(row.Measures, mc)
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}
