package sentiment

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/admeter/admeter/social/textproc"
)

// The labels of a Result.
const (
	Positive = "positive"
	Negative = "negative"
	Neutral  = "neutral"
)

// Tuning constants; VADER's where it has one.
const (
	threshold   = 0.05  // |compound| at or above this is not neutral (VADER)
	negScalar   = -0.74 // a negated sentiment word is multiplied by this (VADER)
	window      = 3     // negators and boosters reach this many tokens ahead (VADER)
	beforeBut   = 0.5   // weight of what comes before an adversative (VADER)
	afterBut    = 1.5   // weight of what comes from it on (VADER)
	exclaimStep = 0.292 // added to |sum| per '!', at most maxExclaim of them (VADER)
	maxExclaim  = 4
	alpha       = 15  // compound = sum / sqrt(sum² + alpha) (VADER)
	maxSpan     = 4   // longest run of tokens joined to match a lexicon phrase
	maxQuoted   = 4   // longest scare-quoted text, in runes, that flips a positive word
	questionW   = 0.1 // weight of a clause that asks a question
)

// Result is the sentiment of one text.
type Result struct {
	// Score is VADER's compound score: the summed valence of the matched
	// terms, normalised to −1 (most negative) … +1 (most positive).
	Score float64
	// Positive and Negative count the matched terms (words, phrases,
	// emoji) that pushed the score up and down.
	Positive, Negative int
	// Label is Positive when Score >= 0.05, Negative when Score <= −0.05,
	// Neutral otherwise.
	Label string
}

// Scorer scores the sentiment of Chinese, English and mixed text with the
// embedded lexicons. It is safe for concurrent use.
type Scorer struct {
	seg *textproc.Segmenter
	lex *lexicon
}

// New returns a Scorer that tokenises with seg (share one Segmenter per
// process: it takes seconds to load).
func New(seg *textproc.Segmenter) *Scorer {
	lex, err := loadLexicon()
	if err != nil {
		// The lexicons are embedded; TestLexicon keeps them well formed.
		panic(err)
	}
	return &Scorer{seg: seg, lex: lex}
}

// Score returns the sentiment of text.
func (s *Scorer) Score(text string) Result {
	norm := textproc.Normalize(text)
	quoted := scareQuoted(norm)

	// One item per token, in order, over all clauses.
	var items []item
	for _, c := range splitClauses(norm) {
		w := 1.0
		if c.question {
			w = questionW
		}
		first := len(items)
		items = s.lex.items(items, joinContractions(s.seg.Tokens(c.text)))
		for i := first; i < len(items); i++ {
			items[i].weight = w
			items[i].clauseStart = i == first
		}
	}

	butAt := -1
	for i, it := range items {
		if it.kind == kindBut {
			butAt = i
			break
		}
	}

	var sum float64
	var res Result
	for i, it := range items {
		if it.kind != kindWord || it.value == 0 {
			continue
		}
		v := it.value
		if !inContext(items, i) {
			continue
		}
		if v > 0 && quoted[it.text] {
			v = -v // 真是太“好”了: scare quotes turn praise into sarcasm
		}
		v = s.lex.modify(items, i, v)
		v *= it.weight
		if butAt >= 0 {
			if i < butAt {
				v *= beforeBut
			} else {
				v *= afterBut
			}
		}
		sum += v
		res.count(v)
	}
	for _, e := range emoticons {
		if n := strings.Count(norm, e.text); n > 0 {
			sum += float64(n) * e.value
			for range n {
				res.count(e.value)
			}
		}
	}
	if sum != 0 {
		n := min(strings.Count(norm, "!"), maxExclaim)
		sum += math.Copysign(float64(n)*exclaimStep, sum)
	}

	res.Score = sum / math.Sqrt(sum*sum+alpha)
	switch {
	case res.Score >= threshold:
		res.Label = Positive
	case res.Score <= -threshold:
		res.Label = Negative
	default:
		res.Label = Neutral
	}
	return res
}

