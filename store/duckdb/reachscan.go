package duckdb

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/admeter/admeter/store"
)

// reachScan is a ReachSets query over reach index files: the range, the
// filter, the waste threshold and, per file, the group of each of its
// placements (-1 for a placement the query does not read).
type reachScan struct {
	ctx        context.Context
	files      []*reachFile // in day order
	groupOf    [][]int8     // per file, per placement
	from, to   int64        // the range, Unix milliseconds
	dropFrom   int64        // a copy of an impression id at or after this time makes a later copy a repeat
	validOnly  bool
	wasteAbove int64
}

// reachTally is what a shard of users adds up.
type reachTally struct {
	sets   map[uint64]*[2]int64 // users, impressions, by mask
	freq   [store.MaxReachFrequency]int64
	groups [store.MaxReachGroups]struct {
		users, imps int64
		freq        [store.MaxReachFrequency]int64
	}
	waste [store.MaxReachGroups]int64
	anon  int64
}

// run scans the files with workers goroutines, each over a slice of the
// user key space, and returns the result.
func (s *reachScan) run(workers int) (*store.ReachSetResult, error) {
	workers = max(1, min(workers, 64))
	tallies := make([]reachTally, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	step := math.MaxUint64 / uint64(workers)
	for i := range workers {
		lo, hi := uint64(i)*step, uint64(i+1)*step
		last := i == workers-1
		wg.Go(func() {
			errs[i] = s.shard(&tallies[i], lo, hi, last, i == 0)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return mergeTallies(tallies), nil
}

// reachCursor reads one file's runs of a shard.
type reachCursor struct {
	day      int32
	groupOf  []int8
	r        *bufio.Reader
	k0, k1   uint64 // the current run's key
	n        uint64 // its events
	buf      []byte // its encoded events
	hi       uint64
	last     bool
	dayStart int64
}

// next reads the cursor's next run; ok is false at the end of the shard.
func (c *reachCursor) next() (ok bool, err error) {
	var key [16]byte
	if _, err := io.ReadFull(c.r, key[:]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, err
	}
	c.k0, c.k1 = binary.BigEndian.Uint64(key[:8]), binary.BigEndian.Uint64(key[8:])
	if !c.last && c.k0 >= c.hi {
		return false, nil
	}
	if c.n, err = binary.ReadUvarint(c.r); err != nil {
		return false, err
	}
	size, err := binary.ReadUvarint(c.r)
	if err != nil {
		return false, err
	}
	if size > 1<<30 {
		return false, errors.New("run too large")
	}
	c.buf = slices.Grow(c.buf[:0], int(size))[:size]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return false, err
	}
	return true, nil
}

// less orders cursors by key, then day.
func (c *reachCursor) less(o *reachCursor) bool {
	if c.k0 != o.k0 {
		return c.k0 < o.k0
	}
	if c.k1 != o.k1 {
		return c.k1 < o.k1
	}
	return c.day < o.day
}

// shard tallies the users whose keys' first 8 bytes are in [lo, hi) (to
// the end when last) into t, and the anonymous impressions when anon.
func (s *reachScan) shard(t *reachTally, lo, hi uint64, last, anon bool) error {
	t.sets = map[uint64]*[2]int64{}
	var h []*reachCursor
	for i, rf := range s.files {
		f := rf.f
		if anon {
			if err := s.anonymous(t, f, rf, s.groupOf[i]); err != nil {
				return fmt.Errorf("read reach index %s: %w", rf.path, err)
			}
		}
		start := int64(-1)
		for _, e := range rf.index {
			if e.prefix >= lo && start >= 0 {
				break
			}
			start = e.offset
		}
		if start < 0 {
			continue // no runs
		}
		c := &reachCursor{
			day: rf.day, groupOf: s.groupOf[i], hi: hi, last: last, dayStart: int64(rf.day) * msPerDay,
			r: bufio.NewReaderSize(io.NewSectionReader(f, start, rf.footerOffset-start), 256<<10),
		}
		for {
			ok, err := c.next()
			if err != nil {
				return fmt.Errorf("read reach index %s: %w", rf.path, err)
			}
			if !ok || c.k0 >= lo {
				if ok {
					h = append(h, c)
				}
				break
			}
		}
	}
	heapInit(h)
	var u reachUser
	for users := 0; len(h) > 0; users++ {
		if users%65536 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		c := h[0]
		k0, k1 := c.k0, c.k1
		// Every run of this user, in day order (the heap breaks ties by day).
		for len(h) > 0 && h[0].k0 == k0 && h[0].k1 == k1 {
			c = h[0]
			if err := s.user(t, &u, c); err != nil {
				return fmt.Errorf("read reach index of day %d: %w", c.day, err)
			}
			ok, err := c.next()
			if err != nil {
				return fmt.Errorf("read reach index of day %d: %w", c.day, err)
			}
			if ok {
				heapFix(h, 0)
			} else {
				h[0] = h[len(h)-1]
				h = h[:len(h)-1]
				heapFix(h, 0)
			}
		}
		u.flush(t)
	}
	return nil
}

// reachUser is the user being tallied.
type reachUser struct {
	n       int64
	mask    uint64
	perG    [store.MaxReachGroups]int64
	touched []int8
}

// flush adds the user to t and resets u.
func (u *reachUser) flush(t *reachTally) {
	if u.n == 0 {
		return
	}
	s := t.sets[u.mask]
	if s == nil {
		s = &[2]int64{}
		t.sets[u.mask] = s
	}
	s[0]++
	s[1] += u.n
	t.freq[min(u.n, store.MaxReachFrequency)-1]++
	for _, g := range u.touched {
		n := u.perG[g]
		gr := &t.groups[g]
		gr.users++
		gr.imps += n
		gr.freq[min(n, store.MaxReachFrequency)-1]++
		u.perG[g] = 0
	}
	u.touched, u.n, u.mask = u.touched[:0], 0, 0
}

// user adds the impressions of c's current run to u, and those beyond
// the waste threshold (u's impressions so far being in time order) to t.
func (s *reachScan) user(t *reachTally, u *reachUser, c *reachCursor) error {
	return s.events(c.buf, c.n, c.dayStart, c.groupOf, func(g int8) {
		u.n++
		if s.wasteAbove > 0 && u.n > s.wasteAbove {
			t.waste[g]++
		}
		if u.perG[g] == 0 {
			u.touched = append(u.touched, g)
			u.mask |= 1 << uint(g)
		}
		u.perG[g]++
	})
}

// events decodes n events of a run (or of the anonymous section) from b
// and calls count with the group of each that the query counts.
func (s *reachScan) events(b []byte, n uint64, ts int64, groupOf []int8, count func(g int8)) error {
	for range n {
		pi, k := binary.Uvarint(b)
		if k <= 0 {
			return errors.New("corrupt event")
		}
		b = b[k:]
		delta, k := binary.Uvarint(b)
		if k <= 0 || len(b) <= k {
			return errors.New("corrupt event")
		}
		flags := b[k]
		b = b[k+1:]
		ts += int64(delta)
		var back uint64
		if flags&reachHasPrev != 0 {
			if back, k = binary.Uvarint(b); k <= 0 {
				return errors.New("corrupt event")
			}
			b = b[k:]
		}
		if pi >= uint64(len(groupOf)) {
			return errors.New("corrupt event: unknown placement")
		}
		g := groupOf[pi]
		switch {
		case g < 0, ts < s.from, ts >= s.to:
		case s.validOnly && flags&reachInvalid != 0:
		case flags&reachHasPrev != 0 && ts-int64(back) >= s.dropFrom:
			// a repeat of an impression id seen earlier in the range
		default:
			count(g)
		}
	}
	if len(b) != 0 {
		return errors.New("corrupt run: trailing bytes")
	}
	return nil
}

// anonymous adds the anonymous impressions of rf, open as f, to t.
func (s *reachScan) anonymous(t *reachTally, f io.ReaderAt, rf *reachFile, groupOf []int8) error {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, rf.footerOffset), 64<<10)
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if size > uint64(rf.footerOffset) {
		return errors.New("corrupt anonymous section")
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return s.events(b, n, int64(rf.day)*msPerDay, groupOf, func(int8) { t.anon++ })
}

// heapInit and heapFix keep h a min-heap of cursors (container/heap
// without its interface calls: this is the scan's inner loop).
func heapInit(h []*reachCursor) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		heapFix(h, i)
	}
}

