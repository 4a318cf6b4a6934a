package analysis

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/admeter/admeter/social/textproc"
)

// Tuning of topics.
const (
	topicCandidates = 100  // keywords topics are made of
	topicMinDocs    = 2    // contents a candidate keyword must be in
	topicMinCoDocs  = 2    // contents two keywords must share to associate
	topicNPMI       = 0.25 // least average NPMI of a keyword with a topic's keywords
	topicMaxTerms   = 8    // most keywords of one topic
	otherLabel      = "other"
)

// corpus is the brands' distinct content, tokenised.
type corpus struct {
	docs  []int     // cluster of each document
	toks  [][]int32 // kept tokens of each document, in order, as term IDs
	terms []string  // term ID → term
	score []float64 // term ID → summed TF-IDF
	posts [][]int32 // term ID → documents that have it, ascending
}

// text fills the keywords and topics.
func (a *analysis) text(rep *Report) {
	c := a.tokenise()
	if len(c.docs) == 0 {
		return
	}
	ranked := make([]int32, len(c.terms))
	for i := range ranked {
		ranked[i] = int32(i)
	}
	slices.SortFunc(ranked, func(x, y int32) int {
		return cmp.Or(cmp.Compare(c.score[y], c.score[x]), strings.Compare(c.terms[x], c.terms[y]))
	})
	var cands []int32
	for _, t := range ranked {
		if len(rep.Keywords) == a.in.Keywords && len(cands) == topicCandidates {
			break
		}
		x := a.termAcc(c, t)
		if a.priv.below(x.authors) {
			if len(rep.Keywords) < a.in.Keywords {
				a.priv.droppedKeywords++
			}
			continue
		}
		if len(rep.Keywords) < a.in.Keywords {
			rep.Keywords = append(rep.Keywords, Keyword{Term: c.terms[t], Score: c.score[t],
				Contents: int64(len(c.posts[t])), Posts: x.c.Mentions, Authors: int64(len(x.authors))})
		}
		if len(cands) < topicCandidates && len(c.posts[t]) >= topicMinDocs {
			cands = append(cands, t)
		}
	}
	rep.Topics = a.topics(c, cands)
}

// termAcc counts the brand records of the contents that use term t whose
// own text has it. A content stands for near copies whose texts differ in
// a few characters; a word only one of them has (a name, a number) must
// count that record's author only, or the copies' authors would carry it
// over the threshold.
func (a *analysis) termAcc(c *corpus, t int32) *acc {
	x := &acc{}
	term := c.terms[t]
	for _, d := range c.posts[t] {
		for _, i := range a.clusters[c.docs[d]].recs {
			if r := &a.recs[i]; r.brand && strings.Contains(a.normalized(i), term) {
				x.add(r)
			}
		}
	}
	return x
}

// normalized returns the normalised text of record i (textproc.Normalize,
// as tokens are), computed once.
func (a *analysis) normalized(i int) string {
	if a.norm == nil {
		a.norm = make([]*string, len(a.recs))
	}
	if a.norm[i] == nil {
		s := textproc.Normalize(a.recs[i].p.Text)
		a.norm[i] = &s
	}
	return *a.norm[i]
}

// addDoc counts the brand records of cluster cl in x.
func (a *analysis) addDoc(x *acc, cl int) {
	for _, i := range a.clusters[cl].recs {
		if r := &a.recs[i]; r.brand {
			x.add(r)
		}
	}
}

