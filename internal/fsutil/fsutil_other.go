//go:build !unix

package fsutil

import "os"

// Lock does nothing where flock is not available: there, keeping a second
// process off the same data directory is the operator's job.
func Lock(*os.File, bool) error { return nil }
