package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

func TestCheckPassword(t *testing.T) {
	// want is a phrase of the expected message, "" for an accepted password.
	const (
		short    = "too short"
		long     = "too long"
		invalid  = "invalid characters"
		distinct = "different characters"
		personal = "your name, email address or company name"
		common   = "most commonly used"
		padded   = "common word or password with digits or symbols"
	)
	for _, tc := range []struct {
		name   string
		pw     string
		inputs []string
		want   string
	}{
		{"passphrase", "correct horse battery staple", nil, ""},
		{"random", "mX9#qL2$vR7!", nil, ""},
		{"words with separators", "purple-elephant-42-river", nil, ""},
		{"common word inside a phrase", "sunshine-river-42", nil, ""},
		{"leet but not a listed word", "7r0ub4d0r!!!", nil, ""},
		{"twelve Chinese characters", "我们一起去看海边的日出吧", nil, ""},
		{"short user input ignored", "lighthouse-keeper-77", []string{"Li", "Bo"}, ""},
		{"unrelated user inputs", "lighthouse-keeper-77", []string{"zhangwei@acme.com", "Acme Ltd"}, ""},

		{"empty", "", nil, short},
		{"eleven", "Xk9!mQ2#pL7", nil, short},
		{"seven Chinese characters (21 bytes)", "我的密码很长吗", nil, short},
		{"129 runes", strings.Repeat("abcdefgh", 16) + "x", nil, long},
		{"128 runes", strings.Repeat("abcdefgh", 16), nil, ""},
		{"invalid UTF-8", "abcdefghijk\xff", nil, invalid},

		{"one character", "aaaaaaaaaaaa", nil, distinct},
		{"two characters", "abababababab", nil, distinct},
		{"four characters", "abcdabcdabcd", nil, distinct},
		{"four digits", "1212343412123434", nil, distinct},

		{"email local part", "Zhangwei-2024-XYZ!", []string{"zhangwei@acme.com"}, personal},
		{"email domain word", "my-ACME-secret-99", []string{"zhangwei@acme.com"}, personal},
		{"company word", "ilovetechnology!", []string{"Acme Technology Co"}, personal},
		{"leet company", "@cm3-rocks-hard", []string{"ACME"}, personal},
		{"user name, case-insensitive", "xxBIGBOSSxx99", []string{"BigBoss"}, personal},
		{"Chinese company name", "华为云账号的管理密码很长", []string{"华为云"}, ""}, // 3 runes: ignored
		{"Chinese company name 4 runes", "深圳腾讯科技公司的账号啊", []string{"腾讯科技"}, personal},

		{"password1234", "password1234", nil, common},
		{"capitalised", "Password1234", nil, common},
		{"keyboard column walk", "1qaz2wsx3edc", nil, common},
		{"pinyin and 5201314", "woaini5201314", nil, common},
		{"qq prefix", "qq1234567890", nil, common},
		{"surname and given name", "zhangwei1314", nil, common},
		{"year suffix", "iloveyou2025", nil, common},
		{"at-year suffix", "Password@2027", nil, common},

		{"leet and year", "P@ssw0rd2024!", nil, padded},
		{"symbols both ends", "!!Dragon2026!!", nil, padded},
		{"leading leet letter", "@dmin12345678", nil, padded},
		{"digits first", "2024letmein!!", nil, padded},
		{"1 as i", "l3tm31n#2025", nil, padded},
		{"1 as l", "1ove1y~~~~2025", nil, padded},
		{"number favourite and symbols", "123456!@#$%^", nil, padded},
		{"keyboard walk and digits", "qwertyuiop12", nil, padded},
		{"common entry and digits", "li123456789012", nil, padded},
		{"repeated letters and digits", "aaaaaa123456", nil, padded},
		{"shifted digits walk", "!@#$%^&*()_+", nil, padded},
		{"spaces around", "   monkey   42", nil, padded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.pw, tc.inputs...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want nil", tc.pw, err)
				}
				return
			}
			var e *admeter.Error
			if !errors.As(err, &e) || e.Code != admeter.EINVALID {
				t.Fatalf("CheckPassword(%q) = %v, want an EINVALID *admeter.Error", tc.pw, err)
			}
			if !strings.Contains(e.Message, tc.want) {
				t.Fatalf("CheckPassword(%q) message %q, want one saying %q", tc.pw, e.Message, tc.want)
			}
		})
	}
}

func TestCommonList(t *testing.T) {
	l := loadCommon()
	if n := len(l.set); n < 5000 || n > 100000 {
		t.Errorf("common list has %d entries, want a few thousand to tens of thousands", n)
	}
	for _, want := range []string{
		"password", "123456", "12345678", "qwerty", "1qaz2wsx", "zaq12wsx", "abc123", "admin@123",
		"p@ssw0rd", "passw0rd", "iloveyou", "letmein", "dragon", "monkey", "welcome1",
		"woaini", "woaini1314", "5201314", "aini1314", "1314520", "qq123456", "a123456",
		"zhang123", "wang123", "li123", "zhangwei", "wangfang888", "password2027", "admin2024",
		"111111", "aaaaaa", "abcabc", "!@#$%^&*()", "qwertyuiop", "asdfghjkl", "1q2w3e4r",
	} {
		if _, ok := l.set[want]; !ok {
			t.Errorf("common list lacks %q", want)
		}
	}
	for s := range l.set {
		if s != strings.ToLower(s) || len(s) < 4 || len(s) > l.maxLen {
			t.Fatalf("bad entry %q (lowercase, 4..%d bytes)", s, l.maxLen)
		}
	}
}

func TestUnleet(t *testing.T) {
	for _, tc := range []struct{ in, i, l string }{
		{"p@$$w0rd", "password", "password"},
		{"l3tm31n", "letmein", "letmeln"},
		{"1ov31y", "ioveiy", "lovely"},
		{"4d7m5", "adtms", "adtms"},
		{"abc", "abc", "abc"},
	} {
		if got := unleet(tc.in, 'l'); got != tc.l {
			t.Errorf("unleet(%q, l) = %q, want %q", tc.in, got, tc.l)
		}
		if got := unleet(tc.in, 'i'); got != tc.i {
			t.Errorf("unleet(%q, i) = %q, want %q", tc.in, got, tc.i)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"correct horse battery staple", "P@ssw0rd2024!", "我们一起去看海边的日出吧", "\xff\xfe", "123456!@#$%^", strings.Repeat("1", 200)} {
		f.Add(s, "zhangwei@acme.com")
	}
	f.Fuzz(func(t *testing.T, pw, input string) {
		err := CheckPassword(pw, input)
		if err == nil {
			if n := utf8.RuneCountInString(pw); n < MinPasswordLen || n > MaxPasswordLen || !utf8.ValidString(pw) {
				t.Fatalf("CheckPassword(%q) accepted %d runes", pw, n)
			}
			return
		}
		if admeter.ErrorCode(err) != admeter.EINVALID || admeter.ErrorMessage(err) == "" {
			t.Fatalf("CheckPassword(%q) = %v, want EINVALID with a message", pw, err)
		}
	})
}
