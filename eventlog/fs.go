package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/admeter/admeter/internal/fsutil"
)

// lockDir takes an exclusive flock on dir's LOCK file, so that two Logs (in
// one process or two) never write the same directory. The lock is released
// when the returned file is closed, or when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := fsutil.Lock(f, false); err != nil {
		_ = f.Close()
		if errors.Is(err, fsutil.ErrLocked) {
			return nil, fmt.Errorf("lock directory %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	return f, nil
}

// fdatasync flushes f's data (and its size) to stable storage.
func fdatasync(f *os.File) error { return fsutil.Fdatasync(f) }

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable.
func syncDir(dir string) error { return fsutil.SyncDir(dir) }