// tokenise segments one text per brand content cluster, each once,
// keeping what textproc.Keywords keeps less the rules' own terms, and
// scores the terms as textproc.Keywords does.
func (a *analysis) tokenise() *corpus {
	c := &corpus{}
	for i := range a.clusters {
		if a.clusters[i].brand {
			c.docs = append(c.docs, i)
		}
	}
	if len(c.docs) == 0 {
		return c
	}
	ruleTok := map[string]bool{}
	for _, r := range a.rules {
		for _, t := range r.rule.Terms {
			ruleTok[textproc.Normalize(strings.TrimSpace(t))] = true
			for _, tok := range a.in.Segmenter.Tokens(t) {
				ruleTok[tok] = true
			}
		}
	}
	raw := make([][]string, len(c.docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(c.docs)/64)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(c.docs) {
					return
				}
				var keep []string
				for _, t := range a.in.Segmenter.Tokens(a.recs[a.clusters[c.docs[i]].rep].p.Text) {
					if utf8.RuneCountInString(t) >= 2 && strings.ContainsFunc(t, unicode.IsLetter) && !textproc.StopWord(t) && !ruleTok[t] {
						keep = append(keep, t)
					}
				}
				raw[i] = keep
			}
		})
	}
	wg.Wait()

	ids := map[string]int32{}
	var tf []float64
	c.toks = make([][]int32, len(c.docs))
	counts := map[int32]int{}
	for d, toks := range raw {
		clear(counts)
		ts := make([]int32, len(toks))
		for j, t := range toks {
			id, ok := ids[t]
			if !ok {
				id = int32(len(c.terms))
				ids[t] = id
				c.terms = append(c.terms, t)
				tf = append(tf, 0)
				c.posts = append(c.posts, nil)
			}
			ts[j] = id
			counts[id]++
		}
		c.toks[d] = ts
		// Each term's sum runs over the documents in order, as in
		// textproc.Keywords, so the scores are the same to the bit.
		for id, n := range counts {
			tf[id] += float64(n) / float64(len(toks))
			c.posts[id] = append(c.posts[id], int32(d))
		}
	}
	c.score = make([]float64, len(c.terms))
	for id := range c.terms {
		idf := math.Log(float64(1+len(c.docs))/float64(1+len(c.posts[id]))) + 1
		c.score[id] = tf[id] * idf
	}
	return c
}

// topic is a topic while it is being built.
type topic struct {
	terms []int // candidate indices, by score
	x     *acc
	docs  int
}

