package sentiment

import (
	"fmt"
	"math"
	"testing"
)

func TestScoreRules(t *testing.T) {
	s := newScorer(t)
	for _, tc := range []struct {
		name, text string
		label      string
		pos, neg   int
	}{
		{"empty", "", Neutral, 0, 0},
		{"spaces and punctuation", "  ，。!?  ", Neutral, 0, 0},
		{"no sentiment", "今天收到了快递", Neutral, 0, 0},
		{"zh positive", "这个手机很好用", Positive, 1, 0},
		{"zh negative", "续航差，太坑了", Negative, 0, 2},
		{"zh negation flips", "不好用", Negative, 0, 1},
		{"zh negation of negative", "一点都不卡", Positive, 1, 0},
		{"zh negator 2 tokens back", "不是很满意", Negative, 0, 1},
		{"zh negation stops at the clause", "别犹豫，好用", Positive, 1, 0},
		{"zh adversative, after wins", "外观好看，但是续航太拉胯了", Negative, 1, 1},
		{"zh adversative, after wins (positive)", "虽然有点贵，但是质量真的好", Positive, 1, 1},
		{"zh one-rune word inside a longer word", "好像好几个都到了", Neutral, 0, 0},
		{"zh question damped", "学生有优惠吗", Neutral, 1, 0},
		{"zh A-not-A question", "好不好用", Neutral, 0, 0},
		{"zh scare quotes", "这服务真是“好”啊", Negative, 0, 1},
		{"en positive", "I love it", Positive, 1, 0},
		{"en contraction negates", "I don't love it", Negative, 0, 1},
		{"en but", "Nice design but the battery is awful", Negative, 1, 1},
		{"en like as preposition", "It looks like a phone", Neutral, 0, 0},
		{"mixed zh and en", "sound quality is great，但是太贵了", Negative, 1, 1},
		{"emoji positive", "👍👍", Positive, 2, 0},
		{"emoji negative", "收到了😡", Negative, 0, 1},
		{"ambiguous emoji ignored", "😂😂😂", Neutral, 0, 0},
		{"ascii emoticon", "arrived today :(", Negative, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Score(tc.text)
			if r.Label != tc.label || r.Positive != tc.pos || r.Negative != tc.neg {
				t.Errorf("Score(%q) = %+v, want label %s, %d positive, %d negative", tc.text, r, tc.label, tc.pos, tc.neg)
			}
			if (tc.label == Positive) != (r.Score > 0) && tc.label != Neutral {
				t.Errorf("Score(%q).Score = %v, want the sign of %s", tc.text, r.Score, tc.label)
			}
		})
	}
}

// TestScoreOrder checks the rules' effect on the size of the score.
func TestScoreOrder(t *testing.T) {
	s := newScorer(t)
	for _, tc := range []struct{ name, weaker, stronger string }{
		{"intensifier", "好用", "非常好用"},
		{"en intensifier", "good", "very good"},
		{"diminisher", "有点贵", "贵"},
		{"exclamation", "好用", "好用!!!"},
		{"full-width exclamation", "好用", "好用！！！"},
		{"negation damps", "不差", "好"},
		{"clause after but weighs more", "好看，但是有点卡", "有点卡"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, st := s.Score(tc.weaker).Score, s.Score(tc.stronger).Score
			if !(math.Abs(w) < math.Abs(st)) || w == 0 {
				t.Errorf("|Score(%q)| = %v, want it above 0 and below |Score(%q)| = %v", tc.weaker, w, tc.stronger, st)
			}
		})
	}
}

func TestLexicon(t *testing.T) {
	l, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	var zh, zhPos, zhNeg, mods int
	for term, e := range l.terms {
		switch {
		case e.kind == kindWord && isHan(term):
			zh++
			if e.value > 0 {
				zhPos++
			} else if e.value < 0 {
				zhNeg++
			}
		case e.kind != kindWord:
			mods++
		}
	}
	t.Logf("%d terms; Chinese: %d (%d positive, %d negative, %d blockers); %d modifiers", len(l.terms), zh, zhPos, zhNeg, zh-zhPos-zhNeg, mods)
	if zhPos+zhNeg < 600 || len(l.terms) < 8000 {
		t.Errorf("lexicon too small: %d Chinese sentiment terms, %d terms in all", zhPos+zhNeg, len(l.terms))
	}
	for _, bad := range [][]byte{[]byte("x\n"), []byte("x\tnotanumber\n")} {
		if err := eachLine(bad, "bad", func(f []string) error { _, err := fmt.Sscan(f[1], new(float64)); return err }); err == nil {
			t.Errorf("eachLine(%q) = nil, want an error", bad)
		}
	}
}

func FuzzScore(f *testing.F) {
	s := newScorer(f)
	for _, seed := range []string{"", "不好用", "真是太'好'了", "I don't like it :(", "“", "'好", "👍👎😡", "但是但是", "!!!!!!!!", "\xff\xfe", "好像好几个"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r := s.Score(text)
		if math.IsNaN(r.Score) || r.Score < -1 || r.Score > 1 {
			t.Fatalf("Score(%q).Score = %v, want within [-1, 1]", text, r.Score)
		}
		if r.Positive < 0 || r.Negative < 0 {
			t.Fatalf("Score(%q) = %+v: negative counts", text, r)
		}
		switch r.Label {
		case Positive, Negative, Neutral:
		default:
			t.Fatalf("Score(%q).Label = %q", text, r.Label)
		}
	})
}

func BenchmarkScore(b *testing.B) {
	s := newScorer(b)
	dev, test := readLabelled(b)
	posts := append(dev, test...)
	texts := make([]string, 10000)
	var n int64
	for i := range texts {
		texts[i] = posts[i%len(posts)].text
		n += int64(len(texts[i]))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		for _, t := range texts {
			s.Score(t)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(texts)), "ns/post")
}
