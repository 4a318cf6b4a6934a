package socialsim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/admeter/admeter"
)

// Record is one record of a partner feed, with the field names of package
// social/feed: a post, comment or repost (Source, Kind, ID, Time, Text,
// Author and engagement), or a search aggregate (Source, Kind "search",
// Term, Day, Count). It holds fake data only.
type Record struct {
	Source   string `json:"source"`
	Kind     string `json:"kind"`
	ID       string `json:"id,omitempty"`
	Time     string `json:"time,omitempty"` // RFC 3339 in China Standard Time
	Text     string `json:"text,omitempty"`
	Author   string `json:"author,omitempty"`
	Likes    int64  `json:"likes,omitempty"`
	Comments int64  `json:"comments,omitempty"`
	Shares   int64  `json:"shares,omitempty"`
	Views    int64  `json:"views,omitempty"`
	Term     string `json:"term,omitempty"`
	Day      string `json:"day,omitempty"` // 2006-01-02, China Standard Time
	Count    int64  `json:"count,omitempty"`
}

// Feed is a generated feed: its records in delivery order (re-deliveries
// included) and the truth of what the server should count.
type Feed struct {
	Records []Record
	Truth   *Truth
	// meta says, parallel to Records, what the generator knows of each.
	meta []meta
}

// meta is what the generator knows of a record.
type meta struct {
	at       time.Time
	rules    []int  // the rules it counts for
	content  string // its own content ("" for searches); a repost has its original's
	official bool
	near     bool // a near copy
	excluded bool // names only an exclusion
}

// Generate generates the feed cfg describes. It returns an error when cfg
// is invalid, or when its terms clash with the vocabulary so that the
// truth could not be known.
func Generate(cfg Config) (*Feed, error) {
	from, cf, ct, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	g := &gen{cfg: cfg, from: from, cf: cf, ct: ct, rules: cfg.rules(),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x736f6369616c)), // "social"
		end: from.AddDate(0, 0, cfg.Days)}
	if !cfg.Now.IsZero() && cfg.Now.Before(g.end) {
		g.end = cfg.Now
	}
	for _, r := range g.rules {
		var t, e []string
		for _, s := range r.Terms {
			t = append(t, fold(s))
		}
		for _, s := range r.Exclusions {
			e = append(e, fold(s))
		}
		g.terms, g.excls = append(g.terms, t), append(g.excls, e)
	}
	g.population()
	if err := g.checkVocabulary(); err != nil {
		return nil, err
	}
	for d := range cfg.Days {
		// Each day has its own random stream and ids, of the seed and
		// its index or date.
		date := from.AddDate(0, 0, d)
		key, prefix := uint64(d), fmt.Sprintf("d%03d", d)
		if cfg.DatedDays {
			key, prefix = uint64(date.Year()*10000+int(date.Month())*100+date.Day()), date.Format("20060102")
		}
		g.rng = rand.New(rand.NewPCG(cfg.Seed, key))
		g.idPrefix, g.seq = prefix, 0
		if err := g.day(d); err != nil {
			return nil, err
		}
	}
	g.rng = rand.New(rand.NewPCG(cfg.Seed, 0x7265646c76)) // "redlv"
	return g.finish(), nil
}

// gen is the state of one Generate call.
type gen struct {
	cfg          Config
	rng          *rand.Rand
	from, end    time.Time // first day; end of the range (or Now)
	cf, ct       int       // campaign window, day indexes
	rules        []Rule
	terms, excls [][]string // folded, by rule

	authors  []author
	bySource map[string]*picker
	all      *picker

	recs     []Record
	metas    []meta
	idPrefix string // the day's ids start with it
	seq      int    // the day's last record number
}

// author is one generated author.
type author struct {
	handle, source string
}

// picker draws indexes in proportion to weights.
type picker struct {
	idx []int
	cum []float64
}

func (p *picker) add(i int, w float64) {
	total := w
	if n := len(p.cum); n > 0 {
		total += p.cum[n-1]
	}
	p.idx, p.cum = append(p.idx, i), append(p.cum, total)
}

