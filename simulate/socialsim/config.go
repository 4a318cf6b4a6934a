package socialsim

import (
	"fmt"
	"time"

	"github.com/admeter/admeter"
)

// Rule is a brand or competitor the generated people talk about: its
// keyword rule, as the tenant's settings hold it, and how much it is talked
// about.
type Rule struct {
	admeter.SocialRule
	// PostsPerDay is the mean number of original posts a day that mention
	// it (outside the campaign window); reposts and comments come on top.
	PostsPerDay float64
	// SearchesPerDay is the mean number of searches a day of its terms.
	SearchesPerDay float64
}

// Config says what to generate. Use DefaultConfig and change what you
// need.
type Config struct {
	// Seed makes the feed: the same Config gives the same records.
	Seed uint64
	// From is the first local day (2006-01-02, Asia/Shanghai) and Days the
	// number of days.
	From string
	Days int
	// DatedDays makes each day's records depend on the seed and the day's
	// date (and their ids start with it), so that a feed over a later range
	// has the same records on the days both have: a demo restarted the
	// next day adds only the new day. Otherwise they depend on the day's
	// index in the range, so that a feed does not depend on the calendar:
	// tests over "the last 30 days" see the same feed every day.
	DatedDays bool
	// Now, when not zero, bounds the records: none is later than Now (the
	// server refuses records from the future).
	Now time.Time
	// Brand is the tenant's brand; Competitors the rules it is compared
	// with. Names must differ.
	Brand       Rule
	Competitors []Rule
	// Official is the brand's official account, which posts every day on
	// its source.
	Official admeter.SocialAccount
	// Authors is the size of the population of ordinary authors.
	Authors int
	// CampaignFrom and CampaignTo are the first and last local day of the
	// campaign window (2006-01-02, within the range; empty for none).
	// During it the brand's original posts (and so their reposts and
	// comments), the reposts of the official account's posts and the
	// brand's searches are Lift times as many.
	CampaignFrom, CampaignTo string
	Lift                     float64
	// RepostsPerPost is the mean number of reposts of an original post,
	// besides the rare viral ones (ViralShare of posts, with ten to a
	// hundred reposts each).
	RepostsPerPost float64
	ViralShare     float64
	// CommentsPerPost is the mean number of comments under an original
	// post; CommentMentions the share of them that name the post's rule.
	CommentsPerPost float64
	CommentMentions float64
	// NearCopies is the share of original posts copied by another author
	// with one character changed.
	NearCopies float64
	// Comparisons is the share of brand posts that name a competitor too.
	Comparisons float64
	// ExclusionsPerDay is the mean number of posts a day, per rule with
	// exclusions, that name only an exclusion (they do not count).
	ExclusionsPerDay float64
	// NoisePerDay is the mean number of posts a day that name no rule.
	NoisePerDay float64
	// Personal is the share of posts and comments that @mention another
	// user or give a phone number (redacted by the server).
	Personal float64
	// Redeliver is the share of records that are delivered a second time.
	Redeliver float64
}

// DefaultConfig returns a month of a fictional phone brand, 澜星 (LanStar),
// against two competitors, with a five-day campaign in the last week that
// doubles the brand's mentions; a few thousand records in all.
func DefaultConfig() Config {
	return Config{
		Seed: 12,
		From: "2026-11-01", Days: 30,
		Brand: Rule{SocialRule: admeter.SocialRule{Name: "澜星", Terms: []string{"澜星", "LanStar", "澜星手机"},
			Exclusions: []string{"澜星路", "澜星小区"}}, PostsPerDay: 20, SearchesPerDay: 4000},
		Competitors: []Rule{
			{SocialRule: admeter.SocialRule{Name: "北辰", Terms: []string{"北辰", "Beichen"}, Exclusions: []string{"北辰区"}},
				PostsPerDay: 10, SearchesPerDay: 3000},
			{SocialRule: admeter.SocialRule{Name: "云雀", Terms: []string{"云雀手机", "SkyLark"}},
				PostsPerDay: 4, SearchesPerDay: 500},
		},
		Official:     admeter.SocialAccount{Source: "weibo", Handle: "澜星官方微博", Name: "澜星官方"},
		Authors:      3000,
		CampaignFrom: "2026-11-24", CampaignTo: "2026-11-28", Lift: 2,
		RepostsPerPost: 0.6, ViralShare: 0.01,
		CommentsPerPost: 0.5, CommentMentions: 0.4,
		NearCopies: 0.05, Comparisons: 0.1,
		ExclusionsPerDay: 2, NoisePerDay: 10,
		Personal: 0.08, Redeliver: 0.03,
	}
}

