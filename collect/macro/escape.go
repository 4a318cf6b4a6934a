package macro

import (
	"slices"
)

// maxMacroLen bounds the values IsUnreplacedMacro decodes to look for an
// encoded macro; the longest real macros are about 30 bytes, 90 encoded.
const maxMacroLen = 192

// IsUnreplacedMacro reports whether v is a media macro that was never
// replaced by a value. It recognises every family in use in China and by
// the global ad servers, with a name of ASCII letters, digits, '_', '-' or
// '.':
//
//	__IDFA__  {IDFA}  {{IDFA}}  [M_MAC]  %%CACHEBUSTER%%  %OS%  ${CLICK_URL}
//
// It also sees through one or two levels of percent-encoding
// (%7BIDFA%7D, %5BM_MAC%5D, %257BIDFA%257D). A JSON value such as
// {"l1":1} is not a macro, nor is a value that merely contains one, nor "".
func IsUnreplacedMacro(v string) bool { return isMacro(v, 2) }

// isMacro reports whether v is a macro as it is or after up to levels
// rounds of percent-decoding.
func isMacro[T string | []byte](v T, levels int) bool {
	if isMacroForm(v) {
		return true
	}
	if levels == 0 || len(v) > maxMacroLen || !mayDecodeToMacro(v) {
		return false
	}
	var buf [maxMacroLen]byte
	n := copy(buf[:], v)
	for range levels {
		m, ok := unescapeInPlace(buf[:n])
		if !ok || m == n {
			return false
		}
		n = m
		if isMacroForm(buf[:n]) {
			return true
		}
	}
	return false
}

// mayDecodeToMacro reports whether v starts with a byte that opens a macro
// or with an escape of one ('%' itself covers the doubly-encoded forms),
// and, when it starts with a plain opener, ends with an escape (%XX or
// %25XX). Decoding
// never changes a byte that is not part of an escape, so no other value can
// decode to a macro.
func mayDecodeToMacro[T string | []byte](v T) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '_', '{', '[', '$':
		// Only a closer encoded (once or twice) at the end can still
		// complete the macro.
		n := len(v)
		return n >= 3 && v[n-3] == '%' || n >= 5 && v[n-5] == '%'
	case '%':
		if len(v) < 3 {
			return false
		}
		switch hi, lo := v[1], v[2]|0x20; {
		case hi == '5' && (lo == 'f' || lo == 'b'), // _ [
			hi == '7' && lo == 'b',                // {
			hi == '2' && (lo == '5' || lo == '4'): // % $
			return true
		}
	}
	return false
}

// isMacroForm reports whether v is literally a macro (see IsUnreplacedMacro).
func isMacroForm[T string | []byte](v T) bool {
	n := len(v)
	if n < 3 {
		return false
	}
	switch v[0] {
	case '_': // __X__
		return n >= 5 && v[1] == '_' && v[n-2] == '_' && v[n-1] == '_' && isMacroName(v[2:n-2])
	case '{': // {X} and {{X}}
		return v[n-1] == '}' && isMacroName(trim2(v, '{', '}'))
	case '[': // [X]
		return v[n-1] == ']' && isMacroName(trim2(v, '[', ']'))
	case '%': // %X% and %%X%%
		return v[n-1] == '%' && isMacroName(trim2(v, '%', '%'))
	case '$': // ${X}
		return n >= 4 && v[1] == '{' && v[n-1] == '}' && isMacroName(v[2:n-1])
	}
	return false
}

// trim2 removes up to two open bytes from the front of v and as many close
// bytes from the back, keeping at least the middle byte.
func trim2[T string | []byte](v T, open, close byte) T {
	for range 2 {
		if len(v) >= 3 && v[0] == open && v[len(v)-1] == close {
			v = v[1 : len(v)-1]
		}
	}
	return v
}

// isMacroName reports whether v is a non-empty run of ASCII letters, digits,
// '_', '-' and '.'.
func isMacroName[T string | []byte](v T) bool {
	if len(v) == 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// appendUnescape appends s percent-decoded to dst; when plus is true, '+'
// decodes to a space. It reports false, with dst unchanged, when s holds an
// invalid escape.
func appendUnescape(dst []byte, s string, plus bool) ([]byte, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return dst, false
			}
			n++
			i += 2
		}
	}
	w := len(dst)
	dst = slices.Grow(dst, len(s)-2*n)[:w+len(s)-2*n]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case c == '+' && plus:
			c = ' '
		}
		dst[w] = c
		w++
	}
	return dst, true
}

// unescapeInPlace percent-decodes b into itself ('+' stays '+') and returns
// the decoded length. It reports false, leaving b untouched, when b holds an
// invalid escape.
func unescapeInPlace(b []byte) (int, bool) {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
				return 0, false
			}
			i += 2
		}
	}
	w := 0
	for r := 0; r < len(b); r++ {
		c := b[r]
		if c == '%' {
			c = unhex(b[r+1])<<4 | unhex(b[r+2])
			r += 2
		}
		b[w] = c
		w++
	}
	return w, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// DecodeRedirect returns the click redirect o decoded when it is itself
// URL-encoded, and o unchanged otherwise. o counts as encoded when its
// scheme separator is escaped (http%3A%2F%2F…, https%3a…, a deep link such
// as weixin%3A%2F%2F…) or when it starts with an escaped "//". A
// double-encoded value (http%253A%252F…) is decoded twice. '+' is kept: in
// the decoded URL it is the URL's own. A value with an invalid escape is
// returned as it was before the failing round.
func DecodeRedirect(o string) string {
	for range 2 {
		if !redirectEncoded(o) {
			return o
		}
		var stack [512]byte
		d, ok := appendUnescape(stack[:0], o, false)
		if !ok {
			return o
		}
		o = string(d)
	}
	return o
}

// redirectEncoded reports whether o starts with a scheme followed by an
// escaped ':', or with an escaped "//".
func redirectEncoded(o string) bool {
	if hasPrefixFold(o, "%2f%2f") || hasPrefixFold(o, "%252f%252f") {
		return true
	}
	i := 0
	for i < len(o) {
		c := o[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			i++
			continue
		}
		break
	}
	return i > 0 && (hasPrefixFold(o[i:], "%3a") || hasPrefixFold(o[i:], "%253a"))
}
