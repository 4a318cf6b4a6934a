package socialsim

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// fold folds s for the generator's own check: full-width ASCII to ASCII,
// letters to lower case, and spaces and the joiners textproc drops
// (- _ . / ' ’ · ・ and format characters) left out, so that a term the
// server would find in a text is a substring of the folded text.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xff01 && r <= 0xff5e:
			r -= 0xfee0
		case r == 0x3000:
			continue
		}
		switch r {
		case '-', '_', '.', '/', '\'', '’', '·', '・':
			continue
		}
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// verdict is what a text is meant to do to the rules: count for want,
// be excluded from excl, and leave the others alone.
type verdict struct{ want, excl []int }

// want returns the verdict text has now (for decorations, which must not
// change it).
func (g *gen) want(text string) verdict {
	var v verdict
	f := fold(text)
	for r := range g.rules {
		t, e := g.has(f, r)
		switch {
		case e:
			v.excl = append(v.excl, r)
		case t:
			v.want = append(v.want, r)
		}
	}
	return v
}

// has reports whether folded text f has a term and an exclusion of rule r.
func (g *gen) has(f string, r int) (term, excl bool) {
	term = slices.ContainsFunc(g.terms[r], func(t string) bool { return strings.Contains(f, t) })
	excl = slices.ContainsFunc(g.excls[r], func(t string) bool { return strings.Contains(f, t) })
	return term, excl
}

// check reports whether text does what v says: every rule of v.want has a
// term in it and no exclusion, every rule of v.excl an exclusion, and no
// other rule a term or an exclusion.
func (g *gen) check(text string, v verdict) bool {
	f := fold(text)
	for r := range g.rules {
		t, e := g.has(f, r)
		switch {
		case slices.Contains(v.want, r):
			if !t || e {
				return false
			}
		case slices.Contains(v.excl, r):
			if !e {
				return false
			}
		case t || e:
			return false
		}
	}
	return true
}

// compose makes a text with make until check passes for want and excl
// (at most 100 tries).
func (g *gen) compose(want, excl []int, make func() string) (string, error) {
	for range 100 {
		if s := make(); g.check(s, verdict{want, excl}) {
			return s, nil
		}
	}
	return "", fmt.Errorf("socialsim: cannot write a text that names rules %v and excludes %v only: do the rules' terms clash with each other or with the vocabulary?", want, excl)
}

// checkVocabulary refuses rules whose terms or exclusions appear in the
// vocabulary pieces that are not checked as part of a text (what reposts
// add, the placeholders the server puts in) or in another rule's terms.
func (g *gen) checkVocabulary() error {
	for _, s := range append(slices.Clone(repostComments), "@某人", "[电话]", "有问题打电话") {
		if !g.check(s, verdict{}) {
			return fmt.Errorf("socialsim: %q, which the generator writes, names a rule: choose other terms", s)
		}
	}
	for r, rule := range g.rules {
		for _, t := range rule.Terms {
			if fold(t) == "" {
				return fmt.Errorf("socialsim: rule %q: term %q has nothing to match", rule.Name, t)
			}
			if !g.check(t, verdict{want: []int{r}}) {
				return fmt.Errorf("socialsim: rule %q: term %q is also another rule's term or an exclusion: the truth would be ambiguous", rule.Name, t)
			}
		}
		for _, e := range rule.Exclusions {
			if fold(e) == "" {
				return fmt.Errorf("socialsim: rule %q: exclusion %q has nothing to match", rule.Name, e)
			}
		}
	}
	if f := fold(g.cfg.Official.Handle); slices.ContainsFunc(g.authors, func(a author) bool { return fold(a.handle) == f }) {
		return fmt.Errorf("socialsim: the official handle is an ordinary author's")
	}
	return nil
}