// inContext reports whether the ambiguous word items[i] carries sentiment
// where it stands: 一般 is "mediocre" only at the end of its clause
// (味道一般, not 一般几天发货), English "like" is a verb only after a
// subject or modifier (I like it, not feels like).
func inContext(items []item, i int) bool {
	switch items[i].text {
	case "一般":
		return i+1 == len(items) || items[i+1].clauseStart
	case "like", "likes":
		if i == 0 || items[i].clauseStart {
			return false
		}
		p := items[i-1]
		return p.kind == kindNegate || p.kind == kindBoost || likeSubjects[p.text]
	}
	return true
}

var likeSubjects = map[string]bool{"i": true, "we": true, "you": true, "they": true, "she": true, "he": true, "would": true, "to": true, "people": true, "everyone": true, "kids": true}

func (r *Result) count(v float64) {
	switch {
	case v > 0:
		r.Positive++
	case v < 0:
		r.Negative++
	}
}

// modify applies the negators and boosters in the window tokens before
// items[i] (within its clause) to the valence v.
func (l *lexicon) modify(items []item, i int, v float64) float64 {
	sign := math.Copysign(1, v)
	if items[i].clauseStart {
		return v
	}
	for d := 1; d <= window && i-d >= 0; d++ {
		it := items[i-d]
		decay := 1 - 0.05*float64(d-1) // VADER: 1, 0.95, 0.9
		switch it.kind {
		case kindBoost:
			v += sign * it.value * decay
		case kindNegate:
			v *= negScalar
		}
		if it.clauseStart {
			break
		}
	}
	return v
}

type kind uint8

const (
	kindNone kind = iota // a token the lexicons don't know
	kindWord
	kindNegate
	kindBoost
	kindBut
)

type entry struct {
	kind  kind
	value float64
}

type item struct {
	kind        kind
	value       float64
	text        string
	weight      float64
	clauseStart bool
}

// lexicon is every term of the embedded files.
type lexicon struct {
	terms    map[string]entry
	maxRunes int // of the longest Chinese term
}

// items appends to dst an item per term of the lexicons found in toks,
// and an empty item for each token that holds none (so that negators and
// boosters reach window tokens, not terms).
//
// English tokens match the longest run of up to maxSpan tokens that is a
// term. Runs of Chinese tokens are matched rune by rune, longest term
// first, because gse's words do not follow the lexicon's (it cuts 太拉胯
// into 太拉 and 胯): a term of two or more runes may cross gse's word
// boundaries, but a one-rune term (好, 贵) counts only as a whole gse word
// or glued right after a modifier (太贵, 很差), so that 好像 and 好几个
// don't read as 好.
func (l *lexicon) items(dst []item, toks []string) []item {
	for i := 0; i < len(toks); {
		if isHan(toks[i]) {
			j := i + 1
			for j < len(toks) && isHan(toks[j]) {
				j++
			}
			dst = l.han(dst, toks[i:j])
			i = j
			continue
		}
		matched := false
		for j := min(len(toks), i+maxSpan); j > i; j-- {
			if j > i+1 && isHan(toks[j-1]) {
				continue
			}
			key := strings.Join(toks[i:j], " ")
			if e, ok := l.terms[key]; ok {
				dst = append(dst, item{kind: e.kind, value: e.value, text: key})
				i, matched = j, true
				break
			}
		}
		if !matched {
			dst = append(dst, item{text: toks[i]})
			i++
		}
	}
	return dst
}

