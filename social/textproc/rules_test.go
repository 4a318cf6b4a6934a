package textproc

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/admeter/admeter"
)

func TestUnits(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"华为Mate70", []string{"华", "为", "mate", "70"}},
		{"iPhone-16 Pro+", []string{"iphone", "16", "pro", "+"}},
		{"ＡＢＣ１２３", []string{"abc", "123"}},
		{"华为，手机", []string{"华", "为", ",", "手", "机"}},
		{"❤️好", []string{"❤", "好"}},
		{"L'Oréal", []string{"l", "oréal"}},
		{"cafe\u0301 a\u200bb", []string{"cafe\u0301", "a", "b"}},
		{"3.5寸", []string{"3", "5", "寸"}},
		{"カメラ ok", []string{"カ", "メ", "ラ", "ok"}},
		{"\xff\xfe", nil},
		{"", nil},
	} {
		if got := units(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("units(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestCompileRulesErrors(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("term%d", i)
		}
		return out
	}
	manyRules := make([]Rule, MaxRules+1)
	for i := range manyRules {
		manyRules[i] = Rule{Name: fmt.Sprint("r", i), Terms: []string{"x"}}
	}
	for _, tc := range []struct {
		name  string
		rules []Rule
		want  string // the error's message
	}{
		{"empty name", []Rule{{Name: "a", Terms: []string{"a"}}, {Name: "  ", Terms: []string{"b"}}},
			"rule 2: name is empty: name the brand, product or competitor the rule counts"},
		{"long name", []Rule{{Name: strings.Repeat("名", 101), Terms: []string{"a"}}},
			fmt.Sprintf("rule %q: name has 101 characters, more than the 100 allowed", strings.Repeat("名", 101))},
		{"repeated name", []Rule{{Name: "华为", Terms: []string{"华为"}}, {Name: "Apple", Terms: []string{"apple"}}, {Name: "华为 ", Terms: []string{"huawei"}}},
			`rule "华为": name is used by rules 1 and 3: give each rule its own name or merge their terms`},
		{"no terms", []Rule{{Name: "华为", Exclusions: []string{"华为云"}}},
			`rule "华为": terms is empty: give at least the name as it is written in posts`},
		{"empty term", []Rule{{Name: "华为", Terms: []string{"华为", " ！！ "}}},
			`rule "华为": terms[1] " ！！ " has no letter or digit: write the word as it appears in posts`},
		{"empty exclusion", []Rule{{Name: "华为", Terms: []string{"华为"}, Exclusions: []string{""}}},
			`rule "华为": exclusions[0] "" has no letter or digit: write the word as it appears in posts`},
		{"long term", []Rule{{Name: "x", Terms: []string{strings.Repeat("a", 101)}}},
			`rule "x": terms[0] has 101 characters, more than the 100 allowed`},
		{"too many terms", []Rule{{Name: "x", Terms: many(51)}},
			`rule "x": terms has 51 entries, more than the 50 allowed: split the rule`},
		{"too many exclusions", []Rule{{Name: "x", Terms: []string{"x"}, Exclusions: many(51)}},
			`rule "x": exclusions has 51 entries, more than the 50 allowed: split the rule`},
		{"term is exclusion", []Rule{{Name: "华为", Terms: []string{"华为", "Huawei"}, Exclusions: []string{"华为云", "ＨＵＡＷＥＩ"}}},
			`rule "华为": exclusions[1] "ＨＵＡＷＥＩ" is also one of its terms, so the rule could never count it: remove one of the two`},
		{"too many rules", manyRules,
			"1001 keyword rules is more than the 1000 allowed: merge synonyms into one rule's terms or drop rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := CompileRules(tc.rules)
			if err == nil {
				t.Fatalf("CompileRules = %v, nil; want an error", m)
			}
			if code, msg := admeter.ErrorCode(err), admeter.ErrorMessage(err); code != admeter.EINVALID || msg != tc.want {
				t.Errorf("CompileRules error = %s %q\nwant %s %q", code, msg, admeter.EINVALID, tc.want)
			}
		})
	}
}

