package pseudo

import (
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

func TestCanonicalHandle(t *testing.T) {
	base, r := CanonicalHandle("weibo", "abc")
	if r != ReasonOK || base.IsZero() {
		t.Fatalf("CanonicalHandle(weibo, abc) = %v, %v", base, r)
	}
	for _, tc := range []struct {
		name, source, handle string
		same                 bool
		reason               Reason
	}{
		{"AtSign", "weibo", "@abc", true, ReasonOK},
		{"FullWidthAt", "weibo", "＠abc", true, ReasonOK},
		{"Spaces", "weibo", "  abc\t", true, ReasonOK},
		{"Case", "weibo", "ABC", true, ReasonOK},
		{"FullWidthLetters", "weibo", "ＡｂＣ", true, ReasonOK},
		{"OtherSource", "douyin", "abc", false, ReasonOK},
		{"OtherHandle", "weibo", "abd", false, ReasonOK},
		{"Chinese", "weibo", "华为终端", false, ReasonOK},
		{"Empty", "weibo", "", false, ReasonEmpty},
		{"OnlyAt", "weibo", "@", false, ReasonEmpty},
		{"Null", "weibo", "null", false, ReasonEmpty},
		{"Macro", "weibo", "__AUTHOR__", false, ReasonPlaceholder},
		{"BadSource", "Weibo!", "abc", false, ReasonMalformed},
		{"Control", "weibo", "a\x00b", false, ReasonMalformed},
		{"TooLong", "weibo", strings.Repeat("a", MaxHandle+1), false, ReasonMalformed},
		{"InvalidUTF8", "weibo", "a\xffb", false, ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, r := CanonicalHandle(tc.source, tc.handle)
			if r != tc.reason {
				t.Fatalf("reason = %v, want %v", r, tc.reason)
			}
			if r != ReasonOK {
				if !c.IsZero() {
					t.Error("a rejected handle has a canonical form")
				}
				return
			}
			if (c == base) != tc.same {
				t.Errorf("same as weibo:abc = %v, want %v", c == base, tc.same)
			}
		})
	}
}

// TestSocialSubject proves that a rights request names a social account as
// "source:handle" and gets the pseudonym its posts were stored under.
func TestSocialSubject(t *testing.T) {
	want, _ := CanonicalHandle("weibo", "abc")
	for _, v := range []string{"weibo:@abc", "Weibo: ABC", " weibo:abc "} {
		got, err := CanonicalizeSubject(admeter.IDSocial, 0, v)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("CanonicalizeSubject(social, %q) = %v, %v; want the handle's canonical form", v, got, err)
		}
	}
	for _, v := range []string{"abc", "weibo:", "!!:abc"} {
		if _, err := CanonicalizeSubject(admeter.IDSocial, 0, v); err == nil || !strings.Contains(err.Error(), "weibo:@name") {
			t.Errorf("CanonicalizeSubject(social, %q) = %v, want an error that shows the form", v, err)
		}
	}
	if _, err := ParseSubjectType("social"); err != nil {
		t.Errorf("ParseSubjectType(social) = %v", err)
	}
	if c, r := Canonicalize(admeter.IDSocial, FormMD5, "weibo:abc"); r != ReasonMalformed || !c.IsZero() {
		t.Errorf("Canonicalize(social, md5) = %v, want malformed", r)
	}
}

func FuzzCanonicalHandle(f *testing.F) {
	for _, s := range []string{"abc", "@华为终端", "ＡｂＣ", "", "__X__", "a\x00"} {
		f.Add("weibo", s)
	}
	f.Fuzz(func(t *testing.T, source, handle string) {
		c, r := CanonicalHandle(source, handle)
		if (r == ReasonOK) == c.IsZero() {
			t.Fatalf("reason %v with canonical zero = %v", r, c.IsZero())
		}
		if r == ReasonOK {
			again, r2 := CanonicalHandle(source, "@"+strings.ToUpper(handle))
			if r2 == ReasonOK && strings.ToUpper(handle) == strings.ToLower(handle) && again != c {
				t.Fatal("a leading @ changed the canonical form")
			}
		}
	})
}
