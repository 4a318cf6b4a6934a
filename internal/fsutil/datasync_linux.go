package fsutil

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Fdatasync flushes f's data, and the metadata needed to read it back (its
// size), to stable storage. It skips the inode timestamps fsync would write.
func Fdatasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
