package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social/sentiment"
	"github.com/admeter/admeter/social/textproc"
	"github.com/admeter/admeter/store"
)

// Defaults and limits of an analysis.
const (
	DefaultKeywords  = 30  // keywords returned when Input.Keywords is 0
	DefaultTopics    = 8   // topics returned (besides "other") when Input.Topics is 0
	MaxKeywords      = 200 // most keywords one report returns
	MaxTopics        = 30  // most topics one report returns
	MaxDays          = 731 // longest range, in days
	MaxOfficialPosts = 500 // most official posts one report lists (the oldest are kept)
)

// labelThreshold is the sentiment package's: |score| ≥ 0.05 is not neutral.
const labelThreshold = 0.05

// Input is what Analyze needs: a tenant's social records and settings.
type Input struct {
	// Posts are the tenant's records over the range, of every kind (search
	// aggregates included), in any order. Records of local days outside
	// From…To are ignored; all must be of one tenant.
	Posts []admeter.SocialPost
	// Brands and Competitors are the tenant's rules (SocialSettings); names
	// must be unique across both.
	Brands, Competitors []admeter.SocialRule
	// Official maps the author pseudonym of each official account to the
	// name reports call it.
	Official map[admeter.Pseudonym]string
	// From and To are the first and last day counted, inclusive, as local
	// days in Location.
	From, To store.Date
	// Location is the tenant's time zone; nil means Asia/Shanghai.
	Location *time.Location
	// Delivery is the campaign's impressions per local day; nil for no
	// alignment.
	Delivery map[store.Date]int64
	// MinAuthors is the aggregation threshold k, at least 1.
	MinAuthors int
	// Segmenter tokenises the brands' content for keywords and topics.
	Segmenter *textproc.Segmenter
	// Keywords and Topics are how many of each to return: 0 for
	// DefaultKeywords and DefaultTopics, at most MaxKeywords and MaxTopics.
	Keywords, Topics int
}

// rec is one authored record in range, as the analysis sees it.
type rec struct {
	p        *admeter.SocialPost
	day      int   // index of its local day
	author   int32 // dense author index
	cluster  int32 // content cluster, -1 for none
	rules    []int32
	brand    bool // matches a brand rule
	official bool
}

// analysis is the state of one Analyze call.
type analysis struct {
	in       Input
	k        int
	loc      *time.Location
	days     []store.Date
	rules    []ruleDef
	matcher  *textproc.Matcher
	byName   map[string]int32
	recs     []rec
	official []bool // by author index
	clusters []cluster
	priv     privacy
	// trace, when set (by tests), is told the topic label of each brand
	// content cluster.
	trace func(cluster int, label string)
	// norm holds the normalised texts of recs, filled by normalized.
	norm []*string
}

// ruleDef is one of the input rules.
type ruleDef struct {
	rule admeter.SocialRule
	role string
}

// Analyze computes the aggregate report of in. It returns an EINVALID error
// for inconsistent input: rules that do not compile or share a name, To
// before From, a range of more than MaxDays days, MinAuthors below 1, no
// Segmenter, or records of more than one tenant.
func Analyze(in Input) (*Report, error) {
	a, err := newAnalysis(in)
	if err != nil {
		return nil, err
	}
	return a.run(), nil
}

// run computes the report.
func (a *analysis) run() *Report {
	in := a.in
	a.collect()
	a.priv.k, a.priv.official = a.k, a.official
	a.dedup()
	rep := &Report{
		From:     in.From.String(),
		To:       in.To.String(),
		Timezone: a.loc.String(),
		Official: a.officialPosts(),
	}
	a.counts(rep)
	a.searches(rep)
	a.text(rep)
	if in.Delivery != nil {
		rep.Alignment = a.align()
	}
	rep.Privacy = a.priv.report(a.k)
	return rep
}

