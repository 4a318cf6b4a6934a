package auth

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The list of common passwords is generated, not copied from a breach corpus:
// the build machine has no network access and breach corpora have unclear
// licences. It is built once, on first use, from the patterns that dominate
// every published top-N list of leaked passwords, English and Chinese alike:
//
//   - favourite words (password, admin, welcome, iloveyou, dragon, monkey,
//     letmein, …), Chinese pinyin favourites (woaini, nihao, wodemima, …),
//     common surnames alone and with common given names (zhangwei, wangfang,
//     …), each bare and with common suffixes (1, 123, 123456, !, @123, 888,
//     520, 1314, 5201314, years 2000–2027, …);
//   - leetspeak spellings of the favourite words (p@ssw0rd, adm1n, …);
//   - number favourites (123456…, 5201314, 1314520, 147258369, 7758521, …),
//     with prefixes qq, a, aa, abc, woaini;
//   - keyboard walks (qwerty, asdfgh, 1qaz2wsx, zaq12wsx, 1q2w3e4r, qweasdzxc,
//     !@#$%^&*(), …) and their concatenations;
//   - sequences and repetitions (abcdef…, 111111, aaaaaa, 121212, abcabc, …).
//
// It therefore misses the long tail of a real corpus (song titles, sports
// teams, local words) and the rule "a common word with digits or symbols
// around it" in CheckPassword does much of the work. Replace or extend it
// with a real corpus (e.g. the Have I Been Pwned k-anonymity range API or a
// downloaded top-100k list) when one can be vetted.

// commonList is the generated set and the length of its longest entry.
type commonList struct {
	set    map[string]struct{}
	maxLen int
}

var loadCommon = sync.OnceValue(buildCommonList)

// commonPasswords returns the set of common passwords, lowercase.
func commonPasswords() map[string]struct{} { return loadCommon().set }

// commonMaxLen returns the length in bytes of the longest common password.
func commonMaxLen() int { return loadCommon().maxLen }

var (
	// favouriteWords are words and names from the top of every leaked-password
	// list, and words an enterprise user reaches for.
	favouriteWords = strings.Fields(`
		password passwd passw0rd pass passpass mypass mypassword admin administrator
		root welcome iloveyou iloveu loveyou lovely loveme love dragon monkey letmein
		master shadow sunshine princess football baseball basketball soccer hockey
		superman batman spiderman trustno michael jennifer jessica ashley daniel
		thomas robert jordan hunter ranger harley charlie buster tigger pepper ginger
		cookie cheese chocolate summer winter spring autumn freedom whatever starwars
		computer internet secret login guest user test tester testing changeme default
		hello hellokitty flower angel baby killer matrix mustang access ninja azerty
		pokemon naruto samsung apple google microsoft facebook linkedin twitter youtube
		qazwsx abcdef abcd abc system server service manager office
		company business marketing sales finance account database oracle mysql
		china beijing shanghai shenzhen guangzhou hangzhou chengdu wuhan nanjing
		tianjin chongqing xian`)

	// pinyinWords are Chinese favourites written in pinyin.
	pinyinWords = strings.Fields(`
		woaini woaiwojia woaini1314 aini aiwo woaiwo nihao zhongguo mima wodemima
		laopo laogong baobao tianshi xiaoming xiaohong xiaobai kaixin xingfu pingan
		qq woshishui wangzhe yingxiong`)

	// surnames are the most common Chinese surnames, in pinyin.
	surnames = strings.Fields(`
		zhang wang li liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin
		luo gao liang zheng xie song tang han feng deng cao peng zeng xiao tian dong
		pan yuan cai jiang yu du ye cheng wei su lu ding ren shen yao`)

	// givenNames are common Chinese given names (one syllable), in pinyin.
	givenNames = strings.Fields(`wei fang min jing lei jun yang tao ming hua jie qiang ping hong yan li`)

	// numberFavourites are digit strings that top Chinese and English lists.
	numberFavourites = strings.Fields(`
		123456 1234567 12345678 123456789 1234567890 0123456789 1234 12345 123123
		123321 654321 7654321 87654321 987654321 123654 111222 112233 11223344
		121212 131313 5201314 1314520 520520 521521 5211314 1314521 3344520 584520
		201314 147258 147258369 159357 159753 789456 789456123 741852963 963852741
		7758521 7758258 168168 518518 110110 246810 135790 1234554321 12344321
		000000 00000000 888888 666666 88888888 66666666 123456a`)

	// suffixes are what users append to a word, most common first.
	suffixes = strings.Fields(`
		1 12 123 1234 12345 123456 1234567 12345678 123456789 0 00 01 11 007 99
		! !! 1! 123! 1234! @ @1 @123 @1234 #123 123# . .. * 666 888 520 521 1314
		5201314 1314520 abc 123abc`)

	// keyboardWalks are sequences along or across the rows of a keyboard.
	keyboardWalks = strings.Fields(`
		1234567890 qwertyuiop asdfghjkl zxcvbnm 0987654321 poiuytrewq lkjhgfdsa
		mnbvcxz 1qaz2wsx3edc4rfv5tgb6yhn qazwsxedcrfvtgbyhn zaq12wsxcde3 zaq1xsw2cde3
		1q2w3e4r5t6y7u8i9o0p q1w2e3r4t5y6u7i8o9p0 qweasdzxc qweasd asdqwe zxcasdqwe
		!qaz@wsx#edc 1qaz!qaz 1qaz@wsx !qaz2wsx qwer1234 asdf1234 zxcv1234 qwerasdf
		qwerasdfzxcv 1234qwer 1234asdf 1234abcd abcd1234 a1b2c3d4e5f6 abc123456
		aaa111 !@#$%^&*() 1q2w3e 1q2w3e4r 123qwe qwe123 123qweasd 123qweasdzxc
		qweqwe asdasd zxczxc qwert qwerty asdfgh zxcvbn abcdefghijklmnopqrstuvwxyz
		!@#$%^ !@#$ 1a2b3c 1a2b3c4d q1w2e3 qazxsw`)

	// walkPieces are concatenated in pairs and triples (qwerasdf, asdfzxcv1234…).
	walkPieces = strings.Fields(`qwer asdf zxcv 1234 4321 qwerty asdfgh zxcvbn 123456 abcd 1qaz 2wsx 3edc`)

	// repeatUnits are repeated 2 to 6 times (121212, abcabc, 520520…).
	repeatUnits = strings.Fields(`12 21 ab 123 321 abc qwe asd zxc 1234 abcd 520 521 88 66 99 11 1q 1a`)

	// numberPrefixes are put in front of the number favourites (qq123456…).
	numberPrefixes = strings.Fields(`qq a aa abc woaini aini wo zz`)
)