// han matches a run of Chinese tokens; see items.
func (l *lexicon) han(dst []item, toks []string) []item {
	run := strings.Join(toks, "")
	bound := make(map[int]bool, len(toks)+1) // byte offsets where a gse word starts or ends
	off := 0
	for _, t := range toks {
		bound[off] = true
		off += len(t)
	}
	bound[off] = true

	modEnd := -1  // where the last modifier matched ends
	emitted := -1 // the start of the gse word that the last item came from
	wordStart := 0
	for pos := 0; pos < len(run); {
		if bound[pos] {
			wordStart = pos
		}
		end, e := l.longest(run[pos:])
		if end > 0 {
			end += pos
			one := utf8.RuneCountInString(run[pos:end]) == 1
			if e.kind != kindWord || !one || (bound[pos] && bound[end]) || modEnd == pos {
				dst = append(dst, item{kind: e.kind, value: e.value, text: run[pos:end]})
				emitted = wordStart
				if e.kind == kindNegate || e.kind == kindBoost {
					modEnd = end
				}
				pos = end
				continue
			}
		}
		if bound[pos] && emitted != pos {
			dst = append(dst, item{text: run[pos:nextBound(bound, run, pos)]})
			emitted = pos
		}
		_, size := utf8.DecodeRuneInString(run[pos:])
		pos += size
	}
	return dst
}

// longest returns the byte length and entry of the longest term that s
// starts with, or 0.
func (l *lexicon) longest(s string) (int, entry) {
	n := 0
	for i := range s {
		n++
		if n > l.maxRunes {
			s = s[:i]
			break
		}
	}
	for end := len(s); end > 0; end-- {
		if end < len(s) && !utf8.RuneStart(s[end]) {
			continue
		}
		if e, ok := l.terms[s[:end]]; ok {
			return end, e
		}
	}
	return 0, entry{}
}

func nextBound(bound map[int]bool, s string, pos int) int {
	for i := pos + 1; i < len(s); i++ {
		if bound[i] {
			return i
		}
	}
	return len(s)
}

func isHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// contracted are the stems that textproc leaves of English negative
// contractions: don't → "don", "t".
var contracted = map[string]string{
	"don": "dont", "doesn": "doesnt", "didn": "didnt", "isn": "isnt",
	"wasn": "wasnt", "aren": "arent", "weren": "werent", "can": "cant",
	"couldn": "couldnt", "won": "wont", "wouldn": "wouldnt",
	"shouldn": "shouldnt", "haven": "havent", "hasn": "hasnt", "ain": "aint",
}