func (p *picker) pick(rng *rand.Rand) int {
	x := rng.Float64() * p.cum[len(p.cum)-1]
	i, _ := slices.BinarySearch(p.cum, x)
	return p.idx[min(i, len(p.idx)-1)]
}

// population makes the authors: each posts on one source, with a
// Pareto-distributed activity (α 1.2), so that a few post a lot.
func (g *gen) population() {
	g.bySource = map[string]*picker{}
	g.all = &picker{}
	for i := range g.cfg.Authors {
		src := sources[len(sources)-1].name
		x := g.rng.Float64()
		for _, s := range sources {
			if x < s.weight {
				src = s.name
				break
			}
			x -= s.weight
		}
		h := fmt.Sprintf("%s%04d", handlePrefixes[g.rng.IntN(len(handlePrefixes))], i)
		w := math.Min(math.Pow(1-g.rng.Float64(), -1/1.2), 300)
		g.authors = append(g.authors, author{h, src})
		if g.bySource[src] == nil {
			g.bySource[src] = &picker{}
		}
		g.bySource[src].add(i, w)
		g.all.add(i, w)
	}
}

// pickAuthor draws an author of source (any when ""), other than not.
func (g *gen) pickAuthor(source string, not int) int {
	p := g.all
	if q := g.bySource[source]; q != nil {
		p = q
	}
	for {
		if a := p.pick(g.rng); a != not || len(p.idx) == 1 {
			return a
		}
	}
}

// boost returns the campaign factor of rule r on day d.
func (g *gen) boost(r, d int) float64 {
	if r == 0 && g.cf >= 0 && d >= g.cf && d <= g.ct {
		return g.cfg.Lift
	}
	return 1
}

// day generates the records of day d.
func (g *gen) day(d int) error {
	for r := range g.rules {
		// Day-to-day variation on top of Poisson: a gamma(8) factor.
		noise := 0.0
		for range 8 {
			noise += g.rng.ExpFloat64()
		}
		n := g.poisson(g.rules[r].PostsPerDay * g.boost(r, d) * noise / 8)
		for range n {
			if err := g.original(r, d); err != nil {
				return err
			}
		}
		for range g.poisson(g.cfg.ExclusionsPerDay * float64(min(len(g.rules[r].Exclusions), 1))) {
			ex := g.rules[r].Exclusions[g.rng.IntN(len(g.rules[r].Exclusions))]
			text, err := g.compose(nil, []int{r}, func() string { return fmt.Sprintf(pick(g.rng, exclusionTexts), ex) })
			if err != nil {
				return err
			}
			a := g.pickAuthor("", -1)
			g.emit("post", a, g.timeOn(d), text, meta{content: text, excluded: true})
		}
		if err := g.searches(r, d); err != nil {
			return err
		}
	}
	for range g.poisson(g.cfg.NoisePerDay) {
		text, err := g.compose(nil, nil, func() string {
			s := pick(g.rng, noiseTexts)
			if strings.Contains(s, "%d") {
				s = fmt.Sprintf(s, 1+g.rng.IntN(100))
			}
			return s
		})
		if err != nil {
			return err
		}
		g.emit("post", g.pickAuthor("", -1), g.timeOn(d), text, meta{content: text})
	}
	return g.officialPost(d)
}

// original generates an original post mentioning rule r (and perhaps a
// competitor) on day d, with its reposts, comments and near copy.
func (g *gen) original(r, d int) error {
	rules := []int{r}
	if r == 0 && len(g.rules) > 1 && g.rng.Float64() < g.cfg.Comparisons {
		rules = append(rules, 1+g.rng.IntN(len(g.rules)-1))
	}
	core, err := g.compose(rules, nil, func() string { return g.mentionText(rules) })
	if err != nil {
		return err
	}
	text, content := g.decorate(core)
	a := g.pickAuthor("", -1)
	at := g.timeOn(d)
	i := g.emit("post", a, at, text, meta{rules: rules, content: content})
	if i < 0 {
		return nil
	}
	if g.rng.Float64() < g.cfg.NearCopies {
		if err := g.nearCopy(i, a); err != nil {
			return err
		}
	}
	g.reposts(i, a, g.poisson(g.cfg.RepostsPerPost))
	if g.rng.Float64() < g.cfg.ViralShare {
		g.reposts(i, a, 10+g.rng.IntN(91))
	}
	for range g.poisson(g.cfg.CommentsPerPost) {
		if err := g.comment(i, a, r); err != nil {
			return err
		}
	}
	return nil
}

