package analysis

import (
	"math/rand/v2"
	"testing"

	"github.com/admeter/admeter"
)

// benchPosts returns n synthetic records over 30 days: a third about each
// of the three rules, about 60 characters each, 30% of them reposts of an
// earlier text, by 20,000 authors.
func benchPosts(n int) []admeter.SocialPost {
	r := rand.New(rand.NewPCG(3, 4))
	posts := make([]admeter.SocialPost, 0, n)
	for i := range n {
		if i > 0 && r.IntN(10) < 3 {
			src := posts[r.IntN(len(posts))]
			p := post(r.IntN(20000)+1, r.IntN(30), "转发微博//@某人:"+src.Text, src.Sentiment)
			p.Kind = admeter.SocialRepost
			posts = append(posts, p)
			continue
		}
		text := corpusText(r, brands[r.IntN(3)], plantedNames[r.IntN(4)], 12)
		posts = append(posts, post(r.IntN(20000)+1, r.IntN(30), text, float32(r.Float64()*2-1)))
	}
	return posts
}

func BenchmarkAnalyze100k(b *testing.B) {
	posts := benchPosts(100_000)
	chars := 0
	for _, p := range posts[:1000] {
		chars += len([]rune(p.Text))
	}
	b.Logf("%d posts, %d characters each on average", len(posts), chars/1000)
	brand, comp := rules()
	in := Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(29), Location: cst,
		MinAuthors: 10, Segmenter: segmenter(b), Delivery: map[storeDate]int64{day0.AddDays(10): 1e6, day0.AddDays(19): 1e6}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analyze(in); err != nil {
			b.Fatal(err)
		}
	}
}
