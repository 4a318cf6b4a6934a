package pseudo

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

// md5Hex is the MMA MD5 of s: lowercase hex.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// deviceTypes are the identifier types Canonicalize accepts.
var deviceTypes = []admeter.IDType{
	admeter.IDOAID, admeter.IDIDFA, admeter.IDIMEI, admeter.IDAndroidID, admeter.IDAAID,
	admeter.IDMAC, admeter.IDMACColon, admeter.IDOpenUDID, admeter.IDIDFV, admeter.IDCAID,
}

func TestCanonicalizeAccepts(t *testing.T) {
	// want is the lowercase hex of the expected Canonical. Vectors computed
	// with md5sum, except the first, which is Tencent's documented example.
	tests := []struct {
		name string
		typ  admeter.IDType
		form Form
		in   string
		want string
	}{
		{"IMEITencentDoc", admeter.IDIMEI, FormRaw, "868049039501257", "8d3ebd3654fb46a2832296669cf1b536"},
		{"IMEIMD5", admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b536", "8d3ebd3654fb46a2832296669cf1b536"},
		{"IMEIMD5Upper", admeter.IDIMEI, FormMD5, "8D3EBD3654FB46A2832296669CF1B536", "8d3ebd3654fb46a2832296669cf1b536"},
		{"IMEIWhitespace", admeter.IDIMEI, FormRaw, " 868049039501257\n", "8d3ebd3654fb46a2832296669cf1b536"},
		{"MEIDLowercased", admeter.IDIMEI, FormRaw, "A0000012345678", "6adfdd923af188a1f5c50e67c35b4760"},
		{"IMEI14Digits", admeter.IDIMEI, FormRaw, "86804903950125", md5Hex("86804903950125")},
		{"IMEISV16Digits", admeter.IDIMEI, FormRaw, "8680490395012501", md5Hex("8680490395012501")},
		{"IMEIBadLuhnAccepted", admeter.IDIMEI, FormRaw, "868049039501258", md5Hex("868049039501258")},
		{"IDFAUpper", admeter.IDIDFA, FormRaw, "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E", "5fcbcd704cf83f0158daafbc4733543b"},
		{"IDFALowerUppercased", admeter.IDIDFA, FormRaw, "e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e", "5fcbcd704cf83f0158daafbc4733543b"},
		{"IDFAMD5", admeter.IDIDFA, FormMD5, "5fcbcd704cf83f0158daafbc4733543b", "5fcbcd704cf83f0158daafbc4733543b"},
		{"IDFVLowerUppercased", admeter.IDIDFV, FormRaw, "e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e", "5fcbcd704cf83f0158daafbc4733543b"},
		{"AAIDLower", admeter.IDAAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69", "73c79371056bd686d8e9045e13c883d1"},
		{"AAIDUpperLowercased", admeter.IDAAID, FormRaw, "3C1A6F0E-6B1F-4B8A-9B0E-1F2D3C4B5A69", "73c79371056bd686d8e9045e13c883d1"},
		{"OAIDHuaweiUUID", admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69", "73c79371056bd686d8e9045e13c883d1"},
		{"OAIDXiaomi16Hex", admeter.IDOAID, FormRaw, "a1b2c3d4e5f60718", "6d7e9146fdc6416658b5e148489e7172"},
		{"OAIDCaseKept", admeter.IDOAID, FormRaw, "A1B2C3D4E5F60718", md5Hex("A1B2C3D4E5F60718")},
		{"OAID64Hex", admeter.IDOAID, FormRaw, strings.Repeat("0123456789abcdef", 4), md5Hex(strings.Repeat("0123456789abcdef", 4))},
		{"OAIDMD5", admeter.IDOAID, FormMD5, "6d7e9146fdc6416658b5e148489e7172", "6d7e9146fdc6416658b5e148489e7172"},
		{"AndroidID", admeter.IDAndroidID, FormRaw, "a1b2c3d4e5f60718", "6d7e9146fdc6416658b5e148489e7172"},
		{"AndroidIDUpperLowercased", admeter.IDAndroidID, FormRaw, "A1B2C3D4E5F60718", "6d7e9146fdc6416658b5e148489e7172"},
		{"AndroidIDLeadingZerosDropped", admeter.IDAndroidID, FormRaw, "1b2c3d4e5f607", md5Hex("1b2c3d4e5f607")},
		{"MACColonsM6A", admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee:ff", "7d6d7ec9459bdd10988abaf6bfa5232f"},
		{"MACBareM6A", admeter.IDMAC, FormRaw, "AABBCCDDEEFF", "7d6d7ec9459bdd10988abaf6bfa5232f"},
		{"MACHyphensM6A", admeter.IDMAC, FormRaw, "aa-bb-cc-dd-ee-ff", "7d6d7ec9459bdd10988abaf6bfa5232f"},
		{"MACColonsM6", admeter.IDMACColon, FormRaw, "aa:bb:cc:dd:ee:ff", "6393cfc4ab6d416690b21278957aeab2"},
		{"MACBareM6", admeter.IDMACColon, FormRaw, "aabbccddeeff", "6393cfc4ab6d416690b21278957aeab2"},
		{"MACMD5", admeter.IDMAC, FormMD5, "7D6D7EC9459BDD10988ABAF6BFA5232F", "7d6d7ec9459bdd10988abaf6bfa5232f"},
		{"OpenUDID", admeter.IDOpenUDID, FormRaw, "EE3F5C1BD2A74E6B8F09A1C2D3E4F5A6B7C8D9E0", "ee14c1527614be391a031b87bd602126"},
		{"CAIDRaw", admeter.IDCAID, FormRaw, "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcdef"},
		{"CAIDMD5", admeter.IDCAID, FormMD5, "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := Canonicalize(tt.typ, tt.form, tt.in)
			if r != ReasonOK {
				t.Fatalf("Canonicalize(%v, %v, %q): reason %v, want ok", tt.typ, tt.form, tt.in, r)
			}
			if got := hex.EncodeToString(c[:]); got != tt.want {
				t.Fatalf("Canonicalize(%v, %v, %q) = %s, want %s", tt.typ, tt.form, tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		typ  admeter.IDType
		form Form
		in   string
		want Reason
	}{
		{"Empty", admeter.IDIMEI, FormRaw, "", ReasonEmpty},
		{"Blank", admeter.IDIMEI, FormMD5, " \t ", ReasonEmpty},
		{"null", admeter.IDOAID, FormRaw, "null", ReasonEmpty},
		{"NULL", admeter.IDIDFA, FormRaw, "NULL", ReasonEmpty},
		{"nil", admeter.IDIMEI, FormMD5, "nil", ReasonEmpty},
		{"unknown", admeter.IDAndroidID, FormRaw, "Unknown", ReasonEmpty},
		{"undefined", admeter.IDOAID, FormRaw, "undefined", ReasonEmpty},
		{"ObjCNull", admeter.IDIDFA, FormRaw, "(null)", ReasonEmpty},

		{"MacroIMEI", admeter.IDIMEI, FormMD5, "__IMEI__", ReasonPlaceholder},
		{"MacroOAID", admeter.IDOAID, FormRaw, "__OAID__", ReasonPlaceholder},
		{"MacroBraces", admeter.IDAndroidID, FormMD5, "{{ANDROID_ID_MD5}}", ReasonPlaceholder},
		{"MacroBracket", admeter.IDMAC, FormRaw, "[M_MAC]", ReasonPlaceholder},
		{"MacroPercent", admeter.IDIDFA, FormRaw, "%IDFA%", ReasonPlaceholder},
		{"MacroDollar", admeter.IDIDFA, FormRaw, "${IDFA}", ReasonPlaceholder},
		{"OAIDLiteral", admeter.IDOAID, FormRaw, "OAID", ReasonPlaceholder},

		{"ZeroIDFA", admeter.IDIDFA, FormRaw, "00000000-0000-0000-0000-000000000000", ReasonPlaceholder},
		{"ZeroIDFV", admeter.IDIDFV, FormRaw, "00000000-0000-0000-0000-000000000000", ReasonPlaceholder},
		{"ZeroAAID", admeter.IDAAID, FormRaw, "00000000-0000-0000-0000-000000000000", ReasonPlaceholder},
		{"ZeroIMEI15", admeter.IDIMEI, FormRaw, "000000000000000", ReasonPlaceholder},
		{"ZeroIMEIShort", admeter.IDIMEI, FormRaw, "0000", ReasonPlaceholder},
		{"ZeroOAID62", admeter.IDOAID, FormRaw, strings.Repeat("0", 62), ReasonPlaceholder},
		{"ZeroOAIDOdd", admeter.IDOAID, FormRaw, strings.Repeat("0", 23), ReasonPlaceholder},
		{"ZeroOAIDUUID", admeter.IDOAID, FormRaw, "00000000-0000-0000-0000-000000000000", ReasonPlaceholder},
		{"ZeroAndroidID", admeter.IDAndroidID, FormRaw, "0000000000000000", ReasonPlaceholder},
		{"BuggyAndroidID", admeter.IDAndroidID, FormRaw, "9774d56d682e549c", ReasonPlaceholder},
		{"BuggyAndroidIDMD5", admeter.IDAndroidID, FormMD5, "cf95dc53f383f9a836fd749f3ef439cd", ReasonPlaceholder},
		{"MAC0200Colons", admeter.IDMAC, FormRaw, "02:00:00:00:00:00", ReasonPlaceholder},
		{"MAC0200Bare", admeter.IDMAC, FormRaw, "020000000000", ReasonPlaceholder},
		{"MAC0200ColonForm", admeter.IDMACColon, FormRaw, "02:00:00:00:00:00", ReasonPlaceholder},
		{"MAC0200ColonFormBare", admeter.IDMACColon, FormRaw, "020000000000", ReasonPlaceholder},
		{"MACZero", admeter.IDMAC, FormRaw, "00:00:00:00:00:00", ReasonPlaceholder},
		{"MACZeroBare", admeter.IDMACColon, FormRaw, "000000000000", ReasonPlaceholder},
		{"MACBroadcast", admeter.IDMAC, FormRaw, "ff:ff:ff:ff:ff:ff", ReasonPlaceholder},
		{"CAIDZero", admeter.IDCAID, FormRaw, strings.Repeat("0", 32), ReasonPlaceholder},
		{"MD5Zero", admeter.IDIMEI, FormMD5, strings.Repeat("0", 32), ReasonPlaceholder},

		{"IMEITooShort", admeter.IDIMEI, FormRaw, "8680490395012", ReasonMalformed},
		{"IMEITooLong", admeter.IDIMEI, FormRaw, "868049039501257000", ReasonMalformed},
		{"IMEINotHex", admeter.IDIMEI, FormRaw, "86804903950125x", ReasonMalformed},
		{"IDFANoHyphens", admeter.IDIDFA, FormRaw, "E2DFA89F9A4B4D2C8C5E3F0A1B2C3D4E", ReasonMalformed},
		{"IDFAHyphensMisplaced", admeter.IDIDFA, FormRaw, "E2DFA89F9-A4B-4D2C-8C5E-3F0A1B2C3D4E", ReasonMalformed},
		{"IDFANotHex", admeter.IDIDFA, FormRaw, "G2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E", ReasonMalformed},
		{"AAIDShort", admeter.IDAAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e", ReasonMalformed},
		{"OAIDTooShort", admeter.IDOAID, FormRaw, "a1b2c3d4e5f6071", ReasonMalformed},
		{"OAIDTooLong", admeter.IDOAID, FormRaw, strings.Repeat("a", 65), ReasonMalformed},
		{"OAIDBadChar", admeter.IDOAID, FormRaw, "a1b2c3d4e5f60718_", ReasonMalformed},
		{"AndroidIDShort", admeter.IDAndroidID, FormRaw, "1b2c3d4e5f60", ReasonMalformed},
		{"AndroidIDLong", admeter.IDAndroidID, FormRaw, "a1b2c3d4e5f607189", ReasonMalformed},
		{"MACShort", admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee", ReasonMalformed},
		{"MACMixedSeparators", admeter.IDMAC, FormRaw, "aa:bb-cc:dd:ee:ff", ReasonMalformed},
		{"MACDotted", admeter.IDMAC, FormRaw, "aabb.ccdd.eeff", ReasonMalformed},
		{"MACNotHex", admeter.IDMACColon, FormRaw, "aa:bb:cc:dd:ee:fg", ReasonMalformed},
		{"OpenUDIDShort", admeter.IDOpenUDID, FormRaw, "ee3f5c1bd2a74e6b8f09a1c2d3e4f5a6b7c8d9e", ReasonMalformed},
		{"CAIDNotHex", admeter.IDCAID, FormRaw, "0123456789abcdef0123456789abcdeg", ReasonMalformed},
		{"MD5Short", admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b53", ReasonMalformed},
		{"MD5NotHex", admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b53z", ReasonMalformed},
		{"MD5OfRawGiven", admeter.IDIMEI, FormMD5, "868049039501257", ReasonMalformed},
		{"TooLongRaw", admeter.IDIMEI, FormRaw, strings.Repeat("1", 1000), ReasonMalformed},
		{"ZeroForm", admeter.IDIMEI, 0, "868049039501257", ReasonMalformed},
		{"UnknownForm", admeter.IDIMEI, 9, "868049039501257", ReasonMalformed},
		{"TypeNone", admeter.IDNone, FormRaw, "868049039501257", ReasonMalformed},
		{"TypeOutOfRange", admeter.IDType(200), FormMD5, "8d3ebd3654fb46a2832296669cf1b536", ReasonMalformed},
		{"TypeCookie", admeter.IDCookie, FormRaw, "AbCdEfGhIjKlMnOpQrStUv", ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := Canonicalize(tt.typ, tt.form, tt.in)
			if r != tt.want {
				t.Fatalf("Canonicalize(%v, %v, %q): reason %v, want %v", tt.typ, tt.form, tt.in, r, tt.want)
			}
			if !c.IsZero() {
				t.Fatalf("Canonicalize(%v, %v, %q) rejected the value but returned a non-zero Canonical", tt.typ, tt.form, tt.in)
			}
		})
	}
}

// TestCanonicalizeSameDevice checks that each group of inputs, all forms of
// one device's identifier, gives one Canonical.
func TestCanonicalizeSameDevice(t *testing.T) {
	type input struct {
		form Form
		v    string
	}
	idfa := "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E"
	tests := []struct {
		name string
		typ  admeter.IDType
		in   []input
	}{
		{"IDFA", admeter.IDIDFA, []input{
			{FormRaw, idfa}, {FormRaw, strings.ToLower(idfa)}, {FormRaw, "e2DFA89f-9a4b-4D2C-8c5e-3F0A1B2C3D4E"},
			{FormMD5, md5Hex(idfa)}, {FormMD5, strings.ToUpper(md5Hex(idfa))},
		}},
		{"OAID", admeter.IDOAID, []input{
			{FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"}, {FormMD5, md5Hex("3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69")},
		}},
		{"IMEI", admeter.IDIMEI, []input{
			{FormRaw, "868049039501257"}, {FormMD5, md5Hex("868049039501257")}, {FormMD5, strings.ToUpper(md5Hex("868049039501257"))},
		}},
		{"MEID", admeter.IDIMEI, []input{
			{FormRaw, "A0000012345678"}, {FormRaw, "a0000012345678"}, {FormMD5, md5Hex("a0000012345678")},
		}},
		{"MACm6a", admeter.IDMAC, []input{
			{FormRaw, "aa:bb:cc:dd:ee:ff"}, {FormRaw, "AA-BB-CC-DD-EE-FF"}, {FormRaw, "aabbccddeeff"}, {FormMD5, md5Hex("AABBCCDDEEFF")},
		}},
		{"MACm6", admeter.IDMACColon, []input{
			{FormRaw, "aa:bb:cc:dd:ee:ff"}, {FormRaw, "AA-BB-CC-DD-EE-FF"}, {FormRaw, "aabbccddeeff"}, {FormMD5, md5Hex("AA:BB:CC:DD:EE:FF")},
		}},
		{"AndroidID", admeter.IDAndroidID, []input{
			{FormRaw, "a1b2c3d4e5f60718"}, {FormRaw, "A1B2C3D4E5F60718"}, {FormMD5, md5Hex("a1b2c3d4e5f60718")},
		}},
		{"CAID", admeter.IDCAID, []input{
			{FormRaw, "0123456789abcdef0123456789abcdef"}, {FormMD5, "0123456789ABCDEF0123456789ABCDEF"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, r := Canonicalize(tt.typ, tt.in[0].form, tt.in[0].v)
			if r != ReasonOK {
				t.Fatalf("Canonicalize(%v, %v, %q): reason %v", tt.typ, tt.in[0].form, tt.in[0].v, r)
			}
			for _, in := range tt.in[1:] {
				got, r := Canonicalize(tt.typ, in.form, in.v)
				if r != ReasonOK || got != want {
					t.Errorf("Canonicalize(%v, %v, %q) = %x, %v; want the value of %q", tt.typ, in.form, in.v, got[:], r, tt.in[0].v)
				}
			}
		})
	}
	// The two MAC forms are different hashes and cannot be joined.
	m6a, _ := Canonicalize(admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee:ff")
	m6, _ := Canonicalize(admeter.IDMACColon, FormRaw, "aa:bb:cc:dd:ee:ff")
	if m6a == m6 {
		t.Error("IDMAC and IDMACColon canonical forms are equal")
	}
}

// TestPlaceholderHashesFromDoc checks the sentinel hashes of
// mma-protocol.md §4.2 rule 3, computed there with md5sum, are rejected for
// every type in both cases of hex.
func TestPlaceholderHashesFromDoc(t *testing.T) {
	doc := []string{
		"d41d8cd98f00b204e9800998ecf8427e", // ""
		"37a6259cc0c1dae299a7866489dff0bd", // null
		"9f89c84a559f573636a47ff8daed0d33", // zero IDFA
		"e3f5536a141811db40efd6400f1d0a4e", // 020000000000
		"0f607264fc6318a92b9e13c65db7cd3c", // 02:00:00:00:00:00
		"5284047f4ffb4e04824a2fd1d1f0cd62", // 000000000000000
		"0ed86b8d2dfe3691c7e6c7f081c8e667", // OAID
		"d2158e2f658345d9cdbc6bdb0764d5b2", // __IMEI__
		"6e0d8da38b72b0a55a28f0764389a1e7", // __IDFA__
	}
	for _, h := range doc {
		for _, typ := range deviceTypes {
			for _, v := range []string{h, strings.ToUpper(h)} {
				if _, r := Canonicalize(typ, FormMD5, v); r != ReasonPlaceholder {
					t.Errorf("Canonicalize(%v, md5, %s): reason %v, want placeholder", typ, v, r)
				}
			}
		}
	}
}

// TestPlaceholdersRejected checks every placeholder string is rejected in
// raw form and, hashed, in MD5 form, for every type.
func TestPlaceholdersRejected(t *testing.T) {
	for _, s := range placeholderStrings() {
		for _, typ := range deviceTypes {
			if _, r := Canonicalize(typ, FormRaw, s); r == ReasonOK {
				t.Errorf("Canonicalize(%v, raw, %q) accepted a placeholder", typ, s)
			}
			if _, r := Canonicalize(typ, FormMD5, md5Hex(s)); r != ReasonPlaceholder {
				t.Errorf("Canonicalize(%v, md5, md5(%q)): reason %v, want placeholder", typ, s, r)
			}
		}
	}
	// A raw placeholder that has the right format is a placeholder, not
	// malformed.
	for _, tt := range []struct {
		typ admeter.IDType
		v   string
	}{
		{admeter.IDIMEI, "00000000000000000"},
		{admeter.IDOpenUDID, strings.Repeat("0", 40)},
		{admeter.IDOAID, strings.Repeat("0", 64)},
		{admeter.IDAndroidID, "0000000000000"},
	} {
		if _, r := Canonicalize(tt.typ, FormRaw, tt.v); r != ReasonPlaceholder {
			t.Errorf("Canonicalize(%v, raw, %q): reason %v, want placeholder", tt.typ, tt.v, r)
		}
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{
		ReasonOK: "ok", ReasonEmpty: "empty", ReasonPlaceholder: "placeholder", ReasonMalformed: "malformed", 99: "unknown",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", r, got, want)
		}
	}
	for f, want := range map[Form]string{FormRaw: "raw", FormMD5: "md5", 0: "invalid"} {
		if got := f.String(); got != want {
			t.Errorf("Form(%d).String() = %q, want %q", f, got, want)
		}
	}
}

// TestCanonicalRedacted prints a Canonical and an IDSet every way a log line
// or an error could, and checks the value never appears.
func TestCanonicalRedacted(t *testing.T) {
	c, _ := Canonicalize(admeter.IDIMEI, FormRaw, "868049039501257")
	var ids IDSet
	ids.Add(admeter.IDIMEI, FormRaw, "868049039501257")
	const want = "8d3ebd3654fb46a2832296669cf1b536"
	leaks := func(s string) bool {
		s = strings.ToLower(s)
		return strings.Contains(s, want) || strings.Contains(s, want[:8]) || strings.Contains(s, "141 62 189") // decimal bytes
	}

	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, ids), fmt.Sprintf(verb, &ids),
			fmt.Sprintf(verb, []Canonical{c}), fmt.Sprintf(verb, struct{ C Canonical }{c}))
	}
	j, err := json.Marshal(struct {
		C  Canonical
		CS []Canonical
	}{c, []Canonical{c}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("t", "c", c, "ids", ids)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("t", "c", c, "ids", ids)
	out = append(out, buf.String())

	for _, s := range out {
		if leaks(s) {
			t.Errorf("printed value leaks the canonical: %s", s)
		}
	}
	if got := fmt.Sprint(c); got != "canonical(redacted)" {
		t.Errorf("fmt.Sprint(c) = %q", got)
	}
	if got := ids.String(); got != "pseudo.IDSet{imei}" {
		t.Errorf("ids.String() = %q", got)
	}
}

func TestCanonicalizeAllocs(t *testing.T) {
	inputs := []struct {
		typ  admeter.IDType
		form Form
		v    string
	}{
		{admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"},
		{admeter.IDIMEI, FormMD5, "8D3EBD3654FB46A2832296669CF1B536"},
		{admeter.IDMACColon, FormRaw, "aabbccddeeff"},
		{admeter.IDIDFA, FormRaw, "00000000-0000-0000-0000-000000000000"},
		{admeter.IDIDFA, FormRaw, "NULL"},
	}
	for _, in := range inputs {
		if n := testing.AllocsPerRun(100, func() { Canonicalize(in.typ, in.form, in.v) }); n != 0 {
			t.Errorf("Canonicalize(%v, %v, ...) allocates %v times", in.typ, in.form, n)
		}
	}
}
