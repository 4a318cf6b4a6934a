package textproc

import (
	"hash/fnv"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NearBits is the default Hamming distance up to which two fingerprints are
// near duplicates: see Near. It is 10 and not the 3 usual for web pages
// because posts are short: on 30- to 40-character posts a one-character
// edit moves a fingerprint by 8 bits at the median, and 3 bits catch only
// 7% of such edits, 10 bits 78% (99% on 110-character posts). Two
// independent fingerprints are within 10 bits with probability 1e-8 (64
// fair coins), but short posts that share an opening are not independent:
// confirm a near pair with NearCopy.
const NearBits = 10

// ShingleRunes is the length, in characters, of the shingles a Fingerprint
// is made of.
const ShingleRunes = 3

// Canonical returns the part of a post that stays the same when it is
// reposted, for dedup: a repost's key is its original's.
//
// It normalises width and case (see Normalize), then:
//
//   - of a repost chain, keeps the text after the last "//@name:" (Weibo:
//     "my comment//@B: B's comment//@A: the oldest text") or "RT @name:"
//     (Twitter); if that part is empty, the one before it, and so on;
//   - drops "转发微博" (Weibo's text for a repost without comment), its
//     traditional form, "repost" as a word, URLs (http://, https://, www.
//     and t.cn/ short links) and "网页链接" (Weibo's stand-in for a link),
//     @mentions up to the next space or punctuation, and Weibo's emoticon
//     codes ("[哈哈]", "[doge]": one to eight letters in square brackets);
//   - keeps only letters, digits and the combining marks that follow letters:
//     punctuation, emoji, symbols and spaces go, so "#话题#" keeps its topic
//     words.
//
// It returns "" for a post with nothing of its own (a bare "转发微博"); all
// such posts have the same keys, so callers should not dedup them.
func Canonical(text string) string {
	segs := repostSegments(Normalize(text))
	for i := len(segs) - 1; i >= 0; i-- {
		c := clean(segs[i])
		// Dropping punctuation and spaces can join what is then dropped
		// ("转发,微博", "re post"): clean until nothing changes, so that a
		// canonical text is its own canonical text.
		for {
			again := clean(c)
			if again == c {
				break
			}
			c = again
		}
		if c != "" {
			return c
		}
	}
	return ""
}

// repostSegments splits a normalised post at its repost markers: "//@name:"
// and, starting a word, "rt @name:". A name is 1 to 30 characters without
// spaces.
func repostSegments(s string) []string {
	var segs []string
	last := 0 // start of the current segment
	for i := 0; i < len(s); {
		var at int // index of the '@' of a marker starting at i, or -1
		switch {
		case strings.HasPrefix(s[i:], "//@"):
			at = i + 2
		case strings.HasPrefix(s[i:], "rt @") && (i == 0 || !isASCIIWord(s[i-1])):
			at = i + 3
		default:
			i++
			continue
		}
		if end, ok := markerEnd(s, at+1); ok {
			segs = append(segs, s[last:i])
			last, i = end, end
			continue
		}
		i++
	}
	return append(segs, s[last:])
}

// markerEnd returns the index after the ':' that ends the name starting at
// i, if the name is 1 to 30 characters without spaces.
func markerEnd(s string, i int) (int, bool) {
	n := 0
	for j, r := range s[i:] {
		switch {
		case r == ':':
			return i + j + 1, n > 0
		case unicode.IsSpace(r) || r == '@' || n == 30:
			return 0, false
		}
		n++
	}
	return 0, false
}

// isASCIIWord reports whether b is an ASCII letter or digit.
func isASCIIWord(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// isURLByte reports whether b can be part of a URL as posts write them:
// printable ASCII but for spaces, quotes and angle brackets.
func isURLByte(b byte) bool {
	return b > ' ' && b < 0x7f && b != '"' && b != '<' && b != '>'
}

// clean drops from one segment of a normalised post what Canonical drops,
// and keeps letters, marks and digits.
func clean(s string) string {
	for _, p := range []string{"转发微博", "轉發微博", "网页链接", "網頁鏈接"} {
		s = strings.ReplaceAll(s, p, " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	afterLetter := false // the last rune was kept and is a letter or mark
	for i := 0; i < len(s); {
		rest := s[i:]
		wordStart := i == 0 || !isASCIIWord(s[i-1])
		switch {
		case strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://") ||
			wordStart && (strings.HasPrefix(rest, "www.") || strings.HasPrefix(rest, "t.cn/")):
			for i < len(s) && isURLByte(s[i]) {
				i++
			}
			afterLetter = false
			continue
		case wordStart && strings.HasPrefix(rest, "repost") && (len(rest) == 6 || !isASCIIWord(rest[6])):
			i += 6
			afterLetter = false
			continue
		case rest[0] == '@' && wordStart:
			i++
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) && r != '_' && r != '-' {
					break
				}
				i += size
			}
			afterLetter = false
			continue
		case rest[0] == '[':
			if n := emoticonLen(rest); n > 0 {
				i += n
				afterLetter = false
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(rest)
		// A mark is kept after a letter (an accent); after anything else it
		// is part of an emoji (a variation selector, a keycap).
		keep := unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) && afterLetter
		if keep {
			b.WriteString(rest[:size])
		}
		afterLetter = keep && !unicode.IsNumber(r)
		i += size
	}
	return b.String()
}

// emoticonLen returns the length of a Weibo emoticon code ("[哈哈]",
// "[doge]") at the start of s, or 0.
func emoticonLen(s string) int {
	n := 0
	for j, r := range s[1:] {
		switch {
		case r == ']':
			if n == 0 {
				return 0
			}
			return j + 2
		case !unicode.IsLetter(r) || n == 8:
			return 0
		}
		n++
	}
	return 0
}

// Fingerprint returns a 64-bit SimHash of Canonical(text), for finding near
// duplicates with Near: posts that differ in a few characters have
// fingerprints that differ in a few bits.
//
// Its features are the overlapping shingles of ShingleRunes characters
// (runes, not bytes, and not gse words: a Chinese post has no spaces, and
// character shingles need no dictionary and do not change when gse cuts an
// edited sentence differently), each weighted by how often it occurs and
// hashed with FNV-1a 64 and a murmur3 finaliser (FNV's low bits depend only
// on the input's low bits; SimHash needs every bit to be mixed). A text
// shorter than ShingleRunes is one feature; an empty one gives 0. The value
// is stable across processes and versions of Go: it can be stored.
//
// SimHash is coarse on short posts: a one-character edit to a 30-character
// post changes three of its 28 shingles and flips 8 bits at the median (see
// NearBits). Use ExactKey first and Near for what it leaves.
func Fingerprint(text string) uint64 {
	c := Canonical(text)
	if c == "" {
		return 0
	}
	return simHash(c)
}

// simHash is the SimHash of the shingles of the canonical text c.
func simHash(c string) uint64 {
	var votes [64]int
	eachShingle(c, func(h uint64) {
		for i := range votes {
			if h&(1<<i) != 0 {
				votes[i]++
			} else {
				votes[i]--
			}
		}
	})
	var fp uint64
	for i, v := range votes {
		if v > 0 {
			fp |= 1 << i
		}
	}
	return fp
}

// eachShingle calls fn with the hash of each overlapping shingle of
// ShingleRunes characters of c (c itself when it is shorter), in order.
func eachShingle(c string, fn func(h uint64)) {
	// starts holds the byte offsets of the last ShingleRunes runes seen.
	var starts [ShingleRunes]int
	n := 0
	for i := range c {
		if n >= ShingleRunes {
			fn(mix64(fnv1a(c[starts[n%ShingleRunes]:i])))
		}
		starts[n%ShingleRunes] = i
		n++
	}
	if n >= ShingleRunes {
		fn(mix64(fnv1a(c[starts[n%ShingleRunes]:])))
	} else {
		fn(mix64(fnv1a(c)))
	}
}

// NearCopy reports whether two canonical texts (Canonical) are near
// copies: a character or two changed, that is at most max(1, n/10)
// insertions, deletions or substitutions of characters, n the shorter
// text's length in characters. Resemblance finds candidates cheaply but
// cannot tell an edit from a different ending on short posts ("我也在用X，
// 屏幕是曲面的" and "…屏幕有点暗" resemble each other as much as a
// one-character edit of a 15-character post does); an edit distance can.
// Empty texts are never near copies.
func NearCopy(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	return editsWithin(ra, rb, max(1, len(ra)/10))
}

// editsWithin reports whether the edit distance of a and b (len(a) <=
// len(b)) is at most k, computing only the band of width 2k+1 around the
// diagonal (Ukkonen).
func editsWithin(a, b []rune, k int) bool {
	if len(b)-len(a) > k {
		return false
	}
	const inf = 1 << 30
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
		if j > k {
			prev[j] = inf
		}
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		for j := range cur {
			cur[j] = inf
		}
		if i <= k {
			cur[0] = i
		}
		best := cur[0]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1)
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= k
}

// CanonicalShingles returns Canonical(text) and its Shingles, computing
// the canonical text once.
func CanonicalShingles(text string) (string, []uint64) {
	c := Canonical(text)
	if c == "" {
		return "", nil
	}
	var hs []uint64
	eachShingle(c, func(h uint64) { hs = append(hs, h) })
	slices.Sort(hs)
	return c, slices.Compact(hs)
}

// Shingles returns the distinct hashes, sorted, of the shingles of
// Canonical(text) that Fingerprint is made of; nil for a text with nothing
// of its own. Compare two with Resemblance.
func Shingles(text string) []uint64 {
	_, hs := CanonicalShingles(text)
	return hs
}

// Resemblance returns the Jaccard resemblance |a ∩ b| / |a ∪ b| of two
// Shingles results (Broder): 1 for the same content, near 0 for unrelated
// texts, 0 when either is empty.
func Resemblance(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

// fnv1a is FNV-1a 64 of s, as hash/fnv computes it, without allocating.
func fnv1a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// mix64 is murmur3's 64-bit finaliser: every output bit depends on every
// input bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Near reports whether fingerprints a and b differ in at most maxBits bits
// (NearBits is the usual choice).
func Near(a, b uint64, maxBits int) bool {
	return bits.OnesCount64(a^b) <= maxBits
}

// ContentKeys returns ExactKey(text) and Fingerprint(text), computing the
// canonical text once, and ok false (and zero keys) for a text with
// nothing of its own.
func ContentKeys(text string) (exact [16]byte, fingerprint uint64, ok bool) {
	c := Canonical(text)
	if c == "" {
		return exact, 0, false
	}
	h := fnv.New128a()
	h.Write([]byte(c))
	h.Sum(exact[:0])
	return exact, simHash(c), true
}

// ExactKey returns a 128-bit FNV-1a hash of Canonical(text): posts with the
// same key are the same content, reposts included. It is stable across
// processes: it can be stored.
func ExactKey(text string) [16]byte {
	h := fnv.New128a()
	h.Write([]byte(Canonical(text)))
	var k [16]byte
	h.Sum(k[:0])
	return k
}
