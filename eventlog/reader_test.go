package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// TestReaderSeesWholeAppends tails the log while writers append batches of
// one to four records (some committing their own records, some waiting in a
// group commit) and another goroutine calls Sync in a loop: the Reader must
// see every record once, in offset order, and whenever it has caught up with
// the writers the last record it read must close its Append.
func TestReaderSeesWholeAppends(t *testing.T) {
	for _, mode := range []FsyncMode{FsyncAlways, FsyncInterval} {
		t.Run(mode.String(), func(t *testing.T) {
			const writers, appends = 8, 150
			l := mustOpen(t, t.TempDir(), Options{Fsync: mode, SegmentSize: 16 << 10})
			r, err := l.NewReader(0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			total := 0
			var wg sync.WaitGroup
			for w := range writers {
				for i := range appends {
					total += 1 + (w+i)%4
				}
				wg.Go(func() {
					for i := range appends {
						recs := make([][]byte, 1+(w+i)%4)
						for j := range recs {
							recs[j] = fmt.Appendf(nil, "%d/%d w%d a%d", j, len(recs), w, i)
						}
						if _, err := l.Append(t.Context(), recs...); err != nil {
							t.Errorf("Append: %v", err)
							return
						}
					}
				})
			}
			stop := make(chan struct{})
			synced := make(chan error, 1)
			go func() {
				for {
					select {
					case <-stop:
						synced <- nil
						return
					default:
					}
					if err := l.Sync(); err != nil {
						synced <- err
						return
					}
				}
			}()

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			// j and n of the last record read: the Reader is between two
			// Appends when j == n-1.
			j, n := -1, 0
			caughtUp := 0
			for read := 0; read < total; read++ {
				rec, off, err := r.TryNext()
				if errors.Is(err, ErrNoRecord) {
					caughtUp++
					if j != n-1 {
						t.Fatalf("reader caught up at offset %d inside an Append (record %d of %d)", r.Offset(), j, n)
					}
					rec, off, err = r.Next(ctx)
				}
				if err != nil {
					t.Fatalf("reading record %d: %v", read, err)
				}
				if off != uint64(read) {
					t.Fatalf("read offset %d, want %d", off, read)
				}
				var rj, rn int
				if _, err := fmt.Sscanf(string(rec), "%d/%d", &rj, &rn); err != nil {
					t.Fatalf("record %d = %q: %v", off, rec, err)
				}
				if wantJ := (j + 1) % max(n, 1); rj != wantJ || (rj > 0 && rn != n) {
					t.Fatalf("record %d is %d/%d after %d/%d: Appends interleaved", off, rj, rn, j, n)
				}
				j, n = rj, rn
			}
			wg.Wait()
			close(stop)
			if err := <-synced; err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if _, _, err := r.TryNext(); !errors.Is(err, ErrNoRecord) {
				t.Fatalf("TryNext after the last record: err = %v, want ErrNoRecord", err)
			}
			t.Logf("%d records; the reader caught up %d times", total, caughtUp)
		})
	}
}
