//go:build !linux

package fsutil

import "os"

// Fdatasync flushes f to stable storage; outside Linux it is fsync (on macOS
// os.File.Sync issues F_FULLFSYNC).
func Fdatasync(f *os.File) error { return f.Sync() }