// Settings returns the tenant's social settings that count what c
// generates: its brand, competitors and official account.
func (c *Config) Settings() admeter.SocialSettings {
	s := admeter.SocialSettings{Brands: []admeter.SocialRule{c.Brand.SocialRule}}
	for _, r := range c.Competitors {
		s.Competitors = append(s.Competitors, r.SocialRule)
	}
	if c.Official.Handle != "" {
		s.Official = []admeter.SocialAccount{c.Official}
	}
	return s
}

// rules returns the brand, then the competitors.
func (c *Config) rules() []Rule { return append([]Rule{c.Brand}, c.Competitors...) }

// validate checks c and returns its first day and the campaign window's
// day indexes (-1, -1 for none).
func (c *Config) validate() (time.Time, int, int, error) {
	from, err := time.ParseInLocation(time.DateOnly, c.From, shanghai)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("socialsim: from %q: use 2006-01-02", c.From)
	}
	switch {
	case c.Days < 1 || c.Days > 366:
		return time.Time{}, 0, 0, fmt.Errorf("socialsim: days %d: give 1 to 366", c.Days)
	case c.Authors < 20:
		return time.Time{}, 0, 0, fmt.Errorf("socialsim: authors %d: give at least 20", c.Authors)
	case c.Brand.Name == "" || len(c.Brand.Terms) == 0:
		return time.Time{}, 0, 0, fmt.Errorf("socialsim: the brand needs a name and terms")
	case c.Official.Handle == "" || admeter.ValidSocialSource(c.Official.Source) != nil:
		return time.Time{}, 0, 0, fmt.Errorf("socialsim: the official account needs a valid source and a handle")
	}
	names := map[string]bool{}
	for _, r := range c.rules() {
		if r.Name == "" || len(r.Terms) == 0 || names[r.Name] {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: rule %q: every rule needs its own name and terms", r.Name)
		}
		names[r.Name] = true
		if r.PostsPerDay < 0 || r.SearchesPerDay < 0 {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: rule %q: rates cannot be negative", r.Name)
		}
	}
	for _, p := range []float64{c.RepostsPerPost, c.ViralShare, c.CommentsPerPost, c.CommentMentions, c.NearCopies,
		c.Comparisons, c.ExclusionsPerDay, c.NoisePerDay, c.Personal, c.Redeliver} {
		if p < 0 {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: rates and shares cannot be negative")
		}
	}
	for _, p := range []float64{c.ViralShare, c.CommentMentions, c.NearCopies, c.Comparisons, c.Personal, c.Redeliver} {
		if p > 1 {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: shares are at most 1")
		}
	}
	cf, ct := -1, -1
	if c.CampaignFrom != "" || c.CampaignTo != "" {
		a, err1 := time.ParseInLocation(time.DateOnly, c.CampaignFrom, shanghai)
		b, err2 := time.ParseInLocation(time.DateOnly, c.CampaignTo, shanghai)
		if err1 != nil || err2 != nil {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: campaign window %q to %q: use 2006-01-02", c.CampaignFrom, c.CampaignTo)
		}
		cf, ct = dayIndex(from, a), dayIndex(from, b)
		if cf < 0 || ct < cf || ct >= c.Days {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: campaign window %s to %s is not within the range", c.CampaignFrom, c.CampaignTo)
		}
		if c.Lift <= 0 {
			return time.Time{}, 0, 0, fmt.Errorf("socialsim: lift %v: give a factor above 0", c.Lift)
		}
	}
	return from, cf, ct, nil
}

// shanghai is the zone of the local days.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// dayIndex returns the number of local days from from to t's day.
func dayIndex(from, t time.Time) int {
	y, m, d := t.In(shanghai).Date()
	fy, fm, fd := from.In(shanghai).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}
