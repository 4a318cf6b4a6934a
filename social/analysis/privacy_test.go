package analysis

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// TestPrivacyInvariants checks on a report marshalled to JSON that no
// non-official text and no author pseudonym appear, that every published
// cell describes at least k people or none, that suppressed days cannot be
// worked out from their rule's total, and that official texts do appear.
func TestPrivacyInvariants(t *testing.T) {
	const k = 3
	brand, comp := rules()
	official := 100
	var posts []admeter.SocialPost
	add := func(n, d int, text string) {
		posts = append(posts, post(n, d, text, float32(n%3-1)*0.5))
	}
	// 星河: five authors on day 0, four on day 1, one on day 2.
	for n := 1; n <= 5; n++ {
		add(n, 0, fmt.Sprintf("星河手机续航不错，电池耐用，用户%d号说的", n))
	}
	for n := 6; n <= 9; n++ {
		add(n, 1, fmt.Sprintf("星河手机拍照清楚，夜景好看，第%d位朋友", n))
	}
	add(10, 2, "星河手机售后很差，客服不理人，只有我遇到")
	// 银河: two authors only.
	add(11, 0, "银河手机价格便宜")
	add(12, 1, "银河手机价格实惠")
	// The official account on day 2 and alone on 北斗.
	offText := "星河官方：新品发布会今晚八点，欢迎观看"
	add(official, 2, offText)
	offText2 := "北斗联名款由星河官方首发"
	add(official, 2, offText2)
	posts = append(posts, search("银河", 0, 3))

	in := Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(2), Location: cst,
		MinAuthors: k, Segmenter: segmenter(t), Official: map[admeter.Pseudonym]string{author(official): "星河官方微博"},
		Delivery: map[storeDate]int64{day0.AddDays(1): 1000}}
	rep, err := Analyze(in)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	out := string(js)
	for _, p := range posts {
		if p.Author == author(official) || !p.Kind.Authored() {
			continue
		}
		raw, _ := json.Marshal(p.Author)
		for what, s := range map[string]string{"text": p.Text, "hex": p.Author.Hex(), "prefix": p.Author.String(),
			"base64": base64.StdEncoding.EncodeToString(p.Author[:]), "bytes": string(raw)} {
			if strings.Contains(out, s) {
				t.Errorf("report has a post's %s %q", what, s)
			}
		}
	}
	for _, s := range []string{offText, offText2, "星河官方微博"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks the official %q", s)
		}
	}
	if strings.Contains(out, author(official).Hex()) {
		t.Error("report has the official account's pseudonym")
	}

	// People (non-official authors) per rule and day, from the input.
	people := func(rule string, day int) map[admeter.Pseudonym]bool {
		set := map[admeter.Pseudonym]bool{}
		for _, p := range posts {
			if p.Kind.Authored() && p.Author != author(official) && strings.Contains(p.Text, rule) &&
				(day < 0 || p.At.In(cst).Day() == day0.AddDays(day).Day) {
				set[p.Author] = true
			}
		}
		return set
	}
	fine := func(n int) bool { return n == 0 || n >= k }
	for _, r := range rep.Rules {
		if pub := r.Counts != nil; pub != fine(len(people(r.Rule, -1))) || pub == r.Suppressed {
			t.Errorf("%s: published %v with %d people", r.Rule, pub, len(people(r.Rule, -1)))
		}
		residual := map[admeter.Pseudonym]bool{}
		for d, c := range r.Days {
			n := len(people(r.Rule, d))
			if c.Counts != nil && !fine(n) {
				t.Errorf("%s day %d: published with %d people", r.Rule, d, n)
			}
			if c.Suppressed {
				for a := range people(r.Rule, d) {
					residual[a] = true
				}
			}
		}
		if r.Counts != nil && !fine(len(residual)) {
			t.Errorf("%s: the suppressed days have %d people and can be worked out from the total", r.Rule, len(residual))
		}
	}
	want := map[string][]bool{ // suppressed per day
		"星河": {false, true, true}, // day 2 below k, day 1 complementary
		"银河": {true, true, false},
		"北斗": {false, false, false}, // only the official account
	}
	for _, r := range rep.Rules {
		for d, c := range r.Days {
			if c.Suppressed != want[r.Rule][d] {
				t.Errorf("%s day %d: suppressed %v, want %v", r.Rule, d, c.Suppressed, want[r.Rule][d])
			}
		}
	}
	if rep.Rules[1].Counts != nil || rep.ShareOfVoice.Rules[1].Mentions != nil || !rep.ShareOfVoice.Days[0].Suppressed {
		t.Error("银河 (two authors) is published in counts or share of voice")
	}
	if rep.Rules[2].Counts == nil || rep.Rules[2].Counts.Mentions != 1 {
		t.Errorf("北斗, only the official account's: %+v", rep.Rules[2].Cell)
	}
	if rep.Searches[1].Searches != 3 {
		t.Error("search aggregates are not thresholded")
	}
	for _, kw := range rep.Keywords {
		if n := len(people(kw.Term, -1)); !fine(n) {
			t.Errorf("keyword %q of %d people", kw.Term, n)
		}
	}
	// Topics: people per topic, from the assignment of each content.
	a, err := newAnalysis(in)
	if err != nil {
		t.Fatal(err)
	}
	topicPeople := map[string]map[int32]bool{}
	a.trace = func(cl int, label string) {
		if topicPeople[label] == nil {
			topicPeople[label] = map[int32]bool{}
		}
		for _, i := range a.clusters[cl].recs {
			if r := a.recs[i]; r.brand && !r.official {
				topicPeople[label][r.author] = true
			}
		}
	}
	for _, tp := range a.run().Topics {
		if n := len(topicPeople[tp.Label]); tp.Counts != nil && !fine(n) {
			t.Errorf("topic %q of %d people", tp.Label, n)
		}
	}
	for _, p := range []Period{rep.Alignment.Before, rep.Alignment.During, rep.Alignment.After} {
		if p.Counts != nil && p.Counts.Authors < k {
			t.Errorf("period %s–%s of %d authors", p.From, p.To, p.Counts.Authors)
		}
	}
	if pv := rep.Privacy; pv.MinAuthors != k || pv.SuppressedCells == 0 || pv.Complementary == 0 || len(pv.Notes) == 0 {
		t.Errorf("privacy %+v", pv)
	}
}

