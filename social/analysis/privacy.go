package analysis

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/admeter/admeter/social/sentiment"
)

// acc accumulates the records of one cell.
type acc struct {
	c          Counts
	authors    map[int32]struct{}
	clusters   map[int32]struct{}
	engagement int64 // likes + comments + shares
	suppressed bool
}

// add counts r in the cell.
func (x *acc) add(r *rec) {
	if x.authors == nil {
		x.authors = map[int32]struct{}{}
		x.clusters = map[int32]struct{}{}
	}
	p := r.p
	x.c.Mentions++
	x.authors[r.author] = struct{}{}
	if r.cluster >= 0 {
		x.clusters[r.cluster] = struct{}{}
	}
	x.c.Likes += p.Likes
	x.c.Comments += p.Comments
	x.c.Shares += p.Shares
	x.c.Views += p.Views
	x.engagement += p.Likes + p.Comments + p.Shares
	switch label(p.Sentiment) {
	case sentiment.Positive:
		x.c.Positive++
	case sentiment.Negative:
		x.c.Negative++
	default:
		x.c.Neutral++
	}
}

// counts returns the finished counts.
func (x *acc) counts() *Counts {
	c := x.c
	c.Authors = int64(len(x.authors))
	c.Original = int64(len(x.clusters))
	c.Reposts = c.Mentions - c.Original
	if c.Mentions > 0 {
		c.NetSentiment = float64(c.Positive-c.Negative) / float64(c.Mentions)
	}
	return &c
}

// cell returns the published form of x.
func (x *acc) cell() Cell {
	if x.suppressed {
		return Cell{Suppressed: true}
	}
	return Cell{Counts: x.counts()}
}

// privacy applies the threshold and counts what it suppressed.
type privacy struct {
	k        int
	official []bool // by author index

	suppressed, complementary, droppedKeywords, mergedTopics int
	notes                                                    []string
}

// note adds a note to the report.
func (p *privacy) note(s string) { p.notes = append(p.notes, s) }

// people returns how many of authors are not official accounts: the people
// the threshold protects.
func (p *privacy) people(authors map[int32]struct{}) int {
	n := 0
	for a := range authors {
		if !p.official[a] {
			n++
		}
	}
	return n
}

// below reports whether a set of authors is too small to publish: some
// people, but fewer than k (official accounts do not count).
func (p *privacy) below(authors map[int32]struct{}) bool {
	n := p.people(authors)
	return n > 0 && n < p.k
}

// check suppresses x if it is below the threshold.
func (p *privacy) check(x *acc) {
	if p.below(x.authors) {
		x.suppressed = true
		p.suppressed++
	}
}

// series thresholds the parts of total (days of a rule, sources of the
// total, periods of a range), then complements them: when total is
// published, the suppressed parts together are total minus the published
// ones, so further parts, smallest first, are suppressed until the
// suppressed parts together have at least k people (or none).
func (p *privacy) series(total *acc, parts []*acc) {
	for _, x := range parts {
		p.check(x)
	}
	if total != nil && !total.suppressed {
		p.complement(parts)
	}
}

// complement suppresses published parts, smallest first, until the
// suppressed ones together have no people or at least k.
func (p *privacy) complement(parts []*acc) {
	union := map[int32]struct{}{}
	var open []*acc
	for _, x := range parts {
		if x.suppressed {
			for a := range x.authors {
				union[a] = struct{}{}
			}
		} else if x.c.Mentions > 0 {
			open = append(open, x)
		}
	}
	slices.SortStableFunc(open, func(x, y *acc) int {
		return cmp.Or(cmp.Compare(x.c.Mentions, y.c.Mentions), cmp.Compare(len(x.authors), len(y.authors)))
	})
	for _, x := range open {
		if !p.below(union) {
			break
		}
		x.suppressed = true
		p.complementary++
		for a := range x.authors {
			union[a] = struct{}{}
		}
	}
}

// report returns the Privacy section.
func (p *privacy) report(k int) Privacy {
	out := Privacy{MinAuthors: k, SuppressedCells: p.suppressed, Complementary: p.complementary,
		DroppedKeywords: p.droppedKeywords, MergedTopics: p.mergedTopics}
	out.Notes = append(out.Notes, fmt.Sprintf("Cells describing records of fewer than %d distinct authors are suppressed (posts of official accounts are exempt); %d were, and %d more so that they cannot be worked out by subtraction.",
		k, p.suppressed, p.complementary))
	if p.droppedKeywords > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d keywords used by fewer than %d authors are left out.", p.droppedKeywords, k))
	}
	if p.mergedTopics > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d topics with fewer than %d authors are folded into \"other\".", p.mergedTopics, k))
	}
	out.Notes = append(out.Notes, p.notes...)
	return out
}
