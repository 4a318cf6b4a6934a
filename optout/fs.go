package optout

import (
	"errors"
	"fmt"
	"os"

	"github.com/admeter/admeter/internal/fsutil"
)

// lockFile takes an exclusive flock on the registry file, without waiting:
// one process owns a registry at a time.
func lockFile(f *os.File) error {
	err := fsutil.Lock(f, false)
	if errors.Is(err, fsutil.ErrLocked) {
		return fmt.Errorf("%w: is another admeter process using this data directory? Stop it first", ErrLocked)
	}
	return err
}

// fdatasync flushes f's data (and its size) to stable storage.
func fdatasync(f *os.File) error { return fsutil.Fdatasync(f) }

// syncDir fsyncs a directory so that a file created or renamed in it is
// durable.
func syncDir(dir string) error { return fsutil.SyncDir(dir) }
