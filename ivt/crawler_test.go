package ivt

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	agents "github.com/monperrus/crawler-user-agents"
)

// reference is the crawler list as its patterns define it: one regexp per
// pattern, with admeter's exclusions and narrowings applied. It is slow and
// only for tests.
type reference struct {
	pats  []*regexp.Regexp
	class []uaClass
}

func newReference(t testing.TB) *reference {
	r := &reference{}
	for _, c := range agents.Crawlers {
		p := c.Pattern
		if slices.Contains(excludedPatterns, p) {
			continue
		}
		class := uaCrawler
		if slices.Contains(libraryPatterns, p) {
			class = uaLibrary
		}
		if n, ok := narrowedPatterns[p]; ok {
			p = n
		}
		re, err := regexp.Compile(p)
		if err != nil {
			t.Fatalf("pattern %q: %v", p, err)
		}
		r.pats = append(r.pats, re)
		r.class = append(r.class, class)
	}
	return r
}

// match returns the strongest class of pattern that matches ua.
func (r *reference) match(ua string) uaClass {
	if len(ua) > maxScan {
		ua = ua[:maxScan]
	}
	best := uaNone
	for i, re := range r.pats {
		if re.MatchString(ua) {
			best = max(best, r.class[i])
		}
	}
	return best
}

