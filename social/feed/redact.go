package feed

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholders Redact puts where personal data was.
const (
	MentionPlaceholder = "@某人"   // another user's handle, after its @ (or ＠)
	PhonePlaceholder   = "[电话]"  // a mobile or landline number
	EmailPlaceholder   = "[邮箱]"  // an e-mail address
	IDPlaceholder      = "[证件号]" // a resident identity card number
	CardPlaceholder    = "[卡号]"  // a bank card number
	LinkPlaceholder    = "[链接]"  // a URL
)

// Redact returns text with the personal data in it that is not its
// author's words replaced by placeholders:
//
//   - @mentions of other users, Weibo style: "@" (or "＠") and the letters,
//     digits, marks, "_" and "-" after it, also inside "//@name:" repost
//     chains → "@某人" (a name runs up to the next space or punctuation,
//     however long);
//   - URLs: "http://", "https://", and starting a word "www." and "t.cn/",
//     up to the next space, quote or non-ASCII character, without trailing
//     punctuation → "[链接]" (they can carry user ids);
//   - e-mail addresses → "[邮箱]";
//   - mainland mobile numbers 1[3-9] and 9 digits, whole or grouped 3-4-4 or
//     3-8 with spaces or dashes, with or without +86, 86 or 0086 before
//     them, and landlines 0 and 2–3 digits, a dash, 7–8 digits → "[电话]";
//   - resident ID numbers, 17 digits and a digit or X (whole or grouped
//     6-8-4) with a plausible region and birth date → "[证件号]";
//   - bank-card-like numbers, 16 to 19 digits whole or grouped by four →
//     "[卡号]".
//
// Numbers count only whole: digits next to other digits are not split, so
// a price (12999元), a date (20261201) or a 12-digit order number stays.
// Full-width digits count as digits. Everything else — Chinese text, emoji,
// #话题#, Weibo emoticons — is kept as is. Redact never panics, returns valid
// UTF-8 for valid UTF-8, and is idempotent: Redact(Redact(s)) == Redact(s).
func Redact(text string) string {
	var b []byte // nil until the first replacement
	last := 0    // text[last:i] is still to copy
	// What the last character written was; after a placeholder, what its
	// last character is. The checks look at it rather than at text, so a
	// second Redact sees what the first one saw.
	prevByte := byte(' ')
	prevDigit := false
	for i := 0; i < len(text); {
		n, repl, digitsLen := match(text[i:], prevByte, prevDigit)
		switch {
		case n > 0:
			if b == nil {
				b = make([]byte, 0, len(text)+16)
			}
			b = append(b, text[last:i]...)
			b = append(b, repl...)
			i += n
			last = i
			prevByte, prevDigit = repl[len(repl)-1], false
		case digitsLen > 0: // a number that is none of the above
			i += digitsLen
			prevByte, prevDigit = text[i-1], true
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			i += size
			prevByte, prevDigit = text[i-1], isDigit(r)
		}
	}
	if b == nil {
		return text
	}
	return string(append(b, text[last:]...))
}

