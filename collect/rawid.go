package collect

import (
	"strings"
)

// rawKind is the kind of personal identifier an uploaded value shows itself
// to be when it arrived raw where only a hashed or resettable identifier
// may (PRODUCT.md 一(一)1: customer-supplied data arrives desensitised).
type rawKind uint8

const (
	rawNone  rawKind = iota
	rawPhone         // a phone number
	rawIMEI          // an IMEI (or IMEISV): a device's permanent id
	rawField         // a field that only ever holds a raw identifier ("imei", "phone"...)
)

// String names the kind in the API's answers.
func (k rawKind) String() string {
	switch k {
	case rawPhone:
		return "phone"
	case rawIMEI:
		return "imei"
	case rawField:
		return "raw_field"
	}
	return "none"
}

// fieldClass says how strictly a field's values are checked for raw
// identifiers. In a strict field no legitimate value is a run of 14 to 16
// decimal digits (an MD5 is 32 hex digits, an IDFA or AAID a UUID, a CAID 32
// hex digits), so any such value is taken for an IMEI. In a loose field (an
// OAID, which may be 16 hex digits that happen to be all decimal; a click
// id; a consent reference; a field admeter does not know), only the exact
// shape of an IMEI is: 15 digits with a valid Luhn check digit.
type fieldClass uint8

const (
	fieldLoose fieldClass = iota
	fieldStrict
)

// maxRawCheck bounds the values looksRaw inspects: a phone number or an
// IMEI written with separators is shorter.
const maxRawCheck = 40

// looksRaw returns what v looks like if it is a raw phone number or IMEI,
// else rawNone. Phone numbers are Chinese mobile numbers (1[3-9] and nine
// digits, optionally after +86, 0086 or 86) and E.164 numbers (+ and 7 to
// 15 digits), written with or without spaces, dashes, dots or
// parentheses, and optionally after "tel:". It never allocates.
func looksRaw(v string, class fieldClass) rawKind {
	v = strings.TrimSpace(v)
	if len(v) > maxRawCheck {
		return rawNone
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
		v = strings.TrimSpace(v[4:])
	}
	plus := false
	if strings.HasPrefix(v, "+") {
		plus, v = true, v[1:]
	}
	var buf [maxRawCheck]byte
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			buf[n] = c
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t':
			// a separator
		default:
			return rawNone
		}
	}
	d := buf[:n]
	switch {
	case plus:
		if n >= 7 && n <= 15 {
			return rawPhone
		}
		return rawNone
	case isMobile(d),
		n == 13 && d[0] == '8' && d[1] == '6' && isMobile(d[2:]),
		n == 15 && string(d[:4]) == "0086" && isMobile(d[4:]):
		return rawPhone
	case class == fieldStrict && n >= 14 && n <= 16:
		return rawIMEI
	case n == 15 && luhnValid(d):
		return rawIMEI
	}
	return rawNone
}

// isMobile reports whether d is a Chinese mobile number: 11 digits, 1, then
// 3 to 9.
func isMobile(d []byte) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// luhnValid reports whether the decimal digits d end in a valid Luhn check
// digit, as an IMEI's 15th digit is.
func luhnValid(d []byte) bool {
	sum := 0
	for i := range d {
		x := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if x *= 2; x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return len(d) > 0 && sum%10 == 0
}