func heapFix(h []*reachCursor, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// mergeTallies adds the shards' tallies into a ReachSetResult shaped as
// reachSetsSQL's rows make it (see addReachRow).
func mergeTallies(ts []reachTally) *store.ReachSetResult {
	res := &store.ReachSetResult{}
	sets := map[uint64]*[2]int64{}
	for i := range ts {
		t := &ts[i]
		res.AnonymousImpressions += t.anon
		for m, s := range t.sets {
			a := sets[m]
			if a == nil {
				a = &[2]int64{}
				sets[m] = a
			}
			a[0] += s[0]
			a[1] += s[1]
		}
		for f, n := range t.freq {
			if n == 0 {
				continue
			}
			if res.Frequency == nil {
				res.Frequency = make([]int64, store.MaxReachFrequency)
			}
			res.Frequency[f] += n
		}
		for g := range t.groups {
			tg := &t.groups[g]
			if tg.users > 0 {
				if res.Groups == nil {
					res.Groups = map[int]store.GroupReach{}
				}
				gr := res.Groups[g]
				gr.Users += tg.users
				gr.Impressions += tg.imps
				if gr.Frequency == nil {
					gr.Frequency = make([]int64, store.MaxReachFrequency)
				}
				for f, n := range tg.freq {
					gr.Frequency[f] += n
				}
				res.Groups[g] = gr
			}
			if t.waste[g] > 0 {
				if res.Waste == nil {
					res.Waste = map[int]int64{}
				}
				res.Waste[g] += t.waste[g]
			}
		}
	}
	for m, s := range sets {
		res.Sets = append(res.Sets, store.ReachSet{Mask: m, Users: s[0], Impressions: s[1]})
	}
	slices.SortFunc(res.Sets, func(a, b store.ReachSet) int { return cmp.Compare(a.Mask, b.Mask) })
	return res
}