func buildCommonList() commonList {
	set := make(map[string]struct{}, 20000)
	add := func(s string) {
		if len(s) >= 4 {
			set[s] = struct{}{}
		}
	}
	years := make([]string, 0, 40)
	for y := 2000; y <= 2027; y++ {
		years = append(years, strconv.Itoa(y), "@"+strconv.Itoa(y))
	}
	allSuffixes := append(append([]string{""}, suffixes...), years...)

	for _, w := range slices.Concat(favouriteWords, pinyinWords) {
		for _, s := range allSuffixes {
			add(w + s)
		}
	}
	for _, w := range slices.Concat(surnames, numberPrefixes) {
		for _, s := range suffixes {
			add(w + s)
		}
	}
	for _, w := range favouriteWords {
		for _, v := range leetVariants(w) {
			for _, s := range []string{"", "1", "123", "!", "@123"} {
				add(v + s)
			}
		}
	}
	for _, sn := range surnames {
		for _, g := range givenNames {
			for _, s := range []string{"", "1", "123", "1234", "123456", "888", "666", "520", "1314"} {
				add(sn + g + s)
			}
		}
	}
	for _, n := range numberFavourites {
		add(n)
		for _, p := range numberPrefixes {
			add(p + n)
		}
	}
	for _, w := range keyboardWalks {
		add(w)
		for n := 4; n < len(w); n++ {
			add(w[:n]) // qwer, qwert, qwerty, …
		}
		for _, s := range []string{"1", "123", "!", "@123"} {
			add(w + s)
		}
	}
	for _, a := range walkPieces {
		for _, b := range walkPieces {
			add(a + b)
			for _, c := range walkPieces {
				add(a + b + c)
			}
		}
	}
	for _, u := range repeatUnits {
		for n := 2; n <= 6; n++ {
			add(strings.Repeat(u, n))
		}
	}
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789!.*#" {
		for n := 4; n <= 16; n++ {
			add(strings.Repeat(string(c), n))
		}
	}
	maxLen := 0
	for s := range set {
		maxLen = max(maxLen, len(s))
	}
	return commonList{set: set, maxLen: maxLen}
}

// leetVariants returns leetspeak spellings of w: each substitution class
// alone, and all of them together.
func leetVariants(w string) []string {
	subs := []struct{ from, to string }{
		{"a", "@"}, {"a", "4"}, {"o", "0"}, {"e", "3"}, {"i", "1"}, {"l", "1"},
		{"s", "$"}, {"s", "5"}, {"t", "7"},
	}
	var out []string
	for _, s := range subs {
		if v := strings.ReplaceAll(w, s.from, s.to); v != w {
			out = append(out, v)
		}
	}
	all := strings.NewReplacer("a", "@", "o", "0", "e", "3", "i", "1", "s", "$").Replace(w)
	if all != w {
		out = append(out, all)
	}
	return out
}
