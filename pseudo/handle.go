package pseudo

import (
	"crypto/md5"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// MaxHandle is the longest social handle accepted, in bytes.
const MaxHandle = 256

// CanonicalHandle returns the canonical form of the handle of a social media
// account on source (a post's author, or an account named in a rights
// request): the MD5 of source, a NUL and the handle without surrounding
// white space and leading '@'s, full-width letters and digits folded to
// ASCII and letters lowercased, so that "@ＡｂＣ" and "abc" are one account.
// Public handles are pseudonymised like device identifiers: a Canonical is
// never stored or logged, only its pseudonym (type admeter.IDSocial).
//
// It returns ReasonEmpty for an empty handle (or one that is only '@'s),
// ReasonPlaceholder for an unreplaced macro, and ReasonMalformed for an
// invalid source, a handle longer than MaxHandle bytes, one that is not
// valid UTF-8 or one with control characters.
func CanonicalHandle(source, handle string) (Canonical, Reason) {
	if admeter.ValidSocialSource(source) != nil {
		return Canonical{}, ReasonMalformed
	}
	h := strings.TrimRightFunc(handle, unicode.IsSpace)
	h = strings.TrimLeftFunc(h, func(r rune) bool { return r == '@' || r == '＠' || unicode.IsSpace(r) })
	if r := absent(h); r != ReasonOK {
		return Canonical{}, r
	}
	if len(h) > MaxHandle || !utf8.ValidString(h) {
		return Canonical{}, ReasonMalformed
	}
	var b strings.Builder
	b.Grow(len(source) + 1 + len(h))
	b.WriteString(source)
	b.WriteByte(0)
	for _, r := range h {
		switch {
		case unicode.IsControl(r):
			return Canonical{}, ReasonMalformed
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		case r == 0x3000: // ideographic space
			r = ' '
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return Canonical(md5.Sum([]byte(b.String()))), ReasonOK
}

// canonicalSocial canonicalises "source:handle", the form in which a rights
// request or an opt-out names a social account.
func canonicalSocial(v string) (Canonical, Reason) {
	source, handle, ok := strings.Cut(v, ":")
	if !ok {
		return Canonical{}, ReasonMalformed
	}
	return CanonicalHandle(strings.ToLower(strings.TrimSpace(source)), handle)
}
