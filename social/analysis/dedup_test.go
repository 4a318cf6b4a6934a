package analysis

import (
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestDedupIndex checks that the block index joins exactly the groups that
// comparing every pair joins, on fingerprints 0 to 14 bits apart (of texts
// that resemble each other).
func TestDedupIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var fps []uint64
	for range 300 {
		base := rng.Uint64()
		fps = append(fps, base)
		for range rng.IntN(4) {
			fp := base
			for range rng.IntN(15) {
				fp ^= 1 << rng.IntN(64)
			}
			fps = append(fps, fp)
		}
	}
	posts := make([]admeter.SocialPost, len(fps))
	a := &analysis{}
	for i, fp := range fps {
		// One text for all: the resemblance check passes, and what is
		// tested is the block index over the fingerprints.
		posts[i] = admeter.SocialPost{At: time.Unix(int64(i), 0), Fingerprint: fp, Text: "同一段相同的内容用于测试索引"}
		posts[i].ExactKey[0], posts[i].ExactKey[1], posts[i].ExactKey[2] = byte(i), byte(i>>8), 1
		a.recs = append(a.recs, rec{p: &posts[i]})
	}
	a.dedup()

	// Brute force.
	parent := make([]int, len(fps))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	for i := range fps {
		for j := i + 1; j < len(fps); j++ {
			if bits.OnesCount64(fps[i]^fps[j]) <= 10 {
				parent[find(i)] = find(j)
			}
		}
	}
	joined := 0
	for i := range fps {
		for j := i + 1; j < len(fps); j++ {
			want := find(i) == find(j)
			if got := a.recs[i].cluster == a.recs[j].cluster; got != want {
				t.Fatalf("records %d and %d (%d bits apart): same cluster %v, want %v", i, j, bits.OnesCount64(fps[i]^fps[j]), got, want)
			}
			if want {
				joined++
			}
		}
	}
	if joined < 100 {
		t.Errorf("only %d pairs joined: the test data does not test near copies", joined)
	}
}

// TestDedupSharedOpening proves that posts SimHash puts near each other
// but that only share an opening stay two contents, while a one-character
// edit joins its original.
func TestDedupSharedOpening(t *testing.T) {
	texts := []string{
		"朋友推荐的澜星手机续航真不错。",
		"朋友推荐的澜星手机充电发烫😂",
		"今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强太多了",
		"今天去门店试了新款手机，拍照效果真的很惊艳，夜景模式比上一代强很多了",
	}
	a := &analysis{}
	posts := make([]admeter.SocialPost, len(texts))
	for i, text := range texts {
		posts[i] = post(i, 0, text, 0)
		a.recs = append(a.recs, rec{p: &posts[i]})
	}
	a.dedup()
	if a.recs[0].cluster == a.recs[1].cluster {
		t.Error("posts sharing only an opening are one content")
	}
	if a.recs[2].cluster != a.recs[3].cluster {
		t.Error("a one-character edit is not its original's content")
	}
}
