package textproc

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"今天天气真好！", "今天天气真好"},
		{"说得对//@小王: 好//@新闻早知道: 今天天气真好！", "今天天气真好"},
		{"//@小王：好 //@新闻早知道：今天天气真好！", "今天天气真好"}, // full-width colons
		{"今天天气真好//@小王:", "今天天气真好"},             // empty last part: the one before
		{"转发微博", ""},
		{"转发微博//@新闻早知道: 今天天气真好", "今天天气真好"},
		{"Repost: Great news!! RT @bbc: Rates fall again", "ratesfallagain"},
		{"reposting this", "repostingthis"},
		{"Art @home: nice", "artnice"}, // a mention, not a retweet marker
		{"a//@b c: d", "acd"},          // a name has no spaces: a mention
		{"#华为Mate70# 来了[哈哈][doge] 详情 http://t.cn/A6xYz9Q 网页链接", "华为mate70来了详情"},
		{"see https://example.com/a?b=c&d=e#f and www.example.org, or t.cn/abc!", "seeandor"},
		{"smart.cn/x is not a short link", "smartcnxisnotashortlink"},
		{"@张三 @Li_Si-2 你们看这个", "你们看这个"},
		{"mail me at a@b.com", "mailmeatabcom"},
		{"[不是表情包因为太长了吧] [ok]", "不是表情包因为太长了吧"},
		{"ＡＢＣ　１２３ 😀👍🏽 ❤️ 1️⃣", "abc1231"},
		{"café", "café"},
		{"", ""},
		{"\xff", ""},
	} {
		if got := Canonical(tc.text); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestExactKeyReposts(t *testing.T) {
	const original = "今天终于入手了华为Mate 70，拍照效果真的惊艳！"
	for _, repost := range []string{
		original,
		"//@a: 好//@数码博主: " + original,
		"好//@a: " + original + " http://t.cn/A6xYz9Q 😀",
		"转发微博//@数码博主：" + original + "[哈哈]",
		"今天终于入手了 ＨＵＡＷＥＩ？ no: " + original, // not a repost: must differ
	} {
		same := ExactKey(repost) == ExactKey(original)
		if want := !strings.Contains(repost, "no:"); same != want {
			t.Errorf("ExactKey(%q) == ExactKey(original) is %v, want %v (Canonical %q)", repost, same, want, Canonical(repost))
		}
		if same && Fingerprint(repost) != Fingerprint(original) {
			t.Errorf("Fingerprint(%q) differs from the original's with the same ExactKey", repost)
		}
	}
}

func TestKeysAreStable(t *testing.T) {
	// Keys are stored: they must not change between runs or releases.
	for _, tc := range []struct {
		text  string
		fp    uint64
		exact string
	}{
		{"今天终于入手了华为Mate 70，拍照效果真的惊艳！", 0x89431868f1b1fc0b, "9effbab204c6a5cab84d7d297bcce263"},
		{"I finally switched to the new Pixel", 0xe21538d7b91a8915, "ea8950e4c465ea1374cee4cd0a98f4ec"},
		{"好", 0x30aac465bb2aeda4, "a68b0a06e68b5822836dbc788169be66"},
		{"", 0, "6c62272e07bb014262b821756295c58d"}, // FNV-128a's offset basis
	} {
		fp, exact := Fingerprint(tc.text), fmt.Sprintf("%x", ExactKey(tc.text))
		if fp != tc.fp || exact != tc.exact {
			t.Errorf("Fingerprint(%q), ExactKey = %#x, %s; want %#x, %s", tc.text, fp, exact, tc.fp, tc.exact)
		}
	}
}

func TestNear(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		near bool
	}{
		{posts[0], strings.Replace(posts[0], "惊艳", "惊喜", 1), true},
		// SimHash misses about one in five one-character edits of a short
		// post (see NearBits); this is one of them, 11 bits apart.
		{posts[1], strings.Replace(posts[1], "上周", "上月", 1), false},
		{posts[28], strings.Replace(posts[28], "two", "three", 1), true},
		{posts[5], posts[5] + "！！[心]", true},
		{posts[0], posts[1], false},
		{posts[28], posts[29], false},
		{"好", "好", true},
		{"好", "坏", false},
		{"好的", "好吧", false},
		{"", "", true},
	} {
		d := bits.OnesCount64(Fingerprint(tc.a) ^ Fingerprint(tc.b))
		if got := Near(Fingerprint(tc.a), Fingerprint(tc.b), NearBits); got != tc.near {
			t.Errorf("Near(%q, %q) = %v (distance %d), want %v", tc.a, tc.b, got, d, tc.near)
		}
	}
	if !Near(0b1011, 0b0001, 2) || Near(0b1011, 0b0000, 2) {
		t.Error("Near counts bits wrongly")
	}
}

