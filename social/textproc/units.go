package textproc

import (
	"unicode"
	"unicode/utf8"
)

// Keyword rules compare text as a sequence of units, made from normalised
// text (see Normalize) by eachUnit:
//
//   - a run of letters (and the combining marks that follow them) outside the
//     Han and kana scripts is one unit, and so is a run of digits: "mate70"
//     and "mate 70" are both "mate", "70", so "iPhone16" matches "iPhone 16";
//   - every Han, Hiragana or Katakana rune is a unit of its own, so a Chinese
//     or Japanese term matches wherever its characters stand together, however
//     gse would segment the sentence around them;
//   - spaces and the joiners - _ . / ' ’ · ・ separate units and are dropped,
//     as are format characters (zero-width spaces and joiners) and marks that
//     follow no letter (emoji variation selectors);
//   - any other rune (punctuation, symbols, emoji) is a unit of its own, so a
//     term cannot match across "，" unless it has one there too, and "Pro+"
//     differs from "Pro".

// unitKind says what a unit is made of.
type unitKind uint8

const (
	unitWord   unitKind = iota // a run of letters and marks
	unitNumber                 // a run of digits
	unitRune                   // one ideograph, punctuation mark, symbol or emoji
)

// isIdeo reports whether r is written without spaces between words: each such
// rune is a unit of its own.
func isIdeo(r rune) bool {
	switch {
	case r < 0x3040: // below kana: ASCII, Latin, Greek, Cyrillic, punctuation
		return false
	case 0x4e00 <= r && r <= 0x9fff: // CJK Unified Ideographs, the common case
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) && unicode.IsLetter(r)
}

// isJoiner reports whether r separates units without being one.
func isJoiner(r rune) bool {
	switch r {
	case '-', '_', '.', '/', '\'', '’', '·', '・':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// eachUnit calls f with every unit of norm, in order: the unit's text (a
// substring of norm, so no allocation) and its kind.
func eachUnit(norm string, f func(u string, k unitKind)) {
	start, kind := -1, unitWord // start of the open word or number, -1 if none
	flush := func(end int) {
		if start >= 0 {
			f(norm[start:end], kind)
			start = -1
		}
	}
	for i, r := range norm {
		if r < utf8.RuneSelf { // ASCII, the common case, without table look-ups
			switch {
			case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
				if start >= 0 && kind != unitWord {
					flush(i)
				}
				if start < 0 {
					start, kind = i, unitWord
				}
				continue
			case '0' <= r && r <= '9':
				if start >= 0 && kind != unitNumber {
					flush(i)
				}
				if start < 0 {
					start, kind = i, unitNumber
				}
				continue
			}
		}
		switch {
		case isIdeo(r):
			flush(i)
			f(norm[i:i+utf8.RuneLen(r)], unitRune)
		case unicode.IsLetter(r):
			if start >= 0 && kind != unitWord {
				flush(i)
			}
			if start < 0 {
				start, kind = i, unitWord
			}
		case unicode.IsMark(r):
			// A mark belongs to the letters before it; elsewhere (an emoji
			// variation selector) it is dropped.
			if start < 0 || kind != unitWord {
				flush(i)
			}
		case unicode.IsNumber(r):
			if start >= 0 && kind != unitNumber {
				flush(i)
			}
			if start < 0 {
				start, kind = i, unitNumber
			}
		case isJoiner(r):
			flush(i)
		default:
			flush(i)
			f(norm[i:i+utf8.RuneLen(r)], unitRune)
		}
	}
	flush(len(norm))
}

// units returns the units of Normalize(text), for tests and compiling.
func units(text string) []string {
	var out []string
	eachUnit(Normalize(text), func(u string, _ unitKind) { out = append(out, u) })
	return out
}

// isWordRune reports whether r can start a word, a number or an ideograph
// unit: a letter or a digit.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
