package pseudo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/admeter/admeter"
)

// testSecret is a fixed 32-byte secret: 0x00, 0x01, ... 0x1f.
func testSecret() []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = byte(i)
	}
	return s
}

// mustNew returns a Pseudonymizer for a version and secret, failing the test
// on error.
func mustNew(tb testing.TB, version uint32, secret []byte) *Pseudonymizer {
	tb.Helper()
	p, err := New(Key{Version: version, Secret: secret})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// mustCanon returns the Canonical of a value that must be valid.
func mustCanon(tb testing.TB, typ admeter.IDType, f Form, v string) Canonical {
	tb.Helper()
	c, r := Canonicalize(typ, f, v)
	if r != ReasonOK {
		tb.Fatalf("Canonicalize(%v, %v, %q): reason %v", typ, f, v, r)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		key     Key
		wantErr string
	}{
		{"OK", Key{Version: 1, Secret: testSecret()}, ""},
		{"Long", Key{Version: 7, Secret: bytes.Repeat([]byte("ab"), 100)}, ""},
		{"VersionZero", Key{Version: 0, Secret: testSecret()}, "key version is 0"},
		{"Nil", Key{Version: 1}, "secret is 0 bytes"},
		{"Short", Key{Version: 1, Secret: testSecret()[:31]}, "secret is 31 bytes"},
		{"OneByte", Key{Version: 1, Secret: make([]byte, 64)}, "repeats one byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.key)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if p.Version() != tt.key.Version {
					t.Fatalf("Version() = %d, want %d", p.Version(), tt.key.Version)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "new pseudonymizer: ") {
				t.Fatalf("New: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestPseudonymKnownAnswer pins the HMAC input layout: changing it would
// change every stored pseudonym. The expected values were computed with
// Python's hmac module.
func TestPseudonymKnownAnswer(t *testing.T) {
	p := mustNew(t, 1, testSecret())
	c := mustCanon(t, admeter.IDIMEI, FormRaw, "868049039501257")
	if got, want := p.Pseudonym(admeter.IDIMEI, c).Hex(), "564af76f3a7c2a2eb9649d31c2adb7aa"; got != want {
		t.Errorf("Pseudonym(imei, ...) = %s, want %s", got, want)
	}
	if got, want := p.Token("admeter/impression/v1", []byte("vf-123")).Hex(), "f44e158df4f103dd61662b9e99729392"; got != want {
		t.Errorf("Token(impression, vf-123) = %s, want %s", got, want)
	}
}

// TestPseudonymMatchesHMAC compares against crypto/hmac used directly, for
// every type and for tokens longer than the pooled buffer.
func TestPseudonymMatchesHMAC(t *testing.T) {
	secret := testSecret()
	p := mustNew(t, 1, secret)
	ref := func(in []byte) admeter.Pseudonym {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		var ps admeter.Pseudonym
		copy(ps[:], m.Sum(nil))
		return ps
	}
	c := mustCanon(t, admeter.IDOAID, FormRaw, "a1b2c3d4e5f60718")
	for typ := admeter.IDNone; typ <= admeter.IDCookie; typ++ {
		in := append(append([]byte("admeter/id/v1\x00"), byte(typ)), c[:]...)
		if got, want := p.Pseudonym(typ, c), ref(in); got != want {
			t.Errorf("Pseudonym(%v) = %s, want %s", typ, got.Hex(), want.Hex())
		}
	}
	for _, n := range []int{0, 1, scratchLen - 1, scratchLen, scratchLen + 1, 3*scratchLen + 7} {
		label := strings.Repeat("L", n%300)
		value := bytes.Repeat([]byte{0xa5}, n)
		in := append([]byte("admeter/token/v1\x00"), byte(len(label)))
		if len(label) >= 0x80 {
			in = append([]byte("admeter/token/v1\x00"), byte(len(label))|0x80, byte(len(label)>>7))
		}
		in = append(append(in, label...), value...)
		if got, want := p.Token(label, value), ref(in); got != want {
			t.Errorf("Token(%d-byte label, %d-byte value) = %s, want %s", len(label), n, got.Hex(), want.Hex())
		}
	}
}

// TestPseudonymSameDevice checks that every form of one device's identifier
// gives one pseudonym.
func TestPseudonymSameDevice(t *testing.T) {
	p := mustNew(t, 1, testSecret())
	idfa := "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E"
	want := p.Pseudonym(admeter.IDIDFA, mustCanon(t, admeter.IDIDFA, FormRaw, idfa))
	for _, in := range []struct {
		f Form
		v string
	}{{FormRaw, strings.ToLower(idfa)}, {FormMD5, md5Hex(idfa)}, {FormMD5, strings.ToUpper(md5Hex(idfa))}} {
		if got := p.Pseudonym(admeter.IDIDFA, mustCanon(t, admeter.IDIDFA, in.f, in.v)); got != want {
			t.Errorf("IDFA %v %q: pseudonym %s, want %s", in.f, in.v, got, want)
		}
	}
	oaid := "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"
	a := p.Pseudonym(admeter.IDOAID, mustCanon(t, admeter.IDOAID, FormRaw, oaid))
	b := p.Pseudonym(admeter.IDOAID, mustCanon(t, admeter.IDOAID, FormMD5, md5Hex(oaid)))
	if a != b || a.IsZero() {
		t.Errorf("OAID raw pseudonym %s, md5 pseudonym %s", a, b)
	}
}

func TestPseudonymSeparation(t *testing.T) {
	p1 := mustNew(t, 1, testSecret())
	s2 := testSecret()
	s2[31] ^= 1
	p2 := mustNew(t, 2, s2)
	c := mustCanon(t, admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69")

	seen := map[admeter.Pseudonym]string{}
	add := func(name string, ps admeter.Pseudonym) {
		t.Helper()
		if ps.IsZero() {
			t.Errorf("%s: zero pseudonym", name)
		}
		if prev, ok := seen[ps]; ok {
			t.Errorf("%s and %s give the same pseudonym", prev, name)
		}
		seen[ps] = name
	}
	add("key1/oaid", p1.Pseudonym(admeter.IDOAID, c))
	add("key2/oaid", p2.Pseudonym(admeter.IDOAID, c))
	// The same canonical bytes under other types: e.g. a Huawei OAID that is
	// also used as an AAID-shaped value.
	for typ := admeter.IDIDFA; typ <= admeter.IDCookie; typ++ {
		add("key1/"+typ.String(), p1.Pseudonym(typ, c))
	}
	// Tokens never equal a device pseudonym, even over the same bytes, and
	// labels cannot be shifted into values.
	add("token/empty", p1.Token("", c[:]))
	add("token/idlabel", p1.Token("admeter/id/v1", append([]byte{byte(admeter.IDOAID)}, c[:]...)))
	add("token/ab+c", p1.Token("ab", []byte("c")))
	add("token/a+bc", p1.Token("a", []byte("bc")))
	add("token/abc+", p1.Token("abc", nil))
	add("token/cookie", p1.Token("admeter/cookie/v1", []byte("x")))
	add("token/impression", p1.Token("admeter/impression/v1", []byte("x")))
}

func TestSecretCopied(t *testing.T) {
	secret := testSecret()
	p := mustNew(t, 1, secret)
	c := mustCanon(t, admeter.IDIMEI, FormRaw, "868049039501257")
	before := p.Pseudonym(admeter.IDIMEI, c)
	for i := range secret {
		secret[i] = 0
	}
	if after := p.Pseudonym(admeter.IDIMEI, c); after != before {
		t.Error("wiping the caller's secret changed the pseudonym")
	}
}

func TestKeyRedacted(t *testing.T) {
	secret := []byte("this-secret-must-never-be-printed-anywhere")
	k := Key{Version: 3, Secret: secret}
	p := mustNew(t, 3, secret)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		for _, v := range []any{k, &k, p, []Key{k}} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "secret-must") || strings.Contains(s, hex.EncodeToString(secret[:4])) ||
				strings.Contains(s, "116 104 105") { // "thi" in decimal
				t.Errorf("Sprintf(%s, %T) leaks the secret: %s", verb, v, s)
			}
		}
	}
	if got := p.String(); got != "pseudo.Pseudonymizer{Version: 3}" {
		t.Errorf("p.String() = %q", got)
	}
}

func TestPseudonymizerConcurrent(t *testing.T) {
	p := mustNew(t, 1, testSecret())
	const n = 64
	want := make([]admeter.Pseudonym, n)
	canon := make([]Canonical, n)
	for i := range n {
		canon[i] = mustCanon(t, admeter.IDIMEI, FormRaw, fmt.Sprintf("8680490395%05d", i))
		want[i] = p.Pseudonym(admeter.IDIMEI, canon[i])
	}
	wantTok := p.Token("admeter/impression/v1", []byte("vf"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 200 {
				i := (g*31 + r) % n
				if got := p.Pseudonym(admeter.IDIMEI, canon[i]); got != want[i] {
					t.Errorf("concurrent Pseudonym(%d) = %s, want %s", i, got, want[i])
					return
				}
				if got := p.Token("admeter/impression/v1", []byte("vf")); got != wantTok {
					t.Errorf("concurrent Token = %s, want %s", got, wantTok)
					return
				}
				var ids IDSet
				ids.Add(admeter.IDIMEI, FormRaw, fmt.Sprintf("8680490395%05d", i))
				if got, typ := p.UserKey(&ids); got != want[i] || typ != admeter.IDIMEI {
					t.Errorf("concurrent UserKey = %s %v, want %s imei", got, typ, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestPseudonymizerAllocs(t *testing.T) {
	p := mustNew(t, 1, testSecret())
	c := mustCanon(t, admeter.IDIMEI, FormRaw, "868049039501257")
	var ids IDSet
	ids.Add(admeter.IDIMEI, FormRaw, "868049039501257")
	vf := "1617055429226q172a25a163a167q5761"
	p.Pseudonym(admeter.IDIMEI, c) // fill the pool
	for name, fn := range map[string]func(){
		"Pseudonym": func() { p.Pseudonym(admeter.IDIMEI, c) },
		"Token":     func() { p.Token("admeter/impression/v1", []byte(vf)) },
		"UserKey":   func() { p.UserKey(&ids) },
	} {
		// The race detector makes sync.Pool drop items at random.
		if n := testing.AllocsPerRun(100, fn); n != 0 && !raceEnabled {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}