// TestNearOnCorpus checks NearBits against what it promises: most
// one-character edits of a post are near it, and no two unrelated posts are.
func TestNearOnCorpus(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	edits, near := 0, 0
	for _, p := range posts {
		rs := []rune(p)
		for range 20 {
			i := rng.IntN(len(rs))
			if !unicode.IsLetter(rs[i]) || rs[i] == '嗯' {
				continue
			}
			edited := string(rs[:i]) + "嗯" + string(rs[i+1:])
			edits++
			if Near(Fingerprint(p), Fingerprint(edited), NearBits) {
				near++
			}
		}
	}
	if recall := float64(near) / float64(edits); recall < 0.7 {
		t.Errorf("%d of %d one-character edits are Near (%.2f), want at least 0.7", near, edits, recall)
	}
	for i := range posts {
		for j := i + 1; j < len(posts); j++ {
			if d := bits.OnesCount64(Fingerprint(posts[i]) ^ Fingerprint(posts[j])); d <= NearBits+5 {
				t.Errorf("unrelated posts %d and %d are %d bits apart, want more than %d", i, j, d, NearBits+5)
			}
		}
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add("说得对//@小王: 好//@新闻早知道: 今天天气真好！")
	f.Add("#华为Mate70# 来了[哈哈] http://t.cn/A6xYz9Q @张三 RT @x: y")
	f.Add("ＡＢＣ　１２３ 😀👍🏽 ❤️ repost")
	f.Add("[")
	f.Fuzz(func(t *testing.T, text string) {
		c := Canonical(text)
		if !utf8.ValidString(c) {
			t.Fatalf("Canonical(%q) = %q, not UTF-8", text, c)
		}
		for _, r := range c {
			if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
				t.Fatalf("Canonical(%q) = %q keeps %q", text, c, r)
			}
		}
		if fp := Fingerprint(text); c == "" && fp != 0 {
			t.Fatalf("Fingerprint(%q) = %#x for an empty canonical text", text, fp)
		}
		if ExactKey(text) != ExactKey(c) || Fingerprint(text) != Fingerprint(c) {
			t.Fatalf("keys of %q differ from those of its canonical text %q", text, c)
		}
		// Reposting with a comment keeps the key, unless the text is itself a
		// repost chain or has nothing of its own.
		if n := Normalize(text); c != "" && !strings.Contains(n, "//@") && !strings.Contains(n, "rt @") {
			if rc := Canonical("好//@某人: " + text); rc != c {
				t.Fatalf("Canonical of a repost of %q = %q, want %q", text, rc, c)
			}
		}
	})
}

func BenchmarkFingerprint(b *testing.B) {
	b.SetBytes(int64(len(posts[0])))
	for b.Loop() {
		Fingerprint(posts[0])
	}
}

