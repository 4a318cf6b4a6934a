package textproc

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	s := segmenter(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"我们的新款手机续航很好，但是价格太贵了！", []string{"我们", "的", "新款手机", "续航", "很", "好", "但是", "价格", "太贵", "了"}},
		{"ＡＢＣ Phone is GREAT!!", []string{"abc", "phone", "is", "great"}},
		{"", nil},
	} {
		if got := s.Tokens(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