// mentionText writes a post that names rules (one, or the brand and a
// competitor).
func (g *gen) mentionText(rules []int) string {
	var b strings.Builder
	b.WriteString(pick(g.rng, openers))
	if len(rules) == 2 {
		fmt.Fprintf(&b, pick(g.rng, comparisons), g.variant(rules[0]), g.variant(rules[1]))
	} else {
		b.WriteString(g.variant(rules[0]))
	}
	t := &topics[g.rng.IntN(len(topics))]
	b.WriteString(g.phrase(t))
	if g.rng.IntN(2) == 0 {
		b.WriteString("，")
		b.WriteString(g.phrase(&topics[g.rng.IntN(len(topics))]))
	}
	if g.rng.IntN(2) == 0 {
		fmt.Fprintf(&b, pick(g.rng, details), 2+g.rng.IntN(60))
	}
	b.WriteString(pick(g.rng, endings))
	return b.String()
}

// phrase returns a positive (40%), negative (35%) or neutral phrase of t.
func (g *gen) phrase(t *topic) string {
	switch x := g.rng.Float64(); {
	case x < 0.4:
		return pick(g.rng, t.positive)
	case x < 0.75:
		return pick(g.rng, t.negative)
	}
	return pick(g.rng, t.neutral)
}

// variant returns one of rule r's terms as people type it: as written,
// lower or upper case, with mixed case or full-width letters. A term with
// Latin letters is set apart by spaces, so that it is a word of its own.
func (g *gen) variant(r int) string {
	t := pick(g.rng, g.rules[r].Terms)
	if !hasLatin(t) {
		return t
	}
	switch g.rng.IntN(6) {
	case 1:
		t = strings.ToLower(t)
	case 2:
		t = strings.ToUpper(t)
	case 3:
		t = strings.Map(func(c rune) rune {
			if g.rng.IntN(2) == 0 {
				return unicode.ToUpper(c)
			}
			return unicode.ToLower(c)
		}, t)
	case 4:
		t = strings.Map(func(c rune) rune {
			if c > ' ' && c < 0x7f {
				return c + 0xfee0
			}
			return c
		}, t)
	}
	return " " + t + " "
}

// decorate adds, to some texts, an @mention of another user or a phone
// number. It returns the text and its content key: the text without the
// mention, which the server's dedup ignores.
func (g *gen) decorate(text string) (string, string) {
	if g.rng.Float64() >= g.cfg.Personal {
		return text, text
	}
	if g.rng.IntN(2) == 0 {
		// The server reads the mention as "@某人".
		if !g.check("@某人 "+text, g.want(text)) {
			return text, text
		}
		return "@" + g.authors[g.rng.IntN(len(g.authors))].handle + " " + text, text
	}
	phone := fmt.Sprintf("1%d%09d", 3+g.rng.IntN(7), g.rng.IntN(1_000_000_000))
	if !g.check(text+" 有问题打电话 [电话]", g.want(text)) {
		return text, text
	}
	text += " 有问题打电话 " + phone
	return text, text
}

// nearCopy posts a copy of record i with one character changed, by another
// author of its source.
func (g *gen) nearCopy(i, orig int) error {
	src := g.recs[i]
	m := g.metas[i]
	core := m.content
	text, err := g.compose(m.rules, nil, func() string {
		rs := []rune(core)
		p := g.rng.IntN(len(rs) + 1)
		c := nearEdits[g.rng.IntN(len(nearEdits))]
		if p < len(rs) && g.rng.IntN(2) == 0 {
			rs[p] = c
		} else {
			rs = slices.Insert(rs, p, c)
		}
		return string(rs)
	})
	if err != nil || text == core {
		return err
	}
	a := g.pickAuthor(src.Source, orig)
	g.emit("post", a, m.at.Add(g.delay(12*time.Hour)), text, meta{rules: m.rules, content: text, near: true})
	return nil
}

