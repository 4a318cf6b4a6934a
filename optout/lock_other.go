//go:build !unix

package optout

import "os"

// lockFile takes no lock outside Unix: the caller must make sure only one
// Registry uses the file.
func lockFile(*os.File) error { return nil }
