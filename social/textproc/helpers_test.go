package textproc

import (
	"sync"
	"testing"
)

// loadSegmenter loads the dictionary once for every test, benchmark and
// fuzz target in the package.
var loadSegmenter = sync.OnceValues(NewSegmenter)

func segmenter(tb testing.TB) *Segmenter {
	tb.Helper()
	s, err := loadSegmenter()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
