package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testLogger discards logs unless the tests run with -v.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return nil
}

// mustOpen opens the log in dir and closes it at the end of the test unless
// the test closed it.
func mustOpen(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts, testLogger(t), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// payload returns a deterministic record of varying length for index i.
func payload(i int) []byte {
	p := fmt.Appendf(nil, "event-%08d|", i)
	for len(p) < 40+i%200 {
		p = append(p, byte('a'+i%26))
	}
	return p
}

// mustAppend appends recs and returns the first offset.
func mustAppend(t testing.TB, l *Log, recs ...[]byte) uint64 {
	t.Helper()
	first, err := l.Append(t.Context(), recs...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

// readAll reads every visible record from offset from and returns copies.
func readAll(t testing.TB, l *Log, from uint64) [][]byte {
	t.Helper()
	r, err := l.NewReader(from)
	if err != nil {
		t.Fatalf("NewReader(%d): %v", from, err)
	}
	defer r.Close()
	var out [][]byte
	for {
		rec, off, err := r.TryNext()
		if errors.Is(err, ErrNoRecord) || errors.Is(err, ErrClosed) {
			return out
		}
		if err != nil {
			t.Fatalf("TryNext at %d: %v", r.Offset(), err)
		}
		if want := from + uint64(len(out)); off != want {
			t.Fatalf("TryNext returned offset %d, want %d", off, want)
		}
		out = append(out, bytes.Clone(rec))
	}
}

// segments returns the first offsets of the segment files in dir.
func segments(t testing.TB, dir string) []uint64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var firsts []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok {
			firsts = append(firsts, first)
		}
	}
	return firsts
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xAB}, 100<<10)
	tests := []struct {
		name  string
		opts  Options
		batch [][][]byte
	}{
		{"single", Options{}, [][][]byte{{[]byte("hello")}}},
		{"empty record", Options{}, [][][]byte{{{}}, {[]byte("x"), {}}}},
		{"batches", Options{}, [][][]byte{{payload(1), payload(2), payload(3)}, {payload(4)}, {payload(5), payload(6)}}},
		{"large record", Options{}, [][][]byte{{payload(1)}, {big}, {payload(2)}}},
		{"interval mode", Options{Fsync: FsyncInterval}, [][][]byte{{payload(1), payload(2)}, {payload(3)}}},
		{"binary", Options{}, [][][]byte{{{0, 0, 0, 0, 0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), tt.opts)
			var want [][]byte
			for _, recs := range tt.batch {
				first := mustAppend(t, l, recs...)
				if first != uint64(len(want)) {
					t.Errorf("Append returned first %d, want %d", first, len(want))
				}
				want = append(want, recs...)
			}
			if got := l.NextOffset(); got != uint64(len(want)) {
				t.Errorf("NextOffset = %d, want %d", got, len(want))
			}
			if got := l.FirstOffset(); got != 0 {
				t.Errorf("FirstOffset = %d, want 0", got)
			}
			got := readAll(t, l, 0)
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("read back %d records, want %d (or contents differ)", len(got), len(want))
			}
			// Reading from the middle starts at that record.
			if mid := uint64(len(want) / 2); mid > 0 {
				got := readAll(t, l, mid)
				if !slices.EqualFunc(got, want[mid:], bytes.Equal) {
					t.Fatalf("read from %d differs", mid)
				}
			}
		})
	}
}

