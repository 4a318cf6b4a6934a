package duckdb

import (
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

// reachCursor reads one file's runs of a shard, from a buffer refilled
// with ReadAt: a run's events are a slice of the buffer, not a copy.
type reachCursor struct {
	f        io.ReaderAt
	off, end int64  // file offset of buf[len(buf)] and of the end of the runs
	arr      []byte // the buffer
	buf      []byte // the bytes of arr read and not yet consumed
	groupOf  []int8
	dayStart int64
	hi       uint64
	last     bool
	// The current run: its key, events and their encoding.
	k0, k1 uint64
	n      uint64
	events []byte
}

// reachBufSize is the buffer of a cursor: 31 days × 2 shards × 256 KiB.
const reachBufSize = 256 << 10

// ensure makes buf hold at least need bytes, or all that is left.
func (c *reachCursor) ensure(need int) error {
	if len(c.buf) >= need || c.off >= c.end {
		return nil
	}
	if len(c.arr) < need {
		arr := make([]byte, max(reachBufSize, need))
		c.buf = arr[:copy(arr, c.buf)]
		c.arr = arr
	} else {
		c.buf = c.arr[:copy(c.arr, c.buf)] // the unread tail to the front
	}
	n := len(c.buf)
	want := int(min(int64(len(c.arr)-n), c.end-c.off))
	if _, err := c.f.ReadAt(c.arr[n:n+want], c.off); err != nil {
		return err
	}
	c.off += int64(want)
	c.buf = c.arr[:n+want]
	return nil
}

// next reads the cursor's next run; ok is false at the end of the shard.
func (c *reachCursor) next() (ok bool, err error) {
	const header = 16 + 2*binary.MaxVarintLen64
	if err := c.ensure(header); err != nil {
		return false, err
	}
	if len(c.buf) == 0 {
		return false, nil
	}
	if len(c.buf) < 16 {
		return false, errors.New("corrupt run header")
	}
	k0 := binary.BigEndian.Uint64(c.buf)
	if !c.last && k0 >= c.hi {
		return false, nil
	}
	c.k0, c.k1 = k0, binary.BigEndian.Uint64(c.buf[8:])
	b := c.buf[16:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return false, errors.New("corrupt run header")
	}
	size, k2 := binary.Uvarint(b[k:])
	if k2 <= 0 || size > 1<<30 {
		return false, errors.New("corrupt run header")
	}
	h := 16 + k + k2
	if err := c.ensure(h + int(size)); err != nil {
		return false, err
	}
	if len(c.buf) < h+int(size) {
		return false, errors.New("truncated run")
	}
	c.n, c.events = n, c.buf[h:h+int(size)]
	c.buf = c.buf[h+int(size):]
	return true, nil
}

// reachItem is a cursor in the merge, with its key inline.
type reachItem struct {
	k0, k1 uint64
	c      int32 // index in the shard's cursors, which are in day order
	done   bool  // the cursor has no run left
}

func (a reachItem) less(b reachItem) bool {
	if a.k0 != b.k0 {
		return a.k0 < b.k0
	}
	if a.k1 != b.k1 {
		return a.k1 < b.k1
	}
	return a.c < b.c
}

// shard tallies the users whose keys' first 8 bytes are in [lo, hi) (to
// the end when last) into t, and the anonymous impressions when anon.
func (s *reachScan) shard(t *reachTally, lo, hi uint64, last, anon bool) error {
	t.sets = map[uint64]*[2]int64{}
	var cs []*reachCursor
	var h []reachItem
	for i, rf := range s.files {
		if anon {
			if err := s.anonymous(t, rf, s.groupOf[i]); err != nil {
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
		c := &reachCursor{f: rf.f, off: start, end: rf.footerOffset, groupOf: s.groupOf[i], dayStart: int64(rf.day) * msPerDay, hi: hi, last: last}
		for {
			ok, err := c.next()
			if err != nil {
				return fmt.Errorf("read reach index %s: %w", rf.path, err)
			}
			if !ok {
				break
			}
			if c.k0 >= lo {
				h = append(h, reachItem{k0: c.k0, k1: c.k1, c: int32(len(cs))})
				cs = append(cs, c)
				break
			}
		}
	}
	m := newReachMerge(h)
	var u reachUser
	for users := 0; !m.empty(); users++ {
		if users%65536 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		top := &m.items[m.winner()]
		k0, k1 := top.k0, top.k1
		// Every run of this user, in day order (the tree breaks ties by
		// cursor, and the cursors are in day order).
		for !m.empty() {
			w := m.winner()
			it := &m.items[w]
			if it.k0 != k0 || it.k1 != k1 {
				break
			}
			c := cs[it.c]
			if err := s.user(t, &u, c); err != nil {
				return fmt.Errorf("read reach index of %s: %w", dateOfDay(c.dayStart/msPerDay), err)
			}
			ok, err := c.next()
			if err != nil {
				return fmt.Errorf("read reach index of %s: %w", dateOfDay(c.dayStart/msPerDay), err)
			}
			if ok {
				it.k0, it.k1 = c.k0, c.k1
			} else {
				it.done = true
			}
			m.replay(w)
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

// user adds the impressions of c's current run that the query counts to
// u, and those beyond the waste threshold (u's impressions so far being
// in time order) to t.
func (s *reachScan) user(t *reachTally, u *reachUser, c *reachCursor) error {
	b, ts := c.events, c.dayStart
	for range c.n {
		g, next, err := s.event(b, &ts, c.groupOf)
		if err != nil {
			return err
		}
		b = next
		if g < 0 {
			continue
		}
		u.n++
		if s.wasteAbove > 0 && u.n > s.wasteAbove {
			t.waste[g]++
		}
		if u.perG[g] == 0 {
			u.touched = append(u.touched, g)
			u.mask |= 1 << uint(g)
		}
		u.perG[g]++
	}
	if len(b) != 0 {
		return errors.New("corrupt run: trailing bytes")
	}
	return nil
}

// event decodes the event at the start of b, whose time is *ts plus its
// delta (*ts is updated), and returns the group the query counts it in,
// -1 if none (another placement, outside the range, filtered out, or a
// repeat of an impression id seen earlier in the range), and the rest of
// b.
func (s *reachScan) event(b []byte, ts *int64, groupOf []int8) (g int8, rest []byte, err error) {
	pi, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, errors.New("corrupt event")
	}
	b = b[k:]
	delta, k := binary.Uvarint(b)
	if k <= 0 || len(b) <= k {
		return 0, nil, errors.New("corrupt event")
	}
	flags := b[k]
	b = b[k+1:]
	*ts += int64(delta)
	var back uint64
	if flags&reachHasPrev != 0 {
		if back, k = binary.Uvarint(b); k <= 0 {
			return 0, nil, errors.New("corrupt event")
		}
		b = b[k:]
	}
	if pi >= uint64(len(groupOf)) {
		return 0, nil, errors.New("corrupt event: unknown placement")
	}
	g = groupOf[pi]
	switch t := *ts; {
	case g < 0, t < s.from, t >= s.to:
		return -1, b, nil
	case s.validOnly && flags&reachInvalid != 0:
		return -1, b, nil
	case flags&reachHasPrev != 0 && t-int64(back) >= s.dropFrom:
		return -1, b, nil
	}
	return g, b, nil
}

// anonymous adds the anonymous impressions of rf that the query counts
// to t.
func (s *reachScan) anonymous(t *reachTally, rf *reachFile, groupOf []int8) error {
	c := &reachCursor{f: rf.f, end: rf.footerOffset}
	if err := c.ensure(2 * binary.MaxVarintLen64); err != nil {
		return err
	}
	n, k := binary.Uvarint(c.buf)
	if k <= 0 {
		return errors.New("corrupt anonymous section")
	}
	size, k2 := binary.Uvarint(c.buf[k:])
	if k2 <= 0 || size > uint64(rf.footerOffset) {
		return errors.New("corrupt anonymous section")
	}
	if err := c.ensure(k + k2 + int(size)); err != nil {
		return err
	}
	if len(c.buf) < k+k2+int(size) {
		return errors.New("truncated anonymous section")
	}
	b, ts := c.buf[k+k2:k+k2+int(size)], int64(rf.day)*msPerDay
	for range n {
		g, next, err := s.event(b, &ts, groupOf)
		if err != nil {
			return err
		}
		b = next
		if g >= 0 {
			t.anon++
		}
	}
	if len(b) != 0 {
		return errors.New("corrupt anonymous section: trailing bytes")
	}
	return nil
}

// reachMerge is a tournament tree of losers over a shard's cursors: the
// root names the cursor with the smallest key (ties: the lowest index,
// the earliest day), and advancing it costs one comparison per level
// (half a binary heap's sift-down, and no moves).
type reachMerge struct {
	items []reachItem
	tree  []int32 // tree[0]: the winner; tree[n], 1 <= n < len(items): the loser at node n
}

func newReachMerge(items []reachItem) *reachMerge {
	k := len(items)
	m := &reachMerge{items: items, tree: make([]int32, max(k, 1))}
	if k == 0 {
		return m
	}
	// Leaves are nodes k … 2k-1; node n's children are 2n and 2n+1.
	win := make([]int32, 2*k)
	for i := range k {
		win[k+i] = int32(i)
	}
	for n := k - 1; n >= 1; n-- {
		a, b := win[2*n], win[2*n+1]
		if m.less(b, a) {
			a, b = b, a
		}
		win[n], m.tree[n] = a, b
	}
	m.tree[0] = win[1]
	return m
}

// less orders items a and b; a cursor that is done is greater than all.
func (m *reachMerge) less(a, b int32) bool {
	x, y := &m.items[a], &m.items[b]
	if x.done || y.done {
		return !x.done
	}
	return x.less(*y)
}

func (m *reachMerge) winner() int32 { return m.tree[0] }

// empty reports whether every cursor is done.
func (m *reachMerge) empty() bool { return len(m.items) == 0 || m.items[m.tree[0]].done }

// replay moves item i, whose key changed (or which is done), to its place.
func (m *reachMerge) replay(i int32) {
	w := i
	for n := (int(i) + len(m.items)) / 2; n >= 1; n /= 2 {
		if m.less(m.tree[n], w) {
			m.tree[n], w = w, m.tree[n]
		}
	}
	m.tree[0] = w
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