// match finds what Redact replaces at the start of s: its length and
// placeholder. For a run of digits it does not replace, it returns the
// run's length as digitsLen.
func match(s string, prevByte byte, prevDigit bool) (n int, repl string, digitsLen int) {
	c := s[0]
	wordStart := !isASCIILetter(prevByte)
	if (c == 'h' || c == 'H') && (hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")) ||
		wordStart && (c == 'w' || c == 'W') && hasPrefixFold(s, "www.") ||
		wordStart && (c == 't' || c == 'T') && hasPrefixFold(s, "t.cn/") {
		return urlLen(s), LinkPlaceholder, 0
	}
	if isLocalByte(c) && !isLocalByte(prevByte) {
		if n := emailLen(s); n > 0 {
			return n, EmailPlaceholder, 0
		}
	}
	if c == '@' {
		if n := mentionLen(s, 1); n > 0 {
			return n, MentionPlaceholder, 0
		}
	} else if strings.HasPrefix(s, "＠") {
		if n := mentionLen(s, len("＠")); n > 0 {
			return n, "＠某人", 0
		}
	}
	if !prevDigit && (c == '+' || c >= '0' && c <= '9' || c == 0xEF) {
		return number(s)
	}
	return 0, "", 0
}

// urlLen returns the length of the URL at the start of s: URL bytes up to
// trailing punctuation.
func urlLen(s string) int {
	n := 0
	for n < len(s) && isURLByte(s[n]) {
		n++
	}
	for n > 1 && strings.IndexByte(".,;:!?)]}'", s[n-1]) >= 0 {
		n--
	}
	return n
}

// isURLByte reports whether b can be part of a URL as posts write them:
// printable ASCII but spaces, quotes and angle brackets.
func isURLByte(b byte) bool {
	return b > ' ' && b < 0x7f && b != '"' && b != '<' && b != '>'
}

// emailLen returns the length of the e-mail address at the start of s, or
// 0: a local part, "@", and a domain of two or more labels whose last is
// two or more letters.
func emailLen(s string) int {
	at := 0
	for at < len(s) && isLocalByte(s[at]) {
		at++
	}
	if at == 0 || at == len(s) || s[at] != '@' {
		return 0
	}
	end := at + 1
	for end < len(s) && (isASCIILetter(s[end]) || isASCIIDigit(s[end]) || s[end] == '-' || s[end] == '.') {
		end++
	}
	for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
		end--
	}
	labels := strings.Split(s[at+1:end], ".")
	if len(labels) < 2 {
		return 0
	}
	for _, l := range labels {
		if l == "" {
			return 0
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return 0
	}
	for i := 0; i < len(tld); i++ {
		if !isASCIILetter(tld[i]) {
			return 0
		}
	}
	return end
}

// mentionLen returns the length of the mention at the start of s, whose @
// is at bytes long, or 0 when no name follows it.
func mentionLen(s string, at int) int {
	n := at
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) && r != '_' && r != '-' {
			break
		}
		n += size
	}
	if n == at {
		return 0
	}
	return n
}

// maxGroups is the most digit groups a number Redact replaces has ("+86"
// and 3-4-4, or a card grouped 4-4-4-4-3).
const maxGroups = 5

// digitGroup is one run of digits of a number.
type digitGroup struct {
	from, to int  // digits in number's digit buffer
	end      int  // byte offset in the text after the group
	sep      byte // separator before the group: ' ', '-' or 0
}