// testRules are a tenant's rules for TestMatch and the fuzz targets.
var testRules = []Rule{
	{Name: "华为 Mate 70", Terms: []string{"华为Mate70", "Mate 70", "华为 Mate 70"}},
	{Name: "华为", Terms: []string{"华为", "Huawei"}, Exclusions: []string{"华为路由器", "华为云"}},
	{Name: "Apple", Terms: []string{"apple", "苹果", "iPhone"}, Exclusions: []string{"苹果汁", "apple pie"}},
	{Name: "小米", Terms: []string{"小米", "Xiaomi", "小米"}, Exclusions: []string{"小米粥"}},
	{Name: "AT&T", Terms: []string{"AT&T"}},
	{Name: "Mate 70 Pro+", Terms: []string{"Mate 70 Pro+"}},
	{Name: "手机", Terms: []string{"手机", "phone"}},
	{Name: "苹果汁", Terms: []string{"苹果汁"}},
}

func TestMatch(t *testing.T) {
	m, err := CompileRules(testRules)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Names(), []string{"AT&T", "Apple", "Mate 70 Pro+", "华为", "华为 Mate 70", "小米", "手机", "苹果汁"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"今天买了华为Mate 70，很满意", []string{"华为", "华为 Mate 70"}},
		{"ＨＵＡＷＥＩ  mate70 pro真香", []string{"华为", "华为 Mate 70"}},
		{"mate 70 pro+ 真香", []string{"Mate 70 Pro+", "华为 Mate 70"}},
		{"Mate 700 and mate7 0", nil}, // 700 is not 70; "mate7 0" is mate,7,0
		{"华为路由器信号不错，华为手机也不错", []string{"手机"}},
		{"pineapple juice, apples and snapple", nil},
		{"I love my Apple watch", []string{"Apple"}},
		{"Apple pie with apple cinnamon", nil},
		{"iPhone16 vs 小米15 vs XIAOMI", []string{"Apple", "小米"}},
		{"早上喝了小米粥", nil},
		{"喝苹果汁", []string{"苹果汁"}},
		{"AT&T, ATT and at t", []string{"AT&T"}},
		{"at t", nil},
		{"我们的新款手机续航很好", []string{"手机"}}, // gse cuts 新款手机 as one word
		{"smartphone", nil},
		{"phone-case", []string{"手机"}},
		{"", nil},
	} {
		if got := m.Match(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Match(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	// The last but three case matters because gse does not cut 手机 there.
	if toks := segmenter(t).Tokens("我们的新款手机续航很好"); slices.Contains(toks, "手机") {
		t.Errorf("Tokens cut 手机 out of 新款手机 (%q): pick another example of a term inside a longer word", toks)
	}
}

// naiveMatch is Match by brute force: every rule, every term, every
// position.
func naiveMatch(rules []Rule, text string) []string {
	tu := units(text)
	has := func(terms []string) bool {
		for _, term := range terms {
			p := units(term)
			for i := 0; i+len(p) <= len(tu); i++ {
				if len(p) > 0 && slices.Equal(tu[i:i+len(p)], p) {
					return true
				}
			}
		}
		return false
	}
	var out []string
	for _, r := range rules {
		if has(r.Terms) && !has(r.Exclusions) {
			out = append(out, strings.TrimSpace(r.Name))
		}
	}
	slices.Sort(out)
	return out
}

func TestMatchAgreesWithNaive(t *testing.T) {
	// Overlapping terms exercise the automaton's fail and dictionary links.
	rules := []Rule{
		{Name: "a", Terms: []string{"he", "she"}},
		{Name: "b", Terms: []string{"his", "hers"}, Exclusions: []string{"ushers x"}},
		{Name: "c", Terms: []string{"he she his"}},
		{Name: "d", Terms: []string{"中国", "国人"}, Exclusions: []string{"美国人"}},
		{Name: "e", Terms: []string{"中国人民银行", "人民"}},
		{Name: "f", Terms: []string{"银行 app", "app"}},
	}
	m, err := CompileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"he", "she", "his", "hers", "ushers", "x", "中", "国人", "人民", "中国人民", "银行", "美", "app", "，", "Ｈｅ"}
	// Every text of up to three words, in order.
	var texts []string
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		texts = append(texts, prefix)
		if depth == 3 {
			return
		}
		for _, w := range words {
			gen(prefix+" "+w, depth+1)
		}
	}
	gen("", 0)
	for _, text := range texts {
		if got, want := m.Match(text), naiveMatch(rules, text); !slices.Equal(got, want) {
			t.Fatalf("Match(%q) = %q, naive match %q", text, got, want)
		}
	}
	t.Logf("%d texts agree", len(texts))
}

