package simulate

import (
	"fmt"
	"strings"
)

// template is a monitoring URL as the campaign API hands it out, split into
// literal text and __MACRO__ slots that a media platform fills in.
type template struct {
	segs []segment
	// tail is a click's "&o=<landing URL>", which must stay last: SDK
	// parameters go before it.
	tail string
}

type segment struct {
	lit   string
	macro string // the name between the underscores, or "" after the last literal
}

// parseTemplate splits a monitoring URL. The scheme and host are dropped:
// the plan holds targets relative to the server it is sent to.
func parseTemplate(raw string) (template, error) {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		j := strings.IndexByte(s[i+3:], '/')
		if j < 0 {
			return template{}, fmt.Errorf("parse template %q: no path", raw)
		}
		s = s[i+3+j:]
	}
	if !strings.HasPrefix(s, "/") {
		return template{}, fmt.Errorf("parse template %q: not an absolute URL or path", raw)
	}
	var t template
	if i := strings.Index(s, "&o="); i >= 0 {
		s, t.tail = s[:i], s[i:]
	}
	for s != "" {
		i := strings.Index(s, "__")
		if i < 0 {
			t.segs = append(t.segs, segment{lit: s})
			break
		}
		j := strings.Index(s[i+2:], "__")
		if j < 0 || !isMacroName(s[i+2:i+2+j]) {
			// Not a macro: keep the underscores as text.
			t.segs = append(t.segs, segment{lit: s[:i+2]})
			s = s[i+2:]
			continue
		}
		t.segs = append(t.segs, segment{lit: s[:i], macro: s[i+2 : i+2+j]})
		s = s[i+2+j+2:]
	}
	return t, nil
}

// isMacroName reports whether s can be the name of a __NAME__ macro.
func isMacroName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// filler supplies macro values. fill returns the value to put in place of
// __name__ and true, or false to leave the macro as it is.
type filler interface {
	fill(name string) (string, bool)
}

// appendTo writes the template with macros filled by f, then what extra
// appends (the SDK's own parameters, "&k=v…"; extra may be nil), then the
// tail.
func (t *template) appendTo(b []byte, f filler, extra func([]byte) []byte) []byte {
	for _, s := range t.segs {
		b = append(b, s.lit...)
		if s.macro == "" {
			continue
		}
		if v, ok := f.fill(s.macro); ok {
			b = append(b, v...)
		} else {
			b = append(b, "__"...)
			b = append(b, s.macro...)
			b = append(b, "__"...)
		}
	}
	if extra != nil {
		b = extra(b)
	}
	return append(b, t.tail...)
}
