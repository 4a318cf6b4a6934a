package optout

import (
	"os"

	"github.com/admeter/admeter"
)

// File format, for tests that build or damage registry files.
const (
	HeaderSize = headerSize
	RecordSize = recordSize
	Magic      = magic
	MaxTorn    = maxTorn
)

// AppendRecord appends the on-disk record of p to b.
func AppendRecord(b []byte, p admeter.Pseudonym) []byte { return appendRecord(b, &p) }

// Capacity returns the slot count of r's table.
func (r *Registry) Capacity() int { return len(r.tab.Load().slots) }

// TableBytes returns the size of r's table in bytes.
func (r *Registry) TableBytes() int { return 8 * len(r.tab.Load().slots) }

// NewInMemory returns a Registry without a file holding gen(0) .. gen(n-1),
// with its table sized the way Open sizes it, so that benchmarks can build
// 10 M entries without 10 M fsyncs. Add on it fails with ErrClosed.
func NewInMemory(n int, gen func(i int) admeter.Pseudonym) *Registry {
	t := newTable(min(capacityFor(n), maxPresize))
	var count int
	for i := range n {
		p := gen(i)
		if t.insert(fingerprint(&p), false) {
			count++
		}
	}
	r := &Registry{path: "(memory)"}
	r.tab.Store(t)
	r.n.Store(int64(count))
	return r
}

// SwapFile replaces r's file with f and returns the old one, so that tests
// can make writes fail.
func (r *Registry) SwapFile(f *os.File) *os.File {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	old := r.f
	r.f = f
	return old
}
