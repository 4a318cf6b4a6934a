package eventlog

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// canMap reports whether this platform supports mapped appends.
const canMap = true

// mapRegion allocates the bytes [off, off+length) of f, growing the file to
// cover them, and maps them shared and writable. The blocks are allocated
// first so that a full disk is an error here, not a SIGBUS when a page of
// the mapping is first written. off must be a multiple of the page size.
// errMapUnsupported is returned when the file system cannot allocate ahead.
func mapRegion(f *os.File, off, length int64) ([]byte, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var b []byte
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fallocate(int(fd), 0, off, length)
			if !errors.Is(serr, unix.EINTR) {
				break
			}
		}
		if serr != nil {
			if errors.Is(serr, unix.EOPNOTSUPP) {
				serr = errMapUnsupported
			}
			serr = fmt.Errorf("allocate segment bytes [%d, %d): %w", off, off+length, serr)
			return
		}
		b, serr = unix.Mmap(int(fd), off, int(length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if serr != nil {
			serr = fmt.Errorf("map segment bytes [%d, %d): %w", off, off+length, serr)
		}
	}); err != nil {
		return nil, err
	}
	return b, serr
}

// unmapRegion removes a mapping made by mapRegion. The bytes written through
// it stay in the page cache, dirty until written back or fdatasync'ed.
func unmapRegion(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("unmap segment window: %w", err)
	}
	return nil
}
