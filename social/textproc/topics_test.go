package textproc

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestStopWord(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  bool
	}{
		{"我们", true}, {"但是", true}, {"转发", true}, {"the", true}, {"really", true},
		{"续航", false}, {"battery", false}, {"The", false}, // tokens are lower case already
		{"#", false}, {"", false},
	} {
		if got := StopWord(tc.token); got != tc.want {
			t.Errorf("StopWord(%q) = %v, want %v", tc.token, got, tc.want)
		}
	}
}

func TestKeywords(t *testing.T) {
	seg := segmenter(t)
	idf := func(n, df int) float64 { return math.Log(float64(1+n)/float64(1+df)) + 1 }
	en := []string{
		"Battery life is great, the battery!",
		"battery drains fast 2024",
		"Camera: GREAT",
		"the a I",
	}
	// battery: 2/4 + 1/3 in two of four documents; great: 1/4 + 1/2 in two;
	// camera: 1/2 in one; drains, fast: 1/3 in one; life: 1/4 in one.
	all := []Keyword{
		{"battery", (2.0/4 + 1.0/3) * idf(4, 2), 2},
		{"great", (1.0/4 + 1.0/2) * idf(4, 2), 2},
		{"camera", 1.0 / 2 * idf(4, 1), 1},
		{"drains", 1.0 / 3 * idf(4, 1), 1},
		{"fast", 1.0 / 3 * idf(4, 1), 1},
		{"life", 1.0 / 4 * idf(4, 1), 1},
	}
	zh := []string{"我们的新款手机续航很好，但是价格太贵了！2024"}
	for _, tc := range []struct {
		name string
		docs []string
		n    int
		stop func(string) bool
		want []Keyword
	}{
		{"top 3", en, 3, nil, all[:3]},
		{"all, ties by term", en, 100, nil, all},
		{"own stop words", en, 2, func(s string) bool { return s == "battery" || s == "the" || s == "is" }, []Keyword{
			{"great", (1.0/2 + 1.0/2) * idf(4, 2), 2}, // document 1 is now "life great"
			all[2],
		}},
		// 我们 and 但是 are stop words, 的 很 好 了 one character, 2024 a number.
		{"chinese", zh, 10, nil, []Keyword{
			{"价格", 0.25, 1}, {"太贵", 0.25, 1}, {"新款手机", 0.25, 1}, {"续航", 0.25, 1},
		}},
		{"no docs", nil, 3, nil, nil},
		{"n is 0", en, 0, nil, nil},
		{"only stop words", []string{"the a I 我们 2024"}, 3, nil, []Keyword{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Keywords(seg, tc.docs, tc.n, tc.stop)
			if !slices.EqualFunc(got, tc.want, func(a, b Keyword) bool {
				return a.Term == b.Term && a.Docs == b.Docs && math.Abs(a.Score-b.Score) < 1e-12
			}) || (got == nil) != (tc.want == nil) {
				t.Errorf("Keywords = %v\nwant %v", got, tc.want)
			}
		})
	}
}

func FuzzKeywords(f *testing.F) {
	f.Add("我们的新款手机续航很好，但是价格太贵了！", "Battery life is great", 3)
	f.Add("", "2024 3.5 the", 1)
	seg := segmenter(f)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		n %= 50
		got := Keywords(seg, []string{a, b}, n, nil)
		if len(got) > max(n, 0) {
			t.Fatalf("%d keywords, asked for %d", len(got), n)
		}
		for i, k := range got {
			if StopWord(k.Term) || utf8.RuneCountInString(k.Term) < 2 || !strings.ContainsFunc(k.Term, unicode.IsLetter) {
				t.Fatalf("keyword %q should have been dropped", k.Term)
			}
			if k.Docs < 1 || k.Docs > 2 || !(k.Score > 0) || math.IsInf(k.Score, 0) {
				t.Fatalf("keyword %+v is out of range", k)
			}
			if i > 0 && (got[i-1].Score < k.Score || got[i-1].Score == k.Score && got[i-1].Term >= k.Term) {
				t.Fatalf("keywords out of order: %+v before %+v", got[i-1], k)
			}
		}
	})
}