// topics clusters the candidate keywords (ranked by score) by how they
// occur together in documents and assigns each document to a topic.
func (a *analysis) topics(c *corpus, cands []int32) []Topic {
	n := len(cands)
	cand := make(map[int32]int, n)
	for i, t := range cands {
		cand[t] = i
	}
	docTerms := make([][]int, len(c.docs))
	df := make([]int, n)
	co := make([][]int, n)
	for i := range co {
		co[i] = make([]int, n)
	}
	for d, toks := range c.toks {
		var ts []int
		for _, t := range toks {
			if i, ok := cand[t]; ok {
				ts = append(ts, i)
			}
		}
		slices.Sort(ts)
		ts = slices.Compact(ts)
		docTerms[d] = ts
		for x, i := range ts {
			df[i]++
			for _, j := range ts[x+1:] {
				co[i][j]++
				co[j][i]++
			}
		}
	}
	N := float64(len(c.docs))
	npmi := func(i, j int) float64 {
		if co[i][j] < topicMinCoDocs {
			return -1
		}
		pxy := float64(co[i][j]) / N
		if pxy >= 1 {
			return 1
		}
		return math.Log(pxy/(float64(df[i])/N*float64(df[j])/N)) / -math.Log(pxy)
	}

	// Grow topics greedily from the strongest keyword left.
	var built []*topic
	used := make([]bool, n)
	for seed := range n {
		if used[seed] || len(built) == 3*a.in.Topics {
			continue
		}
		used[seed] = true
		tp := &topic{terms: []int{seed}}
		for len(tp.terms) < topicMaxTerms {
			best, bestV := -1, topicNPMI
			for j := range n {
				if used[j] {
					continue
				}
				sum := 0.0
				for _, i := range tp.terms {
					sum += npmi(i, j)
				}
				if v := sum / float64(len(tp.terms)); v >= bestV && (best < 0 || v > bestV) {
					best, bestV = j, v
				}
			}
			if best < 0 {
				break
			}
			used[best] = true
			tp.terms = append(tp.terms, best)
		}
		if len(tp.terms) >= 2 {
			slices.Sort(tp.terms) // candidates are ranked by score
			built = append(built, tp)
		} else {
			used[seed] = false // a lone keyword may still join a later topic
		}
	}

	docOwner := make([]*topic, len(c.docs)) // nil: other
	assign := func(ts []*topic) *acc {
		owner := make([]int, n)
		for i := range owner {
			owner[i] = -1
		}
		for ti, tp := range ts {
			tp.x, tp.docs = &acc{}, 0
			for _, i := range tp.terms {
				owner[i] = ti
			}
		}
		other := &acc{}
		shared := make([]int, len(ts))
		for d, terms := range docTerms {
			clear(shared)
			best := -1
			for _, i := range terms {
				if o := owner[i]; o >= 0 {
					shared[o]++
					if best < 0 || shared[o] > shared[best] || shared[o] == shared[best] && o < best {
						best = o
					}
				}
			}
			if best < 0 {
				docOwner[d] = nil
				a.addDoc(other, c.docs[d])
				continue
			}
			docOwner[d] = ts[best]
			a.addDoc(ts[best].x, c.docs[d])
			ts[best].docs++
		}
		return other
	}
	assign(built)
	// Keep the largest, in the order they were built (strongest first), and
	// assign again among them.
	if len(built) > a.in.Topics {
		bySize := slices.Clone(built)
		slices.SortStableFunc(bySize, func(x, y *topic) int { return cmp.Compare(y.x.c.Mentions, x.x.c.Mentions) })
		keep := bySize[:a.in.Topics]
		built = slices.DeleteFunc(built, func(t *topic) bool { return !slices.Contains(keep, t) })
	}
	other := assign(built)

	// Fold topics below the threshold into "other", then, while "other" is
	// below it, the smallest topics.
	merge := func(tp *topic) { mergeAcc(other, tp.x) }
	built = slices.DeleteFunc(built, func(tp *topic) bool {
		if a.priv.below(tp.x.authors) {
			merge(tp)
			a.priv.mergedTopics++
			return true
		}
		return false
	})
	slices.SortStableFunc(built, func(x, y *topic) int { return cmp.Compare(y.x.c.Mentions, x.x.c.Mentions) })
	for len(built) > 0 && a.priv.below(other.authors) {
		merge(built[len(built)-1])
		built = built[:len(built)-1]
		a.priv.complementary++
	}
	total := other.c.Mentions
	for _, tp := range built {
		total += tp.x.c.Mentions
	}
	var out []Topic
	labels := map[*topic]string{}
	defer func() {
		if a.trace != nil {
			for d, tp := range docOwner {
				l, ok := labels[tp]
				if !ok {
					l = otherLabel
				}
				a.trace(c.docs[d], l)
			}
		}
	}()
	for _, tp := range built {
		terms := make([]string, len(tp.terms))
		for i, t := range tp.terms {
			terms[i] = c.terms[cands[t]]
		}
		labels[tp] = strings.Join(terms[:min(3, len(terms))], " / ")
		out = append(out, Topic{Label: labels[tp], Terms: terms,
			Share: ratio(tp.x.c.Mentions, total), Cell: tp.x.cell()})
	}
	if other.c.Mentions > 0 {
		o := Topic{Label: otherLabel, Other: true}
		if a.priv.below(other.authors) {
			other.suppressed = true
			a.priv.suppressed++
		} else {
			o.Share = ratio(other.c.Mentions, total)
		}
		o.Cell = other.cell()
		out = append(out, o)
	}
	return out
}

// mergeAcc adds the records counted in y to x. Both hold only brand
// records of whole clusters, and no record is in both.
func mergeAcc(x, y *acc) {
	if x.authors == nil {
		x.authors = map[int32]struct{}{}
		x.clusters = map[int32]struct{}{}
	}
	x.c.Mentions += y.c.Mentions
	x.c.Likes += y.c.Likes
	x.c.Comments += y.c.Comments
	x.c.Shares += y.c.Shares
	x.c.Views += y.c.Views
	x.c.Positive += y.c.Positive
	x.c.Negative += y.c.Negative
	x.c.Neutral += y.c.Neutral
	x.engagement += y.engagement
	for a := range y.authors {
		x.authors[a] = struct{}{}
	}
	for c := range y.clusters {
		x.clusters[c] = struct{}{}
	}
}
