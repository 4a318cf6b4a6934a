package analysis

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

func TestAnalyzeCounts(t *testing.T) {
	brand, comp := rules()
	r1 := post(1, 0, "星河手机续航真好，充电也快", 0.5)
	r1.Likes, r1.Shares = 10, 2
	r2 := post(2, 0, "转发微博//@甲:星河手机续航真好，充电也快", 0.5)
	r2.Kind = admeter.SocialRepost
	r3 := post(3, 0, "星河和银河都还可以", 0)
	r4 := post(1, 1, "银河拍照一般般", -0.3)
	r4.Source = "douyin"
	r5 := post(4, 1, "转发微博 @星河", 0.01) // no content of its own
	noRule := post(5, 1, "今天天气不错", 0.2)
	late := post(6, 3, "星河真好", 0.9) // after To
	posts := []admeter.SocialPost{r5, r4, noRule, r3, r2, r1, late,
		search("星河手机", 0, 100), search("银河", 2, 50), search("星河", 3, 7), search("天气", 1, 9)}
	rep, err := Analyze(Input{Posts: posts, Brands: brand, Competitors: comp, From: day0, To: day0.AddDays(2),
		Location: cst, MinAuthors: 1, Segmenter: segmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	if r5.ExactKey != ([16]byte{}) || r1.ExactKey != r2.ExactKey {
		t.Fatal("test data: r5 should have no content and r2 repeat r1's")
	}
	if got := names(rep.Rules); !slices.Equal(got, []string{"星河", "银河", "北斗"}) {
		t.Fatalf("rules %v, want brands then competitors in input order", got)
	}
	want := map[string]Counts{
		"星河": {Mentions: 4, Original: 2, Reposts: 2, Authors: 4, Likes: 10, Shares: 2, Positive: 2, Neutral: 2, NetSentiment: 0.5},
		"银河": {Mentions: 2, Original: 2, Reposts: 0, Authors: 2, Negative: 1, Neutral: 1, NetSentiment: -0.5},
		"北斗": {},
	}
	for _, r := range rep.Rules {
		if r.Counts == nil || *r.Counts != want[r.Rule] {
			t.Errorf("%s: counts %+v, want %+v", r.Rule, r.Counts, want[r.Rule])
		}
		if len(r.Days) != 3 {
			t.Fatalf("%s: %d days, want 3", r.Rule, len(r.Days))
		}
	}
	d := rep.Rules[0].Days
	if d[0].Counts.Mentions != 3 || d[0].Counts.Authors != 3 || d[0].Counts.Original != 2 || d[1].Counts.Mentions != 1 || d[2].Counts.Mentions != 0 {
		t.Errorf("星河 days %+v %+v %+v", d[0].Counts, d[1].Counts, d[2].Counts)
	}
	if rep.Total.Counts == nil || rep.Total.Counts.Mentions != 5 || rep.Total.Counts.Authors != 4 {
		t.Errorf("total %+v, want 5 records of 4 authors", rep.Total.Counts)
	}
	if len(rep.Sources) != 2 || rep.Sources[0].Source != "douyin" || rep.Sources[0].Counts.Mentions != 1 || rep.Sources[1].Counts.Mentions != 4 {
		t.Errorf("sources %+v", rep.Sources)
	}
	sov := rep.ShareOfVoice.Rules
	if *sov[0].Mentions != 4.0/6 || *sov[1].Mentions != 2.0/6 || *sov[2].Mentions != 0 || *sov[0].Engagement != 1 {
		t.Errorf("share of voice %v %v %v, engagement %v", *sov[0].Mentions, *sov[1].Mentions, *sov[2].Mentions, *sov[0].Engagement)
	}
	if day0 := rep.ShareOfVoice.Days[0]; day0.Suppressed || *day0.Rules[0].Mentions != 0.75 {
		t.Errorf("share of voice of day 0: %+v", day0)
	}
	s := rep.Searches
	if s[0].Searches != 100 || s[0].Days[0].Searches != 100 || s[1].Searches != 50 || s[1].Days[2].Searches != 50 || s[2].Searches != 0 {
		t.Errorf("searches %+v", s)
	}
	if rep.Privacy.MinAuthors != 1 || rep.Privacy.SuppressedCells != 0 || rep.Alignment != nil {
		t.Errorf("privacy %+v, alignment %v", rep.Privacy, rep.Alignment)
	}
}

func names(rs []RuleReport) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Rule)
	}
	return out
}

