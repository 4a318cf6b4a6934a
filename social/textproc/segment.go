package textproc

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/go-ego/gse"
	"golang.org/x/text/width"
)

// Segmenter splits text into tokens. Loading its dictionary takes about
// two seconds: make one per process and share it; it is safe for
// concurrent use.
type Segmenter struct {
	seg gse.Segmenter
}

// NewSegmenter loads gse's embedded Chinese dictionary.
func NewSegmenter() (*Segmenter, error) {
	s := &Segmenter{}
	s.seg.SkipLog = true // gse logs each dictionary file with package log; admeter logs with slog only
	if err := s.seg.LoadDict(); err != nil {
		return nil, fmt.Errorf("load the segmentation dictionary: %w", err)
	}
	return s, nil
}

// Normalize folds text for matching: full-width forms to half-width
// (ＡＢＣ１２３ to ABC123, the ideographic space to a space), letters to
// lower case.
func Normalize(text string) string {
	return strings.ToLower(width.Fold.String(text))
}

// Tokens returns the words of text, normalised (see Normalize), in order:
// Chinese words as gse segments them, English words and numbers as runs of
// letters and digits. Punctuation, symbols and spaces are dropped.
func (s *Segmenter) Tokens(text string) []string {
	var out []string
	for _, w := range s.seg.Cut(Normalize(text), true) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}