func TestMatchConcurrent(t *testing.T) {
	m, err := CompileRules(testRules)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if got := m.Match("华为Mate70和iPhone"); !slices.Equal(got, []string{"Apple", "华为", "华为 Mate 70"}) {
					t.Errorf("Match = %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzMatch(f *testing.F) {
	f.Add("今天买了华为Mate 70，很满意", "华为", "华为云")
	f.Add("AT&T, ATT and at t", "at&t", "att")
	f.Add("pineapple apple", "apple", "pine apple")
	f.Add("he she his hers", "she his", "")
	f.Fuzz(func(t *testing.T, text, term, exclusion string) {
		rules := append(slices.Clone(testRules), Rule{Name: "fuzz", Terms: []string{term}, Exclusions: []string{exclusion}})
		if exclusion == "" {
			rules[len(rules)-1].Exclusions = nil
		}
		m, err := CompileRules(rules)
		if err != nil {
			if admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("CompileRules error %v is not EINVALID", err)
			}
			return
		}
		got := m.Match(text)
		if want := naiveMatch(rules, text); !slices.Equal(got, want) {
			t.Fatalf("Match(%q) = %q, naive match %q", text, got, want)
		}
		// A term matches itself, also between other words.
		inside := m.Match("前 " + term + " 后")
		if want := naiveMatch(rules[len(rules)-1:], "前 "+term+" 后"); slices.Contains(want, "fuzz") != slices.Contains(inside, "fuzz") {
			t.Fatalf("Match(%q) = %q, want fuzz counted: %v", "前 "+term+" 后", inside, slices.Contains(want, "fuzz"))
		}
		if len(naiveMatch(rules[len(rules)-1:], term)) == 0 && exclusion == "" {
			t.Fatalf("term %q does not match itself", term)
		}
	})
}

// benchRules makes n rules of five terms each: two Chinese, three English.
func benchRules(n int) []Rule {
	syll := []rune("华米果星联想荣耀魅族酷派锤子一加真我海信创维格力美的")
	rules := make([]Rule, n)
	for i := range rules {
		a, b, c := syll[i%len(syll)], syll[(i/len(syll))%len(syll)], syll[(i*7+3)%len(syll)]
		rules[i] = Rule{
			Name:       fmt.Sprintf("brand %d", i),
			Terms:      []string{string([]rune{a, b}), string([]rune{a, b, c, '手', '机'}), fmt.Sprintf("brand%d", i), fmt.Sprintf("model %d pro", i), fmt.Sprintf("b%d phone", i)},
			Exclusions: []string{string([]rune{a, b, '云'})},
		}
	}
	return rules
}

// BenchmarkMatch matches 100 (and 1000) rules over 10 000 posts per
// iteration.
func BenchmarkMatch(b *testing.B) {
	texts := make([]string, 10_000)
	for i := range texts {
		texts[i] = posts[i%len(posts)] + fmt.Sprintf(" brand%d 和 model %d pro", i%150, i%120) + posts[(i*13)%len(posts)]
	}
	for _, n := range []int{100, MaxRules} {
		b.Run(fmt.Sprint(n, "rules"), func(b *testing.B) {
			m, err := CompileRules(benchRules(n))
			if err != nil {
				b.Fatal(err)
			}
			matched := 0
			for b.Loop() {
				matched = 0
				for _, text := range texts {
					matched += len(m.Match(text))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/post")
			b.ReportMetric(float64(matched)/float64(len(texts)), "rules/post")
		})
	}
}

// BenchmarkCompileRules compiles the most rules allowed, each with all its
// terms.
func BenchmarkCompileRules(b *testing.B) {
	rules := benchRules(MaxRules)
	for i := range rules {
		for j := len(rules[i].Terms); j < MaxTerms; j++ {
			rules[i].Terms = append(rules[i].Terms, fmt.Sprintf("synonym %d of rule %d", j, i))
		}
	}
	for b.Loop() {
		if _, err := CompileRules(rules); err != nil {
			b.Fatal(err)
		}
	}
}
