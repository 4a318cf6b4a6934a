package collect

import (
	"net/http"
	"strconv"
	"testing"
)

// netHTTPCookie is what net/http's Request.Cookie finds: the reference
// cookieValue must agree with.
func netHTTPCookie(lines []string, name string) (string, bool) {
	r := &http.Request{Header: http.Header{"Cookie": lines}}
	ck, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return ck.Value, true
}

func TestCookieValue(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
	}{
		{"none", nil},
		{"only", []string{"admeter_id=AAAAAAAAAAAAAAAAAAAAAA"}},
		{"among others", []string{"a=b; admeter_id=xyz; c=d"}},
		{"first of two", []string{"admeter_id=one; admeter_id=two"}},
		{"second line", []string{"a=b", "admeter_id=two"}},
		{"quoted", []string{`admeter_id="q"`}},
		{"lone quote", []string{`admeter_id="`}},
		{"invalid value skipped for the next", []string{`admeter_id=a\b; admeter_id=ok`}},
		{"no equals sign", []string{"admeter_id"}},
		{"empty value", []string{"admeter_id="}},
		{"spaces around", []string{"  admeter_id =  v ;x=y"}},
		{"tab", []string{"\tadmeter_id=v\t"}},
		{"prefix of another name", []string{"admeter_idx=1; xadmeter_id=2"}},
		{"vertical tab is not trimmed", []string{"\vadmeter_id=v"}},
		{"non-ASCII value", []string{"admeter_id=é"}},
		{"comma and space inside", []string{"admeter_id=a, b"}},
		{"empty parts", []string{";;admeter_id=v;;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gotOK := cookieValue(tt.lines, "admeter_id")
			want, wantOK := netHTTPCookie(tt.lines, "admeter_id")
			if got != want || gotOK != wantOK {
				t.Errorf("cookieValue(%q) = %q, %v; net/http finds %q, %v", tt.lines, got, gotOK, want, wantOK)
			}
		})
	}
}

// FuzzCookieValue checks cookieValue against net/http on any Cookie header.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"admeter_id=v", "a=b; admeter_id=\"x\"", "admeter_id", " admeter_id = v ", "admeter_id=\\;admeter_id=2"} {
		f.Add(s, "")
	}
	f.Add("admeter_id=1", "admeter_id=2")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1}
		if line2 != "" {
			lines = append(lines, line2)
		}
		got, gotOK := cookieValue(lines, "admeter_id")
		want, wantOK := netHTTPCookie(lines, "admeter_id")
		if got != want || gotOK != wantOK {
			t.Errorf("cookieValue(%q) = %q, %v; net/http finds %q, %v", lines, got, gotOK, want, wantOK)
		}
	})
}

func TestMonitoringAnswerHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 6, 7, 20} {
		var a MonitoringAnswer
		for i := range n {
			a.add("X-H", strconv.Itoa(i))
		}
		h := a.Header()
		if len(h) != n {
			t.Fatalf("%d headers added, %d kept", n, len(h))
		}
		for i, f := range h {
			if f.Value != strconv.Itoa(i) {
				t.Fatalf("%d headers: header %d is %q", n, i, f.Value)
			}
		}
	}
}