// TestComplementSources checks that one small source is not left to be
// worked out from the total.
func TestComplementSources(t *testing.T) {
	brand, _ := rules()
	var posts []admeter.SocialPost
	for n := range 6 {
		p := post(n+1, 0, fmt.Sprintf("星河手机第%d条", n), 0)
		p.Source = []string{"weibo", "weibo", "weibo", "douyin", "douyin", "xiaohongshu"}[n]
		if n == 4 {
			p.Source = "douyin"
		}
		posts = append(posts, p)
	}
	rep, err := Analyze(Input{Posts: posts, Brands: brand, From: day0, To: day0, Location: cst, MinAuthors: 2, Segmenter: segmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range rep.Sources {
		got[s.Source] = s.Suppressed
	}
	// xiaohongshu has one author: suppressed; douyin (2) is the smallest
	// published and goes with it; weibo (3) stays.
	if !got["xiaohongshu"] || !got["douyin"] || got["weibo"] || rep.Total.Suppressed {
		t.Errorf("sources suppressed %v, total %+v", got, rep.Total)
	}
}

// TestKeywordsOfNearCopies proves that a word only one of several near
// copies has is not published on the strength of the copies' authors: the
// copies are one content, but a keyword counts the authors whose own text
// has it.
func TestKeywordsOfNearCopies(t *testing.T) {
	brand, comp := rules()
	var posts []admeter.SocialPost
	for i := range 12 {
		// Near copies of one long text, each with its own rare word.
		posts = append(posts, post(i, 0, fmt.Sprintf("星河手机拍照夜景真的非常清晰，续航一整天也没有问题，朋友们都说好 xyzzy%d", i), 0.5))
	}
	rep, err := Analyze(Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0, Location: cst, MinAuthors: 5, Segmenter: segmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Rules[0].Counts; c == nil || c.Original != 1 {
		t.Fatalf("星河 = %+v, want the 12 posts to be one content", rep.Rules[0])
	}
	if len(rep.Keywords) == 0 {
		t.Fatal("no keywords: the shared words should be published")
	}
	for _, k := range rep.Keywords {
		if strings.HasPrefix(k.Term, "xyzzy") {
			t.Errorf("keyword %q of one author published (%d authors counted)", k.Term, k.Authors)
		}
	}
}
