package social

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/social/analysis"
	"github.com/admeter/admeter/social/feed"
	"github.com/admeter/admeter/social/textproc"
	"github.com/admeter/admeter/store"
)

// Store is what the service needs of the analytical store.
type Store interface {
	InsertPosts(ctx context.Context, posts []admeter.SocialPost) (int, error)
	ScanPosts(ctx context.Context, q store.PostQuery, fn func(*admeter.SocialPost) error) error
	Daily(ctx context.Context, q store.DailyQuery) ([]store.DailyRow, error)
}

// Settings keeps tenants' social settings (the metadata store).
type Settings interface {
	SocialSettings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error)
	SetSocialSettings(ctx context.Context, s *admeter.SocialSettings) error
}

// Campaigns finds a tenant's campaigns (to align mentions with delivery).
type Campaigns interface {
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
}

// Keys gives the pseudonymisation keys: the current one for new records,
// every live one to recognise official accounts in older records.
type Keys interface {
	Current() *pseudo.Pseudonymizer
	Pseudonymizers() []*pseudo.Pseudonymizer
}

// OptOuts answers whether an identifier is in the opt-out registry, asked
// with its pseudonym under the registry's key.
type OptOuts interface {
	Contains(p admeter.Pseudonym) bool
}

// Token labels of the pseudonyms the service makes besides authors'.
const (
	labelPostID = "admeter/social-record/v1"
)

