package optouthttp

import (
	"strconv"
	"strings"
)

// Languages of the page.
const (
	langZH = "zh"
	langEN = "en"
)

// pickLang returns the page's language: the lang parameter (query or form)
// when it names one, else the preferred of Chinese and English in
// Accept-Language, else Chinese. explicit reports that the parameter chose
// it, so that links and redirects keep it.
func pickLang(param, acceptLanguage string) (lang string, explicit bool) {
	if l, ok := langOf(param); ok {
		return l, true
	}
	return fromAcceptLanguage(acceptLanguage), false
}

// langOf maps a language tag (zh, zh-CN, zh-Hans, en, en-US…) to a page
// language.
func langOf(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	primary, _, _ := strings.Cut(tag, "-")
	primary, _, _ = strings.Cut(primary, "_")
	switch primary {
	case "zh":
		return langZH, true
	case "en":
		return langEN, true
	}
	return "", false
}

// fromAcceptLanguage returns the language the header prefers among Chinese
// and English (highest q, then first listed), or Chinese.
func fromAcceptLanguage(h string) string {
	best, bestQ := langZH, -1.0
	for i, part := range strings.Split(h, ",") {
		if i >= 32 { // a header this long is not a browser's
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		l, ok := langOf(tag)
		if !ok {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(p), "=")
			if found && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		if q > 0 && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}
