package optout_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/optout"
)

const benchEntries = 10_000_000

// queries returns 1<<20 pseudonyms to look up: pseudonymAt(i) for random i in
// [lo, lo+n), so hits and misses are spread over the whole table.
func queries(lo, n int) []admeter.Pseudonym {
	rng := rand.New(rand.NewPCG(1, 2))
	qs := make([]admeter.Pseudonym, 1<<20)
	for i := range qs {
		qs[i] = pseudonymAt(lo + rng.IntN(n))
	}
	return qs
}

// BenchmarkRegistryContains measures the collector's hot-path lookup at 10 M
// entries, for pseudonyms that opted out (hit) and that did not (miss), from
// one goroutine (independent lookups, which the CPU overlaps; and dependent
// ones, which it cannot) and from all (parallel). bytes/entry is the table's size per
// entry; heap-bytes/entry is what building the registry added to the heap.
// Targets: ≤ 100 ns/op, ≤ 16 bytes/entry, 0 allocs/op.
func BenchmarkRegistryContains(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := optout.NewInMemory(benchEntries, pseudonymAt)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if r.Len() != benchEntries {
		b.Fatalf("Len = %d, want %d", r.Len(), benchEntries)
	}
	perEntry := float64(r.TableBytes()) / float64(r.Len())
	heapPerEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(r.Len())

	for _, c := range []struct {
		name string
		qs   []admeter.Pseudonym
		want bool
	}{
		{"hit", queries(0, benchEntries), true},
		{"miss", queries(benchEntries, benchEntries), false},
	} {
		report := func(b *testing.B) {
			b.ReportMetric(perEntry, "bytes/entry")
			b.ReportMetric(heapPerEntry, "heap-bytes/entry")
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if r.Contains(c.qs[i&(len(c.qs)-1)]) != c.want {
					b.Fatalf("Contains = %v, want %v", !c.want, c.want)
				}
				i++
			}
			report(b)
		})
		// dependent: the next query's index depends on this answer, so
		// lookups cannot overlap in the CPU. This is the latency of a lone
		// call, as in the collector, where other work separates lookups.
		b.Run(c.name+"/dependent", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ok := r.Contains(c.qs[i&(len(c.qs)-1)])
				if ok != c.want {
					b.Fatalf("Contains = %v, want %v", ok, c.want)
				}
				d := 1
				if ok {
					d = 2
				}
				i += d
			}
			report(b)
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(c.qs))
				for pb.Next() {
					if r.Contains(c.qs[i&(len(c.qs)-1)]) != c.want {
						b.Errorf("Contains = %v, want %v", !c.want, c.want)
						return
					}
					i++
				}
			})
			report(b)
		})
	}
	runtime.KeepAlive(r)
}

// BenchmarkRegistryOpen10M measures loading a 10 M-entry registry file
// (200 MB) from the page cache: read, checksum and index every record.
func BenchmarkRegistryOpen10M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "optout.reg")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, _ = w.WriteString(optout.Magic)
	var rec []byte
	for i := range benchEntries {
		rec = optout.AppendRecord(rec[:0], pseudonymAt(i))
		_, _ = w.Write(rec)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(optout.HeaderSize + benchEntries*optout.RecordSize))
	b.ReportAllocs()
	for b.Loop() {
		r, err := optout.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.Len() != benchEntries {
			b.Fatalf("Len = %d, want %d", r.Len(), benchEntries)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
