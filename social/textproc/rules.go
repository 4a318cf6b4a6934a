package textproc

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// Limits on a tenant's keyword rules, checked by CompileRules.
const (
	MaxRules     = 1000 // rules in one CompileRules call
	MaxTerms     = 50   // terms of one rule, and separately exclusions of one rule
	MaxTermRunes = 100  // characters in one term or exclusion
	MaxNameRunes = 100  // characters in one rule name
)

// Rule is one thing a tenant counts mentions of: a brand, product or
// competitor.
type Rule struct {
	// Name is what a match counts for ("华为 Mate 70"); unique among a
	// tenant's rules.
	Name string
	// Terms are the name and its synonyms. A term matches as a whole: an
	// English term on word boundaries ("apple" does not match "pineapple",
	// "iPhone 16" matches "iphone16"), a Chinese term wherever its characters
	// stand together, whatever gse makes of the sentence around it. Case,
	// width (ＡＢＣ, ａｂｃ) and spacing do not matter.
	Terms []string
	// Exclusions are matched like terms; a text matching any of them does not
	// count for this rule (a phone brand "华为" excluding "华为路由器").
	Exclusions []string
}

// Matcher finds which of a tenant's rules a text counts for. Make it with
// CompileRules; it is safe for concurrent use.
type Matcher struct {
	names []string // rule names, sorted; a rule is its index here

	words map[string]int32 // word and number units of every pattern → unit ID ≥ 1
	runes map[rune]int32   // single-rune units of every pattern → unit ID ≥ 1

	// An Aho–Corasick automaton over unit IDs. Node 0 is the root.
	next     map[uint64]int32 // node<<32 | unit ID → child node
	fail     []int32          // longest proper suffix of the node's path that is a trie path
	pattern  []int32          // the pattern ending at the node, -1 if none
	dictLink []int32          // nearest node on the fail chain with a pattern, 0 if none

	refs [][]patternRef // pattern → the rules that use it
}

// patternRef says that a rule uses a pattern as a term or as an exclusion.
type patternRef struct {
	rule      int32
	exclusion bool
}

// CompileRules checks a tenant's rules and compiles them into one Matcher.
// It returns an EINVALID error naming the rule and field when a name is
// empty, repeated or longer than MaxNameRunes, a rule has no terms, more
// than MaxTerms terms or exclusions, a term or exclusion has no letter or
// digit or is longer than MaxTermRunes, a term is also an exclusion of its
// rule, or there are more than MaxRules rules.
//
// Terms are compared character by character (see the package doc), which
// finds every match that comparing gse tokens would, whatever gse makes of a
// term inside a sentence, so no Segmenter is needed.
func CompileRules(rules []Rule) (*Matcher, error) {
	if len(rules) > MaxRules {
		return nil, admeter.Errorf(admeter.EINVALID, "%d keyword rules is more than the %d allowed: merge synonyms into one rule's terms or drop rules", len(rules), MaxRules)
	}
	type compiled struct {
		name        string
		terms, excl [][]string // unit sequences
	}
	cs := make([]compiled, 0, len(rules))
	seen := make(map[string]int, len(rules))
	for i, r := range rules {
		name := strings.TrimSpace(r.Name)
		if name == "" {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %d: name is empty: name the brand, product or competitor the rule counts", i+1)
		}
		if n := utf8.RuneCountInString(name); n > MaxNameRunes {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %q: name has %d characters, more than the %d allowed", name, n, MaxNameRunes)
		}
		if j, ok := seen[name]; ok {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %q: name is used by rules %d and %d: give each rule its own name or merge their terms", name, j+1, i+1)
		}
		seen[name] = i
		if len(r.Terms) == 0 {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %q: terms is empty: give at least the name as it is written in posts", name)
		}
		c := compiled{name: name}
		var err error
		if c.terms, err = compileTerms(name, "terms", r.Terms); err != nil {
			return nil, err
		}
		if c.excl, err = compileTerms(name, "exclusions", r.Exclusions); err != nil {
			return nil, err
		}
		for j, e := range c.excl {
			for _, t := range c.terms {
				if slices.Equal(e, t) {
					return nil, admeter.Errorf(admeter.EINVALID, "rule %q: exclusions[%d] %q is also one of its terms, so the rule could never count it: remove one of the two", name, j, r.Exclusions[j])
				}
			}
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b compiled) int { return strings.Compare(a.name, b.name) })

	m := &Matcher{
		words:    map[string]int32{},
		runes:    map[rune]int32{},
		next:     map[uint64]int32{},
		fail:     []int32{0},
		pattern:  []int32{-1},
		dictLink: []int32{0},
	}
	unitID := func(u string) int32 {
		if r, size := utf8.DecodeRuneInString(u); size == len(u) {
			if id, ok := m.runes[r]; ok {
				return id
			}
			id := int32(len(m.words) + len(m.runes) + 1)
			m.runes[r] = id
			return id
		}
		if id, ok := m.words[u]; ok {
			return id
		}
		id := int32(len(m.words) + len(m.runes) + 1)
		m.words[u] = id
		return id
	}
	var kids [][]int32 // node → children, for building fail links breadth first
	kids = append(kids, nil)
	add := func(seq []string, ref patternRef) {
		node := int32(0)
		for _, u := range seq {
			key := uint64(node)<<32 | uint64(unitID(u))
			child, ok := m.next[key]
			if !ok {
				child = int32(len(m.fail))
				m.next[key] = child
				m.fail = append(m.fail, 0)
				m.pattern = append(m.pattern, -1)
				m.dictLink = append(m.dictLink, 0)
				kids[node] = append(kids[node], child)
				kids = append(kids, nil)
			}
			node = child
		}
		p := m.pattern[node]
		if p < 0 {
			p = int32(len(m.refs))
			m.pattern[node] = p
			m.refs = append(m.refs, nil)
		}
		if !slices.Contains(m.refs[p], ref) {
			m.refs[p] = append(m.refs[p], ref)
		}
	}
	for i, c := range cs {
		m.names = append(m.names, c.name)
		for _, t := range c.terms {
			add(t, patternRef{rule: int32(i)})
		}
		for _, e := range c.excl {
			add(e, patternRef{rule: int32(i), exclusion: true})
		}
	}

	// Fail and dictionary links, breadth first so that a node's fail target is
	// done before the node. The unit leading into each child is recovered from
	// the transition table, indexed the other way round here.
	unitOf := make([]int32, len(m.fail))
	for key, child := range m.next {
		unitOf[child] = int32(key & 0xffffffff)
	}
	queue := slices.Clone(kids[0])
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, c := range kids[v] {
			u := uint64(unitOf[c])
			f := m.fail[v]
			for {
				if v == 0 {
					break // children of the root fail to the root
				}
				if t, ok := m.next[uint64(f)<<32|u]; ok {
					m.fail[c] = t
					break
				}
				if f == 0 {
					break
				}
				f = m.fail[f]
			}
			if t := m.fail[c]; m.pattern[t] >= 0 {
				m.dictLink[c] = t
			} else {
				m.dictLink[c] = m.dictLink[t]
			}
			queue = append(queue, c)
		}
	}
	return m, nil
}

