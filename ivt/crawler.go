package ivt

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"

	agents "github.com/monperrus/crawler-user-agents"
)

// uaClass is what the crawler list says about a user agent.
type uaClass uint8

const (
	uaNone uaClass = iota
	// uaLibrary: an HTTP library or command-line tool (curl, python-requests,
	// Go-http-client...). Media servers relay monitoring calls with these,
	// so it is only invalid where a browser is expected.
	uaLibrary
	// uaCrawler: a crawler, bot, link previewer, monitor or headless
	// browser: invalid on every channel.
	uaCrawler
)

// The crawler-user-agents patterns are case-sensitive regular expressions,
// and the list spells out the case variants it means ("[wW]get",
// "S[eE][mM]rushBot"), so they are matched as written. Folding case would
// widen them beyond what the list's examples were checked against: "Sonic"
// would match every Panasonic TV.

// libraryPatterns are the patterns of the list that name generic HTTP
// clients rather than crawlers.
var libraryPatterns = []string{
	`[wW]get`, `Python-urllib`, `python-requests`, `aiohttp`, `httpx`, `libwww-perl`, `httpunit`,
	`Go-http-client`, `^Apache-HttpClient`, `Jetty`, `http_get`, `AHC\/`, `^curl`, `axios`,
	`node-fetch`, `HttpUrlConnection`, `^PHP-Curl-Class`, `Pcore-HTTP`, `AnyEvent`,
}

// excludedPatterns are left out: okhttp is the HTTP stack of most Android
// apps and of the ad SDKs inside them, so it says nothing about a bot.
var excludedPatterns = []string{`okhttp`}

// narrowedPatterns replace patterns that also match real browsers: "Sogou"
// matches Sogou's own mobile browser and search app (SogouMobileBrowser,
// SogouSearch); every Sogou crawler in the list is "Sogou … spider".
var narrowedPatterns = map[string]string{
	`Sogou`: `Sogou [A-Za-z ]*[Ss]pider`,
}

// literal is one string a user agent must contain for a pattern to match.
type literal struct {
	s     string
	class uaClass
	start bool // must be at the start of the user agent
	end   bool // must be at the end
	// confirm: the literal is only a sign that a pattern that is not a plain
	// string may match; the class's regexp decides.
	confirm bool
}

// gramEntry places a literal's anchor: the 4 bytes at off in the literal.
type gramEntry struct {
	lit int32
	off int32
}

// filterBits is the size of the anchor filter: 64 Ki bits, 8 KiB, which
// stays in the L1 cache.
const filterBits = 1 << 16

// maxScan bounds the bytes of a user agent that are searched. Real ones stay
// under 500 bytes; the cap bounds the work a forged header can cause.
const maxScan = 2048

// matcher finds the crawler-list patterns in a user agent in one pass. Every
// literal of 4 bytes or more is indexed by one of its 4-byte substrings, its
// anchor, chosen to be rare in ordinary browser user agents; a 64 Ki-bit
// filter of the anchors lets the scan skip nearly every position with a
// multiply, a shift and a bit test, and only filter hits look the 4 bytes up
// and compare the literals there. The few patterns that are not a set of
// plain strings are run as one regexp per class, and only when one of their
// literals was found.
type matcher struct {
	lits   []literal
	filter [filterBits / 64]uint64
	grams  map[uint32][]gramEntry
	short  []int32 // literals shorter than 4 bytes, found with strings.Index
	re     [uaCrawler + 1]*regexp.Regexp
}

// crawlers is the matcher for the crawler-user-agents list, built once.
var crawlers = sync.OnceValues(func() (*matcher, error) {
	pats := make([]string, len(agents.Crawlers))
	for i, c := range agents.Crawlers {
		pats[i] = c.Pattern
	}
	return newMatcher(pats)
})