// newAnalysis checks in and compiles its rules.
func newAnalysis(in Input) (*analysis, error) {
	switch {
	case in.MinAuthors < 1:
		return nil, admeter.Errorf(admeter.EINVALID, "social analysis: the threshold MinAuthors is %d; set it to at least 1 (the tenant's aggregation threshold)", in.MinAuthors)
	case in.Segmenter == nil:
		return nil, admeter.Errorf(admeter.EINVALID, "social analysis: no Segmenter: pass the process's shared textproc.Segmenter")
	case in.To.Before(in.From):
		return nil, admeter.Errorf(admeter.EINVALID, "social analysis: from %s is after to %s", in.From, in.To)
	case in.Keywords < 0 || in.Topics < 0:
		return nil, admeter.Errorf(admeter.EINVALID, "social analysis: keywords and topics cannot be negative (0 takes the defaults)")
	}
	a := &analysis{in: in, k: in.MinAuthors, loc: in.Location}
	if a.loc == nil {
		a.loc = shanghai()
	}
	for d := in.From; !in.To.Before(d); d = d.AddDays(1) {
		if len(a.days) == MaxDays {
			return nil, admeter.Errorf(admeter.EINVALID, "social analysis: the range %s to %s is longer than %d days: ask for a shorter one", in.From, in.To, MaxDays)
		}
		a.days = append(a.days, d)
	}
	if a.in.Keywords == 0 {
		a.in.Keywords = DefaultKeywords
	}
	if a.in.Topics == 0 {
		a.in.Topics = DefaultTopics
	}
	a.in.Keywords = min(a.in.Keywords, MaxKeywords)
	a.in.Topics = min(a.in.Topics, MaxTopics)

	var trs []textproc.Rule
	for _, r := range in.Brands {
		a.rules = append(a.rules, ruleDef{r, RoleBrand})
	}
	for _, r := range in.Competitors {
		a.rules = append(a.rules, ruleDef{r, RoleCompetitor})
	}
	a.byName = make(map[string]int32, len(a.rules))
	for i, r := range a.rules {
		name := strings.TrimSpace(r.rule.Name)
		a.rules[i].rule.Name = name
		if _, dup := a.byName[name]; dup && name != "" {
			return nil, admeter.Errorf(admeter.EINVALID, "social analysis: rule %q is named twice among brands and competitors: give each its own name", name)
		}
		a.byName[name] = int32(i)
		trs = append(trs, textproc.Rule{Name: name, Terms: r.rule.Terms, Exclusions: r.rule.Exclusions})
	}
	m, err := textproc.CompileRules(trs)
	if err != nil {
		return nil, fmt.Errorf("social analysis: compile the brand and competitor rules: %w", err)
	}
	a.matcher = m
	if len(in.Posts) > 0 {
		t := in.Posts[0].Tenant
		for i := range in.Posts {
			if in.Posts[i].Tenant != t {
				return nil, admeter.Errorf(admeter.EINVALID, "social analysis: records of more than one tenant: load one tenant's records per report")
			}
		}
	}
	return a, nil
}

// shanghai returns Asia/Shanghai, or UTC+8 where the zone database lacks it.
func shanghai() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

// dayNumber is the days from 1970-01-01 to d.
func dayNumber(d store.Date) int {
	return int(d.In(time.UTC).Unix() / 86400)
}

// dayIndex returns the index in a.days of t's local day, or -1.
func (a *analysis) dayIndex(t time.Time, loc *time.Location) int {
	i := dayNumber(store.DateOf(t.In(loc))) - dayNumber(a.in.From)
	if i < 0 || i >= len(a.days) {
		return -1
	}
	return i
}

// collect matches the authored records in range to the rules and gives
// their authors dense indices.
func (a *analysis) collect() {
	authors := map[admeter.Pseudonym]int32{}
	a.recs = make([]rec, 0, len(a.in.Posts))
	for i := range a.in.Posts {
		p := &a.in.Posts[i]
		if !p.Kind.Authored() {
			continue
		}
		day := a.dayIndex(p.At, a.loc)
		if day < 0 {
			continue
		}
		id, ok := authors[p.Author]
		if !ok {
			id = int32(len(a.official))
			authors[p.Author] = id
			_, off := a.in.Official[p.Author]
			a.official = append(a.official, off)
		}
		r := rec{p: p, day: day, author: id, cluster: -1, official: a.official[id]}
		for _, name := range a.matcher.Match(p.Text) {
			ri := a.byName[name]
			r.rules = append(r.rules, ri)
			if a.rules[ri].role == RoleBrand {
				r.brand = true
			}
		}
		slices.Sort(r.rules)
		a.recs = append(a.recs, r)
	}
}

// label returns the sentiment label of a stored score.
func label(s float32) string {
	switch v := float64(s); {
	case v >= labelThreshold:
		return sentiment.Positive
	case v <= -labelThreshold:
		return sentiment.Negative
	}
	return sentiment.Neutral
}

// officialPosts lists the records of official accounts, oldest first.
func (a *analysis) officialPosts() []OfficialPost {
	var idx []int
	for i := range a.recs {
		if a.recs[i].official {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(x, y int) int { return a.recs[x].p.At.Compare(a.recs[y].p.At) })
	if len(idx) > MaxOfficialPosts {
		a.priv.note(fmt.Sprintf("Only the oldest %d of the %d official-account posts are listed.", MaxOfficialPosts, len(idx)))
		idx = idx[:MaxOfficialPosts]
	}
	out := make([]OfficialPost, 0, len(idx))
	for _, i := range idx {
		r := &a.recs[i]
		o := OfficialPost{
			Account: a.in.Official[r.p.Author], Source: r.p.Source, Kind: string(r.p.Kind), At: r.p.At.UTC(),
			Text: r.p.Text, Likes: r.p.Likes, Comments: r.p.Comments, Shares: r.p.Shares, Views: r.p.Views,
			Sentiment: float64(r.p.Sentiment), Label: label(r.p.Sentiment),
		}
		for _, ri := range r.rules {
			o.Rules = append(o.Rules, a.rules[ri].rule.Name)
		}
		out = append(out, o)
	}
	return out
}
