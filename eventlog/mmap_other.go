//go:build !linux

package eventlog

import "os"

// canMap reports whether this platform supports mapped appends: outside
// Linux every append is a write(2).
const canMap = false

func mapRegion(*os.File, int64, int64) ([]byte, error) { return nil, errMapUnsupported }

func unmapRegion([]byte) error { return nil }
