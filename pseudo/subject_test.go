package pseudo_test

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func TestCanonicalizeSubject(t *testing.T) {
	const idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
	want, _ := pseudo.Canonicalize(admeter.IDIDFA, pseudo.FormRaw, idfa)
	imei32 := strings.Repeat("ab", 16) // 32 hex digits: an MD5, but not a valid raw IMEI (17 max)
	tests := []struct {
		name  string
		t     admeter.IDType
		form  pseudo.Form
		value string
		n     int    // Canonicals expected
		same  bool   // the first equals want
		err   string // substring of the error
	}{
		{"raw idfa", admeter.IDIDFA, 0, idfa, 1, true, ""},
		{"lower idfa", admeter.IDIDFA, 0, strings.ToLower(idfa), 1, true, ""},
		{"md5 idfa detected", admeter.IDIDFA, 0, md5hex(idfa), 1, true, ""},
		{"md5 idfa upper", admeter.IDIDFA, pseudo.FormMD5, strings.ToUpper(md5hex(idfa)), 1, true, ""},
		{"oaid 32 hex is both", admeter.IDOAID, 0, imei32, 2, false, ""},
		{"oaid 32 hex forced raw", admeter.IDOAID, pseudo.FormRaw, imei32, 1, false, ""},
		{"imei 32 hex is md5 only", admeter.IDIMEI, 0, imei32, 1, false, ""},
		{"malformed idfa", admeter.IDIDFA, 0, "not-an-idfa", 0, false, "UUID"},
		{"zero idfa", admeter.IDIDFA, 0, "00000000-0000-0000-0000-000000000000", 0, false, "placeholder"},
		{"macro", admeter.IDIMEI, 0, "__IMEI__", 0, false, "placeholder"},
		{"md5 of a macro, also a valid raw oaid", admeter.IDOAID, 0, md5hex("__OAID__"), 0, false, "placeholder"},
		{"empty", admeter.IDIMEI, 0, "  ", 0, false, "required"},
		{"cookie", admeter.IDCookie, 0, "x", 0, false, "cannot be named"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pseudo.CanonicalizeSubject(tc.t, tc.form, tc.value)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				if strings.TrimSpace(tc.value) != "" && len(tc.value) > 3 && strings.Contains(err.Error(), tc.value) {
					t.Fatalf("error %q repeats the identifier", err)
				}
				if admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("code = %s, want invalid", admeter.ErrorCode(err))
				}
				return
			}
			if err != nil || len(got) != tc.n {
				t.Fatalf("got %d canonicals, err %v; want %d", len(got), err, tc.n)
			}
			if tc.same && got[0] != want {
				t.Fatal("canonical differs from the collector's for the same device")
			}
		})
	}
}

func TestParseSubjectType(t *testing.T) {
	for _, name := range []string{"idfa", "IDFA", " oaid ", "android_id", "imei", "caid"} {
		if _, err := pseudo.ParseSubjectType(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "cookie", "none", "phone"} {
		_, err := pseudo.ParseSubjectType(name)
		if err == nil || !strings.Contains(err.Error(), "idfa") {
			t.Errorf("%q: err = %v, want one listing the accepted types", name, err)
		}
	}
	for _, name := range []string{"", "raw", "MD5"} {
		if _, err := pseudo.ParseForm(name); err != nil {
			t.Errorf("form %q: %v", name, err)
		}
	}
	if _, err := pseudo.ParseForm("sha1"); err == nil {
		t.Error("form sha1 accepted")
	}
}
