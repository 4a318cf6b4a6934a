package eventlog

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// openSegmented opens a log in dir with 1 KiB segments holding records
// payload(0) .. payload(n-1), one per Append, and returns it with the first
// offsets of its segments.
func openSegmented(t *testing.T, dir string, n int, reg prometheus.Registerer) (*Log, []uint64) {
	t.Helper()
	l, err := Open(dir, Options{SegmentSize: 1024}, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	for i := range n {
		mustAppend(t, l, payload(i))
	}
	segs := segments(t, dir)
	if len(segs) < 5 {
		t.Fatalf("got %d segments, want at least 5", len(segs))
	}
	return l, segs
}

func TestRemoveBefore(t *testing.T) {
	const n = 60
	_, layout := openSegmented(t, t.TempDir(), n, nil)
	last := len(layout) - 1
	for _, tt := range []struct {
		name   string
		offset uint64
		remove int // segments removed, oldest first
	}{
		{"Zero", 0, 0},
		{"InsideFirst", layout[1] - 1, 0},
		{"AtSecond", layout[1], 1},
		{"InsideSecond", layout[1] + 1, 1},
		{"LastOfSecond", layout[2] - 1, 1},
		{"AtThird", layout[2], 2},
		{"AtActive", layout[last], last},
		{"InsideActive", layout[last] + 1, last},
		{"NextOffset", n, last},
		{"Max", math.MaxUint64, last},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			reg := prometheus.NewRegistry()
			l, segs := openSegmented(t, dir, n, reg)
			if !slices.Equal(segs, layout) {
				t.Fatalf("segments %v, want the layout %v", segs, layout)
			}

			removed, err := l.RemoveBefore(tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			if removed != tt.remove {
				t.Fatalf("RemoveBefore(%d) removed %d segments, want %d", tt.offset, removed, tt.remove)
			}
			check := func(l *Log) {
				t.Helper()
				if got := segments(t, dir); !slices.Equal(got, segs[tt.remove:]) {
					t.Fatalf("segments on disk %v, want %v", got, segs[tt.remove:])
				}
				first := segs[tt.remove]
				if got := l.FirstOffset(); got != first {
					t.Fatalf("FirstOffset = %d, want %d", got, first)
				}
				if got := l.NextOffset(); got != n {
					t.Fatalf("NextOffset = %d, want %d", got, n)
				}
				got := readAll(t, l, first)
				if len(got) != n-int(first) {
					t.Fatalf("read %d records from %d, want %d", len(got), first, n-int(first))
				}
				for i, rec := range got {
					if !bytes.Equal(rec, payload(int(first)+i)) {
						t.Fatalf("record %d differs", int(first)+i)
					}
				}
				if first > 0 {
					_, err := l.NewReader(first - 1)
					if !errors.Is(err, ErrRemoved) || errors.Is(err, ErrOutOfRange) {
						t.Fatalf("NewReader(%d) below FirstOffset: err = %v, want ErrRemoved", first-1, err)
					}
				}
			}
			check(l)
			m := gather(t, reg)
			if got, want := m["admeter_eventlog_segments"], float64(len(segs)-tt.remove); got != want {
				t.Errorf("segments gauge = %v, want %v", got, want)
			}
			if got := m["admeter_eventlog_segments_removed_total"]; got != float64(tt.remove) {
				t.Errorf("segments_removed_total = %v, want %d", got, tt.remove)
			}

			// Removing again below the new start does nothing.
			if removed, err := l.RemoveBefore(tt.offset); err != nil || removed != 0 {
				t.Fatalf("second RemoveBefore(%d) = %d, %v; want 0, nil", tt.offset, removed, err)
			}

			// Reopening finds the same start, from the segment names, and
			// appends after the last record.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, dir, Options{SegmentSize: 1024})
			check(l)
			if first := mustAppend(t, l, payload(n)); first != n {
				t.Fatalf("Append after reopening: first = %d, want %d", first, n)
			}
		})
	}
}

