//go:build unix

package fsutil

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive advisory lock (flock) on f, held until f is
// closed. With wait false it fails at once, with an error wrapping ErrLocked,
// if another open file description holds the lock.
func Lock(f *os.File, wait bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		ferr = err
	}
	if errors.Is(ferr, unix.EWOULDBLOCK) {
		return fmt.Errorf("lock %s: %w", f.Name(), ErrLocked)
	}
	if ferr != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), ferr)
	}
	return nil
}