func TestAppendConcurrent(t *testing.T) {
	const (
		writers = 32
		appends = 100
	)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"always", Options{Fsync: FsyncAlways}},
		{"interval", Options{Fsync: FsyncInterval}},
		{"interval/write", Options{Fsync: FsyncInterval, noMap: true}},
	} {
		mode := tc.opts.Fsync
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			opts := tc.opts
			opts.SegmentSize = 64 << 10
			l, err := Open(t.TempDir(), opts, testLogger(t), reg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()

			var (
				mu   sync.Mutex
				want = map[uint64][]byte{}
				wg   sync.WaitGroup
			)
			// Syncs take the token path while Appends copy into the
			// mapped window (interval mode): both write the same file.
			stop := make(chan struct{})
			syncer := make(chan struct{})
			go func() {
				defer close(syncer)
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
					if err := l.Sync(); err != nil {
						t.Errorf("Sync: %v", err)
						return
					}
				}
			}()
			for w := range writers {
				wg.Go(func() {
					for i := range appends {
						// Batches of 1-3 records, each unique.
						n := 1 + (w+i)%3
						recs := make([][]byte, n)
						for j := range recs {
							recs[j] = fmt.Appendf(nil, "w%02d-a%03d-r%d-%s", w, i, j, bytes.Repeat([]byte{'x'}, 100))
						}
						first, err := l.Append(t.Context(), recs...)
						if err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						mu.Lock()
						for j, r := range recs {
							if _, dup := want[first+uint64(j)]; dup {
								t.Errorf("offset %d returned twice", first+uint64(j))
							}
							want[first+uint64(j)] = r
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(stop)
			<-syncer

			got := readAll(t, l, 0)
			if len(got) != len(want) {
				t.Fatalf("read %d records, appended %d", len(got), len(want))
			}
			for off, rec := range got {
				if !bytes.Equal(rec, want[uint64(off)]) {
					t.Fatalf("record %d = %q, want %q", off, rec, want[uint64(off)])
				}
			}
			if n := len(segments(t, l.dir)); n < 2 {
				t.Errorf("got %d segments, want a rollover", n)
			}
			// Group commit: fewer batches than Appends. Only the always mode
			// must batch (appends wait for one fdatasync together); in the
			// interval mode an uncontended Append writes alone, and on one
			// CPU none overlap.
			m := gather(t, reg)
			if got := m["admeter_eventlog_records_appended_total"]; got != float64(len(want)) {
				t.Errorf("records_appended_total = %v, want %d", got, len(want))
			}
			if batches := m["admeter_eventlog_batch_records_count"]; mode == FsyncAlways && batches >= writers*appends {
				t.Errorf("%v batches for %d appends: no group commit", batches, writers*appends)
			}
			t.Logf("%d appends in %v batches", writers*appends, m["admeter_eventlog_batch_records_count"])
		})
	}
}

func TestRollover(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Options{SegmentSize: 1024})
	var want [][]byte
	for i := range 100 {
		recs := [][]byte{payload(i)}
		if i%7 == 0 {
			recs = append(recs, payload(1000+i))
		}
		mustAppend(t, l, recs...)
		want = append(want, recs...)
	}
	segs := segments(t, dir)
	if len(segs) < 10 {
		t.Fatalf("got %d segments, want at least 10", len(segs))
	}
	// Each segment is named by its first record's offset and fits the size
	// limit; batches never span segments.
	for i, first := range segs {
		fi, err := os.Stat(filepath.Join(dir, segmentName(first)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1024 {
			t.Errorf("segment %d is %d bytes, limit 1024", first, fi.Size())
		}
		if i > 0 {
			r, err := l.NewReader(first)
			if err != nil {
				t.Fatal(err)
			}
			rec, off, err := r.TryNext()
			if err != nil || off != first || !bytes.Equal(rec, want[first]) {
				t.Errorf("reading segment start %d: got %d %q %v", first, off, rec, err)
			}
			r.Close()
		}
	}
	if got := readAll(t, l, 0); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("read back differs: %d records, want %d", len(got), len(want))
	}
}

func TestReopen(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Fsync: mode, SegmentSize: 2048}
			var want [][]byte
			for round := range 3 {
				l, err := Open(dir, opts, testLogger(t), nil)
				if err != nil {
					t.Fatalf("round %d: Open: %v", round, err)
				}
				if got := l.NextOffset(); got != uint64(len(want)) {
					t.Fatalf("round %d: NextOffset = %d, want %d", round, got, len(want))
				}
				for i := range 30 {
					p := payload(round*100 + i)
					if first := mustAppend(t, l, p); first != uint64(len(want)) {
						t.Fatalf("round %d: Append first = %d, want %d", round, first, len(want))
					}
					want = append(want, p)
				}
				if err := l.Close(); err != nil {
					t.Fatalf("round %d: Close: %v", round, err)
				}
			}
			l := mustOpen(t, dir, opts)
			if got := readAll(t, l, 0); !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("read back %d records, want %d (or contents differ)", len(got), len(want))
			}
		})
	}
}

func TestClose(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{})
	mustAppend(t, l, payload(1))
	r, err := l.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := l.Append(t.Context(), payload(2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: err = %v, want ErrClosed", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: err = %v, want ErrClosed", err)
	}
	if _, err := l.RemoveBefore(1); !errors.Is(err, ErrClosed) {
		t.Errorf("RemoveBefore after Close: err = %v, want ErrClosed", err)
	}
	if err := l.Roll(); !errors.Is(err, ErrClosed) {
		t.Errorf("Roll after Close: err = %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: err = %v, want ErrClosed", err)
	}
	// A reader still returns what was visible, then ErrClosed.
	if rec, _, err := r.Next(t.Context()); err != nil || !bytes.Equal(rec, payload(1)) {
		t.Errorf("Next after Close = %q, %v", rec, err)
	}
	if _, _, err := r.Next(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next at end after Close: err = %v, want ErrClosed", err)
	}
}

