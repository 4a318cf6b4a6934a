package fastcollect

import (
	"testing"

	"github.com/admeter/admeter/collect"
)

// FuzzIsMonitoringPath: routing on the first bytes of the path decides as
// collect.IsMonitoringPath does on the whole of it.
func FuzzIsMonitoringPath(f *testing.F) {
	for _, s := range []string{"", "/", "/x", "/r", "/x/", "/x/k=1&p=2", "/x.gif", "/r/k=1&o=https://a/", "/xyz", "/rx", "/healthz", "x", "/X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if got, want := isMonitoringPath([]byte(path)), collect.IsMonitoringPath(path); got != want {
			t.Errorf("isMonitoringPath(%q) = %v, collect.IsMonitoringPath says %v", path, got, want)
		}
	})
}

func TestPanicText(t *testing.T) {
	var s []int
	func() {
		defer func() {
			if got := panicText(recover()); got != "runtime error: index out of range [3] with length 0" {
				t.Errorf("runtime error: %q", got)
			}
		}()
		_ = s[3]
	}()
	if got := panicText("m11=868049039501257"); got != "a panic of type string" {
		t.Errorf("string panic: %q, want its type only", got)
	}
}
