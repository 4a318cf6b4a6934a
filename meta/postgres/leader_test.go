package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunAsLeader: of two processes sharing a database, one runs the work
// at a time; when the leader stops, the other takes over within the retry
// interval; other work names and schemas are independent.
func TestRunAsLeader(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)

	var running, most, runs atomic.Int32
	work := func(ctx context.Context) {
		runs.Add(1)
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-ctx.Done()
		running.Add(-1)
	}
	const retry = 100 * time.Millisecond
	ctxA, stopA := context.WithCancel(t.Context())
	ctxB, stopB := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.RunAsLeader(ctxA, "jobs", retry, work) })
	waitFor(t, func() bool { return running.Load() == 1 })
	wg.Go(func() { _ = b.RunAsLeader(ctxB, "jobs", retry, work) })

	// Other work is elected separately.
	other := make(chan struct{})
	ctxO, stopO := context.WithCancel(t.Context())
	wg.Go(func() {
		_ = b.RunAsLeader(ctxO, "other", retry, func(ctx context.Context) { close(other); <-ctx.Done() })
	})
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		t.Fatal("work under another name was not started while jobs had a leader")
	}
	stopO()

	time.Sleep(5 * retry)
	if most.Load() != 1 || runs.Load() != 1 {
		t.Fatalf("while a leads: %d ran at once, %d runs; want 1 and 1", most.Load(), runs.Load())
	}
	stopA() // a stops: b takes over
	waitFor(t, func() bool { return runs.Load() == 2 && running.Load() == 1 })
	if most.Load() != 1 {
		t.Fatalf("%d ran at once after the handover, want 1", most.Load())
	}
	stopB()
	wg.Wait()
	if running.Load() != 0 {
		t.Fatalf("%d still running after both stopped", running.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
	}
}