func mustMatcher(t testing.TB) *matcher {
	t.Helper()
	m, err := crawlers()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCrawlerListInstances checks every example user agent of the list: each
// must be found, as a crawler or as an HTTP library according to its
// pattern; the examples of excluded patterns must not.
func TestCrawlerListInstances(t *testing.T) {
	m := mustMatcher(t)
	n := 0
	for _, c := range agents.Crawlers {
		want := uaCrawler
		switch {
		case slices.Contains(excludedPatterns, c.Pattern):
			want = uaNone
		case slices.Contains(libraryPatterns, c.Pattern):
			want = uaLibrary
		}
		for _, ua := range c.Instances {
			n++
			got := m.match(ua)
			if got != want && !(want == uaLibrary && got == uaCrawler) {
				t.Errorf("pattern %q: match(%q) = %d, want %d", c.Pattern, ua, got, want)
			}
		}
	}
	if n < 1000 {
		t.Errorf("only %d instances checked", n)
	}
}

// TestCrawlerMatchesReference checks the one-pass matcher against the
// patterns run one by one, on the list's examples, real traffic and strings
// that probe the anchors.
func TestCrawlerMatchesReference(t *testing.T) {
	m, ref := mustMatcher(t), newReference(t)
	var uas []string
	for _, c := range agents.Crawlers {
		uas = append(uas, c.Instances...)
	}
	for _, u := range append(append([]realUA{}, simulatorAgents...), realAgents...) {
		uas = append(uas, u.ua)
	}
	uas = append(uas,
		"", "cur", "curl", "xcurl/8", " curl/8", "Mozilla curl/8", "LCC ", "LCC", "x LCC ", "BW/1.1", "aBW/1.1",
		"sentry/8", " sentry/8", "xsentry/8", "PTST/1", "Chrome PTST/1", "ChromePTST/1",
		"AdsBot-Google", "AdsBot-Google-", "AdsBot-Google-Mobile", "AdsBot-Google-Foo", "AdsBot-Googlex",
		"BlogTraffic/1.4 Feed-Fetcher", "BlogTraffic/x Feed-Fetcher", "Feed-Fetcher",
		"Sogou", "SogouMobileBrowser/5", "Sogou web spider/4.0", "Sogou Pic Spider/3.0", "Sogou inst spider",
		"wget", "Wget/1.21", "WGET", "SISTRIX Crawler", "sistrix crawler", "SiSTRIX Crawler",
		"ClaudeBot/1.0", "claudebot", "Claudebot", "SemrushBot", "SEmrushBot", "SEMRUSHBOT",
		"Y!J", "xY!Jx", "okhttp/4.9.3", "Yeti", "yeti", "Panasonic", "Sonic/1.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"+strings.Repeat("x", maxScan),
		strings.Repeat("x", maxScan-3)+"curl", strings.Repeat("a", maxScan)+"Googlebot/2.1",
	)
	step := 1
	if raceEnabled {
		step = 17 // the regexps are a hundred times slower under the race detector
	}
	for i := 0; i < len(uas); i += step {
		ua := uas[i]
		if got, want := m.match(ua), ref.match(ua); got != want {
			t.Errorf("match(%q) = %d, reference %d", ua, got, want)
		}
	}
}

// TestCrawlerRealAgents checks that no real browser or app user agent, the
// simulator's among them, matches the crawler list.
func TestCrawlerRealAgents(t *testing.T) {
	m := mustMatcher(t)
	all := append(append([]realUA{}, simulatorAgents...), realAgents...)
	if len(all) < 50 {
		t.Fatalf("only %d real user agents", len(all))
	}
	for _, u := range all {
		if c := m.match(u.ua); c != uaNone {
			t.Errorf("%s: match(%q) = %d, want none", u.name, u.ua, c)
		}
	}
}

// TestPatternTables checks that the patterns admeter treats specially are
// still in the list, so that an update of the list cannot silently undo an
// exclusion or a narrowing.
func TestPatternTables(t *testing.T) {
	var all []string
	for _, c := range agents.Crawlers {
		all = append(all, c.Pattern)
	}
	check := func(kind string, pats []string) {
		for _, p := range pats {
			if !slices.Contains(all, p) {
				t.Errorf("%s pattern %q is not in the crawler list", kind, p)
			}
		}
	}
	check("library", libraryPatterns)
	check("excluded", excludedPatterns)
	for p := range narrowedPatterns {
		check("narrowed", []string{p})
	}
}

func TestLiterals(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []literal
		err     string
	}{
		{`Googlebot\/`, []literal{{s: "Googlebot/"}}, ""},
		{`[wW]get`, []literal{{s: "Wget"}, {s: "wget"}}, ""},
		{`S[eE][mM]rushBot`, []literal{{s: "SEMrushBot"}, {s: "SEmrushBot"}, {s: "SeMrushBot"}, {s: "SemrushBot"}}, ""},
		{`^curl`, []literal{{s: "curl", start: true}}, ""},
		{`(^| )sentry\/`, []literal{{s: "sentry/", start: true}, {s: " sentry/"}}, ""},
		{`Ahrefs(Bot|SiteAudit)`, []literal{{s: "AhrefsBot"}, {s: "AhrefsSiteAudit"}}, ""},
		{`Bot\.?$`, []literal{{s: "Bot.", end: true}, {s: "Bot", end: true}}, ""},
		{`AdsBot-Google([^-]|$)`, []literal{{s: "AdsBot-Google"}}, "confirm"},
		{`BlogTraffic\/\d\.\d+ Feed-Fetcher`, []literal{{s: " Feed-Fetcher"}}, "confirm"},
		{`a^b`, nil, "no literal"},
		{`.*ab`, nil, "no literal of 3 bytes"},
		{`(unclosed`, nil, "parse crawler pattern"},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			got, confirm, err := literals(tc.pattern)
			switch {
			case tc.err == "confirm":
				if err != nil || !confirm {
					t.Fatalf("literals = %v, confirm %v, err %v; want a regexp to confirm", got, confirm, err)
				}
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			case err != nil || confirm:
				t.Fatalf("err = %v, confirm %v", err, confirm)
			}
			slices.SortFunc(got, func(a, b literal) int { return strings.Compare(a.s, b.s) })
			slices.SortFunc(tc.want, func(a, b literal) int { return strings.Compare(a.s, b.s) })
			if !slices.Equal(got, tc.want) {
				t.Errorf("literals = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzCrawlerMatch checks the one-pass matcher against the patterns run one
// by one, on any string.
func FuzzCrawlerMatch(f *testing.F) {
	for _, c := range agents.Crawlers[:80] {
		for _, ua := range c.Instances[:min(1, len(c.Instances))] {
			f.Add(ua)
		}
	}
	for _, u := range realAgents[:20] {
		f.Add(u.ua)
	}
	f.Add("x^curl$")
	f.Add("AdsBot-Google-")
	m, ref := mustMatcher(f), newReference(f)
	f.Fuzz(func(t *testing.T, ua string) {
		if got, want := m.match(ua), ref.match(ua); got != want {
			t.Fatalf("match(%q) = %d, reference %d", ua, got, want)
		}
	})
}
