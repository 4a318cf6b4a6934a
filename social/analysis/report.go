package analysis

import "time"

// Roles of a rule in a Report.
const (
	RoleBrand      = "brand"      // one of the tenant's own brands or products
	RoleCompetitor = "competitor" // a competitor it compares them with
)

// Report is the aggregate social report of one tenant over a range of local
// days. It holds counts, shares and terms only; the only texts it holds are
// those of official-account posts (Official). Every count cell comes with
// Suppressed: when true, the cell's counts are left out (nil) because they
// would describe fewer than Privacy.MinAuthors authors.
type Report struct {
	// From and To are the first and last local day counted (YYYY-MM-DD),
	// in Timezone.
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
	// Total counts the authored records that mention at least one rule,
	// each once.
	Total Cell `json:"total"`
	// Rules has one entry per brand, then per competitor, in the order of
	// the input.
	Rules        []RuleReport  `json:"rules"`
	ShareOfVoice ShareOfVoice  `json:"share_of_voice"`
	Sources      []SourceCell  `json:"sources"`
	Searches     []SearchTrend `json:"searches"`
	// Keywords are the terms that stand out in the brands' distinct
	// content, highest score first.
	Keywords []Keyword `json:"keywords"`
	// Topics group the brands' distinct content by the keywords it shares,
	// most posts first; the "other" topic, if any, comes last.
	Topics []Topic `json:"topics"`
	// Official lists the posts of the tenant's official accounts, oldest
	// first (at most MaxOfficialPosts).
	Official []OfficialPost `json:"official_posts"`
	// Alignment compares brand mentions before, during and after the
	// campaign's delivery; nil when no delivery curve was given.
	Alignment *Alignment `json:"alignment,omitempty"`
	Privacy   Privacy    `json:"privacy"`
}

// Cell is one published aggregate: Counts, or Suppressed and no counts.
type Cell struct {
	// Suppressed is true when the counts would describe fewer than the
	// threshold's authors (or give such a cell away by subtraction).
	Suppressed bool `json:"suppressed,omitempty"`
	// Counts is nil when Suppressed.
	Counts *Counts `json:"counts,omitempty"`
}

// Counts are the aggregates of a set of authored records.
type Counts struct {
	// Mentions is the number of records.
	Mentions int64 `json:"mentions"`
	// Original is the number of distinct contents among them: reposts and
	// near copies of one text count once (see the package doc).
	Original int64 `json:"original"`
	// Reposts is Mentions − Original: records that repeat content counted
	// already, or have no content of their own (a bare "转发微博").
	Reposts int64 `json:"reposts"`
	// Authors is the number of distinct authors.
	Authors int64 `json:"authors"`
	// Engagement sums as the partners reported them.
	Likes    int64 `json:"likes"`
	Comments int64 `json:"comments"`
	Shares   int64 `json:"shares"`
	Views    int64 `json:"views"`
	// Records by sentiment label: score ≥ 0.05 positive, ≤ −0.05 negative,
	// neutral between.
	Positive int64 `json:"positive"`
	Negative int64 `json:"negative"`
	Neutral  int64 `json:"neutral"`
	// NetSentiment is (Positive − Negative) / Mentions, 0 without mentions.
	NetSentiment float64 `json:"net_sentiment"`
}

// RuleReport is the mentions of one brand or competitor.
type RuleReport struct {
	Rule string `json:"rule"`
	Role string `json:"role"` // RoleBrand or RoleCompetitor
	Cell
	// Days has one entry per local day from Report.From to Report.To.
	Days []DayCell `json:"days"`
}

// DayCell is a Cell of one local day.
type DayCell struct {
	Date string `json:"date"`
	Cell
}

// SourceCell is a Cell of one source (weibo, douyin...): the records of
// Report.Total from that source.
type SourceCell struct {
	Source string `json:"source"`
	Cell
}

// ShareOfVoice is each rule's share of all rule mentions.
type ShareOfVoice struct {
	// Rules has one entry per rule, in the order of Report.Rules.
	Rules []Share `json:"rules"`
	// Days has one entry per local day; a day is suppressed when any of its
	// rules' cells is.
	Days []ShareDay `json:"days"`
	// Basis says what the shares are of.
	Basis string `json:"basis"`
}

// Share is one rule's share of voice; nil values are suppressed.
type Share struct {
	Rule string `json:"rule"`
	Role string `json:"role"`
	// Mentions is its mentions over the sum of the published rules'
	// mentions.
	Mentions *float64 `json:"mentions,omitempty"`
	// Engagement is the same with each record weighted by its likes,
	// comments and shares (views are left out: partners often lack them).
	Engagement *float64 `json:"engagement,omitempty"`
	Suppressed bool     `json:"suppressed,omitempty"`
}