func TestRemoveBefore_Readers(t *testing.T) {
	l, segs := openSegmented(t, t.TempDir(), 60, nil)

	// inside has segment 1 open, past its first record.
	inside, err := l.NewReader(segs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if _, _, err := inside.TryNext(); err != nil {
		t.Fatal(err)
	}
	// unopened was created at segment 1 but has read nothing.
	unopened, err := l.NewReader(segs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer unopened.Close()
	// kept reads segment 3, which stays.
	kept, err := l.NewReader(segs[3])
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	if _, _, err := kept.TryNext(); err != nil {
		t.Fatal(err)
	}

	if removed, err := l.RemoveBefore(segs[3]); err != nil || removed != 3 {
		t.Fatalf("RemoveBefore = %d, %v; want 3, nil", removed, err)
	}

	// inside reads its open segment to the end, then finds segment 2 gone.
	for inside.Offset() < segs[2] {
		rec, off, err := inside.TryNext()
		if err != nil {
			t.Fatalf("reading removed segment at %d: %v", inside.Offset(), err)
		}
		if !bytes.Equal(rec, payload(int(off))) {
			t.Fatalf("record %d differs", off)
		}
	}
	_, _, err = inside.TryNext()
	if !errors.Is(err, ErrRemoved) {
		t.Fatalf("reading past the open removed segment: err = %v, want ErrRemoved", err)
	}
	if !strings.Contains(err.Error(), "resume at FirstOffset") {
		t.Errorf("error does not say what to do: %v", err)
	}
	if _, _, err := unopened.Next(t.Context()); !errors.Is(err, ErrRemoved) {
		t.Fatalf("first read of a removed segment: err = %v, want ErrRemoved", err)
	}

	// kept goes on to the end and follows new Appends.
	for off := segs[3] + 1; off < 60; off++ {
		rec, got, err := kept.TryNext()
		if err != nil || got != off || !bytes.Equal(rec, payload(int(off))) {
			t.Fatalf("kept reader at %d: %d %v", off, got, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		rec, off, err := kept.Next(t.Context())
		if err == nil && (off != 60 || !bytes.Equal(rec, payload(60))) {
			err = errors.New("wrong record after RemoveBefore")
		}
		done <- err
	}()
	mustAppend(t, l, payload(60))
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A consumer that met ErrRemoved resumes at FirstOffset.
	r, err := l.NewReader(l.FirstOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, off, err := r.TryNext(); err != nil || off != segs[3] {
		t.Fatalf("resumed at %d, %v; want %d", off, err, segs[3])
	}

	// Past NextOffset is still out of range, not removed.
	_, err = l.NewReader(l.NextOffset() + 1)
	if !errors.Is(err, ErrOutOfRange) || errors.Is(err, ErrRemoved) {
		t.Fatalf("NewReader past NextOffset: err = %v, want ErrOutOfRange", err)
	}
}

// TestRemoveBefore_Failure replaces a segment file with a directory that
// cannot be removed: the segments before it go, it and the later ones stay.
func TestRemoveBefore_Failure(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	l, segs := openSegmented(t, dir, 60, reg)
	blocked := filepath.Join(dir, segmentName(segs[1]))
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	removed, err := l.RemoveBefore(segs[3])
	if err == nil || !strings.Contains(err.Error(), blocked) {
		t.Fatalf("RemoveBefore err = %v, want the path of the segment it could not remove", err)
	}
	if removed != 1 {
		t.Fatalf("removed %d segments, want 1", removed)
	}
	if got := l.FirstOffset(); got != segs[1] {
		t.Fatalf("FirstOffset = %d, want %d (the segment that could not be removed)", got, segs[1])
	}
	m := gather(t, reg)
	if got, want := m["admeter_eventlog_segments"], float64(len(segs)-1); got != want {
		t.Errorf("segments gauge = %v, want %v", got, want)
	}
	if got := m["admeter_eventlog_segments_removed_total"]; got != 1 {
		t.Errorf("segments_removed_total = %v, want 1", got)
	}
	// Segment 2 is still readable.
	if got := readAll(t, l, segs[2]); len(got) != 60-int(segs[2]) {
		t.Fatalf("read %d records from %d", len(got), segs[2])
	}

	// Once the obstacle is gone, the next call finishes the job.
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	if removed, err := l.RemoveBefore(segs[3]); err != nil || removed != 2 {
		t.Fatalf("RemoveBefore = %d, %v; want 2, nil", removed, err)
	}
	if got := segments(t, dir); !slices.Equal(got, segs[3:]) {
		t.Fatalf("segments = %v, want %v", got, segs[3:])
	}
}

func TestRoll(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Fsync: mode, SegmentSize: 1 << 20}
			l := mustOpen(t, dir, opts)

			// Nothing to close on an empty active segment.
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			if got := segments(t, dir); !slices.Equal(got, []uint64{0}) {
				t.Fatalf("Roll of an empty log: segments = %v, want [0]", got)
			}

			for i := range 5 {
				mustAppend(t, l, payload(i))
			}
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range 3 {
				if _, _, err := r.TryNext(); err != nil {
					t.Fatal(err)
				}
			}

			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			if err := l.Roll(); err != nil { // the new segment is empty: no-op
				t.Fatal(err)
			}
			if got := segments(t, dir); !slices.Equal(got, []uint64{0, 5}) {
				t.Fatalf("segments after Roll = %v, want [0 5]", got)
			}
			// The closed segment holds all five records, durably.
			f, err := os.Open(filepath.Join(dir, segmentName(0)))
			if err != nil {
				t.Fatal(err)
			}
			res, err := scanSegment(f, 0)
			f.Close()
			if err != nil || res.records != 5 || res.good != res.size {
				t.Fatalf("closed segment: %+v, %v; want 5 records and nothing after", res, err)
			}

			// Everything loaded so far can go, leaving the empty active
			// segment.
			next := l.NextOffset()
			if removed, err := l.RemoveBefore(next); err != nil || removed != 1 {
				t.Fatalf("RemoveBefore(NextOffset) = %d, %v; want 1, nil", removed, err)
			}
			if got := segments(t, dir); !slices.Equal(got, []uint64{5}) {
				t.Fatalf("segments = %v, want only the empty active [5]", got)
			}
			if first := l.FirstOffset(); first != 5 || next != 5 {
				t.Fatalf("FirstOffset = %d, NextOffset = %d; want 5, 5", first, next)
			}
			assertNoPayloads(t, dir, 5)

			// The reader finishes the removed segment it has open and
			// follows into the new one.
			mustAppend(t, l, payload(5))
			for want := uint64(3); want < 6; want++ {
				rec, off, err := r.TryNext()
				if err != nil || off != want || !bytes.Equal(rec, payload(int(want))) {
					t.Fatalf("reader at %d: got %d, %v", want, off, err)
				}
			}

			// Reopening keeps the offsets.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, dir, opts)
			if first, next := l.FirstOffset(), l.NextOffset(); first != 5 || next != 6 {
				t.Fatalf("after reopening: FirstOffset = %d, NextOffset = %d; want 5, 6", first, next)
			}
			if got := readAll(t, l, 5); len(got) != 1 || !bytes.Equal(got[0], payload(5)) {
				t.Fatalf("after reopening: read %q", got)
			}
		})
	}
}

// TestRoll_ReopenEmpty reopens a log whose only segment is the empty one
// that Roll started: its first offset comes from its name.
func TestRoll_ReopenEmpty(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Options{})
	for i := range 7 {
		mustAppend(t, l, payload(i))
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RemoveBefore(l.NextOffset()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoPayloads(t, dir, 7)
	l = mustOpen(t, dir, Options{})
	if first, next := l.FirstOffset(), l.NextOffset(); first != 7 || next != 7 {
		t.Fatalf("FirstOffset = %d, NextOffset = %d; want 7, 7", first, next)
	}
	if _, err := l.NewReader(6); !errors.Is(err, ErrRemoved) {
		t.Fatalf("NewReader(6): err = %v, want ErrRemoved", err)
	}
	if first := mustAppend(t, l, payload(7)); first != 7 {
		t.Fatalf("Append = %d, want 7", first)
	}
}

// TestRemoveBefore_Concurrent appends from several goroutines while a
// consumer reads and checkpoints, and a remover rolls and removes what the
// consumer has read; a slow reader that falls behind resumes at FirstOffset.
// Run with -race.
func TestRemoveBefore_Concurrent(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			reg := prometheus.NewRegistry()
			l, err := Open(dir, Options{Fsync: mode, SegmentSize: 2048}, testLogger(t), reg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()

			const writers, perWriter = 4, 150
			const total = writers * perWriter
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()

			var checkpoint atomic.Uint64 // the consumer has read every record below it
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range perWriter {
						if _, err := l.Append(ctx, payload(w*perWriter+i)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}

			// The consumer must never meet a removed record.
			wg.Go(func() {
				r, err := l.NewReader(0)
				if err != nil {
					t.Error(err)
					return
				}
				defer r.Close()
				for want := uint64(0); want < total; want++ {
					rec, off, err := r.Next(ctx)
					if err != nil {
						t.Errorf("consumer at %d: %v", want, err)
						return
					}
					if off != want || !bytes.HasPrefix(rec, []byte("event-")) {
						t.Errorf("consumer got %q at %d, want offset %d", rec, off, want)
						return
					}
					checkpoint.Store(off + 1)
				}
			})

			// A slow reader may fall behind; it resumes at FirstOffset.
			var resumed atomic.Int64
			wg.Go(func() {
				r, err := l.NewReader(0)
				if err != nil {
					t.Error(err)
					return
				}
				defer func() { r.Close() }()
				last := uint64(0)
				for r.Offset() < total {
					_, off, err := r.Next(ctx)
					if errors.Is(err, ErrRemoved) {
						resumed.Add(1)
						r.Close()
						if r, err = l.NewReader(l.FirstOffset()); err != nil {
							t.Error(err)
							return
						}
						continue
					}
					if err != nil {
						t.Errorf("slow reader: %v", err)
						return
					}
					if off < last {
						t.Errorf("slow reader went back from %d to %d", last, off)
						return
					}
					last = off
					time.Sleep(50 * time.Microsecond)
				}
			})

			var removed atomic.Int64
			stop := make(chan struct{})
			remover := make(chan struct{})
			go func() {
				defer close(remover)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if i%5 == 0 {
						if err := l.Roll(); err != nil {
							t.Error(err)
							return
						}
					}
					n, err := l.RemoveBefore(checkpoint.Load())
					if err != nil {
						t.Error(err)
						return
					}
					removed.Add(int64(n))
					_ = l.FirstOffset()
					time.Sleep(100 * time.Microsecond)
				}
			}()
			wg.Wait()
			close(stop)
			<-remover

			if got := l.NextOffset(); got != total {
				t.Fatalf("NextOffset = %d, want %d", got, total)
			}
			if removed.Load() == 0 {
				t.Fatal("nothing was removed")
			}
			// The in-memory segment list, the files and the metrics agree.
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.RemoveBefore(total); err != nil {
				t.Fatal(err)
			}
			if got := segments(t, dir); !slices.Equal(got, []uint64{total}) {
				t.Fatalf("segments = %v, want only the empty active [%d]", got, total)
			}
			m := gather(t, reg)
			if m["admeter_eventlog_segments"] != 1 {
				t.Errorf("segments gauge = %v, want 1", m["admeter_eventlog_segments"])
			}
			t.Logf("removed %v segments; the slow reader resumed %d times", m["admeter_eventlog_segments_removed_total"], resumed.Load())
			assertNoPayloads(t, dir, total)
		})
	}
}