// TestNearCopy proves that NearCopy keeps a one-character edit and a
// repost together and tells apart posts that only share an opening or an
// ending, which SimHash and shingle resemblance pair.
func TestNearCopy(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		near bool
	}{
		{"Same", "华为新机拍照真好，夜景很清晰", "华为新机拍照真好，夜景很清晰", true},
		{"Repost", "华为新机拍照真好，夜景很清晰", "转发微博 //@某人: 华为新机拍照真好，夜景很清晰", true},
		{"OneEdit15", "华为新机拍照真好，夜景很清晰啊", "华为新机拍照真好，夜景特清晰啊", true},
		{"OneEdit30", "今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强太多了", "今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强很多了", true},
		{"SharedOpening", "朋友推荐的澜星手机续航真不错。", "朋友推荐的澜星手机充电发烫😂", false},
		{"SharedEnding", "说实话， LANSTaR 客服态度很好。。。", "刚看完测评， LanStar 客服态度很好，第47次推荐[哈哈]", false},
		{"Unrelated", "华为新机拍照真好", "小米客服态度太差", false},
		{"DifferentEnding", "我也在用 LANSTAR ，屏幕是曲面的", "我也在用 LANSTAR ，屏幕有点暗", false},
		{"OneInsertion", "换机第一天，澜星屏幕色彩很舒服，价格太贵了", "换机第一天，澜星屏幕色彩很也舒服，价格太贵了", true},
		{"Empty", "转发微博", "转发微博", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NearCopy(Canonical(tc.a), Canonical(tc.b)); got != tc.near {
				t.Errorf("NearCopy = %v, want %v (resemblance %.2f)", got, tc.near, Resemblance(Shingles(tc.a), Shingles(tc.b)))
			}
		})
	}
	if r := Resemblance(Shingles("华为新机拍照真好"), Shingles("华为新机拍照真好")); r != 1 {
		t.Errorf("Resemblance of a text with itself = %v", r)
	}
	if r := Resemblance(Shingles("华为新机拍照真好"), Shingles("小米客服态度太差")); r != 0 {
		t.Errorf("Resemblance of unrelated texts = %v", r)
	}
	if Shingles("转发微博") != nil {
		t.Error("a text with nothing of its own has shingles")
	}
}

// TestEditsWithin checks the banded edit distance against the full one.
func TestEditsWithin(t *testing.T) {
	full := func(a, b []rune) int {
		d := make([][]int, len(a)+1)
		for i := range d {
			d[i] = make([]int, len(b)+1)
			d[i][0] = i
		}
		for j := range d[0] {
			d[0][j] = j
		}
		for i := 1; i <= len(a); i++ {
			for j := 1; j <= len(b); j++ {
				cost := 1
				if a[i-1] == b[j-1] {
					cost = 0
				}
				d[i][j] = min(d[i-1][j-1]+cost, d[i-1][j]+1, d[i][j-1]+1)
			}
		}
		return d[len(a)][len(b)]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab华为c")
	word := func() []rune {
		w := make([]rune, rng.IntN(12))
		for i := range w {
			w[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return w
	}
	for range 20000 {
		a, b := word(), word()
		if len(a) > len(b) {
			a, b = b, a
		}
		k := rng.IntN(4)
		if got, want := editsWithin(a, b, k), full(a, b) <= k; got != want {
			t.Fatalf("editsWithin(%q, %q, %d) = %v, distance %d", string(a), string(b), k, got, full(a, b))
		}
	}
}

// TestContentKeys checks that ContentKeys gives what ExactKey and
// Fingerprint give, and nothing for a text with no content of its own.
func TestContentKeys(t *testing.T) {
	for _, text := range []string{"华为新机拍照真好 //@某人: 转发", "Great camera!", "转发微博", ""} {
		exact, fp, ok := ContentKeys(text)
		if want := Canonical(text) != ""; ok != want {
			t.Errorf("ContentKeys(%q) ok = %v, want %v", text, ok, want)
		}
		if ok && (exact != ExactKey(text) || fp != Fingerprint(text)) {
			t.Errorf("ContentKeys(%q) = %x, %x; want %x, %x", text, exact, fp, ExactKey(text), Fingerprint(text))
		}
		if !ok && (exact != [16]byte{} || fp != 0) {
			t.Errorf("ContentKeys(%q) gave keys for no content", text)
		}
	}
}
