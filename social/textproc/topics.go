package textproc

import (
	_ "embed"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed stopwords_zh.txt
var stopZH string

//go:embed stopwords_en.txt
var stopEN string

// stopWords is the set of StopWord, read once from the embedded lists.
var stopWords = func() map[string]struct{} {
	set := map[string]struct{}{}
	for _, list := range []string{stopZH, stopEN} {
		for line := range strings.Lines(list) {
			if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
				set[Normalize(w)] = struct{}{}
			}
		}
	}
	return set
}()

// StopWord reports whether token, as Tokens returns it (normalised), is on
// admeter's short Chinese and English stop-word lists: function words and
// words every post has ("我们", "但是", "转发", "the", "really"). The lists
// are stopwords_zh.txt and stopwords_en.txt in this package.
func StopWord(token string) bool {
	_, ok := stopWords[token]
	return ok
}

// Keyword is a term that stands out in a set of documents.
type Keyword struct {
	Term  string  // a token as Tokens returns it
	Score float64 // summed TF-IDF over the documents; see Keywords
	Docs  int     // how many documents have the term
}

// Keywords returns the n terms of docs with the highest TF-IDF, summed over
// the documents, highest first and then by term. A term's score in one
// document is its count there over the document's token count, times
// ln((1+N)/(1+df)) + 1 where N is len(docs) and df the documents that have
// it (smoothed so that a term in every document still counts).
//
// Tokens come from seg.Tokens. Dropped are: tokens stop reports (StopWord
// when stop is nil), tokens of one character, and numbers (tokens without a
// letter: "2024", "3.5"). Documents left with no tokens count towards N.
func Keywords(seg *Segmenter, docs []string, n int, stop func(string) bool) []Keyword {
	if n <= 0 || len(docs) == 0 {
		return nil
	}
	if stop == nil {
		stop = StopWord
	}
	type termStat struct {
		tf   float64 // sum over documents of count/len
		docs int
	}
	stats := map[string]*termStat{}
	counts := map[string]int{}
	for _, d := range docs {
		clear(counts)
		total := 0
		for _, t := range seg.Tokens(d) {
			if utf8.RuneCountInString(t) < 2 || !strings.ContainsFunc(t, unicode.IsLetter) || stop(t) {
				continue
			}
			counts[t]++
			total++
		}
		// Each term's sum runs over the documents in order, so the scores, and
		// the ranking, are the same on every run whatever the map order.
		for t, c := range counts {
			s := stats[t]
			if s == nil {
				s = &termStat{}
				stats[t] = s
			}
			s.tf += float64(c) / float64(total)
			s.docs++
		}
	}
	out := make([]Keyword, 0, len(stats))
	for t, s := range stats {
		idf := math.Log(float64(1+len(docs))/float64(1+s.docs)) + 1
		out = append(out, Keyword{Term: t, Score: s.tf * idf, Docs: s.docs})
	}
	slices.SortFunc(out, func(a, b Keyword) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Term, b.Term)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
