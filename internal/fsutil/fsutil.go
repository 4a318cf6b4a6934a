package fsutil

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// ErrLocked is returned, wrapped, by Lock when another process holds the
// lock and the caller asked not to wait.
var ErrLocked = errors.New("locked by another process")

// SyncDir fsyncs the directory dir, so that files created, renamed or removed
// in it survive a power cut. On Windows, where directories cannot be opened
// for syncing, it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