// joinContractions turns "don", "t" into "dont", which rules.tsv negates.
func joinContractions(toks []string) []string {
	out := toks[:0]
	for _, t := range toks {
		if t == "t" && len(out) > 0 {
			if c, ok := contracted[out[len(out)-1]]; ok {
				out[len(out)-1] = c
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

type clause struct {
	text     string
	question bool
}

// splitClauses cuts normalised text at clause punctuation. A clause that
// ends in a question mark or particle asks a question.
func splitClauses(norm string) []clause {
	var out []clause
	start := 0
	for i, r := range norm {
		if !isClauseEnd(r) {
			continue
		}
		if i > start {
			out = append(out, clause{text: norm[start:i], question: r == '?' || asks(norm[start:i])})
		}
		start = i + utf8.RuneLen(r)
	}
	if start < len(norm) {
		out = append(out, clause{text: norm[start:], question: asks(norm[start:])})
	}
	return out
}

// asks reports whether a Chinese clause ends in a question particle
// (有优惠吗, 怎么办呢), as posts often do without a question mark.
func asks(c string) bool {
	c = strings.TrimRightFunc(c, unicode.IsSpace)
	return strings.HasSuffix(c, "吗") || strings.HasSuffix(c, "呢") || strings.HasSuffix(c, "么")
}

func isClauseEnd(r rune) bool {
	switch r {
	case ',', '.', '!', '?', ';', ':', '~', '\n', '，', '。', '、', '；', '：', '…', '～':
		return true
	}
	return false
}

// quotePairs are the quotes that mark a word as said with irony.
var quotePairs = [][2]rune{{'"', '"'}, {'\'', '\''}, {'“', '”'}, {'‘', '’'}, {'「', '」'}, {'『', '』'}}

// scareQuoted returns the short texts that norm puts in quotes.
func scareQuoted(norm string) map[string]bool {
	var out map[string]bool
	for _, q := range quotePairs {
		rest := norm
		for {
			i := strings.IndexRune(rest, q[0])
			if i < 0 {
				break
			}
			rest = rest[i+utf8.RuneLen(q[0]):]
			j := strings.IndexRune(rest, q[1])
			if j < 0 {
				break
			}
			if in := strings.TrimSpace(rest[:j]); in != "" && utf8.RuneCountInString(in) <= maxQuoted {
				if out == nil {
					out = map[string]bool{}
				}
				out[in] = true
			}
			rest = rest[j+utf8.RuneLen(q[1]):]
		}
	}
	return out
}

// emoticons are the emoji and ASCII emoticons that count, with VADER-scale
// valences. 😂 and 😭 are left out: on Weibo and Douyin they mean laughing
// as often as crying.
var emoticons = []struct {
	text  string
	value float64
}{
	{"👍", 2}, {"👏", 1.8}, {"💯", 2}, {"🎉", 1.8}, {"❤", 2.6}, {"😍", 2.8},
	{"🥰", 2.8}, {"😊", 2}, {"😄", 2}, {"😁", 1.8}, {"🤩", 2.6},
	{"👎", -2}, {"😡", -2.8}, {"😠", -2.5}, {"🤬", -3}, {"🤮", -3}, {"💩", -2.5},
	{"💔", -2.2}, {"😞", -2}, {"😢", -1.8}, {"🙄", -1.5}, {"😤", -1.8}, {"🤡", -1.8},
	{":)", 2}, {":-)", 2}, {":d", 2.2}, {"<3", 2}, {":(", -2}, {":-(", -2}, {":'(", -2},
}

var (
	//go:embed lexicon/en_vader.txt
	enVader []byte
	//go:embed lexicon/en_admeter.tsv
	enAdmeter []byte
	//go:embed lexicon/zh.tsv
	zhLexicon []byte
	//go:embed lexicon/rules.tsv
	rulesFile []byte
)

// loadLexicon parses the embedded files once per process.
var loadLexicon = sync.OnceValues(func() (*lexicon, error) {
	l := &lexicon{terms: make(map[string]entry, 9000)}
	// VADER first, so that admeter's own terms and rules win.
	if err := eachLine(enVader, "lexicon/en_vader.txt", func(f []string) error {
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return err
		}
		l.terms[f[0]] = entry{kind: kindWord, value: v}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"lexicon/en_admeter.tsv", enAdmeter}, {"lexicon/zh.tsv", zhLexicon}} {
		if err := eachLine(f.data, f.name, func(f []string) error {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return err
			}
			if v < -4 || v > 4 {
				return fmt.Errorf("valence %v outside -4…4", v)
			}
			l.terms[f[0]] = entry{kind: kindWord, value: v}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if err := eachLine(rulesFile, "lexicon/rules.tsv", func(f []string) error {
		if len(f) < 3 {
			return fmt.Errorf("want kind, term and value")
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return err
		}
		var k kind
		switch f[0] {
		case "negate":
			k = kindNegate
		case "boost":
			k = kindBoost
		case "but":
			k = kindBut
		default:
			return fmt.Errorf("unknown kind %q", f[0])
		}
		l.terms[f[1]] = entry{kind: k, value: v}
		return nil
	}); err != nil {
		return nil, err
	}
	for t := range l.terms {
		if isHan(t) {
			l.maxRunes = max(l.maxRunes, utf8.RuneCountInString(t))
		}
	}
	return l, nil
})

// eachLine calls fn with the tab-separated fields of each line of data
// that is not blank or a # comment.
func eachLine(data []byte, name string, fn func([]string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || f[0] == "" {
			return fmt.Errorf("parse %s line %d: want term<TAB>value: fix the file", name, n)
		}
		if err := fn(f); err != nil {
			return fmt.Errorf("parse %s line %d: %w: fix the file", name, n, err)
		}
	}
	return sc.Err()
}
