package analysis

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social/textproc"
)

// plantedCorpus returns n posts per planted topic about the brand, each by
// its own author, and the planted topic of each text. About one post in
// four also has a word of another topic.
func plantedCorpus(n int) ([]admeter.SocialPost, map[string]string) {
	r := rand.New(rand.NewPCG(7, 13))
	var posts []admeter.SocialPost
	topicOf := map[string]string{}
	a := 0
	for range n {
		for _, tp := range plantedNames {
			text := corpusText(r, "星河", tp, 5)
			if r.IntN(10) < 3 { // noise: a word of another topic
				o := plantedNames[r.IntN(len(plantedNames))]
				if o != tp {
					text += "，还有" + planted[o][r.IntN(6)]
				}
			}
			topicOf[text] = tp
			a++
			posts = append(posts, post(a, r.IntN(5), text, 0))
		}
	}
	return posts, topicOf
}

func TestTopicsPlanted(t *testing.T) {
	posts, topicOf := plantedCorpus(100)
	brand, comp := rules()
	a, err := newAnalysis(Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(4), Location: cst,
		MinAuthors: 5, Segmenter: segmenter(t), Topics: 6})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]int{} // label → planted topic → contents
	a.trace = func(cl int, label string) {
		if got[label] == nil {
			got[label] = map[string]int{}
		}
		got[label][topicOf[a.recs[a.clusters[cl].rep].p.Text]]++
	}
	rep := a.run()
	found := map[string]bool{}
	for _, tp := range rep.Topics {
		t.Logf("topic %q terms %v share %.2f", tp.Label, tp.Terms, *tp.Share)
		if tp.Other {
			if *tp.Share > 0.2 {
				t.Errorf("other takes %.2f of the posts", *tp.Share)
			}
			continue
		}
		total, best, bestName := 0, 0, ""
		for name, n := range got[tp.Label] {
			total += n
			if n > best {
				best, bestName = n, name
			}
		}
		purity := float64(best) / float64(total)
		if purity < 0.8 {
			t.Errorf("topic %q: purity %.2f (%v)", tp.Label, purity, got[tp.Label])
		}
		found[bestName] = true
		for _, term := range tp.Terms {
			if !slices.Contains(planted[bestName], term) {
				t.Errorf("topic %q (%s) has term %q", tp.Label, bestName, term)
			}
		}
	}
	if len(found) != len(plantedNames) {
		t.Errorf("planted topics found: %v, want all of %v", found, plantedNames)
	}
	for _, kw := range rep.Keywords {
		if kw.Term == "星河" || kw.Term == "银河" {
			t.Errorf("keyword %q is a rule's term", kw.Term)
		}
	}
}

// TestKeywordsAsTextproc checks that the keywords are textproc.Keywords of
// one text per brand content, with the rules' terms as stop words, and
// that their counts are right.
func TestKeywordsAsTextproc(t *testing.T) {
	posts, _ := plantedCorpus(30)
	// A repost of the first text, by another author: one more post and
	// author, no more content.
	rp := post(9999, 0, "转发微博//@甲:"+posts[0].Text, 0)
	posts = append(posts, rp)
	brand, comp := rules()
	seg := segmenter(t)
	a, err := newAnalysis(Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(4), Location: cst,
		MinAuthors: 1, Segmenter: seg, Keywords: 40})
	if err != nil {
		t.Fatal(err)
	}
	rep := a.run()
	var docs []string
	for _, cl := range a.clusters {
		if cl.brand {
			docs = append(docs, a.recs[cl.rep].p.Text)
		}
	}
	if len(docs) != 120 {
		t.Fatalf("%d contents, want 120", len(docs))
	}
	stop := func(s string) bool { return textproc.StopWord(s) || s == "星河" || s == "银河" || s == "北斗" }
	want := textproc.Keywords(seg, docs, 40, stop)
	if len(rep.Keywords) != len(want) {
		t.Fatalf("%d keywords, want %d", len(rep.Keywords), len(want))
	}
	first := seg.Tokens(posts[0].Text)
	for i, kw := range rep.Keywords {
		if kw.Term != want[i].Term || kw.Score != want[i].Score || kw.Contents != int64(want[i].Docs) {
			t.Errorf("keyword %d: %+v, want %+v", i, kw, want[i])
		}
		extra := int64(0)
		if slices.Contains(first, kw.Term) {
			extra = 1 // the repost
		}
		if kw.Posts != kw.Contents+extra || kw.Authors != kw.Posts {
			t.Errorf("keyword %q: %d posts of %d authors in %d contents", kw.Term, kw.Posts, kw.Authors, kw.Contents)
		}
	}
}