// ShareDay is the share of voice of one local day.
type ShareDay struct {
	Date       string  `json:"date"`
	Suppressed bool    `json:"suppressed,omitempty"`
	Rules      []Share `json:"rules,omitempty"`
}

// SearchTrend is how often terms matching one rule were searched, summed
// from partner search aggregates (no authors, so no threshold).
type SearchTrend struct {
	Rule     string      `json:"rule"`
	Role     string      `json:"role"`
	Searches int64       `json:"searches"`
	Days     []SearchDay `json:"days"`
}

// SearchDay is the searches of one day (the aggregates' China Standard
// Time day).
type SearchDay struct {
	Date     string `json:"date"`
	Searches int64  `json:"searches"`
}

// Keyword is a term that stands out in the brands' distinct content.
type Keyword struct {
	Term string `json:"term"`
	// Score is the term's TF-IDF summed over the distinct contents (as
	// textproc.Keywords computes it).
	Score float64 `json:"score"`
	// Contents, Posts and Authors are the distinct contents that use the
	// term, their records (reposts included) and those records' authors.
	Contents int64 `json:"contents"`
	Posts    int64 `json:"posts"`
	Authors  int64 `json:"authors"`
}

// Topic is a group of the brands' distinct contents that share keywords.
type Topic struct {
	// Label is the topic's first three terms joined by " / "; "other" for
	// the content no topic took (Other).
	Label string   `json:"label"`
	Terms []string `json:"terms,omitempty"`
	Other bool     `json:"other,omitempty"`
	// Share is the topic's records over the records of all topics; nil
	// when suppressed.
	Share *float64 `json:"share,omitempty"`
	Cell
}

// OfficialPost is a record of one of the tenant's official accounts: the
// only records whose text a report shows.
type OfficialPost struct {
	Account   string    `json:"account"`
	Source    string    `json:"source"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	Text      string    `json:"text"`
	Likes     int64     `json:"likes"`
	Comments  int64     `json:"comments"`
	Shares    int64     `json:"shares"`
	Views     int64     `json:"views"`
	Sentiment float64   `json:"sentiment"`
	Label     string    `json:"label"`          // positive, negative or neutral
	Rules     []string  `json:"rules,omitzero"` // the rules it mentions
}

// Alignment sets brand mentions against the campaign's delivery curve.
type Alignment struct {
	// DeliveryFrom and DeliveryTo are the first and last day with
	// impressions within the report's range; empty when there is none.
	DeliveryFrom string `json:"delivery_from,omitempty"`
	DeliveryTo   string `json:"delivery_to,omitempty"`
	Impressions  int64  `json:"impressions"`
	// Before, During and After count the records mentioning a brand (each
	// once) on the days before, during and after delivery.
	Before Period `json:"before"`
	During Period `json:"during"`
	After  Period `json:"after"`
	Lift   Lift   `json:"lift"`
}

// Period is the brand mentions of a run of days.
type Period struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	Days int    `json:"days"`
	// PerDay is Counts.Mentions / Days; nil when suppressed or no days.
	PerDay *float64 `json:"per_day,omitempty"`
	Cell
}

// Lift is the ratio of brand mentions per day during delivery to those
// before it, with a 95% confidence interval (see the package doc).
type Lift struct {
	Ratio      float64 `json:"ratio,omitempty"`
	Low        float64 `json:"low,omitempty"`
	High       float64 `json:"high,omitempty"`
	Dispersion float64 `json:"dispersion,omitempty"`
	Method     string  `json:"method"`
	// Insufficient is true when no estimate is given; Reason says why.
	Insufficient bool   `json:"insufficient,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// Privacy says how the threshold was applied.
type Privacy struct {
	// MinAuthors is the threshold k: no published cell describes records
	// of fewer than k distinct authors (official accounts exempt).
	MinAuthors int `json:"min_authors"`
	// SuppressedCells counts cells below the threshold; Complementary
	// those suppressed as well so that subtraction does not give one away.
	SuppressedCells int `json:"suppressed_cells"`
	Complementary   int `json:"complementary_cells"`
	// DroppedKeywords counts keywords left out, MergedTopics topics folded
	// into "other", for having fewer than MinAuthors authors.
	DroppedKeywords int      `json:"dropped_keywords"`
	MergedTopics    int      `json:"merged_topics"`
	Notes           []string `json:"notes,omitempty"`
}
