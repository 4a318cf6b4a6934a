package pseudo

import (
	"crypto/md5"
	"fmt"
	"io"
	"strings"

	"github.com/admeter/admeter"
)

// Form says how an identifier arrived: as the raw device value or as the MD5
// of it. The zero Form is invalid, so a caller that forgets to set it gets
// [ReasonMalformed] rather than an MD5 hashed a second time.
type Form uint8

// Identifier forms.
const (
	// FormRaw is the value the device reports (an IMEI, a UUID, a MAC...).
	FormRaw Form = iota + 1
	// FormMD5 is the MMA MD5 of the raw value, 32 hex digits in either case.
	FormMD5
)

// String returns "raw", "md5" or "invalid".
func (f Form) String() string {
	switch f {
	case FormRaw:
		return "raw"
	case FormMD5:
		return "md5"
	}
	return "invalid"
}

// Reason says whether [Canonicalize] accepted a value and, if not, why. Its
// String is meant for metric labels. The constants run contiguously from
// ReasonOK to ReasonMalformed.
type Reason uint8

// Reasons, from accepted to rejected.
const (
	// ReasonOK: the value is a usable identifier.
	ReasonOK Reason = iota
	// ReasonEmpty: the value is absent: empty, blank, or a word such as
	// "null", "nil", "unknown" or "undefined".
	ReasonEmpty
	// ReasonPlaceholder: the value is present but names no device: an
	// all-zero id, the MAC 02:00:00:00:00:00, an unreplaced media macro such
	// as __IMEI__, or the MD5 of one of these (or of "", "null", "OAID"...).
	ReasonPlaceholder
	// ReasonMalformed: the value does not have the format of its type, or the
	// type or form is invalid.
	ReasonMalformed
)

var reasonNames = [...]string{"ok", "empty", "placeholder", "malformed"}

// String returns "ok", "empty", "placeholder" or "malformed".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Canonical is the canonical form of a device identifier: the 16 bytes of
// its MMA MD5 (for a CAID, its own 16 bytes). It is still an identifier (the
// MD5 of an IMEI can be reversed by enumeration), so it must never be logged
// or stored: every way of printing or marshalling it yields
// "canonical(redacted)". Pass it to [Pseudonymizer.Pseudonym].
//
// fmt cannot call methods on unexported struct fields, so a Canonical (or an
// [IDSet]) kept in an unexported field prints its bytes when the enclosing
// struct is printed with %v: never print such a struct.
type Canonical [16]byte

const redacted = "canonical(redacted)"

// IsZero reports whether c is the zero Canonical, which Canonicalize returns
// for every rejected value.
func (c Canonical) IsZero() bool { return c == Canonical{} }

// String returns "canonical(redacted)", never the value.
func (c Canonical) String() string { return redacted }

// GoString returns "canonical(redacted)", never the value.
func (c Canonical) GoString() string { return redacted }

// Format implements fmt.Formatter so that no verb (%x, %d, %v...) prints the
// value.
func (c Canonical) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalText returns "canonical(redacted)", so JSON and structured logs
// cannot leak the value either.
func (c Canonical) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// maxRawLen is the longest raw value of any type (a 64-character OAID).
const maxRawLen = 64

// Canonicalize returns the canonical form of the identifier value of type t
// that arrived in form f. It never fails with an error: a value that cannot
// identify a device gives the zero Canonical and a Reason other than
// ReasonOK. Leading and trailing white space is ignored. Canonicalize does not
// allocate and is safe for concurrent use.
func Canonicalize(t admeter.IDType, f Form, value string) (c Canonical, reason Reason) {
	if !t.Valid() || t == admeter.IDCookie {
		return Canonical{}, ReasonMalformed
	}
	v := strings.TrimSpace(value)
	if r := absent(v); r != ReasonOK {
		return Canonical{}, r
	}
	if t == admeter.IDSocial {
		if f != FormRaw {
			return Canonical{}, ReasonMalformed
		}
		return canonicalSocial(v)
	}
	switch {
	case f == FormMD5 || f == FormRaw && t == admeter.IDCAID:
		// A CAID is 32 hex digits that are already canonical, whatever the
		// form says.
		var ok bool
		if c, ok = decodeHex32(v); !ok {
			return Canonical{}, ReasonMalformed
		}
	case f == FormRaw:
		return canonicalRaw(t, v)
	default:
		return Canonical{}, ReasonMalformed
	}
	if c.IsZero() || isPlaceholder(c) {
		return Canonical{}, ReasonPlaceholder
	}
	return c, ReasonOK
}

