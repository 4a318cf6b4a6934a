package eventlog

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// wholeSegments checks that every segment file in dir holds whole Appends up
// to its last byte (no zeros allocated ahead left behind), but for the last
// one if it is still active, and returns the sealed segments' sizes.
func wholeSegments(t *testing.T, dir string, active bool) []int64 {
	t.Helper()
	var sizes []int64
	segs := segments(t, dir)
	if active {
		segs = segs[:len(segs)-1]
	}
	for _, first := range segs {
		f, err := os.Open(filepath.Join(dir, segmentName(first)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := scanSegment(f, first)
		_ = f.Close()
		if err != nil {
			t.Fatalf("segment %d: %v", first, err)
		}
		if res.good != res.size {
			t.Errorf("segment %d: %d bytes, records end at %d (%s)", first, res.size, res.good, res.reason)
		}
		sizes = append(sizes, res.size)
	}
	return sizes
}

// copyDir copies the files of dir into a new directory, as a crash of the
// process would leave them: the page cache, mapped writes included.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestMappedAppends(t *testing.T) {
	if !canMap {
		t.Skip("no mapped appends on this platform")
	}
	dir := t.TempDir()
	const segSize = 256 << 10
	l := mustOpen(t, dir, Options{Fsync: FsyncInterval, SegmentSize: segSize})

	var want [][]byte
	appendN := func(n int) {
		for range n {
			i := len(want)
			recs := [][]byte{payload(i)}
			if i%7 == 0 {
				recs = append(recs, payload(i+1)) // a two-record Append
			}
			if first := mustAppend(t, l, recs...); first != uint64(len(want)) {
				t.Fatalf("Append returned %d, want %d", first, len(want))
			}
			want = append(want, recs...)
		}
	}

	appendN(10)
	if l.win == nil {
		t.Fatal("interval mode on Linux: no mapped window after an Append")
	}
	last := filepath.Join(dir, segmentName(0))
	fi, err := os.Stat(last)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= l.size {
		t.Errorf("active segment is %d bytes, records end at %d: nothing allocated ahead", fi.Size(), l.size)
	}
	if got := readAll(t, l, 0); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("read back %d records, want %d (or contents differ)", len(got), len(want))
	}

	// Past several segments: each sealed one is cut to its records.
	appendN(5000)
	if err := l.Roll(); err != nil { // a rollover through the token path
		t.Fatal(err)
	}
	appendN(500)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	sizes := wholeSegments(t, dir, true)
	if len(sizes) < 3 {
		t.Fatalf("%d sealed segments, want several rollovers", len(sizes))
	}
	for _, n := range sizes {
		if n > segSize {
			t.Errorf("sealed segment of %d bytes, over the %d-byte segment size", n, segSize)
		}
	}

	// A crash now leaves the zeros allocated ahead after the last record:
	// Open cuts them without reporting a torn tail, and nothing is lost.
	crashed := copyDir(t, dir)
	reg := prometheus.NewRegistry()
	l2, err := Open(crashed, Options{Fsync: FsyncInterval}, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.NextOffset(); got != uint64(len(want)) {
		t.Errorf("after a crash: NextOffset %d, want %d", got, len(want))
	}
	if got := gather(t, reg)["admeter_eventlog_torn_tail_truncations_total"]; got != 0 {
		t.Errorf("after a crash: torn_tail_truncations_total = %v, want 0", got)
	}
	if got := readAll(t, l2, 0); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("after a crash: read back %d records, want %d (or contents differ)", len(got), len(want))
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	wholeSegments(t, crashed, false)

	// Close cuts the active segment to its records too.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wholeSegments(t, dir, false)
	l3 := mustOpen(t, dir, Options{Fsync: FsyncAlways})
	if got := readAll(t, l3, 0); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("after Close and reopening: read back %d records, want %d (or contents differ)", len(got), len(want))
	}
}