// newMatcher compiles the patterns of the crawler list.
func newMatcher(patterns []string) (*matcher, error) {
	m := &matcher{grams: map[uint32][]gramEntry{}}
	var res [uaCrawler + 1][]string
	for _, p := range patterns {
		if slices.Contains(excludedPatterns, p) {
			continue
		}
		class := uaCrawler
		if slices.Contains(libraryPatterns, p) {
			class = uaLibrary
		}
		if n, ok := narrowedPatterns[p]; ok {
			p = n
		}
		lits, confirm, err := literals(p)
		if err != nil {
			return nil, err
		}
		if confirm {
			res[class] = append(res[class], p)
		}
		for _, l := range lits {
			l.class, l.confirm = class, confirm
			m.lits = append(m.lits, l)
		}
	}
	for c, ps := range res {
		if len(ps) == 0 {
			continue
		}
		re, err := regexp.Compile("(?:" + strings.Join(ps, ")|(?:") + ")")
		if err != nil {
			return nil, fmt.Errorf("compile crawler regexps: %w", err)
		}
		m.re[c] = re
	}
	freq := backgroundGrams()
	for i, l := range m.lits {
		if len(l.s) < 4 {
			m.short = append(m.short, int32(i))
			continue
		}
		best, bestN := 0, int(^uint(0)>>1)
		for off := 0; off+4 <= len(l.s); off++ {
			if n := freq[gramOf(l.s[off:])]; n < bestN {
				best, bestN = off, n
			}
		}
		g := gramOf(l.s[best:])
		m.grams[g] = append(m.grams[g], gramEntry{int32(i), int32(best)})
		h := filterHash(g)
		m.filter[h/64] |= 1 << (h % 64)
	}
	return m, nil
}

// gramOf returns the first 4 bytes of s as a big-endian number, the way the
// scan accumulates them.
func gramOf(s string) uint32 {
	return uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
}

func filterHash(g uint32) uint32 { return (g * 0x9e3779b1) >> 16 }

// background is ordinary traffic: the 4-byte substrings common here make
// poor anchors, because the scan would stop on them in nearly every
// request.
var background = []string{
	"Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Linux; U; Android 12; zh-CN; 2201123C Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/17.1.5.1322 Mobile Safari/537.36",
	"Dalvik/2.1.0 (Linux; U; Android 11; M2012K11AC Build/RKQ1.200826.002)",
}

// backgroundGrams counts the 4-byte substrings of the background traffic.
func backgroundGrams() map[uint32]int {
	freq := map[uint32]int{}
	for _, ua := range background {
		for i := 0; i+4 <= len(ua); i++ {
			freq[gramOf(ua[i:])]++
		}
	}
	return freq
}

// match returns the strongest class of pattern that ua contains: uaCrawler
// as soon as a crawler is found, else uaLibrary or uaNone. It does not
// allocate.
func (m *matcher) match(ua string) uaClass {
	if len(ua) > maxScan {
		ua = ua[:maxScan]
	}
	var st scanState
	for _, i := range m.short {
		l := &m.lits[i]
		j := -1
		switch {
		case !l.start:
			j = strings.Index(ua, l.s)
		case strings.HasPrefix(ua, l.s):
			j = 0
		}
		if j >= 0 && st.found(ua, j, l) {
			return uaCrawler
		}
	}
	if len(ua) >= 4 {
		g := gramOf(ua)
		if m.hit(g) && m.candidates(ua, 3, g, &st) {
			return uaCrawler
		}
		for i := 4; i < len(ua); i++ {
			g = g<<8 | uint32(ua[i])
			if m.hit(g) && m.candidates(ua, i, g, &st) {
				return uaCrawler
			}
		}
	}
	for c := uaCrawler; c > st.best; c-- {
		if st.confirm[c] && m.re[c].MatchString(ua) {
			return c
		}
	}
	return st.best
}

// hit reports whether g may be the anchor of a literal.
func (m *matcher) hit(g uint32) bool { return m.bit(g) != 0 }

// bit returns 1 if g may be the anchor of a literal, else 0.
func (m *matcher) bit(g uint32) uint64 {
	h := filterHash(g)
	return m.filter[h/64&(filterBits/64-1)] >> (h % 64) & 1
}

