//go:build !linux

package optout

import "os"

// fdatasync flushes f to stable storage; outside Linux it is fsync (on macOS
// os.File.Sync issues F_FULLFSYNC).
func fdatasync(f *os.File) error {
	return f.Sync()
}
