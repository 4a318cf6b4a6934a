//go:build !linux

package main

import "os"

// fdatasync flushes f to stable storage; outside Linux it is fsync, as in
// admeter's event log.
func fdatasync(f *os.File) error {
	return f.Sync()
}
