package analysis

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social/textproc"
)

// TestDedupLSH checks the MinHash index against comparing every pair: on
// texts with planted near copies (one to three characters changed) and
// unrelated texts, it joins no pair that textproc.NearCopy would not join,
// and misses at most 1 % of the pairs it would.
func TestDedupLSH(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []rune("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质")
	var texts []string
	for range 400 {
		base := make([]rune, 20+rng.IntN(40))
		for i := range base {
			base[i] = alphabet[rng.IntN(len(alphabet))]
		}
		texts = append(texts, string(base))
		for range rng.IntN(4) {
			v := slices.Clone(base)
			for range 1 + rng.IntN(3) {
				v[rng.IntN(len(v))] = alphabet[rng.IntN(len(alphabet))]
			}
			texts = append(texts, string(v))
		}
	}
	a := &analysis{}
	posts := make([]admeter.SocialPost, len(texts))
	for i, text := range texts {
		posts[i] = post(i, 0, text, 0)
		a.recs = append(a.recs, rec{p: &posts[i]})
	}
	a.dedup()

	// Brute force over every pair.
	parent := make([]int, len(texts))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	canon := make([]string, len(texts))
	for i, text := range texts {
		canon[i] = textproc.Canonical(text)
	}
	for i := range texts {
		for j := i + 1; j < len(texts); j++ {
			if textproc.NearCopy(canon[i], canon[j]) {
				parent[find(i)] = find(j)
			}
		}
	}
	joined, missed := 0, 0
	for i := range texts {
		for j := i + 1; j < len(texts); j++ {
			want, got := find(i) == find(j), a.recs[i].cluster == a.recs[j].cluster
			switch {
			case got && !want:
				t.Fatalf("texts %d and %d joined: %q, %q", i, j, texts[i], texts[j])
			case want && !got:
				missed++
			}
			if want {
				joined++
			}
		}
	}
	if joined < 200 {
		t.Fatalf("only %d pairs to join: the test data does not test near copies", joined)
	}
	if missed*100 > joined {
		t.Errorf("missed %d of %d pairs", missed, joined)
	}
	t.Logf("%d texts, %d near pairs, %d missed", len(texts), joined, missed)
}

// TestDedupSharedOpening proves that posts SimHash puts near each other
// but that only share an opening stay two contents, while a one-character
// edit joins its original.
func TestDedupSharedOpening(t *testing.T) {
	texts := []string{
		"朋友推荐的澜星手机续航真不错。",
		"朋友推荐的澜星手机充电发烫😂",
		"今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强太多了",
		"今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强很多了",
	}
	a := &analysis{}
	posts := make([]admeter.SocialPost, len(texts))
	for i, text := range texts {
		posts[i] = post(i, 0, text, 0)
		a.recs = append(a.recs, rec{p: &posts[i]})
	}
	a.dedup()
	if a.recs[0].cluster == a.recs[1].cluster {
		t.Error("posts sharing only an opening are one content")
	}
	if a.recs[2].cluster != a.recs[3].cluster {
		t.Error("a one-character edit is not its original's content")
	}
}