// canonicalRaw hashes the raw value v of type t. The placeholder checks come
// before the format check, so that "OAID" or "__IMEI__" count as placeholders
// rather than as malformed values.
func canonicalRaw(t admeter.IDType, v string) (Canonical, Reason) {
	if len(v) > maxRawLen {
		return Canonical{}, ReasonMalformed
	}
	var buf [maxRawLen]byte
	var n int
	var zero, valid bool
	switch t {
	case admeter.IDOAID:
		n = foldCase(&buf, v, 0)
		zero = onlyOf(v, "0-")
		valid = len(v) >= 16 && len(v) <= 64 && isOAIDChars(v)
	case admeter.IDIDFA, admeter.IDIDFV:
		n = foldCase(&buf, v, upper)
		zero = onlyOf(v, "0-")
		valid = isUUID(v)
	case admeter.IDAAID:
		n = foldCase(&buf, v, lower)
		zero = onlyOf(v, "0-")
		valid = isUUID(v)
	case admeter.IDIMEI:
		n = foldCase(&buf, v, lower)
		zero = onlyOf(v, "0")
		valid = len(v) >= 14 && len(v) <= 17 && isHex(v)
	case admeter.IDAndroidID:
		n = foldCase(&buf, v, lower)
		zero = onlyOf(v, "0")
		valid = len(v) >= 13 && len(v) <= 16 && isHex(v)
	case admeter.IDOpenUDID:
		n = foldCase(&buf, v, lower)
		zero = onlyOf(v, "0")
		valid = len(v) == 40 && isHex(v)
	case admeter.IDMAC, admeter.IDMACColon:
		zero = onlyOf(v, "0:-")
		var digits [12]byte
		if valid = parseMAC(&digits, v); !valid {
			n = foldCase(&buf, v, upper)
		} else if t == admeter.IDMAC {
			n = copy(buf[:], digits[:])
		} else {
			for i := range 6 {
				if i > 0 {
					buf[n] = ':'
					n++
				}
				buf[n], buf[n+1] = digits[2*i], digits[2*i+1]
				n += 2
			}
		}
	default:
		return Canonical{}, ReasonMalformed
	}
	if zero {
		return Canonical{}, ReasonPlaceholder
	}
	c := Canonical(md5.Sum(buf[:n]))
	if isPlaceholder(c) {
		return Canonical{}, ReasonPlaceholder
	}
	if !valid {
		return Canonical{}, ReasonMalformed
	}
	return c, ReasonOK
}

// emptyWords are values that stand for "no value" in the languages SDKs and
// media servers are written in. They are matched without regard to case.
var emptyWords = [...]string{"null", "nil", "none", "unknown", "undefined", "(null)", "<null>"}

// absent returns ReasonEmpty for an absent value, ReasonPlaceholder for an
// unreplaced macro and ReasonOK otherwise. v is already trimmed.
func absent(v string) Reason {
	if v == "" {
		return ReasonEmpty
	}
	if len(v) <= len("undefined") {
		for _, w := range emptyWords {
			if strings.EqualFold(v, w) {
				return ReasonEmpty
			}
		}
	}
	if isMacro(v) {
		return ReasonPlaceholder
	}
	return ReasonOK
}

// isMacro reports whether v is a media macro that was never replaced:
// __NAME__, {NAME}, {{NAME}}, ${NAME}, [NAME] or %NAME% (mma-protocol.md §4.2
// rule 1). No identifier of any type starts with one of these characters.
func isMacro(v string) bool {
	if len(v) < 2 {
		return false
	}
	first, last := v[0], v[len(v)-1]
	switch {
	case first == '_' && last == '_':
		return len(v) >= 5 && strings.HasPrefix(v, "__") && strings.HasSuffix(v, "__")
	case first == '{' || first == '$' && v[1] == '{':
		return last == '}'
	case first == '[':
		return last == ']'
	case first == '%':
		return last == '%'
	}
	return false
}

// Case folds for foldCase.
const (
	lower = 1
	upper = 2
)

// foldCase copies v into buf, folding ASCII letters to lower or upper case
// (or neither when fold is 0), and returns the length. v fits in buf.
func foldCase(buf *[maxRawLen]byte, v string, fold int) int {
	for i := 0; i < len(v); i++ {
		b := v[i]
		switch {
		case fold == lower && 'A' <= b && b <= 'Z':
			b += 'a' - 'A'
		case fold == upper && 'a' <= b && b <= 'z':
			b -= 'a' - 'A'
		}
		buf[i] = b
	}
	return len(v)
}

// onlyOf reports whether every byte of v is one of the bytes in set.
func onlyOf(v, set string) bool {
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(set, v[i]) < 0 {
			return false
		}
	}
	return true
}

// unhex maps an ASCII byte to its hex value, or to 0xff when it is not a hex
// digit.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, d := range "0123456789abcdef" {
		t[d] = byte(i)
		t[d-'a'+'A'] = byte(i)
	}
	return t
}()

// isHex reports whether v is made of hex digits only.
func isHex(v string) bool {
	for i := 0; i < len(v); i++ {
		if unhex[v[i]] == 0xff {
			return false
		}
	}
	return true
}

// isOAIDChars reports whether v is made of [0-9A-Za-z-] only.
func isOAIDChars(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '-') {
			return false
		}
	}
	return true
}

// isUUID reports whether v has the form 8-4-4-4-12 hex digits.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch i {
		case 8, 13, 18, 23:
			if v[i] != '-' {
				return false
			}
		default:
			if unhex[v[i]] == 0xff {
				return false
			}
		}
	}
	return true
}

// parseMAC writes the 12 hex digits of the MAC address v, uppercased, into
// digits. v is 12 hex digits, or 6 pairs split by ':' or by '-' (one kind of
// separator throughout).
func parseMAC(digits *[12]byte, v string) bool {
	step := 2
	switch len(v) {
	case 12:
	case 17:
		step = 3
		if sep := v[2]; sep != ':' && sep != '-' {
			return false
		}
	default:
		return false
	}
	for i := range 6 {
		j := i * step
		if step == 3 && i > 0 && v[j-1] != v[2] {
			return false
		}
		for k := range 2 {
			b := v[j+k]
			if unhex[b] == 0xff {
				return false
			}
			if 'a' <= b && b <= 'f' {
				b -= 'a' - 'A'
			}
			digits[2*i+k] = b
		}
	}
	return true
}

// decodeHex32 decodes 32 hex digits in either case.
func decodeHex32(v string) (c Canonical, ok bool) {
	if len(v) != 2*len(c) {
		return Canonical{}, false
	}
	for i := range c {
		hi, lo := unhex[v[2*i]], unhex[v[2*i+1]]
		if hi == 0xff || lo == 0xff {
			return Canonical{}, false
		}
		c[i] = hi<<4 | lo
	}
	return c, true
}