// reposts adds n reposts of record i (by author orig), some of them of
// earlier reposts, Weibo style.
func (g *gen) reposts(i, orig, n int) {
	type node struct {
		text, handle string
		at           time.Time
	}
	chain := []node{{g.recs[i].Text, g.recs[i].Author, g.metas[i].at}}
	m := g.metas[i]
	for range n {
		of := chain[0]
		if len(chain) > 1 && g.rng.Float64() < 0.3 {
			of = chain[1+g.rng.IntN(len(chain)-1)]
		}
		// The comments are checked once, at start (checkVocabulary).
		text := pick(g.rng, repostComments) + "//@" + of.handle + ":" + of.text
		a := g.pickAuthor(g.recs[i].Source, orig)
		at := of.at.Add(g.delay(4 * time.Hour))
		if j := g.emit("repost", a, at, text, meta{rules: m.rules, content: m.content, official: false}); j >= 0 {
			chain = append(chain, node{text, g.authors[a].handle, at})
		}
	}
}

// comment adds a comment under record i, naming rule r or nothing.
func (g *gen) comment(i, orig, r int) error {
	var rules []int
	if g.rng.Float64() < g.cfg.CommentMentions {
		rules = []int{r}
	}
	core, err := g.compose(rules, nil, func() string {
		if rules == nil {
			return pick(g.rng, commentTexts)
		}
		t := &topics[g.rng.IntN(len(topics))]
		w := t.word
		s := pick(g.rng, mentionComments)
		if strings.HasPrefix(s, "我也") || s == "%s%s" {
			w = g.phrase(t)
		}
		return fmt.Sprintf(s, g.variant(r), w)
	})
	if err != nil {
		return err
	}
	text, content := g.decorate(core)
	a := g.pickAuthor(g.recs[i].Source, orig)
	g.emit("comment", a, g.metas[i].at.Add(g.delay(2*time.Hour)), text, meta{rules: rules, content: content})
	return nil
}

