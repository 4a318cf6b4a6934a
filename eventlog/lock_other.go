//go:build !unix

package eventlog

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens dir's LOCK file. Outside Unix it takes no lock: the caller
// must make sure only one Log uses the directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