// number looks at the digits at the start of s (after a non-digit): at
// most maxGroups runs of digits with one space or dash between them, with
// an optional '+' before them. It returns the longest phone, ID or card
// number they start with, or else the length of the first run.
func number(s string) (n int, repl string, digitsLen int) {
	var buf [24]byte // the digits, ASCII
	var gs [maxGroups]digitGroup
	ng, nd := 0, 0
	i := 0
	plus := false
	if s[0] == '+' {
		plus, i = true, 1
	} else if strings.HasPrefix(s, "＋") {
		plus, i = true, len("＋")
	}
	for ng < maxGroups {
		g := digitGroup{from: nd}
		if ng > 0 {
			if i+1 >= len(s) || s[i] != ' ' && s[i] != '-' {
				break
			}
			if _, ok := digitAt(s[i+1:]); !ok {
				break
			}
			g.sep = s[i]
			i++
		}
		for {
			d, ok := digitAt(s[i:])
			if !ok {
				break
			}
			if nd < len(buf) {
				buf[nd] = d
			}
			nd++
			if s[i] < 0x80 {
				i++
			} else {
				i += len("０")
			}
		}
		if nd == g.from { // '+' without digits, or a full-width prefix byte
			return 0, "", 0
		}
		g.to, g.end = nd, i
		gs[ng] = g
		ng++
		if nd > 20 {
			break
		}
	}
	if nd > len(buf) {
		nd = len(buf)
		for k := range ng {
			gs[k].from, gs[k].to = min(gs[k].from, nd), min(gs[k].to, nd)
		}
	}
	digits := buf[:nd]
	lens := make([]int, 0, maxGroups)
	for _, g := range gs[:ng] {
		lens = append(lens, g.to-g.from)
	}
	best, bestRepl := 0, ""
	try := func(k int, repl string) { // groups gs[:k] are a number
		if e := gs[k-1].end; e > best {
			best, bestRepl = e, repl
		}
	}
	d := func(k int) string { return string(digits[:gs[k-1].to]) }

	// Phones: with +86, 86 or 0086 before them as a group or not.
	for k := 1; k <= ng; k++ {
		all := d(k)
		if phoneGrouping(lens[:k]) && isMobile(all) && !plus {
			try(k, PhonePlaceholder)
		}
		if k >= 2 && phoneGrouping(lens[1:k]) && isMobile(all[lens[0]:]) && (lens[0] == 2 && all[:2] == "86" || lens[0] == 4 && all[:4] == "0086" && !plus) {
			try(k, PhonePlaceholder)
		}
	}
	if lens[0] == 13 && d(1)[:2] == "86" && isMobile(d(1)[2:]) || lens[0] == 15 && !plus && d(1)[:4] == "0086" && isMobile(d(1)[4:]) {
		try(1, PhonePlaceholder)
	}
	if plus {
		if best == 0 {
			return 0, "", 0 // the '+' is just that; its digits come next
		}
		return best, bestRepl, 0
	}
	// Landlines: 0 and 2–3 digits, a dash, 7–8 digits.
	if ng >= 2 && (lens[0] == 3 || lens[0] == 4) && digits[0] == '0' && (lens[1] == 7 || lens[1] == 8) && digits[gs[1].from] != '0' && gs[1].sep == '-' {
		try(2, PhonePlaceholder)
	}
	// Cards: 16 to 19 digits whole or by four.
	if lens[0] >= 16 && lens[0] <= 19 {
		try(1, CardPlaceholder)
	}
	if ng >= 4 && lens[0] == 4 && lens[1] == 4 && lens[2] == 4 && lens[3] == 4 {
		try(4, CardPlaceholder)
		if ng >= 5 && lens[4] <= 3 {
			try(5, CardPlaceholder)
		}
	}
	// IDs: 18 digits, or 17 and X, whole or 6-8-4 (6-8-3 and X).
	for _, k := range []int{1, 3} {
		if k > ng || k == 1 && lens[0] != 18 && lens[0] != 17 || k == 3 && (lens[0] != 6 || lens[1] != 8 || lens[2] != 4 && lens[2] != 3) {
			continue
		}
		all, end := d(k), gs[k-1].end
		if len(all) == 17 && end < len(s) && (s[end] == 'X' || s[end] == 'x') &&
			(end+1 == len(s) || !isASCIILetter(s[end+1]) && !isASCIIDigit(s[end+1])) {
			all += "X"
			end++
		}
		if len(all) == 18 && isIDNumber(all) && end >= best {
			best, bestRepl = end, IDPlaceholder
		}
	}
	if best > 0 {
		return best, bestRepl, 0
	}
	return 0, "", gs[0].end
}

// digitAt returns the digit at the start of s, ASCII or full-width, as an
// ASCII digit.
func digitAt(s string) (byte, bool) {
	switch {
	case s == "":
		return 0, false
	case s[0] >= '0' && s[0] <= '9':
		return s[0], true
	case len(s) >= 3 && s[0] == 0xEF && s[1] == 0xBC && s[2] >= 0x90 && s[2] <= 0x99: // ０–９
		return '0' + s[2] - 0x90, true
	}
	return 0, false
}

// isDigit reports whether r is an ASCII or full-width digit.
func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// phoneGrouping reports whether a mobile number can be written in groups
// of these lengths: 11, 3-4-4 or 3-8.
func phoneGrouping(lens []int) bool {
	switch len(lens) {
	case 1:
		return lens[0] == 11
	case 2:
		return lens[0] == 3 && lens[1] == 8
	case 3:
		return lens[0] == 3 && lens[1] == 4 && lens[2] == 4
	}
	return false
}

// isMobile reports whether d is a mainland mobile number: 1[3-9] and 9
// digits.
func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// isIDNumber reports whether d, 17 digits and a digit or X, looks like a
// resident ID number: a region code starting 1 to 8 and a birth date in
// 1900–2099. The check digit is not checked: a mistyped number is still
// personal data.
func isIDNumber(d string) bool {
	if d[0] < '1' || d[0] > '8' || d[6:8] != "19" && d[6:8] != "20" {
		return false
	}
	month := int(d[10]-'0')*10 + int(d[11]-'0')
	day := int(d[12]-'0')*10 + int(d[13]-'0')
	return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// isLocalByte reports whether b can be in an e-mail address's local part.
func isLocalByte(b byte) bool {
	return isASCIILetter(b) || isASCIIDigit(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
func isASCIIDigit(b byte) bool  { return '0' <= b && b <= '9' }

// hasPrefixFold reports whether s starts with prefix, ASCII case folded.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
