//go:build unix

package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive flock on dir's LOCK file, so that two Logs (in
// one process or two) never write the same directory. The lock is released
// when the returned file is closed, or when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
	}); err != nil {
		ferr = err
	}
	if ferr != nil {
		_ = f.Close()
		if errors.Is(ferr, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock directory %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock directory: %w", ferr)
	}
	return f, nil
}
