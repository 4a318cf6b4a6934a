package pseudo

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// caseFolded lists the types whose raw values are case-insensitive.
var caseFolded = map[admeter.IDType]bool{
	admeter.IDIDFA: true, admeter.IDIDFV: true, admeter.IDAAID: true, admeter.IDIMEI: true,
	admeter.IDAndroidID: true, admeter.IDOpenUDID: true, admeter.IDMAC: true, admeter.IDMACColon: true, admeter.IDCAID: true,
}

// FuzzCanonicalize checks that Canonicalize never panics, is deterministic,
// returns a zero Canonical exactly when it rejects, and that an accepted raw
// value and its MD5 form agree.
func FuzzCanonicalize(f *testing.F) {
	seeds := []struct {
		typ  admeter.IDType
		form Form
		v    string
	}{
		{admeter.IDIMEI, FormRaw, "868049039501257"},
		{admeter.IDIMEI, FormMD5, "8D3EBD3654FB46A2832296669CF1B536"},
		{admeter.IDIDFA, FormRaw, "e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e"},
		{admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"},
		{admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee:ff"},
		{admeter.IDMACColon, FormRaw, "AA-BB-CC-DD-EE-FF"},
		{admeter.IDAndroidID, FormRaw, "a1b2c3d4e5f60718"},
		{admeter.IDOpenUDID, FormRaw, "ee3f5c1bd2a74e6b8f09a1c2d3e4f5a6b7c8d9e0"},
		{admeter.IDCAID, FormRaw, "0123456789abcdef0123456789abcdef"},
		{admeter.IDIDFA, FormRaw, "00000000-0000-0000-0000-000000000000"},
		{admeter.IDOAID, FormRaw, "__OAID__"},
		{admeter.IDOAID, FormMD5, "{{x}}"},
		{admeter.IDIMEI, FormRaw, " null "},
		{admeter.IDMAC, FormRaw, "02:00:00:00:00:00"},
		{admeter.IDNone, 0, "\xff\x00"},
	}
	for _, s := range seeds {
		f.Add(uint8(s.typ), uint8(s.form), s.v)
	}
	f.Fuzz(func(t *testing.T, typ, form uint8, v string) {
		it, fm := admeter.IDType(typ), Form(form)
		c, r := Canonicalize(it, fm, v)
		if c2, r2 := Canonicalize(it, fm, v); c2 != c || r2 != r {
			t.Fatalf("Canonicalize(%v, %v, %q) is not deterministic", it, fm, v)
		}
		if r > ReasonMalformed {
			t.Fatalf("Canonicalize(%v, %v, %q): unknown reason %d", it, fm, v, r)
		}
		if (r == ReasonOK) == c.IsZero() {
			t.Fatalf("Canonicalize(%v, %v, %q) = reason %v with zero=%v", it, fm, v, r, c.IsZero())
		}
		if r != ReasonOK {
			return
		}
		// The MD5 form of an accepted value, in either case, gives it back.
		h := hex.EncodeToString(c[:])
		for _, hv := range []string{h, strings.ToUpper(h)} {
			if c2, r2 := Canonicalize(it, FormMD5, hv); r2 != ReasonOK || c2 != c {
				t.Fatalf("Canonicalize(%v, %v, %q) = %s, but its MD5 form gives %v", it, fm, v, h, r2)
			}
		}
		// A case-insensitive raw value gives the same result in either case.
		if fm == FormRaw && caseFolded[it] {
			for _, cv := range []string{strings.ToUpper(v), strings.ToLower(v)} {
				if c2, r2 := Canonicalize(it, fm, cv); r2 != ReasonOK || c2 != c {
					t.Fatalf("Canonicalize(%v, raw, %q) = %v, but %q was accepted", it, cv, r2, v)
				}
			}
		}
	})
}
