package eventlog

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReaderBlocksUntilAppend(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Options{Fsync: mode})
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			if _, _, err := r.TryNext(); !errors.Is(err, ErrNoRecord) {
				t.Fatalf("TryNext on empty log: err = %v, want ErrNoRecord", err)
			}
			type result struct {
				rec []byte
				off uint64
				err error
			}
			got := make(chan result)
			go func() {
				for range 2 {
					rec, off, err := r.Next(context.Background())
					got <- result{bytes.Clone(rec), off, err}
				}
			}()
			select {
			case res := <-got:
				t.Fatalf("Next returned %+v before any Append", res)
			case <-time.After(20 * time.Millisecond):
			}
			mustAppend(t, l, payload(0))
			mustAppend(t, l, payload(1))
			for i := range 2 {
				select {
				case res := <-got:
					if res.err != nil || res.off != uint64(i) || !bytes.Equal(res.rec, payload(i)) {
						t.Fatalf("Next = %q, %d, %v; want record %d", res.rec, res.off, res.err, i)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Next not woken by Append")
				}
			}
		})
	}
}

func TestReaderContext(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{})
	mustAppend(t, l, payload(0))
	r, err := l.NewReader(1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: err = %v, want DeadlineExceeded", err)
	}
	// The reader is still usable.
	mustAppend(t, l, payload(1))
	if rec, off, err := r.Next(t.Context()); err != nil || off != 1 || !bytes.Equal(rec, payload(1)) {
		t.Fatalf("Next = %q, %d, %v", rec, off, err)
	}
	if _, err := l.NewReader(3); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("NewReader past NextOffset: err = %v, want ErrOutOfRange", err)
	}
}

// TestReaderFollowsWriter tails the log while several writers append across
// many rollovers.
func TestReaderFollowsWriter(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			const total = 600
			l := mustOpen(t, t.TempDir(), Options{Fsync: mode, SegmentSize: 2048})
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			errc := make(chan error, 1)
			go func() {
				for i := range total / 3 {
					// Three records per Append, so batches are visible
					// whole.
					if _, err := l.Append(context.Background(), payload(3*i), payload(3*i+1), payload(3*i+2)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			for i := range total {
				rec, off, err := r.Next(ctx)
				if err != nil {
					t.Fatalf("Next at %d: %v", i, err)
				}
				if off != uint64(i) || !bytes.Equal(rec, payload(i)) {
					t.Fatalf("Next = %q at %d, want record %d", rec, off, i)
				}
				if durable := l.NextOffset(); off >= durable {
					t.Fatalf("reader saw offset %d, log has %d visible", off, durable)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if n := len(segments(t, l.dir)); n < 20 {
				t.Errorf("only %d segments; want many rollovers", n)
			}
		})
	}
}

// TestAppendContextWhileWaiting cancels Appends while they wait for the group
// commit: each either succeeds with its record at the returned offset or
// returns the context's error, and the log stays consistent either way.
func TestAppendContextWhileWaiting(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Options{})
	type ack struct {
		off uint64
		rec []byte
	}
	acks := make(chan ack, 200)
	var timedOut atomic.Int32
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			timeouts := []time.Duration{0, 50 * time.Microsecond, 500 * time.Microsecond, 5 * time.Millisecond, time.Minute}
			ctx, cancel := context.WithTimeout(t.Context(), timeouts[i%len(timeouts)])
			defer cancel()
			rec := payload(i)
			off, err := l.Append(ctx, rec)
			switch {
			case err == nil:
				acks <- ack{off, rec}
			case errors.Is(err, context.DeadlineExceeded):
				timedOut.Add(1)
			default:
				t.Errorf("Append: %v", err)
			}
		})
	}
	wg.Wait()
	close(acks)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l, 0)
	n := 0
	for a := range acks {
		n++
		if a.off >= uint64(len(got)) || !bytes.Equal(got[a.off], a.rec) {
			t.Fatalf("acknowledged record at %d missing or different", a.off)
		}
	}
	// Timed-out Appends may or may not have been written.
	if n < 40 || len(got) < n || len(got) > 160 {
		t.Fatalf("log has %d records, %d acknowledged of 200", len(got), n)
	}
	t.Logf("%d acknowledged, %d timed out, %d in the log", n, timedOut.Load(), len(got))
}
