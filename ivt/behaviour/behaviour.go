package behaviour

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DefaultRules returns the default thresholds; the package documentation
// gives the reasoning of each.
func DefaultRules() store.BehaviourRules {
	return store.BehaviourRules{
		UserFrequency:         []store.WindowLimit{{Window: time.Minute, Max: 10}, {Window: time.Hour, Max: 30}, {Window: 24 * time.Hour, Max: 300}},
		NetFrequency:          []store.WindowLimit{{Window: time.Minute, Max: 600}, {Window: time.Hour, Max: 20000}},
		OrphanLookback:        24 * time.Hour,
		OrphanSkew:            5 * time.Minute,
		MinClickDelay:         time.Second,
		UserCTR:               store.CTRLimit{MinClicks: 5, MaxCTR: 0.5},
		NetCTR:                store.CTRLimit{MinClicks: 30, MaxCTR: 0.1},
		HopWindow:             10 * time.Minute,
		MaxNets:               4,
		MaxRegions:            2,
		ConcentrationMin:      10000,
		ConcentrationShare:    0.02,
		NetConcentrationShare: 0.25,
	}
}

// rulesFile is the JSON form of the rules: durations as Go durations
// ("90s", "1h"). A field left out keeps its default; a zero turns its rule
// off.
type rulesFile struct {
	UserFrequency      *[]limitJSON    `json:"user_frequency"`
	NetFrequency       *[]limitJSON    `json:"net_frequency"`
	OrphanLookback     *duration       `json:"orphan_lookback"`
	OrphanSkew         *duration       `json:"orphan_skew"`
	MinClickDelay      *duration       `json:"min_click_delay"`
	UserCTR            *store.CTRLimit `json:"user_ctr"`
	NetCTR             *store.CTRLimit `json:"net_ctr"`
	HopWindow          *duration       `json:"hop_window"`
	MaxNets            *int            `json:"max_nets"`
	MaxRegions         *int            `json:"max_regions"`
	ConcentrationMin   *int            `json:"concentration_min"`
	ConcentrationShare *float64        `json:"concentration_share"`
	NetConcentration   *float64        `json:"net_concentration_share"`
}

type limitJSON struct {
	Window duration `json:"window"`
	Max    int      `json:"max"`
}

// duration is a time.Duration written as a string.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"90s\" or \"1h\", not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = duration(v)
	return nil
}

// ParseRules reads rules in JSON over the defaults and validates them.
// Unknown fields are errors, so a misspelt threshold is not silently
// ignored.
func ParseRules(data []byte) (store.BehaviourRules, error) {
	var f rulesFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return store.BehaviourRules{}, admeter.Errorf(admeter.EINVALID, "behaviour rules: %v", err)
	}
	r := DefaultRules()
	limits := func(in *[]limitJSON, out *[]store.WindowLimit) {
		if in == nil {
			return
		}
		*out = nil
		for _, l := range *in {
			*out = append(*out, store.WindowLimit{Window: time.Duration(l.Window), Max: l.Max})
		}
	}
	limits(f.UserFrequency, &r.UserFrequency)
	limits(f.NetFrequency, &r.NetFrequency)
	for _, d := range []struct {
		in  *duration
		out *time.Duration
	}{{f.OrphanLookback, &r.OrphanLookback}, {f.OrphanSkew, &r.OrphanSkew}, {f.MinClickDelay, &r.MinClickDelay}, {f.HopWindow, &r.HopWindow}} {
		if d.in != nil {
			*d.out = time.Duration(*d.in)
		}
	}
	for _, n := range []struct {
		in  *int
		out *int
	}{{f.MaxNets, &r.MaxNets}, {f.MaxRegions, &r.MaxRegions}, {f.ConcentrationMin, &r.ConcentrationMin}} {
		if n.in != nil {
			*n.out = *n.in
		}
	}
	if f.UserCTR != nil {
		r.UserCTR = *f.UserCTR
	}
	if f.NetCTR != nil {
		r.NetCTR = *f.NetCTR
	}
	if f.ConcentrationShare != nil {
		r.ConcentrationShare = *f.ConcentrationShare
	}
	if f.NetConcentration != nil {
		r.NetConcentrationShare = *f.NetConcentration
	}
	if err := r.Validate(); err != nil {
		return store.BehaviourRules{}, err
	}
	return r, nil
}