// assertNoPayloads fails if any file in dir holds one of payload(0) ..
// payload(n-1): the raw records are gone from disk.
func assertNoPayloads(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if bytes.Contains(data, payload(i)) {
				t.Fatalf("%s still holds record %d", e.Name(), i)
			}
		}
	}
}

// TestRemoveBefore_ReaderOfActiveSegment removes the segment a Reader still
// takes for the active one, together with its successor: the Reader must
// find where its segment ends from the file, not from the next segment left.
func TestRemoveBefore_ReaderOfActiveSegment(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{})
	for i := range 5 {
		mustAppend(t, l, payload(i))
	}
	r, err := l.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, err := r.TryNext(); err != nil { // opens segment 0, active
		t.Fatal(err)
	}
	for i := 5; i < 8; i++ { // segments [0, 5), [5, 6), [6, 7), [7, …)
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, payload(i))
	}
	if removed, err := l.RemoveBefore(7); err != nil || removed != 3 {
		t.Fatalf("RemoveBefore(7) = %d, %v; want 3, nil", removed, err)
	}
	for want := uint64(1); want < 5; want++ {
		rec, off, err := r.TryNext()
		if err != nil || off != want || !bytes.Equal(rec, payload(int(want))) {
			t.Fatalf("reading the removed segment at %d: got %d, %v", want, off, err)
		}
	}
	if _, _, err := r.TryNext(); !errors.Is(err, ErrRemoved) {
		t.Fatalf("after the removed segment: err = %v, want ErrRemoved", err)
	}
}