// compileTerms turns a rule's terms or exclusions into unit sequences,
// dropping repeats.
func compileTerms(rule, field string, terms []string) ([][]string, error) {
	if len(terms) > MaxTerms {
		return nil, admeter.Errorf(admeter.EINVALID, "rule %q: %s has %d entries, more than the %d allowed: split the rule", rule, field, len(terms), MaxTerms)
	}
	var out [][]string
	for j, t := range terms {
		if n := utf8.RuneCountInString(t); n > MaxTermRunes {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %q: %s[%d] has %d characters, more than the %d allowed", rule, field, j, n, MaxTermRunes)
		}
		us := units(t)
		if !slices.ContainsFunc(us, func(u string) bool {
			r, _ := utf8.DecodeRuneInString(u)
			return isWordRune(r)
		}) {
			return nil, admeter.Errorf(admeter.EINVALID, "rule %q: %s[%d] %q has no letter or digit: write the word as it appears in posts", rule, field, j, t)
		}
		if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, us) }) {
			out = append(out, us)
		}
	}
	return out, nil
}

// Names returns the names of the rules, sorted.
func (m *Matcher) Names() []string { return slices.Clone(m.names) }

// Match returns the names of the rules text counts for, sorted, each once:
// those with a term in text and none of their exclusions.
func (m *Matcher) Match(text string) []string {
	var hits []int32 // patterns found, with repeats
	node := int32(0)
	eachUnit(Normalize(text), func(u string, _ unitKind) {
		var id int32
		if r, size := utf8.DecodeRuneInString(u); size == len(u) {
			id = m.runes[r]
		} else {
			id = m.words[u]
		}
		if id == 0 { // in no pattern: no match runs through this unit
			node = 0
			return
		}
		for {
			if t, ok := m.next[uint64(node)<<32|uint64(id)]; ok {
				node = t
				break
			}
			if node == 0 {
				break
			}
			node = m.fail[node]
		}
		for n := node; n != 0; n = m.dictLink[n] {
			if p := m.pattern[n]; p >= 0 {
				hits = append(hits, p)
			}
		}
	})
	if len(hits) == 0 {
		return nil
	}
	slices.Sort(hits)
	hits = slices.Compact(hits)
	var counted, excluded []int32
	for _, p := range hits {
		for _, ref := range m.refs[p] {
			if ref.exclusion {
				excluded = append(excluded, ref.rule)
			} else {
				counted = append(counted, ref.rule)
			}
		}
	}
	slices.Sort(counted)
	counted = slices.Compact(counted)
	slices.Sort(excluded)
	var out []string
	for _, r := range counted {
		if _, found := slices.BinarySearch(excluded, r); !found {
			out = append(out, m.names[r])
		}
	}
	return out
}
