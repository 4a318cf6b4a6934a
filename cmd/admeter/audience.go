package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/admeter/admeter/insight"
	"github.com/admeter/admeter/taxonomy"
)

// AudienceConfig is the privacy configuration of audience insight (see
// docs/audience.md).
type AudienceConfig struct {
	// MinUsers is the threshold k: at least insight.DefaultMinUsers.
	MinUsers         int
	InterestDays     int
	InterestLookback time.Duration
	MaxInterests     int
	// Epsilon is the default privacy loss of a noisy request, Budget a
	// campaign's total (decimals with at most three places).
	Epsilon string
	Budget  string
	// Noise, if laplace or gaussian, adds noise to every release.
	Noise string
}

// defaultAudienceConfig returns insight's defaults.
func defaultAudienceConfig() AudienceConfig {
	d := insight.DefaultConfig()
	return AudienceConfig{MinUsers: d.MinUsers, InterestDays: d.InterestDays, InterestLookback: d.InterestLookback,
		MaxInterests: d.MaxInterests, Epsilon: insight.FormatEpsilon(d.EpsilonMilli), Budget: insight.FormatEpsilon(d.BudgetMilli)}
}

// registerAudienceFlags adds the --audience-* flags.
func registerAudienceFlags(fs *flag.FlagSet, c *AudienceConfig) {
	fs.IntVar(&c.MinUsers, "audience-min-users", c.MinUsers, fmt.Sprintf("audience insight threshold k: no published number describes fewer users; at least %d (may be raised, never lowered) / 人群洞察最小人数", insight.DefaultMinUsers))
	fs.IntVar(&c.InterestDays, "audience-interest-days", c.InterestDays, "distinct days of exposure to a content category that make an interest")
	fs.DurationVar(&c.InterestLookback, "audience-interest-lookback", c.InterestLookback, "how far before the range exposures count toward interests (at most 2160h)")
	fs.IntVar(&c.MaxInterests, "audience-max-interests", c.MaxInterests, "most interests counted per user (bounds each user's contribution, and so the noise)")
	fs.StringVar(&c.Epsilon, "audience-epsilon", c.Epsilon, "privacy loss (epsilon) of a noisy audience request that names none")
	fs.StringVar(&c.Budget, "audience-budget", c.Budget, "total privacy loss (epsilon) a campaign's noisy audience releases may spend; requests past it are refused / 隐私预算")
	fs.StringVar(&c.Noise, "audience-noise", c.Noise, "laplace or gaussian: add differential-privacy noise to every audience release (default: only when the request asks)")
}

// insightConfig returns the insight configuration, or every problem.
func (c AudienceConfig) insightConfig() (insight.Config, error) {
	cfg := insight.DefaultConfig()
	cfg.MinUsers, cfg.InterestDays, cfg.InterestLookback, cfg.MaxInterests = c.MinUsers, c.InterestDays, c.InterestLookback, c.MaxInterests
	cfg.ForceNoise = c.Noise
	var errs []error
	var err error
	if cfg.EpsilonMilli, err = insight.ParseEpsilon(c.Epsilon); err != nil {
		errs = append(errs, fmt.Errorf("--audience-epsilon must be a decimal with at most three places, not %q", c.Epsilon))
	}
	if cfg.BudgetMilli, err = insight.ParseEpsilon(c.Budget); err != nil {
		errs = append(errs, fmt.Errorf("--audience-budget must be a decimal with at most three places, not %q", c.Budget))
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--audience-*: %w", err))
		}
	}
	cfg.CategoryName = func(id string) string {
		if c, ok := taxonomy.Lookup(id); ok {
			return c.Name
		}
		return ""
	}
	cfg.Sensitive = func(id string) bool {
		c, ok := taxonomy.Lookup(id)
		return ok && c.SCD
	}
	return cfg, errors.Join(errs...)
}

// newAudience returns the audience insight service over the metadata store
// (campaigns, placement categories, privacy ledger) and the event store.
func (m *Main) newAudience() (*insight.Service, error) {
	cfg, err := m.Config.Audience.insightConfig()
	if err != nil {
		return nil, err
	}
	ledger, ok := m.meta.(insight.Ledger)
	if !ok {
		return nil, fmt.Errorf("audience insight: the metadata store %T keeps no privacy ledger", m.meta)
	}
	cats, _ := m.meta.(insight.Categories)
	return insight.New(cfg, m.meta, m.store, ledger, cats)
}
