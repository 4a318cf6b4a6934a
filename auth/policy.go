package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

// Password length limits, in characters (runes).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// minDistinct is the fewest distinct characters a password may have.
const minDistinct = 5

// minUserInputLen is the shortest user input (in runes) that CheckPassword
// looks for inside a password; shorter ones match too many passwords by chance.
const minUserInputLen = 4

// CheckPassword applies the password policy for enterprise user accounts
// (privacy policy 七(六)) to a password a user has chosen. It returns nil or an
// EINVALID *admeter.Error whose message says what to change. The messages are
// fixed sentences (only the length limits are numbers), so the console can map
// each to a translation.
//
// userInputs are things an attacker would try first: the user's name, email
// address (the local part of an address is also checked on its own), company
// name. Each is matched case-insensitively, also with leetspeak undone, and
// each word of a multi-word input is checked on its own; inputs or words of
// fewer than 4 characters are ignored.
//
// The rules, in the order checked: valid UTF-8; 12 to 128 characters; at least
// 5 distinct characters; none of userInputs inside; not on the list of common
// passwords; not a common password or word with only digits or symbols
// before or after it (after lowercasing and undoing leetspeak: 0→o 1→i/l 3→e
// 4→a 5→s 7→t @→a $→s).
func CheckPassword(pw string, userInputs ...string) error {
	if !utf8.ValidString(pw) {
		return admeter.Errorf(admeter.EINVALID, "The password contains invalid characters; type it again.")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return admeter.Errorf(admeter.EINVALID, "The password is too short: use at least %d characters.", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return admeter.Errorf(admeter.EINVALID, "The password is too long: use at most %d characters.", MaxPasswordLen)
	}
	if distinctRunes(pw) < minDistinct {
		return admeter.Errorf(admeter.EINVALID, "The password repeats too few characters: use at least %d different characters.", minDistinct)
	}
	if containsUserInput(pw, userInputs) {
		return admeter.Errorf(admeter.EINVALID, "The password contains your name, email address or company name: choose one that does not.")
	}
	lower := strings.ToLower(pw)
	common := commonPasswords()
	if _, ok := common[lower]; ok {
		return admeter.Errorf(admeter.EINVALID, "The password is one of the most commonly used passwords: choose a less predictable one.")
	}
	if commonWithPadding(lower, common) {
		return admeter.Errorf(admeter.EINVALID, "The password is a common word or password with digits or symbols added: use several unrelated words or a password manager.")
	}
	return nil
}

func distinctRunes(s string) int {
	seen := make(map[rune]struct{}, minDistinct)
	for _, r := range s {
		seen[r] = struct{}{}
		if len(seen) >= minDistinct {
			break
		}
	}
	return len(seen)
}

// containsUserInput reports whether pw, lowercased and also with leetspeak
// undone, contains any input (or a word of it, or an email local part) of at
// least minUserInputLen runes.
func containsUserInput(pw string, inputs []string) bool {
	lower := strings.ToLower(pw)
	forms := []string{lower, unleet(lower, 'i'), unleet(lower, 'l')}
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		cands := []string{in}
		if local, _, ok := strings.Cut(in, "@"); ok {
			cands = append(cands, local)
		}
		cands = append(cands, strings.FieldsFunc(in, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})...)
		for _, c := range cands {
			if utf8.RuneCountInString(c) < minUserInputLen {
				continue
			}
			for _, f := range forms {
				if strings.Contains(f, c) {
					return true
				}
			}
		}
	}
	return false
}

// leet maps leetspeak substitutions back to letters; '1' is handled by the
// caller because it stands for both i and l.
var leet = [128]byte{'0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// unleet returns s with leetspeak substitutions undone, '1' becoming one.
func unleet(s string, one byte) string {
	b := []byte(s)
	unleetInto(b, one)
	return string(b)
}

// unleetInto undoes leetspeak in b in place.
func unleetInto(b []byte, one byte) {
	for i, c := range b {
		switch {
		case c == '1':
			b[i] = one
		case c < 128 && leet[c] != 0:
			b[i] = leet[c]
		}
	}
}

// isPadding reports whether c (a byte of a lowercased password) may be added
// around a word: an ASCII digit, symbol or space.
func isPadding(c byte) bool {
	return c < 128 && (c < 'a' || c > 'z')
}

// commonWithPadding reports whether lower is, for some split
// prefix+core+suffix with prefix and suffix made only of ASCII digits and
// symbols, a core that is on the common list as written or with leetspeak
// undone. Cores are bounded by the longest list entry, so the work is at most
// len(lower) × that length map lookups.
func commonWithPadding(lower string, common map[string]struct{}) bool {
	maxLen := commonMaxLen()
	var buf [64]byte
	for i := 0; i <= len(lower); i++ {
		if i > 0 && !isPadding(lower[i-1]) {
			break // the prefix may only hold padding
		}
		// The suffix lower[j:] may only hold padding either.
		for j := len(lower); j > i; j-- {
			if j < len(lower) && !isPadding(lower[j]) {
				break
			}
			if j-i > maxLen || j-i > len(buf) {
				continue
			}
			core := lower[i:j]
			if _, ok := common[core]; ok {
				return true
			}
			for _, one := range []byte{'i', 'l'} {
				b := append(buf[:0], core...)
				unleetInto(b, one)
				if _, ok := common[string(b)]; ok {
					return true
				}
			}
		}
	}
	return false
}
