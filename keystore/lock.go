package keystore

import (
	"fmt"
	"os"

	"github.com/admeter/admeter/internal/fsutil"
)

// lockFile takes an exclusive flock on path's lock file (path + ".lock",
// created if needed), waiting for another writer, in this process or
// another, to finish. unlock releases it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+lockSuffix, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := fsutil.Lock(f, true); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock key store %s: %w", path, err)
	}
	// Closing the file releases the flock.
	return func() { _ = f.Close() }, nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error { return fsutil.SyncDir(dir) }
