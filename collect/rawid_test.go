package collect

import (
	"strings"
	"testing"
)

func TestLooksRaw(t *testing.T) {
	tests := []struct {
		v     string
		class fieldClass
		want  rawKind
	}{
		{"13800138000", fieldLoose, rawPhone},
		{"19912345678", fieldStrict, rawPhone},
		{"138 0013 8000", fieldLoose, rawPhone},
		{"138-0013-8000", fieldLoose, rawPhone},
		{"+86 138 0013 8000", fieldLoose, rawPhone},
		{"+86-13800138000", fieldLoose, rawPhone},
		{"008613800138000", fieldLoose, rawPhone},
		{"0086 138 0013 8000", fieldStrict, rawPhone},
		{"8613800138000", fieldLoose, rawPhone},
		{"tel:+86(138)00138000", fieldLoose, rawPhone},
		{"+1 (415) 555-0100", fieldLoose, rawPhone},
		{"+4420794600", fieldLoose, rawPhone},
		{" 13800138000\n", fieldLoose, rawPhone},
		{"12800138000", fieldLoose, rawNone}, // 12x is no mobile prefix
		{"1380013800", fieldLoose, rawNone},  // 10 digits
		{"138001380001", fieldLoose, rawNone},
		{"+123456", fieldLoose, rawNone},           // too short for E.164
		{"+1234567890123456", fieldLoose, rawNone}, // too long for E.164
		{"868049039501257", fieldLoose, rawIMEI},   // valid Luhn
		{"868049039501258", fieldLoose, rawNone},   // bad Luhn: in a loose field, an order id
		{"868049039501258", fieldStrict, rawIMEI},
		{"86804903950125", fieldStrict, rawIMEI}, // 14 digits
		{"86804903950125", fieldLoose, rawNone},
		{"8680490395012501", fieldStrict, rawIMEI}, // IMEISV
		{"8680490395012501", fieldLoose, rawNone},  // could be a Xiaomi OAID
		{"86 804903 950125 7", fieldLoose, rawIMEI},
		{"86804903950125701", fieldStrict, rawNone}, // 17 digits
		{"8d3ebd3654fb46a2832296669cf1b536", fieldStrict, rawNone},
		{"e2dfa89f-9a4b-4d2c-8c5e-3f0a1b2c3d4e", fieldStrict, rawNone},
		{"a1b2c3d4e5f60718", fieldLoose, rawNone},
		{"", fieldStrict, rawNone},
		{"+", fieldLoose, rawNone},
		{"tel:", fieldLoose, rawNone},
		{"CONSENT-2025-11", fieldLoose, rawNone},
		{strings.Repeat("1", 41), fieldStrict, rawNone},
	}
	for _, tt := range tests {
		if got := looksRaw(tt.v, tt.class); got != tt.want {
			t.Errorf("looksRaw(%q, %d) = %v, want %v", tt.v, tt.class, got, tt.want)
		}
	}
}

func TestLooksRawAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { looksRaw("+86 138 0013 8000", fieldStrict) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzLooksRaw checks the detector's invariants: it never panics; a strict
// field refuses whatever a loose one does; separators and surrounding space
// change nothing; a value with a letter (other than a "tel:" prefix) is
// never a phone number or an IMEI.
func FuzzLooksRaw(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000", "868049039501257", "8680490395012501", "0086-150-0000-1111", "tel:+1 415 555 0100", "abc", "+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		loose, strict := looksRaw(v, fieldLoose), looksRaw(v, fieldStrict)
		if loose != rawNone && strict != loose {
			t.Fatalf("%q: loose %v, strict %v", v, loose, strict)
		}
		spaced := " " + strings.ReplaceAll(v, "5", "5-") + "\t"
		if len(strings.TrimSpace(spaced)) <= maxRawCheck {
			if got := looksRaw(spaced, fieldStrict); got != strict {
				t.Fatalf("%q is %v but %q is %v", v, strict, spaced, got)
			}
		}
		rest := strings.TrimSpace(v)
		if len(rest) >= 4 && strings.EqualFold(rest[:4], "tel:") {
			rest = rest[4:]
		}
		if strings.ContainsFunc(rest, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) && strict != rawNone {
			t.Fatalf("%q has a letter but is %v", v, strict)
		}
	})
}
