//go:build !unix

package keystore

import (
	"fmt"
	"os"
)

// lockFile creates path's lock file but takes no lock outside Unix: there,
// the operator must not run two commands that change the same key store at
// once.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+lockSuffix, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return func() { _ = f.Close() }, nil
}
