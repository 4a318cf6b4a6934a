package analysis

import "github.com/admeter/admeter/social/textproc"

// cluster is one distinct content: the records whose ExactKey is the same,
// joined with near copies (fingerprints within textproc.NearBits and
// shingle resemblance at least textproc.NearResemblance).
type cluster struct {
	rep   int   // index in recs of the record whose text stands for it: the earliest
	recs  []int // its records, in input order
	brand bool  // any of its records matches a brand rule
}

// emptyKey is the ExactKey of a text with nothing of its own, for stores
// that computed it rather than leaving it zero.
var emptyKey = textproc.ExactKey("")

// dedup groups a.recs into content clusters: first by ExactKey, then
// joining exact groups whose fingerprints are near and whose texts resemble
// each other (textproc.NearResemblance; union–find, so near copies of near
// copies join too). Records with no content of their own (a
// zero ExactKey) stay out of every cluster.
//
// Near pairs are found without comparing every pair: a fingerprint is cut
// into four 16-bit blocks, and two fingerprints at most NearBits (10) bits
// apart have a block at most 2 bits apart (pigeonhole: four blocks of 3 or
// more would be 12). Each group probes, in each block, the 137 values
// within 2 bits of its own and compares only the groups found there.
func (a *analysis) dedup() {
	type group struct {
		fp  uint64
		rep int
	}
	var groups []group
	byKey := map[[16]byte]int32{}
	gOf := make([]int32, len(a.recs))
	for i := range a.recs {
		p := a.recs[i].p
		if p.ExactKey == ([16]byte{}) || p.ExactKey == emptyKey {
			gOf[i] = -1
			continue
		}
		g, ok := byKey[p.ExactKey]
		if !ok {
			g = int32(len(groups))
			byKey[p.ExactKey] = g
			groups = append(groups, group{fp: p.Fingerprint, rep: i})
		} else if r := groups[g].rep; p.At.Before(a.recs[r].p.At) {
			groups[g].rep = i
		}
		if groups[g].fp == 0 {
			groups[g].fp = p.Fingerprint
		}
		gOf[i] = g
	}

	parent := make([]int32, len(groups))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	// Index each block: start[b][v] .. start[b][v+1] in list[b] are the
	// groups whose block b is v.
	const blocks = 4
	var start [blocks][]int32
	var list [blocks][]int32
	for b := range blocks {
		start[b] = make([]int32, 1<<16+1)
		for _, g := range groups {
			if g.fp != 0 {
				start[b][blockOf(g.fp, b)+1]++
			}
		}
		for v := 1; v <= 1<<16; v++ {
			start[b][v] += start[b][v-1]
		}
		fill := append([]int32(nil), start[b][:1<<16]...)
		list[b] = make([]int32, start[b][1<<16])
		for gi, g := range groups {
			if g.fp != 0 {
				v := blockOf(g.fp, b)
				list[b][fill[v]] = int32(gi)
				fill[v]++
			}
		}
	}
	// Near fingerprints are candidates; the groups' texts must also share
	// most of their shingles (SimHash alone pairs short posts that only
	// share an opening).
	sh := make([][]uint64, len(groups))
	shingles := func(g int) []uint64 {
		if sh[g] == nil {
			sh[g] = textproc.Shingles(a.recs[groups[g].rep].p.Text)
			if sh[g] == nil {
				sh[g] = []uint64{}
			}
		}
		return sh[g]
	}
	for gi, g := range groups {
		if g.fp == 0 {
			continue
		}
		for b := range blocks {
			v := blockOf(g.fp, b)
			st, ls := start[b], list[b]
			for _, m := range nearMasks {
				w := v ^ m
				for _, gj := range ls[st[w]:st[w+1]] {
					if int(gj) <= gi {
						continue // each pair once, from its lower index
					}
					if textproc.Near(g.fp, groups[gj].fp, textproc.NearBits) &&
						textproc.Resemblance(shingles(gi), shingles(int(gj))) >= textproc.NearResemblance {
						if ri, rj := find(int32(gi)), find(gj); ri != rj {
							parent[max(ri, rj)] = min(ri, rj)
						}
					}
				}
			}
		}
	}

	cOf := make([]int32, len(groups)) // root group → cluster
	for i := range cOf {
		cOf[i] = -1
	}
	for i := range a.recs {
		g := gOf[i]
		if g < 0 {
			continue
		}
		root := find(g)
		c := cOf[root]
		if c < 0 {
			c = int32(len(a.clusters))
			cOf[root] = c
			a.clusters = append(a.clusters, cluster{rep: i})
		}
		cl := &a.clusters[c]
		if rep := groups[g].rep; a.recs[rep].p.At.Before(a.recs[cl.rep].p.At) {
			cl.rep = rep
		}
		cl.recs = append(cl.recs, i)
		cl.brand = cl.brand || a.recs[i].brand
		a.recs[i].cluster = c
	}
}

// nearMasks are the 137 16-bit values of at most two bits: XORed with a
// block, the blocks at most 2 bits from it.
var nearMasks = func() []uint32 {
	ms := []uint32{0}
	for i := range 16 {
		ms = append(ms, 1<<i)
		for j := i + 1; j < 16; j++ {
			ms = append(ms, 1<<i|1<<j)
		}
	}
	return ms
}()

// blockOf returns the b-th 16-bit block of fp.
func blockOf(fp uint64, b int) uint32 {
	return uint32(fp>>(16*b)) & 0xffff
}
