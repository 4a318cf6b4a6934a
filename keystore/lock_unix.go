//go:build unix

package keystore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on path's lock file (path + ".lock",
// created if needed), waiting for another writer, in this process or
// another, to finish. It serialises the read-modify-write cycles of Rotate,
// Destroy, RotateMaster and the format upgrade, so that two writers never
// lose each other's change. Readers need no lock: the file is replaced
// atomically. The returned function releases the lock.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+lockSuffix, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock key store: %w", err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		ferr = err
	}
	if ferr != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock key store %s: %w", path, ferr)
	}
	// Closing the file releases the flock.
	return func() { _ = f.Close() }, nil
}
