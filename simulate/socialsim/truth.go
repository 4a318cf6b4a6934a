package socialsim

import (
	"slices"
	"time"
)

// Counts are the measures of a set of authored records, as the social
// report defines them.
type Counts struct {
	// Mentions counts records (each delivered record once).
	Mentions int64 `json:"mentions"`
	// Authors counts distinct authors (source and handle), the official
	// account included; People the same without it: the people the
	// threshold protects.
	Authors int64 `json:"authors"`
	People  int64 `json:"people"`
	// Contents counts distinct contents: a repost shares its original's,
	// records of the same text share one. The server also joins near
	// copies, so it reports at most this many.
	Contents int64 `json:"contents"`
	// NearCopies counts the records that are one-character copies of
	// another.
	NearCopies int64 `json:"near_copies"`
	Likes      int64 `json:"likes"`
	Comments   int64 `json:"comments"`
	Shares     int64 `json:"shares"`
	Views      int64 `json:"views"`
	// PeopleKeys are the distinct authors other than the official account,
	// as "source:handle", sorted: what a test needs to replay the
	// threshold's complementary suppression.
	PeopleKeys []string `json:"-"`
}

// DayTruth is a rule's counts and searches of one local day.
type DayTruth struct {
	Date string `json:"date"`
	Counts
	Searches int64 `json:"searches"`
}

// RuleTruth is the truth of one rule.
type RuleTruth struct {
	Name     string     `json:"name"`
	Role     string     `json:"role"` // brand or competitor
	Total    Counts     `json:"total"`
	Searches int64      `json:"searches"`
	Days     []DayTruth `json:"days"`
}

// OfficialPost is a record of the official account.
type OfficialPost struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// Truth is what the server should count of a Feed, over its local days
// (Asia/Shanghai).
type Truth struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Records counts the records delivered, Unique the distinct ones (the
	// rest are re-deliveries, which the server stores once).
	Records int `json:"records"`
	Unique  int `json:"unique"`
	// Authored counts the distinct posts, comments and reposts, Searches
	// the distinct search aggregates.
	Authored int `json:"authored"`
	Searches int `json:"searches"`
	// Excluded counts the distinct records that name only an exclusion
	// (posts and search aggregates); Unmatched the authored records that
	// name no rule (exclusions included).
	Excluded  int `json:"excluded"`
	Unmatched int `json:"unmatched"`
	// Total counts the authored records that name at least one rule, each
	// once; Sources the same by source.
	Total   Counts            `json:"total"`
	Sources map[string]Counts `json:"sources"`
	// Rules has the brand, then the competitors.
	Rules []RuleTruth `json:"rules"`
	// BrandDays counts per day the records that name the brand (the
	// alignment's daily series).
	BrandDays []int64 `json:"brand_days"`
	// Official lists the official account's records, oldest first.
	Official []OfficialPost `json:"official_posts"`
	// CampaignFrom and CampaignTo are the campaign window; Lift its
	// planted factor.
	CampaignFrom string  `json:"campaign_from,omitempty"`
	CampaignTo   string  `json:"campaign_to,omitempty"`
	Lift         float64 `json:"lift,omitempty"`
}

// cell accumulates Counts.
type cell struct {
	c        Counts
	authors  map[string]bool
	people   map[string]bool
	contents map[string]bool
}

func (x *cell) add(r *Record, m *meta) {
	if x.authors == nil {
		x.authors, x.people, x.contents = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	key := r.Source + ":" + r.Author
	x.c.Mentions++
	x.authors[key] = true
	if !m.official {
		x.people[key] = true
	}
	x.contents[m.content] = true
	if m.near {
		x.c.NearCopies++
	}
	x.c.Likes += r.Likes
	x.c.Comments += r.Comments
	x.c.Shares += r.Shares
	x.c.Views += r.Views
}

func (x *cell) counts() Counts {
	c := x.c
	c.Authors, c.People, c.Contents = int64(len(x.authors)), int64(len(x.people)), int64(len(x.contents))
	for k := range x.people {
		c.PeopleKeys = append(c.PeopleKeys, k)
	}
	slices.Sort(c.PeopleKeys)
	return c
}

// computeTruth counts recs as delivered, with what the generator knows of
// each (metas, parallel to recs). It does not read the texts: which rules
// a record names is the generator's knowledge, checked as it wrote them.
func computeTruth(cfg *Config, from time.Time, cf, ct int, recs []Record, metas []meta) *Truth {
	t := &Truth{From: from.Format(time.DateOnly), To: from.AddDate(0, 0, cfg.Days-1).Format(time.DateOnly),
		Records: len(recs), Sources: map[string]Counts{}, BrandDays: make([]int64, cfg.Days)}
	if cf >= 0 {
		t.CampaignFrom, t.CampaignTo, t.Lift = cfg.CampaignFrom, cfg.CampaignTo, cfg.Lift
	}
	rules := cfg.rules()
	var total cell
	sources := map[string]*cell{}
	ruleCells := make([]cell, len(rules))
	days := make([][]cell, len(rules))
	searches := make([][]int64, len(rules))
	for i := range rules {
		days[i] = make([]cell, cfg.Days)
		searches[i] = make([]int64, cfg.Days)
	}
	seen := map[string]bool{}
	for i := range recs {
		r, m := &recs[i], &metas[i]
		// The server's id of a record: its source and id; a search
		// aggregate without id is its term and day.
		id := r.Source + "\x00" + r.ID
		if r.ID == "" {
			id = r.Source + "\x00" + r.Term + "\x00" + r.Day
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		t.Unique++
		if m.excluded {
			t.Excluded++
		}
		d := dayIndex(from, m.at)
		if d < 0 || d >= cfg.Days {
			continue
		}
		if r.Kind == "search" {
			t.Searches++
			for _, ri := range m.rules {
				searches[ri][d] += r.Count
			}
			continue
		}
		t.Authored++
		if m.official {
			t.Official = append(t.Official, OfficialPost{At: m.at.UTC(), Text: r.Text})
		}
		if len(m.rules) == 0 {
			t.Unmatched++
			continue
		}
		total.add(r, m)
		if sources[r.Source] == nil {
			sources[r.Source] = &cell{}
		}
		sources[r.Source].add(r, m)
		for _, ri := range m.rules {
			ruleCells[ri].add(r, m)
			days[ri][d].add(r, m)
			if ri == 0 {
				t.BrandDays[d]++
			}
		}
	}
	slices.SortStableFunc(t.Official, func(a, b OfficialPost) int { return a.At.Compare(b.At) })
	t.Total = total.counts()
	for s, c := range sources {
		t.Sources[s] = c.counts()
	}
	for ri, r := range rules {
		role := "competitor"
		if ri == 0 {
			role = "brand"
		}
		rt := RuleTruth{Name: r.Name, Role: role, Total: ruleCells[ri].counts()}
		for d := range cfg.Days {
			dt := DayTruth{Date: from.AddDate(0, 0, d).Format(time.DateOnly), Counts: days[ri][d].counts(), Searches: searches[ri][d]}
			rt.Searches += dt.Searches
			rt.Days = append(rt.Days, dt)
		}
		t.Rules = append(t.Rules, rt)
	}
	return t
}