func TestCloseWakesReaderAndFlushesAppends(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Options{Fsync: mode})
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			done := make(chan error)
			go func() {
				_, _, err := r.Next(context.Background())
				done <- err
			}()
			// Appends racing with Close either succeed and are durable (written
			// in FsyncInterval mode), or fail with ErrClosed.
			var wg sync.WaitGroup
			acked := make(chan uint64, 100)
			for i := range 100 {
				wg.Go(func() {
					first, err := l.Append(context.Background(), payload(i))
					switch {
					case err == nil:
						acked <- first
					case !errors.Is(err, ErrClosed):
						t.Errorf("Append: %v", err)
					}
				})
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(acked)
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("blocked Next: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("blocked Next not woken by Close")
			}
			l2 := mustOpen(t, l.dir, Options{Fsync: mode})
			n := l2.NextOffset()
			for off := range acked {
				if off >= n {
					t.Errorf("acknowledged offset %d missing after reopen (next %d)", off, n)
				}
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{MaxBatchBytes: 1024})
	if _, err := l.Append(t.Context(), make([]byte, 1024)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized record: err = %v, want ErrTooLarge", err)
	}
	if _, err := l.Append(t.Context(), make([]byte, 600), make([]byte, 600)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized batch: err = %v, want ErrTooLarge", err)
	}
	if first, err := l.Append(t.Context()); err != nil || first != 0 {
		t.Errorf("empty Append = %d, %v; want 0, nil", first, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Append(ctx, payload(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Append: err = %v, want context.Canceled", err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := l.NextOffset(); n != 0 {
		t.Errorf("NextOffset = %d after failed Appends, want 0", n)
	}
	if first := mustAppend(t, l, make([]byte, 1024-recordHeaderSize)); first != 0 {
		t.Errorf("Append at the limit: first = %d, want 0", first)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, Options{})
	if _, err := Open(dir, Options{}, nil, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: err = %v, want ErrLocked", err)
	}
	for _, opts := range []Options{
		{SegmentSize: 100},
		{Fsync: FsyncMode(7)},
		{FsyncInterval: -time.Second},
		{MaxBatchBytes: -1},
	} {
		if _, err := Open(t.TempDir(), opts, nil, nil); err == nil {
			t.Errorf("Open(%+v) succeeded, want an error", opts)
		}
	}
	// The same registerer can be used again after Close.
	reg := prometheus.NewRegistry()
	dir2 := t.TempDir()
	for range 2 {
		l, err := Open(dir2, Options{}, nil, reg)
		if err != nil {
			t.Fatalf("Open with registry: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSyncIntervalMode(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	l, err := Open(dir, Options{Fsync: FsyncInterval, FsyncInterval: time.Millisecond}, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		mustAppend(t, l, payload(i))
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	// The background syncer runs on its own, too.
	deadline := time.Now().Add(5 * time.Second)
	for gather(t, reg)["admeter_eventlog_fsync_duration_seconds_count"] < 2 {
		if time.Now().After(deadline) {
			t.Fatal("background fdatasync did not run")
		}
		mustAppend(t, l, payload(0))
		time.Sleep(5 * time.Millisecond)
	}
	n := l.NextOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, Options{Fsync: FsyncInterval})
	if got := l.NextOffset(); got != n {
		t.Fatalf("NextOffset after reopen = %d, want %d", got, n)
	}
	got := readAll(t, l, 0)
	for i := range 50 {
		if !bytes.Equal(got[i], payload(i)) {
			t.Fatalf("record %d differs after reopen", i)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := Open(t.TempDir(), Options{SegmentSize: 1024}, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var bytesWritten int
	for i := range 20 {
		mustAppend(t, l, payload(i), payload(i+1))
		bytesWritten += 2*recordHeaderSize + len(payload(i)) + len(payload(i+1))
	}
	m := gather(t, reg)
	for name, want := range map[string]float64{
		"admeter_eventlog_records_appended_total":      40,
		"admeter_eventlog_bytes_appended_total":        float64(bytesWritten),
		"admeter_eventlog_next_offset":                 40,
		"admeter_eventlog_segments":                    float64(len(segments(t, l.dir))),
		"admeter_eventlog_batch_records_count":         20,
		"admeter_eventlog_torn_tail_truncations_total": 0,
		"admeter_eventlog_segments_removed_total":      0,
	} {
		if got := m[name]; got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if m["admeter_eventlog_fsync_duration_seconds_count"] < 20 {
		t.Errorf("fsync count = %v, want at least 20", m["admeter_eventlog_fsync_duration_seconds_count"])
	}
}

// gather returns every metric in reg by name; histograms as name_count and
// name_sum.
func gather(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[mf.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}