// LoadRules reads a rules file (see ParseRules); an empty path gives the
// defaults.
func LoadRules(path string) (store.BehaviourRules, error) {
	if path == "" {
		return DefaultRules(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return store.BehaviourRules{}, fmt.Errorf("read behaviour rules: %w", err)
	}
	r, err := ParseRules(data)
	if err != nil {
		return store.BehaviourRules{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Store judges stored events.
type Store interface {
	JudgeBehaviour(ctx context.Context, day store.Date, rules store.BehaviourRules) (store.Judged, error)
}

// Rollups recomputes the rollups of a campaign's local days from from
// through to (in the campaign's zone).
type Rollups interface {
	Refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) error
}

// Config holds a Job's settings.
type Config struct {
	Rules store.BehaviourRules
	// Days is how many UTC days a run judges, today included: 2 (today
	// and yesterday) by default, so that yesterday's last hours are
	// judged with all their events.
	Days int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Job judges recent days. It is safe for concurrent use; runs are
// serialized.
type Job struct {
	cfg     Config
	store   Store
	rollups Rollups
	logger  *slog.Logger
	m       metrics
	mu      sync.Mutex
}

// New returns a Job; reg and logger may be nil.
func New(cfg Config, st Store, rollups Rollups, logger *slog.Logger, reg prometheus.Registerer) (*Job, error) {
	if st == nil || rollups == nil {
		return nil, errors.New("new behaviour job: missing dependency")
	}
	if err := cfg.Rules.Validate(); err != nil {
		return nil, err
	}
	if cfg.Days <= 0 {
		cfg.Days = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	j := &Job{cfg: cfg, store: st, rollups: rollups, logger: logger, m: newMetrics()}
	if reg != nil {
		if err := j.m.register(reg); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// Result is what a run did.
type Result struct {
	Days []DayResult
}

// DayResult is one judged day.
type DayResult struct {
	Day store.Date
	store.Judged
}

// Run judges the last Config.Days UTC days, oldest first, and refreshes the
// rollups of the campaigns whose verdicts changed. A failure stops the run;
// the next run judges the days again (judging is idempotent).
func (j *Job) Run(ctx context.Context) (*Result, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	start := time.Now()
	today := store.DateOf(j.cfg.Now().UTC())
	res := &Result{}
	for i := j.cfg.Days - 1; i >= 0; i-- {
		day := store.DateOf(today.In(time.UTC).AddDate(0, 0, -i))
		judged, err := j.store.JudgeBehaviour(ctx, day, j.cfg.Rules)
		if err != nil {
			j.m.errors.Inc()
			return res, err
		}
		// Rollups must follow the new verdicts even if shutdown comes now.
		keep := context.WithoutCancel(ctx)
		for _, c := range judged.Campaigns {
			if err := j.rollups.Refresh(keep, c.Tenant, c.Campaign, c.From, c.To); err != nil {
				j.m.errors.Inc()
				return res, fmt.Errorf("refresh rollups of campaign %s after judging %s: %w", c.Campaign, day, err)
			}
		}
		j.m.changed.Add(float64(judged.Changed))
		if i == 0 {
			for _, r := range admeter.IVTReasons() {
				if r&admeter.SophisticatedIVT != 0 {
					j.m.flagged.WithLabelValues(r.String()).Set(float64(judged.Flagged[r]))
				}
			}
		}
		if judged.Changed > 0 {
			j.logger.Info("behavioural verdicts changed", "day", day.String(), "events", judged.Events, "changed", judged.Changed, "campaigns", len(judged.Campaigns))
		}
		res.Days = append(res.Days, DayResult{Day: day, Judged: judged})
	}
	j.m.runs.Inc()
	j.m.duration.Observe(time.Since(start).Seconds())
	j.m.last.SetToCurrentTime()
	return res, nil
}

// Loop runs the job now and then every interval until ctx is done.
func (j *Job) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Run(ctx); err != nil && ctx.Err() == nil {
			j.logger.Error("behavioural invalid-traffic run failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type metrics struct {
	runs, changed, errors prometheus.Counter
	flagged               *prometheus.GaugeVec
	duration              prometheus.Histogram
	last                  prometheus.Gauge
}

func newMetrics() metrics {
	const ns, sub = "admeter", "ivt_behaviour"
	return metrics{
		runs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "runs_total", Help: "Completed runs of the behavioural (sophisticated) invalid-traffic job."}),
		changed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "changed_total", Help: "Events whose behavioural verdict a run changed (set or cleared)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Failed runs (retried at the next interval)."}),
		flagged: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "flagged_today", Help: "Events of the current UTC day carrying each behavioural reason, as of the last run."}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "run_duration_seconds", Help: "Time of one run.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_success_timestamp_seconds", Help: "When the last run completed (Unix time)."}),
	}
}

func (m metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.runs, m.changed, m.errors, m.flagged, m.duration, m.last} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register behaviour metrics: %w", err)
		}
	}
	return nil
}
