//go:build unix

package optout

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive, non-blocking flock on f, so that two
// Registries (in one process or two) never write the same file. The lock goes
// with f: it is released when f is closed, or when the process dies.
func lockFile(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		ferr = err
	}
	if errors.Is(ferr, unix.EWOULDBLOCK) {
		return fmt.Errorf("%w: is another admeter process using this data directory? Stop it first", ErrLocked)
	}
	if ferr != nil {
		return fmt.Errorf("lock: %w", ferr)
	}
	return nil
}