// scanState is what a scan has found so far.
type scanState struct {
	best    uaClass
	confirm [uaCrawler + 1]bool
}

// found records literal l found at start in ua, if its anchors hold, and
// reports whether a crawler is certain.
func (st *scanState) found(ua string, start int, l *literal) bool {
	if l.start && start != 0 || l.end && start+len(l.s) != len(ua) {
		return false
	}
	if l.confirm {
		st.confirm[l.class] = true
		return false
	}
	st.best = max(st.best, l.class)
	return st.best == uaCrawler
}

// candidates checks the literals anchored at the 4 bytes g that end at i,
// and reports whether a crawler is certain. It is kept out of the scan loop.
//
//go:noinline
func (m *matcher) candidates(ua string, i int, g uint32, st *scanState) bool {
	for _, e := range m.grams[g] {
		l := &m.lits[e.lit]
		start := i - 3 - int(e.off)
		if start >= 0 && start+len(l.s) <= len(ua) && ua[start:start+len(l.s)] == l.s && st.found(ua, start, l) {
			return true
		}
	}
	return false
}

// maxLiterals bounds the strings one pattern expands to.
const maxLiterals = 64

// literals expands pattern into the strings one of which every matching user
// agent contains. When the pattern is not such a set of strings (a
// repetition, a large class), it returns the longest string every match
// contains and confirm = true: the pattern itself must then be run.
func literals(pattern string) (lits []literal, confirm bool, err error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false, fmt.Errorf("parse crawler pattern %q: %w", pattern, err)
	}
	re = re.Simplify()
	if exp, ok := expand(re); ok {
		for _, s := range exp {
			l := literal{s: s}
			if strings.HasPrefix(l.s, markStart) {
				l.s, l.start = l.s[len(markStart):], true
			}
			if strings.HasSuffix(l.s, markEnd) {
				l.s, l.end = l.s[:len(l.s)-len(markEnd)], true
			}
			if l.s == "" || strings.Contains(l.s, markStart) || strings.Contains(l.s, markEnd) {
				ok = false
				break
			}
			lits = append(lits, l)
		}
		if ok {
			return lits, false, nil
		}
	}
	req := required(re)
	if len(req) < 3 {
		return nil, false, fmt.Errorf("crawler pattern %q has no literal of 3 bytes or more to search for", pattern)
	}
	return []literal{{s: req}}, true, nil
}

// Anchors in expanded strings. User agents are text: these bytes never occur
// in a pattern literal.
const (
	markStart = "\x00^"
	markEnd   = "$\x00"
)

// expand lists the strings re matches, with markStart and markEnd for the
// anchors, or reports false when they are too many or not a finite set.
func expand(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return []string{string(re.Rune)}, true
		}
		// The parser turns a class such as [wW] into a literal that
		// ignores case: spell out the variants.
		out := []string{""}
		for _, r := range re.Rune {
			var variants []rune
			for f := r; ; {
				variants = append(variants, f)
				if f = unicode.SimpleFold(f); f == r {
					break
				}
			}
			if len(out)*len(variants) > maxLiterals {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(variants))
			for _, a := range out {
				for _, v := range variants {
					next = append(next, a+string(v))
				}
			}
			out = next
		}
		return out, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxLiterals {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpBeginLine, syntax.OpBeginText:
		return []string{markStart}, true
	case syntax.OpEndLine, syntax.OpEndText:
		return []string{markEnd}, true
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := expand(re.Sub[0])
		return append(sub, ""), ok && len(sub) < maxLiterals
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)*len(sub) > maxLiterals {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)+len(sub) > maxLiterals {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	}
	return nil, false
}

// required returns the longest literal that every match of re contains.
func required(re *syntax.Regexp) string {
	if re.Flags&syntax.FoldCase != 0 {
		return ""
	}
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, s := range re.Sub {
			if r := required(s); len(r) > len(best) {
				best = r
			}
		}
		return best
	}
	return ""
}
