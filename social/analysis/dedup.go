package analysis

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/admeter/admeter/social/textproc"
)

// cluster is one distinct content: the records whose ExactKey is the same,
// joined with near copies (textproc.NearCopy).
type cluster struct {
	rep   int   // index in recs of the record whose text stands for it: the earliest
	recs  []int // its records, in input order
	brand bool  // any of its records matches a brand rule
}

// emptyKey is the ExactKey of a text with nothing of its own, for stores
// that computed it rather than leaving it zero.
var emptyKey = textproc.ExactKey("")

// Locality-sensitive hashing of contents for near copies: a MinHash
// signature of lshBands × lshRows values over a content's shingles; two
// contents that agree on all rows of some band are candidates, verified
// with textproc.NearCopy (an edit distance). A pair of shingle
// resemblance J is a candidate with probability 1 − (1 − J³)²⁰: 0.99 at
// J = 0.6 (a one-character edit of a 15-character post), 0.9998 at 0.7,
// and 0.64 at 0.37 (two edits of such a post).
const (
	lshBands = 20
	lshRows  = 3
	// lshBucketCap bounds the contents compared with a new one in one
	// bucket: a bucket of many unrelated contents (very short texts share
	// minimums by chance) costs no more than this.
	lshBucketCap = 16
	// lshPrefilter is the least share of equal signature values for which
	// a candidate's edit distance is computed: the share estimates the
	// resemblance with a standard deviation of about 0.06, so near copies
	// (0.37 and up) rarely fall below it, while most chance candidates
	// (texts of one vocabulary, resemblance 0.1–0.2) stop here cheaply.
	lshPrefilter = 0.25
)

// agreement returns the share of equal values of two signatures, an
// estimate of their texts' resemblance.
func agreement(a, b *[lshBands * lshRows]uint32) float64 {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// lshSeeds are the odd multipliers and the offsets of the signature's hash
// functions h(x) = a·x + b (mod 2⁶⁴), fixed so that reports are the same
// on every run.
var lshSeeds = func() (s [lshBands * lshRows][2]uint64) {
	x := uint64(0x9e3779b97f4a7c15)
	for i := range s {
		x += 0x9e3779b97f4a7c15
		s[i][0] = mix(x) | 1
		x += 0x9e3779b97f4a7c15
		s[i][1] = mix(x)
	}
	return s
}()

// mix is splitmix64's finaliser.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// dedup groups a.recs into content clusters: first by ExactKey, then
// joining exact groups that are near copies (textproc.NearCopy: a
// character or two changed), found through MinHash LSH (union–find, so near copies of near copies join too).
// Records with no content of their own (a zero ExactKey) stay out of every
// cluster.
func (a *analysis) dedup() {
	var reps []int // exact group → its earliest record
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
			g = int32(len(reps))
			byKey[p.ExactKey] = g
			reps = append(reps, i)
		} else if r := reps[g]; p.At.Before(a.recs[r].p.At) {
			reps[g] = i
		}
		gOf[i] = g
	}

	// Shingles and signatures of each group's text, in parallel: the
	// canonical text is most of the cost.
	canon := make([]string, len(reps))
	sigs := make([][lshBands * lshRows]uint32, len(reps))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(reps)/256)) {
		wg.Go(func() {
			for {
				g := int(next.Add(1)) - 1
				if g >= len(reps) {
					return
				}
				c, hs := textproc.CanonicalShingles(a.recs[reps[g]].p.Text)
				canon[g] = c
				sig := &sigs[g]
				for i := range sig {
					sig[i] = math.MaxUint32
				}
				for _, h := range hs {
					for i, ab := range lshSeeds {
						if v := uint32((ab[0]*h + ab[1]) >> 32); v < sig[i] {
							sig[i] = v
						}
					}
				}
			}
		})
	}
	wg.Wait()

	parent := make([]int32, len(reps))
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
	buckets := make(map[uint64][]int32)
	for g := range reps {
		if canon[g] == "" {
			continue
		}
		for b := range lshBands {
			key := uint64(b) + 1
			for _, v := range sigs[g][b*lshRows : (b+1)*lshRows] {
				key = mix(key*0x100000001b3 ^ uint64(v))
			}
			bucket := buckets[key]
			for _, m := range bucket {
				rg, rm := find(int32(g)), find(m)
				if rg != rm && agreement(&sigs[g], &sigs[m]) >= lshPrefilter && textproc.NearCopy(canon[g], canon[m]) {
					parent[max(rg, rm)] = min(rg, rm)
				}
			}
			if len(bucket) < lshBucketCap {
				buckets[key] = append(bucket, int32(g))
			}
		}
	}

	cOf := make([]int32, len(reps)) // root group → cluster
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
		if rep := reps[g]; a.recs[rep].p.At.Before(a.recs[cl.rep].p.At) {
			cl.rep = rep
		}
		cl.recs = append(cl.recs, i)
		cl.brand = cl.brand || a.recs[i].brand
		a.recs[i].cluster = c
	}
}
