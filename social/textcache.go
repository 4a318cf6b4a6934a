package social

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/admeter/admeter/social/sentiment"
	"github.com/admeter/admeter/social/textproc"
)

// textTools are the segmenter and the sentiment scorer.
type textTools struct {
	seg    *textproc.Segmenter
	scorer *sentiment.Scorer
}

// loadTextTools loads the Chinese dictionary and the sentiment lexicon:
// about 3 s of CPU (far more under the race detector) and about 190 MiB of
// heap in some 2.5 million objects.
func loadTextTools() (*textTools, error) {
	seg, err := textproc.NewSegmenter()
	if err != nil {
		return nil, fmt.Errorf("load the Chinese dictionary: %w", err)
	}
	return &textTools{seg, sentiment.New(seg)}, nil
}

// textCache holds the process's text tools while they are in use. They are
// read-only and large: every Service of the process shares one copy,
// loaded on first use (concurrent first users wait for one load) and
// dropped once no one has used them for the idle period, unless pinned.
// A collector that never sees a social upload never carries them: their
// heap would double its memory and its garbage collector's marking.
type textCache struct {
	load func() (*textTools, error)

	mu      sync.Mutex
	idle    time.Duration // release after this long unused; 0: the default
	tools   *textTools
	loading chan struct{} // closed when the load in progress ends
	users   int           // acquired and not yet released
	pinned  bool          // never release (Service.Preload)
	last    time.Time     // last release
	timer   *time.Timer
	logger  *slog.Logger // of the last user, for the release line
	state   TextMemory   // last told to memory
	// memory, if set, is told each change of state.
	memory func(TextMemory)
}

// TextMemory is how much memory social text processing holds in the
// process.
type TextMemory int

const (
	// TextIdle: nothing is loaded.
	TextIdle TextMemory = iota
	// TextLoaded: the dictionary and lexicon are loaded (about 190 MiB of
	// heap) and no upload or report is using them.
	TextLoaded
	// TextBusy: the dictionary is loading, or uploads or reports are
	// running, which hold their records too: a report of the most records
	// one may read (Config.MaxPosts) keeps about 1.5 GB live.
	TextBusy
)

// SetTextMemoryHook sets a function told each time social text processing
// moves between TextIdle, TextLoaded and TextBusy; TextBusy is told before
// a load starts. A server uses it to raise its soft memory limit
// (runtime/debug.SetMemoryLimit) meanwhile, so that a limit sized for the
// collector does not make the garbage collector run without pause (a
// million-record report took 105 s under a 512 MiB limit, 60 s under
// 2 GiB). Set it once, before serving.
func SetTextMemoryHook(f func(TextMemory)) {
	texts.mu.Lock()
	texts.memory = f
	texts.mu.Unlock()
}

// tellLocked computes the state and tells memory if it changed. c.mu must
// be held.
func (c *textCache) tellLocked() {
	st := TextIdle
	switch {
	case c.loading != nil || c.users > 0:
		st = TextBusy
	case c.tools != nil:
		st = TextLoaded
	}
	if st == c.state {
		return
	}
	c.state = st
	if c.memory != nil {
		c.memory(st)
	}
}

// defaultTextIdle is how long unused text tools stay loaded.
const defaultTextIdle = 10 * time.Minute

// texts is the process's cache.
var texts = &textCache{load: loadTextTools}

// acquire returns the text tools, loading them if needed; loaded reports
// whether this call loaded them. Every successful acquire must be followed
// by one release when the caller no longer uses them.
func (c *textCache) acquire(logger *slog.Logger) (t *textTools, loaded bool, err error) {
	c.mu.Lock()
	for {
		if c.tools != nil {
			c.users++
			c.logger = logger
			c.tellLocked()
			t := c.tools
			c.mu.Unlock()
			return t, false, nil
		}
		if c.loading == nil {
			break
		}
		wait := c.loading
		c.mu.Unlock()
		<-wait
		c.mu.Lock()
		if c.tools == nil {
			// The load failed: try again ourselves.
			continue
		}
	}
	done := make(chan struct{})
	c.loading = done
	c.tellLocked()
	c.mu.Unlock()
	if logger != nil {
		logger.Info("loading social text processing (the Chinese dictionary, about 3 s); social requests wait for it")
	}

	// Whatever happens to the load, even a panic (which net/http would
	// recover from), the waiters are woken and the next user may load.
	ok := false
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.loading = nil
		close(done)
		if ok {
			c.tools = t
			c.users++
			c.logger = logger
		}
		c.tellLocked()
	}()
	t, err = c.load()
	if err != nil {
		return nil, false, err
	}
	ok = true
	return t, true, nil
}

// release ends one acquire. The last user starts the idle period.
func (c *textCache) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	c.last = time.Now()
	c.tellLocked()
	if c.users > 0 || c.pinned {
		return
	}
	idle := c.idleLocked()
	if c.timer == nil {
		c.timer = time.AfterFunc(idle, c.expire)
	} else {
		c.timer.Reset(idle)
	}
}

// expire drops the tools if they are still unused and idle.
func (c *textCache) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	idle := c.idleLocked()
	if c.tools == nil || c.users > 0 || c.pinned {
		return
	}
	if left := idle - time.Since(c.last); left > 0 {
		c.timer.Reset(left)
		return
	}
	c.tools = nil
	c.tellLocked()
	if c.logger != nil {
		c.logger.Info("social text processing released after idle", "idle", idle)
	}
}

func (c *textCache) idleLocked() time.Duration {
	if c.idle > 0 {
		return c.idle
	}
	return defaultTextIdle
}

// pin keeps the tools loaded for the life of the process.
func (c *textCache) pin() {
	c.mu.Lock()
	c.pinned = true
	c.mu.Unlock()
}

// loaded reports whether the tools are in memory.
func (c *textCache) loaded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tools != nil
}
