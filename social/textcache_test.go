package social

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTexts returns a cache whose load counts its calls and takes a
// moment, so that concurrent first users overlap it.
func fakeTexts(idle time.Duration, fail *atomic.Bool) (*textCache, *atomic.Int32) {
	var loads atomic.Int32
	c := &textCache{idle: idle, load: func() (*textTools, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond)
		if fail != nil && fail.Load() {
			return nil, errors.New("no dictionary")
		}
		return &textTools{}, nil
	}}
	return c, &loads
}

func TestTextCacheLoadsOnceForConcurrentUsers(t *testing.T) {
	c, loads := fakeTexts(time.Hour, nil)
	if c.loaded() {
		t.Fatal("loaded before any use")
	}
	var wg sync.WaitGroup
	var loaders atomic.Int32
	tools := make([]*textTools, 8)
	for i := range tools {
		wg.Go(func() {
			tt, loaded, err := c.acquire(nil)
			if err != nil {
				t.Error(err)
				return
			}
			if loaded {
				loaders.Add(1)
			}
			tools[i] = tt
		})
	}
	wg.Wait()
	if loads.Load() != 1 || loaders.Load() != 1 {
		t.Errorf("%d loads, %d callers told they loaded; want 1 and 1", loads.Load(), loaders.Load())
	}
	for i, tt := range tools {
		if tt == nil || tt != tools[0] {
			t.Fatalf("caller %d got %p, caller 0 %p: want one shared copy", i, tt, tools[0])
		}
	}
	for range tools {
		c.release()
	}
	if !c.loaded() {
		t.Error("released at once; want kept for the idle period")
	}
}

func TestTextCacheReleasesAfterIdle(t *testing.T) {
	const idle = 50 * time.Millisecond
	c, loads := fakeTexts(idle, nil)
	if _, _, err := c.acquire(nil); err != nil {
		t.Fatal(err)
	}
	// In use: never released, however long.
	time.Sleep(3 * idle)
	if !c.loaded() {
		t.Fatal("released while in use")
	}
	c.release()
	waitFor(t, func() bool { return !c.loaded() }, "release after idle")

	// The next use loads again.
	if _, loaded, err := c.acquire(nil); err != nil || !loaded {
		t.Fatalf("acquire after release: loaded %v, err %v; want a new load", loaded, err)
	}
	if loads.Load() != 2 {
		t.Errorf("%d loads, want 2", loads.Load())
	}
	c.release()
}

func TestTextCacheUseRestartsIdle(t *testing.T) {
	const idle = 200 * time.Millisecond
	c, loads := fakeTexts(idle, nil)
	deadline := time.Now().Add(3 * idle)
	for time.Now().Before(deadline) {
		if _, _, err := c.acquire(nil); err != nil {
			t.Fatal(err)
		}
		c.release()
		time.Sleep(idle / 5)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads while used every %v with an idle period of %v; want 1", n, idle/5, idle)
	}
}

func TestTextCachePinnedStays(t *testing.T) {
	const idle = 20 * time.Millisecond
	c, _ := fakeTexts(idle, nil)
	c.pin()
	if _, _, err := c.acquire(nil); err != nil {
		t.Fatal(err)
	}
	c.release()
	time.Sleep(5 * idle)
	if !c.loaded() {
		t.Error("a pinned cache was released")
	}
}

func TestTextCacheRetriesAFailedLoad(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	c, loads := fakeTexts(time.Hour, &fail)
	if _, _, err := c.acquire(nil); err == nil {
		t.Fatal("acquire succeeded with a failing load")
	}
	if c.loaded() {
		t.Fatal("loaded after a failure")
	}
	fail.Store(false)
	if _, loaded, err := c.acquire(nil); err != nil || !loaded {
		t.Fatalf("second acquire: loaded %v, err %v; want a fresh load", loaded, err)
	}
	if loads.Load() != 2 {
		t.Errorf("%d loads, want 2", loads.Load())
	}
	c.release()
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTextCacheTellsMemoryHook(t *testing.T) {
	var fail atomic.Bool
	c, _ := fakeTexts(20*time.Millisecond, &fail)
	var mu sync.Mutex
	var calls []TextMemory
	c.memory = func(st TextMemory) {
		mu.Lock()
		calls = append(calls, st)
		mu.Unlock()
	}
	want := func(step string, w ...TextMemory) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(calls, w) {
			t.Fatalf("%s: the hook was told %v, want %v", step, calls, w)
		}
	}
	fail.Store(true)
	if _, _, err := c.acquire(nil); err == nil {
		t.Fatal("acquire succeeded with a failing load")
	}
	want("a failed load", TextBusy, TextIdle)
	fail.Store(false)
	if _, _, err := c.acquire(nil); err != nil {
		t.Fatal(err)
	}
	want("a load", TextBusy, TextIdle, TextBusy)
	if _, _, err := c.acquire(nil); err != nil {
		t.Fatal(err)
	}
	c.release()
	want("a second user, then one release", TextBusy, TextIdle, TextBusy)
	c.release()
	want("the last release", TextBusy, TextIdle, TextBusy, TextLoaded)
	waitFor(t, func() bool { return !c.loaded() }, "release after idle")
	want("the idle release", TextBusy, TextIdle, TextBusy, TextLoaded, TextIdle)
}

func TestTextCacheSurvivesAPanickingLoad(t *testing.T) {
	var panics atomic.Bool
	panics.Store(true)
	c := &textCache{idle: time.Hour, load: func() (*textTools, error) {
		if panics.Load() {
			panic("dictionary corrupt")
		}
		return &textTools{}, nil
	}}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the load's panic did not reach the caller")
			}
		}()
		_, _, _ = c.acquire(nil)
	}()
	panics.Store(false)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.acquire(nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("acquire after a panicking load waits for ever")
	}
	c.release()
}