// Config holds the service's settings. The zero value of a field means its
// default.
type Config struct {
	// MinAuthors is the aggregation threshold: a report cell computed
	// from fewer distinct authors is suppressed. Default 10.
	MinAuthors int
	// MaxAge is the age beyond which records are refused: the raw-data
	// retention, after which they would be deleted anyway. Default 180
	// days.
	MaxAge time.Duration
	// MaxDays is the longest report range, in days. Default 366.
	MaxDays int
	// MaxPosts is the most records one report reads; a larger range is
	// refused with advice to narrow it. Default 1 000 000 (about 50 s and
	// 2–3 GB of memory for the analysis on 2 cores).
	MaxPosts int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.MinAuthors <= 0 {
		c.MinAuthors = 10
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 180 * 24 * time.Hour
	}
	if c.MaxDays <= 0 {
		c.MaxDays = 366
	}
	if c.MaxPosts <= 0 {
		c.MaxPosts = 1_000_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service ingests partner feeds and answers social reports.
type Service struct {
	cfg       Config
	store     Store
	settings  Settings
	campaigns Campaigns
	keys      Keys
	optouts   OptOuts
	optPS     *pseudo.Pseudonymizer
	logger    *slog.Logger
	m         metrics
}

// New returns a Service. optPS is the opt-out registry's pseudonymizer,
// under which optouts is asked. reg may be nil.
func New(cfg Config, st Store, settings Settings, campaigns Campaigns, keys Keys, optouts OptOuts, optPS *pseudo.Pseudonymizer, logger *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if st == nil || settings == nil || campaigns == nil || keys == nil || optouts == nil || optPS == nil {
		return nil, errors.New("new social service: store, settings, campaigns, keys and opt-out registry are required")
	}
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, store: st, settings: settings, campaigns: campaigns, keys: keys, optouts: optouts, optPS: optPS, logger: logger, m: newMetrics(reg)}
	return s, nil
}

// text returns the process's text tools, loading them if they are not in
// memory (see textCache), and the function to call when done with them.
func (s *Service) text() (*textTools, func(), error) {
	start := time.Now()
	t, loaded, err := texts.acquire(s.logger)
	if err != nil {
		return nil, nil, err
	}
	if loaded {
		s.logger.Info("social text processing loaded", "took", time.Since(start).Round(time.Millisecond))
	}
	return t, texts.release, nil
}

// Preload loads the Chinese dictionary and the sentiment lexicon now and
// keeps them for the life of the process, so that no upload or report
// waits for them (a load takes seconds) and they are never released when
// idle. It blocks until they are loaded; call it in its own goroutine.
func (s *Service) Preload() {
	texts.pin()
	_, done, err := s.text()
	if err != nil {
		s.logger.Error("load social text processing", "err", err)
		return
	}
	done()
}

// Format is the format of a feed upload.
type Format string

// Upload formats.
const (
	FormatJSON Format = "json" // a JSON array, or one JSON object per line (NDJSON)
	FormatCSV  Format = "csv"  // a header row, then one record per row
)

// maxErrors bounds the record errors an IngestResult lists.
const maxErrors = 100

// IngestResult says what became of an upload's records: counts, and the
// first errors (which never quote an author).
type IngestResult struct {
	Received   int           `json:"received"`
	Stored     int           `json:"stored"`
	Duplicates int           `json:"duplicates"`
	OptedOut   int           `json:"opted_out"`
	Rejected   int           `json:"rejected"`
	Errors     []RecordError `json:"errors,omitempty"`
}

// RecordError says which record of an upload was refused and why, without
// quoting it.
type RecordError struct {
	// Index is the record's 0-based position in the upload; Line the line
	// it starts on (NDJSON and CSV).
	Index   int    `json:"index"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Ingest reads one upload of a tenant's partner feed, de-identifies its
// records and stores them: all of them, committed, before it returns, or
// none if it fails. Records that do not validate are counted and listed
// (the first maxErrors) and the others are stored; a body that cannot be
// read as the format is EINVALID and stores nothing.
func (s *Service) Ingest(ctx context.Context, tenant admeter.TenantID, format Format, r io.Reader) (*IngestResult, error) {
	tools, done, err := s.text()
	if err != nil {
		return nil, err
	}
	defer done()
	scorer := tools.scorer
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	opt := feed.Options{Now: now, MaxAge: s.cfg.MaxAge}
	ps := s.keys.Current()
	res := &IngestResult{}
	var posts []admeter.SocialPost
	add := func(index int, rec feed.Record) error {
		res.Received++
		p := admeter.SocialPost{
			Tenant: tenant, Source: rec.Source, Kind: rec.Kind, At: rec.At.UTC().Truncate(time.Millisecond), Received: now,
			Likes: rec.Likes, Comments: rec.Comments, Shares: rec.Shares, Views: rec.Views, Count: max(rec.Count, 1),
			KeyVersion: ps.Version(),
		}
		// The record id's pseudonym is made under the opt-out registry's
		// key, which never rotates, so that a record resent after a key
		// rotation is still recognised; authors are under the event key,
		// which retention destroys once nothing uses it.
		p.ID = s.optPS.Token(labelPostID, []byte(rec.Source+"\x00"+rec.ID))
		if rec.Kind.Authored() {
			c, reason := pseudo.CanonicalHandle(rec.Source, rec.Author)
			if reason != pseudo.ReasonOK {
				res.Rejected++
				s.m.records.WithLabelValues("rejected").Inc()
				res.Errors = append(res.Errors, RecordError{Index: index, Field: "author", Message: "the handle is " + reason.String() + "; send the author's handle on the source platform"})
				return nil
			}
			if s.optouts.Contains(s.optPS.Pseudonym(admeter.IDSocial, c)) {
				res.OptedOut++
				s.m.records.WithLabelValues("opted_out").Inc()
				return nil
			}
			p.Author = ps.Pseudonym(admeter.IDSocial, c)
			p.Text = clipRunes(feed.Redact(rec.Text), admeter.MaxSocialText)
			p.Sentiment = float32(scorer.Score(p.Text).Score)
			p.ExactKey, p.Fingerprint, _ = textproc.ContentKeys(p.Text)
		} else {
			// A search term is an aggregate's, but people search for
			// phone numbers too.
			p.Text = feed.Redact(rec.Text)
		}
		posts = append(posts, p)
		return nil
	}
	var errs []feed.RecordError
	switch format {
	case FormatJSON:
		errs, err = feed.ParseJSON(r, opt, add)
	case FormatCSV:
		errs, err = feed.ParseCSV(r, opt, add)
	default:
		return nil, admeter.Errorf(admeter.EINVALID, "format %q: send JSON (an array or one object per line) or CSV", format)
	}
	if err != nil {
		s.m.uploads.WithLabelValues("invalid").Inc()
		return nil, err
	}
	res.Rejected += len(errs)
	s.m.records.WithLabelValues("rejected").Add(float64(len(errs)))
	for _, e := range errs {
		res.Errors = append(res.Errors, RecordError{Index: e.Index, Line: e.Line, Field: e.Field, Message: e.Msg})
	}
	slices.SortFunc(res.Errors, func(a, b RecordError) int { return cmp.Compare(a.Index, b.Index) })
	res.Errors = res.Errors[:min(len(res.Errors), maxErrors)]
	res.Received += len(errs)
	if res.Received == 0 {
		s.m.uploads.WithLabelValues("invalid").Inc()
		return nil, admeter.Errorf(admeter.EINVALID, "the upload holds no records: send a JSON array, one JSON object a line, or CSV with a header row and at least one record")
	}
	if len(posts) > 0 {
		n, err := s.store.InsertPosts(ctx, posts)
		if err != nil {
			s.m.uploads.WithLabelValues("failed").Inc()
			return nil, fmt.Errorf("store social records: %w", err)
		}
		res.Stored, res.Duplicates = n, len(posts)-n
		s.m.records.WithLabelValues("stored").Add(float64(n))
		s.m.records.WithLabelValues("duplicate").Add(float64(len(posts) - n))
	}
	s.m.uploads.WithLabelValues("ok").Inc()
	return res, nil
}

// clipRunes cuts s to at most n characters.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// Settings returns the tenant's social settings.
func (s *Service) Settings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error) {
	return s.settings.SocialSettings(ctx, tenant)
}

// SaveSettings checks a tenant's settings, including that its keyword
// rules compile, and saves them.
func (s *Service) SaveSettings(ctx context.Context, set *admeter.SocialSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if _, err := textproc.CompileRules(rulesOf(set)); err != nil {
		return err
	}
	for i, a := range set.Official {
		if _, r := pseudo.CanonicalHandle(a.Source, a.Handle); r != pseudo.ReasonOK {
			return admeter.Errorf(admeter.EINVALID, "official_accounts[%d]: the handle is %s", i, r)
		}
	}
	return s.settings.SetSocialSettings(ctx, set)
}

// rulesOf returns the brand and competitor rules of set as textproc rules.
func rulesOf(set *admeter.SocialSettings) []textproc.Rule {
	var out []textproc.Rule
	for _, group := range [][]admeter.SocialRule{set.Brands, set.Competitors} {
		for _, r := range group {
			out = append(out, textproc.Rule{Name: r.Name, Terms: r.Terms, Exclusions: r.Exclusions})
		}
	}
	return out
}

// ReportRequest asks for a tenant's social report.
type ReportRequest struct {
	Tenant admeter.TenantID
	// From and To are the first and last local days.
	From, To store.Date
	// Campaign, when set, aligns mentions with its delivery; days are then
	// in its time zone. Otherwise days are in China Standard Time.
	Campaign admeter.CampaignID
	// Sources, when not empty, keeps only records of those sources.
	Sources []string
	// Keywords and Topics are how many of each the report lists (0 for
	// the defaults).
	Keywords, Topics int
}

// Report answers a tenant's social report: aggregates only (see package
// social/analysis).
func (s *Service) Report(ctx context.Context, req ReportRequest) (*analysis.Report, error) {
	if req.To.Before(req.From) {
		return nil, admeter.Errorf(admeter.EINVALID, "from %s is after to %s", req.From, req.To)
	}
	if n := int(req.To.In(time.UTC).Sub(req.From.In(time.UTC)).Hours()/24) + 1; n > s.cfg.MaxDays {
		return nil, admeter.Errorf(admeter.EINVALID, "the range has %d days; ask for at most %d", n, s.cfg.MaxDays)
	}
	for _, src := range req.Sources {
		if err := admeter.ValidSocialSource(src); err != nil {
			return nil, err
		}
	}
	set, err := s.settings.SocialSettings(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	if len(set.Brands) == 0 {
		return nil, admeter.Errorf(admeter.EINVALID, "name your brands first: PUT /api/v1/social/settings with brands (and competitors), or the console's social settings")
	}
	loc := shanghai
	var delivery map[store.Date]int64
	if req.Campaign != "" {
		c, err := s.campaigns.Campaign(ctx, req.Tenant, req.Campaign)
		if err != nil {
			return nil, err
		}
		if loc, err = time.LoadLocation(c.Timezone); err != nil {
			return nil, fmt.Errorf("campaign %s time zone: %w", c.ID, err)
		}
		rows, err := s.store.Daily(ctx, store.DailyQuery{Tenant: req.Tenant, Campaign: c.ID, From: req.From, To: req.To})
		if err != nil {
			return nil, fmt.Errorf("read the campaign's delivery: %w", err)
		}
		delivery = make(map[store.Date]int64)
		for _, r := range rows {
			delivery[r.Day] += r.Impressions
		}
	}
	tools, done, err := s.text()
	if err != nil {
		return nil, err
	}
	defer done()
	seg := tools.seg
	var posts []admeter.SocialPost
	// A store is idempotent on (source, id) for one writer; with several
	// API nodes uploading the same record at once (a cluster), both copies
	// may land. Count each record once whatever the store holds.
	type recordKey struct {
		source string
		id     admeter.Pseudonym
	}
	seen := make(map[recordKey]struct{})
	q := store.PostQuery{Tenant: req.Tenant, From: req.From.In(loc), To: req.To.AddDays(1).In(loc), Sources: req.Sources}
	err = s.store.ScanPosts(ctx, q, func(p *admeter.SocialPost) error {
		if len(posts) >= s.cfg.MaxPosts {
			return errTooMany
		}
		k := recordKey{p.Source, p.ID}
		if _, dup := seen[k]; dup {
			return nil
		}
		seen[k] = struct{}{}
		posts = append(posts, *p)
		return nil
	})
	if errors.Is(err, errTooMany) {
		return nil, admeter.Errorf(admeter.EINVALID, "the range holds more than %d social records; ask for fewer days or sources", s.cfg.MaxPosts)
	} else if err != nil {
		return nil, fmt.Errorf("read social records: %w", err)
	}
	official := make(map[admeter.Pseudonym]string)
	for _, a := range set.Official {
		c, r := pseudo.CanonicalHandle(a.Source, a.Handle)
		if r != pseudo.ReasonOK {
			continue
		}
		name := a.Name
		if name == "" {
			name = a.Source + ":" + strings.TrimLeft(a.Handle, "@")
		}
		for _, ps := range s.keys.Pseudonymizers() {
			official[ps.Pseudonym(admeter.IDSocial, c)] = name
		}
	}
	return analysis.Analyze(analysis.Input{
		Posts: posts, Brands: set.Brands, Competitors: set.Competitors, Official: official,
		From: req.From, To: req.To, Location: loc, Delivery: delivery,
		MinAuthors: s.cfg.MinAuthors, Segmenter: seg, Keywords: req.Keywords, Topics: req.Topics,
	})
}

var errTooMany = errors.New("too many social records")

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// metrics counts what ingestion does.
type metrics struct {
	records *prometheus.CounterVec
	uploads *prometheus.CounterVec
	ready   prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "admeter", Subsystem: "social", Name: "records_total",
			Help: "Social records received, by outcome: stored, duplicate, opted_out (author in the opt-out registry), rejected."}, []string{"outcome"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "admeter", Subsystem: "social", Name: "uploads_total",
			Help: "Social feed uploads, by outcome: ok, invalid (unreadable body), failed (store error)."}, []string{"outcome"}),
		ready: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "admeter", Subsystem: "social", Name: "text_ready",
			Help: "Whether the Chinese dictionary and sentiment lexicon are in memory (1) or not (0): they load on the first upload or report, which waits for them, and are released after 10 minutes unused unless --social-preload."},
			func() float64 {
				if texts.loaded() {
					return 1
				}
				return 0
			}),
	}
	for _, o := range []string{"stored", "duplicate", "opted_out", "rejected"} {
		m.records.WithLabelValues(o)
	}
	for _, o := range []string{"ok", "invalid", "failed"} {
		m.uploads.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.records, m.uploads, m.ready)
	}
	return m
}
