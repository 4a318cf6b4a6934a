package optout

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on the platforms admeter
// runs on (x86-64, arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// adviseHugePages asks the kernel to back the table with transparent huge
// pages. A lookup is one random access into a table of up to hundreds of
// MiB; with 4 KiB pages nearly every lookup also misses the TLB and walks the
// page tables, which doubles its cost. The advice covers the 2 MiB-aligned
// interior of the slice (Go heap memory that the runtime never hands back
// while the table lives); failures are ignored, as the table works the same
// without it (and the kernel may have huge pages turned off).
func adviseHugePages(slots []uint64) {
	size := uintptr(len(slots)) * 8
	if size < 2*hugePage {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(slots)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + size) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	first := (lo - start) / 8 // lo and start are 8-byte aligned
	b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[first])), hi-lo)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