func TestDedupNear(t *testing.T) {
	long := "星河手机的续航真的让我很惊喜，连续刷了一整天视频，晚上回家还剩百分之三十的电量，充电也很快，半小时就能充到八成，比我之前用的那台好太多了，推荐给大家"
	edited := strings.Replace(long, "一整天", "一整日", 1)
	posts := []admeter.SocialPost{
		post(1, 0, long, 0),
		post(2, 0, edited, 0),           // near copy
		post(3, 0, "转发微博//@甲:"+long, 0), // exact repost
		post(4, 0, "星河手机拍照不错，夜景很清楚，人像也自然", 0), // other content
		post(5, 0, "转发微博 @星河", 0),             // no content
		post(6, 0, "转发微博 @星河官方", 0),           // no content: not merged with the one above
	}
	if posts[0].ExactKey == posts[1].ExactKey {
		t.Fatal("test data: the edit should change the exact key")
	}
	brand, _ := rules()
	rep, err := Analyze(Input{Posts: posts, Brands: brand, From: day0, To: day0, Location: cst, MinAuthors: 1, Segmenter: segmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Rules[0].Counts; c.Mentions != 6 || c.Original != 2 || c.Reposts != 4 {
		t.Errorf("counts %+v, want 6 mentions, 2 original contents", c)
	}
}

func TestAnalyzeInvalid(t *testing.T) {
	brand, comp := rules()
	ok := Input{Brands: brand, Competitors: comp, From: day0, To: day0, MinAuthors: 1, Segmenter: segmenter(t)}
	other := post(1, 0, "星河", 0)
	other.Tenant = "t2"
	for _, tc := range []struct {
		name string
		edit func(*Input)
	}{
		{"k zero", func(in *Input) { in.MinAuthors = 0 }},
		{"no segmenter", func(in *Input) { in.Segmenter = nil }},
		{"to before from", func(in *Input) { in.To = day0.AddDays(-1) }},
		{"too long", func(in *Input) { in.To = day0.AddDays(MaxDays) }},
		{"name twice", func(in *Input) {
			in.Competitors = append(in.Competitors, admeter.SocialRule{Name: "星河", Terms: []string{"x"}})
		}},
		{"bad rule", func(in *Input) { in.Competitors = []admeter.SocialRule{{Name: "空", Terms: nil}} }},
		{"two tenants", func(in *Input) { in.Posts = []admeter.SocialPost{post(1, 0, "星河", 0), other} }},
		{"negative keywords", func(in *Input) { in.Keywords = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := Analyze(in)
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Errorf("error %v, want EINVALID", err)
			}
		})
	}
	if _, err := Analyze(ok); err != nil {
		t.Errorf("valid input: %v", err)
	}
	var e *admeter.Error
	if _, err := Analyze(Input{}); !errors.As(err, &e) {
		t.Errorf("zero input: %v", err)
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct {
		s    float32
		want string
	}{{0.05, "positive"}, {0.049, "neutral"}, {-0.049, "neutral"}, {-0.05, "negative"}, {1, "positive"}, {0, "neutral"}} {
		if got := label(tc.s); got != tc.want {
			t.Errorf("label(%v) = %s, want %s", tc.s, got, tc.want)
		}
	}
}

func TestTQuantile(t *testing.T) {
	for df, want := range map[int]float64{3: 3.182446, 5: 2.570582, 10: 2.228139, 30: 2.042272, 1000: 1.962339} {
		if got := tQuantile975(df); math.Abs(got-want)/want > 0.002 {
			t.Errorf("t(%d) = %v, want %v", df, got, want)
		}
	}
}

type storeDate = store.Date