// officialPost adds the official account's post of day d, and its reposts.
func (g *gen) officialPost(d int) error {
	name := g.rules[0].Terms[0]
	day := g.from.AddDate(0, 0, d)
	text, err := g.compose([]int{0}, nil, func() string {
		s := pick(g.rng, officialTexts)
		if strings.Contains(s, "%d") {
			s = fmt.Sprintf(s, name, day.Day())
		} else {
			s = fmt.Sprintf(s, name)
		}
		return s + fmt.Sprintf(officialSuffix, name, day.Format("1月2日"))
	})
	if err != nil {
		return err
	}
	at := day.Add(10*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
	i := g.emit("post", -1, at, text, meta{rules: []int{0}, content: text, official: true})
	if i >= 0 {
		g.reposts(i, -1, g.poisson(3*g.boost(0, d)))
	}
	return nil
}

// searches adds the search aggregates of rule r on day d: two to four
// terms that name it, and one that names only an exclusion.
func (g *gen) searches(r, d int) error {
	day := g.from.AddDate(0, 0, d)
	if day.After(g.end) || g.rules[r].SearchesPerDay == 0 {
		return nil
	}
	total := g.rules[r].SearchesPerDay * g.boost(r, d) * (0.8 + 0.4*g.rng.Float64())
	n := 2 + g.rng.IntN(3)
	seen := map[string]bool{}
	for range n {
		term, err := g.compose([]int{r}, nil, func() string {
			return strings.TrimSpace(g.variant(r)) + pick(g.rng, searchSuffixes)
		})
		if err != nil {
			return err
		}
		term = strings.TrimSpace(term)
		if seen[term] {
			continue
		}
		seen[term] = true
		g.emitSearch(day, term, 1+int64(total/float64(n)*(0.5+g.rng.Float64())), []int{r}, false)
	}
	if len(g.rules[r].Exclusions) > 0 {
		ex := pick(g.rng, g.rules[r].Exclusions)
		term, err := g.compose(nil, []int{r}, func() string { return ex + pick(g.rng, []string{"", "怎么走", "房价", "地铁站"}) })
		if err != nil {
			return err
		}
		g.emitSearch(day, term, 1+int64(g.rng.IntN(200)), nil, true)
	}
	return nil
}

// emitSearch adds a search aggregate.
func (g *gen) emitSearch(day time.Time, term string, count int64, rules []int, excluded bool) {
	g.recs = append(g.recs, Record{Source: searchSource, Kind: string(admeter.SocialSearch), Term: term,
		Day: day.Format(time.DateOnly), Count: count})
	g.metas = append(g.metas, meta{at: day, rules: rules, excluded: excluded})
}

// emit adds an authored record by author a (-1: the official account) at
// at, unless at is past the range; it returns its index or -1.
func (g *gen) emit(kind string, a int, at time.Time, text string, m meta) int {
	if !at.Before(g.end) {
		return -1
	}
	g.seq++
	rec := Record{Kind: kind, ID: fmt.Sprintf("%s-%c%05d", g.idPrefix, kind[0], g.seq), Time: at.In(shanghai).Format(time.RFC3339), Text: text}
	if a < 0 {
		rec.Source, rec.Author = g.cfg.Official.Source, g.cfg.Official.Handle
		m.official = true
	} else {
		rec.Source, rec.Author = g.authors[a].source, g.authors[a].handle
	}
	// Engagement: heavy tailed; views where the platform shows them.
	likes := int64(math.Min(math.Pow(1-g.rng.Float64(), -1/1.1), 1e5)) - 1
	if kind == "post" {
		rec.Likes, rec.Comments, rec.Shares = likes, likes/5+int64(g.rng.IntN(3)), likes/8
		if rec.Source != "weibo" {
			rec.Views = (likes + 1) * int64(10+g.rng.IntN(40))
		}
	} else {
		rec.Likes = likes / 3
	}
	m.at = at
	g.recs = append(g.recs, rec)
	g.metas = append(g.metas, m)
	return len(g.recs) - 1
}

// timeOn returns a time on day d along the diurnal curve.
func (g *gen) timeOn(d int) time.Time {
	total := 0.0
	for _, w := range hourWeights {
		total += w
	}
	x := g.rng.Float64() * total
	h := 0
	for ; h < 23 && x >= hourWeights[h]; h++ {
		x -= hourWeights[h]
	}
	return g.from.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
}

// delay returns an exponential delay of the given mean, at least a minute.
func (g *gen) delay(mean time.Duration) time.Duration {
	return time.Minute + time.Duration(g.rng.ExpFloat64()*float64(mean)).Truncate(time.Second)
}

// poisson draws a Poisson count of mean mean.
func (g *gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	n := 0
	for t := g.rng.ExpFloat64(); t < mean; t += g.rng.ExpFloat64() {
		n++
	}
	return n
}

// finish sorts the records by time, delivers some twice, and computes the
// truth.
func (g *gen) finish() *Feed {
	order := make([]int, len(g.recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return g.metas[a].at.Compare(g.metas[b].at) })
	// A re-delivery comes later than the first, anywhere up to the end.
	type delivery struct {
		key float64
		i   int
	}
	var ds []delivery
	for pos, i := range order {
		ds = append(ds, delivery{float64(pos), i})
		if g.rng.Float64() < g.cfg.Redeliver {
			ds = append(ds, delivery{float64(pos) + 0.5 + g.rng.Float64()*float64(len(order)-pos), i})
		}
	}
	slices.SortStableFunc(ds, func(a, b delivery) int { return cmp.Compare(a.key, b.key) })
	f := &Feed{}
	for _, d := range ds {
		f.Records = append(f.Records, g.recs[d.i])
		f.meta = append(f.meta, g.metas[d.i])
	}
	f.Truth = computeTruth(&g.cfg, g.from, g.cf, g.ct, f.Records, f.meta)
	return f
}

// pick returns a random element of xs.
func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// hasLatin reports whether s has an ASCII letter.
func hasLatin(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) })
}
